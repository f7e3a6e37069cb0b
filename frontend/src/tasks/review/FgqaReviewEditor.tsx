/**
 * Pass 3 on an FGQA item: the clip, the question, the given answer and its type, the benchmark
 * distractors; accept (optionally correcting answer, type and distractors) or reject with reasons.
 */
import { useState } from "react";

import { ApiError, errorMessage } from "@/api/client";
import { QUESTION_TYPES } from "@/tasks/fgqa/questionTypes";
import type { TaskEditorProps } from "@/tasks/types";
import type { FgqaQuestion } from "@/types/api";

import type { ReviewRow } from "./history";
import { acceptProblems, corrections, fgqaBody, fgqaFormFromDraft, fgqaVerdictProblem, initialFgqaForm, type FgqaReviewForm } from "./fgqaReview";
import { wordDiff } from "./textDiff";
import { VerdictPanel } from "./VerdictPanel";
import { WordDiffText } from "./WordDiffText";
import "./review.css";

type AnswerRow = {
  id: number;
  author: string | null;
  task_kind: string | null;
  answer: string;
  q_type: string;
  used_model_answer: boolean;
  rejected: boolean;
  reject_reason: string;
  distractors: string[];
  created_at: string;
};

type FgqaHistory = { answers: AnswerRow[]; reviews: ReviewRow[] };

