/**
 * Pure mask compositing, shared by the Web Worker and the main-thread fallback.
 *
 * A decoded mask is kept as row spans (for each row, the [x0, x1) runs of set pixels): a few KB
 * instead of a byte per pixel, so hundreds of frames × objects stay cached, and compositing is
 * one typed-array fill per span. Outlines are the mask minus its erosion by a square, a halo is
 * the dilation minus the mask — both computed on spans, never per pixel.
 */
import { decodeCounts, RleError } from "@/lib/rle";
import type { Rgb } from "@/types/geometry";
import type { Rle } from "@/types/rle";

/** Flat list of half-open intervals [x0, x1, x0, x1, …], sorted and disjoint. */
export type Intervals = number[];

export type MaskSpans = {
  width: number;
  height: number;
  /** Spans of row y are xs[rowStart[y] … rowStart[y + 1]), as x0, x1 pairs. */
  rowStart: Uint32Array;
  xs: Uint32Array;
  area: number;
};

export type CompositeLayer = {
  spans: MaskSpans;
  color: Rgb;
  /** Opacity of the inside, 0 … 1. */
  fillAlpha: number;
  /** Opacity of the outline, 0 … 1; 0 draws none. */
  outlineAlpha: number;
};

export type CompositeOptions = {
  /** Outline thickness in output pixels (0: none). */
  outlineWidth: number;
  /** A 1-pixel dark ring just outside each mask, so light colours read on bright footage. */
  halo: boolean;
};

export const DEFAULT_COMPOSITE: CompositeOptions = { outlineWidth: 2, halo: true };

let scratch = new Uint8Array(0);

/** Decode an RLE straight into row spans. */
export function rleToSpans(rle: Rle): MaskSpans {
  const size = rle.size;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new RleError(`RLE size must be [height, width] of whole numbers, got ${JSON.stringify(size)}.`);
  }
  const [height, width] = size;
  const runs = decodeCounts(rle.counts, height * width);
  if (scratch.length < width * height) scratch = new Uint8Array(width * height);
  const grid = scratch; // zero outside the box cleared below, by construction
  let minRow = height;
  let maxRow = -1;
  let minCol = width;
  let maxCol = -1;
  let area = 0;
  let p = 0;
  for (let i = 0; i < runs.length; i++) {
    const n = runs[i] as number;
    if (i % 2 === 1 && n > 0) {
      area += n;
      let col = Math.floor(p / height);
      let row = p - col * height;
      minCol = Math.min(minCol, col);
      maxCol = Math.max(maxCol, Math.floor((p + n - 1) / height));
      if (n >= height) {
        minRow = 0;
        maxRow = height - 1;
      } else {
        const endRow = (p + n - 1) % height;
        if (endRow < row) {
          minRow = 0;
          maxRow = height - 1;
        } else {
          minRow = Math.min(minRow, row);
          maxRow = Math.max(maxRow, endRow);
        }
      }
      for (let j = 0; j < n; j++) {
        grid[row * width + col] = 1;
        row += 1;
        if (row === height) {
          row = 0;
          col += 1;
        }
      }
    }
    p += n;
  }
  const rowStart = new Uint32Array(height + 1);
  const xs: number[] = [];
  for (let y = 0; y < height; y++) {
    rowStart[y] = xs.length;
    if (y < minRow || y > maxRow) continue;
    const base = y * width;
    let open = -1;
    for (let x = minCol; x <= maxCol; x++) {
      const on = grid[base + x] === 1;
      if (on && open < 0) open = x;
      else if (!on && open >= 0) {
        xs.push(open, x);
        open = -1;
      }
    }
    if (open >= 0) xs.push(open, maxCol + 1);
    if (maxCol >= minCol) grid.fill(0, base + minCol, base + maxCol + 1);
  }
  rowStart[height] = xs.length;
  return { width, height, rowStart, xs: Uint32Array.from(xs), area };
}

/** The spans of one source row. */
export function rowOf(spans: MaskSpans, y: number): Intervals {
  if (y < 0 || y >= spans.height) return [];
  return Array.from(spans.xs.subarray(spans.rowStart[y], spans.rowStart[y + 1]));
}

/**
 * The spans of output row `y` when the mask is drawn at outWidth × outHeight with
 * nearest-neighbour sampling (output pixel X samples source column floor((X + ½)·w / W)).
 */
export function scaledRow(spans: MaskSpans, y: number, outWidth: number, outHeight: number): Intervals {
  if (y < 0 || y >= outHeight) return [];
  if (outWidth === spans.width && outHeight === spans.height) return rowOf(spans, y);
  const sy = Math.floor(((y + 0.5) * spans.height) / outHeight);
  const src = rowOf(spans, sy);
  const k = outWidth / spans.width;
  const out: Intervals = [];
  for (let i = 0; i < src.length; i += 2) {
    const a = Math.max(0, Math.ceil((src[i] as number) * k - 0.5));
    const b = Math.min(outWidth, Math.ceil((src[i + 1] as number) * k - 0.5));
    if (b > a) out.push(a, b);
  }
  return out;
}

