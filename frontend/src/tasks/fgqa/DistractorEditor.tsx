/**
 * Distractor verification of a benchmark question: with the clip, the question and its correct
 * answer in view, keep, edit or drop every imported distractor (each should change one detail of
 * the correct answer and be clearly wrong).
 */
import { useEffect, useMemo, useRef, useState } from "react";

import { ApiError, errorMessage } from "@/api/client";
import { useShortcuts } from "@/lib/shortcuts";
import type { TaskEditorProps } from "@/tasks/types";

import ClipContext from "./ClipContext";
import {
  checkDecisions,
  type DistractorAction,
  type DistractorDecision,
  distractorBody,
  hasProblems,
  initialDecisions,
} from "./distractorForm";
import "./fgqa.css";

const CHOICES: { action: DistractorAction; label: string; key: string }[] = [
  { action: "keep", label: "Keep", key: "Y" },
  { action: "edit", label: "Edit", key: "E" },
  { action: "drop", label: "Drop", key: "D" },
];

export default function DistractorEditor({ task, draft, saveDraft, submit }: TaskEditorProps) {
  const question = task.questions[0];
  const imported = useMemo(() => question?.imported_distractors ?? [], [question]);
  const answer = question?.answer ?? "";
  const [decisions, setDecisions] = useState<DistractorDecision[]>(() => initialDecisions(imported, draft));
  const [current, setCurrent] = useState(0);
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const inputs = useRef<(HTMLInputElement | null)[]>([]);
  const [focusEdit, setFocusEdit] = useState<{ index: number; seq: number } | null>(null);

  const check = useMemo(() => checkDecisions(imported, decisions, answer), [imported, decisions, answer]);

  // Autosave every change (the page debounces); the decisions as restored are not a change.
  const draftJson = JSON.stringify({ decisions });
  const savedJson = useRef(draftJson);
  useEffect(() => {
    if (draftJson === savedJson.current) return;
    savedJson.current = draftJson;
    saveDraft(JSON.parse(draftJson));
  }, [draftJson, saveDraft]);

  useEffect(() => {
    if (focusEdit) inputs.current[focusEdit.index]?.focus();
  }, [focusEdit]);

  const decide = (i: number, change: Partial<DistractorDecision>) => {
    setDecisions((ds) => ds.map((d, j) => (j === i ? { ...d, ...change } : d)));
    setFailure(null);
  };
  const choose = (i: number, action: DistractorAction) => {
    decide(i, { action });
    setCurrent(i);
    if (action === "edit") setFocusEdit((f) => ({ index: i, seq: (f?.seq ?? 0) + 1 }));
  };

  const onSubmit = async () => {
    setTried(true);
    if (hasProblems(check)) return;
    setBusy(true);
    setFailure(null);
    try {
      await submit(distractorBody(imported, decisions));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 409)) setFailure(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const move = (delta: number) => setCurrent((c) => Math.max(0, Math.min(imported.length - 1, c + delta)));
  useShortcuts([
    { keys: ["j"], description: "Next distractor", group: "Distractors", run: () => move(1) },
    { keys: ["k"], description: "Previous distractor", group: "Distractors", run: () => move(-1) },
    { keys: ["y"], description: "Keep this distractor", group: "Distractors", run: () => choose(current, "keep") },
    { keys: ["e"], description: "Edit this distractor", group: "Distractors", run: () => choose(current, "edit") },
    { keys: ["d"], description: "Drop this distractor", group: "Distractors", run: () => choose(current, "drop") },
    { keys: ["mod+Enter"], description: "Submit", group: "Task", inInputs: true, run: () => void onSubmit() },
  ]);

  if (!question) {
    return (
      <p className="fgqa-muted" data-testid="no-questions">
        This task has no question. Skip it.
      </p>
    );
  }

  return (
    <div className="fgqa-editor" data-testid="distractor-editor">
      <ClipContext task={task} />
      <div className="fgqa-side">
        <section className="fgqa-card is-current">
          <span className="fgqa-label">Question</span>
          <p className="fgqa-question" data-testid="distractor-question">
            {question.question}
          </p>
          <span className="fgqa-label">Correct answer</span>
          <p className="fgqa-answer" data-testid="correct-answer">
            {answer}
          </p>
          {question.q_type && <span className="fgqa-tag">{question.q_type}</span>}
        </section>
        <p className="fgqa-hint">
          A good distractor changes a single detail of the correct answer and is clearly wrong for this
          clip. Drop ambiguous ones; edit those that are close.
        </p>
        <ol className="fgqa-distractors">
          {imported.map((original, i) => {
            const d = decisions[i] ?? { action: null, text: original };
            const problem = tried ? check.items[i] : null;
            return (
              <li
                key={i}
                className={`fgqa-distractor${i === current ? " is-current" : ""}${d.action ? ` is-${d.action}` : ""}`}
                data-testid={`distractor-${i + 1}`}
                onClick={() => setCurrent(i)}
              >
                <p className="fgqa-distractor__text" data-testid={`distractor-text-${i + 1}`}>
                  {original}
                </p>
                <div className="fgqa-actions" role="radiogroup" aria-label={`Distractor ${i + 1}`}>
                  {CHOICES.map((c) => (
                    <button
                      key={c.action}
                      type="button"
                      role="radio"
                      aria-checked={d.action === c.action}
                      className={`fgqa-action fgqa-action--${c.action}${d.action === c.action ? " is-on" : ""}`}
                      data-testid={`distractor-${c.action}-${i + 1}`}
                      onClick={() => choose(i, c.action)}
                    >
                      {c.label}
                      {i === current && <kbd>{c.key}</kbd>}
                    </button>
                  ))}
                </div>
                {d.action === "edit" && (
                  <input
                    ref={(el) => {
                      inputs.current[i] = el;
                    }}
                    type="text"
                    value={d.text}
                    data-testid={`distractor-edited-${i + 1}`}
                    aria-label={`Distractor ${i + 1}, edited`}
                    aria-invalid={Boolean(problem)}
                    onChange={(e) => decide(i, { text: e.target.value })}
                  />
                )}
                {problem && (
                  <p className="fgqa-problem" role="alert" data-testid={`distractor-problem-${i + 1}`}>
                    {problem}
                  </p>
                )}
              </li>
            );
          })}
        </ol>
        <footer className="fgqa-footer">
          {tried && check.form && (
            <p className="fgqa-problem" role="alert" data-testid="form-problems">
              {check.form}
            </p>
          )}
          {failure && (
            <p className="fgqa-problem" role="alert" data-testid="submit-error">
              {failure}
            </p>
          )}
          <span className="fgqa-progress">
            {decisions.filter((d) => d.action !== null).length} of {imported.length} decided
          </span>
          <button
            type="button"
            className="btn btn-primary"
            data-testid="distractors-submit"
            disabled={busy}
            onClick={() => void onSubmit()}
          >
            {busy ? "Submitting…" : "Submit"}
          </button>
        </footer>
      </div>
    </div>
  );
}
