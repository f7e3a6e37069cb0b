import { emptyRle } from "@/lib/rle";

import { layersOf, maskAlphas } from "./layers";
import { frameAtX, runsOf, tickSeconds, xOfFrame } from "./timeline";
import { clampView, fitView, panBy, stageTransform, toFrame, zoomAt } from "./view";

const frame = { width: 640, height: 360 };
const viewport = { width: 1280, height: 900 };

describe("view", () => {
  it("fits the frame and maps the viewport back to frame pixels", () => {
    const v = fitView(frame);
    const t = stageTransform(v, frame, viewport);
    expect(t.scale).toBe(2);
    expect(t.x).toBe(0);
    expect(t.y).toBe((900 - 720) / 2);
    expect(toFrame(0, 90, v, frame, viewport)).toEqual([0, 0]);
    expect(toFrame(1280, 810, v, frame, viewport)).toEqual([640, 360]);
  });

  it("zooms about the cursor: the frame point under it stays put", () => {
    const v = fitView(frame);
    const before = toFrame(400, 300, v, frame, viewport);
    const z = zoomAt(v, 2, 400, 300, frame, viewport);
    expect(z.zoom).toBe(2);
    const after = toFrame(400, 300, z, frame, viewport);
    expect(after[0]).toBeCloseTo(before[0], 6);
    expect(after[1]).toBeCloseTo(before[1], 6);
  });

  it("keeps the zoom within bounds and the frame on screen", () => {
    expect(zoomAt(fitView(frame), 0.1, 0, 0, frame, viewport).zoom).toBe(1);
    expect(zoomAt(fitView(frame), 1000, 0, 0, frame, viewport).zoom).toBe(16);
    const zoomed = { zoom: 4, cx: 320, cy: 180 };
    const far = panBy(zoomed, 1e6, 1e6, frame, viewport);
    const t = stageTransform(far, frame, viewport);
    expect(t.x).toBeLessThanOrEqual(0.0001); // the frame's left edge is not pulled inside the viewport
    expect(clampView({ zoom: 1, cx: 0, cy: 0 }, frame, viewport)).toEqual(fitView(frame));
  });
});

describe("timeline", () => {
  it("maps x to frames and back at both ends", () => {
    expect(frameAtX(0, 600, 60)).toBe(0);
    expect(frameAtX(9.99, 600, 60)).toBe(0);
    expect(frameAtX(10, 600, 60)).toBe(1);
    expect(frameAtX(600, 600, 60)).toBe(59);
    expect(frameAtX(-5, 600, 60)).toBe(0);
    expect(xOfFrame(30, 600, 60)).toBe(300);
  });

  it("groups per-frame visibility into runs, unknown frames apart", () => {
    expect(runsOf([true, true, false, null, undefined, true])).toEqual([
      { start: 0, end: 1, value: true },
      { start: 2, end: 2, value: false },
      { start: 3, end: 4, value: null },
      { start: 5, end: 5, value: true },
    ]);
    expect(runsOf([], 3)).toEqual([{ start: 0, end: 2, value: null }]);
  });

  it("spaces time labels at least the given pixels apart", () => {
    expect(tickSeconds(10, 1000)).toBe(1);
    expect(tickSeconds(600, 1000)).toBe(60);
  });
});

describe("mask layers", () => {
  const rle = emptyRle(2, 2);
  it("fills every mask in filled mode and draws only outlines in outline mode", () => {
    expect(maskAlphas("filled", false).fillAlpha).toBeGreaterThan(0);
    expect(maskAlphas("outline", true)).toEqual({ fillAlpha: 0, outlineAlpha: 1 });
  });

  it("puts the highlighted object on top, dims the rest, and skips objects with no mask", () => {
    const layers = layersOf(
      [
        { id: 1, rle, color: [1, 1, 1] },
        { id: 2, rle, color: [2, 2, 2] },
        { id: 3, rle: null },
      ],
      "highlight",
      1,
    );
    expect(layers.map((l) => l.color)).toEqual([
      [2, 2, 2],
      [1, 1, 1],
    ]);
    expect(layers[0]?.fillAlpha).toBe(0);
    expect(layers[1]?.fillAlpha).toBeGreaterThan(0);
  });
});
