/** Pass-1 rules the editor applies before asking the server (pure; tested). */
import type { Category, MaskletSummary } from "@/types/api";

import type { SelectDraft } from "./draft";

export type ObjectState = "tracking" | "refined" | "untracked" | "tracked";

/** How an object is named in messages ("person #3"); lists show "#3" beside the category. */
export function objectLabel(m: MaskletSummary, category: Category): string {
  return `${category} #${m.object_id}`;
}

/** Has the masklet a mask on every frame (a revision over the whole video)? */
export function isTracked(m: MaskletSummary, draft: SelectDraft, count: number): boolean {
  if (draft.tracked.includes(m.id)) return true;
  return m.revision !== null && m.revision.visible.length === count;
}

export function objectState(m: MaskletSummary, draft: SelectDraft, count: number, trackingIds: readonly number[]): ObjectState {
  if (trackingIds.includes(m.id)) return "tracking";
  if (!isTracked(m, draft, count)) return "untracked";
  if (draft.dirty.includes(m.id)) return "refined";
  return "tracked";
}

/**
 * Which masklets "Track" sends: every object that is new or was refined since it was tracked;
 * when there is none, the selected one (track it again).
 */
export function trackTargets(objects: readonly MaskletSummary[], draft: SelectDraft, count: number, selected: number | null): number[] {
  const ids = objects.filter((m) => draft.dirty.includes(m.id) || (m.source === "clicks" && !isTracked(m, draft, count))).map((m) => m.id);
  if (ids.length) return [...new Set(ids)].sort((a, b) => a - b);
  if (selected !== null && objects.some((m) => m.id === selected)) return [selected];
  return [];
}

/** What stops a submission, in words; empty when it can go. */
export function submitIssues(
  objects: readonly MaskletSummary[],
  draft: SelectDraft,
  count: number,
  trackingIds: readonly number[],
  visibleOf: (m: MaskletSummary) => readonly (boolean | null)[],
  categoryOf: (m: MaskletSummary) => Category,
): string[] {
  if (objects.length === 0) {
    return ["Add or accept at least one object, or use “No interesting moving object”."];
  }
  const out: string[] = [];
  for (const m of objects) {
    const name = objectLabel(m, categoryOf(m));
    const state = objectState(m, draft, count, trackingIds);
    if (state === "tracking") out.push(`${name} is still being tracked: wait for it to finish.`);
    else if (state === "refined") out.push(`${name} was refined after it was tracked: press Track (T) again.`);
    else if (state === "untracked") out.push(`${name} is not tracked through the video yet: press Track (T).`);
    else {
      const visible = visibleOf(m);
      const known = visible.some((v) => v !== null);
      if (known && !visible.some((v) => v === true)) out.push(`${name} is empty on every frame: delete it or click it again.`);
    }
  }
  return out;
}
