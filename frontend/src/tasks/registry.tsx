/**
 * Task kind → editor. Each editor is its own lazily loaded chunk: an annotator doing pass 1 never
 * downloads the review screens.
 */
import { lazy, type ComponentType, type LazyExoticComponent } from "react";

import type { TaskEditorProps } from "@/tasks/types";
import { frameSrc } from "@/components/player/frameSource";
import { maskPages, warmMasks } from "@/tasks/select/trackingApi";
import type { TaskKind, TaskPayload } from "@/types/api";

type Editor = LazyExoticComponent<ComponentType<TaskEditorProps>>;

type Loader = () => Promise<{ default: ComponentType<TaskEditorProps> }>;

const LOADERS: Record<TaskKind, Loader> = {
  select: () => import("@/tasks/select/SelectEditor"),
  caption: () => import("@/tasks/caption/CaptionEditor"),
  fgqa_answer: () => import("@/tasks/fgqa/FgqaAnswerEditor"),
  fgqa_distractors: () => import("@/tasks/fgqa/DistractorEditor"),
  review: () => import("@/tasks/review/ReviewEditor"),
  fgqa_review: () => import("@/tasks/review/FgqaReviewEditor"),
};

export const TASK_EDITORS: Record<TaskKind, Editor> = {
  select: lazy(LOADERS.select),
  caption: lazy(LOADERS.caption),
  fgqa_answer: lazy(LOADERS.fgqa_answer),
  fgqa_distractors: lazy(LOADERS.fgqa_distractors),
  review: lazy(LOADERS.review),
  fgqa_review: lazy(LOADERS.fgqa_review),
};

/** Start downloading a kind's editor now (while the task's draft loads), not when it renders. */
export function preloadEditor(kind: TaskKind): void {
  void LOADERS[kind]?.().catch(() => undefined);
}

/** The editor kinds a queue serves, to fetch before its first task arrives. */
export const QUEUE_KINDS: Record<string, TaskKind[]> = {
  select: ["select"],
  caption: ["caption"],
  fgqa: ["fgqa_answer", "fgqa_distractors"],
  review: ["review", "fgqa_review"],
};

/**
 * Get what the first paint of a task needs moving before its editor mounts: the editor code,
 * the first frame picture, and for pass 1 the first page of masks.
 */
export function warmTask(task: TaskPayload): void {
  preloadEditor(task.kind);
  const media = task.video?.media;
  if (media && task.video && task.video.annotation_frame_count > 0) {
    const first = new Image();
    first.src = frameSrc(media, 0);
    if (task.kind === "select") {
      const [page] = maskPages(task.video.annotation_frame_count);
      if (page) warmMasks(task.video.id, page[0], page[1]);
    }
  }
}

export const TASK_KIND_LABELS: Record<TaskKind, string> = {
  select: "Pass 1 · select objects",
  caption: "Pass 2 · temporal captions",
  fgqa_answer: "FGQA · answer questions",
  fgqa_distractors: "FGQA · verify distractors",
  review: "Pass 3 · review",
  fgqa_review: "FGQA · review",
};

export function editorFor(kind: TaskKind): Editor | null {
  return TASK_EDITORS[kind] ?? null;
}
