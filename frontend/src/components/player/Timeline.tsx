import { type PointerEvent as ReactPointerEvent, useEffect, useRef, useState } from "react";

import { formatTime } from "@/lib/frames";

import { frameAtX, runsOf, tickSeconds, xOfFrame } from "./timeline";

export type TimelineTrack = {
  id: number | string;
  /** CSS colour of the visible stretches. */
  color: string;
  label?: string;
  /** Per frame: visible, not visible, or unknown (null/undefined: not tracked yet). */
  visible: readonly (boolean | null | undefined)[];
  /** Drawn taller and brighter (the selected object). */
  emphasis?: boolean;
};

export type TimelineMarker = { frame: number; color?: string; title?: string };

export type TimelineProps = {
  count: number;
  fps: number;
  frame: number;
  onSeek: (frame: number) => void;
  tracks?: readonly TimelineTrack[];
  /** Small ticks above the tracks (e.g. frames with prompts). */
  markers?: readonly TimelineMarker[];
  onScrub?: (scrubbing: boolean) => void;
};

const RULER_H = 16;
const TRACK_H = 8;
const TRACK_GAP = 3;

/** The scrubbable timeline: ruler, one visibility strip per track, markers and the playhead. */
export function Timeline({ count, fps, frame, onSeek, tracks = [], markers = [], onScrub }: TimelineProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [hover, setHover] = useState<number | null>(null);
  const scrubbing = useRef(false);
  const height = RULER_H + Math.max(1, tracks.length) * (TRACK_H + TRACK_GAP) + 4;

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const c = canvas.current;
    const ctx = c?.getContext("2d");
    if (!c || !ctx || width <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    // Ruler: a tick per frame when there is room, labels every few seconds.
    const duration = count / fps;
    const step = tickSeconds(duration, width);
    ctx.fillStyle = "#2c3038";
    if (width / Math.max(1, count) >= 4) {
      for (let k = 0; k < count; k++) ctx.fillRect(Math.round(xOfFrame(k, width, count)), RULER_H - 4, 1, 4);
    }
    ctx.font = "10px system-ui, sans-serif";
    ctx.textBaseline = "top";
    for (let t = 0; t <= duration + 1e-9; t += step) {
      const x = Math.round((t / duration) * width);
      ctx.fillStyle = "#5f6773";
      ctx.fillRect(x, 0, 1, RULER_H);
      ctx.fillStyle = "#8d95a1";
      const label = step < 1 ? `${t.toFixed(1)}s` : formatTime(t).replace(/\.\d\d$/, "");
      if (x < width - 30) ctx.fillText(label, x + 3, 2);
    }
    // Tracks.
    tracks.forEach((track, i) => {
      const y = RULER_H + 2 + i * (TRACK_H + TRACK_GAP);
      ctx.fillStyle = "#1f2329";
      ctx.fillRect(0, y, width, TRACK_H);
      for (const run of runsOf(track.visible, count)) {
        const x0 = xOfFrame(run.start, width, count);
        const x1 = xOfFrame(run.end + 1, width, count);
        if (run.value === true) {
          ctx.globalAlpha = track.emphasis === false ? 0.55 : 1;
          ctx.fillStyle = track.color;
          ctx.fillRect(x0, y, Math.max(1, x1 - x0), TRACK_H);
          ctx.globalAlpha = 1;
        } else if (run.value === null) {
          ctx.fillStyle = "#2a2e35";
          for (let x = Math.floor(x0); x < x1; x += 4) ctx.fillRect(x, y + TRACK_H / 2 - 0.5, 2, 1);
        }
      }
      if (track.emphasis) {
        ctx.strokeStyle = "#e3e6eb";
        ctx.lineWidth = 1;
        ctx.strokeRect(0.5, y - 0.5, width - 1, TRACK_H + 1);
      }
    });
    // Markers.
    for (const m of markers) {
      const x = xOfFrame(m.frame + 0.5, width, count);
      ctx.fillStyle = m.color ?? "#e3e6eb";
      ctx.beginPath();
      ctx.moveTo(x - 3, RULER_H - 6);
      ctx.lineTo(x + 3, RULER_H - 6);
      ctx.lineTo(x, RULER_H - 1);
      ctx.fill();
    }
  }, [width, height, count, fps, tracks, markers]);

  const frameAt = (event: ReactPointerEvent) => {
    const rect = event.currentTarget.getBoundingClientRect();
    return frameAtX(event.clientX - rect.left, rect.width, count);
  };

  const playheadX = xOfFrame(frame, width, count);
  const frameW = count > 0 ? width / count : 0;
  return (
    <div
      ref={wrap}
      className="timeline"
      style={{ height }}
      data-testid="timeline"
      role="slider"
      aria-label="Timeline"
      aria-valuemin={0}
      aria-valuemax={Math.max(0, count - 1)}
      aria-valuenow={frame}
      onPointerDown={(e) => {
        if (e.button !== 0) return;
        e.currentTarget.setPointerCapture(e.pointerId);
        scrubbing.current = true;
        onScrub?.(true);
        onSeek(frameAt(e));
      }}
      onPointerMove={(e) => {
        setHover(frameAt(e));
        if (scrubbing.current) onSeek(frameAt(e));
      }}
      onPointerUp={(e) => {
        if (!scrubbing.current) return;
        scrubbing.current = false;
        e.currentTarget.releasePointerCapture(e.pointerId);
        onScrub?.(false);
      }}
      onPointerLeave={() => setHover(null)}
    >
      <canvas ref={canvas} style={{ width: "100%", height }} />
      <div className="timeline-playhead" style={{ left: playheadX, width: Math.max(2, frameW) }} />
      {hover !== null && (
        <div className="timeline-hover" style={{ left: Math.min(Math.max(0, xOfFrame(hover, width, count) - 20), Math.max(0, width - 48)) }}>
          {hover}
        </div>
      )}
    </div>
  );
}
