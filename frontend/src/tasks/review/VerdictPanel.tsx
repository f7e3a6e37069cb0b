/**
 * Accept, or reject with reason codes and a comment. The reasons come from the task payload
 * (review_reasons); the server turns a rejection into a rework task for the author.
 */
import type { ReviewReasonOption } from "@/types/api";

export type VerdictPanelProps = {
  reasons: readonly ReviewReasonOption[];
  decision: "accept" | "reject" | null;
  chosen: readonly string[];
  comment: string;
  /** Where a rejection's rework goes, in words, given the chosen reasons. */
  reworkHint: string | null;
  /** Extra line under the Accept choice (what an accept will save). */
  acceptHint: string | null;
  problem: string | null;
  serverError: string | null;
  submitting: boolean;
  onDecision: (d: "accept" | "reject") => void;
  onReasons: (reasons: string[]) => void;
  onComment: (comment: string) => void;
  onSubmit: () => void;
  testPrefix?: string;
};

export function VerdictPanel(p: VerdictPanelProps) {
  const t = p.testPrefix ?? "review";
  const toggle = (code: string) => p.onReasons(p.chosen.includes(code) ? p.chosen.filter((c) => c !== code) : [...p.chosen, code]);
  return (
    <div className="rv-verdict" data-testid={`${t}-verdict`}>
      <div className="rv-choices" role="radiogroup" aria-label="Decision">
        <label className={`rv-choice accept${p.decision === "accept" ? " on" : ""}`}>
          <input type="radio" name={`${t}-decision`} checked={p.decision === "accept"} onChange={() => p.onDecision("accept")} data-testid={`${t}-accept`} />
          Accept
        </label>
        <label className={`rv-choice reject${p.decision === "reject" ? " on" : ""}`}>
          <input type="radio" name={`${t}-decision`} checked={p.decision === "reject"} onChange={() => p.onDecision("reject")} data-testid={`${t}-reject`} />
          Reject
        </label>
      </div>
      {p.decision === "accept" && p.acceptHint && <p className="small muted">{p.acceptHint}</p>}
      {p.decision === "reject" && (
        <div className="rv-reject">
          <fieldset className="rv-reasons" data-testid={`${t}-reasons`}>
            <legend className="small muted">Reasons (at least one)</legend>
            {p.reasons.map((r) => (
              <label key={r.code} className="rv-reason">
                <input type="checkbox" checked={p.chosen.includes(r.code)} onChange={() => toggle(r.code)} data-testid={`reason-${r.code}`} />
                {r.label}
              </label>
            ))}
          </fieldset>
          <label className="rv-comment">
            <span className="small muted">Comment for the author{p.chosen.includes("other") ? " (required with Other)" : ""}</span>
            <textarea
              value={p.comment}
              rows={3}
              maxLength={2000}
              onChange={(e) => p.onComment(e.target.value)}
              placeholder="What is wrong, and where (frames)?"
              data-testid={`${t}-comment`}
            />
          </label>
          {p.reworkHint && <p className="small muted">{p.reworkHint}</p>}
        </div>
      )}
      {p.problem && p.decision !== null && (
        <p className="small rv-problem" data-testid={`${t}-problem`}>
          {p.problem}
        </p>
      )}
      {p.serverError && (
        <p className="error-text small" role="alert" data-testid={`${t}-error`}>
          {p.serverError}
        </p>
      )}
      <button
        type="button"
        className={`btn ${p.decision === "reject" ? "btn-danger" : "btn-primary"} rv-submit`}
        disabled={p.decision === null || p.problem !== null || p.submitting}
        onClick={p.onSubmit}
        data-testid={`${t}-submit`}
      >
        {p.submitting ? "Submitting…" : p.decision === "reject" ? "Reject and send back" : p.decision === "accept" ? "Accept" : "Choose accept or reject"}
      </button>
    </div>
  );
}
