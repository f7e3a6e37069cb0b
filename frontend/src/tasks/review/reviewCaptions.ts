/**
 * The reviewer's caption edits (pass 3): the typed segments of the latest caption revision, edited
 * in place (text, frames), split, removed or added. Out-of-frame segments are not edited: they
 * come from the mask (src/lib/segments.ts) and the server re-derives them.
 *
 * Frames are annotation-frame indices, inclusive at both ends.
 */
import { normalizeCaption, type Segment } from "@/lib/segments";
import type { CaptionSegmentPayload } from "@/types/api";

export type ReviewSegment = {
  /** Stable identity for React and the draft (not sent to the server). */
  key: number;
  start_frame: number;
  end_frame: number;
  caption: string;
  /** The segment as the author wrote it (null: added by the reviewer). */
  original: { start_frame: number; end_frame: number; caption: string } | null;
};

export type ReviewForm = {
  segments: ReviewSegment[];
  nextKey: number;
  decision: "accept" | "reject" | null;
  reasons: string[];
  comment: string;
  /** The reviewer confirmed the flagged captions still describe the (changed) mask. */
  rechecked: boolean;
};

export function sortSegments(segments: ReviewSegment[]): ReviewSegment[] {
  return [...segments].sort((a, b) => a.start_frame - b.start_frame || a.end_frame - b.end_frame || a.key - b.key);
}

export function initialForm(captions: readonly CaptionSegmentPayload[] | null | undefined): ReviewForm {
  const typed = (captions ?? []).filter((s) => !s.out_of_frame);
  const segments = typed.map((s, k) => ({
    key: k + 1,
    start_frame: s.start_frame,
    end_frame: s.end_frame,
    caption: s.caption,
    original: { start_frame: s.start_frame, end_frame: s.end_frame, caption: s.caption },
  }));
  return { segments: sortSegments(segments), nextKey: segments.length + 1, decision: null, reasons: [], comment: "", rechecked: false };
}

/** A saved draft, if it is one of ours for these captions (else null: start fresh). */
export function formFromDraft(draft: unknown, captionRevision: number | null): ReviewForm | null {
  if (!draft || typeof draft !== "object") return null;
  const d = draft as { review?: unknown; caption_revision?: unknown };
  if (d.caption_revision !== captionRevision || !d.review || typeof d.review !== "object") return null;
  const f = d.review as Partial<ReviewForm>;
  if (!Array.isArray(f.segments) || typeof f.nextKey !== "number") return null;
  const ok = f.segments.every(
    (s) =>
      s &&
      typeof s === "object" &&
      Number.isInteger(s.key) &&
      Number.isInteger(s.start_frame) &&
      Number.isInteger(s.end_frame) &&
      typeof s.caption === "string",
  );
  if (!ok) return null;
  return {
    segments: sortSegments(f.segments),
    nextKey: f.nextKey,
    decision: f.decision === "accept" || f.decision === "reject" ? f.decision : null,
    reasons: Array.isArray(f.reasons) ? f.reasons.filter((r): r is string => typeof r === "string") : [],
    comment: typeof f.comment === "string" ? f.comment : "",
    rechecked: f.rechecked === true,
  };
}

export function draftOf(form: ReviewForm, captionRevision: number | null): { review: ReviewForm; caption_revision: number | null } {
  return { review: form, caption_revision: captionRevision };
}

/** The typed segments as the submit endpoint takes them. */
export function segmentsBody(form: ReviewForm): { start_frame: number; end_frame: number; caption: string }[] {
  return sortSegments(form.segments).map((s) => ({
    start_frame: s.start_frame,
    end_frame: s.end_frame,
    caption: normalizeCaption(s.caption),
  }));
}

/** The segments as src/lib/segments.ts checks them (typed only; out-of-frame added by the caller). */
export function asSegments(form: ReviewForm): Segment[] {
  return sortSegments(form.segments).map((s) => ({ start_frame: s.start_frame, end_frame: s.end_frame, caption: s.caption, out_of_frame: false }));
}

export type SegmentChange = "unchanged" | "text" | "frames" | "both" | "added";

export function changeOf(s: ReviewSegment): SegmentChange {
  if (!s.original) return "added";
  const text = normalizeCaption(s.caption) !== normalizeCaption(s.original.caption);
  const frames = s.start_frame !== s.original.start_frame || s.end_frame !== s.original.end_frame;
  return text && frames ? "both" : text ? "text" : frames ? "frames" : "unchanged";
}

/** Did the reviewer change the captions (text, frames, added or removed segments)? */
export function captionsEdited(form: ReviewForm, original: readonly CaptionSegmentPayload[] | null | undefined): boolean {
  const typed = (original ?? []).filter((s) => !s.out_of_frame);
  if (typed.length !== form.segments.length) return true;
  return form.segments.some((s) => changeOf(s) !== "unchanged");
}

