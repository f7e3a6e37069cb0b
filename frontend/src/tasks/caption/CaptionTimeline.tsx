/**
 * The pass-2 timeline: where the subject is visible (from the mask), the segments laid over it
 * (typed ones numbered, out-of-frame ones labelled), uncovered frames, and the playhead.
 * Click or drag to move the playhead; click a segment to edit it.
 */
import { useRef } from "react";

import { clampFrame } from "@/lib/frames";

import type { EditSegment } from "./segmentEditor";

type Run = { start: number; end: number; visible: boolean };

function visibilityRuns(visible: readonly boolean[]): Run[] {
  const runs: Run[] = [];
  visible.forEach((v, f) => {
    const last = runs[runs.length - 1];
    if (last && last.visible === v) last.end = f;
    else runs.push({ start: f, end: f, visible: v });
  });
  return runs;
}

export type CaptionTimelineProps = {
  visible: readonly boolean[];
  segments: readonly EditSegment[];
  /** Out-of-frame stretches (inclusive). */
  outOfFrame: readonly [number, number][];
  /** Uncovered stretches (inclusive): work left, or errors once the annotator tried to submit. */
  gaps: readonly [number, number][];
  gapsAreErrors: boolean;
  /** Keys of segments with a problem. */
  flagged: ReadonlySet<number>;
  activeKey: number | null;
  frame: number;
  color: string;
  onSeek: (frame: number) => void;
  onSelect: (key: number) => void;
};

export default function CaptionTimeline({
  visible,
  segments,
  outOfFrame,
  gaps,
  gapsAreErrors,
  flagged,
  activeKey,
  frame,
  color,
  onSeek,
  onSelect,
}: CaptionTimelineProps) {
  const total = Math.max(1, visible.length);
  const ref = useRef<HTMLDivElement>(null);
  const dragging = useRef(false);
  const pct = (f: number) => `${(f / total) * 100}%`;
  const width = (a: number, b: number) => `${((b - a + 1) / total) * 100}%`;

  const frameAt = (clientX: number) => {
    const box = ref.current?.getBoundingClientRect();
    if (!box || box.width === 0) return frame;
    return clampFrame(Math.floor(((clientX - box.left) / box.width) * total), total);
  };

  return (
    <div
      ref={ref}
      className="cap-timeline"
      data-testid="caption-timeline"
      role="slider"
      aria-label="Timeline: visibility of the subject and segments"
      aria-valuemin={0}
      aria-valuemax={total - 1}
      aria-valuenow={frame}
      onPointerDown={(e) => {
        if (e.button !== 0) return;
        dragging.current = true;
        e.currentTarget.setPointerCapture?.(e.pointerId);
        onSeek(frameAt(e.clientX));
      }}
      onPointerMove={(e) => {
        if (dragging.current) onSeek(frameAt(e.clientX));
      }}
      onPointerUp={() => {
        dragging.current = false;
      }}
      onPointerCancel={() => {
        dragging.current = false;
      }}
    >
      <div className="cap-timeline__visibility" data-testid="visibility-strip">
        {visibilityRuns(visible).map((r) => (
          <div
            key={r.start}
            className={r.visible ? "cap-vis cap-vis--on" : "cap-vis cap-vis--off"}
            style={{ left: pct(r.start), width: width(r.start, r.end), background: r.visible ? color : undefined }}
            title={
              r.visible
                ? `Visible: frames ${r.start}-${r.end}`
                : `Out of frame: frames ${r.start}-${r.end}`
            }
          />
        ))}
      </div>
      <div className="cap-timeline__segments">
        {outOfFrame.map(([a, b]) => (
          <div
            key={`oof-${a}`}
            className="cap-tl-seg cap-tl-seg--oof"
            data-testid="timeline-out-of-frame"
            style={{ left: pct(a), width: width(a, b) }}
            title={`Out of frame (automatic): frames ${a}-${b}`}
          >
            <span>out</span>
          </div>
        ))}
        {gaps.map(([a, b]) => (
          <div
            key={`gap-${a}`}
            className={`cap-tl-seg cap-tl-seg--gap${gapsAreErrors ? " is-error" : ""}`}
            data-testid="timeline-gap"
            style={{ left: pct(a), width: width(a, b) }}
            title={`Not covered: frames ${a}-${b}`}
          />
        ))}
        {segments.map((s, i) => {
          const a = Math.max(0, s.start_frame);
          const b = Math.min(total - 1, Math.max(a, s.end_frame));
          const classes = ["cap-tl-seg", "cap-tl-seg--typed"];
          if (s.key === activeKey) classes.push("is-active");
          if (flagged.has(s.key)) classes.push("has-issue");
          return (
            <button
              type="button"
              key={s.key}
              className={classes.join(" ")}
              data-testid={`timeline-segment-${i + 1}`}
              style={{ left: pct(a), width: width(a, b) }}
              title={`Segment ${i + 1}: frames ${s.start_frame}-${s.end_frame}${s.caption ? ` · ${s.caption}` : ""}`}
              onPointerDown={(e) => e.stopPropagation()}
              onClick={() => onSelect(s.key)}
            >
              <span>{i + 1}</span>
            </button>
          );
        })}
      </div>
      <div className="cap-timeline__playhead" style={{ left: `calc(${pct(frame)} + ${50 / total}%)` }} />
    </div>
  );
}
