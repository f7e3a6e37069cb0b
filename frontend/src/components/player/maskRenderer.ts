/**
 * Turns the masks of one frame into one overlay image, in the mask worker (decode + composite
 * off the main thread), with the main thread as fallback where workers are missing. Results are
 * cached by content, so stepping back and forth or replaying costs nothing.
 */
import { compositeLayers, DEFAULT_COMPOSITE, type CompositeOptions } from "@/lib/mask-composite";
import type { FromWorker, ToWorker, WorkerLayer } from "@/lib/mask-protocol";
import { SpansCache } from "@/lib/mask-spans-cache";

export type MaskImage = ImageBitmap | HTMLCanvasElement;

type Pending = { resolve: (image: MaskImage | null) => void; reject: (error: Error) => void };

export function layersKey(width: number, height: number, layers: readonly WorkerLayer[], options: CompositeOptions): string {
  const parts = layers.map(
    (l) => `${l.color.join(",")}|${l.fillAlpha}|${l.outlineAlpha}|${l.rle.size.join("x")}|${l.rle.counts}`,
  );
  return `${width}x${height}|${options.outlineWidth}|${options.halo ? 1 : 0}#${parts.join("#")}`;
}

function pixelsToImage(rgba: Uint8ClampedArray<ArrayBuffer>, width: number, height: number): MaskImage {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d")?.putImageData(new ImageData(rgba, width, height), 0, 0);
  return canvas;
}

/** Workers compositing in parallel (playback keeps several frames in flight). */
const POOL_SIZE = Math.max(1, Math.min(3, (typeof navigator !== "undefined" && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 2) - 1));

export class MaskRenderer {
  private workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextJob = 1;
  private readonly results = new Map<string, Promise<MaskImage | null>>();
  private readonly spans = new SpansCache(32 * 1024 * 1024);
  /** Milliseconds the last composite took (worker or main thread). */
  lastMs = 0;

  constructor(
    private readonly capacity = 48,
    useWorker = typeof Worker !== "undefined",
  ) {
    if (!useWorker) return;
    try {
      for (let i = 0; i < POOL_SIZE; i++) {
        const worker = new Worker(new URL("../../lib/mask-worker.ts", import.meta.url), { type: "module" });
        worker.onmessage = (event: MessageEvent<FromWorker>) => this.onMessage(event.data);
        worker.onerror = () => this.fallBack(new Error("The mask worker failed."));
        this.workers.push(worker);
      }
    } catch {
      this.workers.forEach((w) => w.terminate());
      this.workers = [];
    }
  }

  /** The composited masks (null when there is nothing to draw). */
  render(width: number, height: number, layers: readonly WorkerLayer[], options: CompositeOptions = DEFAULT_COMPOSITE): Promise<MaskImage | null> {
    const drawn = layers.filter((l) => l.fillAlpha > 0 || l.outlineAlpha > 0);
    if (drawn.length === 0) return Promise.resolve(null);
    const key = layersKey(width, height, drawn, options);
    const hit = this.results.get(key);
    if (hit) {
      this.results.delete(key);
      this.results.set(key, hit);
      return hit;
    }
    const promise = this.workers.length ? this.viaWorker(width, height, drawn, options) : this.onMainThread(width, height, drawn, options);
    this.results.set(key, promise);
    promise.catch(() => this.results.delete(key));
    for (const old of this.results.keys()) {
      if (this.results.size <= this.capacity) break;
      this.results.delete(old);
    }
    return promise;
  }

  private viaWorker(width: number, height: number, layers: readonly WorkerLayer[], options: CompositeOptions): Promise<MaskImage | null> {
    const job = this.nextJob++;
    return new Promise((resolve, reject) => {
      this.pending.set(job, { resolve, reject });
      const message: ToWorker = { type: "render", job, width, height, layers: [...layers], options };
      this.workers[job % this.workers.length]?.postMessage(message);
    });
  }

  private async onMainThread(width: number, height: number, layers: readonly WorkerLayer[], options: CompositeOptions): Promise<MaskImage | null> {
    const started = performance.now();
    const rgba = compositeLayers(
      layers.map((l) => ({ ...l, spans: this.spans.get(l.rle) })),
      width,
      height,
      options,
    );
    this.lastMs = performance.now() - started;
    return pixelsToImage(rgba, width, height);
  }

  private onMessage(message: FromWorker): void {
    const waiting = this.pending.get(message.job);
    if (!waiting) return;
    this.pending.delete(message.job);
    if (message.type === "failed") {
      waiting.reject(new Error(message.message));
      return;
    }
    this.lastMs = message.ms;
    if (message.type === "rendered") waiting.resolve(message.bitmap);
    else waiting.resolve(pixelsToImage(message.rgba, message.width, message.height));
  }

  private fallBack(error: Error): void {
    this.workers.forEach((w) => w.terminate());
    this.workers = [];
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.results.clear();
  }

  dispose(): void {
    this.workers.forEach((w) => w.terminate());
    this.workers = [];
    this.pending.clear();
    this.results.clear();
    this.spans.clear();
  }
}
