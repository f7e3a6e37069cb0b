import type { Rle } from "./rle";

export type ProjectKind = "stc" | "fgqa";
export type Role = "annotator" | "reviewer" | "admin";

export type ProjectRef = {
  id: number;
  name: string;
  kind: ProjectKind;
};

export type Membership = {
  project: ProjectRef;
  role: Role;
};

export type User = {
  id: number;
  username: string;
  is_superuser: boolean;
  memberships: Membership[];
};

/** Task kinds exactly as the server names them (annotation.models.TaskKind). */
export type TaskKind =
  | "select"
  | "caption"
  | "review"
  | "fgqa_answer"
  | "fgqa_distractors"
  | "fgqa_review";

/** The JSON body of every error response (annotation.apis_common.exception_handler). */
export type ErrorBody = {
  detail: string;
  code?: string;
  errors?: Record<string, string[]>;
  current?: unknown;
};

/* ---------------------------------------------------------------------------------------------
 * Tasks (F1). GET /api/tasks/<id> and POST /api/projects/<id>/queues/<queue>/next answer with
 * TaskPayload (annotation/selectors/tasks.py task_payload).
 * ------------------------------------------------------------------------------------------- */

/** Work queues as the server names them (annotation/selectors/tasks.py QUEUES). */
export type QueueName = "select" | "caption" | "fgqa" | "review";

export type QueueCount = { open: number; leased: number; mine: number };

/** GET /api/projects/<id>/queues */
export type QueueCounts = Record<QueueName, QueueCount>;

export type TaskStatus = "open" | "leased" | "submitted" | "skipped" | "cancelled";

export type Category = "person" | "animal" | "object";

export type MaskletSource = "clicks" | "sav_manual" | "sav_auto";

export type MaskletStatus =
  | "candidate"
  | "draft"
  | "selected"
  | "captioned"
  | "accepted"
  | "rejected"
  | "discarded";

/** GET /api/projects (one row) and GET /api/projects/<id>. */
export type Project = ProjectRef & {
  annotation_fps: number;
  guidelines: string;
  out_of_frame_caption: string;
  lease_minutes: number;
  min_caption_chars: number;
  max_caption_chars: number;
  gold_rate: number;
  double_annotation_rate: number;
  created_at: string;
  /** Only in the list. */
  video_count?: number;
  ready_count?: number;
};

/** The project as a task carries it (annotation/selectors/tasks.py project_payload). */
export type TaskProject = ProjectRef & {
  guidelines: string;
  annotation_fps: number;
  out_of_frame_caption: string;
  min_caption_chars: number;
  max_caption_chars: number;
  lease_minutes: number;
};

/** Where the browser fetches a video's media (annotation/selectors/videos.py video_media_urls). */
export type VideoMedia = {
  proxy_url: string;
  thumbnail_url: string;
  /** One URL per annotation frame (signed and expiring in S3 mode). */
  frame_urls: string[];
  /** `…/frames/{frame}.jpg`, with the frame padded to frame_digits (local mode only). */
  frame_url_template: string | null;
  frame_digits?: number;
  expires_in: number | null;
};

export type Video = {
  id: number;
  project_id: number;
  name: string;
  original_name: string;
  status: string;
  error: string;
  progress: number;
  width: number;
  height: number;
  codec: string;
  source_fps: number | null;
  source_frame_count: number | null;
  duration: number | null;
  annotation_frame_count: number;
  source_video_id: string;
  source_start_time: number | null;
  source_end_time: number | null;
  split: string;
  created_at: string;
  annotation_fps: number;
  media?: VideoMedia;
};

export type MaskletRevisionSummary = {
  id: number;
  number: number;
  engine: string;
  first_visible_frame: number | null;
  last_visible_frame: number | null;
  /** One flag per annotation frame: is the subject visible (non-empty mask)? */
  visible: boolean[];
};

/** annotation/selectors/tasks.py masklet_summary (also the tracking API's MaskletOut). */
export type MaskletSummary = {
  id: number;
  object_id: number;
  category: Category;
  source: MaskletSource;
  status: MaskletStatus;
  motion_score: number | null;
  version: number;
  revision: MaskletRevisionSummary | null;
};

export type FgqaQuestion = {
  id: number;
  question: string;
  model_answer: string;
  answer: string;
  q_type: string;
  status: string;
  is_benchmark: boolean;
  imported_distractors: string[];
  distractors: string[];
};

export type CaptionSegmentPayload = {
  start_frame: number;
  end_frame: number;
  caption: string;
  out_of_frame?: boolean;
};

export type CaptionRevisionPayload = {
  id: number;
  number: number;
  author: string | null;
  masklet_revision: number;
  needs_recheck: boolean;
  segments: CaptionSegmentPayload[];
  created_at: string;
  /** Review/rework only: the captions were written against an older mask or flagged. */
  stale?: boolean;
};

export type ReviewReasonOption = { code: string; label: string };

export type TaskPayload = {
  id: number;
  kind: TaskKind;
  status: TaskStatus;
  /** Send back as base_version on submit; a mismatch is a 409 stale_task. */
  version: number;
  priority: number;
  is_rework: boolean;
  notes: string;
  leased_at: string | null;
  lease_expires_at: string | null;
  project: TaskProject;
  video: Video | null;
  /** The masklet the task is about (caption, review, rework). */
  masklet: MaskletSummary | null;
  /** select: every masklet of the video (candidates ranked by motion_score, drafts). */
  masklets: MaskletSummary[];
  questions: FgqaQuestion[];
  captions: CaptionRevisionPayload | null;
  history: unknown;
  review_reasons: ReviewReasonOption[];
};

/** GET/PUT /api/tasks/<id>/draft. PUT takes {data, version} (data must be a JSON object). */
export type DraftPayload = {
  version: number;
  data: Record<string, unknown> | null;
  updated_at: string | null;
};

/** POST /api/tasks/<id>/submit and /skip. */
export type TaskOutcome = { id: number; status: TaskStatus; version?: number };

/* ---------------------------------------------------------------------------------------------
 * Tracking (F1), /api/tracking/… (notes/TRACKING_API.md).
 * ------------------------------------------------------------------------------------------- */

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export type TrackingJob = {
  id: number;
  kind: string;
  status: JobStatus;
  video_id: number;
  masklet_ids: number[];
  start_frame: number | null;
  direction: "both" | "forward" | "backward";
  frames_done: number;
  frames_total: number;
  error: string;
  attempts: number;
  worker: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
};

/** POST videos/<id>/masklets (201) and masklets/<id>/prompts (200). */
export type PromptResult = {
  masklet: MaskletSummary;
  frame: number;
  mask: Rle;
  bbox: [number, number, number, number] | null;
};

/** GET jobs/<id>?cursor=…: frames finished since the cursor. */
export type JobPoll = {
  job: TrackingJob;
  cursor: number;
  frames: { frame: number; masks: Record<string, Rle> }[];
};

/** GET videos/<id>/masks?start=a&end=b (end inclusive, at most 600 frames). */
export type MaskRange = {
  size: [number, number];
  start: number;
  end: number;
  masklets: Record<string, { revision: number | null; frames: (Rle | null)[] }>;
};
