import { validateSegments } from "@/lib/segments";

import {
  asSegments,
  type CaptionAction,
  captionReducer,
  type CaptionEditorState,
  initialState,
  parseDraft,
  submitSegments,
  toDraft,
} from "./segmentEditor";

/** visible(10, [3, 5]) → frames 3..5 invisible in a 10-frame video. */
function visible(total: number, ...hidden: [number, number][]): boolean[] {
  const v = Array<boolean>(total).fill(true);
  for (const [a, b] of hidden) for (let k = a; k <= b; k++) v[k] = false;
  return v;
}
const run = (state: CaptionEditorState, ...actions: CaptionAction[]) => actions.reduce(captionReducer, state);
const frames = (s: CaptionEditorState) => s.segments.map((x) => [x.start_frame, x.end_frame]);
const active = (s: CaptionEditorState) => s.segments.find((x) => x.key === s.activeKey);
const rules = { minChars: 3, maxChars: 100 };

describe("initialState", () => {
  it("starts with one segment over the first visible stretch, ready to type", () => {
    const s = initialState(visible(20, [0, 2], [10, 12]), null);
    expect(frames(s)).toEqual([[3, 9]]);
    expect(active(s)?.start_frame).toBe(3);
    expect(s.seek?.frame).toBe(3);
  });

  it("restores a draft, with its active segment", () => {
    const draft = parseDraft({
      segments: [
        { start_frame: 5, end_frame: 9, caption: "sits" },
        { start_frame: 0, end_frame: 4, caption: "walks in" },
      ],
      active: 0,
    });
    const s = initialState(visible(10), draft);
    expect(frames(s)).toEqual([[0, 4], [5, 9]]);
    expect(active(s)?.caption).toBe("sits");
  });

  it("ignores drafts that are not caption drafts", () => {
    expect(parseDraft(null)).toBeNull();
    expect(parseDraft({ segments: [{ start_frame: "1", end_frame: 2, caption: "x" }] })).toBeNull();
    expect(parseDraft({ answers: {} })).toBeNull();
  });

  it("has nothing to caption when the subject is never visible", () => {
    const s = initialState(visible(5, [0, 4]), null);
    expect(s.segments).toEqual([]);
    expect(validateSegments(asSegments(s), s.visible, rules)[0]?.message).toBe(
      "The subject is never visible: this masklet cannot be captioned.",
    );
  });
});

