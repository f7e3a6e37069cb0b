/**
 * FGQA answering: one entry per question — answer it from scratch, accept the model answer,
 * correct the model answer, or reject the question with a reason — validated as the server
 * validates it (annotation/services/fgqa.py `_answer_one`) and turned into the submit body.
 */
import { normalizeCaption } from "@/lib/segments";
import type { FgqaQuestion } from "@/types/api";

import { isQuestionType } from "./questionTypes";
import { checkText } from "./text";

export type AnswerAction = "answer" | "accept" | "correct" | "reject";

export type { FgqaQuestion };

export type AnswerEntry = {
  action: AnswerAction | null;
  /** The typed (or corrected) answer; unused for accept and reject. */
  answer: string;
  q_type: string;
  reason: string;
};

export type AnswerForm = Record<number, AnswerEntry>;

export type AnswerIssues = Partial<Record<"action" | "answer" | "q_type" | "reason", string>>;

export const REJECT_REASONS = [
  "The question cannot be answered from the clip.",
  "The question is ambiguous.",
  "The question is not about the activity in the clip.",
  "The question is wrong or nonsensical.",
] as const;

export function emptyEntry(question: FgqaQuestion): AnswerEntry {
  return { action: null, answer: "", q_type: isQuestionType(question.q_type) ? question.q_type : "", reason: "" };
}

/** The questions this task must answer: every pending one (a rework: its one question). */
export function openQuestions(questions: readonly FgqaQuestion[], isRework: boolean): FgqaQuestion[] {
  return isRework ? [...questions] : questions.filter((q) => q.status === "pending");
}

export function initialForm(questions: readonly FgqaQuestion[], draft: unknown): AnswerForm {
  const saved = parseAnswerDraft(draft);
  const form: AnswerForm = {};
  for (const q of questions) form[q.id] = { ...emptyEntry(q), ...(saved?.[q.id] ?? {}) };
  return form;
}

/** What is wrong with one entry, by field; empty when it can be submitted. */
export function checkEntry(question: FgqaQuestion, entry: AnswerEntry | undefined): AnswerIssues {
  if (!entry || entry.action === null) return { action: "Answer, accept, correct or reject this question." };
  if (entry.action === "reject") {
    const problem = checkText(entry.reason, "The reason");
    return problem ? { reason: problem } : {};
  }
  const issues: AnswerIssues = {};
  if (!isQuestionType(entry.q_type)) issues.q_type = "Choose the question type.";
  if (entry.action === "accept") {
    if (!question.model_answer) issues.action = "There is no model answer to accept.";
  } else {
    const problem = checkText(entry.answer, "The answer");
    if (problem) issues.answer = problem;
    else if (
      entry.action === "correct" &&
      normalizeCaption(entry.answer) === normalizeCaption(question.model_answer)
    ) {
      issues.answer = "The correction is the same as the model answer: accept it instead.";
    }
  }
  return issues;
}

export function checkForm(questions: readonly FgqaQuestion[], form: AnswerForm): Record<number, AnswerIssues> {
  const out: Record<number, AnswerIssues> = {};
  for (const q of questions) {
    const issues = checkEntry(q, form[q.id]);
    if (Object.keys(issues).length > 0) out[q.id] = issues;
  }
  return out;
}

export type AnswerBodyEntry =
  | { question_id: number; action: "reject"; reason: string }
  | { question_id: number; action: "accept"; q_type: string }
  | { question_id: number; action: "answer" | "correct"; answer: string; q_type: string };

/** The submit body (fgqa_answer_submit / fgqa_rework_submit) for a form without issues. */
export function answerBody(questions: readonly FgqaQuestion[], form: AnswerForm): { answers: AnswerBodyEntry[] } {
  const answers = questions.map((q): AnswerBodyEntry => {
    const entry = form[q.id];
    if (!entry || entry.action === null) throw new Error(`Question ${q.id} has no answer.`);
    switch (entry.action) {
      case "reject":
        return { question_id: q.id, action: "reject", reason: normalizeCaption(entry.reason) };
      case "accept":
        return { question_id: q.id, action: "accept", q_type: entry.q_type };
      default:
        return {
          question_id: q.id,
          action: entry.action,
          answer: normalizeCaption(entry.answer),
          q_type: entry.q_type,
        };
    }
  });
  return { answers };
}

/** Choosing an action: "correct" starts from the model answer so that only the fix is typed. */
export function chooseAction(question: FgqaQuestion, entry: AnswerEntry, action: AnswerAction): AnswerEntry {
  if (action === "correct" && (entry.action !== "correct" || !entry.answer)) {
    return { ...entry, action, answer: question.model_answer };
  }
  if (action === "answer" && entry.action === "correct") return { ...entry, action, answer: "" };
  return { ...entry, action };
}

function parseAnswerDraft(data: unknown): Record<number, Partial<AnswerEntry>> | null {
  if (typeof data !== "object" || data === null) return null;
  const answers = (data as { answers?: unknown }).answers;
  if (typeof answers !== "object" || answers === null) return null;
  const out: Record<number, Partial<AnswerEntry>> = {};
  for (const [id, raw] of Object.entries(answers as Record<string, unknown>)) {
    if (typeof raw !== "object" || raw === null) continue;
    const r = raw as Record<string, unknown>;
    const entry: Partial<AnswerEntry> = {};
    if (r.action === null || ["answer", "accept", "correct", "reject"].includes(r.action as string)) {
      entry.action = r.action as AnswerAction | null;
    }
    for (const field of ["answer", "q_type", "reason"] as const) {
      if (typeof r[field] === "string") entry[field] = r[field];
    }
    out[Number(id)] = entry;
  }
  return out;
}

export function answerDraft(form: AnswerForm): { answers: AnswerForm } {
  return { answers: form };
}
