/**
 * FGQA answering: the clip with its source context beside the imported questions; each question
 * is accepted, corrected, answered from scratch or rejected with a reason, and gets its type.
 */
import { useEffect, useMemo, useRef, useState } from "react";

import { ApiError, errorMessage } from "@/api/client";
import { useShortcuts } from "@/lib/shortcuts";
import type { TaskEditorProps } from "@/tasks/types";

import {
  type AnswerAction,
  answerBody,
  answerDraft,
  type AnswerForm,
  checkForm,
  chooseAction,
  initialForm,
  openQuestions,
} from "./answerForm";
import ClipContext from "./ClipContext";
import QuestionCard from "./QuestionCard";
import "./fgqa.css";

/** Server messages keyed by question ("question_12": ["Not answered."]). */
function serverProblems(error: unknown): { message: string; byQuestion: Record<number, string> } {
  const byQuestion: Record<number, string> = {};
  if (error instanceof ApiError) {
    for (const [field, messages] of Object.entries(error.body.errors ?? {})) {
      const m = /^question_(\d+)$/.exec(field);
      if (m) byQuestion[Number(m[1])] = messages.join(" ");
    }
  }
  return { message: errorMessage(error), byQuestion };
}

export default function FgqaAnswerEditor({ task, draft, saveDraft, submit }: TaskEditorProps) {
  const questions = useMemo(() => openQuestions(task.questions, task.is_rework), [task.questions, task.is_rework]);
  const closed = task.questions.length - questions.length;
  const [form, setForm] = useState<AnswerForm>(() => initialForm(questions, draft));
  const [current, setCurrent] = useState(0);
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ReturnType<typeof serverProblems> | null>(null);
  const cards = useRef<(HTMLElement | null)[]>([]);

  const issues = useMemo(() => checkForm(questions, form), [questions, form]);
  const ready = questions.length - Object.keys(issues).length;

  // Autosave every change (the page debounces); the form as restored is not a change.
  const formJson = JSON.stringify(answerDraft(form));
  const savedJson = useRef(formJson);
  useEffect(() => {
    if (formJson === savedJson.current) return;
    savedJson.current = formJson;
    saveDraft(JSON.parse(formJson));
  }, [formJson, saveDraft]);

  const change = (id: number, entry: AnswerForm[number]) => {
    setForm((f) => ({ ...f, [id]: entry }));
    setFailure(null);
  };

  const goTo = (index: number) => {
    const next = Math.max(0, Math.min(questions.length - 1, index));
    setCurrent(next);
    cards.current[next]?.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
  };

  const act = (action: AnswerAction) => {
    const q = questions[current];
    const entry = q ? form[q.id] : undefined;
    if (!q || !entry) return;
    if ((action === "accept" || action === "correct") && !q.model_answer.trim()) return;
    change(q.id, chooseAction(q, entry, action));
  };

  const onSubmit = async () => {
    setTried(true);
    const firstBad = questions.findIndex((q) => issues[q.id]);
    if (firstBad >= 0) {
      goTo(firstBad);
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      await submit(answerBody(questions, form));
    } catch (error) {
      // 409s are shown by the page; everything else here, next to the questions.
      if (!(error instanceof ApiError && error.status === 409)) setFailure(serverProblems(error));
    } finally {
      setBusy(false);
    }
  };

  useShortcuts([
    { keys: ["j"], description: "Next question", group: "Questions", run: () => goTo(current + 1) },
    { keys: ["k"], description: "Previous question", group: "Questions", run: () => goTo(current - 1) },
    { keys: ["a"], description: "Accept the model answer", group: "Questions", run: () => act("accept") },
    { keys: ["e"], description: "Correct the model answer", group: "Questions", run: () => act("correct") },
    { keys: ["w"], description: "Answer from scratch", group: "Questions", run: () => act("answer") },
    { keys: ["x"], description: "Reject the question", group: "Questions", run: () => act("reject") },
    {
      keys: ["mod+Enter"],
      description: "Submit the answers",
      group: "Task",
      inInputs: true,
      run: () => void onSubmit(),
    },
  ]);

  return (
    <div className="fgqa-editor" data-testid="fgqa-answer-editor">
      <ClipContext task={task} />
      <div className="fgqa-side">
        {task.is_rework && task.notes && (
          <div className="fgqa-banner" data-testid="rework-notes">
            <strong>Sent back by review:</strong> {task.notes}
          </div>
        )}
        {questions.length === 0 ? (
          <p className="fgqa-muted" data-testid="no-questions">
            This clip has no open questions. Skip the task.
          </p>
        ) : (
          <div className="fgqa-questions">
            {questions.map((q, i) => (
              <QuestionCard
                key={q.id}
                ref={(el) => {
                  cards.current[i] = el;
                }}
                question={q}
                number={i + 1}
                count={questions.length}
                entry={form[q.id]!}
                issues={{ ...(issues[q.id] ?? {}), ...(failure?.byQuestion[q.id] ? { action: failure.byQuestion[q.id] } : {}) }}
                showIssues={tried}
                current={i === current}
                onChange={(entry) => change(q.id, entry)}
                onFocus={() => setCurrent(i)}
              />
            ))}
          </div>
        )}
        {closed > 0 && <p className="fgqa-muted">{closed} question(s) of this clip are already done.</p>}
        <footer className="fgqa-footer">
          {failure && (
            <p className="fgqa-problem" role="alert" data-testid="submit-error">
              {failure.message}
            </p>
          )}
          {tried && ready < questions.length && (
            <p className="fgqa-problem" data-testid="form-problems">
              {questions.length - ready} question(s) still need an answer, a type or a reason.
            </p>
          )}
          <span className="fgqa-progress" data-testid="fgqa-progress">
            {ready} of {questions.length} ready
          </span>
          <button
            type="button"
            className="btn btn-primary"
            data-testid="fgqa-submit"
            disabled={busy || questions.length === 0}
            onClick={() => void onSubmit()}
          >
            {busy ? "Submitting…" : "Submit answers"}
          </button>
        </footer>
      </div>
    </div>
  );
}
