/**
 * Pass 2 — temporal captions. The video with the task's masklet highlighted (the rest dimmed),
 * a timeline of where the subject is visible with the segments over it, and the segment list.
 * Keyboard first: i / o mark in / out at the playhead, the caption box takes Enter to save and
 * go to the next segment, n starts a new segment. Out-of-frame segments come from the mask.
 */
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";

import { ApiError, errorMessage } from "@/api/client";
import { objectColor } from "@/lib/colors";
import { clampFrame, formatTime, timeOfFrame } from "@/lib/frames";
import { outOfFrameSegments, type SegmentIssue, validateSegments } from "@/lib/segments";
import { useShortcuts } from "@/lib/shortcuts";
import type { TaskEditorProps } from "@/tasks/types";

import CaptionTimeline from "./CaptionTimeline";
import CaptionVideo from "./CaptionVideo";
import {
  asSegments,
  type CaptionDraft,
  captionReducer,
  initialState,
  parseDraft,
  submitSegments,
  toDraft,
} from "./segmentEditor";
import SegmentList, { type Row } from "./SegmentList";
import "./caption.css";

/** Where the editor starts: the draft, else (rework) the captions under review, else nothing. */
function startingPoint(task: TaskEditorProps["task"], draft: unknown): CaptionDraft | null {
  const saved = parseDraft(draft);
  if (saved) return saved;
  const previous = task.captions?.segments.filter((s) => !s.out_of_frame);
  if (previous && previous.length > 0) {
    return { segments: previous.map(({ start_frame, end_frame, caption }) => ({ start_frame, end_frame, caption })) };
  }
  return null;
}

