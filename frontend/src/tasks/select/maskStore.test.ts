import { ApiError } from "@/api/client";
import { emptyRle, encodeMask } from "@/lib/rle";
import type { JobPoll, TrackingJob } from "@/types/api";
import type { Rle } from "@/types/rle";

import { MaskStore } from "./maskStore";
import { followJob } from "./useTrackingJob";

/** A 4×3 mask with the given row-major pixels set. */
function mask(...on: number[]): Rle {
  const data = new Uint8Array(12);
  for (const i of on) data[i] = 1;
  return encodeMask({ width: 4, height: 3, data });
}
const empty = emptyRle(3, 4);

function job(over: Partial<TrackingJob> = {}): TrackingJob {
  return {
    id: 9,
    kind: "propagate",
    status: "running",
    video_id: 1,
    masklet_ids: [5, 6],
    start_frame: 0,
    direction: "both",
    frames_done: 0,
    frames_total: 4,
    error: "",
    attempts: 1,
    worker: "w",
    created_at: "",
    started_at: null,
    finished_at: null,
    ...over,
  };
}

describe("MaskStore", () => {
  it("merges long-poll frames per masklet and reports the frames touched", () => {
    const store = new MaskStore(4);
    const touched = store.applyFrames([
      { frame: 2, masks: { "5": mask(1), "6": empty } },
      { frame: 3, masks: { "5": empty } },
    ]);
    expect(touched).toEqual([2, 3]);
    expect(store.get(5, 2)).toEqual(mask(1));
    expect(store.get(6, 2)).toEqual(empty);
    expect(store.visible(5)).toEqual([null, null, true, false]);
    expect(store.visible(6)).toEqual([null, null, false, null]);
  });

  it("lets a later delivery of a frame replace the earlier one (a re-run job publishes again)", () => {
    const store = new MaskStore(3);
    store.applyFrames([{ frame: 1, masks: { "5": mask(0) } }]);
    const v1 = store.version;
    store.applyFrames([{ frame: 1, masks: { "5": mask(0, 1, 2) } }]);
    expect(store.get(5, 1)).toEqual(mask(0, 1, 2));
    expect(store.version).toBeGreaterThan(v1);
  });

  it("ignores frames outside the video", () => {
    const store = new MaskStore(2);
    expect(store.applyFrames([{ frame: 7, masks: { "5": mask(0) } }])).toEqual([]);
    expect(store.has(5)).toBe(false);
  });

  it("takes a masks page at its offset and never erases a held mask with a server null", () => {
    const store = new MaskStore(5);
    store.set(5, 3, mask(2)); // a click answer that arrived first
    store.applyRange({ size: [3, 4], start: 2, end: 4, masklets: { "5": { revision: null, frames: [empty, null, mask(4)] } } });
    expect(store.get(5, 2)).toEqual(empty);
    expect(store.get(5, 3)).toEqual(mask(2));
    expect(store.get(5, 4)).toEqual(mask(4));
    expect(store.visible(5)).toEqual([null, null, false, true, true]);
    expect(store.framesKnown(5)).toBe(3);
  });

  it("recomputes visibility after a change and forgets a dropped masklet", () => {
    const store = new MaskStore(2);
    store.set(5, 0, empty);
    expect(store.visible(5)).toEqual([false, null]);
    store.set(5, 0, mask(3));
    expect(store.visible(5)).toEqual([true, null]);
    store.drop(5);
    expect(store.visible(5)).toEqual([null, null]);
  });
});

describe("followJob", () => {
  it("polls from the returned cursor, merges each answer's frames, and stops at a final status", async () => {
    const answers: JobPoll[] = [
      { job: job({ frames_done: 2 }), cursor: 2, frames: [{ frame: 0, masks: { "5": mask(0) } }, { frame: 1, masks: { "5": mask(1) } }] },
      { job: job({ frames_done: 2 }), cursor: 2, frames: [] }, // the wait elapsed with nothing new
      { job: job({ frames_done: 4, status: "succeeded" }), cursor: 4, frames: [{ frame: 2, masks: { "5": empty } }, { frame: 3, masks: { "5": mask(2) } }] },
    ];
    const cursors: number[] = [];
    const poll = async (_id: number, cursor: number) => {
      cursors.push(cursor);
      const next = answers.shift();
      if (!next) throw new Error("polled after the end");
      return next;
    };
    const store = new MaskStore(4);
    const seen: [string, number[]][] = [];
    const final = await followJob(9, store, (j, touched) => seen.push([j.status, touched]), new AbortController().signal, poll);
    expect(final.status).toBe("succeeded");
    expect(cursors).toEqual([0, 2, 2]);
    expect(seen).toEqual([
      ["running", [0, 1]],
      ["running", []],
      ["succeeded", [2, 3]],
    ]);
    expect(store.visible(5)).toEqual([true, true, false, true]);
  });

  it("retries after a network error and gives up on a refusal", async () => {
    let calls = 0;
    const flaky = async () => {
      calls += 1;
      if (calls === 1) throw new ApiError(0, { detail: "offline", code: "network" });
      return { job: job({ status: "failed", error: "boom" }), cursor: 0, frames: [] };
    };
    const final = await followJob(9, new MaskStore(1), () => undefined, new AbortController().signal, flaky, 1);
    expect(final.status).toBe("failed");
    expect(calls).toBe(2);

    const refused = async () => {
      throw new ApiError(404, { detail: "Job not found.", code: "not_found" });
    };
    await expect(followJob(9, new MaskStore(1), () => undefined, new AbortController().signal, refused, 1)).rejects.toThrow("Job not found.");
  });
});
