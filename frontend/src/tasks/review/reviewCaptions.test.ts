import {
  addSegmentAt,
  captionsEdited,
  changeOf,
  formFromDraft,
  draftOf,
  initialForm,
  removeSegment,
  removedSegments,
  segmentsBody,
  segmentsTouching,
  setCaption,
  setFrames,
  splitSegment,
  verdictProblem,
  visibilityChanges,
} from "./reviewCaptions";

const captions = [
  { start_frame: 0, end_frame: 3, caption: "The dog walks in.", out_of_frame: false },
  { start_frame: 4, end_frame: 5, caption: "Out of frame.", out_of_frame: true },
  { start_frame: 6, end_frame: 9, caption: "The dog sits  down.", out_of_frame: false },
];
const visible = [true, true, true, true, false, false, true, true, true, true];

describe("review caption edits", () => {
  it("start from the typed segments only", () => {
    const form = initialForm(captions);
    expect(form.segments.map((s) => [s.start_frame, s.end_frame])).toEqual([
      [0, 3],
      [6, 9],
    ]);
    expect(captionsEdited(form, captions)).toBe(false);
  });

  it("notice text, frame, removal and whitespace-only edits", () => {
    const form = initialForm(captions);
    expect(captionsEdited(setCaption(form, 2, "The dog sits down."), captions)).toBe(false);
    const text = setCaption(form, 2, "The dog lies down.");
    expect(changeOf(text.segments[1]!)).toBe("text");
    expect(captionsEdited(text, captions)).toBe(true);
    const frames = setFrames(form, 1, 0, 2);
    expect(changeOf(frames.segments[0]!)).toBe("frames");
    const removed = removeSegment(form, 1);
    expect(captionsEdited(removed, captions)).toBe(true);
    expect(removedSegments(removed, captions)).toEqual([captions[0]]);
  });

  it("split a segment at the playhead", () => {
    const form = initialForm(captions);
    const { form: split, error } = splitSegment(form, 2, 8);
    expect(error).toBeUndefined();
    expect(split.segments.map((s) => [s.start_frame, s.end_frame, s.caption])).toEqual([
      [0, 3, "The dog walks in."],
      [6, 7, "The dog sits  down."],
      [8, 9, ""],
    ]);
    expect(splitSegment(form, 2, 6).error).toMatch(/inside segment 6–9/);
  });

  it("add a segment over the uncovered visible stretch around the playhead", () => {
    const form = removeSegment(initialForm(captions), 2);
    const { form: added, error } = addSegmentAt(form, 7, visible);
    expect(error).toBeUndefined();
    expect(added.segments.at(-1)).toMatchObject({ start_frame: 6, end_frame: 9, caption: "", original: null });
    expect(changeOf(added.segments.at(-1)!)).toBe("added");
    expect(addSegmentAt(form, 4, visible).error).toMatch(/out of frame/);
    expect(addSegmentAt(form, 1, visible).error).toMatch(/already covers/);
  });

  it("send normalized typed segments in order", () => {
    const form = setFrames(initialForm(captions), 2, 6, 9);
    expect(segmentsBody(form)).toEqual([
      { start_frame: 0, end_frame: 3, caption: "The dog walks in." },
      { start_frame: 6, end_frame: 9, caption: "The dog sits down." },
    ]);
  });

  it("restore a draft only for the same caption revision", () => {
    const form = setCaption(initialForm(captions), 1, "A dog walks in.");
    const draft = JSON.parse(JSON.stringify(draftOf({ ...form, decision: "accept" }, 3)));
    expect(formFromDraft(draft, 3)).toEqual({ ...form, decision: "accept" });
    expect(formFromDraft(draft, 4)).toBeNull();
    expect(formFromDraft({ review: { segments: [{ key: "x" }], nextKey: 1 }, caption_revision: 3 }, 3)).toBeNull();
    expect(formFromDraft(null, 3)).toBeNull();
  });

  it("find segments touched by a visibility change", () => {
    const changed = visibilityChanges(visible, [true, true, true, false, false, false, true, true, true, true]);
    expect(changed).toEqual([3]);
    expect([...segmentsTouching(initialForm(captions), changed)]).toEqual([1]);
  });
});

describe("verdictProblem", () => {
  const base = initialForm(captions);
  const ok = { stale: false, edited: false, segmentIssues: 0 };
  it("asks for a decision", () => {
    expect(verdictProblem(base, ok)).toMatch(/accept or reject/);
  });
  it("needs a re-check of flagged captions before an accept without edits", () => {
    const accept = { ...base, decision: "accept" as const };
    expect(verdictProblem(accept, ok)).toBeNull();
    expect(verdictProblem(accept, { ...ok, stale: true })).toMatch(/re-check/);
    expect(verdictProblem({ ...accept, rechecked: true }, { ...ok, stale: true })).toBeNull();
    expect(verdictProblem(accept, { stale: true, edited: true, segmentIssues: 0 })).toBeNull();
    expect(verdictProblem(accept, { stale: false, edited: true, segmentIssues: 2 })).toMatch(/Fix/);
    expect(verdictProblem({ ...accept, rechecked: true }, { stale: true, edited: false, segmentIssues: 1 })).toMatch(/no longer fit/);
  });
  it("needs reasons, and a comment with other, to reject", () => {
    const reject = { ...base, decision: "reject" as const };
    expect(verdictProblem(reject, ok)).toMatch(/reason/);
    expect(verdictProblem({ ...reject, reasons: ["other"] }, ok)).toMatch(/comment/);
    expect(verdictProblem({ ...reject, reasons: ["other"], comment: "Wrong dog" }, ok)).toBeNull();
    expect(verdictProblem({ ...reject, reasons: ["mask_quality"], comment: "<b>bad</b>" }, ok)).toMatch(/plain text/);
  });
});
