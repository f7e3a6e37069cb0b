import { exportOptions, jobTitle, pollInterval, progressPercent, progressText, type ExportJob } from "./exportJobs";

const job = (over: Partial<ExportJob>): ExportJob => ({
  id: 1,
  project_id: 1,
  dataset: "stc",
  split: "test",
  task: "all",
  format: "jsonl",
  status: "queued",
  rows_done: 0,
  rows_total: null,
  progress: null,
  total_rows: null,
  split_version: null,
  report: null,
  error: "",
  attempts: 0,
  created_by: "admin",
  created_at: "2026-11-30T10:00:00Z",
  started_at: null,
  finished_at: null,
  download_url: null,
  expires_in: null,
  ...over,
});

describe("export jobs", () => {
  it("offer the splits and tasks of the project kind", () => {
    expect(exportOptions("stc")).toEqual({ splits: ["train", "val", "test"], tasks: ["all", "rcap", "rtloc", "rdcap"] });
    expect(exportOptions("fgqa")).toEqual({ splits: ["train", "test"], tasks: ["all"] });
  });

  it("describe progress", () => {
    expect(progressText(job({}))).toMatch(/Waiting/);
    expect(progressText(job({ status: "running", rows_done: 1500, rows_total: 6000, progress: 0.25 }))).toBe(
      "1,500 of 6,000 rows (25 %)",
    );
    expect(progressText(job({ status: "running", rows_done: 10 }))).toBe("10 rows written…");
    expect(progressText(job({ status: "succeeded", rows_done: 5, total_rows: 42 }))).toBe("Done: 42 rows");
    expect(progressPercent(job({ status: "running", progress: 0.3333 }))).toBe(33.3);
    expect(progressPercent(job({ status: "running", progress: null }))).toBeNull();
    expect(progressPercent(job({ status: "succeeded", progress: null }))).toBe(100);
  });

  it("name the job", () => {
    expect(jobTitle(job({ task: "rtloc", format: "parquet" }))).toBe("STC test · RTLoc · parquet");
    expect(jobTitle(job({ dataset: "fgqa", split: "train" }))).toBe("FGQA train · jsonl");
  });

  it("poll only while a job is active", () => {
    const now = Date.parse("2026-11-30T10:00:30Z");
    expect(pollInterval([job({ status: "succeeded" })], now)).toBe(false);
    expect(pollInterval(undefined, now)).toBe(false);
    expect(pollInterval([job({ status: "running" })], now)).toBe(1000);
    expect(pollInterval([job({ status: "running" })], now + 120_000)).toBe(3000);
  });
});
