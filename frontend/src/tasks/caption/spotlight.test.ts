import { decodeRle, emptyRle, encodeMask, rleArea } from "@/lib/rle";

import { ComplementCache, complementRle } from "./spotlight";

function maskRle(height: number, width: number, on: [number, number][]) {
  const data = new Uint8Array(height * width);
  for (const [y, x] of on) data[y * width + x] = 1;
  return encodeMask({ width, height, data });
}

describe("complementRle", () => {
  it("covers exactly the pixels outside the mask", () => {
    const rle = maskRle(4, 5, [[0, 0], [1, 2], [3, 4], [2, 2]]);
    const inverse = decodeRle(complementRle(rle));
    const mask = decodeRle(rle);
    expect(inverse.width).toBe(5);
    for (let i = 0; i < mask.data.length; i++) expect(inverse.data[i]).toBe(1 - (mask.data[i] as number));
    expect(rleArea(complementRle(rle))).toBe(20 - 4);
  });

  it("is the whole frame for an absent subject and round-trips", () => {
    const empty = emptyRle(3, 4);
    expect(rleArea(complementRle(empty))).toBe(12);
    expect(complementRle(complementRle(empty))).toEqual(empty);
  });

  it("caches per frame and recomputes when the mask changes", () => {
    const cache = new ComplementCache();
    const a = maskRle(2, 2, [[0, 0]]);
    const first = cache.get(3, a);
    expect(cache.get(3, a)).toBe(first);
    const b = maskRle(2, 2, [[1, 1]]);
    expect(cache.get(3, b)).not.toBe(first);
  });
});
