/** What the pass-1 editor autosaves (the task draft) and how it reads it back. */
import type { Category } from "@/types/api";
import type { Box } from "@/types/geometry";

export type PromptRecord = { points: [number, number][]; labels: (0 | 1)[]; box: Box | null };

export type SelectDraft = {
  v: 1;
  /** Candidates (SA-V) accepted as objects of this video. */
  accepted: number[];
  /** Candidates rejected. */
  rejected: number[];
  /** Categories chosen here (masklet id → category). */
  categories: Record<string, Category>;
  /** Prompts sent, per masklet and frame, as the server merged them (for undo and display). */
  prompts: Record<string, Record<string, PromptRecord>>;
  /** Masklets refined since they were last tracked. */
  dirty: number[];
  /** Masklets tracked through the whole video in this task. */
  tracked: number[];
};

export const EMPTY_DRAFT: SelectDraft = { v: 1, accepted: [], rejected: [], categories: {}, prompts: {}, dirty: [], tracked: [] };

const CATEGORIES: readonly string[] = ["person", "animal", "object"];

const ids = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => Number.isInteger(x)) : []);

function isPromptRecord(v: unknown): v is PromptRecord {
  if (!v || typeof v !== "object") return false;
  const r = v as PromptRecord;
  return Array.isArray(r.points) && Array.isArray(r.labels) && r.points.length === r.labels.length && (r.box === null || Array.isArray(r.box));
}

/** A saved draft as the editor can use it; anything malformed is dropped, never thrown. */
export function parseDraft(data: unknown): SelectDraft {
  if (!data || typeof data !== "object") return EMPTY_DRAFT;
  const d = data as Partial<SelectDraft>;
  const categories: Record<string, Category> = {};
  if (d.categories && typeof d.categories === "object") {
    for (const [k, v] of Object.entries(d.categories)) if (CATEGORIES.includes(v)) categories[k] = v;
  }
  const prompts: SelectDraft["prompts"] = {};
  if (d.prompts && typeof d.prompts === "object") {
    for (const [id, frames] of Object.entries(d.prompts)) {
      if (!frames || typeof frames !== "object") continue;
      const clean: Record<string, PromptRecord> = {};
      for (const [k, rec] of Object.entries(frames)) if (isPromptRecord(rec)) clean[k] = rec;
      prompts[id] = clean;
    }
  }
  return {
    v: 1,
    accepted: ids(d.accepted),
    rejected: ids(d.rejected),
    categories,
    prompts,
    dirty: ids(d.dirty),
    tracked: ids(d.tracked),
  };
}

/** The prompts on a frame after adding a point or a box the way the server merges them. */
export function mergePrompt(before: PromptRecord | undefined, add: { point?: [number, number]; label?: 0 | 1; box?: Box | null }): PromptRecord {
  const rec: PromptRecord = before ? { points: [...before.points], labels: [...before.labels], box: before.box } : { points: [], labels: [], box: null };
  if (add.point && add.label !== undefined) {
    const dup = rec.points.some((p, i) => p[0] === add.point![0] && p[1] === add.point![1] && rec.labels[i] === add.label);
    if (!dup) {
      rec.points.push(add.point);
      rec.labels.push(add.label);
    }
  }
  if (add.box) rec.box = add.box;
  return rec;
}

/** The prompts on a frame with the last thing added taken back (points first, then the box). */
export function undoPrompt(rec: PromptRecord): PromptRecord | null {
  if (rec.points.length > 0) {
    const next = { points: rec.points.slice(0, -1), labels: rec.labels.slice(0, -1), box: rec.box };
    return next.points.length || next.box ? next : null;
  }
  return null;
}

export const without = (list: number[], id: number) => list.filter((x) => x !== id);
export const withId = (list: number[], id: number) => (list.includes(id) ? list : [...list, id]);
