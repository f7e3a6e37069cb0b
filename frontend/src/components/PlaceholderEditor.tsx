import type { TaskEditorProps } from "@/tasks/types";

/** Stand-in for an editor that is not built yet: says so, and lets the person skip the task. */
export default function PlaceholderEditor({ task, skip }: TaskEditorProps & { title?: string }) {
  return (
    <div className="placeholder-editor" data-testid="placeholder-editor">
      <h2>Editor not available yet</h2>
      <p>
        Task {task.id} ({task.kind}) has no editor in this build. Skip it so it goes back to the queue.
      </p>
      <button type="button" className="btn" onClick={() => void skip("Editor not available in this build")}>
        Skip task
      </button>
    </div>
  );
}
