/**
 * Server data for the review screens: history and diffs (annotation/apis/reviews.py) and the
 * tracking calls a reviewer may make to refine the mask (notes/TRACKING_API.md), all under the
 * review task's lease.
 */
import { useQuery } from "@tanstack/react-query";

import { api } from "@/api/client";
import type { JobPoll, MaskRange, PromptResult, TrackingJob } from "@/types/api";

import type { CaptionDiff, MaskletHistory } from "./history";
import type { MaskDiff } from "./maskDiff";

export const reviewKeys = {
  history: (maskletId: number) => ["masklets", maskletId, "history"] as const,
  maskDiff: (maskletId: number, a: number, b: number) => ["masklets", maskletId, "diff", "masks", a, b] as const,
  captionDiff: (maskletId: number, a: number, b: number) => ["masklets", maskletId, "diff", "captions", a, b] as const,
  fgqaHistory: (questionId: number) => ["fgqa", questionId, "history"] as const,
  masks: (videoId: number, maskletId: number, revision: number | null) => ["videos", videoId, "masks", maskletId, revision] as const,
};

export function useMaskletHistory(maskletId: number | null) {
  return useQuery({
    queryKey: reviewKeys.history(maskletId ?? 0),
    queryFn: () => api<MaskletHistory>(`/masklets/${maskletId}/history`),
    enabled: maskletId !== null,
  });
}

export function useMaskDiff(maskletId: number, pair: [number, number] | null) {
  return useQuery({
    queryKey: reviewKeys.maskDiff(maskletId, pair?.[0] ?? 0, pair?.[1] ?? 0),
    queryFn: () => api<MaskDiff>(`/masklets/${maskletId}/diff/masks?from=${pair![0]}&to=${pair![1]}`),
    enabled: pair !== null,
    staleTime: Infinity,
  });
}

export function useCaptionDiff(maskletId: number, pair: [number, number] | null) {
  return useQuery({
    queryKey: reviewKeys.captionDiff(maskletId, pair?.[0] ?? 0, pair?.[1] ?? 0),
    queryFn: () => api<CaptionDiff>(`/masklets/${maskletId}/diff/captions?from=${pair![0]}&to=${pair![1]}`),
    enabled: pair !== null,
    staleTime: Infinity,
  });
}

/** Largest frame range one masks request may ask for. */
export const MASK_CHUNK = 600;

/** Every frame's mask of one masklet (current revision), in chunks of MASK_CHUNK frames. */
export async function fetchMasks(videoId: number, maskletId: number, total: number, signal?: AbortSignal) {
  const frames: (MaskRange["masklets"][string]["frames"][number])[] = [];
  for (let start = 0; start < total; start += MASK_CHUNK) {
    const end = Math.min(total, start + MASK_CHUNK) - 1;
    const range = await api<MaskRange>(`/tracking/videos/${videoId}/masks?start=${start}&end=${end}&masklet_ids=${maskletId}`, { signal });
    const got = range.masklets[String(maskletId)]?.frames ?? [];
    for (let k = 0; k <= end - start; k++) frames.push(got[k] ?? null);
  }
  return frames;
}

export function promptMasklet(
  maskletId: number,
  body: { task_id: number; frame: number; points: [number, number][]; labels: (0 | 1)[] },
) {
  return api<PromptResult>(`/tracking/masklets/${maskletId}/prompts`, { method: "POST", body: { ...body, box: null } });
}

export function startPropagation(videoId: number, body: { task_id: number; masklet_ids: number[]; frame?: number }) {
  return api<{ job: TrackingJob }>(`/tracking/videos/${videoId}/propagate`, { method: "POST", body: { ...body, direction: "both" } });
}

export function pollJob(jobId: number, cursor: number, signal?: AbortSignal, wait = 20) {
  return api<JobPoll>(`/tracking/jobs/${jobId}?cursor=${cursor}&wait=${wait}`, { signal });
}

export function cancelJob(jobId: number, taskId: number) {
  return api<{ job: TrackingJob }>(`/tracking/jobs/${jobId}/cancel`, { method: "POST", body: { task_id: taskId } });
}

export function activeJobs(videoId: number) {
  return api<{ jobs: TrackingJob[] }>(`/tracking/videos/${videoId}/jobs?active=1`);
}