export default function CaptionEditor({ task, draft, saveDraft, submit }: TaskEditorProps) {
  const project = task.project;
  const fps = project.annotation_fps;
  const visible = useMemo(() => task.masklet?.revision?.visible ?? [], [task.masklet]);
  const total = visible.length;
  const rules = useMemo(
    () => ({ minChars: project.min_caption_chars, maxChars: project.max_caption_chars }),
    [project.min_caption_chars, project.max_caption_chars],
  );
  const [state, dispatch] = useReducer(captionReducer, null, () => initialState(visible, startingPoint(task, draft), rules));
  const [frame, setFrameRaw] = useState(() => state.seek?.frame ?? 0);
  const [playing, setPlaying] = useState(false);
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const root = useRef<HTMLDivElement>(null);

  const setFrame = useCallback((k: number) => setFrameRaw(clampFrame(k, total)), [total]);

  // The reducer asks for playhead moves (next segment, selection); follow them.
  const lastSeek = useRef(state.seek?.seq ?? 0);
  useEffect(() => {
    if (state.seek && state.seek.seq !== lastSeek.current) {
      lastSeek.current = state.seek.seq;
      setFrame(state.seek.frame);
      setPlaying(false);
    }
  }, [state.seek, setFrame]);

  // After Enter the keyboard goes back to the player, so that i / o / space work again.
  useEffect(() => {
    if (state.blurSeq === 0) return;
    const el = document.activeElement as HTMLElement | null;
    if (el && root.current?.contains(el)) el.blur();
    root.current?.focus({ preventScroll: true });
  }, [state.blurSeq]);

  // Autosave every change of the segments (the page debounces).
  const draftJson = JSON.stringify(toDraft(state));
  const savedJson = useRef(draftJson);
  useEffect(() => {
    if (draftJson === savedJson.current) return;
    savedJson.current = draftJson;
    saveDraft(JSON.parse(draftJson));
  }, [draftJson, saveDraft]);

  const issues: SegmentIssue[] = useMemo(
    () => validateSegments(asSegments(state), visible, rules),
    [state, visible, rules],
  );
  // Before the first submit only frame problems show (they are mistakes being made now);
  // empty captions and uncovered frames are simply work still to do.
  const shown = tried ? issues : issues.filter((i) => i.field === "frames");
  const byIndex = new Map<number, string[]>();
  for (const issue of shown) {
    if (issue.index === null) continue;
    byIndex.set(issue.index, [...(byIndex.get(issue.index) ?? []), issue.message]);
  }
  const general = shown.filter((i) => i.index === null);
  const flagged = new Set(state.segments.filter((_, i) => byIndex.has(i)).map((s) => s.key));
  // Uncovered frames always show on the timeline (work left); after a submit attempt in red.
  const gaps = issues.filter((i) => i.field === "coverage" && i.frames).map((i) => i.frames as [number, number]);

  const outRuns = useMemo(
    () => outOfFrameSegments(visible, project.out_of_frame_caption),
    [visible, project.out_of_frame_caption],
  );
  const rows: Row[] = (() => {
    const typed: Row[] = state.segments.map((segment, i) => ({
      kind: "typed",
      number: i + 1,
      segment,
      problems: byIndex.get(i) ?? [],
    }));
    const out: Row[] = outRuns.map((s) => ({
      kind: "out",
      start: s.start_frame,
      end: s.end_frame,
      caption: s.caption,
    }));
    const at = (r: Row) => (r.kind === "out" ? r.start : r.segment.start_frame);
    return [...typed, ...out].sort((a, b) => at(a) - at(b));
  })();

  const onSubmit = async () => {
    setTried(true);
    setFailure(null);
    if (issues.length > 0) {
      const first = issues.find((i) => i.index !== null);
      const segment = first?.index != null ? state.segments[first.index] : undefined;
      if (segment) dispatch({ type: "select", key: segment.key });
      else if (issues[0]?.frames) setFrame(issues[0].frames[0]);
      return;
    }
    setBusy(true);
    try {
      await submit({ segments: submitSegments(state) });
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 409)) setFailure(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const active = state.segments.find((s) => s.key === state.activeKey);
  const activeNumber = active ? state.segments.indexOf(active) + 1 : null;

  useShortcuts([
    { keys: ["i"], description: "Mark in: the current segment starts at this frame", group: "Segments", run: () => dispatch({ type: "markIn", frame }) },
    { keys: ["o"], description: "Mark out: the current segment ends at this frame (then type its caption)", group: "Segments", run: () => { setPlaying(false); dispatch({ type: "markOut", frame }); } },
    { keys: ["n"], description: "New segment on the next uncovered frames", group: "Segments", run: () => dispatch({ type: "new", frame }) },
    {
      keys: ["c"],
      description: "Type the caption of the current segment",
      group: "Segments",
      run: () => {
        setPlaying(false);
        dispatch({ type: "editCaption", frame });
      },
    },
    { keys: ["mod+Enter"], description: "Submit the captions", group: "Task", inInputs: true, run: () => void onSubmit() },
  ]);

  if (!task.masklet || !task.masklet.revision || total === 0 || visible.every((v) => !v)) {
    return (
      <p className="cap-banner cap-empty" data-testid="caption-no-mask">
        {total > 0
          ? "The subject is never visible in this masklet, so there is nothing to caption. Skip the task and say so."
          : "This task has no tracked masklet to caption. Skip the task and say so."}
      </p>
    );
  }

  const color = objectColor(task.masklet.object_id).hex;
  const seenFrames = visible.filter(Boolean).length;

  return (
    <div className="cap-editor" data-testid="caption-editor" ref={root} tabIndex={-1}>
      <div className="cap-main">
        {task.is_rework && task.notes && (
          <div className="cap-banner" data-testid="rework-notes">
            <strong>Sent back by review:</strong> {task.notes}
          </div>
        )}
        <div className="cap-subject" data-testid="caption-subject">
          <span>
            <span className="cap-swatch" style={{ background: color }} />
            Subject: {task.masklet.category} #{task.masklet.object_id}
          </span>
          <span className="cap-muted">
            visible on {seenFrames} of {total} frames · {outRuns.length} out-of-frame stretch{outRuns.length === 1 ? "" : "es"}
          </span>
        </div>
        <CaptionVideo
          task={task}
          frame={frame}
          playing={playing}
          onFrame={setFrame}
          onPlaying={setPlaying}
          color={color}
          marks={active ? { start: active.start_frame, end: active.end_frame } : null}
        />
        <div className="cap-marks">
          <span className="cap-marks__pos" data-testid="caption-marks">
            {active ? (
              <>
                Segment {activeNumber}: in <strong>{active.start_frame}</strong> · out <strong>{active.end_frame}</strong>
                <span className="cap-muted"> ({formatTime(timeOfFrame(active.end_frame + 1 - active.start_frame, fps))})</span>
              </>
            ) : (
              <span className="cap-muted">No segment selected</span>
            )}
            {!visible[frame] && <span className="cap-oof-now"> · subject out of frame here</span>}
          </span>
          <button type="button" className="btn" data-testid="mark-in" onClick={() => dispatch({ type: "markIn", frame })}>
            Mark in<kbd>I</kbd>
          </button>
          <button
            type="button"
            className="btn"
            data-testid="mark-out"
            onClick={() => {
              setPlaying(false);
              dispatch({ type: "markOut", frame });
            }}
          >
            Mark out<kbd>O</kbd>
          </button>
          <button type="button" className="btn" data-testid="new-segment" onClick={() => dispatch({ type: "new", frame })}>
            New segment<kbd>N</kbd>
          </button>
        </div>
        <CaptionTimeline
          visible={visible}
          segments={state.segments}
          outOfFrame={outRuns.map((s) => [s.start_frame, s.end_frame])}
          gaps={gaps}
          gapsAreErrors={tried}
          flagged={flagged}
          activeKey={state.activeKey}
          frame={frame}
          color={color}
          onSeek={(k) => {
            setPlaying(false);
            setFrame(k);
          }}
          onSelect={(key) => dispatch({ type: "select", key })}
        />
        {state.notice && (
          <p className={`cap-notice cap-notice--${state.notice.kind}`} role="status" data-testid="caption-notice">
            {state.notice.text}
          </p>
        )}
        <p className="cap-muted cap-help">
          {activeNumber
            ? `Editing segment ${activeNumber}. Play (Space), press O where the action ends, type what the subject does, Enter for the next segment.`
            : "Press N for a new segment, or click one to edit it."}
        </p>
      </div>
      <aside className="cap-side">
        <SegmentList
          rows={rows}
          activeKey={state.activeKey}
          fps={fps}
          total={total}
          minChars={rules.minChars}
          maxChars={rules.maxChars}
          focusSeq={state.focusSeq}
          onSelect={(key, seek) => dispatch({ type: "select", key, seek })}
          onCaption={(key, caption) => dispatch({ type: "setCaption", key, caption })}
          onFrames={(key, start_frame, end_frame) => dispatch({ type: "setFrames", key, start_frame, end_frame })}
          onDelete={(key) => dispatch({ type: "delete", key })}
          onEnter={() => dispatch({ type: "next" })}
          onEscape={() => root.current?.focus({ preventScroll: true })}
        />
        <footer className="cap-footer">
          {general.length > 0 && (
            <ul className="cap-issues" data-testid="caption-issues">
              {general.map((i) => (
                <li key={i.message}>{i.message}</li>
              ))}
            </ul>
          )}
          {tried && issues.length > 0 && (
            <p className="cap-problem" role="alert" data-testid="caption-invalid">
              {issues.length} problem{issues.length === 1 ? "" : "s"} to fix before submitting.
            </p>
          )}
          {failure && (
            <p className="cap-problem" role="alert" data-testid="submit-error">
              {failure}
            </p>
          )}
          <div className="cap-footer__row">
            <span className="cap-muted">
              {state.segments.length} segment{state.segments.length === 1 ? "" : "s"}
              {outRuns.length > 0 ? ` + ${outRuns.length} out of frame` : ""}
            </span>
            <button
              type="button"
              className="btn btn-primary"
              data-testid="caption-submit"
              disabled={busy}
              onClick={() => void onSubmit()}
            >
              {busy ? "Submitting…" : "Submit captions"}
            </button>
          </div>
        </footer>
      </aside>
    </div>
  );
}
