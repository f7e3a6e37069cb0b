/**
 * The masks the pass-1 editor shows: per masklet, one RLE per annotation frame, filled from the
 * masks endpoint, from click answers, and from tracking frames as the long-poll delivers them
 * (later deliveries replace earlier ones: a re-run job publishes its frames again).
 */
import { rleIsEmpty } from "@/lib/rle";
import type { JobPoll, MaskRange } from "@/types/api";
import type { Rle } from "@/types/rle";

export class MaskStore {
  private readonly masks = new Map<number, (Rle | null | undefined)[]>();
  private readonly visibleCache = new Map<number, (boolean | null)[]>();
  /** Bumped on every change: a cheap "did anything change" for React. */
  version = 0;

  constructor(readonly count: number) {}

  private row(id: number): (Rle | null | undefined)[] {
    let r = this.masks.get(id);
    if (!r) {
      r = new Array<Rle | null | undefined>(this.count);
      this.masks.set(id, r);
    }
    return r;
  }

  get(id: number, frame: number): Rle | null | undefined {
    return this.masks.get(id)?.[frame];
  }

  has(id: number): boolean {
    return this.masks.has(id);
  }

  set(id: number, frame: number, rle: Rle | null): void {
    if (frame < 0 || frame >= this.count) return;
    this.row(id)[frame] = rle;
    this.visibleCache.delete(id);
    this.version += 1;
  }

  /** Forget a masklet's masks (deleted, or about to be reloaded). */
  drop(id: number): void {
    this.masks.delete(id);
    this.visibleCache.delete(id);
    this.version += 1;
  }

  /** Merge a GET videos/<id>/masks answer; returns how many frame masks it set. */
  applyRange(range: MaskRange): number {
    let n = 0;
    for (const [key, entry] of Object.entries(range.masklets)) {
      const id = Number(key);
      const row = this.row(id);
      entry.frames.forEach((rle, i) => {
        const k = range.start + i;
        if (k < 0 || k >= this.count) return;
        // A null from the server means "no mask yet" and must not erase a mask we already hold
        // (e.g. the answer to a click made while this request was in flight).
        if (rle === null && row[k]) return;
        row[k] = rle;
        n += 1;
      });
      this.visibleCache.delete(id);
    }
    if (n) this.version += 1;
    return n;
  }

  /** Merge the frames of one long-poll answer; returns the frames it touched. */
  applyFrames(frames: JobPoll["frames"]): number[] {
    const touched: number[] = [];
    for (const f of frames) {
      if (f.frame < 0 || f.frame >= this.count) continue;
      for (const [key, rle] of Object.entries(f.masks)) {
        const id = Number(key);
        this.row(id)[f.frame] = rle;
        this.visibleCache.delete(id);
      }
      touched.push(f.frame);
    }
    if (touched.length) this.version += 1;
    return touched;
  }

  /** Per frame: the subject is visible (true), absent (false) or unknown (null: no mask yet). */
  visible(id: number): (boolean | null)[] {
    const hit = this.visibleCache.get(id);
    if (hit) return hit;
    const row = this.masks.get(id);
    const out: (boolean | null)[] = new Array<boolean | null>(this.count).fill(null);
    if (row) {
      for (let k = 0; k < this.count; k++) {
        const rle = row[k];
        out[k] = rle ? !rleIsEmpty(rle) : null;
      }
    }
    this.visibleCache.set(id, out);
    return out;
  }

  /** How many frames hold a mask (tracked or prompted) for the masklet. */
  framesKnown(id: number): number {
    const row = this.masks.get(id);
    if (!row) return 0;
    let n = 0;
    for (let k = 0; k < this.count; k++) if (row[k]) n += 1;
    return n;
  }
}
