/**
 * Dashboard filters ↔ the page's query string ↔ the API's query string, and the CSV link of
 * each table (GET /api/projects/<id>/dashboard/<table>?format=csv&…, annotation/apis/dashboard.py).
 *
 * Dates are whole UTC days, inclusive at both ends, written YYYY-MM-DD as the API takes them.
 */

export type DashboardFilters = {
  from: string | null;
  to: string | null;
  /** User id of one annotator, or null for everyone. */
  annotator: number | null;
};

export const NO_FILTERS: DashboardFilters = { from: null, to: null, annotator: null };

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isDate(value: string | null): value is string {
  if (value === null || !DATE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/** Filters from a query string (the page URL): anything malformed is ignored, not an error. */
export function parseFilters(search: string | URLSearchParams): DashboardFilters {
  const params = typeof search === "string" ? new URLSearchParams(search) : search;
  const from = params.get("from");
  const to = params.get("to");
  const annotator = params.get("annotator");
  const id = annotator !== null && /^\d+$/.test(annotator) ? Number(annotator) : null;
  return {
    from: isDate(from) ? from : null,
    to: isDate(to) ? to : null,
    annotator: id !== null && id > 0 ? id : null,
  };
}

/** The query string for the filters ("" when none), in a fixed order so URLs are stable. */
export function filtersQuery(filters: DashboardFilters): string {
  const params = new URLSearchParams();
  if (filters.from) params.set("from", filters.from);
  if (filters.to) params.set("to", filters.to);
  if (filters.annotator !== null) params.set("annotator", String(filters.annotator));
  return params.toString();
}

/** A problem with the filters the user should see before asking the server, or null. */
export function filtersProblem(filters: DashboardFilters): string | null {
  if (filters.from && filters.to && filters.from > filters.to) {
    return "The end date is before the start date.";
  }
  return null;
}

export function dashboardPath(projectId: number, filters: DashboardFilters): string {
  const q = filtersQuery(filters);
  return `/projects/${projectId}/dashboard${q ? `?${q}` : ""}`;
}

/** The API path (relative to /api) of the whole dashboard. */
export function dashboardApiPath(projectId: number, filters: DashboardFilters): string {
  const q = filtersQuery(filters);
  return `/projects/${projectId}/dashboard${q ? `?${q}` : ""}`;
}

/** The absolute URL (an <a href> the browser downloads) of one table as CSV with the filters. */
export function csvHref(projectId: number, table: string, filters: DashboardFilters): string {
  const q = filtersQuery(filters);
  return `/api/projects/${projectId}/dashboard/${encodeURIComponent(table)}?format=csv${q ? `&${q}` : ""}`;
}

/** The file name the server gives the CSV (Content-Disposition), for the download attribute. */
export function csvFilename(projectId: number, table: string): string {
  return `${table}-project${projectId}.csv`;
}

/** YYYY-MM-DD of a date in UTC. */
export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The last `days` days up to and including today (UTC). */
export function lastDays(days: number, today: Date = new Date()): DashboardFilters {
  const end = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
  const start = new Date(end.getTime() - (days - 1) * 86_400_000);
  return { from: isoDay(start), to: isoDay(end), annotator: null };
}
