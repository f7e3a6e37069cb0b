/**
 * "Spotlight" display of the pass-2 subject: everything outside its mask is darkened, the
 * subject itself is left as filmed. The darkening is the complement of the subject's mask,
 * drawn by the player as one more mask layer.
 */
import { encodeCounts, rleRuns } from "@/lib/rle";
import type { Rle } from "@/types/rle";

/**
 * The RLE of every pixel outside `rle`. COCO runs alternate 0s and 1s starting with 0s, so the
 * complement is the same runs with a zero-length run of 0s put in front (or the leading one
 * taken away).
 */
export function complementRle(rle: Rle): Rle {
  const runs = rleRuns(rle);
  let out: number[];
  if (runs.length === 0) out = [];
  else if (runs[0] === 0) out = Array.from(runs.subarray(1));
  else out = [0, ...runs];
  return { size: [rle.size[0], rle.size[1]], counts: encodeCounts(out) };
}

/** complementRle with a cache per frame (the same mask is drawn over and over while playing). */
export class ComplementCache {
  private readonly byFrame = new Map<number, { source: Rle; result: Rle }>();

  get(frame: number, rle: Rle): Rle {
    const hit = this.byFrame.get(frame);
    if (hit && hit.source === rle) return hit.result;
    const result = complementRle(rle);
    this.byFrame.set(frame, { source: rle, result });
    return result;
  }
}
