/**
 * The frame under review with the masklet's mask over it: frame k's JPEG with exactly mask k,
 * the reviewer's clicks on it, play/step/scrub. In refine mode a click is a prompt in frame pixel
 * coordinates (click: add to the mask, Shift+click or right click: remove).
 */
import { useEffect, useMemo, useRef, type MouseEvent } from "react";

import { decodeRle, maskToRgba, RleError } from "@/lib/rle";
import type { Click, Rgb } from "@/types/geometry";
import type { Rle } from "@/types/rle";

export type ReviewFrameProps = {
  frameUrls: readonly string[];
  width: number;
  height: number;
  frame: number;
  fps: number;
  mask: Rle | null;
  color: Rgb;
  clicks: readonly Click[];
  refine: boolean;
  /** Clicks are refused while a request or a re-track runs. */
  clickable: boolean;
  onClick: (x: number, y: number, label: 0 | 1) => void;
  onSeek: (frame: number) => void;
  playing: boolean;
  onPlaying: (playing: boolean) => void;
};

export function ReviewFrame(p: ReviewFrameProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const total = p.frameUrls.length;
  const decoded = useMemo(() => {
    if (!p.mask) return { rgba: null, error: null };
    try {
      const mask = decodeRle(p.mask);
      return { rgba: { mask, pixels: maskToRgba(mask, p.color, 110) }, error: null };
    } catch (error) {
      return { rgba: null, error: error instanceof RleError ? `This frame's mask cannot be read: ${error.message}` : String(error) };
    }
  }, [p.mask, p.color]);
  const maskError = decoded.error;

  // Draw mask k over frame k.
  useEffect(() => {
    const c = canvas.current;
    const ctx = c?.getContext("2d");
    if (!c || !ctx) return;
    ctx.clearRect(0, 0, c.width, c.height);
    const rgba = decoded.rgba;
    if (!rgba) return;
    if (rgba.mask.width !== c.width || rgba.mask.height !== c.height) {
      c.width = rgba.mask.width;
      c.height = rgba.mask.height;
    }
    ctx.putImageData(new ImageData(rgba.pixels as Uint8ClampedArray<ArrayBuffer>, rgba.mask.width, rgba.mask.height), 0, 0);
  }, [decoded]);

  // Keep the next frames warm so playback and stepping show the frame at once.
  useEffect(() => {
    for (let k = p.frame + 1; k < Math.min(total, p.frame + 6); k++) {
      const img = new Image();
      img.src = p.frameUrls[k] as string;
    }
  }, [p.frame, p.frameUrls, total]);

  const { playing, onPlaying, onSeek, frame, fps } = p;
  useEffect(() => {
    if (!playing) return;
    const timer = setTimeout(() => {
      if (frame + 1 >= total) onPlaying(false);
      else onSeek(frame + 1);
    }, 1000 / fps);
    return () => clearTimeout(timer);
  }, [playing, frame, fps, total, onSeek, onPlaying]);

  const onStageClick = (event: MouseEvent<HTMLDivElement>, label: 0 | 1) => {
    if (!p.refine || !p.clickable) return;
    event.preventDefault();
    const box = event.currentTarget.getBoundingClientRect();
    const x = Math.min(p.width - 1, Math.max(0, ((event.clientX - box.left) / box.width) * p.width));
    const y = Math.min(p.height - 1, Math.max(0, ((event.clientY - box.top) / box.height) * p.height));
    p.onClick(Math.round(x * 10) / 10, Math.round(y * 10) / 10, event.shiftKey ? 0 : label);
  };

  const r = Math.max(4, Math.round(Math.min(p.width, p.height) / 80));
  return (
    <div className="rv-player">
      <div
        className={`rv-stage${p.refine ? " refine" : ""}${p.refine && !p.clickable ? " wait" : ""}`}
        style={{ aspectRatio: `${p.width} / ${p.height}` }}
        onClick={(e) => onStageClick(e, 1)}
        onContextMenu={(e) => onStageClick(e, 0)}
        data-testid="review-frame"
        data-frame={p.frame}
      >
        <img src={p.frameUrls[p.frame]} alt={`Frame ${p.frame}`} draggable={false} />
        <canvas ref={canvas} width={p.width} height={p.height} />
        <svg viewBox={`0 0 ${p.width} ${p.height}`} preserveAspectRatio="none">
          {p.clicks.map(([x, y, label], k) => (
            <g key={k} className={label ? "rv-click-pos" : "rv-click-neg"}>
              <circle cx={x} cy={y} r={r} />
              <line x1={x - r / 2} y1={y} x2={x + r / 2} y2={y} />
              {label === 1 && <line x1={x} y1={y - r / 2} x2={x} y2={y + r / 2} />}
            </g>
          ))}
        </svg>
      </div>
      {maskError && <p className="error-text small">{maskError}</p>}
      <div className="rv-controls">
        <button type="button" className="btn btn-small" onClick={() => onSeek(Math.max(0, frame - 1))} disabled={frame <= 0} title="Previous frame (←)" data-testid="frame-prev">
          ◀
        </button>
        <button type="button" className="btn btn-small" onClick={() => onPlaying(!playing)} title="Play / pause (Space)" data-testid="play-pause">
          {playing ? "❚❚" : "▶"}
        </button>
        <button type="button" className="btn btn-small" onClick={() => onSeek(Math.min(total - 1, frame + 1))} disabled={frame >= total - 1} title="Next frame (→)" data-testid="frame-next">
          ▶▏
        </button>
        <input
          type="range"
          min={0}
          max={Math.max(0, total - 1)}
          value={frame}
          onChange={(e) => onSeek(Number(e.target.value))}
          aria-label="Frame"
          data-testid="frame-slider"
        />
        <span className="rv-framelabel mono" data-testid="frame-label">
          {frame} / {total - 1}
        </span>
      </div>
    </div>
  );
}
