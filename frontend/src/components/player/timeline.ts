/** Timeline math: frame ↔ x, runs of visible frames, tick spacing. Pure and tested. */

/** The frame under x on a timeline `width` pixels wide showing `count` frames. */
export function frameAtX(x: number, width: number, count: number): number {
  if (count <= 0 || width <= 0) return 0;
  return Math.min(count - 1, Math.max(0, Math.floor((x / width) * count)));
}

/** Left edge of frame k. */
export function xOfFrame(k: number, width: number, count: number): number {
  return count <= 0 ? 0 : (k / count) * width;
}

export type Run = { start: number; end: number; value: boolean | null };

/**
 * Maximal runs of equal values, inclusive frame bounds. `undefined` and `null` both mean
 * "unknown" (not tracked yet) and come out as null.
 */
export function runsOf(values: readonly (boolean | null | undefined)[], count = values.length): Run[] {
  const out: Run[] = [];
  for (let k = 0; k < count; k++) {
    const v = values[k];
    const value = v === undefined || v === null ? null : v;
    const last = out[out.length - 1];
    if (last && last.value === value && last.end === k - 1) last.end = k;
    else out.push({ start: k, end: k, value });
  }
  return out;
}

/** Seconds between labelled ticks so that labels are at least `minPx` apart. */
export function tickSeconds(durationSec: number, width: number, minPx = 60): number {
  const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  if (durationSec <= 0 || width <= 0) return 1;
  for (const s of steps) if ((s / durationSec) * width >= minPx) return s;
  return steps[steps.length - 1] as number;
}
