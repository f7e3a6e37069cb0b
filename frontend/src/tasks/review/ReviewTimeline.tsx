/**
 * The captions along the video: where the subject is visible (from the mask), each segment as a
 * block (flagged ones marked), the playhead. Click or drag to move the playhead.
 */
import { useRef } from "react";

import { clampFrame } from "@/lib/frames";

type Block = { key: string; start: number; end: number; label: string; tone: "typed" | "oof" | "flagged" | "active" | "invalid" };

export function ReviewTimeline({
  visible,
  blocks,
  changedFrames,
  frame,
  color,
  onSeek,
}: {
  visible: readonly boolean[];
  blocks: readonly Block[];
  /** Frames where the mask changed in this review (marked under the strip). */
  changedFrames: readonly number[];
  frame: number;
  color: string;
  onSeek: (frame: number) => void;
}) {
  const total = Math.max(1, visible.length);
  const ref = useRef<HTMLDivElement>(null);
  const dragging = useRef(false);
  const left = (f: number) => `${(f / total) * 100}%`;
  const width = (a: number, b: number) => `${((b - a + 1) / total) * 100}%`;
  const seekAt = (clientX: number) => {
    const box = ref.current?.getBoundingClientRect();
    if (!box || box.width === 0) return;
    onSeek(clampFrame(Math.floor(((clientX - box.left) / box.width) * total), total));
  };
  const runs: { start: number; end: number }[] = [];
  visible.forEach((v, f) => {
    if (!v) return;
    const last = runs[runs.length - 1];
    if (last && last.end === f - 1) last.end = f;
    else runs.push({ start: f, end: f });
  });
  return (
    <div
      ref={ref}
      className="rv-timeline"
      data-testid="review-timeline"
      onPointerDown={(e) => {
        dragging.current = true;
        (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
        seekAt(e.clientX);
      }}
      onPointerMove={(e) => {
        if (dragging.current) seekAt(e.clientX);
      }}
      onPointerUp={() => {
        dragging.current = false;
      }}
    >
      <div className="rv-tl-visibility" title="Where the subject is visible">
        {runs.map((r) => (
          <span key={r.start} style={{ left: left(r.start), width: width(r.start, r.end), background: color }} />
        ))}
      </div>
      <div className="rv-tl-segments">
        {blocks.map((b) => (
          <span key={b.key} className={`rv-tl-seg rv-tl-${b.tone}`} style={{ left: left(b.start), width: width(b.start, b.end) }} title={`${b.start}–${b.end}: ${b.label}`}>
            {b.label}
          </span>
        ))}
      </div>
      <div className="rv-tl-changes">
        {changedFrames.map((f) => (
          <span key={f} style={{ left: left(f), width: width(f, f) }} />
        ))}
      </div>
      <div className="rv-tl-playhead" style={{ left: `calc(${left(frame)} + ${50 / total}%)` }} />
    </div>
  );
}
