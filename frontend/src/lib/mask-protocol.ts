/** Messages between the mask renderer (main thread) and mask-worker.ts. */
import type { CompositeOptions } from "@/lib/mask-composite";
import type { Rgb } from "@/types/geometry";
import type { Rle } from "@/types/rle";

export type WorkerLayer = {
  rle: Rle;
  color: Rgb;
  fillAlpha: number;
  outlineAlpha: number;
};

export type RenderMessage = {
  type: "render";
  job: number;
  width: number;
  height: number;
  layers: WorkerLayer[];
  options: CompositeOptions;
};

export type ToWorker = RenderMessage | { type: "clear" };

export type FromWorker =
  | { type: "rendered"; job: number; bitmap: ImageBitmap; ms: number }
  | { type: "pixels"; job: number; width: number; height: number; rgba: Uint8ClampedArray<ArrayBuffer>; ms: number }
  | { type: "failed"; job: number; message: string };
