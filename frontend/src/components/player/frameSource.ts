/**
 * Annotation frame JPEGs: URL of frame k from the task's media, and a small cache of decoded
 * images with read-ahead. Frame k is always the JPEG of annotation frame k (no <video> seeking,
 * so the mask of frame k is drawn over exactly that picture).
 */
import { frameUrl } from "@/lib/frames";
import type { VideoMedia } from "@/types/api";

export function frameSrc(media: VideoMedia, k: number): string {
  if (media.frame_url_template) return frameUrl(media.frame_url_template, k, media.frame_digits ?? 0);
  const url = media.frame_urls[k];
  if (url === undefined) throw new RangeError(`No URL for frame ${k} (${media.frame_urls.length} frames).`);
  return url;
}

type Entry = { promise: Promise<HTMLImageElement>; image: HTMLImageElement | null };

export class FrameImages {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private readonly media: VideoMedia,
    readonly count: number,
    private readonly capacity = 160,
  ) {}

  /** The decoded image of frame k, if it is already here. */
  peek(k: number): HTMLImageElement | null {
    return this.entries.get(k)?.image ?? null;
  }

  get(k: number): Promise<HTMLImageElement> {
    const hit = this.entries.get(k);
    if (hit) {
      this.entries.delete(k);
      this.entries.set(k, hit);
      return hit.promise;
    }
    const image = new Image();
    image.decoding = "async";
    const entry: Entry = { image: null, promise: Promise.resolve(image) };
    entry.promise = new Promise<HTMLImageElement>((resolve, reject) => {
      image.onload = () => {
        const done = () => {
          entry.image = image;
          resolve(image);
        };
        // decode() makes drawImage cheap later; a failure to pre-decode is not a failure to load.
        if (typeof image.decode === "function") image.decode().then(done, done);
        else done();
      };
      image.onerror = () => {
        this.entries.delete(k);
        reject(new Error(`Frame ${k} could not be loaded.`));
      };
    });
    image.src = frameSrc(this.media, k);
    this.entries.set(k, entry);
    this.evict(k);
    return entry.promise;
  }

  /** Start loading the frames around k (more ahead than behind). */
  preload(k: number, ahead = 12, behind = 3): void {
    for (let d = 1; d <= ahead; d++) if (k + d < this.count) void this.get(k + d).catch(() => undefined);
    for (let d = 1; d <= behind; d++) if (k - d >= 0) void this.get(k - d).catch(() => undefined);
  }

  private evict(keep: number): void {
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      if (key !== keep) this.entries.delete(key);
    }
  }
}
