/**
 * The frame-accurate player: annotation frame k is the JPEG of frame k with the masks of frame k
 * drawn over it in one step (never a picture of one frame with the masks of another). Plays at
 * the annotation fps times a rate, steps, scrubs, jumps and zooms; reports pointer events in
 * frame pixels so editors can take clicks and boxes.
 */
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from "react";

import { clampFrame, formatFrameLabel, formatTimecode } from "@/lib/frames";
import { useShortcuts } from "@/lib/shortcuts";
import type { Video } from "@/types/api";
import type { Box } from "@/types/geometry";

import { FrameImages } from "./frameSource";
import { layersOf, type MaskMode, MODE_LABELS, MODES, PLAYBACK_RATES, type PlayerMask } from "./layers";
import { MaskRenderer } from "./maskRenderer";
import { Timeline, type TimelineMarker, type TimelineTrack } from "./Timeline";
import { clampView, fitView, panBy, stageTransform, toFrame, type View, ZOOM_STEP, zoomAt } from "./view";
import "./player.css";

export type { MaskMode, PlayerMask } from "./layers";

export type Decoration =
  | { kind: "point"; x: number; y: number; positive: boolean; color?: string }
  | { kind: "box"; box: Box; color?: string; dashed?: boolean }
  | { kind: "label"; x: number; y: number; text: string; color?: string };

export type FramePointerEvent = {
  type: "down" | "move" | "up" | "cancel";
  /** Frame pixels (not rounded, may lie outside the frame: check `inside`). */
  x: number;
  y: number;
  inside: boolean;
  /** Screen pixels per frame pixel at the current zoom (to measure drags on screen). */
  scale: number;
  button: number;
  buttons: number;
  shiftKey: boolean;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  frame: number;
};

export type FramePlayerProps = {
  /** The video with `media` (task payload). Frames are video.width × video.height pixels. */
  video: Video;
  frame: number;
  onFrameChange: (frame: number) => void;
  /** Controlled play state (optional; the player keeps its own otherwise). */
  playing?: boolean;
  onPlayingChange?: (playing: boolean) => void;
  /** The masks to draw on frame k. Change the function (identity) when masks change. */
  masksAt?: (frame: number) => readonly PlayerMask[];
  maskMode?: MaskMode;
  onMaskModeChange?: (mode: MaskMode) => void;
  highlightId?: number | null;
  decorations?: readonly Decoration[];
  onPointer?: (event: FramePointerEvent) => void;
  tracks?: readonly TimelineTrack[];
  markers?: readonly TimelineMarker[];
  /** Register the player's keyboard shortcuts (default true). */
  shortcuts?: boolean;
  /** Extra controls at the right end of the control bar. */
  toolbar?: ReactNode;
  /** Drawn over the viewport, not zoomed (status, hints). */
  hud?: ReactNode;
  cursor?: string;
  className?: string;
};

const NO_MASKS: readonly PlayerMask[] = [];
/** Frames ahead whose masks are composited while playing. */
const PREFETCH_MASKS = 6;

/** A 14×14 glyph drawn from one path (no icon font needed). */
function Icon({ d }: { d: string }) {
  return (
    <svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">
      <path d={d} fill="currentColor" stroke="currentColor" strokeWidth="1.5" strokeLinejoin="round" />
    </svg>
  );
}

