import {
  csvHref,
  dashboardApiPath,
  dashboardPath,
  filtersProblem,
  filtersQuery,
  lastDays,
  NO_FILTERS,
  parseFilters,
} from "./filters";

describe("dashboard filters", () => {
  it("round-trip through the query string", () => {
    const f = { from: "2026-11-01", to: "2026-11-30", annotator: 7 };
    expect(filtersQuery(f)).toBe("from=2026-11-01&to=2026-11-30&annotator=7");
    expect(parseFilters(`?${filtersQuery(f)}`)).toEqual(f);
  });

  it("leave out what is not set", () => {
    expect(filtersQuery(NO_FILTERS)).toBe("");
    expect(filtersQuery({ from: null, to: "2026-01-02", annotator: null })).toBe("to=2026-01-02");
  });

  it("ignore malformed values in the page URL", () => {
    expect(parseFilters("from=2026-02-30&to=yesterday&annotator=-3")).toEqual(NO_FILTERS);
    expect(parseFilters("annotator=12abc&from=2026-02-28")).toEqual({ from: "2026-02-28", to: null, annotator: null });
  });

  it("report an end before the start", () => {
    expect(filtersProblem({ from: "2026-03-02", to: "2026-03-01", annotator: null })).toMatch(/before/);
    expect(filtersProblem({ from: "2026-03-01", to: "2026-03-01", annotator: null })).toBeNull();
  });

  it("build the page and API paths", () => {
    expect(dashboardPath(3, NO_FILTERS)).toBe("/projects/3/dashboard");
    expect(dashboardPath(3, { from: "2026-01-01", to: null, annotator: 2 })).toBe(
      "/projects/3/dashboard?from=2026-01-01&annotator=2",
    );
    expect(dashboardApiPath(3, { from: null, to: null, annotator: 2 })).toBe("/projects/3/dashboard?annotator=2");
  });

  it("build CSV links with the same filters", () => {
    expect(csvHref(4, "throughput", NO_FILTERS)).toBe("/api/projects/4/dashboard/throughput?format=csv");
    expect(csvHref(4, "gold_accuracy", { from: "2026-01-01", to: "2026-01-31", annotator: 9 })).toBe(
      "/api/projects/4/dashboard/gold_accuracy?format=csv&from=2026-01-01&to=2026-01-31&annotator=9",
    );
  });

  it("compute the last N UTC days", () => {
    expect(lastDays(7, new Date("2026-03-03T23:30:00Z"))).toEqual({
      from: "2026-02-25",
      to: "2026-03-03",
      annotator: null,
    });
  });
});