const KIND_NAMES: Record<string, string> = {
  fgqa_answer: "Answered",
  fgqa_distractors: "Distractors checked",
  fgqa_review: "Corrected in review",
};

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function Body({ task, draft, saveDraft, submit, question }: TaskEditorProps & { question: FgqaQuestion }) {
  const [form, setForm] = useState<FgqaReviewForm>(() => fgqaFormFromDraft(draft, question.id) ?? initialFgqaForm(question));
  const [correcting, setCorrecting] = useState(() => Object.keys(corrections(question, form)).some((k) => k !== "distractors"));
  const [serverError, setServerError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const history = task.history as FgqaHistory | null;
  const lastAnswer = history?.answers.filter((a) => a.task_kind === "fgqa_answer" && !a.rejected).at(-1);
  const reasonLabel = (code: string) => task.review_reasons.find((r) => r.code === code)?.label ?? code;

  const update = (next: FgqaReviewForm) => {
    setForm(next);
    saveDraft({ fgqa_review: next, question_id: question.id });
  };
  const problem = fgqaVerdictProblem(question, form, QUESTION_TYPES);
  const fixes = corrections(question, form);
  const media = task.video?.media;

  const onSubmit = async () => {
    if (problem) return;
    setSubmitting(true);
    setServerError(null);
    try {
      await submit(fgqaBody(question, form));
    } catch (error) {
      setSubmitting(false);
      if (error instanceof ApiError && error.status === 409) return;
      setServerError(errorMessage(error));
    }
  };

  const acceptHint = [
    fixes.answer !== undefined ? "corrected answer" : "",
    fixes.q_type !== undefined ? "corrected type" : "",
    fixes.distractors !== undefined ? `${fixes.distractors.length} verified distractor${fixes.distractors.length === 1 ? "" : "s"}` : "",
  ].filter(Boolean);

  return (
    <div className="rv-editor" data-testid="fgqa-review-editor">
      <div className="rv-main rv-fgqa">
        {media ? (
          <video className="rv-fgqa-clip" src={media.proxy_url} poster={media.thumbnail_url} controls loop preload="auto" data-testid="fgqa-clip" />
        ) : (
          <p className="error-text">This clip has no video to show.</p>
        )}
        <div className="rv-fgqa-q" data-testid="fgqa-question">
          {question.question}
        </div>
        {question.is_benchmark && (
          <div>
            <span className="badge badge-warn">benchmark item: its distractors must be verified</span>
          </div>
        )}
        <div className="rv-fgqa-grid">
          <span>Model answer</span>
          <span className="muted">{question.model_answer || "—"}</span>
          <span>Given answer</span>
          <span data-testid="fgqa-given-answer">
            {question.answer}
            {lastAnswer && (
              <span className="muted small">
                {" "}
                — {lastAnswer.author ?? "?"}
                {lastAnswer.used_model_answer ? ", kept the model's answer" : ""}
              </span>
            )}
          </span>
          <span>Question type</span>
          <span>{question.q_type || "—"}</span>
        </div>

        <section className="card rv-card">
          <div className="rv-captions-head">
            <h3>Correct the answer</h3>
            <span className="spacer" />
            <label className="rv-toggle">
              <input
                type="checkbox"
                checked={correcting}
                onChange={(e) => {
                  setCorrecting(e.target.checked);
                  if (!e.target.checked) update({ ...form, answer: question.answer, q_type: question.q_type });
                }}
                data-testid="fgqa-correct"
              />
              Edit
            </label>
          </div>
          {correcting ? (
            <div className="rv-fgqa-grid">
              <span>Answer</span>
              <textarea rows={2} value={form.answer} onChange={(e) => update({ ...form, answer: e.target.value })} data-testid="fgqa-answer" />
              <span>Type</span>
              <select value={form.q_type} onChange={(e) => update({ ...form, q_type: e.target.value })} data-testid="fgqa-qtype">
                {!QUESTION_TYPES.includes(form.q_type as (typeof QUESTION_TYPES)[number]) && <option value={form.q_type}>Choose…</option>}
                {QUESTION_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
              {fixes.answer !== undefined && (
                <>
                  <span>Change</span>
                  <WordDiffText parts={wordDiff(question.answer, form.answer)} testId="fgqa-answer-diff" />
                </>
              )}
            </div>
          ) : (
            <p className="muted small">Accept keeps the given answer and type. Tick Edit to correct them.</p>
          )}
        </section>

        <section className="card rv-card" data-testid="fgqa-distractors">
          <div className="rv-captions-head">
            <h3>Distractors</h3>
            <span className="spacer" />
            <button
              type="button"
              className="btn btn-small"
              onClick={() => update({ ...form, distractors: [...form.distractors, { original: null, text: "", keep: true }] })}
              data-testid="distractor-add"
            >
              Add distractor
            </button>
          </div>
          <p className="muted small">
            Each wrong option should change a single detail of the correct answer. Untick the ambiguous ones (they could also be right).
          </p>
          {form.distractors.length === 0 && <p className="muted small">No distractors.</p>}
          <ul className="rv-distractors">
            {form.distractors.map((d, k) => (
              <li key={k} className={d.keep ? undefined : "dropped"} data-testid="distractor-row">
                <input
                  type="checkbox"
                  checked={d.keep}
                  onChange={(e) => update({ ...form, distractors: form.distractors.map((x, j) => (j === k ? { ...x, keep: e.target.checked } : x)) })}
                  title="Keep this distractor"
                  aria-label={`Keep distractor ${k + 1}`}
                  data-testid="distractor-keep"
                />
                <input
                  type="text"
                  value={d.text}
                  onChange={(e) => update({ ...form, distractors: form.distractors.map((x, j) => (j === k ? { ...x, text: e.target.value } : x)) })}
                  aria-label={`Distractor ${k + 1}`}
                  data-testid="distractor-text"
                />
                {d.original === null && <span className="badge">new</span>}
                {d.original !== null && d.original !== d.text && <span className="badge">edited</span>}
              </li>
            ))}
          </ul>
          {form.decision === "accept" &&
            acceptProblems(question, form, QUESTION_TYPES).map((p) => (
              <p key={p} className="error-text small">
                {p}
              </p>
            ))}
        </section>
      </div>
      <aside className="rv-side">
        <section className="card rv-card">
          <h3>Verdict</h3>
          <VerdictPanel
            testPrefix="fgqa-review"
            reasons={task.review_reasons}
            decision={form.decision}
            chosen={form.reasons}
            comment={form.comment}
            reworkHint={form.decision === "reject" ? "The question goes back to the person who answered it, with your notes." : null}
            acceptHint={acceptHint.length ? `Accept with: ${acceptHint.join(", ")}.` : "Accept as answered."}
            problem={problem}
            serverError={serverError}
            submitting={submitting}
            onDecision={(decision) => update({ ...form, decision })}
            onReasons={(reasons) => update({ ...form, reasons })}
            onComment={(comment) => update({ ...form, comment })}
            onSubmit={() => void onSubmit()}
          />
          {form.decision === "reject" && Object.keys(fixes).some((k) => k !== "distractors") && (
            <p className="small rv-problem">Rejecting discards your corrections: the answerer reworks the answer.</p>
          )}
        </section>
        <section className="card rv-card" data-testid="history-panel">
          <h3>History</h3>
          <ol className="rv-events" data-testid="history-events">
            {[
              ...(history?.answers ?? []).map((a) => ({ at: a.created_at, a, r: null })),
              ...(history?.reviews ?? []).map((r) => ({ at: r.created_at, a: null, r })),
            ]
              .sort((x, y) => Date.parse(x.at) - Date.parse(y.at))
              .map(({ a, r }) =>
                a ? (
              <li key={`a${a.id}`} className={`rv-event${a.rejected ? " rv-event-warn" : ""}`} data-testid="history-event" data-kind="answer">
                <div className="rv-event-head">
                  <b>{a.rejected ? "Question rejected" : `${KIND_NAMES[a.task_kind ?? ""] ?? "answer"}`}</b>
                  <span className="muted small">
                    {a.author ?? "?"} · {when(a.created_at)}
                  </span>
                </div>
                <div className="small">{a.rejected ? a.reject_reason : `${a.answer}${a.q_type ? ` · ${a.q_type}` : ""}`}</div>
                {a.distractors.length > 0 && <div className="small muted">distractors: {a.distractors.join(" | ")}</div>}
              </li>
                ) : r ? (
              <li key={`r${r.id}`} className={`rv-event rv-event-${r.decision === "accept" ? "good" : "bad"}`} data-testid="history-event" data-kind="review">
                <div className="rv-event-head">
                  <b>{r.decision === "accept" ? "Accepted in review" : "Rejected in review"}</b>
                  <span className="muted small">
                    {r.reviewer ?? "?"} · {when(r.created_at)}
                  </span>
                </div>
                <div className="small">
                  {[r.reasons.map(reasonLabel).join(", "), r.comment && `“${r.comment}”`].filter(Boolean).join(" · ")}
                </div>
              </li>
                ) : null,
              )}
          </ol>
        </section>
      </aside>
    </div>
  );
}

export default function FgqaReviewEditor(props: TaskEditorProps) {
  const question = props.task.questions[0];
  if (props.task.kind !== "fgqa_review" || !question) {
    return (
      <div className="page-center">
        <p className="error-text">This task has no question to review.</p>
      </div>
    );
  }
  return <Body {...props} question={question} />;
}
