/**
 * Task kind → editor. Each editor is its own lazily loaded chunk: an annotator doing pass 1 never
 * downloads the review screens.
 */
import { lazy, type ComponentType, type LazyExoticComponent } from "react";

import type { TaskEditorProps } from "@/tasks/types";
import type { TaskKind } from "@/types/api";

type Editor = LazyExoticComponent<ComponentType<TaskEditorProps>>;

export const TASK_EDITORS: Record<TaskKind, Editor> = {
  select: lazy(() => import("@/tasks/select/SelectEditor")),
  caption: lazy(() => import("@/tasks/caption/CaptionEditor")),
  fgqa_answer: lazy(() => import("@/tasks/fgqa/FgqaAnswerEditor")),
  fgqa_distractors: lazy(() => import("@/tasks/fgqa/DistractorEditor")),
  review: lazy(() => import("@/tasks/review/ReviewEditor")),
  fgqa_review: lazy(() => import("@/tasks/review/FgqaReviewEditor")),
};

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