export function intersect(a: Intervals, b: Intervals): Intervals {
  const out: Intervals = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i] as number, b[j] as number);
    const hi = Math.min(a[i + 1] as number, b[j + 1] as number);
    if (hi > lo) out.push(lo, hi);
    if ((a[i + 1] as number) < (b[j + 1] as number)) i += 2;
    else j += 2;
  }
  return out;
}

export function subtract(a: Intervals, b: Intervals): Intervals {
  const out: Intervals = [];
  let j = 0;
  for (let i = 0; i < a.length; i += 2) {
    let lo = a[i] as number;
    const hi = a[i + 1] as number;
    while (j < b.length && (b[j + 1] as number) <= lo) j += 2;
    let k = j;
    while (k < b.length && (b[k] as number) < hi) {
      if ((b[k] as number) > lo) out.push(lo, b[k] as number);
      lo = Math.max(lo, b[k + 1] as number);
      k += 2;
    }
    if (lo < hi) out.push(lo, hi);
  }
  return out;
}

/** Union of several interval lists, each grown by `grow` on both sides and clipped to [0, width). */
export function unionGrown(lists: Intervals[], grow: number, width: number): Intervals {
  const all: [number, number][] = [];
  for (const list of lists) {
    for (let i = 0; i < list.length; i += 2) {
      all.push([Math.max(0, (list[i] as number) - grow), Math.min(width, (list[i + 1] as number) + grow)]);
    }
  }
  all.sort((p, q) => p[0] - q[0]);
  const out: Intervals = [];
  for (const [lo, hi] of all) {
    const last = out.length - 1;
    if (last > 0 && lo <= (out[last] as number)) out[last] = Math.max(out[last] as number, hi);
    else out.push(lo, hi);
  }
  return out;
}

function shrink(list: Intervals, by: number): Intervals {
  const out: Intervals = [];
  for (let i = 0; i < list.length; i += 2) {
    const lo = (list[i] as number) + by;
    const hi = (list[i + 1] as number) - by;
    if (hi > lo) out.push(lo, hi);
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** One RGBA pixel as the Uint32 that writes those four bytes in memory order. */
export function packRgba([r, g, b]: Rgb, alpha: number): number {
  const a = Math.round(Math.min(1, Math.max(0, alpha)) * 255);
  return LITTLE_ENDIAN
    ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0
    : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
}

const HALO: Rgb = [0, 0, 0];
const HALO_ALPHA = 0.55;

/**
 * Composite layers into RGBA (non-premultiplied, as ImageData holds it) of outWidth × outHeight.
 * Later layers are drawn over earlier ones; every outline is drawn over every fill.
 */
export function compositeLayers(
  layers: readonly CompositeLayer[],
  outWidth: number,
  outHeight: number,
  options: CompositeOptions = DEFAULT_COMPOSITE,
): Uint8ClampedArray<ArrayBuffer> {
  const buffer = new ArrayBuffer(outWidth * outHeight * 4);
  const px = new Uint32Array(buffer);
  const w = Math.max(0, Math.floor(options.outlineWidth));
  const rows = layers.map((layer) => {
    const cache = new Map<number, Intervals>();
    return (y: number) => {
      let r = cache.get(y);
      if (!r) {
        r = scaledRow(layer.spans, y, outWidth, outHeight);
        cache.set(y, r);
      }
      return r;
    };
  });

  if (options.halo) {
    const halo = packRgba(HALO, HALO_ALPHA);
    rows.forEach((row, li) => {
      if ((layers[li] as CompositeLayer).spans.area === 0) return;
      for (let y = 0; y < outHeight; y++) {
        const ring = subtract(unionGrown([row(y - 1), row(y), row(y + 1)], 1, outWidth), row(y));
        for (let i = 0; i < ring.length; i += 2) px.fill(halo, y * outWidth + ring[i]!, y * outWidth + ring[i + 1]!);
      }
    });
  }

  layers.forEach((layer, li) => {
    if (layer.spans.area === 0 || layer.fillAlpha <= 0) return;
    const fill = packRgba(layer.color, layer.fillAlpha);
    const row = rows[li]!;
    for (let y = 0; y < outHeight; y++) {
      const r = row(y);
      for (let i = 0; i < r.length; i += 2) px.fill(fill, y * outWidth + r[i]!, y * outWidth + r[i + 1]!);
    }
  });

  if (w > 0) {
    layers.forEach((layer, li) => {
      if (layer.spans.area === 0 || layer.outlineAlpha <= 0) return;
      const line = packRgba(layer.color, layer.outlineAlpha);
      const row = rows[li]!;
      for (let y = 0; y < outHeight; y++) {
        const here = row(y);
        if (here.length === 0) continue;
        // Erosion by a (2w+1)² square: rows y-w … y+w intersected, then shrunk by w.
        let inner = here;
        for (let d = 1; d <= w && inner.length > 0; d++) {
          inner = intersect(intersect(inner, row(y - d)), row(y + d));
        }
        const edge = subtract(here, shrink(inner, w));
        for (let i = 0; i < edge.length; i += 2) px.fill(line, y * outWidth + edge[i]!, y * outWidth + edge[i + 1]!);
      }
    });
  }
  return new Uint8ClampedArray(buffer);
}
