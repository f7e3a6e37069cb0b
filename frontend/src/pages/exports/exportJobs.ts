/**
 * Export jobs (annotation/apis/exports.py): what can be asked for per project kind, and how a
 * job's state reads on the page.
 */

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export type ExportJob = {
  id: number;
  project_id: number;
  dataset: "stc" | "fgqa";
  split: string;
  task: string;
  format: string;
  status: JobStatus;
  rows_done: number;
  rows_total: number | null;
  /** rows_done / rows_total, 0 … 1; null while the total is unknown. */
  progress: number | null;
  total_rows: number | null;
  split_version: number | null;
  report: { records?: number; excluded?: Record<string, number>; [key: string]: unknown } | null;
  error: string;
  attempts: number;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  download_url: string | null;
  expires_in: number | null;
  manifest?: { files?: { path: string; rows?: number; bytes?: number; sha256?: string }[] } | null;
};

export type SplitCounts = {
  videos: Record<string, number>;
  runs: {
    version: number;
    seed: number;
    val_fraction: number;
    test_fraction: number;
    deny_list_entries: number;
    counts: unknown;
    created_at: string;
  }[];
};

export type ExportRequest = { split: string; task: string; format: string };

export const FORMATS = ["jsonl", "parquet"] as const;

/** Splits and tasks a project of this kind can export (annotation/services/exports.py). */
export function exportOptions(kind: "stc" | "fgqa"): { splits: string[]; tasks: string[] } {
  return kind === "stc"
    ? { splits: ["train", "val", "test"], tasks: ["all", "rcap", "rtloc", "rdcap"] }
    : { splits: ["train", "test"], tasks: ["all"] };
}

export const TASK_LABELS: Record<string, string> = {
  all: "All (RCap, RTLoc, RDCap)",
  rcap: "RCap (captioning)",
  rtloc: "RTLoc (temporal localization)",
  rdcap: "RDCap (dense captioning)",
};

export function isActive(job: Pick<ExportJob, "status">): boolean {
  return job.status === "queued" || job.status === "running";
}

/** The progress bar value (0 … 100) or null while the total is not known yet. */
export function progressPercent(job: Pick<ExportJob, "status" | "progress">): number | null {
  if (job.status === "succeeded") return 100;
  if (job.progress === null || !Number.isFinite(job.progress)) return null;
  return Math.max(0, Math.min(100, Math.round(job.progress * 1000) / 10));
}

/** One line about where the job is. */
export function progressText(
  job: Pick<ExportJob, "status" | "rows_done" | "rows_total" | "progress" | "total_rows">,
): string {
  const n = (v: number) => v.toLocaleString("en-US");
  switch (job.status) {
    case "queued":
      return "Waiting for an export worker…";
    case "running":
      return job.rows_total
        ? `${n(job.rows_done)} of ${n(job.rows_total)} rows (${progressPercent(job)} %)`
        : `${n(job.rows_done)} rows written…`;
    case "succeeded":
      return `Done: ${n(job.total_rows ?? job.rows_done)} rows`;
    case "failed":
      return "Failed";
    case "cancelled":
      return "Cancelled";
  }
}

/** What the job exports, in words ("STC test · RTLoc · parquet"). */
export function jobTitle(job: Pick<ExportJob, "dataset" | "split" | "task" | "format">): string {
  const names: Record<string, string> = { all: "all tasks", rcap: "RCap", rtloc: "RTLoc", rdcap: "RDCap" };
  const task = job.dataset === "stc" ? ` · ${names[job.task] ?? job.task}` : "";
  return `${job.dataset.toUpperCase()} ${job.split}${task} · ${job.format}`;
}

/** Poll while any job is queued or running: every second at first, slower for long jobs. */
export function pollInterval(jobs: readonly ExportJob[] | undefined, now = Date.now()): number | false {
  const active = (jobs ?? []).filter(isActive);
  if (active.length === 0) return false;
  const newest = Math.max(...active.map((j) => Date.parse(j.created_at) || now));
  return now - newest > 60_000 ? 3000 : 1000;
}
