/**
 * FGQA verification (pass 3): accept the answer as it is, accept with corrections (answer text,
 * question type, the distractors to keep), or reject with reasons. Checked as
 * annotation/services/reviews.py fgqa_review_submit checks it.
 */
import { normalizeCaption } from "@/lib/segments";
import { checkText, fold } from "@/tasks/fgqa/text";
import type { FgqaQuestion } from "@/types/api";

export type DistractorRow = { original: string | null; text: string; keep: boolean };

export type FgqaReviewForm = {
  decision: "accept" | "reject" | null;
  reasons: string[];
  comment: string;
  answer: string;
  q_type: string;
  distractors: DistractorRow[];
};

export function initialFgqaForm(q: FgqaQuestion): FgqaReviewForm {
  // Distractors already verified in the distractor pass, else the imported (LLM) ones to verify.
  const source = q.distractors.length ? q.distractors : q.imported_distractors;
  return {
    decision: null,
    reasons: [],
    comment: "",
    answer: q.answer,
    q_type: q.q_type,
    distractors: source.map((d) => ({ original: d, text: d, keep: true })),
  };
}

export function fgqaFormFromDraft(draft: unknown, questionId: number): FgqaReviewForm | null {
  if (!draft || typeof draft !== "object") return null;
  const d = draft as { fgqa_review?: Partial<FgqaReviewForm>; question_id?: unknown };
  const f = d.fgqa_review;
  if (d.question_id !== questionId || !f || typeof f.answer !== "string" || typeof f.q_type !== "string" || !Array.isArray(f.distractors)) {
    return null;
  }
  return {
    decision: f.decision === "accept" || f.decision === "reject" ? f.decision : null,
    reasons: Array.isArray(f.reasons) ? f.reasons.filter((r): r is string => typeof r === "string") : [],
    comment: typeof f.comment === "string" ? f.comment : "",
    answer: f.answer,
    q_type: f.q_type,
    distractors: f.distractors
      .filter((r) => r && typeof r.text === "string")
      .map((r) => ({ original: typeof r.original === "string" ? r.original : null, text: r.text, keep: r.keep !== false })),
  };
}

export function kept(form: FgqaReviewForm): string[] {
  return form.distractors.filter((d) => d.keep).map((d) => normalizeCaption(d.text));
}

/** What differs from the question as it stands: these go in the accept body. */
export function corrections(q: FgqaQuestion, form: FgqaReviewForm): { answer?: string; q_type?: string; distractors?: string[] } {
  const out: { answer?: string; q_type?: string; distractors?: string[] } = {};
  if (normalizeCaption(form.answer) !== normalizeCaption(q.answer)) out.answer = normalizeCaption(form.answer);
  if (form.q_type !== q.q_type) out.q_type = form.q_type;
  const list = kept(form);
  const current = q.distractors.map(normalizeCaption);
  // Benchmark items: the distractor list is always sent, which marks it human-verified.
  if (q.is_benchmark || list.length !== current.length || list.some((d, k) => d !== current[k])) out.distractors = list;
  return out;
}

/** Problems per field of an accept (empty when it can be sent). */
export function acceptProblems(q: FgqaQuestion, form: FgqaReviewForm, types: readonly string[]): string[] {
  const problems: string[] = [];
  const answerProblem = checkText(form.answer, "The answer");
  if (answerProblem) problems.push(answerProblem);
  if (!types.includes(form.q_type)) problems.push("Choose the question type.");
  const seen = new Set<string>();
  form.distractors.forEach((d, k) => {
    if (!d.keep) return;
    const where = `Distractor ${k + 1}`;
    const p = checkText(d.text, where);
    if (p) problems.push(p);
    else if (fold(d.text) === fold(form.answer)) problems.push(`${where} is the same as the correct answer.`);
    else if (seen.has(fold(d.text))) problems.push(`${where} repeats another distractor.`);
    seen.add(fold(d.text));
  });
  if (q.is_benchmark && kept(form).length === 0) problems.push("A benchmark question needs at least one verified distractor: keep or write one.");
  return problems;
}

export function fgqaVerdictProblem(q: FgqaQuestion, form: FgqaReviewForm, types: readonly string[]): string | null {
  if (form.decision === null) return "Choose accept or reject.";
  if (form.decision === "accept") return acceptProblems(q, form, types)[0] ?? null;
  if (form.reasons.length === 0) return "Choose at least one reason to reject.";
  if (form.reasons.includes("other") && !form.comment.trim()) return "Say what is wrong: a comment is required with “Other”.";
  if (/<\s*\/?\s*[a-zA-Z!][^>]*>/.test(form.comment)) return "The comment must be plain text (no markup).";
  return null;
}

export function fgqaBody(q: FgqaQuestion, form: FgqaReviewForm): Record<string, unknown> {
  if (form.decision === "reject") return { decision: "reject", reasons: form.reasons, comment: form.comment.trim() };
  return { decision: "accept", ...corrections(q, form) };
}
