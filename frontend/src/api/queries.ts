/** Shared react-query hooks over the plain endpoints. */
import { useQuery } from "@tanstack/react-query";

import { api } from "@/api/client";
import type { Project, ProjectKind, QueueCounts, QueueName, Role, TaskKind, TaskPayload } from "@/types/api";

export const queryKeys = {
  projects: ["projects"] as const,
  project: (id: number) => ["projects", id] as const,
  queues: (id: number) => ["projects", id, "queues"] as const,
  task: (id: number) => ["tasks", id] as const,
};

export function useProjects() {
  return useQuery({ queryKey: queryKeys.projects, queryFn: () => api<Project[]>("/projects") });
}

export function useQueueCounts(projectId: number, enabled = true) {
  return useQuery({
    queryKey: queryKeys.queues(projectId),
    queryFn: () => api<QueueCounts>(`/projects/${projectId}/queues`),
    enabled,
    refetchInterval: 30_000,
  });
}

export function useTask(taskId: number) {
  return useQuery({
    queryKey: queryKeys.task(taskId),
    queryFn: () => api<TaskPayload>(`/tasks/${taskId}`),
    staleTime: Infinity,
    retry: false,
  });
}

/** Which queue serves a task kind (annotation/selectors/tasks.py QUEUES). */
export function queueOfKind(kind: TaskKind): QueueName {
  switch (kind) {
    case "select":
      return "select";
    case "caption":
      return "caption";
    case "fgqa_answer":
    case "fgqa_distractors":
      return "fgqa";
    case "review":
    case "fgqa_review":
      return "review";
  }
}

export const QUEUE_INFO: Record<QueueName, { title: string; blurb: string }> = {
  select: { title: "Pass 1 · Select objects", blurb: "Pick moving objects, click them, track masklets through the video." },
  caption: { title: "Pass 2 · Captions", blurb: "Write time segments describing what the highlighted subject does." },
  fgqa: { title: "FGQA", blurb: "Answer fine-grained questions on short clips; verify distractors." },
  review: { title: "Review", blurb: "Verify masklets, captions and answers; accept, fix or reject." },
};

/** The queues a role works in, per project kind. */
export function queuesFor(role: Role, kind: ProjectKind): QueueName[] {
  const annotator: QueueName[] = kind === "fgqa" ? ["fgqa"] : ["select", "caption"];
  if (role === "annotator") return annotator;
  if (role === "reviewer") return ["review"];
  return [...annotator, "review"];
}
