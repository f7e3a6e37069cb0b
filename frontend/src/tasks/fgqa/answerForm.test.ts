import { readFileSync } from "node:fs";
import { resolve } from "node:path";

import {
  answerBody,
  answerDraft,
  checkEntry,
  checkForm,
  chooseAction,
  emptyEntry,
  type FgqaQuestion,
  initialForm,
  openQuestions,
} from "./answerForm";
import { QUESTION_TYPES } from "./questionTypes";

const q = (id: number, over: Partial<FgqaQuestion> = {}): FgqaQuestion => ({
  id,
  question: "How many times does the person stir?",
  model_answer: "Three times.",
  answer: "",
  q_type: "",
  status: "pending",
  is_benchmark: false,
  imported_distractors: [],
  distractors: [],
  ...over,
});

describe("question types", () => {
  it("are exactly the server's 12 types", () => {
    const source = readFileSync(
      // Vitest runs in frontend/.
      resolve(process.cwd(), "../annotation/services/fgqa.py"),
      "utf8",
    );
    const block = /QUESTION_TYPES = \[([^\]]*)\]/.exec(source)?.[1] ?? "";
    const server = [...block.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect(server).toHaveLength(12);
    expect([...QUESTION_TYPES]).toEqual(server);
  });
});

describe("checkEntry", () => {
  it("asks for a decision first", () => {
    expect(checkEntry(q(1), emptyEntry(q(1)))).toEqual({
      action: "Answer, accept, correct or reject this question.",
    });
  });

  it("accepting needs a question type and a model answer", () => {
    const entry = { ...emptyEntry(q(1)), action: "accept" as const };
    expect(checkEntry(q(1), entry)).toEqual({ q_type: "Choose the question type." });
    expect(checkEntry(q(1, { model_answer: "" }), { ...entry, q_type: "Counting Problems" })).toEqual({
      action: "There is no model answer to accept.",
    });
    expect(checkEntry(q(1), { ...entry, q_type: "Counting Problems" })).toEqual({});
  });

  it("an answer must be plain, non-empty text", () => {
    const entry = { ...emptyEntry(q(1)), action: "answer" as const, q_type: "Other" };
    expect(checkEntry(q(1), { ...entry, answer: "   " })).toEqual({ answer: "The answer is empty." });
    expect(checkEntry(q(1), { ...entry, answer: "<b>two</b>" }).answer).toMatch(/plain text/);
    expect(checkEntry(q(1), { ...entry, answer: "x".repeat(2001) }).answer).toMatch(/longer than 2000/);
    expect(checkEntry(q(1), { ...entry, answer: "Twice." })).toEqual({});
  });

  it("a correction that changes nothing should be an accept", () => {
    const entry = chooseAction(q(1), { ...emptyEntry(q(1)), q_type: "Other" }, "correct");
    expect(entry.answer).toBe("Three times.");
    expect(checkEntry(q(1), entry).answer).toMatch(/accept it instead/);
    expect(checkEntry(q(1), { ...entry, answer: "Four times." })).toEqual({});
  });

  it("rejecting needs a reason but no type", () => {
    const entry = { ...emptyEntry(q(1)), action: "reject" as const };
    expect(checkEntry(q(1), entry)).toEqual({ reason: "The reason is empty." });
    expect(checkEntry(q(1), { ...entry, reason: "Ambiguous." })).toEqual({});
  });
});

describe("form and body", () => {
  it("lists only pending questions, except in a rework", () => {
    const qs = [q(1), q(2, { status: "answered" })];
    expect(openQuestions(qs, false).map((x) => x.id)).toEqual([1]);
    expect(openQuestions(qs, true).map((x) => x.id)).toEqual([1, 2]);
  });

  it("builds the body fgqa_answer_submit takes, with normalized text", () => {
    const qs = [q(1), q(2), q(3), q(4)];
    const form = initialForm(qs, null);
    form[1] = { ...form[1]!, action: "accept", q_type: "Counting Problems" };
    form[2] = { ...form[2]!, action: "answer", answer: "  He  turns left ", q_type: "Movement Direction" };
    form[3] = { ...chooseAction(q(3), form[3]!, "correct"), answer: "Four times.", q_type: "Counting Problems" };
    form[4] = { ...form[4]!, action: "reject", reason: "Not visible in the clip." };
    expect(checkForm(qs, form)).toEqual({});
    expect(answerBody(qs, form)).toEqual({
      answers: [
        { question_id: 1, action: "accept", q_type: "Counting Problems" },
        { question_id: 2, action: "answer", answer: "He turns left", q_type: "Movement Direction" },
        { question_id: 3, action: "correct", answer: "Four times.", q_type: "Counting Problems" },
        { question_id: 4, action: "reject", reason: "Not visible in the clip." },
      ],
    });
  });

  it("reports every unanswered question by id", () => {
    const qs = [q(1), q(2)];
    const form = initialForm(qs, null);
    form[2] = { ...form[2]!, action: "reject", reason: "Ambiguous." };
    expect(Object.keys(checkForm(qs, form))).toEqual(["1"]);
  });

  it("restores the form from its draft and ignores junk", () => {
    const qs = [q(1), q(2)];
    const form = initialForm(qs, null);
    form[1] = { ...form[1]!, action: "answer", answer: "Twice.", q_type: "Other" };
    const back = initialForm(qs, JSON.parse(JSON.stringify(answerDraft(form))));
    expect(back).toEqual(form);
    expect(initialForm(qs, { answers: { 1: { action: "explode", answer: 3 } } })[1]).toEqual(emptyEntry(q(1)));
  });

  it("keeps a question type imported with the question", () => {
    expect(emptyEntry(q(1, { q_type: "Pose" })).q_type).toBe("Pose");
    expect(emptyEntry(q(1, { q_type: "Dance" })).q_type).toBe("");
  });
});
