/**
 * Runs one leased task: loads its draft, keeps the lease alive, autosaves, submits and skips,
 * shows conflicts plainly, and renders the editor for the task's kind.
 */
import { Suspense, useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router";

import { api, ApiError, errorMessage } from "@/api/client";
import { useShortcuts } from "@/lib/shortcuts";
import { DraftSaver, type SaveState } from "@/tasks/draftSaver";
import { TASK_EDITORS, TASK_KIND_LABELS, warmTask } from "@/tasks/registry";
import { leaseLostFrom, useLease } from "@/tasks/useLease";
import type { DraftPayload, TaskOutcome, TaskPayload } from "@/types/api";

export type TaskFinish = "submitted" | "skipped" | "released";

export type TaskRunnerProps = {
  task: TaskPayload;
  /** The task is done (or given back); the page moves on. */
  onFinished: (how: TaskFinish) => void;
  /** Fetch a fresh copy of the task (after a 409) or claim again (after the lease ended). */
  onReload: () => void;
  /** Give the lease back when this runner goes away without finishing (leaving the page). */
  releaseOnUnmount?: boolean;
};

const SKIP_REASONS: Record<string, string[]> = {
  select: ["No interesting moving object in this video", "Video is broken, black or unreadable", "Inappropriate content"],
  default: ["Video is broken, black or unreadable", "Cannot tell what happens (too dark, too small, too fast)", "Inappropriate content"],
};

// Releases scheduled by an unmount, cancelled if the same task mounts again at once (React
// StrictMode mounts twice in development; a key change remounts).
const pendingRelease = new Map<number, ReturnType<typeof setTimeout>>();

function formatClock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function DraftStatus({ state, onRetry }: { state: SaveState; onRetry: () => void }) {
  const text: Record<SaveState["status"], string> = {
    idle: "No changes yet",
    pending: "Unsaved changes…",
    saving: "Saving draft…",
    saved: state.savedAt ? `Draft saved ${formatClock(state.savedAt)}` : "Draft saved",
    error: `Draft not saved: ${state.error ?? ""}`,
    conflict: "Draft changed elsewhere",
  };
  return (
    <span className={`draft-status draft-${state.status}`} data-testid="draft-status" data-status={state.status}>
      {text[state.status]}
      {state.status === "error" && (
        <button type="button" className="btn btn-link" onClick={onRetry}>
          Retry
        </button>
      )}
    </span>
  );
}

function SkipDialog({
  kind,
  onCancel,
  onSkip,
}: {
  kind: string;
  onCancel: () => void;
  onSkip: (reason: string) => Promise<void>;
}) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const presets = SKIP_REASONS[kind] ?? SKIP_REASONS.default ?? [];
  const confirm = async () => {
    if (!reason.trim()) {
      setError("Say why you skip this task.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSkip(reason.trim());
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };
  useShortcuts([{ keys: ["Escape"], description: "Close the dialog", group: "Dialog", inInputs: true, run: onCancel }]);
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-label="Skip task" data-testid="skip-dialog">
      <div className="overlay-panel skip-dialog">
        <h2>Skip this task</h2>
        <p className="muted small">
          {kind === "select"
            ? "A skipped pass-1 video leaves the pipeline. Pick a reason or write one."
            : "The task goes back to the queue for someone else. Pick a reason or write one."}
        </p>
        <div className="preset-list">
          {presets.map((p) => (
            <button key={p} type="button" className={`btn btn-chip${reason === p ? " active" : ""}`} onClick={() => setReason(p)}>
              {p}
            </button>
          ))}
        </div>
        <textarea
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          placeholder="Reason"
          rows={3}
          maxLength={1000}
          autoFocus
          data-testid="skip-reason"
        />
        {error && <p className="error-text">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void confirm()} data-testid="skip-confirm">
            {busy ? "Skipping…" : "Skip task"}
          </button>
        </div>
      </div>
    </div>
  );
}

export function TaskRunner({ task, onFinished, onReload, releaseOnUnmount = false }: TaskRunnerProps) {
  const leased = task.status === "leased";
  const lease = useLease(task.id, task.project.lease_minutes, leased);
  const [draft, setDraft] = useState<{ loaded: boolean; data: unknown; version: number; error: string | null }>({
    loaded: false,
    data: null,
    version: 0,
    error: null,
  });
  const [saveState, setSaveState] = useState<SaveState>({ status: "idle", savedAt: null, error: null });
  const [banner, setBanner] = useState<{ message: string; conflict: boolean } | null>(null);
  const [showGuidelines, setShowGuidelines] = useState(false);
  const [skipping, setSkipping] = useState(false);
  const finished = useRef(false);
  const saverRef = useRef<DraftSaver | null>(null);
  const { markLost } = lease;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(timer);
  }, []);

  // eslint-disable-next-line react-hooks/exhaustive-deps -- once per task
  useEffect(() => warmTask(task), [task.id]);

  // Draft: load once, then autosave through one DraftSaver.
  useEffect(() => {
    if (!leased) return;
    const controller = new AbortController();
    api<DraftPayload>(`/tasks/${task.id}/draft`, { signal: controller.signal })
      .then((d) => {
        saverRef.current = new DraftSaver(d.version, {
          put: async (data, version) => {
            const body = data !== null && typeof data === "object" && !Array.isArray(data) ? data : { value: data };
            const saved = await api<DraftPayload>(`/tasks/${task.id}/draft`, { method: "PUT", body: { data: body, version } });
            return saved.version;
          },
          onState: setSaveState,
        });
        setDraft({ loaded: true, data: d.data, version: d.version, error: null });
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        const lost = leaseLostFrom(error);
        if (lost) markLost(lost);
        setDraft({ loaded: false, data: null, version: 0, error: errorMessage(error) });
      });
    return () => {
      controller.abort();
      saverRef.current?.stop();
    };
  }, [task.id, leased, markLost]);

  // Last-chance save when the page is hidden or closed (reload keeps the lease: nothing is lost).
  useEffect(() => {
    const onHide = () => {
      const saver = saverRef.current;
      const pending = saver?.pendingData;
      if (!saver || !pending || finished.current) return;
      const body = pending.data !== null && typeof pending.data === "object" ? pending.data : { value: pending.data };
      void api(`/tasks/${task.id}/draft`, { method: "PUT", body: { data: body, version: saver.currentVersion }, keepalive: true }).catch(() => undefined);
    };
    window.addEventListener("pagehide", onHide);
    return () => window.removeEventListener("pagehide", onHide);
  }, [task.id]);

  // Release on leave (not on reload: the server hands the same task back on the next claim).
  useEffect(() => {
    const scheduled = pendingRelease.get(task.id);
    if (scheduled) {
      clearTimeout(scheduled);
      pendingRelease.delete(task.id);
    }
    if (!releaseOnUnmount || !leased) return;
    const id = task.id;
    return () => {
      if (finished.current) return;
      pendingRelease.set(
        id,
        setTimeout(() => {
          pendingRelease.delete(id);
          void api(`/tasks/${id}/release`, { method: "POST", keepalive: true }).catch(() => undefined);
        }, 0),
      );
    };
  }, [task.id, leased, releaseOnUnmount]);

  const lost = lease.lost;
  useEffect(() => {
    if (lost) {
      finished.current = true; // nothing to release or save any more
      saverRef.current?.stop();
    }
  }, [lost]);

  const handleError = useCallback(
    (error: unknown) => {
      const leaseEnded = leaseLostFrom(error);
      if (leaseEnded && leaseEnded.code !== "stale_task" && leaseEnded.code !== "conflict") {
        markLost(leaseEnded);
        return;
      }
      setBanner({ message: errorMessage(error), conflict: error instanceof ApiError && error.status === 409 });
    },
    [markLost],
  );

  // Submit and skip close the task: an autosave still waiting would reach the server after that
  // and be refused (409). Send it first, and hold new ones until the answer.
  const closing = useRef(false);
  const saveDraft = useCallback((data: unknown) => {
    if (!finished.current && !closing.current) saverRef.current?.save(data);
  }, []);
  const beforeClose = useCallback(async () => {
    closing.current = true;
    await saverRef.current?.flush().catch(() => undefined);
  }, []);

  // Reload claims the same task again: this view must not give the lease back on its way out.
  const reload = useCallback(() => {
    finished.current = true;
    saverRef.current?.stop();
    onReload();
  }, [onReload]);

  const submit = useCallback(
    async (body: unknown) => {
      const payload = { ...(body as Record<string, unknown>), base_version: task.version };
      await beforeClose();
      try {
        await api<TaskOutcome>(`/tasks/${task.id}/submit`, { method: "POST", body: payload });
      } catch (error) {
        closing.current = false;
        handleError(error);
        throw error;
      }
      finished.current = true;
      saverRef.current?.stop();
      onFinished("submitted");
    },
    [task.id, task.version, handleError, onFinished, beforeClose],
  );

  const skip = useCallback(
    async (reason: string) => {
      await beforeClose();
      try {
        await api<TaskOutcome>(`/tasks/${task.id}/skip`, { method: "POST", body: { reason } });
      } catch (error) {
        closing.current = false;
        handleError(error);
        throw error;
      }
      finished.current = true;
      saverRef.current?.stop();
      setSkipping(false);
      onFinished("skipped");
    },
    [task.id, handleError, onFinished, beforeClose],
  );

  const leave = useCallback(async () => {
    finished.current = true;
    saverRef.current?.stop();
    if (leased && !lease.lost) {
      await api(`/tasks/${task.id}/release`, { method: "POST" }).catch(() => undefined);
    }
    onFinished("released");
  }, [leased, lease.lost, task.id, onFinished]);

  useShortcuts([
    { keys: ["shift+G"], description: "Show or hide the guidelines", group: "Task", run: () => setShowGuidelines((v) => !v) },
  ]);

  const Editor = TASK_EDITORS[task.kind];
  const video = task.video;
  const leftMs = lease.deadline - now;
  return (
    <div className="task-shell" data-testid="task-shell" data-task-id={task.id} data-task-kind={task.kind}>
      <div className="task-bar">
        <span className="task-kind">{TASK_KIND_LABELS[task.kind]}</span>
        {video && (
          <span className="task-video" title={video.original_name || video.name}>
            {video.name}
          </span>
        )}
        <span className="muted small">task #{task.id}</span>
        {task.is_rework && <span className="badge badge-warn">rework</span>}
        {task.priority > 0 && <span className="badge">priority {task.priority}</span>}
        {task.notes && (
          <span className="task-notes" title={task.notes}>
            {task.notes}
          </span>
        )}
        <span className="spacer" />
        {leased && <DraftStatus state={saveState} onRetry={() => saverRef.current?.retry()} />}
        {lease.offline && (
          <span className="badge badge-warn" data-testid="offline">
            offline: retrying
          </span>
        )}
        {leased && !lease.lost && leftMs < 5 * 60_000 && (
          <span className="badge badge-warn" data-testid="lease-warning">
            lease ends in {Math.max(0, Math.ceil(leftMs / 60_000))} min: keep working to keep it
          </span>
        )}
        <button
          type="button"
          className={`btn btn-small${showGuidelines ? " active" : ""}`}
          onClick={() => setShowGuidelines((v) => !v)}
          data-testid="guidelines-toggle"
          title="Guidelines (Shift+G)"
        >
          Guidelines
        </button>
        {leased && (
          <>
            <button type="button" className="btn btn-small" onClick={() => setSkipping(true)} data-testid="skip-open" disabled={!!lease.lost}>
              Skip…
            </button>
            <button type="button" className="btn btn-small btn-ghost" onClick={() => void leave()} data-testid="leave-task" title="Give the task back to the queue">
              Leave
            </button>
          </>
        )}
      </div>

      {banner && (
        <div className={`banner ${banner.conflict ? "banner-conflict" : "banner-error"}`} role="alert" data-testid={banner.conflict ? "conflict-banner" : "error-banner"}>
          <span>{banner.message}</span>
          {banner.conflict && (
            <button type="button" className="btn btn-small" onClick={reload} data-testid="reload">
              Reload
            </button>
          )}
          <button type="button" className="btn btn-small btn-ghost" onClick={() => setBanner(null)} aria-label="Dismiss">
            ✕
          </button>
        </div>
      )}
      {saveState.status === "conflict" && (
        <div className="banner banner-conflict" role="alert" data-testid="conflict-banner">
          <span>{saveState.error ?? "The draft changed elsewhere."} Your latest changes here were not saved.</span>
          <button type="button" className="btn btn-small" onClick={reload} data-testid="reload">
            Reload
          </button>
        </div>
      )}

      <div className="task-body">
        <div className="task-editor">
          {!leased ? (
            <div className="page-center">
              <p>
                This task is <b>{task.status}</b>; there is nothing to edit.
              </p>
              <Link to="/" className="btn">
                Back to projects
              </Link>
            </div>
          ) : draft.error && !lease.lost ? (
            <div className="page-center">
              <p className="error-text">Could not load the draft: {draft.error}</p>
              <button type="button" className="btn" onClick={reload}>
                Reload
              </button>
            </div>
          ) : !draft.loaded ? (
            <div className="page-center muted">Loading task…</div>
          ) : (
            <Suspense fallback={<div className="page-center muted">Loading editor…</div>}>
              <Editor key={task.id} task={task} draft={draft.data} saveDraft={saveDraft} submit={submit} skip={skip} />
            </Suspense>
          )}
        </div>
        {showGuidelines && (
          <aside className="guidelines-panel" data-testid="guidelines-panel">
            <div className="panel-head">
              <h3>Guidelines · {task.project.name}</h3>
              <button type="button" className="btn btn-ghost btn-small" onClick={() => setShowGuidelines(false)} aria-label="Close guidelines">
                ✕
              </button>
            </div>
            <div className="guidelines-text">{task.project.guidelines || "This project has no written guidelines yet."}</div>
          </aside>
        )}
      </div>

      {lease.lost && (
        <div className="overlay" role="alertdialog" aria-modal="true" data-testid="lease-lost">
          <div className="overlay-panel">
            <h2>
              {lease.lost.code === "lease_expired"
                ? "Your lease expired"
                : lease.lost.code === "not_leased"
                  ? "This task is not leased to you"
                  : lease.lost.code === "task_closed"
                    ? "This task is closed"
                    : "This task is no longer yours"}
            </h2>
            <p>{lease.lost.message}</p>
            {lease.lost.code === "lease_expired" && (
              <p className="muted small">
                Leases end after {task.project.lease_minutes} minutes without activity. The saved draft stays with the task.
              </p>
            )}
            <div className="dialog-actions">
              <Link to="/" className="btn">
                Back to projects
              </Link>
              <button type="button" className="btn btn-primary" onClick={reload} data-testid="lease-lost-reload" autoFocus>
                Get a task
              </button>
            </div>
          </div>
        </div>
      )}
      {skipping && <SkipDialog kind={task.kind} onCancel={() => setSkipping(false)} onSkip={skip} />}
    </div>
  );
}
