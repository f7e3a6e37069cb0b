/**
 * Distractor verification of a benchmark question: keep, edit or drop each imported distractor,
 * checked as annotation/services/fgqa.py `fgqa_distractors_submit` checks it.
 */
import { normalizeCaption } from "@/lib/segments";

import { checkText, fold } from "./text";

export type DistractorAction = "keep" | "edit" | "drop";

export type DistractorDecision = { action: DistractorAction | null; text: string };

export type DistractorCheck = {
  /** One message (or null) per distractor, in order. */
  items: (string | null)[];
  /** A problem with the whole set (nothing kept). */
  form: string | null;
};

export function initialDecisions(imported: readonly string[], draft: unknown): DistractorDecision[] {
  const saved = parseDistractorDraft(draft, imported.length);
  return imported.map((text, i) => saved?.[i] ?? { action: null, text });
}

/** The text a decision keeps (null: dropped or undecided). */
export function keptText(original: string, decision: DistractorDecision): string | null {
  if (decision.action === "keep") return original;
  if (decision.action === "edit") return normalizeCaption(decision.text);
  return null;
}

export function checkDecisions(
  imported: readonly string[],
  decisions: readonly DistractorDecision[],
  answer: string,
): DistractorCheck {
  const items: (string | null)[] = [];
  const kept: string[] = [];
  let undecided = false;
  imported.forEach((original, i) => {
    const decision = decisions[i] ?? { action: null, text: original };
    const n = i + 1;
    if (decision.action === null) {
      undecided = true;
      items.push(`Distractor ${n}: choose keep, edit or drop.`);
      return;
    }
    if (decision.action === "drop") {
      items.push(null);
      return;
    }
    if (decision.action === "edit") {
      const problem = checkText(decision.text, `Distractor ${n}`);
      if (problem) {
        items.push(problem);
        return;
      }
    }
    const text = keptText(original, decision) as string;
    if (fold(text) === fold(answer)) {
      items.push(`Distractor ${n} is the same as the correct answer.`);
    } else if (kept.some((k) => fold(k) === fold(text))) {
      items.push(`Distractor ${n} repeats another distractor.`);
    } else {
      items.push(null);
    }
    kept.push(text);
  });
  const form =
    !undecided && kept.length === 0
      ? "Keep at least one distractor (a question with none cannot be a benchmark item)."
      : null;
  return { items, form };
}

export function hasProblems(check: DistractorCheck): boolean {
  return check.form !== null || check.items.some((m) => m !== null);
}

export function distractorBody(
  imported: readonly string[],
  decisions: readonly DistractorDecision[],
): { decisions: ({ action: "keep" | "drop" } | { action: "edit"; text: string })[] } {
  return {
    decisions: imported.map((original, i) => {
      const d = decisions[i];
      if (!d || d.action === null) throw new Error(`Distractor ${i + 1} has no decision.`);
      if (d.action === "edit") {
        const text = normalizeCaption(d.text);
        // An edit that changes nothing is a keep.
        return text === original ? { action: "keep" as const } : { action: "edit" as const, text };
      }
      return { action: d.action };
    }),
  };
}

function parseDistractorDraft(data: unknown, count: number): DistractorDecision[] | null {
  if (typeof data !== "object" || data === null) return null;
  const raw = (data as { decisions?: unknown }).decisions;
  if (!Array.isArray(raw) || raw.length !== count) return null;
  const out: DistractorDecision[] = [];
  for (const item of raw) {
    if (typeof item !== "object" || item === null) return null;
    const { action, text } = item as Record<string, unknown>;
    if (action !== null && action !== "keep" && action !== "edit" && action !== "drop") return null;
    if (typeof text !== "string") return null;
    out.push({ action, text });
  }
  return out;
}