describe("mark in / mark out", () => {
  it("o at the playhead ends the active segment; Enter with a caption starts the next one after it", () => {
    let s = initialState(visible(30), null); // [0, 29] active
    expect([s.focusSeq, s.blurSeq]).toEqual([0, 0]);
    s = run(s, { type: "markOut", frame: 11 });
    expect(frames(s)).toEqual([[0, 11]]);
    expect(s.focusSeq).toBe(1); // type the caption next
    s = run(s, { type: "setCaption", key: active(s)!.key, caption: "walks to the chair" }, { type: "next" });
    expect(frames(s)).toEqual([[0, 11], [12, 29]]);
    expect([s.focusSeq, s.blurSeq]).toEqual([1, 1]); // back to the player
    expect(active(s)?.start_frame).toBe(12);
    expect(s.seek?.frame).toBe(12);
    s = run(s, { type: "setCaption", key: active(s)!.key, caption: "sits down" });
    expect(validateSegments(asSegments(s), s.visible, rules)).toEqual([]);
    expect(submitSegments(s)).toEqual([
      { start_frame: 0, end_frame: 11, caption: "walks to the chair" },
      { start_frame: 12, end_frame: 29, caption: "sits down" },
    ]);
  });

  it("i moves the start of the active segment; the end follows when it would fall before it", () => {
    let s = initialState(visible(30), null);
    s = run(s, { type: "markOut", frame: 10 }, { type: "markIn", frame: 4 });
    expect(frames(s)).toEqual([[4, 10]]);
    s = run(s, { type: "markIn", frame: 15 });
    expect(frames(s)).toEqual([[15, 15]]);
  });

  it("refuses an out before the in, and marks on out-of-frame frames, with a message", () => {
    let s = initialState(visible(30, [20, 24]), null); // [0, 19]
    s = run(s, { type: "markIn", frame: 6 });
    const before = s.segments;
    s = run(s, { type: "markOut", frame: 3 });
    expect(s.segments).toBe(before);
    expect(s.notice?.text).toMatch(/Out \(frame 3\) would be before in \(frame 6\)/);
    s = run(s, { type: "markOut", frame: 22 });
    expect(s.segments).toBe(before);
    expect(s.notice?.text).toMatch(/out of frame at frame 22/);
  });

  it("Enter skips out-of-frame frames: the next segment starts where the subject is visible again", () => {
    let s = initialState(visible(30, [10, 14]), null); // [0, 9]
    s = run(s, { type: "setCaption", key: active(s)!.key, caption: "runs" }, { type: "next" });
    expect(frames(s)).toEqual([[0, 9], [15, 29]]);
    s = run(s, { type: "setCaption", key: active(s)!.key, caption: "comes back" });
    expect(validateSegments(asSegments(s), s.visible, rules)).toEqual([]);
  });

  it("Enter without a caption says so and stays on the segment", () => {
    const s0 = initialState(visible(10), null);
    const s = run(s0, { type: "markOut", frame: 4 }, { type: "next" });
    expect(s.segments).toHaveLength(1);
    expect(s.notice).toEqual({ kind: "error", text: "Type the caption of this segment first." });
  });

  it("Enter refuses a caption that breaks the project's rules, naming the problem", () => {
    let s = initialState(visible(10), null, { minChars: 8, maxChars: 100 });
    s = run(s, { type: "markOut", frame: 4 }, { type: "setCaption", key: 1, caption: "stops" }, { type: "next" });
    expect(s.segments).toHaveLength(1);
    expect(s.notice?.text).toBe("Segment 1: the caption is too short (5 characters; at least 8).");
    s = run(s, { type: "setCaption", key: 1, caption: "stops and looks" }, { type: "next" });
    expect(frames(s)).toEqual([[0, 4], [5, 9]]);
  });

  it("Enter goes on to the following segment when one comes before any uncovered frames", () => {
    let s = initialState(visible(30, [20, 24]), null); // [0, 19]
    s = run(s, { type: "markOut", frame: 9 }, { type: "setCaption", key: 1, caption: "one" }, { type: "next" });
    s = run(s, { type: "markOut", frame: 14 }, { type: "setCaption", key: 2, caption: "two" }, { type: "next" });
    expect(frames(s)).toEqual([[0, 9], [10, 14], [15, 19]]);
    s = run(s, { type: "select", key: 2 }, { type: "next" });
    expect(active(s)?.key).toBe(3); // not a new segment after the out-of-frame stretch
    expect(s.seek?.frame).toBe(15);
    s = run(s, { type: "setCaption", key: 3, caption: "three" }, { type: "next" });
    expect(frames(s)).toEqual([[0, 9], [10, 14], [15, 19], [25, 29]]);
  });

  it("Enter on the last segment says everything is covered", () => {
    let s = initialState(visible(10), null);
    s = run(s, { type: "setCaption", key: active(s)!.key, caption: "stands" }, { type: "next" });
    expect(s.activeKey).toBeNull();
    expect(s.notice?.kind).toBe("info");
  });

  it("with nothing active, i and o act on the segment under the playhead", () => {
    let s = initialState(visible(30), null);
    s = run(s, { type: "markOut", frame: 9 });
    s = run(s, { type: "setCaption", key: active(s)!.key, caption: "one" }, { type: "next" });
    s = run(s, { type: "setCaption", key: active(s)!.key, caption: "two" }, { type: "next" });
    expect(s.activeKey).toBeNull();
    s = run(s, { type: "markIn", frame: 12 }); // inside [10, 29]
    expect(frames(s)).toEqual([[0, 9], [12, 29]]);
    expect(active(s)?.caption).toBe("two");
  });

  it("with nothing active on free frames, o creates a segment from the start of that gap", () => {
    let s = initialState(visible(30), null);
    s = run(s, { type: "markOut", frame: 9 });
    s = run(s, { type: "delete", key: active(s)!.key });
    s = run(s, { type: "markOut", frame: 7 });
    expect(frames(s)).toEqual([[0, 7]]);
    s = run(s, { type: "delete", key: active(s)!.key }, { type: "markIn", frame: 20 });
    expect(frames(s)).toEqual([[20, 29]]);
  });
});

