/**
 * Annotation frames and time. Annotation frame k is shown from t = k / fps until the next frame;
 * every mask, click and caption uses these 0-based indices (DESIGN §3). Times are seconds from
 * the start of the (clip) video.
 */

/**
 * Tolerance, in frames, for times that arrive a hair before a frame boundary: 1/6 s written as
 * 0.1666666 is frame 1 at 6 fps, not frame 0. A thousandth of a frame is far below anything a
 * person or a <video> element can distinguish and far above float noise.
 */
const FRAME_EPSILON = 1e-3;

function checkFps(fps: number): void {
  if (!(fps > 0) || !Number.isFinite(fps)) throw new RangeError(`fps must be positive, got ${fps}.`);
}

/** k clamped to [0, count - 1] and made whole (0 when there are no frames). */
export function clampFrame(k: number, count: number): number {
  if (count <= 0 || Number.isNaN(k)) return 0;
  return Math.min(count - 1, Math.max(0, Math.round(k)));
}

/** The annotation frame on screen at time t. */
export function frameAtTime(t: number, fps: number, count: number): number {
  checkFps(fps);
  if (!Number.isFinite(t)) return t > 0 ? clampFrame(count - 1, count) : 0;
  return clampFrame(Math.floor(t * fps + FRAME_EPSILON), count);
}

/** The time at which annotation frame k starts. */
export function timeOfFrame(k: number, fps: number): number {
  checkFps(fps);
  return k / fps;
}

/** Length of a video of `count` annotation frames: the last frame lasts 1 / fps too. */
export function durationOf(count: number, fps: number): number {
  checkFps(fps);
  return Math.max(0, count) / fps;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** `mm:ss.cc` (minutes, seconds, hundredths; hours prepended past an hour). */
export function formatTime(t: number): string {
  const hundredths = Math.floor(Math.max(0, t) * 100 + FRAME_EPSILON);
  const cc = hundredths % 100;
  const totalSeconds = Math.floor(hundredths / 100);
  const ss = totalSeconds % 60;
  const totalMinutes = Math.floor(totalSeconds / 60);
  const mm = totalMinutes % 60;
  const hh = Math.floor(totalMinutes / 60);
  const head = hh > 0 ? `${hh}:${pad2(mm)}` : pad2(mm);
  return `${head}:${pad2(ss)}.${pad2(cc)}`;
}

/**
 * `mm:ss.ff` for annotation frame k: whole seconds, then the frame within that second
 * (frame 7 at 6 fps is 00:01.01).
 */
export function formatTimecode(k: number, fps: number): string {
  checkFps(fps);
  const second = Math.floor(k / fps + FRAME_EPSILON / fps);
  const firstOfSecond = Math.ceil(second * fps - FRAME_EPSILON);
  const ff = k - firstOfSecond;
  const mm = Math.floor(second / 60);
  return `${pad2(mm)}:${pad2(second % 60)}.${pad2(ff)}`;
}

/** "007 / 120": the 0-based frame index against the last index, padded to the same width. */
export function formatFrameLabel(k: number, count: number): string {
  const last = Math.max(0, count - 1);
  const width = String(last).length;
  return `${String(k).padStart(width, "0")} / ${last}`;
}

/**
 * The URL of annotation frame k from the server's template. The template holds `{frame}` (the
 * server also sends how many digits to pad to) or a Python-style `{frame:06d}`.
 */
export function frameUrl(template: string, k: number, digits = 0): string {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`Frame must be a whole number ≥ 0, got ${k}.`);
  return template.replace(/\{frame(?::0?(\d+)d)?\}/g, (_match, width: string | undefined) =>
    String(k).padStart(width === undefined ? digits : Number(width), "0"),
  );
}
