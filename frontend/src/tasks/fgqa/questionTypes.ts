/**
 * The 12 FGQA question types, exactly as the server accepts them
 * (annotation/services/fgqa.py QUESTION_TYPES; a test keeps the two lists equal).
 */
export const QUESTION_TYPES = [
  "Action Recognition",
  "Action Sequence",
  "Counting Problems",
  "Movement Direction",
  "Object Attributes",
  "Object Location",
  "Object Recognition",
  "Object State",
  "Other",
  "Pose",
  "Spatial Relations",
  "Speed/Force",
] as const;

export type QuestionType = (typeof QUESTION_TYPES)[number];

export function isQuestionType(value: unknown): value is QuestionType {
  return typeof value === "string" && (QUESTION_TYPES as readonly string[]).includes(value);
}
