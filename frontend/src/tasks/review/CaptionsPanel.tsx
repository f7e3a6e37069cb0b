/**
 * The captions under review: each typed segment with its frames and text, editable in place,
 * with what the reviewer changed shown as a word diff against the author's text. Out-of-frame
 * segments come from the mask and are listed read-only.
 */
import type { Segment, SegmentIssue } from "@/lib/segments";

import { changeOf, type ReviewSegment } from "./reviewCaptions";
import { wordDiff } from "./textDiff";
import { WordDiffText } from "./WordDiffText";

export type CaptionsPanelProps = {
  segments: readonly ReviewSegment[];
  outOfFrame: readonly Segment[];
  issues: readonly SegmentIssue[];
  /** Keys of segments to re-check (the mask changed under them). */
  flagged: ReadonlySet<number>;
  /** Every caption is flagged (captions written against an older mask). */
  allFlagged: boolean;
  frame: number;
  total: number;
  readOnly: boolean;
  onSeek: (frame: number) => void;
  onCaption: (key: number, caption: string) => void;
  onFrames: (key: number, start: number, end: number) => void;
  onRemove: (key: number) => void;
  onSplit: (key: number) => void;
  onRestore: (key: number) => void;
};

const CHANGE_LABELS = { text: "text edited", frames: "frames moved", both: "text and frames edited", added: "added by you" } as const;

export function CaptionsPanel(p: CaptionsPanelProps) {
  const issueOf = (index: number) => p.issues.filter((i) => i.index === index);
  type Row = { kind: "typed"; s: ReviewSegment; index: number } | { kind: "oof"; s: Segment };
  const rows: Row[] = [
    ...p.segments.map((s, index) => ({ kind: "typed" as const, s, index })),
    ...p.outOfFrame.map((s) => ({ kind: "oof" as const, s })),
  ].sort((a, b) => a.s.start_frame - b.s.start_frame);
  const listIssues = p.issues.filter((i) => i.index === null);
  return (
    <div className="rv-captions" data-testid="review-captions">
      <ol className="rv-seglist">
        {rows.map((row) => {
          const s = row.s;
          const here = p.frame >= s.start_frame && p.frame <= s.end_frame;
          if (row.kind === "oof") {
            return (
              <li key={`oof-${s.start_frame}`} className={`rv-seg rv-seg-oof${here ? " here" : ""}`} data-testid="review-segment-oof">
                <button type="button" className="btn-link rv-frames" onClick={() => p.onSeek(s.start_frame)}>
                  {s.start_frame}–{s.end_frame}
                </button>
                <span className="muted">{s.caption} (from the mask)</span>
              </li>
            );
          }
          const seg = row.s;
          const change = changeOf(seg);
          const flagged = (p.allFlagged && seg.original !== null) || p.flagged.has(seg.key);
          const problems = issueOf(row.index);
          return (
            <li
              key={seg.key}
              className={`rv-seg${here ? " here" : ""}${flagged ? " flagged" : ""}${problems.length ? " invalid" : ""}`}
              data-testid="review-segment"
              data-change={change}
              data-flagged={flagged}
            >
              <div className="rv-seg-head">
                <button type="button" className="btn-link rv-frames" onClick={() => p.onSeek(seg.start_frame)} title="Go to the first frame">
                  {seg.start_frame}–{seg.end_frame}
                </button>
                {flagged && (
                  <span className="badge badge-warn" data-testid="needs-recheck">
                    needs re-check
                  </span>
                )}
                {change !== "unchanged" && <span className="badge">{CHANGE_LABELS[change]}</span>}
                <span className="spacer" />
                {!p.readOnly && (
                  <>
                    <label className="rv-num" title="First frame">
                      <input
                        type="number"
                        min={0}
                        max={p.total - 1}
                        value={seg.start_frame}
                        onChange={(e) => p.onFrames(seg.key, Number(e.target.value), seg.end_frame)}
                        aria-label="First frame"
                        data-testid="segment-start"
                      />
                    </label>
                    <label className="rv-num" title="Last frame">
                      <input
                        type="number"
                        min={0}
                        max={p.total - 1}
                        value={seg.end_frame}
                        onChange={(e) => p.onFrames(seg.key, seg.start_frame, Number(e.target.value))}
                        aria-label="Last frame"
                        data-testid="segment-end"
                      />
                    </label>
                    <button type="button" className="btn btn-small" onClick={() => p.onFrames(seg.key, p.frame, seg.end_frame)} title="Start this segment at the playhead" data-testid="segment-start-here">
                      ⇤ here
                    </button>
                    <button type="button" className="btn btn-small" onClick={() => p.onFrames(seg.key, seg.start_frame, p.frame)} title="End this segment at the playhead" data-testid="segment-end-here">
                      here ⇥
                    </button>
                    <button type="button" className="btn btn-small" onClick={() => p.onSplit(seg.key)} title="Split at the playhead" data-testid="segment-split">
                      Split
                    </button>
                    {change !== "unchanged" && change !== "added" && (
                      <button type="button" className="btn btn-small" onClick={() => p.onRestore(seg.key)} data-testid="segment-restore">
                        Undo edits
                      </button>
                    )}
                    <button type="button" className="btn btn-small btn-danger" onClick={() => p.onRemove(seg.key)} title="Remove this caption (redundant)" data-testid="segment-remove">
                      Remove
                    </button>
                  </>
                )}
              </div>
              {p.readOnly ? (
                <p className="rv-seg-text">{seg.caption}</p>
              ) : (
                <textarea
                  className="rv-seg-text"
                  value={seg.caption}
                  rows={2}
                  onChange={(e) => p.onCaption(seg.key, e.target.value)}
                  onFocus={() => {
                    if (!here) p.onSeek(seg.start_frame);
                  }}
                  aria-label={`Caption of frames ${seg.start_frame}–${seg.end_frame}`}
                  data-testid="segment-caption"
                />
              )}
              {seg.original && (change === "text" || change === "both") && (
                <div className="rv-seg-diff small">
                  <span className="muted">Change: </span>
                  <WordDiffText parts={wordDiff(seg.original.caption, seg.caption)} testId="segment-diff" />
                </div>
              )}
              {problems.map((i) => (
                <p key={i.message} className="error-text small">
                  {i.message}
                </p>
              ))}
            </li>
          );
        })}
      </ol>
      {listIssues.map((i) => (
        <p key={i.message} className="error-text small">
          {i.message}
        </p>
      ))}
    </div>
  );
}
