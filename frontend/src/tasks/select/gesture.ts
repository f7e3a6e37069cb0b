/**
 * Pass-1 pointer gestures → SAM 2 prompts (pure; tested):
 * - a click is a positive point; with Alt or Shift, or with the right button, a negative point;
 * - a drag of the left button (further than DRAG_THRESHOLD_PX on screen) is a box.
 * Coordinates are frame pixels; what reaches the server lies inside the frame.
 */
import type { Box } from "@/types/geometry";

/** Screen pixels a press must travel to count as a drag (a box) rather than a click. */
export const DRAG_THRESHOLD_PX = 6;

export type PressStart = {
  x: number;
  y: number;
  button: number;
  shiftKey: boolean;
  altKey: boolean;
  inside: boolean;
};

export type GesturePrompt = { kind: "point"; x: number; y: number; label: 0 | 1 } | { kind: "box"; box: Box };

export type FrameSize = { width: number; height: number };

/** Is this a press we act on (left or right button)? */
export function isPromptButton(button: number): boolean {
  return button === 0 || button === 2;
}

/**
 * The prompt for a press at `start` released at (x, y). `screenScale` is screen pixels per frame
 * pixel (to measure the drag on screen). Null: nothing to send (outside the frame, a degenerate
 * box, another button).
 */
export function gestureToPrompt(start: PressStart, end: { x: number; y: number }, frame: FrameSize, screenScale: number): GesturePrompt | null {
  if (!isPromptButton(start.button)) return null;
  const dragged = Math.hypot(end.x - start.x, end.y - start.y) * screenScale >= DRAG_THRESHOLD_PX;
  if (start.button === 0 && dragged) {
    const x0 = clamp(Math.min(start.x, end.x), 0, frame.width);
    const x1 = clamp(Math.max(start.x, end.x), 0, frame.width);
    const y0 = clamp(Math.min(start.y, end.y), 0, frame.height);
    const y1 = clamp(Math.max(start.y, end.y), 0, frame.height);
    const box: Box = [Math.floor(x0), Math.floor(y0), Math.ceil(x1), Math.ceil(y1)];
    if (box[2] - box[0] < 2 || box[3] - box[1] < 2) return null;
    return { kind: "box", box };
  }
  if (!start.inside) return null;
  const negative = start.button === 2 || start.altKey || start.shiftKey;
  return {
    kind: "point",
    x: clamp(Math.floor(start.x), 0, frame.width - 1),
    y: clamp(Math.floor(start.y), 0, frame.height - 1),
    label: negative ? 0 : 1,
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** The box being dragged, for drawing (null while it is still a click). */
export function dragBox(start: PressStart, now: { x: number; y: number }, screenScale: number): Box | null {
  if (start.button !== 0) return null;
  if (Math.hypot(now.x - start.x, now.y - start.y) * screenScale < DRAG_THRESHOLD_PX) return null;
  return [start.x, start.y, now.x, now.y];
}