/** Originals the reviewer removed. */
export function removedSegments(form: ReviewForm, original: readonly CaptionSegmentPayload[] | null | undefined): CaptionSegmentPayload[] {
  const kept = new Set(form.segments.filter((s) => s.original).map((s) => `${s.original!.start_frame}:${s.original!.end_frame}:${s.original!.caption}`));
  return (original ?? []).filter((s) => !s.out_of_frame && !kept.has(`${s.start_frame}:${s.end_frame}:${s.caption}`));
}

export type EditResult = { form: ReviewForm; error?: string };

export function setCaption(form: ReviewForm, key: number, caption: string): ReviewForm {
  return { ...form, segments: form.segments.map((s) => (s.key === key ? { ...s, caption } : s)) };
}

export function setFrames(form: ReviewForm, key: number, start: number, end: number): ReviewForm {
  return {
    ...form,
    segments: sortSegments(form.segments.map((s) => (s.key === key ? { ...s, start_frame: start, end_frame: end } : s))),
  };
}

export function removeSegment(form: ReviewForm, key: number): ReviewForm {
  return { ...form, segments: form.segments.filter((s) => s.key !== key) };
}

/** Split a segment at `frame`: the first part keeps [start, frame - 1], the new one [frame, end]. */
export function splitSegment(form: ReviewForm, key: number, frame: number): EditResult {
  const s = form.segments.find((x) => x.key === key);
  if (!s) return { form };
  if (frame <= s.start_frame || frame > s.end_frame) {
    return { form, error: `Move the playhead inside segment ${s.start_frame}–${s.end_frame} (after its first frame) to split it there.` };
  }
  const second: ReviewSegment = { key: form.nextKey, start_frame: frame, end_frame: s.end_frame, caption: "", original: null };
  return {
    form: {
      ...form,
      nextKey: form.nextKey + 1,
      segments: sortSegments([...form.segments.map((x) => (x.key === key ? { ...x, end_frame: frame - 1 } : x)), second]),
    },
  };
}

/**
 * A new segment over the visible frames around `frame` that no segment covers (the stretch a
 * removed or missing caption left open).
 */
export function addSegmentAt(form: ReviewForm, frame: number, visible: readonly boolean[]): EditResult {
  const covered = visible.map((v) => !v);
  for (const s of form.segments) {
    for (let f = Math.max(0, s.start_frame); f <= Math.min(covered.length - 1, s.end_frame); f++) covered[f] = true;
  }
  if (frame < 0 || frame >= covered.length) return { form, error: "The playhead is outside the video." };
  if (covered[frame]) {
    const why = visible[frame] ? "a segment already covers this frame (split it instead)" : "the subject is out of frame here";
    return { form, error: `Cannot add a segment at frame ${frame}: ${why}. Move the playhead to an uncovered frame.` };
  }
  let start = frame;
  while (start > 0 && !covered[start - 1]) start--;
  let end = frame;
  while (end + 1 < covered.length && !covered[end + 1]) end++;
  const added: ReviewSegment = { key: form.nextKey, start_frame: start, end_frame: end, caption: "", original: null };
  return { form: { ...form, nextKey: form.nextKey + 1, segments: sortSegments([...form.segments, added]) } };
}

/** Frames where the subject's visibility differs between two masks (after a mask edit). */
export function visibilityChanges(before: readonly boolean[], after: readonly boolean[]): number[] {
  const out: number[] = [];
  for (let f = 0; f < Math.max(before.length, after.length); f++) if (before[f] !== after[f]) out.push(f);
  return out;
}

/** Keys of segments that overlap any of `frames`. */
export function segmentsTouching(form: ReviewForm, frames: readonly number[]): Set<number> {
  const keys = new Set<number>();
  for (const s of form.segments) if (frames.some((f) => f >= s.start_frame && f <= s.end_frame)) keys.add(s.key);
  return keys;
}

export type VerdictProblem = string | null;

/** What stops a submit of the chosen verdict, as the server would say it, or null. */
export function verdictProblem(
  form: ReviewForm,
  opts: { stale: boolean; edited: boolean; segmentIssues: number },
): VerdictProblem {
  if (form.decision === null) return "Choose accept or reject.";
  if (form.decision === "accept") {
    if (opts.edited && opts.segmentIssues > 0) return "Fix the caption problems before accepting.";
    if (opts.stale && opts.segmentIssues > 0) return "The captions no longer fit the changed mask: edit them (see the problems under the captions).";
    if (opts.stale && !opts.edited && !form.rechecked) {
      return "The mask changed after these captions were written: re-check them and tick “I re-checked the captions”, or edit them.";
    }
    return null;
  }
  if (form.reasons.length === 0) return "Choose at least one reason to reject.";
  if (form.reasons.includes("other") && !form.comment.trim()) return "Say what is wrong: a comment is required with “Other”.";
  if (form.comment.length > 2000) return "The comment is too long (at most 2000 characters).";
  if (/<\s*\/?\s*[a-zA-Z!][^>]*>/.test(form.comment)) return "The comment must be plain text (no markup).";
  return null;
}
