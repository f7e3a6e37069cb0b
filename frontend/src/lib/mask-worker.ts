/**
 * Decodes RLE masks and composites them into an ImageBitmap, off the main thread. One message
 * per frame; decoded masks are cached here by content, so replaying or scrubbing costs only the
 * compositing (a typed-array fill per span).
 */
import { compositeLayers } from "@/lib/mask-composite";
import type { FromWorker, ToWorker } from "@/lib/mask-protocol";
import { SpansCache } from "@/lib/mask-spans-cache";

// The DOM and WebWorker libs cannot both be in one TypeScript program; this is all we use.
type WorkerScope = {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};
const scope = self as unknown as WorkerScope;

const cache = new SpansCache();
let canvas: OffscreenCanvas | null = null;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === "clear") {
    cache.clear();
    return;
  }
  const started = performance.now();
  try {
    const layers = message.layers.map((layer) => ({ ...layer, spans: cache.get(layer.rle) }));
    const rgba = compositeLayers(layers, message.width, message.height, message.options);
    if (typeof OffscreenCanvas === "undefined") {
      const { job, width, height } = message;
      post({ type: "pixels", job, width, height, rgba, ms: performance.now() - started }, [rgba.buffer]);
      return;
    }
    if (!canvas || canvas.width !== message.width || canvas.height !== message.height) {
      canvas = new OffscreenCanvas(message.width, message.height);
    }
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("No 2D context on OffscreenCanvas.");
    ctx.putImageData(new ImageData(rgba, message.width, message.height), 0, 0);
    const bitmap = canvas.transferToImageBitmap();
    post({ type: "rendered", job: message.job, bitmap, ms: performance.now() - started }, [bitmap]);
  } catch (error) {
    post({ type: "failed", job: message.job, message: error instanceof Error ? error.message : String(error) });
  }
};
