import { Link, useNavigate } from "react-router";

import { errorMessage } from "@/api/client";
import { QUEUE_INFO, queuesFor, useProjects, useQueueCounts } from "@/api/queries";
import { useMe } from "@/auth/auth";
import { useShortcuts } from "@/lib/shortcuts";
import type { Project, QueueName, Role } from "@/types/api";

function QueueRow({ project, queue }: { project: Project; queue: QueueName }) {
  const counts = useQueueCounts(project.id);
  const navigate = useNavigate();
  const c = counts.data?.[queue];
  const mine = c?.mine ?? 0;
  const info = QUEUE_INFO[queue];
  return (
    <div className="queue-row" data-testid="queue-row" data-queue={queue}>
      <div className="queue-main">
        <div className="queue-title">{info.title}</div>
        <div className="queue-blurb muted">{info.blurb}</div>
      </div>
      <div className="queue-counts" data-testid="queue-counts">
        {counts.isPending ? (
          <span className="muted">…</span>
        ) : counts.isError ? (
          <span className="error-text">{errorMessage(counts.error)}</span>
        ) : (
          <>
            <span title="Tasks waiting in this queue">
              <b data-testid="queue-open">{c?.open ?? 0}</b> open
            </span>
            <span title="Tasks someone is working on now">
              <b>{c?.leased ?? 0}</b> in progress
            </span>
          </>
        )}
      </div>
      <button
        type="button"
        className="btn btn-primary"
        data-testid="start-working"
        data-queue={queue}
        data-project={project.name}
        onClick={() => navigate(`/projects/${project.id}/work/${queue}`)}
      >
        {mine > 0 ? "Resume" : "Start working"}
      </button>
    </div>
  );
}

function ProjectCard({ project, role }: { project: Project; role: Role }) {
  const queues = queuesFor(role, project.kind);
  return (
    <section className="card project-card" data-testid="project-card" data-project={project.name}>
      <header className="card-head">
        <div>
          <h2>{project.name}</h2>
          <div className="muted small">
            {project.kind === "stc" ? "Spatio-temporal captions" : "Fine-grained QA"} · {project.ready_count ?? 0}/
            {project.video_count ?? 0} videos ready · {project.annotation_fps} fps · you are {role}
          </div>
        </div>
        {role !== "annotator" && (
          <div className="card-links">
            <Link to={`/projects/${project.id}/dashboard`} data-testid="open-dashboard">
              Dashboard
            </Link>
            {role === "admin" && (
              <Link to={`/projects/${project.id}/exports`} data-testid="open-exports">
                Exports
              </Link>
            )}
          </div>
        )}
      </header>
      <div className="queue-list">
        {queues.map((q) => (
          <QueueRow key={q} project={project} queue={q} />
        ))}
      </div>
    </section>
  );
}

export default function HomePage() {
  const me = useMe();
  const projects = useProjects();
  const navigate = useNavigate();
  const rows = (projects.data ?? [])
    .map((p) => {
      const role: Role | null = me.data?.is_superuser
        ? "admin"
        : (me.data?.memberships.find((m) => m.project.id === p.id)?.role ?? null);
      return role ? { project: p, role } : null;
    })
    .filter((r): r is { project: Project; role: Role } => r !== null);

  const first = rows[0];
  const firstQueue = first ? queuesFor(first.role, first.project.kind)[0] : undefined;
  useShortcuts(
    first && firstQueue
      ? [
          {
            keys: ["Enter"],
            description: `Start working (${first.project.name}, ${QUEUE_INFO[firstQueue].title})`,
            group: "Home",
            run: () => navigate(`/projects/${first.project.id}/work/${firstQueue}`),
          },
        ]
      : [],
  );

  return (
    <div className="page home-page">
      <h1 className="page-title">Your projects</h1>
      {projects.isPending && <p className="muted">Loading projects…</p>}
      {projects.isError && <p className="error-text">{errorMessage(projects.error)}</p>}
      {projects.isSuccess && rows.length === 0 && (
        <p className="muted" data-testid="no-projects">
          You are not a member of any project yet. Ask a project admin to add you.
        </p>
      )}
      {rows.map(({ project, role }) => (
        <ProjectCard key={project.id} project={project} role={role} />
      ))}
    </div>
  );
}
