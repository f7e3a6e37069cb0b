/**
 * Pass-2 editor state: the segments the annotator types, which one is being edited, and the
 * keyboard actions on them (mark in / mark out at the playhead, caption + Enter = next segment,
 * new segment). Out-of-frame segments are not part of this state: they come from the mask
 * (`visible`) and are merged in for display and validation only (src/lib/segments.ts).
 *
 * Frames are annotation-frame indices, inclusive at both ends.
 */
import { checkCaption, normalizeCaption, type Segment, type SegmentRules } from "@/lib/segments";

export type EditSegment = {
  /** Stable identity while frames and order change (not sent to the server). */
  key: number;
  start_frame: number;
  end_frame: number;
  caption: string;
};

export type Notice = { kind: "info" | "error"; text: string };

export type CaptionEditorState = {
  /** One boolean per annotation frame: the masklet is visible there. */
  visible: readonly boolean[];
  /** Project caption rules: Enter does not leave a segment whose caption breaks them. */
  rules: SegmentRules | null;
  /** Typed segments, always sorted by (start_frame, end_frame). */
  segments: EditSegment[];
  activeKey: number | null;
  nextKey: number;
  notice: Notice | null;
  /** Where the playhead should go after the last action; `seq` changes on every request. */
  seek: { frame: number; seq: number } | null;
  /**
   * Keyboard focus requests, bumped per request: `focusSeq` puts it in the active segment's
   * caption box (after mark out: the next thing to do is type), `blurSeq` takes it back to the
   * player (after Enter: watch on, i / o work again).
   */
  focusSeq: number;
  blurSeq: number;
};

export type CaptionAction =
  | { type: "markIn"; frame: number }
  | { type: "markOut"; frame: number }
  | { type: "new"; frame: number }
  | { type: "editCaption"; frame: number }
  | { type: "next" }
  | { type: "select"; key: number; seek?: boolean }
  | { type: "setCaption"; key: number; caption: string }
  | { type: "setFrames"; key: number; start_frame: number; end_frame: number }
  | { type: "delete"; key: number }
  | { type: "dismissNotice" };

type Stretch = [start: number, end: number];

function sortSegments(segments: EditSegment[]): EditSegment[] {
  return [...segments].sort(
    (a, b) => a.start_frame - b.start_frame || a.end_frame - b.end_frame || a.key - b.key,
  );
}

/** covered[f]: frame f is out of frame, or inside a typed segment (other than `except`). */
function coverage(state: CaptionEditorState, except: number | null = null): boolean[] {
  const covered = state.visible.map((v) => !v);
  for (const s of state.segments) {
    if (s.key === except) continue;
    const a = Math.max(0, s.start_frame);
    const b = Math.min(covered.length - 1, s.end_frame);
    for (let f = a; f <= b; f++) covered[f] = true;
  }
  return covered;
}

/** The first stretch of visible, uncovered frames at or after `from`. */
function freeStretchFrom(covered: readonly boolean[], from: number): Stretch | null {
  let start = Math.max(0, from);
  while (start < covered.length && covered[start]) start++;
  if (start >= covered.length) return null;
  let end = start;
  while (end + 1 < covered.length && !covered[end + 1]) end++;
  return [start, end];
}

/** The first free stretch after `from`, else the first one in the whole video. */
function freeStretchAfter(covered: readonly boolean[], from: number): Stretch | null {
  return freeStretchFrom(covered, from) ?? freeStretchFrom(covered, 0);
}

function segmentAt(state: CaptionEditorState, frame: number): EditSegment | undefined {
  return state.segments.find((s) => s.start_frame <= frame && frame <= s.end_frame);
}

function outOfFrameNotice(frame: number): Notice {
  return {
    kind: "error",
    text:
      `The subject is out of frame at frame ${frame}: those frames get an automatic ` +
      "out-of-frame segment.",
  };
}

function withSeek(state: CaptionEditorState, frame: number): CaptionEditorState["seek"] {
  return { frame, seq: (state.seek?.seq ?? 0) + 1 };
}

function addSegment(
  state: CaptionEditorState,
  stretch: Stretch,
  extra: Partial<CaptionEditorState> = {},
): CaptionEditorState {
  const segment: EditSegment = {
    key: state.nextKey,
    start_frame: stretch[0],
    end_frame: stretch[1],
    caption: "",
  };
  return {
    ...state,
    segments: sortSegments([...state.segments, segment]),
    activeKey: segment.key,
    nextKey: state.nextKey + 1,
    notice: null,
    seek: withSeek(state, stretch[0]),
    ...extra,
  };
}

