import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { api, ApiError, errorMessage } from "@/api/client";
import { QUEUE_INFO, queryKeys } from "@/api/queries";
import { useShortcuts } from "@/lib/shortcuts";
import { preloadEditor, QUEUE_KINDS } from "@/tasks/registry";
import { TaskRunner, type TaskFinish } from "@/tasks/TaskRunner";
import type { QueueName, TaskPayload } from "@/types/api";

type Phase =
  | { name: "claiming" }
  | { name: "task"; task: TaskPayload; claim: number }
  | { name: "empty" }
  | { name: "error"; message: string };

const QUEUES: QueueName[] = ["select", "caption", "fgqa", "review"];
const EMPTY_RECHECK_MS = 30_000;

/** Claim the next task of a queue; retries a few times when the server says the queue is busy. */
async function claimNext(projectId: number, queue: QueueName): Promise<TaskPayload | null> {
  for (let attempt = 0; ; attempt++) {
    try {
      const task = await api<TaskPayload | undefined>(`/projects/${projectId}/queues/${queue}/next`, { method: "POST" });
      return task ?? null;
    } catch (error) {
      if (error instanceof ApiError && error.code === "claim_contention" && attempt < 4) {
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        continue;
      }
      throw error;
    }
  }
}

/** /projects/:projectId/work/:queue: one task after another from a queue. */
export default function WorkPage() {
  const params = useParams();
  const projectId = Number(params.projectId);
  const queue = params.queue as QueueName;
  const valid = Number.isInteger(projectId) && QUEUES.includes(queue);
  const [phase, setPhase] = useState<Phase>({ name: "claiming" });
  const [notice, setNotice] = useState<string | null>(null);
  const client = useQueryClient();
  const navigate = useNavigate();
  const generation = useRef(0);

  const claim = useCallback(async (after?: string) => {
    const mine = ++generation.current;
    // An empty queue stays on screen while it is checked again (no flicker every 30 s).
    setPhase((p) => (p.name === "empty" ? p : { name: "claiming" }));
    try {
      const task = await claimNext(projectId, queue);
      if (mine !== generation.current) return;
      setPhase(task ? { name: "task", task, claim: mine } : { name: "empty" });
      if (after) setNotice(task ? `${after} Next task loaded.` : `${after} The queue has nothing more for you.`);
    } catch (error) {
      if (mine !== generation.current) return;
      setPhase({ name: "error", message: errorMessage(error) });
    }
    void client.invalidateQueries({ queryKey: queryKeys.queues(projectId) });
  }, [client, projectId, queue]);

  useEffect(() => {
    if (valid) QUEUE_KINDS[queue]?.forEach(preloadEditor);
  }, [valid, queue]);

  useEffect(() => {
    if (!valid) return;
    // Claiming is the point of this page: it starts as soon as the page opens.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void claim();
  }, [claim, valid]);

  useEffect(() => {
    if (phase.name !== "empty") return;
    const timer = setInterval(() => void claim(), EMPTY_RECHECK_MS);
    return () => clearInterval(timer);
  }, [phase.name, claim]);

  const onFinished = useCallback(
    (how: TaskFinish) => {
      if (how === "released") {
        navigate("/");
        return;
      }
      void claim(how === "submitted" ? "Submitted." : "Skipped.");
    },
    [claim, navigate],
  );

  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setNotice(null), 4000);
    return () => clearTimeout(t);
  }, [notice]);

  useShortcuts(
    phase.name === "empty" || phase.name === "error"
      ? [{ keys: ["r"], description: "Check the queue again", group: "Queue", run: () => void claim() }]
      : [],
  );

  if (!valid) {
    return (
      <div className="page-center">
        <p className="error-text">There is no queue here.</p>
        <Link to="/" className="btn">
          Back to projects
        </Link>
      </div>
    );
  }

  return (
    <div className="work-page" data-testid="work-page" data-queue={queue}>
      {notice && (
        <div className="toast" role="status" data-testid="work-notice">
          {notice}
        </div>
      )}
      {phase.name === "claiming" && <div className="page-center muted">Getting the next task…</div>}
      {phase.name === "empty" && (
        <div className="page-center" data-testid="queue-empty">
          <h2>Nothing to do in {QUEUE_INFO[queue].title}</h2>
          <p className="muted">
            No task in this queue is waiting for you right now (tasks you worked on in an earlier pass are given to someone else). This page checks
            again every 30 seconds.
          </p>
          <div className="dialog-actions">
            <Link to="/" className="btn">
              Back to projects
            </Link>
            <button type="button" className="btn btn-primary" onClick={() => void claim()} data-testid="check-again">
              Check again (R)
            </button>
          </div>
        </div>
      )}
      {phase.name === "error" && (
        <div className="page-center" data-testid="claim-error">
          <p className="error-text">{phase.message}</p>
          <div className="dialog-actions">
            <Link to="/" className="btn">
              Back to projects
            </Link>
            <button type="button" className="btn btn-primary" onClick={() => void claim()}>
              Try again
            </button>
          </div>
        </div>
      )}
      {phase.name === "task" && (
        <TaskRunner key={`${phase.task.id}:${phase.claim}`} task={phase.task} onFinished={onFinished} onReload={() => void claim()} releaseOnUnmount />
      )}
    </div>
  );
}
