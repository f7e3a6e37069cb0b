import { type MaskSpans, rleToSpans } from "@/lib/mask-composite";
import type { Rle } from "@/types/rle";

/**
 * Decoded masks by content (size and counts string), least recently used evicted first. Keyed by
 * content rather than (frame, object) so an edited mask can never be served stale.
 */
export class SpansCache {
  private readonly entries = new Map<string, MaskSpans>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  get size(): number {
    return this.entries.size;
  }

  get(rle: Rle): MaskSpans {
    const key = `${rle.size[0]}x${rle.size[1]}:${rle.counts}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const spans = rleToSpans(rle);
    this.entries.set(key, spans);
    this.bytes += cost(key, spans);
    for (const [oldKey, old] of this.entries) {
      if (this.bytes <= this.maxBytes || this.entries.size <= 1) break;
      this.entries.delete(oldKey);
      this.bytes -= cost(oldKey, old);
    }
    return spans;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

const cost = (key: string, s: MaskSpans) => key.length * 2 + s.rowStart.byteLength + s.xs.byteLength;
