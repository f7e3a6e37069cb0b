/**
 * Pure geometry of the player's viewport: fitting the frame, zooming about a point, panning,
 * and mapping screen points to frame pixels. Unit-tested; no DOM.
 */

export type Size = { width: number; height: number };

/** The view: zoom (1 = whole frame fits) and the frame point shown at the viewport centre. */
export type View = { zoom: number; cx: number; cy: number };

export const MIN_ZOOM = 1;
export const MAX_ZOOM = 16;
export const ZOOM_STEP = 1.25;

export function fitView(frame: Size): View {
  return { zoom: 1, cx: frame.width / 2, cy: frame.height / 2 };
}

/** Screen pixels per frame pixel. */
export function viewScale(view: View, frame: Size, viewport: Size): number {
  if (frame.width <= 0 || frame.height <= 0 || viewport.width <= 0 || viewport.height <= 0) return 1;
  return Math.min(viewport.width / frame.width, viewport.height / frame.height) * view.zoom;
}

/** Keep the centre where the frame still covers the viewport as much as it can. */
export function clampView(view: View, frame: Size, viewport: Size): View {
  const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.zoom));
  const s = viewScale({ ...view, zoom }, frame, viewport);
  const halfW = viewport.width / 2 / s;
  const halfH = viewport.height / 2 / s;
  const clampAxis = (c: number, half: number, size: number) =>
    half * 2 >= size ? size / 2 : Math.min(size - half, Math.max(half, c));
  return { zoom, cx: clampAxis(view.cx, halfW, frame.width), cy: clampAxis(view.cy, halfH, frame.height) };
}

/** Top-left of the frame in viewport pixels, and the scale: the CSS transform of the stage. */
export function stageTransform(view: View, frame: Size, viewport: Size): { x: number; y: number; scale: number } {
  const scale = viewScale(view, frame, viewport);
  return { x: viewport.width / 2 - view.cx * scale, y: viewport.height / 2 - view.cy * scale, scale };
}

/** A viewport point (relative to the viewport's top-left) in frame pixels (not clamped). */
export function toFrame(px: number, py: number, view: View, frame: Size, viewport: Size): [number, number] {
  const t = stageTransform(view, frame, viewport);
  return [(px - t.x) / t.scale, (py - t.y) / t.scale];
}

/** Zoom by `factor` keeping the frame point under viewport point (px, py) where it is. */
export function zoomAt(view: View, factor: number, px: number, py: number, frame: Size, viewport: Size): View {
  const [fx, fy] = toFrame(px, py, view, frame, viewport);
  const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.zoom * factor));
  const before = viewScale(view, frame, viewport);
  const after = viewScale({ ...view, zoom }, frame, viewport);
  const k = before / after;
  return clampView({ zoom, cx: fx - (fx - view.cx) * k, cy: fy - (fy - view.cy) * k }, frame, viewport);
}

/** Pan by a drag of (dx, dy) viewport pixels. */
export function panBy(view: View, dx: number, dy: number, frame: Size, viewport: Size): View {
  const s = viewScale(view, frame, viewport);
  return clampView({ ...view, cx: view.cx - dx / s, cy: view.cy - dy / s }, frame, viewport);
}

/** Frame pixel coordinates rounded into the frame: x in [0, width - 1], y in [0, height - 1]. */
export function clampPoint([x, y]: [number, number], frame: Size): [number, number] {
  return [
    Math.min(frame.width - 1, Math.max(0, Math.round(x))),
    Math.min(frame.height - 1, Math.max(0, Math.round(y))),
  ];
}
