/**
 * A masklet's history (GET /api/masklets/<id>/history, annotation/selectors/history.py) as one
 * timeline: who changed what, when, oldest first.
 */
import type { CaptionSegmentPayload } from "@/types/api";

import type { ServerWordOp } from "./textDiff";

export type MaskRevisionRow = {
  id: number;
  number: number;
  author: string | null;
  engine: string;
  model_version: string;
  prompts: number;
  job_id: number | null;
  parent: number | null;
  note: string;
  first_visible_frame: number | null;
  last_visible_frame: number | null;
  current: boolean;
  created_at: string;
};

export type CaptionRevisionRow = {
  id: number;
  number: number;
  author: string | null;
  task_id: number | null;
  task_kind: string | null;
  masklet_revision: number;
  needs_recheck: boolean;
  segments: CaptionSegmentPayload[];
  created_at: string;
};

export type ReviewRow = {
  id: number;
  task_id: number;
  reviewer: string | null;
  decision: "accept" | "reject";
  reasons: string[];
  comment: string;
  masklet_revision: number | null;
  caption_revision: number | null;
  rework_task: { id: number; kind: string; status: string; assignee: string | null } | null;
  created_at: string;
};

export type TaskRow = {
  id: number;
  kind: string;
  status: string;
  is_rework: boolean;
  assignee: string | null;
  submitted_by: string | null;
  submitted_at: string | null;
  active_seconds: number;
  created_at: string;
};

export type MaskletHistory = {
  masklet: {
    id: number;
    video_id: number;
    object_id: number;
    category: string;
    status: string;
    current_revision: number | null;
  };
  mask_revisions: MaskRevisionRow[];
  caption_revisions: CaptionRevisionRow[];
  reviews: ReviewRow[];
  tasks: TaskRow[];
};

/** What review and rework payloads carry as `history` (masklet_history_summary). */
export type HistorySummary = { mask_revisions: number; caption_revisions: number; reviews: ReviewRow[] };

export type CaptionDiffRow = {
  status: "unchanged" | "changed" | "removed" | "added";
  start_frame: number;
  end_frame: number;
  out_of_frame: boolean;
  before: string | null;
  after: string | null;
  words: ServerWordOp[];
};

export type CaptionDiff = {
  from: number;
  to: number;
  segments: CaptionDiffRow[];
  summary: Record<CaptionDiffRow["status"], number>;
};

export type HistoryEvent = {
  key: string;
  at: string;
  who: string | null;
  kind: "mask" | "captions" | "review" | "task";
  title: string;
  detail: string;
  /** Rejections and flags stand out. */
  tone: "normal" | "good" | "bad" | "warn";
  maskRevision?: number;
  captionRevision?: number;
};

const KIND_NAMES: Record<string, string> = {
  select: "pass 1",
  caption: "pass 2",
  review: "review",
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function frames(first: number | null, last: number | null): string {
  return first === null || last === null ? "empty on every frame" : `first visible frame ${first}, last ${last}`;
}

/** Every mask revision, caption revision and review, oldest first (ties: masks, captions, reviews). */
export function historyEvents(history: MaskletHistory, reasonLabel: (code: string) => string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const r of history.mask_revisions) {
    events.push({
      key: `m${r.id}`,
      at: r.created_at,
      who: r.author,
      kind: "mask",
      title: `Mask revision ${r.number}${r.current ? " (current)" : ""}`,
      detail: [
        r.parent ? `from revision ${r.parent}` : "first mask",
        `${r.engine}${r.prompts ? `, ${plural(r.prompts, "click")}` : ""}`,
        frames(r.first_visible_frame, r.last_visible_frame),
        r.note,
      ]
        .filter(Boolean)
        .join(" · "),
      tone: "normal",
      maskRevision: r.number,
    });
  }
  for (const c of history.caption_revisions) {
    const typed = c.segments.filter((s) => !s.out_of_frame).length;
    const source = c.task_kind ? (KIND_NAMES[c.task_kind] ?? c.task_kind) : "";
    events.push({
      key: `c${c.id}`,
      at: c.created_at,
      who: c.author,
      kind: "captions",
      title: `Captions revision ${c.number}${c.needs_recheck ? " — needs re-check" : ""}`,
      detail: [`${plural(typed, "caption")}`, `on mask revision ${c.masklet_revision}`, source && `in ${source}`]
        .filter(Boolean)
        .join(" · "),
      tone: c.needs_recheck ? "warn" : "normal",
      captionRevision: c.number,
    });
  }
  for (const r of history.reviews) {
    const rework = r.rework_task
      ? `rework (${KIND_NAMES[r.rework_task.kind] ?? r.rework_task.kind}) for ${r.rework_task.assignee ?? "anyone"}: ${r.rework_task.status}`
      : "";
    events.push({
      key: `r${r.id}`,
      at: r.created_at,
      who: r.reviewer,
      kind: "review",
      title: r.decision === "accept" ? "Accepted in review" : "Rejected in review",
      detail: [
        r.reasons.map(reasonLabel).join(", "),
        r.comment && `“${r.comment}”`,
        r.masklet_revision !== null ? `mask ${r.masklet_revision}` : "",
        r.caption_revision !== null ? `captions ${r.caption_revision}` : "",
        rework,
      ]
        .filter(Boolean)
        .join(" · "),
      tone: r.decision === "accept" ? "good" : "bad",
      maskRevision: r.masklet_revision ?? undefined,
      captionRevision: r.caption_revision ?? undefined,
    });
  }
  const order = { mask: 0, captions: 1, review: 2, task: 3 };
  return events.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || order[a.kind] - order[b.kind]);
}

/** The default pair to compare: the last two revisions (or the only one with itself). */
export function defaultPair(numbers: readonly number[]): [from: number, to: number] | null {
  if (numbers.length === 0) return null;
  const sorted = [...numbers].sort((a, b) => a - b);
  const last = sorted[sorted.length - 1] as number;
  return [sorted.length > 1 ? (sorted[sorted.length - 2] as number) : last, last];
}