function update(
  state: CaptionEditorState,
  key: number,
  change: Partial<Omit<EditSegment, "key">>,
  extra: Partial<CaptionEditorState> = {},
): CaptionEditorState {
  return {
    ...state,
    segments: sortSegments(state.segments.map((s) => (s.key === key ? { ...s, ...change } : s))),
    notice: null,
    ...extra,
  };
}

const ALL_COVERED: Notice = {
  kind: "info",
  text: "Every frame is covered. Check the list and submit, or change a segment with i / o.",
};

export function captionReducer(state: CaptionEditorState, action: CaptionAction): CaptionEditorState {
  const total = state.visible.length;
  const active = state.segments.find((s) => s.key === state.activeKey);
  switch (action.type) {
    case "markIn": {
      const frame = action.frame;
      if (frame < 0 || frame >= total) return state;
      if (!state.visible[frame]) return { ...state, notice: outOfFrameNotice(frame) };
      const target = active ?? segmentAt(state, frame);
      if (!target) {
        // Nothing being edited here: a new segment from this frame to the end of its free stretch.
        const stretch = freeStretchFrom(coverage(state), frame) as Stretch;
        return addSegment(state, [frame, stretch[1]], { seek: state.seek });
      }
      return update(
        state,
        target.key,
        { start_frame: frame, end_frame: Math.max(target.end_frame, frame) },
        { activeKey: target.key },
      );
    }
    case "markOut": {
      const frame = action.frame;
      if (frame < 0 || frame >= total) return state;
      if (!state.visible[frame]) return { ...state, notice: outOfFrameNotice(frame) };
      const target = active ?? segmentAt(state, frame);
      if (!target) {
        // A new segment from the start of the free stretch this frame is in, up to this frame.
        const covered = coverage(state);
        let start = frame;
        while (start > 0 && !covered[start - 1]) start--;
        return addSegment(state, [start, frame], { seek: state.seek, focusSeq: state.focusSeq + 1 });
      }
      if (frame < target.start_frame) {
        return {
          ...state,
          notice: {
            kind: "error",
            text:
              `Out (frame ${frame}) would be before in (frame ${target.start_frame}). ` +
              "Mark in first (i), or select the earlier segment.",
          },
        };
      }
      return update(
        state,
        target.key,
        { end_frame: frame },
        { activeKey: target.key, focusSeq: state.focusSeq + 1 },
      );
    }
    case "new": {
      const stretch = freeStretchAfter(coverage(state), action.frame);
      if (!stretch) return { ...state, notice: ALL_COVERED };
      return addSegment(state, stretch);
    }
    case "editCaption": {
      // The active segment, else the one under the playhead: its caption box takes the keys.
      const target = active ?? segmentAt(state, action.frame);
      if (!target) {
        return {
          ...state,
          notice: { kind: "info", text: "No segment here: press N for a new one, or I / O to mark one." },
        };
      }
      return { ...state, activeKey: target.key, notice: null, focusSeq: state.focusSeq + 1 };
    }
    case "next": {
      if (!active) {
        const stretch = freeStretchFrom(coverage(state), 0);
        return stretch ? addSegment(state, stretch) : { ...state, notice: ALL_COVERED };
      }
      if (!normalizeCaption(active.caption)) {
        return {
          ...state,
          notice: { kind: "error", text: "Type the caption of this segment first." },
        };
      }
      const number = state.segments.indexOf(active) + 1;
      const problem = state.rules && checkCaption(active.caption, state.rules, `Segment ${number}`);
      if (problem) return { ...state, notice: { kind: "error", text: problem } };
      // Next in frame order: the following segment if it comes before any uncovered frames,
      // else a new segment on the next uncovered frames (after the out, then from the start).
      const blurSeq = state.blurSeq + 1;
      const covered = coverage(state);
      const following = state.segments.find((s) => s.key !== active.key && s.start_frame > active.start_frame);
      const after = freeStretchFrom(covered, active.end_frame + 1);
      if (following && (!after || following.start_frame <= after[0])) {
        return {
          ...state,
          activeKey: following.key,
          notice: null,
          seek: withSeek(state, following.start_frame),
          blurSeq,
        };
      }
      const stretch = after ?? freeStretchFrom(covered, 0);
      if (!stretch) return { ...state, activeKey: null, notice: ALL_COVERED, blurSeq };
      return addSegment(state, stretch, { blurSeq });
    }
    case "select": {
      const target = state.segments.find((s) => s.key === action.key);
      if (!target) return state;
      return {
        ...state,
        activeKey: target.key,
        notice: null,
        seek: action.seek === false ? state.seek : withSeek(state, target.start_frame),
      };
    }
    case "setCaption":
      return {
        ...state,
        segments: state.segments.map((s) =>
          s.key === action.key ? { ...s, caption: action.caption } : s,
        ),
        notice: state.notice?.kind === "error" ? null : state.notice,
      };
    case "setFrames": {
      if (!Number.isInteger(action.start_frame) || !Number.isInteger(action.end_frame)) {
        return state;
      }
      return update(state, action.key, {
        start_frame: action.start_frame,
        end_frame: action.end_frame,
      });
    }
    case "delete": {
      const segments = state.segments.filter((s) => s.key !== action.key);
      return {
        ...state,
        segments,
        activeKey: state.activeKey === action.key ? null : state.activeKey,
        notice: null,
      };
    }
    case "dismissNotice":
      return { ...state, notice: null };
  }
}

