/**
 * /projects/:projectId/dashboard — the admin QA dashboard (project admins and reviewers).
 * Filters live in the page URL (?from=&to=&annotator=), so a view can be reloaded and shared.
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";

import { api, ApiError, errorMessage } from "@/api/client";
import { useProjects } from "@/api/queries";
import { roleIn, useMe } from "@/auth/auth";
import type { Project } from "@/types/api";

import { FunnelChart, RateChart, ReasonsChart, ThroughputChart } from "./Charts";
import { DataTable } from "./DataTable";
import { dashboardApiPath, dashboardPath, filtersProblem, lastDays, NO_FILTERS, parseFilters, type DashboardFilters } from "./filters";
import { GoldPanel } from "./GoldPanel";
import { formatCell, labelOf, STAGE_LABELS, type DashboardData, type Table } from "./tables";
import "./dashboard.css";

type Member = { user_id: number; username: string; role: string };

function NotAllowed({ detail }: { detail?: string }) {
  return (
    <div className="page-center" data-testid="dashboard-forbidden">
      <h2>Not allowed</h2>
      <p className="muted">{detail ?? "The QA dashboard is for the project's admins and reviewers."}</p>
      <Link to="/" className="btn">
        Back to projects
      </Link>
    </div>
  );
}

function Filters({
  projectId,
  filters,
  members,
  projects,
  onChange,
}: {
  projectId: number;
  filters: DashboardFilters;
  members: Member[];
  projects: { id: number; name: string }[];
  onChange: (projectId: number, filters: DashboardFilters) => void;
}) {
  const problem = filtersProblem(filters);
  return (
    <div className="dash-filters" data-testid="dashboard-filters">
      <label>
        Project
        <select value={projectId} onChange={(e) => onChange(Number(e.target.value), filters)} data-testid="filter-project">
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        From
        <input
          type="date"
          value={filters.from ?? ""}
          onChange={(e) => onChange(projectId, { ...filters, from: e.target.value || null })}
          data-testid="filter-from"
        />
      </label>
      <label>
        To
        <input
          type="date"
          value={filters.to ?? ""}
          onChange={(e) => onChange(projectId, { ...filters, to: e.target.value || null })}
          data-testid="filter-to"
        />
      </label>
      <div className="dash-quick">
        <button type="button" className="btn btn-small" onClick={() => onChange(projectId, { ...lastDays(7), annotator: filters.annotator })} data-testid="filter-7d">
          Last 7 days
        </button>
        <button type="button" className="btn btn-small" onClick={() => onChange(projectId, { ...lastDays(30), annotator: filters.annotator })} data-testid="filter-30d">
          Last 30 days
        </button>
        <button type="button" className="btn btn-small" onClick={() => onChange(projectId, { ...NO_FILTERS, annotator: filters.annotator })} data-testid="filter-all-time">
          All time
        </button>
      </div>
      <label>
        Annotator
        <select
          value={filters.annotator ?? ""}
          onChange={(e) => onChange(projectId, { ...filters, annotator: e.target.value ? Number(e.target.value) : null })}
          data-testid="filter-annotator"
        >
          <option value="">Everyone</option>
          {members.map((m) => (
            <option key={m.user_id} value={m.user_id}>
              {m.username} ({m.role})
            </option>
          ))}
        </select>
      </label>
      {problem && (
        <p className="error-text small" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}

/** Queued/running/failed tracking jobs and live workers, at a glance. */
function Health({ jobs, workers }: { jobs: Table | undefined; workers: Table | undefined }) {
  const count = (queue: string, status: string) =>
    Number(jobs?.rows.find((r) => r.queue === queue && r.status === status)?.count ?? 0);
  const alive = (workers?.rows ?? []).filter((r) => r.alive === true).length;
  const items = [
    { label: "Tracking jobs queued", value: count("gpu", "queued"), bad: false },
    { label: "running", value: count("gpu", "running"), bad: false },
    { label: "stalled", value: count("gpu", "running_stale"), bad: count("gpu", "running_stale") > 0 },
    { label: "failed", value: count("gpu", "failed"), bad: count("gpu", "failed") > 0 },
    { label: "Workers seen in the last 5 min", value: alive, bad: alive === 0 && count("gpu", "queued") > 0 },
    { label: "Export jobs failed", value: count("export", "failed"), bad: count("export", "failed") > 0 },
    { label: "Videos failed", value: count("media", "failed"), bad: count("media", "failed") > 0 },
  ];
  return (
    <div className="dash-health" data-testid="dashboard-health">
      {items.map((i) => (
        <div key={i.label} className={i.bad ? "dash-stat bad" : "dash-stat"}>
          <b>{i.value}</b> <span className="muted">{i.label}</span>
        </div>
      ))}
    </div>
  );
}

