import {
  assignObjectColors,
  cssRgba,
  hexToRgb,
  objectColor,
  PALETTE,
  readableTextColor,
  relativeLuminance,
} from "./colors";

function lab([r, g, b]: [number, number, number]): [number, number, number] {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const [R, G, B] = [lin(r), lin(g), lin(b)];
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const X = (0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.95047;
  const Y = 0.2126 * R + 0.7152 * G + 0.0722 * B;
  const Z = (0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.08883;
  return [116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))];
}
const deltaE = (a: string, b: string) => {
  const [p, q] = [lab(hexToRgb(a)), lab(hexToRgb(b))];
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
};
function minDistance(colors: readonly string[]): number {
  let min = Infinity;
  for (let i = 0; i < colors.length; i++)
    for (let j = i + 1; j < colors.length; j++) min = Math.min(min, deltaE(colors[i]!, colors[j]!));
  return min;
}

describe("PALETTE", () => {
  it("has twenty distinct colours, far apart in CIELAB", () => {
    expect(new Set(PALETTE).size).toBe(20);
    expect(minDistance(PALETTE.slice(0, 10))).toBeGreaterThan(43);
    expect(minDistance(PALETTE)).toBeGreaterThan(28);
  });

  it("keeps every colour light enough for dark footage and saturated enough to stand out", () => {
    for (const hex of PALETTE) {
      const [L, a, b] = lab(hexToRgb(hex));
      expect(L).toBeGreaterThanOrEqual(55);
      expect(L).toBeLessThanOrEqual(85);
      expect(Math.hypot(a, b)).toBeGreaterThanOrEqual(40);
    }
  });
});

describe("objectColor", () => {
  it("depends on the id only", () => {
    expect(objectColor(7)).toEqual(objectColor(7));
    expect(objectColor(0)).toEqual({ hex: "#3399FF", rgb: [51, 153, 255], slot: 0 });
    expect(objectColor(21).slot).toBe(1);
    expect(objectColor(-1).slot).toBe(19);
  });

  it("gives consecutive ids (masklets created together) different colours", () => {
    const hexes = Array.from({ length: 20 }, (_, i) => objectColor(1040 + i).hex);
    expect(new Set(hexes).size).toBe(20);
  });
});

describe("assignObjectColors", () => {
  it("keeps each object's own colour when there is no clash", () => {
    const colors = assignObjectColors([12, 13, 15]);
    expect(colors.get(12)).toEqual(objectColor(12));
    expect(colors.get(13)).toEqual(objectColor(13));
    expect(colors.get(15)).toEqual(objectColor(15));
  });

  it("moves the later of two clashing ids to the next free slot, whatever the order given", () => {
    const a = assignObjectColors([25, 5, 6]);
    const b = assignObjectColors([6, 25, 5]);
    expect(a).toEqual(b);
    expect(a.get(5)?.slot).toBe(5);
    expect(a.get(6)?.slot).toBe(6);
    expect(a.get(25)?.slot).toBe(7);
  });

  it("gives up to twenty objects twenty different colours", () => {
    const ids = Array.from({ length: 20 }, (_, i) => i * 20 + 3); // all want slot 3
    const slots = new Set([...assignObjectColors(ids).values()].map((c) => c.slot));
    expect(slots.size).toBe(20);
  });

  it("still colours a twenty-first object (sharing a slot)", () => {
    const ids = Array.from({ length: 21 }, (_, i) => i);
    expect(assignObjectColors(ids).size).toBe(21);
  });
});

describe("helpers", () => {
  it("parse and print colours", () => {
    expect(hexToRgb("#0df20d")).toEqual([13, 242, 13]);
    expect(() => hexToRgb("red")).toThrow(/Not a #rrggbb/);
    expect(cssRgba([1, 2, 3], 0.5)).toBe("rgba(1, 2, 3, 0.5)");
  });

  it("choose readable label text", () => {
    expect(relativeLuminance([0, 0, 0])).toBe(0);
    expect(relativeLuminance([255, 255, 255])).toBeCloseTo(1, 10);
    expect(readableTextColor([255, 255, 255])).toBe("#000000");
    expect(readableTextColor([0, 0, 0])).toBe("#ffffff");
    for (const hex of PALETTE) expect(readableTextColor(hexToRgb(hex))).toBe("#000000");
  });
});
