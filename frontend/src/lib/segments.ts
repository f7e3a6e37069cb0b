/**
 * Temporal caption segments for pass 2 (and the caption edits of pass 3), checked exactly as the
 * server checks them (annotation/services/captions.py: segments_build, caption_check_text), so
 * the editor can show every problem inline before a submit.
 *
 * Frames are annotation-frame indices, inclusive at both ends. Out-of-frame segments come from
 * the mask (the frames where it is empty) and are never typed: the annotator's segments must
 * cover every other frame, without overlaps.
 */

export type Segment = {
  start_frame: number;
  end_frame: number;
  caption: string;
  out_of_frame: boolean;
};

export type SegmentRules = {
  /** Project minimum caption length, in characters after whitespace is collapsed. */
  minChars: number;
  maxChars: number;
};

export type SegmentIssue = {
  /** Position of the offending segment in the list given to validateSegments; null: the whole list. */
  index: number | null;
  /** What to highlight: the segment's frames, its caption, or a stretch of uncovered frames. */
  field: "frames" | "caption" | "coverage" | "list";
  message: string;
  /** Inclusive frames the problem is about, where there is such a stretch. */
  frames?: [start: number, end: number];
};

/** The export's default caption of out-of-frame segments (annotation/exports/formats.py). */
export const DEFAULT_OUT_OF_FRAME_CAPTION = "Out of frame.";

// Python's str.split() whitespace, so that lengths agree with the server to the character.
// eslint-disable-next-line no-control-regex -- \x1c-\x1f are whitespace to Python
const WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
// eslint-disable-next-line no-control-regex -- these are exactly the characters being refused
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
const MARKUP = /<\s*\/?\s*[a-zA-Z!][^>]*>/;

/** The caption as it will be stored: runs of whitespace collapsed to one space, ends trimmed. */
export function normalizeCaption(text: string): string {
  // Not String.trim(): it also strips U+FEFF, which Python keeps.
  return text.replace(WHITESPACE, " ").replace(/^ | $/g, "");
}

/** Length in characters (code points, as Python counts them) of the normalized caption. */
export function captionLength(text: string): number {
  return [...normalizeCaption(text)].length;
}

/** The first problem with one caption, prefixed by `where` ("Segment 2"), or null. */
export function checkCaption(text: unknown, rules: SegmentRules, where: string): string | null {
  if (typeof text !== "string") return `${where}: the caption must be text.`;
  const caption = normalizeCaption(text);
  if (!caption) return `${where}: the caption is empty.`;
  if (CONTROL.test(text)) return `${where}: the caption contains control characters.`;
  if (MARKUP.test(caption)) return `${where}: captions are plain text; remove the markup tag.`;
  const length = [...caption].length;
  if (length < rules.minChars) {
    return `${where}: the caption is too short (${length} characters; at least ${rules.minChars}).`;
  }
  if (length > rules.maxChars) {
    return `${where}: the caption is too long (${length} characters; at most ${rules.maxChars}).`;
  }
  return null;
}

/** Maximal runs of frames where the subject is not visible, as out-of-frame segments. */
export function outOfFrameSegments(
  visible: readonly boolean[],
  caption: string = DEFAULT_OUT_OF_FRAME_CAPTION,
): Segment[] {
  const out: Segment[] = [];
  let start: number | null = null;
  visible.forEach((seen, frame) => {
    if (!seen && start === null) start = frame;
    else if (seen && start !== null) {
      out.push({ start_frame: start, end_frame: frame - 1, caption, out_of_frame: true });
      start = null;
    }
  });
  if (start !== null) {
    out.push({ start_frame: start, end_frame: visible.length - 1, caption, out_of_frame: true });
  }
  return out;
}

/** The segments a person typed (what the submit endpoint takes): out-of-frame ones removed. */
export function typedSegments(segments: readonly Segment[]): Segment[] {
  return segments.filter((s) => !s.out_of_frame);
}

/**
 * The typed segments plus the out-of-frame ones from the mask, sorted by start frame. Any
 * out-of-frame segment already in the list is dropped and recomputed: the mask decides.
 */
