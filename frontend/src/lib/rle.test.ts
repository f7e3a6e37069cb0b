import fixtures from "@/testing/fixtures/rle-pycocotools.json";

import {
  type BinaryMask,
  decodeCounts,
  decodeRle,
  emptyRle,
  encodeCounts,
  encodeMask,
  maskToRgba,
  RleError,
  rleArea,
  rleBbox,
  rleIsEmpty,
  rleRuns,
} from "./rle";

type Fixture = {
  name: string;
  size: [number, number];
  counts: string;
  area: number;
  bbox: [number, number, number, number];
  rows?: string[];
  spans?: [number, number, number][];
};

const cases = fixtures.cases as Fixture[];

/** The expected mask of a fixture, built from its row strings or its row spans. */
function expected(c: Fixture): BinaryMask {
  const [height, width] = c.size;
  const data = new Uint8Array(width * height);
  if (c.rows) {
    c.rows.forEach((row, y) => {
      for (let x = 0; x < width; x++) data[y * width + x] = row[x] === "1" ? 1 : 0;
    });
  } else {
    for (const [y, x0, x1] of c.spans ?? []) data.fill(1, y * width + x0, y * width + x1);
  }
  return { width, height, data };
}

describe("against pycocotools", () => {
  it("has fixtures for every interesting shape", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  describe.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const rle = { size: c.size, counts: c.counts };

    it("decodes to the same pixels", () => {
      const mask = decodeRle(rle);
      expect(mask.width).toBe(c.size[1]);
      expect(mask.height).toBe(c.size[0]);
      expect(Array.from(mask.data)).toEqual(Array.from(expected(c).data));
    });

    it("encodes to the same string", () => {
      expect(encodeMask(expected(c))).toEqual({ size: c.size, counts: c.counts });
    });

    it("has the same area and bbox", () => {
      expect(rleArea(rle)).toBe(c.area);
      expect(rleBbox(rle)).toEqual(c.bbox);
      expect(rleIsEmpty(rle)).toBe(c.area === 0);
    });

    it("round-trips the runs", () => {
      expect(encodeCounts(rleRuns(rle))).toBe(c.counts);
    });
  });
});

describe("decodeCounts / encodeCounts", () => {
  it("reads a count split over several 5-bit groups", () => {
    // 921600 needs 20 bits and bit 19 is set, which would read as the sign of a fourth group:
    // pycocotools writes a fifth. Strings from mask.encode of empty 720×1280 and 480×848 masks.
    expect(encodeCounts([921600])).toBe("PPTl0");
    expect(Array.from(decodeCounts("PPTl0"))).toEqual([921600]);
    expect(emptyRle(480, 848).counts).toBe("P`]<");
  });

  it("stores counts from index 3 on as a difference that may be negative", () => {
    const runs = [5, 100, 7, 3, 2, 250];
    const s = encodeCounts(runs);
    expect(Array.from(decodeCounts(s))).toEqual(runs);
    // Index 3 stores 3 - 100 = -97, which needs a sign bit: more than one character.
    expect(Array.from(decodeCounts(encodeCounts([0, 1, 0])))).toEqual([0, 1, 0]);
  });

  it("round-trips random run lists", () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    for (let trial = 0; trial < 200; trial++) {
      const runs = Array.from({ length: 1 + (next() % 30) }, () => next() % (trial < 100 ? 40 : 3_000_000));
      expect(Array.from(decodeCounts(encodeCounts(runs)))).toEqual(runs);
    }
  });

  it("rejects characters outside the alphabet", () => {
    expect(() => decodeCounts("0 1")).toThrow(RleError);
    expect(() => decodeCounts("0\u00e91")).toThrow(/invalid character at position 1/);
  });

  it("rejects a string that ends inside a number", () => {
    // "P" = 48 + 32: the continuation bit is set on the last character.
    expect(() => decodeCounts("P")).toThrow(/middle of a number/);
  });

  it("rejects runs that do not cover the image", () => {
    expect(() => decodeCounts(encodeCounts([3, 2]), 6)).toThrow(/cover 5 pixels but the image has 6/);
    expect(() => rleArea({ size: [2, 3], counts: encodeCounts([3, 2]) })).toThrow(RleError);
  });

  it("rejects negative runs", () => {
    // Delta -10 from a base of 5 at index 3.
    expect(() => decodeCounts(encodeCounts([1, 5, 1, -5]))).toThrow(/negative length/);
  });

  it("rejects a malformed size", () => {
    expect(() => decodeRle({ size: [2] as unknown as [number, number], counts: "2" })).toThrow(
      /size must be \[height, width\]/,
    );
    expect(() => decodeRle({ size: [-1, 2], counts: "" })).toThrow(RleError);
  });
});

describe("decodeRle", () => {
  it("walks down columns first", () => {
    // 2 rows × 3 columns; runs: 1 zero, 2 ones (pixel (0,1) and (1,0) in [y][x] terms), 3 zeros.
    const mask = decodeRle({ size: [2, 3], counts: encodeCounts([1, 2, 3]) });
    expect(Array.from(mask.data)).toEqual([0, 1, 0, 1, 0, 0]);
  });

  it("handles a mask that starts with a set pixel (empty first run)", () => {
    const mask = decodeRle({ size: [2, 2], counts: encodeCounts([0, 1, 3]) });
    expect(Array.from(mask.data)).toEqual([1, 0, 0, 0]);
  });
});

describe("encodeMask", () => {
  it("treats any non-zero byte as set", () => {
    const mask = { width: 2, height: 1, data: Uint8Array.from([0, 255]) };
    expect(Array.from(rleRuns(encodeMask(mask)))).toEqual([1, 1]);
  });

  it("refuses data of the wrong length", () => {
    expect(() => encodeMask({ width: 2, height: 2, data: new Uint8Array(3) })).toThrow(RleError);
  });
});

describe("emptyRle", () => {
  it("is one run of zeros, as SA-V stores an absent subject", () => {
    const rle = emptyRle(480, 848);
    expect(Array.from(rleRuns(rle))).toEqual([480 * 848]);
    expect(rleArea(rle)).toBe(0);
    expect(rleBbox(rle)).toEqual([0, 0, 0, 0]);
    expect(rleIsEmpty(rle)).toBe(true);
  });
});

describe("maskToRgba", () => {
  it("paints set pixels in the colour and leaves the rest transparent", () => {
    const rgba = maskToRgba({ width: 2, height: 1, data: Uint8Array.from([1, 0]) }, [10, 20, 30], 128);
    expect(Array.from(rgba)).toEqual([10, 20, 30, 128, 0, 0, 0, 0]);
  });
});
