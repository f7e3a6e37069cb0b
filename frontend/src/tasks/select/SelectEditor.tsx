/**
 * Pass 1: pick the moving objects of a video and build a masklet for each.
 *
 * Click = positive point, Alt/Shift-click or right-click = negative point, drag = box; the mask of
 * that frame comes back at once. "Track" (T) propagates every new or refined object through the
 * whole video; masks appear as frames finish. Imported SA-V masklets are offered as candidates
 * ranked by motion: accept, refine, or reject. Submit sends the accepted objects with their
 * categories and the rejected candidates.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { ApiError, errorMessage } from "@/api/client";
import { FramePlayer, type Decoration, type FramePointerEvent, type PlayerMask } from "@/components/player/FramePlayer";
import type { TimelineMarker, TimelineTrack } from "@/components/player/Timeline";
import { assignObjectColors } from "@/lib/colors";
import { clampFrame } from "@/lib/frames";
import { useShortcuts } from "@/lib/shortcuts";
import type { TaskEditorProps } from "@/tasks/types";
import type { Category, MaskletSummary, TrackingJob } from "@/types/api";

import { mergePrompt, parseDraft, type PromptRecord, type SelectDraft, undoPrompt, without, withId } from "./draft";
import { dragBox, gestureToPrompt, type GesturePrompt, type PressStart } from "./gesture";
import { MaskStore } from "./maskStore";
import { objectLabel, objectState, type ObjectState, submitIssues, trackTargets } from "./selectModel";
import { addPrompt, createMasklet, deleteMasklet, fetchMasks, maskPages, setCategory, takeWarmMasks } from "./trackingApi";
import { useTrackingJob } from "./useTrackingJob";
import "./select.css";

const CATEGORIES: Category[] = ["person", "animal", "object"];
const NO_OBJECT_REASON = "No interesting moving object in this video";

const STATE_TEXT: Record<ObjectState, string> = {
  tracking: "tracking…",
  refined: "refined: track again",
  untracked: "not tracked",
  tracked: "tracked",
};

function byId(list: readonly MaskletSummary[]): Map<number, MaskletSummary> {
  return new Map(list.map((m) => [m.id, m]));
}

export default function SelectEditor({ task, draft: savedDraft, saveDraft, submit, skip }: TaskEditorProps) {
  const video = task.video;
  if (!video || !video.media) {
    return (
      <div className="page-center">
        <p className="error-text">This task has no playable video.</p>
        <button type="button" className="btn" onClick={() => void skip("Video is broken, black or unreadable")}>
          Skip: video unreadable
        </button>
      </div>
    );
  }
  return <SelectWorkspace task={task} draft={savedDraft} saveDraft={saveDraft} submit={submit} skip={skip} />;
}

function SelectWorkspace({ task, draft: savedDraft, saveDraft, submit, skip }: TaskEditorProps) {
  const video = task.video!;
  const count = video.annotation_frame_count;
  const size = useMemo(() => ({ width: video.width, height: video.height }), [video.width, video.height]);

  // A mask rework (after a review rejected it): this one masklet only, no new objects.
  const reworkId = task.is_rework && task.masklet ? task.masklet.id : null;
  const [store] = useState(() => new MaskStore(count));
  const [maskTick, setMaskTick] = useState(0);
  const bump = useCallback(() => setMaskTick((t) => t + 1), []);
  const [masklets, setMasklets] = useState<Map<number, MaskletSummary>>(() => {
    const map = byId(task.masklets);
    if (task.masklet && !map.has(task.masklet.id)) map.set(task.masklet.id, task.masklet);
    return map;
  });
  const [draft, setDraft] = useState<SelectDraft>(() => parseDraft(savedDraft));
  const [selected, setSelectedRaw] = useState<number | null>(reworkId);
  const setSelected = useCallback((id: number | null) => setSelectedRaw(reworkId ?? id), [reworkId]);
  const [frame, setFrame] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [newCategory, setNewCategory] = useState<Category>("person");
  const [showCandidates, setShowCandidates] = useState(false);
  const [busy, setBusy] = useState(false);
  const [hint, setHint] = useState<{ text: string; error?: boolean } | null>(null);
  const [press, setPress] = useState<PressStart | null>(null);
  const [dragNow, setDragNow] = useState<Decoration | null>(null);
  const [submitting, setSubmitting] = useState(false);
  // After a first attempt the blocking issues are listed live (they go away as they are fixed).
  const [submitTried, setSubmitTried] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);
  const [confirmNoObject, setConfirmNoObject] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState<number | null>(null);
  const [masksLoaded, setMasksLoaded] = useState(false);
  const promptChain = useRef<Promise<void>>(Promise.resolve());

  // Autosave every change of the draft (not the initial value).
  const firstDraft = useRef(true);
  useEffect(() => {
    if (firstDraft.current) {
      firstDraft.current = false;
      return;
    }
    saveDraft(draft);
  }, [draft, saveDraft]);

  // Masks of every masklet of the video: a short first page (first paint), then the rest.
  const loadMasks = useCallback(
    async (ids?: number[], signal?: AbortSignal) => {
      for (const [start, end] of maskPages(count)) {
        const range = await ((!ids && takeWarmMasks(video.id, start, end)) || fetchMasks(video.id, start, end, ids, signal));
        if (signal?.aborted) return;
        store.applyRange(range);
        bump();
      }
    },
    [count, video.id, store, bump],
  );
  useEffect(() => {
    const ctrl = new AbortController();
    // State changes come after each awaited page, not synchronously.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    loadMasks(undefined, ctrl.signal)
      .then(() => setMasksLoaded(true))
      .catch((err: unknown) => {
        if (!ctrl.signal.aborted) setHint({ text: `Masks could not be loaded: ${errorMessage(err)}`, error: true });
      });
    return () => ctrl.abort();
  }, [loadMasks]);

  const onJobFinished = useCallback(
    (job: TrackingJob) => {
      if (job.status === "succeeded") {
        setDraft((d) => ({
          ...d,
          tracked: job.masklet_ids.reduce(withId, d.tracked),
          dirty: d.dirty.filter((id) => !job.masklet_ids.includes(id)),
        }));
        setHint({ text: `Tracked ${job.masklet_ids.length === 1 ? "1 object" : `${job.masklet_ids.length} objects`} through ${count} frames.` });
        void loadMasks(job.masklet_ids).catch(() => undefined);
      } else if (job.status === "cancelled") {
        setHint({ text: "Tracking cancelled." });
      }
    },
    [count, loadMasks],
  );
  const tracking = useTrackingJob({ videoId: video.id, taskId: task.id, store, onChange: bump, onFinished: onJobFinished });

  // --- derived lists -------------------------------------------------------------------------
  const all = useMemo(() => [...masklets.values()], [masklets]);
  const categoryOf = useCallback((m: MaskletSummary): Category => draft.categories[m.id] ?? m.category, [draft.categories]);
  const objects = useMemo(
    () =>
      all
        .filter((m) => (reworkId !== null ? m.id === reworkId : (m.source === "clicks" && m.status === "draft") || draft.accepted.includes(m.id)))
        .filter((m) => !draft.rejected.includes(m.id))
        .sort((a, b) => a.id - b.id),
    [all, draft.accepted, draft.rejected, reworkId],
  );
  const candidates = useMemo(
    () =>
      all
        .filter(() => reworkId === null)
        .filter((m) => m.source !== "clicks" && m.status === "candidate" && !draft.accepted.includes(m.id) && !draft.rejected.includes(m.id))
        .sort((a, b) => (b.motion_score ?? -Infinity) - (a.motion_score ?? -Infinity) || a.object_id - b.object_id),
    [all, draft.accepted, draft.rejected, reworkId],
  );
  const rejected = useMemo(() => (reworkId === null ? all.filter((m) => draft.rejected.includes(m.id)) : []), [all, draft.rejected, reworkId]);
  const colors = useMemo(() => assignObjectColors(all.map((m) => m.id)), [all]);
  const jobIds = useMemo(() => (tracking.running && tracking.job ? tracking.job.masklet_ids : []), [tracking.running, tracking.job]);
  const stateOf = useCallback((m: MaskletSummary) => objectState(m, draft, count, jobIds), [draft, count, jobIds]);
  const selectedMasklet = selected !== null ? masklets.get(selected) ?? null : null;
  const selectedIsCandidate = selectedMasklet !== null && candidates.some((c) => c.id === selectedMasklet.id);

  // --- what the player draws -----------------------------------------------------------------
  const masksAt = useCallback(
    (k: number): PlayerMask[] => {
      const shown: PlayerMask[] = objects.map((m) => ({ id: m.id, rle: store.get(m.id, k), color: colors.get(m.id)?.rgb }));
      for (const c of candidates) {
        if (showCandidates || c.id === selected) shown.push({ id: c.id, rle: store.get(c.id, k), color: colors.get(c.id)?.rgb });
      }
      return shown;
    },
    // maskTick: the store changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [objects, candidates, showCandidates, selected, colors, store, maskTick],
  );

  const tracks: TimelineTrack[] = useMemo(() => {
    const rows = objects.map((m) => ({
      id: m.id,
      color: colors.get(m.id)?.hex ?? "#fff",
      label: objectLabel(m, categoryOf(m)),
      visible: store.visible(m.id),
      emphasis: m.id === selected,
    }));
    if (selectedIsCandidate && selectedMasklet) {
      rows.push({
        id: selectedMasklet.id,
        color: colors.get(selectedMasklet.id)?.hex ?? "#fff",
        label: objectLabel(selectedMasklet, categoryOf(selectedMasklet)),
        visible: store.visible(selectedMasklet.id),
        emphasis: true,
      });
    }
    return rows;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [objects, colors, selected, selectedIsCandidate, selectedMasklet, categoryOf, store, maskTick]);

  const markers: TimelineMarker[] = useMemo(() => {
    if (selected === null) return [];
    const frames = draft.prompts[String(selected)] ?? {};
    const color = colors.get(selected)?.hex;
    return Object.keys(frames).map((k) => ({ frame: Number(k), color }));
  }, [selected, draft.prompts, colors]);

  const decorations: Decoration[] = useMemo(() => {
    const out: Decoration[] = [];
    if (selected !== null) {
      const rec = draft.prompts[String(selected)]?.[String(frame)];
      const color = colors.get(selected)?.hex;
      if (rec?.box) out.push({ kind: "box", box: rec.box, color });
      rec?.points.forEach((p, i) => out.push({ kind: "point", x: p[0], y: p[1], positive: rec.labels[i] === 1, color }));
    }
    if (dragNow) out.push(dragNow);
    return out;
  }, [selected, draft.prompts, frame, colors, dragNow]);

  // --- prompts -------------------------------------------------------------------------------
  const recordPrompt = useCallback((id: number, k: number, rec: PromptRecord) => {
    setDraft((d) => ({
      ...d,
      prompts: { ...d.prompts, [String(id)]: { ...(d.prompts[String(id)] ?? {}), [String(k)]: rec } },
      dirty: withId(d.dirty, id),
    }));
  }, []);

  const promptError = useCallback((err: unknown) => {
    if (err instanceof ApiError && err.status === 409) setHint({ text: `${err.body.detail}`, error: true });
    else if (err instanceof ApiError && err.status === 503) setHint({ text: `The tracker is not available: ${err.body.detail}`, error: true });
    else setHint({ text: errorMessage(err), error: true });
  }, []);

  /** Run prompt requests one after another (each answer is the mask after all earlier clicks). */
  const enqueue = useCallback((work: () => Promise<void>) => {
    const next = promptChain.current.then(async () => {
      setBusy(true);
      try {
        await work();
      } finally {
        setBusy(false);
      }
    });
    promptChain.current = next.catch(() => undefined);
    return next;
  }, []);

  const sendPrompt = useCallback(
    (prompt: GesturePrompt, k: number) => {
      if (tracking.running) {
        setHint({ text: "Tracking is running: wait for it to finish (or cancel it) before refining.", error: true });
        return;
      }
      const target = reworkId ?? selected;
      if (target === null && prompt.kind === "point" && prompt.label === 0) {
        setHint({ text: "Select an object first: a negative click removes part of an object's mask.", error: true });
        return;
      }
      const add = prompt.kind === "point" ? { point: [prompt.x, prompt.y] as [number, number], label: prompt.label } : { box: prompt.box };
      const input = {
        frame: k,
        points: prompt.kind === "point" ? [[prompt.x, prompt.y] as [number, number]] : [],
        labels: prompt.kind === "point" ? [prompt.label] : [],
        box: prompt.kind === "box" ? prompt.box : null,
      };
      void enqueue(async () => {
        try {
          if (target === null) {
            const res = await createMasklet(video.id, task.id, newCategory, input);
            setMasklets((m) => new Map(m).set(res.masklet.id, res.masklet));
            store.set(res.masklet.id, res.frame, res.mask);
            recordPrompt(res.masklet.id, res.frame, mergePrompt(undefined, add));
            setSelected(res.masklet.id);
            setHint({ text: "New object. Click more to refine it; press T to track it through the video." });
          } else {
            const res = await addPrompt(target, task.id, input);
            setMasklets((m) => new Map(m).set(res.masklet.id, res.masklet));
            store.set(res.masklet.id, res.frame, res.mask);
            setDraft((d) => {
              const before = d.prompts[String(target)]?.[String(k)];
              const rec = mergePrompt(before, add);
              return {
                ...d,
                prompts: { ...d.prompts, [String(target)]: { ...(d.prompts[String(target)] ?? {}), [String(k)]: rec } },
                dirty: withId(d.dirty, target),
              };
            });
            setHint(null);
          }
          bump();
        } catch (err) {
          promptError(err);
        }
      });
    },
    [tracking.running, selected, reworkId, setSelected, enqueue, video.id, task.id, newCategory, store, recordPrompt, bump, promptError],
  );

  const undo = useCallback(() => {
    if (selected === null) return;
    const rec = draft.prompts[String(selected)]?.[String(frame)];
    if (!rec) {
      setHint({ text: "No clicks of this object on this frame to undo." });
      return;
    }
    const next = undoPrompt(rec);
    if (!next) {
      setHint({ text: "That is the only prompt on this frame: delete the object instead (Delete)." });
      return;
    }
    const id = selected;
    const k = frame;
    void enqueue(async () => {
      try {
        const res = await addPrompt(id, task.id, { frame: k, ...next }, true);
        store.set(id, res.frame, res.mask);
        setMasklets((m) => new Map(m).set(res.masklet.id, res.masklet));
        recordPrompt(id, k, next);
        bump();
      } catch (err) {
        promptError(err);
      }
    });
  }, [selected, draft.prompts, frame, enqueue, task.id, store, recordPrompt, bump, promptError]);

  const onPointer = useCallback(
    (e: FramePointerEvent) => {
      if (e.type === "down") {
        if (e.button !== 0 && e.button !== 2) return;
        setPress({ x: e.x, y: e.y, button: e.button, shiftKey: e.shiftKey, altKey: e.altKey, inside: e.inside });
        return;
      }
      if (!press) return;
      if (e.type === "move") {
        const box = dragBox(press, e, e.scale);
        setDragNow(box ? { kind: "box", box, color: "#ffffff", dashed: true } : null);
        return;
      }
      setPress(null);
      setDragNow(null);
      if (e.type === "cancel") return;
      const prompt = gestureToPrompt(press, e, size, e.scale);
      if (prompt) sendPrompt(prompt, e.frame);
    },
    [press, size, sendPrompt],
  );

  // --- objects and candidates ------------------------------------------------------------------
  const changeCategory = useCallback(
    (m: MaskletSummary, category: Category) => {
      setDraft((d) => ({ ...d, categories: { ...d.categories, [String(m.id)]: category } }));
      setCategory(m.id, task.id, category)
        .then(({ masklet }) => setMasklets((map) => new Map(map).set(masklet.id, masklet)))
        .catch(() => undefined); // the category goes with the submission anyway
    },
    [task.id],
  );

  const removeObject = useCallback(
    async (m: MaskletSummary) => {
      if (m.source !== "clicks") {
        // An accepted candidate goes back to the candidates.
        setDraft((d) => ({ ...d, accepted: without(d.accepted, m.id) }));
        if (selected === m.id) setSelected(null);
        return;
      }
      try {
        await deleteMasklet(m.id, task.id);
        setMasklets((map) => {
          const next = new Map(map);
          next.delete(m.id);
          return next;
        });
        store.drop(m.id);
        setDraft((d) => {
          const prompts = { ...d.prompts };
          delete prompts[String(m.id)];
          return { ...d, prompts, dirty: without(d.dirty, m.id), tracked: without(d.tracked, m.id) };
        });
        if (selected === m.id) setSelected(null);
        setHint({ text: `Deleted ${objectLabel(m, categoryOf(m))}.` });
        bump();
      } catch (err) {
        promptError(err);
      }
    },
    [selected, setSelected, task.id, store, categoryOf, bump, promptError],
  );

  const accept = useCallback((m: MaskletSummary) => {
    setDraft((d) => ({ ...d, accepted: withId(d.accepted, m.id), rejected: without(d.rejected, m.id) }));
    setSelected(m.id);
  }, [setSelected]);
  const reject = useCallback(
    (m: MaskletSummary) => {
      setDraft((d) => ({ ...d, rejected: withId(d.rejected, m.id), accepted: without(d.accepted, m.id) }));
      if (selected === m.id) setSelected(null);
    },
    [selected, setSelected],
  );
  const unreject = useCallback((m: MaskletSummary) => setDraft((d) => ({ ...d, rejected: without(d.rejected, m.id) })), []);

  /** Select an object or candidate and show the first frame it is visible on if it is not here. */
  const focus = useCallback(
    (m: MaskletSummary) => {
      setSelected(m.id);
      const visible = store.visible(m.id);
      if (visible[frame] !== true) {
        const first = visible.findIndex((v) => v === true);
        const fallback = m.revision?.first_visible_frame ?? -1;
        const target = first >= 0 ? first : fallback;
        if (target >= 0) setFrame(target);
      }
    },
    [store, frame, setSelected],
  );

  // --- tracking ------------------------------------------------------------------------------
  const targets = useMemo(() => trackTargets([...objects, ...candidates], draft, count, selected), [objects, candidates, draft, count, selected]);
  const startTracking = useCallback(() => {
    if (tracking.running) return;
    if (targets.length === 0) {
      setHint({ text: "Nothing to track yet: click an object first.", error: true });
      return;
    }
    setHint(null);
    void tracking.start(targets).catch(() => undefined);
  }, [tracking, targets]);

  // --- submit / skip -------------------------------------------------------------------------
  const issues = useMemo(
    () => submitIssues(objects, draft, count, jobIds, (m) => store.visible(m.id), categoryOf),
    // maskTick: visibility comes from the store.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [objects, draft, count, jobIds, store, categoryOf, maskTick],
  );
  const doSubmit = useCallback(async () => {
    setSubmitTried(true);
    setServerError(null);
    if (issues.length) return;
    setSubmitting(true);
    try {
      const rework = reworkId !== null ? objects.find((m) => m.id === reworkId) : undefined;
      await submit(
        rework
          ? { category: categoryOf(rework) }
          : {
              masklets: objects.map((m) => ({ id: m.id, category: categoryOf(m) })),
              rejected: draft.rejected.filter((id) => masklets.get(id)?.source !== "clicks"),
            },
      );
    } catch (err) {
      setServerError(errorMessage(err));
      setSubmitting(false);
    }
  }, [issues, objects, draft, categoryOf, submit, masklets, reworkId]);

  const noObject = useCallback(async () => {
    if (!confirmNoObject) {
      setConfirmNoObject(true);
      return;
    }
    setSubmitting(true);
    try {
      await skip(NO_OBJECT_REASON);
    } catch (err) {
      setServerError(errorMessage(err));
      setSubmitting(false);
      setConfirmNoObject(false);
    }
  }, [confirmNoObject, skip]);

  useEffect(() => {
    if (!confirmNoObject) return;
    const t = setTimeout(() => setConfirmNoObject(false), 5000);
    return () => clearTimeout(t);
  }, [confirmNoObject]);
  useEffect(() => {
    if (confirmDelete === null) return;
    const t = setTimeout(() => setConfirmDelete(null), 3000);
    return () => clearTimeout(t);
  }, [confirmDelete]);

  // --- keyboard --------------------------------------------------------------------------------
  const selectIndex = (i: number) => {
    const m = objects[i];
    if (m) focus(m);
  };
  const stepCandidate = (dir: 1 | -1) => {
    if (candidates.length === 0) return;
    const i = candidates.findIndex((c) => c.id === selected);
    const next = candidates[i < 0 ? 0 : (i + dir + candidates.length) % candidates.length];
    if (next) focus(next);
  };
  useShortcuts([
    { keys: ["t"], description: "Track the new and refined objects through the video", group: "Objects", run: startTracking },
    { keys: ["n"], description: "New object: the next click starts one", group: "Objects", run: () => setSelected(null) },
    { keys: ["Escape"], description: "Deselect (the next click starts a new object)", group: "Objects", run: () => setSelected(null) },
    { keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9"], description: "Select object 1–9", label: "1 … 9", group: "Objects", run: (e) => selectIndex(Number(e.key) - 1) },
    { keys: ["z", "mod+z"], description: "Undo the last click on this frame", group: "Objects", run: undo },
    {
      keys: ["Delete", "Backspace"],
      description: "Delete the selected object (press twice)",
      group: "Objects",
      run: () => {
        const m = selected !== null ? masklets.get(selected) : undefined;
        if (!m || !objects.includes(m)) return;
        if (confirmDelete === m.id) {
          setConfirmDelete(null);
          void removeObject(m);
        } else {
          setConfirmDelete(m.id);
          setHint({ text: `Press Delete again to ${m.source === "clicks" ? "delete" : "give back"} ${objectLabel(m, categoryOf(m))}.` });
        }
      },
    },
    { keys: ["j", "k"], description: "Next / previous candidate", group: "Candidates", run: (e) => stepCandidate(e.key.toLowerCase() === "j" ? 1 : -1) },
    {
      keys: ["a"],
      description: "Accept the selected candidate",
      group: "Candidates",
      run: () => {
        if (selectedIsCandidate && selectedMasklet) accept(selectedMasklet);
      },
    },
    {
      keys: ["x"],
      description: "Reject the selected candidate",
      group: "Candidates",
      run: () => {
        if (selectedIsCandidate && selectedMasklet) {
          reject(selectedMasklet);
          stepCandidate(1);
        }
      },
    },
    { keys: ["c"], description: "Show / hide all candidates on the video", group: "Candidates", run: () => setShowCandidates((v) => !v) },
    { keys: ["mod+Enter"], description: "Submit and go to the next video", group: "Task", run: () => void doSubmit() },
  ]);

  // --- render --------------------------------------------------------------------------------
  const job = tracking.job;
  const progress = job && job.frames_total > 0 ? job.frames_done / job.frames_total : 0;
  const clickHelp =
    selected === null
      ? "Click a moving object to start a new one (its category is chosen at right). Drag = box."
      : `Refining ${objectLabel(selectedMasklet!, categoryOf(selectedMasklet!))}: click adds, Alt/Shift-click or right-click removes, drag = box. N = new object.`;

  const toolbar = (
    <div className="track-tools">
      {tracking.running && job ? (
        <>
          <div className="track-progress" data-testid="track-progress" data-done={job.frames_done} data-total={job.frames_total} title={`${job.status}`}>
            <div className="track-progress-bar" style={{ width: `${Math.round(progress * 100)}%` }} />
            <span>
              {job.status === "queued" ? "Queued…" : `Tracking ${job.frames_done}/${job.frames_total}`}
            </span>
          </div>
          <button type="button" className="btn btn-small" onClick={() => void tracking.cancel()} data-testid="track-cancel">
            Cancel
          </button>
        </>
      ) : (
        <button
          type="button"
          className="btn btn-small btn-primary"
          onClick={startTracking}
          disabled={targets.length === 0 || busy}
          data-testid="track"
          title="Track new and refined objects through the whole video (T)"
        >
          Track{targets.length > 1 ? ` ${targets.length} objects` : ""} (T)
        </button>
      )}
    </div>
  );

  const hud = (
    <div className="select-hud">
      <div className="select-hud-line">{clickHelp}</div>
      {busy && (
        <div className="select-hud-line busy" data-testid="prompt-busy">
          Segmenting…
        </div>
      )}
      {hint && (
        <div className={`select-hud-line${hint.error ? " error" : ""}`} data-testid="select-hint">
          {hint.text}
        </div>
      )}
      {tracking.error && (
        <div className="select-hud-line error" data-testid="track-error">
          Tracking: {tracking.error}
        </div>
      )}
    </div>
  );

  return (
    <div className="select-editor" data-testid="select-editor" data-masks-loaded={masksLoaded ? "1" : "0"}>
      <div className="select-main">
        <FramePlayer
          video={video}
          frame={clampFrame(frame, count)}
          onFrameChange={setFrame}
          playing={playing}
          onPlayingChange={setPlaying}
          masksAt={masksAt}
          highlightId={selected}
          decorations={decorations}
          onPointer={onPointer}
          tracks={tracks}
          markers={markers}
          toolbar={toolbar}
          hud={hud}
        />
      </div>
      <aside className="select-side">
        {reworkId !== null && (
          <section className="side-section rework" data-testid="rework-notes">
            <h3>Mask rework</h3>
            <p className="small">A reviewer sent this masklet back. Refine it with clicks on any frame, track it again, and submit.</p>
            {task.notes && <p className="rework-text">{task.notes}</p>}
          </section>
        )}
        <section className="side-section">
          <div className="side-head">
            <h3>{reworkId !== null ? "Masklet" : `Objects (${objects.length})`}</h3>
            {reworkId === null && (
              <button type="button" className={`btn btn-small${selected === null ? " active" : ""}`} onClick={() => setSelected(null)} data-testid="new-object" title="The next click starts a new object (N)">
                + New (N)
              </button>
            )}
          </div>
          {reworkId === null && <label className="new-category">
            <span className="muted small">New objects are</span>
            <select value={newCategory} onChange={(e) => setNewCategory(e.target.value as Category)} data-testid="new-category">
              {CATEGORIES.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>}
          {objects.length === 0 && <p className="muted small empty-note">No objects yet. Click a moving object on the video, or accept a candidate below.</p>}
          <ul className="object-list" data-testid="object-list">
            {objects.map((m, i) => {
              const state = stateOf(m);
              const color = colors.get(m.id)?.hex ?? "#fff";
              return (
                <li
                  key={m.id}
                  className={`object-row${selected === m.id ? " selected" : ""}`}
                  data-testid="object-row"
                  data-masklet-id={m.id}
                  data-state={state}
                  onClick={() => focus(m)}
                >
                  <span className="swatch" style={{ background: color }} />
                  <span className="object-index mono">{i < 9 ? i + 1 : ""}</span>
                  <span className="object-name">#{m.object_id}</span>
                  <select
                    value={categoryOf(m)}
                    onClick={(e) => e.stopPropagation()}
                    onChange={(e) => changeCategory(m, e.target.value as Category)}
                    data-testid="object-category"
                    aria-label="Category"
                  >
                    {CATEGORIES.map((c) => (
                      <option key={c} value={c}>
                        {c}
                      </option>
                    ))}
                  </select>
                  <span className={`object-state state-${state}`}>{STATE_TEXT[state]}</span>
                  {reworkId === null && <button
                    type="button"
                    className="btn btn-ghost btn-small btn-icon"
                    title={m.source === "clicks" ? "Delete this object" : "Give back to the candidates"}
                    aria-label="Remove object"
                    data-testid="object-delete"
                    onClick={(e) => {
                      e.stopPropagation();
                      void removeObject(m);
                    }}
                  >
                    ✕
                  </button>}
                </li>
              );
            })}
          </ul>
        </section>

        {(candidates.length > 0 || rejected.length > 0) && (
          <section className="side-section candidates">
            <div className="side-head">
              <h3>Candidates ({candidates.length})</h3>
              <label className="small muted inline-check" title="Show every candidate on the video (C)">
                <input type="checkbox" checked={showCandidates} onChange={(e) => setShowCandidates(e.target.checked)} /> show all
              </label>
            </div>
            <p className="muted small">Imported SA-V masklets, most motion first. J/K to step, A accept, X reject.</p>
            <ul className="object-list" data-testid="candidate-list">
              {candidates.map((m) => (
                <li
                  key={m.id}
                  className={`object-row candidate${selected === m.id ? " selected" : ""}`}
                  data-testid="candidate-row"
                  data-masklet-id={m.id}
                  onClick={() => focus(m)}
                >
                  <span className="swatch" style={{ background: colors.get(m.id)?.hex }} />
                  <span className="object-name" title={m.source === "sav_manual" ? "SA-V manual masklet" : "SA-V automatic masklet"}>
                    #{m.object_id} <span className="muted small">{m.source === "sav_manual" ? "manual" : "auto"}</span>
                  </span>
                  <span className="motion mono" title="Motion score">
                    {m.motion_score === null ? "–" : m.motion_score.toFixed(2)}
                  </span>
                  <button type="button" className="btn btn-small" data-testid="candidate-accept" onClick={(e) => { e.stopPropagation(); accept(m); }}>
                    Accept
                  </button>
                  <button
                    type="button"
                    className="btn btn-small"
                    data-testid="candidate-refine"
                    title="Accept it and refine it with clicks"
                    onClick={(e) => {
                      e.stopPropagation();
                      accept(m);
                      focus(m);
                    }}
                  >
                    Refine
                  </button>
                  <button type="button" className="btn btn-small" data-testid="candidate-reject" onClick={(e) => { e.stopPropagation(); reject(m); }}>
                    Reject
                  </button>
                </li>
              ))}
            </ul>
            {rejected.length > 0 && (
              <details className="rejected-list">
                <summary className="muted small">Rejected ({rejected.length})</summary>
                <ul className="object-list">
                  {rejected.map((m) => (
                    <li key={m.id} className="object-row rejected" data-testid="rejected-row">
                      <span className="object-name">
                        {m.source === "sav_manual" ? "SA-V manual" : m.source === "sav_auto" ? "SA-V auto" : "Object"} #{m.object_id}
                      </span>
                      <button type="button" className="btn btn-small btn-ghost" onClick={() => unreject(m)}>
                        Undo
                      </button>
                    </li>
                  ))}
                </ul>
              </details>
            )}
          </section>
        )}

        <section className="side-section side-actions">
          {((submitTried && issues.length > 0) || serverError) && (
            <ul className="submit-errors" role="alert" data-testid="submit-errors">
              {submitTried && issues.map((e) => <li key={e}>{e}</li>)}
              {serverError && <li>{serverError}</li>}
            </ul>
          )}
          <button type="button" className="btn btn-primary btn-block" onClick={() => void doSubmit()} disabled={submitting || busy} data-testid="submit-next" title="Submit and go to the next video (Ctrl+Enter)">
            {submitting
              ? "Submitting…"
              : reworkId !== null
                ? "Submit the reworked mask & next"
                : `Submit ${objects.length} object${objects.length === 1 ? "" : "s"} & next`}
          </button>
          {reworkId === null && <button
            type="button"
            className={`btn btn-block${confirmNoObject ? " btn-danger" : ""}`}
            onClick={() => void noObject()}
            disabled={submitting}
            data-testid="no-moving-object"
          >
            {confirmNoObject ? "Click again to confirm: skip this video" : "No interesting moving object"}
          </button>}
          <p className="muted small help-lines">
            Click = add · Alt/Shift-click or right-click = remove · drag = box · T track · Z undo · ? all shortcuts
          </p>
        </section>
      </aside>
    </div>
  );
}
