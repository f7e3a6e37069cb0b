/**
 * One tracking job at a time for the video: start it, follow it by long-poll (frames merged
 * into the mask store as they arrive), cancel it, and pick up a job that was running before a
 * reload.
 */
import { useCallback, useEffect, useRef, useState } from "react";

import { ApiError, errorMessage, NETWORK_ERROR_STATUS } from "@/api/client";
import type { TrackingJob } from "@/types/api";

import type { MaskStore } from "./maskStore";
import { activeJobs, cancelJob, FINAL_JOB_STATUSES, pollJob, propagate } from "./trackingApi";

export type JobFollower = {
  job: TrackingJob | null;
  error: string | null;
  running: boolean;
  start: (maskletIds: number[]) => Promise<void>;
  cancel: () => Promise<void>;
};

/**
 * Follow job `jobId` from `cursor` until it ends: each answer's frames go into `store`, `onJob`
 * hears every job state. Network hiccups are retried; other errors end the loop (thrown).
 */
export async function followJob(
  jobId: number,
  store: MaskStore,
  onJob: (job: TrackingJob, touched: number[]) => void,
  signal: AbortSignal,
  poll = pollJob,
  retryDelayMs = 1500,
): Promise<TrackingJob> {
  let cursor = 0;
  for (;;) {
    let answer;
    try {
      answer = await poll(jobId, cursor, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      if (error instanceof ApiError && (error.status === NETWORK_ERROR_STATUS || error.status >= 502)) {
        await new Promise((r) => setTimeout(r, retryDelayMs));
        continue;
      }
      throw error;
    }
    if (signal.aborted) throw new DOMException("aborted", "AbortError");
    const touched = store.applyFrames(answer.frames);
    cursor = Math.max(cursor, answer.cursor);
    onJob(answer.job, touched);
    if (FINAL_JOB_STATUSES.has(answer.job.status)) return answer.job;
  }
}

export function useTrackingJob({
  videoId,
  taskId,
  store,
  onChange,
  onFinished,
}: {
  videoId: number;
  taskId: number;
  store: MaskStore;
  /** New frames arrived (re-render). */
  onChange: () => void;
  /** The job ended (succeeded, failed, cancelled). */
  onFinished: (job: TrackingJob) => void;
}): JobFollower {
  const [job, setJob] = useState<TrackingJob | null>(null);
  const [error, setError] = useState<string | null>(null);
  const controller = useRef<AbortController | null>(null);
  const callbacks = useRef({ onChange, onFinished });
  useEffect(() => {
    callbacks.current = { onChange, onFinished };
  });

  const follow = useCallback(
    (first: TrackingJob) => {
      controller.current?.abort();
      const ctrl = new AbortController();
      controller.current = ctrl;
      setJob(first);
      setError(null);
      followJob(
        first.id,
        store,
        (j, touched) => {
          setJob(j);
          if (touched.length) callbacks.current.onChange();
        },
        ctrl.signal,
      )
        .then((final) => {
          if (ctrl.signal.aborted) return;
          if (final.status === "failed") setError(final.error || "Tracking failed.");
          callbacks.current.onFinished(final);
        })
        .catch((err: unknown) => {
          if (ctrl.signal.aborted) return;
          setError(errorMessage(err));
        });
    },
    [store],
  );

  // A job that was running when the page was left: follow it again from the start.
  useEffect(() => {
    const ctrl = new AbortController();
    activeJobs(videoId)
      .then(({ jobs }) => {
        const running = jobs.find((j) => !FINAL_JOB_STATUSES.has(j.status));
        if (running && !ctrl.signal.aborted) follow(running);
      })
      .catch(() => undefined);
    return () => {
      ctrl.abort();
      controller.current?.abort();
    };
  }, [videoId, follow]);

  const start = useCallback(
    async (maskletIds: number[]) => {
      setError(null);
      try {
        const { job: created } = await propagate(videoId, taskId, maskletIds);
        follow(created);
      } catch (err) {
        setError(errorMessage(err));
        throw err;
      }
    },
    [videoId, taskId, follow],
  );

  const cancel = useCallback(async () => {
    if (!job) return;
    try {
      const { job: cancelled } = await cancelJob(job.id, taskId);
      setJob(cancelled);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [job, taskId]);

  const running = job !== null && !FINAL_JOB_STATUSES.has(job.status);
  return { job, error, running, start, cancel };
}
