/**
 * The dashboard JSON (annotation/selectors/dashboard.py) and how its tables become charts and
 * readable cells.
 */

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;
export type Table = { columns: string[]; rows: Row[] };

export type DashboardData = {
  generated_at: string;
  filters: { project: number; from: string | null; to: string | null; annotator: number | null };
  tables: Record<string, Table>;
};

/** Table names in the order the page shows them, with their headings. */
export const TABLE_TITLES: Record<string, string> = {
  funnel: "STC progress per stage",
  fgqa_funnel: "FGQA progress per stage",
  throughput: "Throughput per annotator per day",
  active_time: "Active time per task",
  rejections: "Rejection rate",
  rejection_reasons: "Rejection reasons",
  gold_accuracy: "Gold accuracy per annotator",
  agreement: "Agreement (human baseline)",
  effort: "Effort per person",
  masklet_effort: "Clicks and propagation runs per masklet",
  queues: "Queues",
  jobs: "Background jobs",
  workers: "Tracking workers",
};

export const STAGE_LABELS: Record<string, string> = {
  videos_ingested: "Videos ingested",
  pass1_done: "Pass 1 done",
  pass1_skipped: "Pass 1 skipped",
  masklets: "Masklets selected",
  captioned: "Captioned",
  accepted: "Accepted",
  imported: "Imported",
  answered: "Answered",
  distractors_verified: "Distractors verified",
  rejected: "Rejected",
  benchmark: "Benchmark items",
  benchmark_accepted: "Benchmark accepted",
  review: "Masklet review",
  fgqa_review: "FGQA review",
};

export const REASON_LABELS: Record<string, string> = {
  mask_quality: "Mask quality",
  missing_action: "Missing action",
  inaccurate_caption: "Inaccurate caption",
  redundant_caption: "Redundant caption",
  wrong_object: "Wrong object",
  wrong_answer: "Wrong answer",
  ambiguous_answer: "Ambiguous answer",
  unanswerable: "Not answerable",
  other: "Other",
};

export const METRIC_LABELS: Record<string, string> = {
  rtloc_mean_recall: "RTLoc mean recall",
  fgqa_mbacc: "FGQA MBAcc",
  rdcap_soda_c: "RDCap SODA_c",
};

export function labelOf(value: string, labels: Record<string, string>): string {
  return labels[value] ?? value.replace(/_/g, " ");
}

const COLUMN_LABELS: Record<string, string> = {
  median_active_seconds: "Median active time",
  mean_active_seconds: "Mean active time",
  total_active_seconds: "Total active time",
  active_seconds: "Active time",
  oldest_open_age_seconds: "Oldest open waiting",
  oldest_open_at: "Oldest open since",
  seconds_since: "Last seen",
  last_seen_at: "Last seen at",
  oldest_at: "Oldest since",
  rework_open: "Rework open",
  mean_score: "Mean score",
  min_score: "Min score",
};

export function columnLabel(column: string): string {
  const known = COLUMN_LABELS[column];
  if (known) return known;
  const text = column.replace(/_seconds$/, "").replace(/_at$/, "").replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Seconds as "42 s", "3 min 05 s", "2 h 07 min". */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h < 48) return `${h} h ${String(m).padStart(2, "0")} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const RATE_COLUMNS = new Set(["rejection_rate", "mean_score", "min_score", "value"]);
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A cell as the table shows it (the CSV has the raw values). */
export function formatCell(column: string, value: Cell): string {
  if (value === null) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") {
    if (column === "seconds_since") return `${formatSeconds(value)} ago`;
    if (column.endsWith("_seconds")) return formatSeconds(value);
    if (RATE_COLUMNS.has(column)) return `${(value * 100).toFixed(1)} %`;
    if (Number.isInteger(value)) return value.toLocaleString("en-US");
    return value.toFixed(2);
  }
  if (ISO_DATETIME.test(value)) return value.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC").slice(0, 20).trim();
  if (column === "stage") return labelOf(value, STAGE_LABELS);
  if (column === "reason") return labelOf(value, REASON_LABELS);
  if (column === "metric") return labelOf(value, METRIC_LABELS);
  return value;
}

/** Every UTC day from `start` to `end` inclusive (YYYY-MM-DD). */
export function daysBetween(start: string, end: string): string[] {
  const out: string[] = [];
  const last = Date.parse(`${end}T00:00:00Z`);
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= last && out.length < 3660; t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

export type ThroughputChart = {
  /** One entry per day, with a task count per annotator (0 on days they did nothing). */
  data: Record<string, string | number>[];
  annotators: string[];
};

/**
 * The throughput table (date, annotator, kind, tasks, gold) as one bar group per day, one bar per
 * annotator, all kinds added up. Days without work between the first and last day are kept as
 * zeros so the time axis is honest.
 */
export function throughputChart(table: Table | undefined): ThroughputChart {
  const rows = table?.rows ?? [];
  const annotators = [...new Set(rows.map((r) => String(r.annotator ?? "—")))].sort();
  if (rows.length === 0) return { data: [], annotators };
  const dates = rows.map((r) => String(r.date)).sort();
  const byDay = new Map<string, Record<string, string | number>>();
  for (const day of daysBetween(dates[0] as string, dates[dates.length - 1] as string)) {
    byDay.set(day, Object.fromEntries([["date", day], ...annotators.map((a) => [a, 0])]));
  }
  for (const r of rows) {
    const entry = byDay.get(String(r.date));
    if (!entry) continue;
    const who = String(r.annotator ?? "—");
    entry[who] = (entry[who] as number) + Number(r.tasks ?? 0);
  }
  return { data: [...byDay.values()], annotators };
}

export type ReasonsChart = { data: Record<string, string | number>[]; stages: string[] };

/** Rejection reasons (stage, reason, count) as one bar per reason, stacked by stage, most given first. */
export function reasonsChart(table: Table | undefined): ReasonsChart {
  const rows = table?.rows ?? [];
  const stages = [...new Set(rows.map((r) => String(r.stage)))].sort();
  const byReason = new Map<string, Record<string, string | number>>();
  for (const r of rows) {
    const reason = String(r.reason);
    const entry =
      byReason.get(reason) ??
      Object.fromEntries([["reason", labelOf(reason, REASON_LABELS)], ["total", 0], ...stages.map((s) => [s, 0])]);
    entry[String(r.stage)] = (entry[String(r.stage)] as number) + Number(r.count ?? 0);
    entry.total = (entry.total as number) + Number(r.count ?? 0);
    byReason.set(reason, entry);
  }
  const data = [...byReason.values()].sort(
    (a, b) => (b.total as number) - (a.total as number) || String(a.reason).localeCompare(String(b.reason)),
  );
  return { data, stages };
}

export type FunnelBar = { stage: string; label: string; count: number };

/** A funnel table (stage, count) as labelled bars, in the server's stage order. */
export function funnelBars(table: Table | undefined): FunnelBar[] {
  return (table?.rows ?? []).map((r) => ({
    stage: String(r.stage),
    label: labelOf(String(r.stage), STAGE_LABELS),
    count: Number(r.count ?? 0),
  }));
}
