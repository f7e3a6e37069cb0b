/**
 * Pass 3 on a masklet: the mask and its captions together. The reviewer may refine the mask with
 * clicks (this masklet only) and re-track it, edit the captions (text, frames, split, remove,
 * add), and accept or reject with reasons; the masklet's history and revision diffs are beside.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";

import { api, ApiError, errorMessage } from "@/api/client";
import { FramePlayer, type Decoration, type FramePointerEvent, type PlayerMask } from "@/components/player/FramePlayer";
import { queryKeys } from "@/api/queries";
import { hexToRgb, objectColor } from "@/lib/colors";
import { clampFrame } from "@/lib/frames";
import { outOfFrameSegments, validateSegments } from "@/lib/segments";
import { useShortcuts } from "@/lib/shortcuts";
import type { TaskEditorProps } from "@/tasks/types";
import type { TaskPayload } from "@/types/api";

import { fetchMasks, reviewKeys } from "./api";
import { CaptionsPanel } from "./CaptionsPanel";
import { HistoryPanel } from "./HistoryPanel";
import type { HistorySummary } from "./history";
import {
  addSegmentAt,
  asSegments,
  captionsEdited,
  draftOf,
  formFromDraft,
  initialForm,
  removedSegments,
  removeSegment,
  segmentsBody,
  segmentsTouching,
  setCaption,
  setFrames,
  splitSegment,
  verdictProblem,
  visibilityChanges,
  type ReviewForm,
} from "./reviewCaptions";
import { ReviewTimeline } from "./ReviewTimeline";
import { useMaskRefine } from "./useMaskRefine";
import { VerdictPanel } from "./VerdictPanel";
import "./review.css";

const MASK_REASONS = new Set(["mask_quality", "wrong_object"]);

function ReviewBody({ task, draft, saveDraft, submit }: TaskEditorProps) {
  const client = useQueryClient();
  const [live, setLive] = useState<TaskPayload>(task);
  const masklet = live.masklet!;
  const video = live.video!;
  const total = video.annotation_frame_count;
  const color = objectColor(masklet.object_id);
  const rgb = useMemo(() => hexToRgb(color.hex), [color.hex]);
  const captions = live.captions;
  const originalCaptions = task.captions?.segments ?? null;
  const stale = Boolean(captions?.stale || captions?.needs_recheck);
  const visible = useMemo(() => masklet.revision?.visible ?? Array<boolean>(total).fill(false), [masklet.revision, total]);
  const openedVisible = task.masklet?.revision?.visible ?? visible;
  const reasonLabel = useCallback(
    (code: string) => task.review_reasons.find((r) => r.code === code)?.label ?? code.replace(/_/g, " "),
    [task.review_reasons],
  );

  const [frame, setFrame] = useState(() => clampFrame(masklet.revision?.first_visible_frame ?? 0, total));
  const [playing, setPlaying] = useState(false);
  const seek = useCallback(
    (k: number) => {
      setFrame(clampFrame(k, total));
    },
    [total],
  );
  const [form, setForm] = useState<ReviewForm>(() => formFromDraft(draft, task.captions?.number ?? null) ?? initialForm(originalCaptions));
  const [refineMode, setRefineMode] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [serverError, setServerError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [historyKey, setHistoryKey] = useState(0);
  const [tab, setTab] = useState<"history" | "guidelines">("history");

  const update = useCallback(
    (next: ReviewForm) => {
      setForm(next);
      saveDraft(draftOf(next, task.captions?.number ?? null));
    },
    [saveDraft, task.captions?.number],
  );

  // Masks of the current revision, for the overlay.
  const revisionNumber = masklet.revision?.number ?? null;
  const masks = useQuery({
    queryKey: reviewKeys.masks(video.id, masklet.id, revisionNumber),
    queryFn: ({ signal }) => fetchMasks(video.id, masklet.id, total, signal),
    staleTime: Infinity,
  });

  const refine = useMaskRefine({
    taskId: task.id,
    videoId: video.id,
    maskletId: masklet.id,
    onTracked: () => {
      void api<TaskPayload>(`/tasks/${task.id}`)
        .then((fresh) => {
          setLive(fresh);
          client.setQueryData(queryKeys.task(task.id), fresh);
          setNotice("The mask was re-tracked. Captions written on the old mask are flagged: re-check them.");
        })
        .catch((e) => setServerError(errorMessage(e)));
      void client.invalidateQueries({ queryKey: reviewKeys.history(masklet.id) });
      setHistoryKey((k) => k + 1);
    },
  });
  const { settle } = refine;
  // Once the new revision's masks are loaded, the streamed/clicked overrides are no longer needed.
  useEffect(() => {
    if (masks.isSuccess && revisionNumber !== (task.masklet?.revision?.number ?? null)) settle();
  }, [masks.isSuccess, masks.dataUpdatedAt, revisionNumber, task.masklet?.revision?.number, settle]);

  const { overrides } = refine;
  const masksAt = useCallback(
    (k: number): readonly PlayerMask[] => [{ id: masklet.id, rle: overrides.get(k) ?? masks.data?.[k] ?? null, color: rgb }],
    [overrides, masks.data, masklet.id, rgb],
  );
  const decorations = useMemo<Decoration[]>(
    () => (refine.clicks.get(frame) ?? []).map(([x, y, label]) => ({ kind: "point", x, y, positive: label === 1 })),
    [refine.clicks, frame],
  );
  const { click } = refine;
  const onPointer = useCallback(
    (e: FramePointerEvent) => {
      if (e.type !== "down" || !e.inside || (e.button !== 0 && e.button !== 2)) return;
      void click(e.frame, Math.round(e.x * 10) / 10, Math.round(e.y * 10) / 10, e.button === 2 || e.shiftKey || e.altKey ? 0 : 1);
    },
    [click],
  );
  const oof = useMemo(() => outOfFrameSegments(visible, live.project.out_of_frame_caption || undefined), [visible, live.project.out_of_frame_caption]);
  const edited = captionsEdited(form, originalCaptions);
  const issues = useMemo(
    () =>
      validateSegments(asSegments(form), visible, {
        minChars: live.project.min_caption_chars,
        maxChars: live.project.max_caption_chars,
      }),
    [form, visible, live.project.min_caption_chars, live.project.max_caption_chars],
  );
  const changedFrames = useMemo(() => visibilityChanges(openedVisible, visible), [openedVisible, visible]);
  const flagged = useMemo(() => segmentsTouching(form, [...changedFrames, ...refine.pendingFrames]), [form, changedFrames, refine.pendingFrames]);
  const removed = removedSegments(form, originalCaptions);
  const verdict = verdictProblem(form, { stale, edited, segmentIssues: issues.length });
  // Name the first caption problem right in the verdict: the list may be scrolled away.
  const problem = verdict && issues.length && form.decision === "accept" && (edited || stale) ? `${verdict} First: ${issues[0]!.message}` : verdict;
  const tracking = refine.job !== null && (refine.job.status === "queued" || refine.job.status === "running");
  const tracks = useMemo(
    () => [{ id: masklet.id, color: color.hex, label: `Object ${masklet.object_id}`, visible, emphasis: true }],
    [masklet.id, masklet.object_id, color.hex, visible],
  );
  const markers = useMemo(
    () => [
      ...refine.pendingFrames.map((f) => ({ frame: f, color: "#e8a33a", title: `Clicked on frame ${f}: re-track` })),
      ...changedFrames.map((f) => ({ frame: f, color: "#8d95a1", title: `Visibility changed on frame ${f}` })),
    ],
    [refine.pendingFrames, changedFrames],
  );
  const blockedByMask =
    refine.pendingFrames.length > 0 ? "You clicked on the mask but did not re-track it yet: re-track first, so the whole masklet matches." : null;
  const finalProblem = tracking ? "Wait for the re-track to finish." : (form.decision === "accept" ? blockedByMask : null) ?? problem;

  const history = live.history as HistorySummary | null;
  const lastReject = history?.reviews.filter((r) => r.decision === "reject").at(-1);

  const reworkHint =
    form.decision === "reject"
      ? form.reasons.some((r) => MASK_REASONS.has(r))
        ? "The masklet goes back to the pass-1 author to fix the mask (the captions follow after)."
        : form.reasons.length
          ? "The captions go back to the pass-2 author to rework."
          : null
      : null;
  const acceptHint = edited
    ? `Your caption edits are saved as a new caption revision${removed.length ? ` (${removed.length} caption${removed.length === 1 ? "" : "s"} removed)` : ""}.`
    : stale
      ? "The captions will be kept as they are, rebuilt on the current mask (out-of-frame parts re-derived)."
      : "The masklet and its captions become verified (exportable).";

  const onSubmit = async () => {
    if (finalProblem) return;
    setSubmitting(true);
    setServerError(null);
    try {
      if (form.decision === "accept") {
        await submit({
          decision: "accept",
          ...(edited ? { segments: segmentsBody(form) } : {}),
          captions_rechecked: stale && !edited ? form.rechecked : false,
        });
      } else {
        await submit({ decision: "reject", reasons: form.reasons, comment: form.comment.trim() });
      }
    } catch (error) {
      setSubmitting(false);
      if (error instanceof ApiError && error.status === 409) return; // the page shows conflicts
      setServerError(errorMessage(error));
    }
  };

  useShortcuts([
    { keys: ["m"], description: "Refine the mask (click mode) on / off", group: "Review", run: () => setRefineMode((v) => !v) },
  ]);

  const blocks = [
    ...form.segments.map((s, index) => ({
      key: `s${s.key}`,
      start: s.start_frame,
      end: s.end_frame,
      label: String(index + 1),
      tone: issues.some((i) => i.index === index) ? ("invalid" as const) : flagged.has(s.key) || stale ? ("flagged" as const) : frame >= s.start_frame && frame <= s.end_frame ? ("active" as const) : ("typed" as const),
    })),
    ...oof.map((s) => ({ key: `o${s.start_frame}`, start: s.start_frame, end: s.end_frame, label: "out", tone: "oof" as const })),
  ];

  return (
    <div className="rv-editor" data-testid="review-editor">
      <div className="rv-main">
        {task.is_rework && task.notes && (
          <div className="rv-banner rv-banner-warn" data-testid="rework-notes">
            <b>Rework</b> — reviewer&apos;s notes: {task.notes}
          </div>
        )}
        {lastReject && (
          <div className="rv-banner" data-testid="previous-rejection">
            <b>Rejected before</b> by {lastReject.reviewer ?? "a reviewer"}: {lastReject.reasons.map(reasonLabel).join(", ")}
            {lastReject.comment ? ` — “${lastReject.comment}”` : ""}. This is the reworked version: check that it was fixed.
          </div>
        )}
        <div className="rv-subject">
          <span className="rv-swatch" style={{ background: color.hex }} />
          <b>
            Object {masklet.object_id} · {masklet.category}
          </b>
          <span className="muted small">
            masklet #{masklet.id} · mask revision {revisionNumber ?? "—"} · captions revision {captions?.number ?? "—"}
            {captions?.author ? ` by ${captions.author}` : ""} · {video.name}
          </span>
        </div>
        {video.media ? (
          <div className="rv-player-box">
          <FramePlayer
            video={video}
            frame={frame}
            onFrameChange={seek}
            playing={playing}
            onPlayingChange={setPlaying}
            masksAt={masksAt}
            maskMode="filled"
            highlightId={masklet.id}
            decorations={decorations}
            onPointer={refineMode && !refine.busy && !tracking ? onPointer : undefined}
            cursor={refineMode ? (refine.busy || tracking ? "progress" : "crosshair") : undefined}
            tracks={tracks}
            markers={markers}
            hud={
              refineMode ? (
                <span className="rv-hud" data-testid="refine-hud">
                  Refine: click adds · Shift/right-click removes
                </span>
              ) : undefined
            }
          />
          </div>
        ) : (
          <p className="error-text">This video has no frames to show.</p>
        )}
        {masks.isError && <p className="error-text small">Masks could not be loaded: {errorMessage(masks.error)}</p>}
        <div className="rv-refine" data-testid="refine-bar">
          <label className={`rv-toggle${refineMode ? " on" : ""}`}>
            <input type="checkbox" checked={refineMode} onChange={(e) => setRefineMode(e.target.checked)} data-testid="refine-toggle" />
            Refine mask <kbd>M</kbd>
          </label>
          {refineMode && (
            <span className="small muted">Click on the frame to add to the mask; Shift+click or right-click to remove. Then re-track.</span>
          )}
          <span className="spacer" />
          {refine.pendingFrames.length > 0 && !tracking && (
            <span className="small rv-pending" data-testid="refine-pending">
              Clicked on frame{refine.pendingFrames.length > 1 ? "s" : ""} {refine.pendingFrames.join(", ")}
            </span>
          )}
          {tracking ? (
            <>
              <progress
                max={Math.max(1, refine.job?.frames_total ?? 1)}
                value={refine.job?.frames_done ?? 0}
                data-testid="retrack-progress"
              />
              <span className="small mono">
                {refine.job?.status === "queued" ? "queued…" : `${refine.job?.frames_done ?? 0}/${refine.job?.frames_total ?? "?"}`}
              </span>
              <button type="button" className="btn btn-small" onClick={() => void refine.cancel()} data-testid="retrack-cancel">
                Cancel
              </button>
            </>
          ) : (
            <button
              type="button"
              className="btn btn-small btn-primary"
              disabled={refine.busy || refine.pendingFrames.length === 0}
              onClick={() => void refine.retrack(refine.pendingFrames.at(-1))}
              title={refine.pendingFrames.length ? "Propagate the refined mask through the whole video" : "Click on the mask first"}
              data-testid="retrack"
            >
              Re-track
            </button>
          )}
        </div>
        {refine.error && (
          <p className="error-text small" role="alert" data-testid="refine-error">
            {refine.error}{" "}
            <button type="button" className="btn-link" onClick={refine.dismissError}>
              dismiss
            </button>
          </p>
        )}
        <ReviewTimeline visible={visible} blocks={blocks} changedFrames={changedFrames} frame={frame} color={color.hex} onSeek={seek} />
        {stale && (
          <div className="rv-banner rv-banner-warn" data-testid="captions-stale">
            <b>Captions need re-check.</b> The mask changed after these captions were written. Read each caption against the new mask; edit or
            remove what no longer fits.
            {!edited && (
              <label className="rv-recheck">
                <input
                  type="checkbox"
                  checked={form.rechecked}
                  onChange={(e) => update({ ...form, rechecked: e.target.checked })}
                  data-testid="captions-rechecked"
                />
                I re-checked the captions: they still fit the mask.
              </label>
            )}
          </div>
        )}
        {notice && (
          <p className="small rv-notice" role="status">
            {notice}
          </p>
        )}
        <div className="rv-captions-head">
          <h3>Captions</h3>
          <span className="spacer" />
          <button
            type="button"
            className="btn btn-small"
            onClick={() => {
              const r = addSegmentAt(form, frame, visible);
              if (r.error) setNotice(r.error);
              else update(r.form);
            }}
            data-testid="segment-add"
          >
            Add caption at frame {frame}
          </button>
          {edited && (
            <button type="button" className="btn btn-small" onClick={() => update({ ...initialForm(originalCaptions), decision: form.decision, reasons: form.reasons, comment: form.comment })} data-testid="captions-reset">
              Undo all caption edits
            </button>
          )}
        </div>
        <CaptionsPanel
          segments={form.segments}
          outOfFrame={oof}
          issues={edited || stale ? issues : []}
          flagged={flagged}
          allFlagged={stale}
          frame={frame}
          total={total}
          readOnly={false}
          onSeek={seek}
          onCaption={(key, caption) => update(setCaption(form, key, caption))}
          onFrames={(key, a, b) => update(setFrames(form, key, clampFrame(a, total), clampFrame(b, total)))}
          onRemove={(key) => update(removeSegment(form, key))}
          onSplit={(key) => {
            const r = splitSegment(form, key, frame);
            if (r.error) setNotice(r.error);
            else update(r.form);
          }}
          onRestore={(key) => {
            const s = form.segments.find((x) => x.key === key);
            if (s?.original) update(setFrames(setCaption(form, key, s.original.caption), key, s.original.start_frame, s.original.end_frame));
          }}
        />
        {removed.length > 0 && (
          <div className="rv-removed small" data-testid="removed-captions">
            <span className="muted">Removed:</span>
            {removed.map((s) => (
              <del key={`${s.start_frame}-${s.end_frame}`} className="rv-del">
                {s.start_frame}–{s.end_frame} {s.caption}
              </del>
            ))}
          </div>
        )}
      </div>
      <aside className="rv-side">
        <section className="card rv-card">
          <h3>Verdict</h3>
          <VerdictPanel
            reasons={task.review_reasons}
            decision={form.decision}
            chosen={form.reasons}
            comment={form.comment}
            reworkHint={reworkHint}
            acceptHint={acceptHint}
            problem={finalProblem}
            serverError={serverError}
            submitting={submitting}
            onDecision={(decision) => update({ ...form, decision })}
            onReasons={(reasons) => update({ ...form, reasons })}
            onComment={(comment) => update({ ...form, comment })}
            onSubmit={() => void onSubmit()}
          />
          {form.decision === "reject" && edited && (
            <p className="small rv-problem">Rejecting discards your caption edits: the author reworks the captions.</p>
          )}
        </section>
        <section className="card rv-card">
          <div className="rv-tabs" role="tablist">
            <button type="button" role="tab" aria-selected={tab === "history"} className={tab === "history" ? "on" : ""} onClick={() => setTab("history")} data-testid="tab-history">
              History{history ? ` (${history.mask_revisions} mask, ${history.caption_revisions} caption revisions)` : ""}
            </button>
            <button type="button" role="tab" aria-selected={tab === "guidelines"} className={tab === "guidelines" ? "on" : ""} onClick={() => setTab("guidelines")} data-testid="tab-guidelines">
              Guidelines
            </button>
          </div>
          {tab === "history" ? (
            <HistoryPanel key={historyKey} maskletId={masklet.id} reasonLabel={reasonLabel} frame={frame} onSeek={seek} />
          ) : (
            <p className="rv-guidelines small">{live.project.guidelines || "This project has no written guidelines."}</p>
          )}
        </section>
      </aside>
    </div>
  );
}

export default function ReviewEditor(props: TaskEditorProps) {
  const { task } = props;
  if (task.kind !== "review" || !task.masklet || !task.video) {
    return (
      <div className="page-center">
        <p className="error-text">This task has no masklet to review.</p>
      </div>
    );
  }
  return <ReviewBody {...props} />;
}