export function FramePlayer(props: FramePlayerProps) {
  const {
    video,
    frame,
    onFrameChange,
    masksAt,
    highlightId = null,
    decorations = [],
    onPointer,
    tracks,
    markers,
    shortcuts = true,
    toolbar,
    hud,
    cursor,
    className,
  } = props;
  const media = video.media;
  const count = video.annotation_frame_count;
  const fps = video.annotation_fps || 6;
  const size = useMemo(() => ({ width: video.width, height: video.height }), [video.width, video.height]);

  const [ownPlaying, setOwnPlaying] = useState(false);
  const playing = props.playing ?? ownPlaying;
  const setPlaying = useCallback(
    (p: boolean) => {
      setOwnPlaying(p);
      props.onPlayingChange?.(p);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [props.onPlayingChange],
  );
  const [ownMode, setOwnMode] = useState<MaskMode>(props.maskMode ?? "filled");
  const mode = props.maskMode ?? ownMode;
  const setMode = (m: MaskMode) => {
    setOwnMode(m);
    props.onMaskModeChange?.(m);
  };
  const [showMasks, setShowMasks] = useState(true);
  const [rate, setRate] = useState<number>(1);
  const [view, setView] = useState<View>(() => fitView(size));
  const [viewport, setViewport] = useState({ width: 0, height: 0 });
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [frameText, setFrameText] = useState<string | null>(null);

  const canvasRef = useRef<HTMLCanvasElement>(null);
  const viewportRef = useRef<HTMLDivElement>(null);
  const frameInputRef = useRef<HTMLInputElement>(null);
  const images = useMemo(() => (media ? new FrameImages(media, count) : null), [media, count]);
  const [renderer] = useState(() => new MaskRenderer());
  const drawCount = useRef(0);

  useEffect(() => () => renderer.dispose(), [renderer]);

  const layersFor = useCallback(
    (k: number) => (showMasks ? layersOf(masksAt?.(k) ?? NO_MASKS, mode, highlightId) : []),
    [showMasks, masksAt, mode, highlightId],
  );

  // Viewport size.
  useEffect(() => {
    const el = viewportRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setViewport({ width: el.clientWidth, height: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Draw frame k: its picture and its masks, together, once both are ready.
  useEffect(() => {
    if (!images || count === 0) return;
    const k = clampFrame(frame, count);
    let cancelled = false;
    const slow = setTimeout(() => {
      if (!cancelled) setLoading(true);
    }, 120);
    const layers = layersFor(k);
    Promise.all([images.get(k), renderer.render(size.width, size.height, layers)])
      .then(([image, masks]) => {
        if (cancelled) return;
        const canvas = canvasRef.current;
        const ctx = canvas?.getContext("2d");
        if (!canvas || !ctx) return;
        if (canvas.width !== size.width || canvas.height !== size.height) {
          canvas.width = size.width;
          canvas.height = size.height;
        }
        ctx.drawImage(image, 0, 0, size.width, size.height);
        if (masks) ctx.drawImage(masks, 0, 0);
        drawCount.current += 1;
        canvas.dataset.drawnFrame = String(k);
        canvas.dataset.drawCount = String(drawCount.current);
        canvas.dataset.maskLayers = String(layers.length);
        setError(null);
      })
      .catch((err: unknown) => {
        if (!cancelled) setError(err instanceof Error ? err.message : String(err));
      })
      .finally(() => {
        clearTimeout(slow);
        if (!cancelled) setLoading(false);
      });
    images.preload(k, playing ? 48 : 16, 3);
    return () => {
      cancelled = true;
      clearTimeout(slow);
    };
  }, [images, frame, count, layersFor, renderer, size, playing]);

  // Playback: advance only when the next frame's picture and masks are ready (no dropped or
  // mismatched frames; a slow network slows playback instead).
  const latest = useRef({ frame, onFrameChange, layersFor, rate });
  useEffect(() => {
    latest.current = { frame, onFrameChange, layersFor, rate };
  });
  useEffect(() => {
    if (!playing || !images) return;
    let raf = 0;
    let waiting = false;
    let stopped = false;
    let lastAdvance = performance.now();
    let prefetchedFor = -1;
    const tick = (now: number) => {
      if (stopped) return;
      const { frame: k, rate: r } = latest.current;
      const period = 1000 / (fps * r);
      // Keep the next few frames' masks in the works (cached by content, so this costs nothing
      // once they are done).
      if (prefetchedFor !== k) {
        prefetchedFor = k;
        for (let d = 2; d <= PREFETCH_MASKS; d++) {
          if (k + d < count) void renderer.render(size.width, size.height, latest.current.layersFor(k + d)).catch(() => undefined);
        }
      }
      if (!waiting && now - lastAdvance >= period) {
        const next = k + 1;
        if (next >= count) {
          setPlaying(false);
          return;
        }
        waiting = true;
        Promise.all([images.get(next), renderer.render(size.width, size.height, latest.current.layersFor(next))])
          .then(() => {
            if (stopped) return;
            lastAdvance = Math.max(lastAdvance + period, performance.now() - period);
            latest.current.onFrameChange(next);
          })
          .catch(() => {
            if (!stopped) setPlaying(false);
          })
          .finally(() => {
            waiting = false;
          });
      }
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => {
      stopped = true;
      cancelAnimationFrame(raf);
    };
  }, [playing, images, count, fps, renderer, size, setPlaying]);

  const seek = useCallback(
    (k: number) => {
      onFrameChange(clampFrame(k, count));
    },
    [onFrameChange, count],
  );
  const step = (d: number) => {
    if (playing) setPlaying(false);
    seek(frame + d);
  };
  const togglePlay = () => {
    if (!playing && frame >= count - 1) seek(0);
    setPlaying(!playing);
  };
  const zoomBy = (factor: number) => setView((v) => zoomAt(v, factor, viewport.width / 2, viewport.height / 2, size, viewport));
  const fit = () => setView(fitView(size));
  const changeRate = (dir: 1 | -1) =>
    setRate((r) => {
      const i = PLAYBACK_RATES.indexOf(r as (typeof PLAYBACK_RATES)[number]);
      return PLAYBACK_RATES[Math.min(PLAYBACK_RATES.length - 1, Math.max(0, i + dir))] ?? r;
    });

  useShortcuts(
    [
      { keys: ["space"], description: "Play / pause", group: "Player", run: togglePlay },
      { keys: ["ArrowLeft", ","], description: "Previous frame", group: "Player", run: () => step(-1) },
      { keys: ["ArrowRight", "."], description: "Next frame", group: "Player", run: () => step(1) },
      { keys: ["shift+ArrowLeft"], description: "Back 10 frames", group: "Player", run: () => step(-10) },
      { keys: ["shift+ArrowRight"], description: "Forward 10 frames", group: "Player", run: () => step(10) },
      { keys: ["Home"], description: "First frame", group: "Player", run: () => step(-count) },
      { keys: ["End"], description: "Last frame", group: "Player", run: () => step(count) },
      {
        keys: ["g"],
        description: "Jump to frame (type the number, Enter)",
        group: "Player",
        run: () => {
          setFrameText(String(frame));
          requestAnimationFrame(() => frameInputRef.current?.select());
        },
      },
      { keys: ["[", "]"], description: "Slower / faster playback", group: "Player", run: (e) => changeRate(e.key === "[" ? -1 : 1) },
      { keys: ["+", "="], description: "Zoom in", group: "View", run: () => zoomBy(ZOOM_STEP) },
      { keys: ["-"], description: "Zoom out", group: "View", run: () => zoomBy(1 / ZOOM_STEP) },
      { keys: ["0"], description: "Fit the frame (reset zoom)", group: "View", run: fit },
      { keys: ["m"], description: "Mask display: filled / highlight / outline", group: "View", run: () => setMode(MODES[(MODES.indexOf(mode) + 1) % MODES.length] ?? "filled") },
      { keys: ["h"], description: "Hide / show masks", group: "View", run: () => setShowMasks((s) => !s) },
    ],
    shortcuts,
  );

  // Wheel zoom about the cursor (non-passive, to keep the page from scrolling).
  useEffect(() => {
    const el = viewportRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const rect = el.getBoundingClientRect();
      const factor = Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015));
      setView((v) => zoomAt(v, factor, e.clientX - rect.left, e.clientY - rect.top, size, { width: rect.width, height: rect.height }));
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => el.removeEventListener("wheel", onWheel);
  }, [size]);

  const panning = useRef<{ x: number; y: number; id: number } | null>(null);
  const [isPanning, setIsPanning] = useState(false);
  const pointer = (type: FramePointerEvent["type"], e: React.PointerEvent<HTMLDivElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    if (type === "down" && (e.button === 1 || (e.button === 0 && !onPointer))) {
      if (view.zoom > 1 || e.button === 1) {
        panning.current = { x: e.clientX, y: e.clientY, id: e.pointerId };
        setIsPanning(true);
        e.currentTarget.setPointerCapture(e.pointerId);
        e.preventDefault();
        return;
      }
    }
    if (panning.current && panning.current.id === e.pointerId) {
      if (type === "move") {
        const dx = e.clientX - panning.current.x;
        const dy = e.clientY - panning.current.y;
        panning.current = { ...panning.current, x: e.clientX, y: e.clientY };
        setView((v) => panBy(v, dx, dy, size, viewport));
      } else if (type === "up" || type === "cancel") {
        panning.current = null;
        setIsPanning(false);
      }
      return;
    }
    if (!onPointer) return;
    const current = clampView(view, size, viewport);
    const [x, y] = toFrame(px, py, current, size, viewport);
    if (type === "down") {
      e.currentTarget.setPointerCapture(e.pointerId);
      if (playing) setPlaying(false);
    }
    onPointer({
      type,
      x,
      y,
      inside: x >= 0 && y >= 0 && x < size.width && y < size.height,
      scale: stageTransform(current, size, viewport).scale,
      button: e.button,
      buttons: e.buttons,
      shiftKey: e.shiftKey,
      altKey: e.altKey,
      ctrlKey: e.ctrlKey,
      metaKey: e.metaKey,
      frame,
    });
  };

  const shown = clampView(view, size, viewport);
  const t = stageTransform(shown, size, viewport);
  const k = clampFrame(frame, count);
  const stroke = 2 / Math.max(0.01, t.scale);

  if (!media) {
    return <div className="player player-empty">This video has no frames to show (status: {video.status}).</div>;
  }
  return (
    <div className={`player${className ? ` ${className}` : ""}`} data-testid="frame-player">
      <div
        ref={viewportRef}
        className="player-viewport"
        style={{ cursor: isPanning ? "grabbing" : (cursor ?? (onPointer ? "crosshair" : view.zoom > 1 ? "grab" : "default")) }}
        onPointerDown={(e) => pointer("down", e)}
        onPointerMove={(e) => pointer("move", e)}
        onPointerUp={(e) => pointer("up", e)}
        onPointerCancel={(e) => pointer("cancel", e)}
        onContextMenu={(e) => {
          if (onPointer) e.preventDefault();
        }}
        onDoubleClick={(e) => e.preventDefault()}
      >
        <div
          className="player-stage"
          style={{ width: size.width, height: size.height, transform: `translate(${t.x}px, ${t.y}px) scale(${t.scale})` }}
        >
          <canvas ref={canvasRef} className="player-canvas" width={size.width} height={size.height} data-testid="player-canvas" />
          <svg className="player-decorations" viewBox={`0 0 ${size.width} ${size.height}`} width={size.width} height={size.height}>
            {decorations.map((d, i) => {
              if (d.kind === "point") {
                const r = 6 * stroke;
                return (
                  <g key={i} transform={`translate(${d.x} ${d.y})`}>
                    <circle r={r} fill={d.positive ? "#2fbf5b" : "#e5484d"} stroke={d.color ?? "#fff"} strokeWidth={stroke} />
                    <path
                      d={d.positive ? `M${-r / 2} 0H${r / 2}M0 ${-r / 2}V${r / 2}` : `M${-r / 2} 0H${r / 2}`}
                      stroke="#fff"
                      strokeWidth={stroke}
                    />
                  </g>
                );
              }
              if (d.kind === "box") {
                const [x0, y0, x1, y1] = d.box;
                return (
                  <rect
                    key={i}
                    x={Math.min(x0, x1)}
                    y={Math.min(y0, y1)}
                    width={Math.abs(x1 - x0)}
                    height={Math.abs(y1 - y0)}
                    fill="none"
                    stroke={d.color ?? "#fff"}
                    strokeWidth={stroke}
                    strokeDasharray={d.dashed ? `${4 * stroke} ${3 * stroke}` : undefined}
                  />
                );
              }
              return (
                <text key={i} x={d.x} y={d.y} fill={d.color ?? "#fff"} fontSize={12 * stroke} paintOrder="stroke" stroke="#000" strokeWidth={stroke * 1.5}>
                  {d.text}
                </text>
              );
            })}
          </svg>
        </div>
        {(loading || error) && (
          <div className={`player-status${error ? " error" : ""}`} data-testid="player-status">
            {error ?? "Loading frame…"}
          </div>
        )}
        {hud}
      </div>
      <div className="player-controls">
        <button type="button" className="btn btn-small btn-icon" onClick={() => step(-count)} title="First frame (Home)" aria-label="First frame">
          <Icon d="M3 2v10M12 2 5 7l7 5z" />
        </button>
        <button type="button" className="btn btn-small btn-icon" onClick={() => step(-1)} title="Previous frame (←)" aria-label="Previous frame" data-testid="step-back">
          <Icon d="M10 2 3 7l7 5z" />
        </button>
        <button type="button" className="btn btn-small play-button" onClick={togglePlay} title="Play / pause (Space)" data-testid="play-pause" aria-pressed={playing}>
          {playing ? "❚❚ Pause" : "▶ Play"}
        </button>
        <button type="button" className="btn btn-small btn-icon" onClick={() => step(1)} title="Next frame (→)" aria-label="Next frame" data-testid="step-forward">
          <Icon d="M4 2l7 5-7 5z" />
        </button>
        <button type="button" className="btn btn-small btn-icon" onClick={() => step(count)} title="Last frame (End)" aria-label="Last frame">
          <Icon d="M11 2v10M2 2l7 5-7 5z" />
        </button>
        <form
          className="frame-field"
          onSubmit={(e) => {
            e.preventDefault();
            const n = Number(frameText);
            if (frameText !== null && frameText.trim() !== "" && Number.isFinite(n)) seek(n);
            setFrameText(null);
            frameInputRef.current?.blur();
          }}
        >
          <label title="Frame (G to jump)">
            <span className="muted">frame</span>
            <input
              ref={frameInputRef}
              className="mono"
              data-testid="frame-input"
              inputMode="numeric"
              value={frameText ?? String(k)}
              onFocus={(e) => {
                setFrameText(String(k));
                e.currentTarget.select();
              }}
              onChange={(e) => setFrameText(e.target.value.replace(/[^0-9]/g, ""))}
              onBlur={() => setFrameText(null)}
              onKeyDown={(e) => {
                if (e.key === "Escape") e.currentTarget.blur();
              }}
              size={String(count).length + 1}
            />
          </label>
          <span className="mono muted" data-testid="frame-label">
            {formatFrameLabel(k, count).replace(/^\d+ /, "")}
          </span>
        </form>
        <span className="mono muted small" title="Time (mm:ss.frame)">
          {formatTimecode(k, fps)}
        </span>
        <select value={rate} onChange={(e) => setRate(Number(e.target.value))} title={`Playback speed ([ / ]): ${Math.round(rate * fps * 10) / 10} frames per second`} data-testid="playback-rate">
          {PLAYBACK_RATES.map((r) => (
            <option key={r} value={r}>
              {r}×
            </option>
          ))}
        </select>
        <select value={mode} onChange={(e) => setMode(e.target.value as MaskMode)} title="Mask display (M)" data-testid="mask-mode">
          {MODES.map((m) => (
            <option key={m} value={m}>
              {MODE_LABELS[m]}
            </option>
          ))}
        </select>
        <button type="button" className={`btn btn-small${showMasks ? " active" : ""}`} onClick={() => setShowMasks((s) => !s)} title="Hide / show masks (H)" data-testid="toggle-masks">
          Masks
        </button>
        <span className="zoom-group">
          <button type="button" className="btn btn-small btn-icon" onClick={() => zoomBy(1 / ZOOM_STEP)} title="Zoom out (−)" data-testid="zoom-out">
            −
          </button>
          <button type="button" className="btn btn-small zoom-label" onClick={fit} title="Fit (0)" data-testid="zoom-fit">
            {Math.round(shown.zoom * 100)}%
          </button>
          <button type="button" className="btn btn-small btn-icon" onClick={() => zoomBy(ZOOM_STEP)} title="Zoom in (+)" data-testid="zoom-in">
            +
          </button>
        </span>
        <span className="spacer" />
        {toolbar}
      </div>
      <Timeline count={count} fps={fps} frame={k} onSeek={(f) => seek(f)} tracks={tracks} markers={markers} onScrub={(s) => s && playing && setPlaying(false)} />
    </div>
  );
}

export default FramePlayer;
