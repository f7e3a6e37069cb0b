/**
 * The per-frame mask IoU between two masklet revisions (GET /api/masklets/<id>/diff/masks,
 * annotation/selectors/history.py mask_diff), shaped for the chart and the frame list.
 *
 * IoU is 1.0 where both masks are empty (they agree the subject is absent) and null where one
 * revision has no mask for the frame at all.
 */

export type MaskDiff = {
  from: number;
  to: number;
  frames: number;
  iou: (number | null)[];
  mean_iou: number | null;
  changed_frames: number[];
  area_from: number[];
  area_to: number[];
  prompts_from: number;
  prompts_to: number;
};

export type IouPoint = {
  frame: number;
  /** 0 … 1; null where one side has no mask for the frame (a gap in the line). */
  iou: number | null;
  areaFrom: number | null;
  areaTo: number | null;
  /** What changed on this frame, in words (for the tooltip and the frame list). */
  note: string;
};

export type IouSummary = {
  frames: number;
  changed: number;
  missing: number;
  mean: number | null;
  min: { frame: number; iou: number } | null;
  /** Frames where the subject appears in only one of the two revisions. */
  appeared: number[];
  disappeared: number[];
};

function noteOf(iou: number | null, a: number | null, b: number | null): string {
  if (iou === null) return a === null ? "not in the older revision" : "not in the newer revision";
  if (a === 0 && b === 0) return "absent in both";
  if (a === 0) return "subject appears";
  if (b === 0) return "subject removed";
  return iou >= 1 ? "unchanged" : `IoU ${iou.toFixed(3)}`;
}

export function iouPoints(diff: MaskDiff): IouPoint[] {
  return Array.from({ length: diff.frames }, (_, frame) => {
    const iou = diff.iou[frame] ?? null;
    const areaFrom = diff.area_from[frame] ?? null;
    const areaTo = diff.area_to[frame] ?? null;
    return { frame, iou, areaFrom, areaTo, note: noteOf(iou, areaFrom, areaTo) };
  });
}

export function iouSummary(points: readonly IouPoint[]): IouSummary {
  let sum = 0;
  let known = 0;
  let min: IouSummary["min"] = null;
  const summary: IouSummary = {
    frames: points.length,
    changed: 0,
    missing: 0,
    mean: null,
    min: null,
    appeared: [],
    disappeared: [],
  };
  for (const p of points) {
    if (p.iou === null) {
      summary.missing++;
      summary.changed++;
      continue;
    }
    sum += p.iou;
    known++;
    if (p.iou < 1) summary.changed++;
    if (min === null || p.iou < min.iou) min = { frame: p.frame, iou: p.iou };
    if (p.areaFrom === 0 && (p.areaTo ?? 0) > 0) summary.appeared.push(p.frame);
    if ((p.areaFrom ?? 0) > 0 && p.areaTo === 0) summary.disappeared.push(p.frame);
  }
  summary.mean = known ? sum / known : null;
  summary.min = min;
  return summary;
}

/** The `limit` frames that changed most (lowest IoU first; missing frames first of all). */
export function worstFrames(points: readonly IouPoint[], limit = 5): IouPoint[] {
  return points
    .filter((p) => p.iou === null || p.iou < 1)
    .sort((a, b) => (a.iou ?? -1) - (b.iou ?? -1) || a.frame - b.frame)
    .slice(0, limit);
}

/** Runs of consecutive frames (for "frames 3–7, 12" labels). */
export function frameRuns(frames: readonly number[]): [start: number, end: number][] {
  const runs: [number, number][] = [];
  for (const f of [...frames].sort((a, b) => a - b)) {
    const last = runs[runs.length - 1];
    if (last && f <= last[1] + 1) last[1] = Math.max(last[1], f);
    else runs.push([f, f]);
  }
  return runs;
}

export function formatRuns(frames: readonly number[], limit = 6): string {
  const runs = frameRuns(frames);
  const text = runs
    .slice(0, limit)
    .map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`))
    .join(", ");
  return runs.length > limit ? `${text}, … (${runs.length - limit} more)` : text;
}
