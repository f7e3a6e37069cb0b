import { QUESTION_TYPES } from "@/tasks/fgqa/questionTypes";
import type { FgqaQuestion } from "@/types/api";

import { acceptProblems, corrections, fgqaBody, fgqaFormFromDraft, fgqaVerdictProblem, initialFgqaForm } from "./fgqaReview";

const q: FgqaQuestion = {
  id: 7,
  question: "Which hand holds the cup?",
  model_answer: "The left hand.",
  answer: "The right hand.",
  q_type: "Object Location",
  status: "answered",
  is_benchmark: false,
  imported_distractors: ["The left hand.", "Both hands."],
  distractors: [],
};

describe("FGQA review", () => {
  it("accepts unchanged with an empty correction set", () => {
    const form = { ...initialFgqaForm(q), decision: "accept" as const, distractors: [] };
    expect(fgqaBody(q, form)).toEqual({ decision: "accept" });
    expect(fgqaVerdictProblem(q, form, QUESTION_TYPES)).toBeNull();
  });

  it("sends only what was corrected", () => {
    const form = { ...initialFgqaForm(q), decision: "accept" as const, answer: "The  right hand, briefly.", q_type: "Pose" };
    expect(corrections(q, form)).toEqual({ answer: "The right hand, briefly.", q_type: "Pose", distractors: ["The left hand.", "Both hands."] });
  });

  it("always sends the distractors of a benchmark question and needs one", () => {
    const bq = { ...q, is_benchmark: true, distractors: ["The left hand."] };
    const form = { ...initialFgqaForm(bq), decision: "accept" as const };
    expect(fgqaBody(bq, form)).toEqual({ decision: "accept", distractors: ["The left hand."] });
    const none = { ...form, distractors: form.distractors.map((d) => ({ ...d, keep: false })) };
    expect(fgqaVerdictProblem(bq, none, QUESTION_TYPES)).toMatch(/at least one verified distractor/);
  });

  it("refuses a distractor equal to the answer, repeats, and markup", () => {
    const form = {
      ...initialFgqaForm(q),
      distractors: [
        { original: null, text: "the right hand.", keep: true },
        { original: null, text: "Both hands.", keep: true },
        { original: null, text: "both  hands.", keep: true },
        { original: null, text: "<i>x</i>", keep: true },
        { original: null, text: "dropped, so not checked <b>", keep: false },
      ],
    };
    expect(acceptProblems(q, form, QUESTION_TYPES)).toEqual([
      "Distractor 1 is the same as the correct answer.",
      "Distractor 3 repeats another distractor.",
      "Distractor 4 must be plain text (no markup or control characters).",
    ]);
  });

  it("needs reasons to reject and sends no corrections with them", () => {
    const form = { ...initialFgqaForm(q), decision: "reject" as const, answer: "changed" };
    expect(fgqaVerdictProblem(q, form, QUESTION_TYPES)).toMatch(/reason/);
    expect(fgqaBody(q, { ...form, reasons: ["wrong_answer"], comment: " it is the left " })).toEqual({
      decision: "reject",
      reasons: ["wrong_answer"],
      comment: "it is the left",
    });
  });

  it("restores its draft for the same question only", () => {
    const form = { ...initialFgqaForm(q), decision: "accept" as const };
    expect(fgqaFormFromDraft({ fgqa_review: form, question_id: 7 }, 7)).toEqual(form);
    expect(fgqaFormFromDraft({ fgqa_review: form, question_id: 8 }, 7)).toBeNull();
  });
});
