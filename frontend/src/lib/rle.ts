/**
 * COCO run-length encoding, bit-compatible with pycocotools (`maskApi.c`: rleToString /
 * rleFrString / rleArea / rleToBbox).
 *
 * Runs alternate 0,1,0,1… over the pixels in column-major order (down each column, then the next
 * column), the first run counting zeros (it is 0 when the mask starts with a set pixel). The
 * compressed string stores each count as 5-bit groups, least significant first, offset by 48
 * into printable ASCII; bit 0x20 says "more groups follow" and bit 0x10 of the last group is the
 * sign. From index 3 on, a count is stored as the difference to the count two places before.
 *
 * Decoded masks here are row-major (`data[y * width + x]`), the layout canvases want.
 */
import type { Bbox, Rgb } from "@/types/geometry";
import type { Rle } from "@/types/rle";

export type { Rle };

/** A decoded mask: one byte per pixel, 0 or 1, row-major. */
export type BinaryMask = {
  width: number;
  height: number;
  data: Uint8Array;
};

export class RleError extends Error {
  override name = "RleError";
}

/** Most 5-bit groups in one count: 50 bits stay inside a safe integer. */
const MAX_GROUPS = 10;

function checkSize(size: unknown): [height: number, width: number] {
  if (
    !Array.isArray(size) ||
    size.length !== 2 ||
    !size.every((v) => Number.isInteger(v) && (v as number) >= 0)
  ) {
    throw new RleError(`RLE size must be [height, width] of whole numbers, got ${JSON.stringify(size)}.`);
  }
  return [size[0] as number, size[1] as number];
}

/**
 * The run lengths of a compressed `counts` string.
 *
 * Throws RleError on characters outside the alphabet, a string that ends in the middle of a
 * number, negative runs, or (when `pixels` is given) runs that do not add up to the image.
 */
export function decodeCounts(counts: string, pixels?: number): Uint32Array {
  if (typeof counts !== "string") throw new RleError("RLE counts must be a string.");
  const out: number[] = [];
  let p = 0;
  let total = 0;
  while (p < counts.length) {
    let x = 0;
    let scale = 1;
    let groups = 0;
    let more = true;
    while (more) {
      if (p >= counts.length) throw new RleError("RLE counts end in the middle of a number.");
      const c = counts.charCodeAt(p) - 48;
      if (c < 0 || c > 63) {
        throw new RleError(`RLE counts contain an invalid character at position ${p}.`);
      }
      if (++groups > MAX_GROUPS) throw new RleError("RLE count is too large.");
      x += (c & 0x1f) * scale;
      scale *= 32;
      more = (c & 0x20) !== 0;
      p += 1;
      if (!more && (c & 0x10) !== 0) x -= scale; // sign-extend the last group
    }
    const m = out.length;
    if (m > 2) x += out[m - 2] as number;
    if (x < 0) throw new RleError(`RLE run ${m} has a negative length.`);
    out.push(x);
    total += x;
  }
  if (pixels !== undefined && total !== pixels) {
    throw new RleError(`RLE runs cover ${total} pixels but the image has ${pixels}.`);
  }
  return Uint32Array.from(out);
}

/** The compressed string for a list of run lengths (the inverse of decodeCounts). */
export function encodeCounts(runs: ArrayLike<number>): string {
  const codes: number[] = [];
  for (let i = 0; i < runs.length; i++) {
    let x = runs[i] as number;
    if (i > 2) x -= runs[i - 2] as number;
    let more = true;
    while (more) {
      let c = ((x % 32) + 32) % 32; // x & 0x1f, also for negative x
      x = Math.floor(x / 32); // arithmetic shift right by 5
      more = (c & 0x10) !== 0 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      codes.push(c + 48);
    }
  }
  let s = "";
  for (let i = 0; i < codes.length; i += 4096) {
    s += String.fromCharCode(...codes.slice(i, i + 4096));
  }
  return s;
}

/** The run lengths of an RLE, checked against its size. */
export function rleRuns(rle: Rle): Uint32Array {
  const [h, w] = checkSize(rle.size);
  return decodeCounts(rle.counts, h * w);
}

/** Decode to a row-major 0/1 mask. Cost is proportional to the set pixels plus the runs. */
export function decodeRle(rle: Rle): BinaryMask {
  const [height, width] = checkSize(rle.size);
  const runs = decodeCounts(rle.counts, height * width);
  const data = new Uint8Array(height * width);
  let p = 0;
  for (let i = 0; i < runs.length; i++) {
    const n = runs[i] as number;
    if (i % 2 === 1 && n > 0) {
      let col = Math.floor(p / height);
      let row = p - col * height;
      for (let j = 0; j < n; j++) {
        data[row * width + col] = 1;
        row += 1;
        if (row === height) {
          row = 0;
          col += 1;
        }
      }
    }
    p += n;
  }
  return { width, height, data };
}

/** Encode a row-major mask (any non-zero byte is set) as pycocotools would. */
export function encodeMask(mask: BinaryMask): Rle {
  const { width, height, data } = mask;
  if (data.length !== width * height) {
    throw new RleError(`Mask data has ${data.length} bytes for a ${width}×${height} image.`);
  }
  const runs: number[] = [];
  let current = 0; // value of the run being counted; the first run counts zeros
  let length = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = data[y * width + x] ? 1 : 0;
      if (v !== current) {
        runs.push(length);
        length = 0;
        current = v;
      }
      length += 1;
    }
  }
  runs.push(length);
  return { size: [height, width], counts: encodeCounts(runs) };
}

/** An all-zero mask (the encoding SA-V uses for a subject that is not visible). */
export function emptyRle(height: number, width: number): Rle {
  return { size: [height, width], counts: encodeCounts([height * width]) };
}

/** Number of set pixels (pycocotools `area`). */
export function rleArea(rle: Rle): number {
  const runs = rleRuns(rle);
  let area = 0;
  for (let i = 1; i < runs.length; i += 2) area += runs[i] as number;
  return area;
}

export function rleIsEmpty(rle: Rle): boolean {
  return rleArea(rle) === 0;
}

/**
 * COCO bbox [x, y, width, height] (pycocotools `toBbox`, including its rule that a run crossing a
 * column boundary widens the box to the full image height). [0, 0, 0, 0] for an empty mask.
 */
export function rleBbox(rle: Rle): Bbox {
  const [h, w] = checkSize(rle.size);
  const runs = rleRuns(rle);
  const m = Math.floor(runs.length / 2) * 2;
  if (m === 0 || h === 0) return [0, 0, 0, 0];
  let xs = w;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let cc = 0;
  let xp = 0;
  for (let j = 0; j < m; j++) {
    cc += runs[j] as number;
    const t = cc - (j % 2);
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = h - 1;
    }
    xs = Math.min(xs, x);
    xe = Math.max(xe, x);
    ys = Math.min(ys, y);
    ye = Math.max(ye, y);
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

/** RGBA pixels (for an ImageData) of a mask in one colour: alpha where set, transparent elsewhere. */
export function maskToRgba(mask: BinaryMask, color: Rgb, alpha = 255): Uint8ClampedArray {
  const out = new Uint8ClampedArray(mask.width * mask.height * 4);
  const [r, g, b] = color;
  for (let i = 0; i < mask.data.length; i++) {
    if (mask.data[i]) {
      const o = i * 4;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = alpha;
    }
  }
  return out;
}
