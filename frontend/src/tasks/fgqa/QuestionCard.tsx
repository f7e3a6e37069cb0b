/** One FGQA question: accept / correct / answer from scratch / reject, its type, inline problems. */
import { forwardRef } from "react";

import {
  type AnswerAction,
  type AnswerEntry,
  type AnswerIssues,
  chooseAction,
  type FgqaQuestion,
  REJECT_REASONS,
} from "./answerForm";
import { QUESTION_TYPES } from "./questionTypes";

type Props = {
  question: FgqaQuestion;
  number: number;
  count: number;
  entry: AnswerEntry;
  issues: AnswerIssues;
  /** Show problems (after a submit attempt). */
  showIssues: boolean;
  current: boolean;
  onChange: (entry: AnswerEntry) => void;
  onFocus: () => void;
};

const ACTIONS: { action: AnswerAction; label: string; key: string; needsModel: boolean }[] = [
  { action: "accept", label: "Accept model answer", key: "A", needsModel: true },
  { action: "correct", label: "Correct model answer", key: "E", needsModel: true },
  { action: "answer", label: "Answer from scratch", key: "W", needsModel: false },
  { action: "reject", label: "Reject question", key: "X", needsModel: false },
];

function Problem({ text, testid }: { text: string | undefined; testid: string }) {
  if (!text) return null;
  return (
    <p className="fgqa-problem" role="alert" data-testid={testid}>
      {text}
    </p>
  );
}

const QuestionCard = forwardRef<HTMLElement, Props>(function QuestionCard(
  { question, number, count, entry, issues, showIssues, current, onChange, onFocus },
  ref,
) {
  const id = question.id;
  const shown = showIssues ? issues : {};
  const hasModel = question.model_answer.trim() !== "";
  const answering = entry.action === "answer" || entry.action === "correct";
  const done = Object.keys(issues).length === 0;
  return (
    <section
      ref={ref}
      tabIndex={-1}
      className={`fgqa-card${current ? " is-current" : ""}${done ? " is-done" : ""}`}
      data-testid={`question-${id}`}
      aria-label={`Question ${number} of ${count}`}
      onFocusCapture={onFocus}
      onClick={onFocus}
    >
      <header className="fgqa-card__head">
        <span className="fgqa-card__number">
          {number} / {count}
        </span>
        {question.is_benchmark && <span className="fgqa-tag">benchmark</span>}
        <span className={`fgqa-state${done ? " is-done" : ""}`} data-testid={`question-state-${id}`}>
          {done ? (entry.action === "reject" ? "rejected" : "ready") : "to do"}
        </span>
      </header>
      <p className="fgqa-question" data-testid={`question-text-${id}`}>
        {question.question}
      </p>
      <div className="fgqa-model">
        <span className="fgqa-label">Model answer</span>
        {hasModel ? (
          <p data-testid={`model-answer-${id}`}>{question.model_answer}</p>
        ) : (
          <p className="fgqa-muted">None: answer from scratch.</p>
        )}
      </div>
      <div className="fgqa-actions" role="radiogroup" aria-label="What to do with this question">
        {ACTIONS.filter((a) => hasModel || !a.needsModel).map((a) => (
          <button
            key={a.action}
            type="button"
            role="radio"
            aria-checked={entry.action === a.action}
            className={`fgqa-action fgqa-action--${a.action}${entry.action === a.action ? " is-on" : ""}`}
            data-testid={`action-${a.action}-${id}`}
            title={current ? `${a.label} (${a.key})` : a.label}
            onClick={() => onChange(chooseAction(question, entry, a.action))}
          >
            {a.label}
            {current && <kbd>{a.key}</kbd>}
          </button>
        ))}
      </div>
      <Problem text={shown.action} testid={`problem-action-${id}`} />

      {answering && (
        <label className="fgqa-field">
          <span className="fgqa-label">{entry.action === "correct" ? "Corrected answer" : "Your answer"}</span>
          <textarea
            rows={2}
            value={entry.answer}
            data-testid={`answer-${id}`}
            aria-invalid={Boolean(shown.answer)}
            onChange={(e) => onChange({ ...entry, answer: e.target.value })}
          />
        </label>
      )}
      {answering && <Problem text={shown.answer} testid={`problem-answer-${id}`} />}

      {entry.action !== null && entry.action !== "reject" && (
        <label className="fgqa-field fgqa-field--inline">
          <span className="fgqa-label">Question type</span>
          <select
            value={entry.q_type}
            data-testid={`qtype-${id}`}
            aria-invalid={Boolean(shown.q_type)}
            onChange={(e) => onChange({ ...entry, q_type: e.target.value })}
          >
            <option value="">Choose…</option>
            {QUESTION_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      )}
      {entry.action !== null && entry.action !== "reject" && (
        <Problem text={shown.q_type} testid={`problem-qtype-${id}`} />
      )}

      {entry.action === "reject" && (
        <div className="fgqa-field">
          <span className="fgqa-label">Why reject it?</span>
          <div className="fgqa-reasons">
            {REJECT_REASONS.map((r) => (
              <button
                key={r}
                type="button"
                className={`fgqa-chip${entry.reason === r ? " is-on" : ""}`}
                onClick={() => onChange({ ...entry, reason: r })}
              >
                {r}
              </button>
            ))}
          </div>
          <input
            type="text"
            value={entry.reason}
            placeholder="Or write the reason"
            data-testid={`reject-reason-${id}`}
            aria-invalid={Boolean(shown.reason)}
            onChange={(e) => onChange({ ...entry, reason: e.target.value })}
          />
          <Problem text={shown.reason} testid={`problem-reason-${id}`} />
        </div>
      )}
    </section>
  );
});

export default QuestionCard;
