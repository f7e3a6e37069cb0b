import { daysBetween, formatCell, formatSeconds, funnelBars, reasonsChart, throughputChart } from "./tables";

describe("throughputChart", () => {
  it("adds kinds up per annotator and day and fills days without work", () => {
    const chart = throughputChart({
      columns: ["date", "annotator", "kind", "tasks", "gold"],
      rows: [
        { date: "2026-11-01", annotator: "bob", kind: "select", tasks: 2, gold: 0 },
        { date: "2026-11-01", annotator: "bob", kind: "caption", tasks: 3, gold: 1 },
        { date: "2026-11-01", annotator: "alice", kind: "caption", tasks: 1, gold: 0 },
        { date: "2026-11-03", annotator: "alice", kind: "select", tasks: 4, gold: 0 },
      ],
    });
    expect(chart.annotators).toEqual(["alice", "bob"]);
    expect(chart.data).toEqual([
      { date: "2026-11-01", alice: 1, bob: 5 },
      { date: "2026-11-02", alice: 0, bob: 0 },
      { date: "2026-11-03", alice: 4, bob: 0 },
    ]);
  });

  it("is empty without rows", () => {
    expect(throughputChart(undefined)).toEqual({ data: [], annotators: [] });
  });
});

describe("reasonsChart", () => {
  it("stacks stages per reason, most given first", () => {
    const chart = reasonsChart({
      columns: ["stage", "reason", "count"],
      rows: [
        { stage: "fgqa_review", reason: "other", count: 1 },
        { stage: "review", reason: "mask_quality", count: 2 },
        { stage: "review", reason: "other", count: 2 },
      ],
    });
    expect(chart.stages).toEqual(["fgqa_review", "review"]);
    expect(chart.data).toEqual([
      { reason: "Other", total: 3, fgqa_review: 1, review: 2 },
      { reason: "Mask quality", total: 2, fgqa_review: 0, review: 2 },
    ]);
  });
});

describe("funnelBars", () => {
  it("labels the stages in order", () => {
    expect(
      funnelBars({
        columns: ["stage", "count"],
        rows: [
          { stage: "videos_ingested", count: 4 },
          { stage: "accepted", count: 1 },
        ],
      }),
    ).toEqual([
      { stage: "videos_ingested", label: "Videos ingested", count: 4 },
      { stage: "accepted", label: "Accepted", count: 1 },
    ]);
  });
});

describe("cells", () => {
  it("formats durations, rates, datetimes and labels", () => {
    expect(formatSeconds(42.4)).toBe("42 s");
    expect(formatSeconds(185)).toBe("3 min 05 s");
    expect(formatSeconds(7260)).toBe("2 h 01 min");
    expect(formatCell("median_active_seconds", 90)).toBe("1 min 30 s");
    expect(formatCell("rejection_rate", 0.25)).toBe("25.0 %");
    expect(formatCell("count", 12345)).toBe("12,345");
    expect(formatCell("oldest_open_at", "2026-11-30T10:11:12.123456Z")).toBe("2026-11-30 10:11:12");
    expect(formatCell("alive", true)).toBe("yes");
    expect(formatCell("mean_score", null)).toBe("—");
    expect(formatCell("reason", "wrong_object")).toBe("Wrong object");
    expect(formatCell("annotator", "<b>x</b>")).toBe("<b>x</b>");
  });

  it("lists days inclusively", () => {
    expect(daysBetween("2026-02-27", "2026-03-01")).toEqual(["2026-02-27", "2026-02-28", "2026-03-01"]);
  });
});
