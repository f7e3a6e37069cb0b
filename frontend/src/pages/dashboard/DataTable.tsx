import type { ReactNode } from "react";

import { csvFilename, csvHref, type DashboardFilters } from "./filters";
import { columnLabel, formatCell, TABLE_TITLES, type Table } from "./tables";

/** A dashboard table as the server sent it (every column), with its CSV download link. */
export function DataTable({
  name,
  table,
  projectId,
  filters,
  note,
  children,
}: {
  name: string;
  table: Table | undefined;
  projectId: number;
  filters: DashboardFilters;
  /** What the filters do to this table, in words. */
  note?: string;
  /** A chart shown above the table. */
  children?: ReactNode;
}) {
  const rows = table?.rows ?? [];
  const columns = table?.columns ?? [];
  return (
    <section className="card dash-card" data-testid={`table-${name}`}>
      <header className="dash-card-head">
        <h2>{TABLE_TITLES[name] ?? columnLabel(name)}</h2>
        <a
          className="btn btn-small"
          href={csvHref(projectId, name, filters)}
          download={csvFilename(projectId, name)}
          data-testid={`csv-${name}`}
        >
          CSV
        </a>
      </header>
      {note && <p className="muted small dash-note">{note}</p>}
      {children}
      {rows.length === 0 ? (
        <p className="muted small">No rows.</p>
      ) : (
        <div className="dash-table-wrap">
          <table className="dash-table">
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c} scope="col">
                    {columnLabel(c)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, k) => (
                <tr key={k}>
                  {columns.map((c) => (
                    <td key={c} className={typeof row[c] === "number" ? "num" : String(row[c] ?? "").length > 28 ? "wrap" : undefined}>
                      {formatCell(c, row[c] ?? null)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
