/**
 * The masklet's history beside the review: every revision (who, when, what) and a diff between two
 * chosen revisions — per-frame mask IoU, caption text word by word.
 */
import { useMemo, useState } from "react";

import { errorMessage } from "@/api/client";

import { useCaptionDiff, useMaskDiff, useMaskletHistory } from "./api";
import { defaultPair, historyEvents, type CaptionDiff } from "./history";
import { IouChart } from "./IouChart";
import { formatRuns, iouPoints, iouSummary, worstFrames } from "./maskDiff";
import { fromServerOps } from "./textDiff";
import { WordDiffText } from "./WordDiffText";

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function PairPicker({
  label,
  numbers,
  pair,
  onChange,
  testId,
}: {
  label: string;
  numbers: number[];
  pair: [number, number];
  onChange: (pair: [number, number]) => void;
  testId: string;
}) {
  return (
    <div className="rv-pair" data-testid={testId}>
      <span>{label}</span>
      <select value={pair[0]} onChange={(e) => onChange([Number(e.target.value), pair[1]])} data-testid={`${testId}-from`} aria-label={`${label}: from revision`}>
        {numbers.map((n) => (
          <option key={n} value={n}>
            rev {n}
          </option>
        ))}
      </select>
      <span>→</span>
      <select value={pair[1]} onChange={(e) => onChange([pair[0], Number(e.target.value)])} data-testid={`${testId}-to`} aria-label={`${label}: to revision`}>
        {numbers.map((n) => (
          <option key={n} value={n}>
            rev {n}
          </option>
        ))}
      </select>
    </div>
  );
}

function MaskDiffView({ maskletId, pair, frame, onSeek }: { maskletId: number; pair: [number, number]; frame: number; onSeek: (f: number) => void }) {
  const diff = useMaskDiff(maskletId, pair);
  const points = useMemo(() => (diff.data ? iouPoints(diff.data) : []), [diff.data]);
  if (diff.isPending) return <p className="muted small">Comparing masks…</p>;
  if (diff.isError) return <p className="error-text small">{errorMessage(diff.error)}</p>;
  const s = iouSummary(points);
  const worst = worstFrames(points, 4);
  return (
    <div className="rv-maskdiff" data-testid="mask-diff">
      <p className="small" data-testid="mask-diff-summary">
        Mean IoU <b>{s.mean === null ? "—" : s.mean.toFixed(3)}</b> · {s.changed} of {s.frames} frames changed
        {s.min && s.min.iou < 1 ? ` · lowest ${s.min.iou.toFixed(2)} at frame ${s.min.frame}` : ""}
        {diff.data.prompts_from !== diff.data.prompts_to ? ` · clicks ${diff.data.prompts_from} → ${diff.data.prompts_to}` : ""}
      </p>
      {s.appeared.length > 0 && <p className="small muted">Subject added on frames {formatRuns(s.appeared)}</p>}
      {s.disappeared.length > 0 && <p className="small muted">Subject removed on frames {formatRuns(s.disappeared)}</p>}
      {pair[0] === pair[1] ? (
        <p className="muted small">Choose two different revisions to compare.</p>
      ) : (
        <>
          <IouChart points={points} frame={frame} onSeek={onSeek} />
          {worst.length > 0 && (
            <div className="rv-worst small">
              Most changed:{" "}
              {worst.map((p) => (
                <button key={p.frame} type="button" className="btn-chip" onClick={() => onSeek(p.frame)} title={p.note} data-testid="diff-frame">
                  {p.frame} ({p.iou === null ? "—" : p.iou.toFixed(2)})
                </button>
              ))}
            </div>
          )}
        </>
      )}
    </div>
  );
}

