/**
 * Mask refinement in review: clicks on the current frame (positive adds, negative removes) go to
 * the tracking API under the review task's lease and the frame's new mask comes back at once;
 * "Re-track" then propagates the refined masklet through the video, followed with the job
 * long-poll. The reviewer refines this masklet only: no new object can be created here.
 */
import { useCallback, useEffect, useRef, useState } from "react";

import { ApiError, errorMessage } from "@/api/client";
import type { Click } from "@/types/geometry";
import type { Rle } from "@/types/rle";
import type { TrackingJob } from "@/types/api";

import { activeJobs, cancelJob, pollJob, promptMasklet, startPropagation } from "./api";

export type RefineState = {
  /** Clicks made in this review, per frame (shown as dots on the frame). */
  clicks: Map<number, Click[]>;
  /** Masks newer than the loaded revision: a clicked frame's mask, frames streamed by a re-track. */
  overrides: Map<number, Rle>;
  /** Frames clicked since the last successful re-track: the mask there differs from the rest. */
  pendingFrames: number[];
  job: TrackingJob | null;
  busy: boolean;
  error: string | null;
};

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

export function useMaskRefine({
  taskId,
  videoId,
  maskletId,
  onTracked,
}: {
  taskId: number;
  videoId: number;
  maskletId: number;
  /** A re-track finished: the masklet has a new current revision. */
  onTracked: (job: TrackingJob) => void;
}) {
  const [state, setState] = useState<RefineState>({
    clicks: new Map(),
    overrides: new Map(),
    pendingFrames: [],
    job: null,
    busy: false,
    error: null,
  });
  const alive = useRef(true);
  const poller = useRef<AbortController | null>(null);
  const onTrackedRef = useRef(onTracked);
  useEffect(() => {
    onTrackedRef.current = onTracked;
  });

  const follow = useCallback(async (job: TrackingJob) => {
    poller.current?.abort();
    const controller = new AbortController();
    poller.current = controller;
    let cursor = 0;
    let current = job;
    setState((s) => ({ ...s, job, busy: true, error: null }));
    try {
      while (!FINAL.has(current.status)) {
        const poll = await pollJob(current.id, cursor, controller.signal);
        if (!alive.current || controller.signal.aborted) return;
        cursor = poll.cursor;
        current = poll.job;
        const frames = poll.frames;
        setState((s) => {
          const overrides = new Map(s.overrides);
          for (const f of frames) {
            const rle = f.masks[String(maskletId)];
            if (rle) overrides.set(f.frame, rle);
          }
          return { ...s, overrides, job: poll.job };
        });
      }
      if (current.status === "succeeded") {
        setState((s) => ({ ...s, busy: false, pendingFrames: [], job: current }));
        onTrackedRef.current(current);
      } else {
        setState((s) => ({
          ...s,
          busy: false,
          job: current,
          error: current.status === "failed" ? `Tracking failed: ${current.error || "no message"}` : "Tracking was cancelled.",
        }));
      }
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") return;
      if (alive.current) setState((s) => ({ ...s, busy: false, error: errorMessage(error) }));
    }
  }, [maskletId]);

  // Resume a re-track that was running when the page was reloaded.
  useEffect(() => {
    alive.current = true;
    activeJobs(videoId)
      .then(({ jobs }) => {
        const mine = jobs.find((j) => j.masklet_ids.includes(maskletId));
        if (mine && alive.current) void follow(mine);
      })
      .catch(() => undefined);
    return () => {
      alive.current = false;
      poller.current?.abort();
    };
  }, [videoId, maskletId, follow]);

  const click = useCallback(
    async (frame: number, x: number, y: number, label: 0 | 1) => {
      setState((s) => ({ ...s, busy: true, error: null }));
      try {
        const result = await promptMasklet(maskletId, { task_id: taskId, frame, points: [[x, y]], labels: [label] });
        if (!alive.current) return;
        setState((s) => {
          const clicks = new Map(s.clicks);
          clicks.set(frame, [...(clicks.get(frame) ?? []), [x, y, label]]);
          const overrides = new Map(s.overrides);
          overrides.set(result.frame, result.mask);
          const pendingFrames = s.pendingFrames.includes(frame) ? s.pendingFrames : [...s.pendingFrames, frame].sort((a, b) => a - b);
          return { ...s, clicks, overrides, pendingFrames, busy: false };
        });
      } catch (error) {
        if (!alive.current) return;
        const text =
          error instanceof ApiError && error.status === 503
            ? "No tracking worker is answering right now; try again in a moment."
            : errorMessage(error);
        setState((s) => ({ ...s, busy: false, error: text }));
      }
    },
    [maskletId, taskId],
  );

  const retrack = useCallback(
    async (frame?: number) => {
      setState((s) => ({ ...s, busy: true, error: null }));
      try {
        const { job } = await startPropagation(videoId, { task_id: taskId, masklet_ids: [maskletId], frame });
        if (alive.current) void follow(job);
      } catch (error) {
        if (alive.current) setState((s) => ({ ...s, busy: false, error: errorMessage(error) }));
      }
    },
    [follow, maskletId, taskId, videoId],
  );

  const cancel = useCallback(async () => {
    const job = state.job;
    if (!job || FINAL.has(job.status)) return;
    try {
      await cancelJob(job.id, taskId);
    } catch (error) {
      setState((s) => ({ ...s, error: errorMessage(error) }));
    }
  }, [state.job, taskId]);

  /** The loaded revision now holds everything: drop the overrides (after a reload of the masks). */
  const settle = useCallback(() => {
    setState((s) => ({ ...s, overrides: new Map(), clicks: new Map() }));
  }, []);

  const dismissError = useCallback(() => setState((s) => ({ ...s, error: null })), []);

  return { ...state, click, retrack, cancel, settle, dismissError };
}