/** Draft data as stored by autosave (GET/PUT /api/tasks/<id>/draft). */
export type CaptionDraft = {
  segments: { start_frame: number; end_frame: number; caption: string }[];
  active?: number | null;
};

export function toDraft(state: CaptionEditorState): CaptionDraft {
  const active = state.segments.findIndex((s) => s.key === state.activeKey);
  return {
    segments: state.segments.map(({ start_frame, end_frame, caption }) => ({
      start_frame,
      end_frame,
      caption,
    })),
    active: active < 0 ? null : active,
  };
}

/** The draft's segments if `data` looks like a caption draft, else null (ignore it). */
export function parseDraft(data: unknown): CaptionDraft | null {
  if (typeof data !== "object" || data === null) return null;
  const raw = (data as { segments?: unknown }).segments;
  if (!Array.isArray(raw)) return null;
  const segments: CaptionDraft["segments"] = [];
  for (const item of raw) {
    if (typeof item !== "object" || item === null) return null;
    const { start_frame, end_frame, caption } = item as Record<string, unknown>;
    if (!Number.isInteger(start_frame) || !Number.isInteger(end_frame)) return null;
    if (typeof caption !== "string") return null;
    segments.push({ start_frame: start_frame as number, end_frame: end_frame as number, caption });
  }
  const active = (data as { active?: unknown }).active;
  return { segments, active: Number.isInteger(active) ? (active as number) : null };
}

/**
 * The starting state: the draft if there is one, else the given segments (a rework starts from
 * the captions under review), else one segment over the first visible stretch, ready to type.
 */
export function initialState(
  visible: readonly boolean[],
  from: CaptionDraft | null,
  rules: SegmentRules | null = null,
): CaptionEditorState {
  const base: CaptionEditorState = {
    visible,
    rules,
    segments: [],
    activeKey: null,
    nextKey: 1,
    notice: null,
    seek: null,
    focusSeq: 0,
    blurSeq: 0,
  };
  if (from && from.segments.length > 0) {
    const segments = from.segments.map((s, i) => ({ ...s, key: i + 1 }));
    const active = from.active != null ? segments[from.active] : undefined;
    const sorted = sortSegments(segments);
    return {
      ...base,
      segments: sorted,
      nextKey: segments.length + 1,
      activeKey: active?.key ?? null,
      seek: active ? { frame: active.start_frame, seq: 1 } : null,
    };
  }
  const first = freeStretchFrom(coverage(base), 0);
  if (!first) return base;
  return { ...addSegment(base, first), seek: { frame: first[0], seq: 1 } };
}

/** The typed segments as the submit endpoint takes them (caption_submit), in frame order. */
export function submitSegments(state: CaptionEditorState): Pick<Segment, "start_frame" | "end_frame" | "caption">[] {
  return state.segments.map((s) => ({
    start_frame: s.start_frame,
    end_frame: s.end_frame,
    caption: normalizeCaption(s.caption),
  }));
}

/** Typed segments in the shape src/lib/segments.ts validates. */
export function asSegments(state: CaptionEditorState): Segment[] {
  return state.segments.map((s) => ({
    start_frame: s.start_frame,
    end_frame: s.end_frame,
    caption: s.caption,
    out_of_frame: false,
  }));
}
