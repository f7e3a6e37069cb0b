import type { TaskPayload } from "@/types/api";

/**
 * What every task editor gets from the page that runs it (Work / TaskPage). The page owns the
 * lease (heartbeat, release), the draft round-trips and the submit/skip requests; the editor owns
 * the screen in between.
 */
export type TaskEditorProps = {
  /** GET /api/tasks/<id> body (annotation/selectors/tasks.py task_payload). */
  task: TaskPayload;
  /** The saved draft's data (GET /api/tasks/<id>/draft), null when there is none. */
  draft: unknown | null;
  /**
   * Autosave: the page debounces and PUTs it (the data must be a plain JSON object). Call it on
   * every change; a reload restores the last saved value through `draft`.
   */
  saveDraft: (data: unknown) => void;
  /**
   * POST /api/tasks/<id>/submit with base_version added. Resolves after the server accepted it;
   * the page then moves on (next task). Rejects with ApiError (400 with errors, 409 conflict):
   * show 400 messages inline; the page shows 409s itself.
   */
  submit: (body: unknown) => Promise<void>;
  /** POST /api/tasks/<id>/skip with the reason; the page then moves on. */
  skip: (reason: string) => Promise<void>;
};
