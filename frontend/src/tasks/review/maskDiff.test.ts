import { formatRuns, frameRuns, iouPoints, iouSummary, worstFrames, type MaskDiff } from "./maskDiff";

const diff: MaskDiff = {
  from: 1,
  to: 2,
  frames: 6,
  iou: [1, 0.5, 1, 0, null, 0.9],
  mean_iou: 0.68,
  changed_frames: [1, 3, 4, 5],
  area_from: [0, 100, 50, 40, 10],
  area_to: [0, 80, 50, 0, 20, 30],
  prompts_from: 1,
  prompts_to: 3,
};

describe("iouPoints", () => {
  it("gives one point per frame with the areas and a note", () => {
    const points = iouPoints(diff);
    expect(points).toHaveLength(6);
    expect(points[0]).toEqual({ frame: 0, iou: 1, areaFrom: 0, areaTo: 0, note: "absent in both" });
    expect(points[1]?.note).toBe("IoU 0.500");
    expect(points[2]?.note).toBe("unchanged");
    expect(points[3]?.note).toBe("subject removed");
    expect(points[4]).toEqual({ frame: 4, iou: null, areaFrom: 10, areaTo: 20, note: "not in the newer revision" });
    expect(points[5]).toEqual({ frame: 5, iou: 0.9, areaFrom: null, areaTo: 30, note: "IoU 0.900" });
  });
});

describe("iouSummary", () => {
  it("counts changed and missing frames and finds the worst", () => {
    const s = iouSummary(iouPoints(diff));
    expect(s.frames).toBe(6);
    expect(s.changed).toBe(4);
    expect(s.missing).toBe(1);
    expect(s.mean).toBeCloseTo((1 + 0.5 + 1 + 0 + 0.9) / 5, 10);
    expect(s.min).toEqual({ frame: 3, iou: 0 });
    expect(s.disappeared).toEqual([3]);
    expect(s.appeared).toEqual([]);
  });

  it("has no mean for an empty diff", () => {
    expect(iouSummary([])).toMatchObject({ frames: 0, mean: null, min: null });
  });
});

describe("worstFrames", () => {
  it("lists missing frames first, then the lowest IoU", () => {
    expect(worstFrames(iouPoints(diff), 3).map((p) => p.frame)).toEqual([4, 3, 1]);
  });
});

describe("frame runs", () => {
  it("groups consecutive frames", () => {
    expect(frameRuns([7, 3, 4, 5, 12, 6])).toEqual([
      [3, 7],
      [12, 12],
    ]);
    expect(formatRuns([1, 2, 3, 9])).toBe("1–3, 9");
    expect(formatRuns([1, 3, 5, 7], 2)).toBe("1, 3, … (2 more)");
  });
});
