/** The tracking HTTP API as pass 1 uses it (notes/TRACKING_API.md). */
import { api } from "@/api/client";
import type { Category, JobPoll, MaskletSummary, MaskRange, PromptResult, TrackingJob } from "@/types/api";
import type { Box } from "@/types/geometry";

const T = "/tracking";

/** The most frames one masks request may span. */
export const MASKS_PAGE = 600;
/** How long the server holds a job poll open, in seconds. */
export const POLL_WAIT_S = 20;

export type PromptInput = {
  frame: number;
  points: [number, number][];
  labels: (0 | 1)[];
  box: Box | null;
};

export function createMasklet(videoId: number, taskId: number, category: Category, prompt: PromptInput): Promise<PromptResult> {
  return api<PromptResult>(`${T}/videos/${videoId}/masklets`, { method: "POST", body: { task_id: taskId, category, ...prompt } });
}

/** Add prompts on a frame (merged with earlier ones there), or with `replace` set them. */
export function addPrompt(maskletId: number, taskId: number, prompt: PromptInput, replace = false): Promise<PromptResult> {
  return api<PromptResult>(`${T}/masklets/${maskletId}/prompts`, { method: "POST", body: { task_id: taskId, ...prompt, replace } });
}

export function setCategory(maskletId: number, taskId: number, category: Category): Promise<{ masklet: MaskletSummary }> {
  return api(`${T}/masklets/${maskletId}`, { method: "PATCH", body: { task_id: taskId, category } });
}

export function deleteMasklet(maskletId: number, taskId: number): Promise<void> {
  return api<void>(`${T}/masklets/${maskletId}?task_id=${taskId}`, { method: "DELETE" });
}

export function propagate(videoId: number, taskId: number, maskletIds: number[], frame?: number): Promise<{ job: TrackingJob }> {
  return api(`${T}/videos/${videoId}/propagate`, {
    method: "POST",
    body: { task_id: taskId, masklet_ids: maskletIds, ...(frame === undefined ? {} : { frame }), direction: "both" },
  });
}

export function pollJob(jobId: number, cursor: number, signal?: AbortSignal, wait = POLL_WAIT_S): Promise<JobPoll> {
  return api<JobPoll>(`${T}/jobs/${jobId}?cursor=${cursor}&wait=${wait}`, { signal });
}

export function cancelJob(jobId: number, taskId: number): Promise<{ job: TrackingJob }> {
  return api(`${T}/jobs/${jobId}/cancel`, { method: "POST", body: { task_id: taskId } });
}

export function activeJobs(videoId: number): Promise<{ jobs: TrackingJob[] }> {
  return api(`${T}/videos/${videoId}/jobs?active=1`);
}

export function fetchMasks(videoId: number, start: number, end: number, maskletIds?: number[], signal?: AbortSignal): Promise<MaskRange> {
  const ids = maskletIds && maskletIds.length ? `&masklet_ids=${maskletIds.join(",")}` : "";
  return api<MaskRange>(`${T}/videos/${videoId}/masks?start=${start}&end=${end}${ids}`, { signal });
}

/** Inclusive [start, end] pages covering `count` frames, the first one short (first paint fast). */
export function maskPages(count: number, first = 8, page = MASKS_PAGE): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  let size = Math.min(first, page);
  while (start < count) {
    const end = Math.min(count - 1, start + size - 1);
    out.push([start, end]);
    start = end + 1;
    size = page;
  }
  return out;
}

export const FINAL_JOB_STATUSES = new Set(["succeeded", "failed", "cancelled"]);

/* Masks fetched ahead (while the task's draft and editor load) and taken by the editor. */
const warm = new Map<string, Promise<MaskRange>>();

export function warmMasks(videoId: number, start: number, end: number): void {
  const key = `${videoId}:${start}:${end}`;
  if (warm.has(key)) return;
  const p = fetchMasks(videoId, start, end);
  p.catch(() => warm.delete(key));
  warm.set(key, p);
}

export function takeWarmMasks(videoId: number, start: number, end: number): Promise<MaskRange> | undefined {
  const key = `${videoId}:${start}:${end}`;
  const p = warm.get(key);
  warm.delete(key);
  return p;
}
