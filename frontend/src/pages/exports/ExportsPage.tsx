/**
 * /projects/:projectId/exports — dataset releases (project admins): start an export job on the
 * export queue, watch its progress, download the zip; videos per split.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";

import { api, ApiError, errorMessage } from "@/api/client";
import { roleIn, useMe } from "@/auth/auth";
import type { Project } from "@/types/api";

import { formatCell } from "../dashboard/tables";
import {
  exportOptions,
  FORMATS,
  isActive,
  jobTitle,
  pollInterval,
  progressPercent,
  progressText,
  TASK_LABELS,
  type ExportJob,
  type ExportRequest,
  type SplitCounts,
} from "./exportJobs";
import "../dashboard/dashboard.css";
import "./exports.css";

function NotAllowed({ detail }: { detail?: string }) {
  return (
    <div className="page-center" data-testid="exports-forbidden">
      <h2>Not allowed</h2>
      <p className="muted">{detail ?? "Dataset exports are for the project's admins."}</p>
      <Link to="/" className="btn">
        Back to projects
      </Link>
    </div>
  );
}

function Splits({ projectId }: { projectId: number }) {
  const splits = useQuery({
    queryKey: ["projects", projectId, "splits"],
    queryFn: () => api<SplitCounts>(`/projects/${projectId}/splits`),
  });
  if (splits.isPending) return <p className="muted small">Loading splits…</p>;
  if (splits.isError) return <p className="error-text small">{errorMessage(splits.error)}</p>;
  const { videos, runs } = splits.data;
  const latest = runs[0];
  return (
    <section className="card dash-card" data-testid="split-counts">
      <header className="dash-card-head">
        <h2>Videos per split</h2>
      </header>
      <div className="exp-splits">
        {Object.entries(videos).map(([split, n]) => (
          <div key={split} className={split === "unassigned" && n > 0 ? "dash-stat bad" : "dash-stat"} data-testid={`split-${split}`}>
            <b>{n}</b> <span className="muted">{split}</span>
          </div>
        ))}
      </div>
      <p className="muted small dash-note">
        {latest
          ? `Split version ${latest.version}, assigned ${formatCell("created_at", latest.created_at)} (seed ${latest.seed}, val ${latest.val_fraction}, test ${latest.test_fraction}). `
          : "No split has been assigned yet. "}
        {videos.unassigned
          ? `${videos.unassigned} video(s) have no split and are in no export: run “manage.py assign_splits”.`
          : ""}
        {" "}Only verified items are exported (accepted masklets with unflagged captions; accepted FGQA questions).
      </p>
    </section>
  );
}

function CreateExport({ projectId, kind, onCreated }: { projectId: number; kind: "stc" | "fgqa"; onCreated: (job: ExportJob, fresh: boolean) => void }) {
  const options = exportOptions(kind);
  const [form, setForm] = useState<ExportRequest>({ split: "train", task: "all", format: "jsonl" });
  const [error, setError] = useState<string | null>(null);
  const client = useQueryClient();
  const create = useMutation({
    mutationFn: async (body: ExportRequest) => {
      // 201: a new job; 200: the same export was already queued or running (that job).
      const before = client.getQueryData<ExportJob[]>(["projects", projectId, "exports"]) ?? [];
      const job = await api<ExportJob>(`/projects/${projectId}/exports`, { method: "POST", body });
      return { job, fresh: !before.some((j) => j.id === job.id) };
    },
    onSuccess: ({ job, fresh }) => {
      setError(null);
      onCreated(job, fresh);
      void client.invalidateQueries({ queryKey: ["projects", projectId, "exports"] });
    },
    onError: (e) => setError(e instanceof ApiError && e.body.errors ? Object.values(e.body.errors).flat().join(" ") || e.body.detail : errorMessage(e)),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(kind === "stc" ? form : { ...form, task: "all" });
  };
  return (
    <section className="card dash-card">
      <header className="dash-card-head">
        <h2>New export · {kind === "stc" ? "PLM-STC" : "PLM-FGQA"}</h2>
      </header>
      <form className="exp-form" onSubmit={onSubmit} data-testid="export-form">
        <label>
          Split
          <select value={form.split} onChange={(e) => setForm({ ...form, split: e.target.value })} data-testid="export-split">
            {options.splits.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {kind === "stc" && (
          <label>
            Task
            <select value={form.task} onChange={(e) => setForm({ ...form, task: e.target.value })} data-testid="export-task">
              {options.tasks.map((t) => (
                <option key={t} value={t}>
                  {TASK_LABELS[t] ?? t}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Format
          <select value={form.format} onChange={(e) => setForm({ ...form, format: e.target.value })} data-testid="export-format">
            {FORMATS.map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="btn btn-primary" disabled={create.isPending} data-testid="export-start">
          {create.isPending ? "Starting…" : "Start export"}
        </button>
      </form>
      {error && (
        <p className="error-text small" role="alert" data-testid="export-create-error">
          {error}
        </p>
      )}
    </section>
  );
}

function JobDetails({ jobId }: { jobId: number }) {
  const detail = useQuery({ queryKey: ["exports", jobId], queryFn: () => api<ExportJob>(`/exports/${jobId}`) });
  if (detail.isPending) return <p className="muted small">Loading…</p>;
  if (detail.isError) return <p className="error-text small">{errorMessage(detail.error)}</p>;
  const files = detail.data.manifest?.files ?? [];
  return files.length === 0 ? (
    <p className="muted small">No files listed.</p>
  ) : (
    <table className="dash-table" data-testid="export-files">
      <thead>
        <tr>
          <th scope="col">File</th>
          <th scope="col">Rows</th>
          <th scope="col">Bytes</th>
          <th scope="col">sha256</th>
        </tr>
      </thead>
      <tbody>
        {files.map((f) => (
          <tr key={f.path}>
            <td className="mono">{f.path}</td>
            <td className="num">{f.rows ?? "—"}</td>
            <td className="num">{f.bytes?.toLocaleString("en-US") ?? "—"}</td>
            <td className="mono">{f.sha256 ? `${f.sha256.slice(0, 12)}…` : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function JobRow({ job, highlight }: { job: ExportJob; highlight: boolean }) {
  const [open, setOpen] = useState(false);
  const percent = progressPercent(job);
  const excluded = Object.entries(job.report?.excluded ?? {}).filter(([, n]) => typeof n === "number" && n > 0);
  return (
    <li className={highlight ? "exp-job highlight" : "exp-job"} data-testid="export-job" data-status={job.status} data-job-id={job.id}>
      <div className="exp-job-head">
        <b>{jobTitle(job)}</b>
        <span className={`badge exp-status-${job.status}`} data-testid="export-status">
          {job.status}
        </span>
        <span className="muted small">
          #{job.id} · {job.created_by ?? "—"} · {formatCell("created_at", job.created_at)}
          {job.split_version !== null ? ` · split v${job.split_version}` : ""}
        </span>
        <span className="spacer" />
        {job.download_url && (
          <a className="btn btn-primary btn-small" href={job.download_url} data-testid="export-download">
            Download zip
          </a>
        )}
        {job.status === "succeeded" && (
          <button type="button" className="btn btn-small" onClick={() => setOpen(!open)} aria-expanded={open} data-testid="export-files-toggle">
            {open ? "Hide files" : "Files"}
          </button>
        )}
      </div>
      {isActive(job) && (
        <div className="exp-progress">
          <progress max={100} value={percent ?? undefined} data-testid="export-progress" />
        </div>
      )}
      <div className="small" data-testid="export-progress-text">
        {progressText(job)}
        {job.attempts > 1 ? ` (attempt ${job.attempts})` : ""}
        {job.expires_in ? ` · the download link expires in ${Math.round(job.expires_in / 60)} min (reload for a new one)` : ""}
      </div>
      {excluded.length > 0 && (
        <div className="muted small">
          Left out (not verified or not in this split): {excluded.map(([k, n]) => `${n} ${k.replace(/_/g, " ")}`).join(", ")}
        </div>
      )}
      {job.status === "failed" && (
        <pre className="exp-error" role="alert" data-testid="export-error">
          {job.error || "The export failed without a message."}
        </pre>
      )}
      {open && <JobDetails jobId={job.id} />}
    </li>
  );
}

export default function ExportsPage() {
  const params = useParams();
  const projectId = Number(params.projectId);
  const me = useMe();
  const isAdmin = roleIn(me.data, projectId) === "admin";
  const [notice, setNotice] = useState<{ id: number; text: string } | null>(null);
  const project = useQuery({
    queryKey: ["projects", projectId],
    queryFn: () => api<Project>(`/projects/${projectId}`),
    enabled: isAdmin,
  });
  const jobs = useQuery({
    queryKey: ["projects", projectId, "exports"],
    queryFn: () => api<ExportJob[]>(`/projects/${projectId}/exports`),
    enabled: isAdmin,
    refetchInterval: (query) => pollInterval(query.state.data),
  });

  if (!Number.isInteger(projectId) || !isAdmin) return <NotAllowed />;
  if (jobs.error instanceof ApiError && (jobs.error.status === 403 || jobs.error.status === 404)) {
    return <NotAllowed detail={jobs.error.body.detail} />;
  }
  const list = jobs.data ?? [];
  return (
    <div className="page dash-page" data-testid="exports-page">
      <div className="dash-title">
        <h1 className="page-title">Exports{project.data ? ` · ${project.data.name}` : ""}</h1>
        <Link to={`/projects/${projectId}/dashboard`} className="btn btn-small" data-testid="open-dashboard">
          Dashboard
        </Link>
      </div>
      <div className="dash-grid">
        {project.data && (
          <CreateExport
            projectId={projectId}
            kind={project.data.kind}
            onCreated={(job, fresh) =>
              setNotice({
                id: job.id,
                text: fresh ? `Export #${job.id} queued.` : `The same export is already ${job.status} (#${job.id}); follow it below.`,
              })
            }
          />
        )}
        {project.isError && <p className="error-text">{errorMessage(project.error)}</p>}
        <Splits projectId={projectId} />
      </div>
      {notice && (
        <p className="dash-ok" role="status" data-testid="export-notice">
          {notice.text}
        </p>
      )}
      <section className="card dash-card">
        <header className="dash-card-head">
          <h2>Export jobs</h2>
          {list.some(isActive) && <span className="muted small">updating live…</span>}
        </header>
        {jobs.isPending && <p className="muted small">Loading…</p>}
        {jobs.isError && <p className="error-text small">{errorMessage(jobs.error)}</p>}
        {jobs.isSuccess && list.length === 0 && <p className="muted small">No export yet. Start one above.</p>}
        <ul className="exp-jobs" data-testid="export-jobs">
          {list.map((job) => (
            <JobRow key={job.id} job={job} highlight={notice?.id === job.id} />
          ))}
        </ul>
      </section>
    </div>
  );
}
