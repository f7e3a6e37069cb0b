import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { errorMessage } from "@/api/client";
import { queryKeys, queueOfKind, useTask } from "@/api/queries";
import { TaskRunner, type TaskFinish } from "@/tasks/TaskRunner";

/** /tasks/:taskId: open one task (a link from a list or a notification). */
export default function TaskPage() {
  const params = useParams();
  const taskId = Number(params.taskId);
  const task = useTask(taskId);
  const navigate = useNavigate();
  const client = useQueryClient();
  const [loads, setLoads] = useState(0);

  const onFinished = useCallback(
    (how: TaskFinish) => {
      const t = task.data;
      if (!t || how === "released") {
        navigate("/");
        return;
      }
      // Carry on with the queue this task came from.
      navigate(`/projects/${t.project.id}/work/${queueOfKind(t.kind)}`);
    },
    [task.data, navigate],
  );

  if (task.isPending) return <div className="page-center muted">Loading task…</div>;
  if (task.isError) {
    return (
      <div className="page-center">
        <p className="error-text">{errorMessage(task.error)}</p>
        <Link to="/" className="btn">
          Back to projects
        </Link>
      </div>
    );
  }
  return (
    <div className="work-page">
      <TaskRunner
        key={`${task.data.id}:${loads}`}
        task={task.data}
        onFinished={onFinished}
        onReload={() => {
          void client.invalidateQueries({ queryKey: queryKeys.task(taskId) }).then(() => setLoads((n) => n + 1));
        }}
      />
    </div>
  );
}
