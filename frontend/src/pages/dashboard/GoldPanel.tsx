import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, errorMessage } from "@/api/client";

import { formatCell } from "./tables";

export type GoldItem = {
  id: number;
  kind: string;
  masklet_id: number | null;
  fgqa_question_id: number | null;
  video_id: number;
  active: boolean;
  copies_submitted: number;
  mean_score: number | null;
  created_by: string | null;
  created_at: string;
};

const KIND_LABELS: Record<string, string> = {
  select: "Mask (pass 1)",
  caption: "Captions (pass 2)",
  fgqa_answer: "FGQA answer",
};

/**
 * Gold items of the project (GET/POST /api/projects/<id>/gold, DELETE /api/gold/<id>): reviewers
 * see them, admins mark a verified masklet or question as gold and deactivate items.
 */
export function GoldPanel({ projectId, projectKind, isAdmin }: { projectId: number; projectKind: "stc" | "fgqa"; isAdmin: boolean }) {
  const client = useQueryClient();
  const key = ["projects", projectId, "gold"];
  const gold = useQuery({ queryKey: key, queryFn: () => api<GoldItem[]>(`/projects/${projectId}/gold`) });
  const [itemId, setItemId] = useState("");
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const what = projectKind === "stc" ? "masklet" : "question";

  const mark = useMutation({
    mutationFn: (id: number) =>
      api<GoldItem[]>(`/projects/${projectId}/gold`, {
        method: "POST",
        body: projectKind === "stc" ? { masklet_id: id } : { fgqa_question_id: id },
      }),
    onSuccess: (items) => {
      setMessage({
        kind: "ok",
        text: `Marked ${what} ${itemId} as gold for ${items.map((i) => KIND_LABELS[i.kind] ?? i.kind).join(" and ")}.`,
      });
      setItemId("");
      void client.invalidateQueries({ queryKey: key });
    },
    onError: (error) => setMessage({ kind: "error", text: errorMessage(error) }),
  });

  const deactivate = useMutation({
    mutationFn: (id: number) => api<void>(`/gold/${id}`, { method: "DELETE" }),
    onSuccess: () => void client.invalidateQueries({ queryKey: key }),
    onError: (error) => setMessage({ kind: "error", text: errorMessage(error) }),
  });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const id = Number(itemId);
    if (!Number.isInteger(id) || id <= 0) {
      setMessage({ kind: "error", text: `Enter the id of an accepted ${what}.` });
      return;
    }
    setMessage(null);
    mark.mutate(id);
  };

  const items = gold.data ?? [];
  return (
    <section className="card dash-card" data-testid="gold-panel">
      <header className="dash-card-head">
        <h2>Gold items</h2>
      </header>
      <p className="muted small dash-note">
        Gold items are verified {what}s mixed into annotators&apos; queues; each copy is scored against the reference
        {projectKind === "stc" ? " (mask: mean per-frame IoU; captions: temporal recall)" : " (answer agreement)"}. Only
        accepted {what}s can be gold; the {what} id is shown in the review screen&apos;s history.
      </p>
      {isAdmin && (
        <form className="dash-gold-form" onSubmit={onSubmit}>
          <label>
            {projectKind === "stc" ? "Masklet id" : "Question id"}{" "}
            <input
              type="number"
              min={1}
              inputMode="numeric"
              value={itemId}
              onChange={(e) => setItemId(e.target.value)}
              data-testid="gold-item-id"
            />
          </label>
          <button type="submit" className="btn btn-primary btn-small" disabled={mark.isPending || !itemId} data-testid="gold-mark">
            {mark.isPending ? "Marking…" : "Mark as gold"}
          </button>
        </form>
      )}
      {message && (
        <p className={message.kind === "ok" ? "dash-ok small" : "error-text small"} role={message.kind === "error" ? "alert" : "status"} data-testid="gold-message">
          {message.text}
        </p>
      )}
      {gold.isError && <p className="error-text small">{errorMessage(gold.error)}</p>}
      {gold.isSuccess && items.length === 0 && <p className="muted small">No gold items yet.</p>}
      {items.length > 0 && (
        <div className="dash-table-wrap">
          <table className="dash-table" data-testid="gold-table">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">For</th>
                <th scope="col">{projectKind === "stc" ? "Masklet" : "Question"}</th>
                <th scope="col">Video</th>
                <th scope="col">Copies scored</th>
                <th scope="col">Mean score</th>
                <th scope="col">Marked by</th>
                <th scope="col">Status</th>
                {isAdmin && <th scope="col" />}
              </tr>
            </thead>
            <tbody>
              {items.map((g) => (
                <tr key={g.id} data-testid="gold-row" data-active={g.active}>
                  <td className="num">{g.id}</td>
                  <td>{KIND_LABELS[g.kind] ?? g.kind}</td>
                  <td className="num">{g.masklet_id ?? g.fgqa_question_id}</td>
                  <td className="num">{g.video_id}</td>
                  <td className="num">{g.copies_submitted}</td>
                  <td className="num">{formatCell("mean_score", g.mean_score)}</td>
                  <td>{g.created_by ?? "—"}</td>
                  <td>{g.active ? "active" : "retired"}</td>
                  {isAdmin && (
                    <td>
                      {g.active && (
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={deactivate.isPending}
                          onClick={() => deactivate.mutate(g.id)}
                          data-testid="gold-deactivate"
                        >
                          Deactivate
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
