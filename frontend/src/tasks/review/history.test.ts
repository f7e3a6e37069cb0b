import { defaultPair, historyEvents, type MaskletHistory } from "./history";

const history: MaskletHistory = {
  masklet: { id: 5, video_id: 1, object_id: 2, category: "person", status: "captioned", current_revision: 2 },
  mask_revisions: [
    { id: 10, number: 1, author: "ann1", engine: "cpu", model_version: "", prompts: 2, job_id: 1, parent: null, note: "", first_visible_frame: 0, last_visible_frame: 9, current: false, created_at: "2026-11-30T10:00:00Z" },
    { id: 11, number: 2, author: "ann1", engine: "cpu", model_version: "", prompts: 3, job_id: 2, parent: 1, note: "", first_visible_frame: 1, last_visible_frame: 9, current: true, created_at: "2026-11-30T12:00:00Z" },
  ],
  caption_revisions: [
    { id: 20, number: 1, author: "ann2", task_id: 3, task_kind: "caption", masklet_revision: 1, needs_recheck: true, segments: [{ start_frame: 0, end_frame: 9, caption: "Walks." }], created_at: "2026-11-30T11:00:00Z" },
  ],
  reviews: [
    {
      id: 30, task_id: 4, reviewer: "rev", decision: "reject", reasons: ["mask_quality", "other"], comment: "Leg missing", masklet_revision: 1, caption_revision: 1,
      rework_task: { id: 6, kind: "select", status: "submitted", assignee: "ann1" }, created_at: "2026-11-30T11:30:00Z",
    },
  ],
  tasks: [],
};

describe("historyEvents", () => {
  it("lists who changed what, oldest first", () => {
    const events = historyEvents(history, (c) => c.toUpperCase());
    expect(events.map((e) => [e.kind, e.who, e.title])).toEqual([
      ["mask", "ann1", "Mask revision 1"],
      ["captions", "ann2", "Captions revision 1 — needs re-check"],
      ["review", "rev", "Rejected in review"],
      ["mask", "ann1", "Mask revision 2 (current)"],
    ]);
    expect(events[0]?.detail).toBe("first mask · cpu, 2 clicks · first visible frame 0, last 9");
    expect(events[1]?.tone).toBe("warn");
    expect(events[2]?.detail).toBe("MASK_QUALITY, OTHER · “Leg missing” · mask 1 · captions 1 · rework (pass 1) for ann1: submitted");
    expect(events[2]?.tone).toBe("bad");
  });
});

describe("defaultPair", () => {
  it("compares the last two revisions", () => {
    expect(defaultPair([3, 1, 2])).toEqual([2, 3]);
    expect(defaultPair([1])).toEqual([1, 1]);
    expect(defaultPair([])).toBeNull();
  });
});
