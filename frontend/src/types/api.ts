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