describe("edit caption (c)", () => {
  it("focuses the active segment, else the one under the playhead", () => {
    let s = initialState(visible(30, [20, 24]), null);
    s = run(s, { type: "editCaption", frame: 3 });
    expect([s.activeKey, s.focusSeq]).toEqual([1, 1]);
    s = run(s, { type: "setCaption", key: 1, caption: "walks" }, { type: "next" });
    s = run(s, { type: "select", key: 1 }, { type: "delete", key: 2 });
    expect(s.activeKey).toBe(1);
    s = run(s, { type: "setCaption", key: 1, caption: "walks on" }, { type: "next" });
    expect(s.activeKey).toBe(3);
    s = run(s, { type: "setCaption", key: 3, caption: "more" }, { type: "next" });
    expect(s.activeKey).toBeNull();
    s = run(s, { type: "editCaption", frame: 26 });
    expect(active(s)?.start_frame).toBe(25);
    expect(s.focusSeq).toBe(2);
    const none = run(run(s, { type: "delete", key: s.activeKey! }), { type: "editCaption", frame: 22 });
    expect(none.notice?.text).toMatch(/No segment here/);
  });
});

describe("new segment, delete and edits", () => {
  it("n fills the next uncovered frames after the playhead, else the first gap", () => {
    let s = initialState(visible(30), null);
    s = run(s, { type: "markOut", frame: 9 }, { type: "setCaption", key: 1, caption: "a" });
    s = run(s, { type: "new", frame: 3 });
    expect(frames(s)).toEqual([[0, 9], [10, 29]]);
    s = run(s, { type: "delete", key: 1 }, { type: "new", frame: 25 });
    expect(frames(s)).toEqual([[0, 9], [10, 29]]);
    const full = run(s, { type: "new", frame: 0 });
    expect(full.segments).toBe(s.segments);
    expect(full.notice?.kind).toBe("info");
  });

  it("keeps the list sorted and the same segment active when frames are edited", () => {
    let s = initialState(visible(30), null);
    s = run(s, { type: "markOut", frame: 9 }, { type: "setCaption", key: 1, caption: "first" }, { type: "next" });
    s = run(s, { type: "setFrames", key: 2, start_frame: 0, end_frame: 3 });
    expect(s.segments.map((x) => x.key)).toEqual([2, 1]);
    expect(s.activeKey).toBe(2);
    const issues = validateSegments(asSegments(s), s.visible, rules);
    expect(issues.map((i) => i.message)).toContain("Segments 1 and 2 overlap (frames 0-3).");
  });

  it("draft round trip keeps frames, captions and the active segment", () => {
    let s = initialState(visible(30), null);
    s = run(s, { type: "markOut", frame: 9 }, { type: "setCaption", key: 1, caption: "first" }, { type: "next" });
    const back = initialState(s.visible, parseDraft(JSON.parse(JSON.stringify(toDraft(s)))));
    expect(frames(back)).toEqual(frames(s));
    expect(active(back)?.start_frame).toBe(10);
    expect(back.segments.map((x) => x.caption)).toEqual(["first", ""]);
  });
});
