import type { MaskletSummary } from "@/types/api";

import { EMPTY_DRAFT, mergePrompt, parseDraft, type SelectDraft, undoPrompt } from "./draft";
import { objectState, submitIssues, trackTargets } from "./selectModel";

const COUNT = 4;
function masklet(id: number, over: Partial<MaskletSummary> = {}): MaskletSummary {
  return { id, object_id: id, category: "person", source: "clicks", status: "draft", motion_score: null, version: 1, revision: null, ...over };
}
const tracked = (id: number, over: Partial<MaskletSummary> = {}) =>
  masklet(id, { revision: { id: 1, number: 1, engine: "cpu", first_visible_frame: 0, last_visible_frame: 3, visible: [true, true, true, true] }, ...over });
const draft = (over: Partial<SelectDraft> = {}): SelectDraft => ({ ...EMPTY_DRAFT, ...over });

describe("objectState", () => {
  it("says what an object needs before submission", () => {
    expect(objectState(masklet(1), draft({ dirty: [1] }), COUNT, [])).toBe("untracked");
    expect(objectState(tracked(1), draft({ dirty: [1] }), COUNT, [])).toBe("refined");
    expect(objectState(masklet(1), draft({ tracked: [1] }), COUNT, [])).toBe("tracked");
    expect(objectState(tracked(1), draft(), COUNT, [1])).toBe("tracking");
    // A revision that does not cover the video is not a track.
    expect(objectState(masklet(1, { revision: { id: 1, number: 1, engine: "cpu", first_visible_frame: 0, last_visible_frame: 0, visible: [true] } }), draft(), COUNT, [])).toBe("untracked");
  });
});

describe("trackTargets", () => {
  it("tracks every new or refined object together, and re-tracks the selection otherwise", () => {
    const objs = [masklet(3), tracked(1), tracked(2, { source: "sav_manual" })];
    expect(trackTargets(objs, draft({ dirty: [2] }), COUNT, null)).toEqual([2, 3]);
    expect(trackTargets([tracked(1), tracked(2)], draft(), COUNT, 2)).toEqual([2]);
    expect(trackTargets([tracked(1)], draft(), COUNT, null)).toEqual([]);
    expect(trackTargets([tracked(1)], draft(), COUNT, 99)).toEqual([]);
  });
});

describe("submitIssues", () => {
  const vis = (v: (boolean | null)[]) => () => v;
  const cat = (m: MaskletSummary) => m.category;
  it("asks for at least one object", () => {
    expect(submitIssues([], draft(), COUNT, [], vis([]), cat)[0]).toMatch(/at least one object/);
  });
  it("lists each object that is untracked, refined, being tracked or empty", () => {
    const issues = submitIssues(
      [masklet(1), tracked(2), tracked(3), tracked(4)],
      draft({ dirty: [2] }),
      COUNT,
      [3],
      (m) => (m.id === 4 ? [false, false, false, false] : [true, true, true, true]),
      cat,
    );
    expect(issues).toEqual([
      "person #1 is not tracked through the video yet: press Track (T).",
      "person #2 was refined after it was tracked: press Track (T) again.",
      "person #3 is still being tracked: wait for it to finish.",
      "person #4 is empty on every frame: delete it or click it again.",
    ]);
  });
  it("lets tracked objects through", () => {
    expect(submitIssues([tracked(1)], draft(), COUNT, [], vis([true, false, null, null]), cat)).toEqual([]);
  });
});

describe("draft", () => {
  it("reads back what it saved and drops what is malformed", () => {
    const saved: SelectDraft = draft({
      accepted: [4],
      rejected: [5],
      categories: { "4": "animal" },
      prompts: { "4": { "2": { points: [[1, 2]], labels: [1], box: null } } },
      dirty: [4],
      tracked: [6],
    });
    expect(parseDraft(JSON.parse(JSON.stringify(saved)))).toEqual(saved);
    expect(parseDraft(null)).toEqual(EMPTY_DRAFT);
    expect(parseDraft({ accepted: ["x", 3], categories: { "1": "robot" }, prompts: { "1": { "0": { points: [[1, 1]], labels: [] } } } })).toEqual(
      draft({ accepted: [3], prompts: { "1": {} } }),
    );
  });

  it("merges prompts the way the server does: no doubled clicks, a box replaces the box", () => {
    let rec = mergePrompt(undefined, { point: [1, 2], label: 1 });
    rec = mergePrompt(rec, { point: [1, 2], label: 1 });
    rec = mergePrompt(rec, { point: [5, 5], label: 0 });
    rec = mergePrompt(rec, { box: [0, 0, 9, 9] });
    rec = mergePrompt(rec, { box: [1, 1, 8, 8] });
    expect(rec).toEqual({ points: [[1, 2], [5, 5]], labels: [1, 0], box: [1, 1, 8, 8] });
  });

  it("undoes the last click, and refuses to empty a frame", () => {
    expect(undoPrompt({ points: [[1, 2], [5, 5]], labels: [1, 0], box: null })).toEqual({ points: [[1, 2]], labels: [1], box: null });
    expect(undoPrompt({ points: [[1, 2]], labels: [1], box: [0, 0, 4, 4] })).toEqual({ points: [], labels: [], box: [0, 0, 4, 4] });
    expect(undoPrompt({ points: [[1, 2]], labels: [1], box: null })).toBeNull();
    expect(undoPrompt({ points: [], labels: [], box: [0, 0, 4, 4] })).toBeNull();
  });
});