function CaptionDiffRows({ diff, onSeek }: { diff: CaptionDiff; onSeek: (f: number) => void }) {
  const rows = diff.segments;
  return (
    <div data-testid="caption-diff">
      <p className="small">
        {diff.summary.changed} changed · {diff.summary.added} added · {diff.summary.removed} removed · {diff.summary.unchanged} unchanged
      </p>
      <ul className="rv-capdiff">
        {rows.map((r) => (
          <li key={`${r.status}:${r.start_frame}:${r.end_frame}`} className={`rv-capdiff-${r.status}`} data-testid="caption-diff-row" data-status={r.status}>
            <button type="button" className="btn-link rv-frames" onClick={() => onSeek(r.start_frame)}>
              {r.start_frame}–{r.end_frame}
            </button>
            <span className="rv-capdiff-status">{r.status}</span>
            {r.status === "changed" ? (
              <WordDiffText parts={fromServerOps(r.words)} />
            ) : r.status === "added" ? (
              <ins className="rv-ins">{r.after}</ins>
            ) : r.status === "removed" ? (
              <del className="rv-del">{r.before}</del>
            ) : (
              <span className="muted">{r.after}</span>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

function CaptionDiffView({ maskletId, pair, onSeek }: { maskletId: number; pair: [number, number]; onSeek: (f: number) => void }) {
  const diff = useCaptionDiff(maskletId, pair);
  if (diff.isPending) return <p className="muted small">Comparing captions…</p>;
  if (diff.isError) return <p className="error-text small">{errorMessage(diff.error)}</p>;
  return <CaptionDiffRows diff={diff.data} onSeek={onSeek} />;
}

export function HistoryPanel({
  maskletId,
  reasonLabel,
  frame,
  onSeek,
}: {
  maskletId: number;
  reasonLabel: (code: string) => string;
  frame: number;
  onSeek: (frame: number) => void;
}) {
  const history = useMaskletHistory(maskletId);
  const [maskPair, setMaskPair] = useState<[number, number] | null>(null);
  const [capPair, setCapPair] = useState<[number, number] | null>(null);
  if (history.isPending) return <p className="muted small">Loading the history…</p>;
  if (history.isError) return <p className="error-text small">{errorMessage(history.error)}</p>;
  const h = history.data;
  const events = historyEvents(h, reasonLabel);
  const maskNumbers = h.mask_revisions.map((r) => r.number);
  const capNumbers = h.caption_revisions.map((r) => r.number);
  const mp = maskPair ?? defaultPair(maskNumbers);
  const cp = capPair ?? defaultPair(capNumbers);
  return (
    <div className="rv-history" data-testid="history-panel">
      <p className="muted small">
        Masklet {h.masklet.id} (object {h.masklet.object_id}, {h.masklet.category}) · {h.masklet.status}
      </p>
      <ol className="rv-events" data-testid="history-events">
        {events.map((e) => (
          <li key={e.key} className={`rv-event rv-event-${e.tone}`} data-testid="history-event" data-kind={e.kind}>
            <div className="rv-event-head">
              <b>{e.title}</b>
              <span className="muted small">
                {e.who ?? "system"} · {when(e.at)}
              </span>
            </div>
            {e.detail && <div className="small">{e.detail}</div>}
          </li>
        ))}
      </ol>
      <h3>Compare revisions</h3>
      {mp ? (
        <>
          <PairPicker label="Mask" numbers={maskNumbers} pair={mp} onChange={setMaskPair} testId="mask-pair" />
          <MaskDiffView maskletId={maskletId} pair={mp} frame={frame} onSeek={onSeek} />
        </>
      ) : (
        <p className="muted small">No mask revision yet.</p>
      )}
      {cp ? (
        <>
          <PairPicker label="Captions" numbers={capNumbers} pair={cp} onChange={setCapPair} testId="caption-pair" />
          {cp[0] === cp[1] ? (
            <p className="muted small">{capNumbers.length > 1 ? "Choose two different revisions to compare." : "Only one caption revision so far."}</p>
          ) : (
            <CaptionDiffView maskletId={maskletId} pair={cp} onSeek={onSeek} />
          )}
        </>
      ) : (
        <p className="muted small">No captions yet.</p>
      )}
    </div>
  );
}