export function mergeWithOutOfFrame(
  segments: readonly Segment[],
  visible: readonly boolean[],
  caption: string = DEFAULT_OUT_OF_FRAME_CAPTION,
): Segment[] {
  return [...typedSegments(segments), ...outOfFrameSegments(visible, caption)].sort(
    (a, b) => a.start_frame - b.start_frame || a.end_frame - b.end_frame,
  );
}

/**
 * Every problem with an editor's segment list, each naming its segment (1-based in messages,
 * `index` 0-based into `segments`). Out-of-frame entries of the list are ignored and recomputed
 * from `visible` (one boolean per annotation frame: the mask is non-empty). Empty when the list
 * can be submitted.
 */
export function validateSegments(
  segments: readonly Segment[],
  visible: readonly boolean[],
  rules: SegmentRules,
): SegmentIssue[] {
  const total = visible.length;
  const issues: SegmentIssue[] = [];
  const typed = segments
    .map((segment, index) => ({ segment, index }))
    .filter(({ segment }) => !segment.out_of_frame);

  if (typed.length === 0) {
    const message = visible.every((v) => !v)
      ? "The subject is never visible: this masklet cannot be captioned."
      : "Add at least one segment.";
    return [{ index: null, field: "list", message }];
  }
  if (typed.length > total) {
    issues.push({
      index: null,
      field: "list",
      message: `There are more segments (${typed.length}) than frames (${total}).`,
    });
  }

  type Placed = { index: number; start: number; end: number };
  const placed: Placed[] = [];
  for (const { segment, index } of typed) {
    const where = `Segment ${index + 1}`;
    const { start_frame: start, end_frame: end } = segment;
    if (!Number.isInteger(start) || !Number.isInteger(end)) {
      issues.push({
        index,
        field: "frames",
        message: `${where}: start_frame and end_frame must be whole numbers.`,
      });
    } else if (start < 0 || end > total - 1) {
      issues.push({
        index,
        field: "frames",
        message: `${where}: frames ${start}-${end} are outside the video (0-${total - 1}).`,
        frames: [start, end],
      });
    } else if (end < start) {
      issues.push({
        index,
        field: "frames",
        message: `${where}: ends (frame ${end}) before it starts (frame ${start}).`,
        frames: [end, start],
      });
    } else {
      placed.push({ index, start, end });
    }
    const captionProblem = checkCaption(segment.caption, rules, where);
    if (captionProblem) issues.push({ index, field: "caption", message: captionProblem });
  }

  const automatic = outOfFrameSegments(visible);
  const ordered = [...placed].sort((a, b) => a.start - b.start || a.end - b.end);
  for (const s of ordered) {
    const gone = automatic.find((g) => s.start <= g.end_frame && g.start_frame <= s.end);
    if (gone) {
      issues.push({
        index: s.index,
        field: "frames",
        message:
          `Segment ${s.index + 1} (frames ${s.start}-${s.end}) overlaps frames ` +
          `${gone.start_frame}-${gone.end_frame}, where the subject is out of frame.`,
        frames: [Math.max(s.start, gone.start_frame), Math.min(s.end, gone.end_frame)],
      });
    }
  }
  for (let i = 1; i < ordered.length; i++) {
    const before = ordered[i - 1] as Placed;
    const after = ordered[i] as Placed;
    if (after.start <= before.end) {
      const last = Math.min(before.end, after.end);
      issues.push({
        index: after.index,
        field: "frames",
        message:
          `Segments ${before.index + 1} and ${after.index + 1} overlap ` +
          `(frames ${after.start}-${last}).`,
        frames: [after.start, last],
      });
    }
  }

  const covered = new Uint8Array(total);
  for (const s of placed) covered.fill(1, s.start, s.end + 1);
  for (const g of automatic) covered.fill(1, g.start_frame, g.end_frame + 1);
  let gapStart: number | null = null;
  for (let frame = 0; frame <= total; frame++) {
    const isGap = frame < total && covered[frame] === 0;
    if (isGap && gapStart === null) gapStart = frame;
    else if (!isGap && gapStart !== null) {
      issues.push({
        index: null,
        field: "coverage",
        message: `Frames ${gapStart}-${frame - 1} are not covered by any segment.`,
        frames: [gapStart, frame - 1],
      });
      gapStart = null;
    }
  }
  return issues;
}