export default function DashboardPage() {
  const params = useParams();
  const projectId = Number(params.projectId);
  const [search] = useSearchParams();
  const filters = useMemo(() => parseFilters(search), [search]);
  const navigate = useNavigate();
  const me = useMe();
  const role = roleIn(me.data, projectId);
  const allowed = role === "admin" || role === "reviewer";
  const problem = filtersProblem(filters);

  const project = useQuery({
    queryKey: ["projects", projectId],
    queryFn: () => api<Project>(`/projects/${projectId}`),
    enabled: allowed,
  });
  const projects = useProjects();
  const members = useQuery({
    queryKey: ["projects", projectId, "members"],
    queryFn: () => api<Member[]>(`/projects/${projectId}/members`),
    enabled: allowed,
  });
  const data = useQuery({
    queryKey: ["projects", projectId, "dashboard", dashboardApiPath(projectId, filters)],
    queryFn: () => api<DashboardData>(dashboardApiPath(projectId, filters)),
    enabled: allowed && !problem,
    placeholderData: keepPreviousData,
    refetchInterval: 60_000,
  });

  if (!Number.isInteger(projectId)) return <NotAllowed detail="There is no project here." />;
  if (!allowed) return <NotAllowed />;
  if (data.error instanceof ApiError && (data.error.status === 403 || data.error.status === 404)) {
    return <NotAllowed detail={data.error.body.detail} />;
  }

  const staffProjects = (projects.data ?? []).filter((p) => {
    const r = roleIn(me.data, p.id);
    return r === "admin" || r === "reviewer";
  });
  const tables = data.data?.tables ?? {};
  const kind = project.data?.kind ?? "stc";
  const common = { projectId, filters };
  const inRange = "Filters apply: date range and annotator.";
  const current = "Current state: the filters do not apply.";

  return (
    <div className="page dash-page" data-testid="dashboard-page">
      <div className="dash-title">
        <h1 className="page-title">QA dashboard{project.data ? ` · ${project.data.name}` : ""}</h1>
        <div className="dash-title-links">
          {role === "admin" && (
            <Link to={`/projects/${projectId}/exports`} className="btn btn-small" data-testid="open-exports">
              Exports
            </Link>
          )}
          <button type="button" className="btn btn-small" onClick={() => void data.refetch()} disabled={data.isFetching} data-testid="dashboard-refresh">
            {data.isFetching ? "Refreshing…" : "Refresh"}
          </button>
        </div>
      </div>
      <Filters
        projectId={projectId}
        filters={filters}
        members={members.data ?? []}
        projects={staffProjects.length ? staffProjects : [{ id: projectId, name: project.data?.name ?? `Project ${projectId}` }]}
        onChange={(id, f) => navigate(dashboardPath(id, id === projectId ? f : { ...f, annotator: null }))}
      />
      {data.isPending && !problem && <p className="muted">Loading the dashboard…</p>}
      {data.isError && (
        <p className="error-text" role="alert" data-testid="dashboard-error">
          {errorMessage(data.error)}
        </p>
      )}
      {data.data && (
        <>
          <p className="muted small" data-testid="dashboard-generated">
            Computed {formatCell("generated_at", data.data.generated_at)}
            {filters.from || filters.to ? ` · ${filters.from ?? "start"} to ${filters.to ?? "today"} (UTC days)` : " · all time"}
            {filters.annotator !== null
              ? ` · ${members.data?.find((m) => m.user_id === filters.annotator)?.username ?? `user ${filters.annotator}`}`
              : ""}
          </p>
          <Health jobs={tables.jobs} workers={tables.workers} />

          <h2 className="dash-section">Progress</h2>
          <div className="dash-grid">
            {kind === "stc" ? (
              <DataTable name="funnel" table={tables.funnel} {...common} note="Videos and masklets ingested in the range and how far they got; the annotator filter does not apply.">
                <FunnelChart table={tables.funnel} testId="chart-funnel" />
              </DataTable>
            ) : (
              <DataTable name="fgqa_funnel" table={tables.fgqa_funnel} {...common} note="Questions imported in the range and how far they got; the annotator filter does not apply.">
                <FunnelChart table={tables.fgqa_funnel} testId="chart-fgqa-funnel" />
              </DataTable>
            )}
            <DataTable name="queues" table={tables.queues} {...common} note={`Real tasks waiting per queue and the age of the oldest open one. ${current}`} />
          </div>

          <h2 className="dash-section">People</h2>
          <DataTable name="throughput" table={tables.throughput} {...common} note={`Tasks submitted per UTC day, all kinds added up in the chart (gold copies included, counted in “gold”). ${inRange}`}>
            <ThroughputChart table={tables.throughput} />
          </DataTable>
          <div className="dash-grid">
            <DataTable name="active_time" table={tables.active_time} {...common} note={`Active time from heartbeats, per task kind, of tasks submitted in the range. ${inRange}`} />
            <DataTable name="effort" table={tables.effort} {...common} note={inRange} />
          </div>

          <h2 className="dash-section">Quality</h2>
          <div className="dash-grid">
            <DataTable name="rejections" table={tables.rejections} {...common} note={`Reviews made in the range; with an annotator: reviews of their work. ${inRange}`}>
              <RateChart
                table={tables.rejections}
                category={(r) => labelOf(String(r.stage), STAGE_LABELS)}
                value="rejection_rate"
                testId="chart-rejection-rate"
                empty="No review in this period."
              />
            </DataTable>
            <DataTable name="rejection_reasons" table={tables.rejection_reasons} {...common} note="A rejection may give several reasons.">
              <ReasonsChart table={tables.rejection_reasons} />
            </DataTable>
            <DataTable name="gold_accuracy" table={tables.gold_accuracy} {...common} note={`Scores (0–100 %) of gold copies submitted in the range. ${inRange}`}>
              <RateChart
                table={tables.gold_accuracy}
                category={(r) => `${String(r.annotator)} · ${String(r.kind)}`}
                value="mean_score"
                testId="chart-gold-accuracy"
                empty="No gold copy was submitted in this period."
              />
            </DataTable>
            <DataTable name="agreement" table={tables.agreement} {...common} note="Second annotations scored against the verified item with the benchmark metric code: the human baseline. Pending: the item is not verified yet." />
          </div>
          <GoldPanel projectId={projectId} projectKind={kind} isAdmin={role === "admin"} />

          <h2 className="dash-section">Operations</h2>
          <div className="dash-grid">
            <DataTable name="jobs" table={tables.jobs} {...common} note={`Video processing (media), tracking (gpu) and exports. Stalled: running without a heartbeat for 2 minutes. ${current}`} />
            <DataTable name="workers" table={tables.workers} {...common} note={`Tracking workers seen through job heartbeats in the last 24 hours. ${current}`} />
            {kind === "stc" && (
              <DataTable name="masklet_effort" table={tables.masklet_effort} {...common} note="Per subject category, masklets of videos ingested in the range." />
            )}
          </div>
        </>
      )}
    </div>
  );
}
