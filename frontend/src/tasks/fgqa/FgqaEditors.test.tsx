import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { ApiError } from "@/api/client";
import type { TaskPayload } from "@/types/api";

import type { FgqaQuestion } from "./answerForm";
import DistractorEditor from "./DistractorEditor";
import FgqaAnswerEditor from "./FgqaAnswerEditor";

vi.mock("./ClipPlayer", () => ({ default: () => <div data-testid="clip-player" /> }));
vi.setConfig({ testTimeout: 30_000 });

const q = (id: number, over: Partial<FgqaQuestion> = {}): FgqaQuestion => ({
  id,
  question: `Question ${id}?`,
  model_answer: `Model answer ${id}.`,
  answer: "",
  q_type: "",
  status: "pending",
  is_benchmark: false,
  imported_distractors: [],
  distractors: [],
  ...over,
});

function makeTask(kind: "fgqa_answer" | "fgqa_distractors", questions: FgqaQuestion[]): TaskPayload {
  return {
    id: 9,
    kind,
    status: "leased",
    version: 1,
    priority: 0,
    is_rework: false,
    notes: "",
    leased_at: null,
    lease_expires_at: null,
    project: {
      id: 2,
      name: "F",
      kind: "fgqa",
      guidelines: "",
      annotation_fps: 6,
      out_of_frame_caption: "",
      min_caption_chars: 1,
      max_caption_chars: 500,
      lease_minutes: 30,
    },
    video: {
      id: 3,
      project_id: 2,
      name: "kitchen_b.mp4",
      original_name: "kitchen_b.mp4",
      status: "ready",
      error: "",
      progress: 1,
      width: 640,
      height: 360,
      codec: "h264",
      source_fps: 24,
      source_frame_count: 144,
      duration: 6,
      annotation_frame_count: 36,
      source_video_id: "yt_K1tch3n",
      source_start_time: 52,
      source_end_time: 58,
      split: "",
      created_at: "",
      annotation_fps: 6,
    },
    masklet: null,
    masklets: [],
    questions,
    captions: null,
    history: null,
    review_reasons: [],
  } as TaskPayload;
}

function renderEditor(Editor: typeof FgqaAnswerEditor, task: TaskPayload, submit = vi.fn().mockResolvedValue(undefined)) {
  const saveDraft = vi.fn();
  render(<Editor task={task} draft={null} saveDraft={saveDraft} submit={submit} skip={vi.fn()} />);
  return { submit, saveDraft, user: userEvent.setup() };
}

describe("FgqaAnswerEditor", () => {
  it("shows the clip's source, answers each question its own way and submits the body fgqa_answer_submit takes", async () => {
    const task = makeTask("fgqa_answer", [q(1), q(2, { model_answer: "" }), q(3), q(4, { status: "answered" })]);
    const { submit, saveDraft, user } = renderEditor(FgqaAnswerEditor, task);
    expect(screen.getByTestId("clip-source")).toHaveTextContent("yt_K1tch3n");
    expect(screen.getByTestId("clip-source-range")).toHaveTextContent("00:52.00 (52.00 s) – 00:58.00 (58.00 s) · 6.0 s");
    expect(screen.queryByTestId("question-4")).toBeNull();
    // No model answer: only answering from scratch or rejecting.
    expect(screen.queryByTestId("action-accept-2")).toBeNull();

    await user.click(screen.getByTestId("action-accept-1"));
    await user.selectOptions(screen.getByTestId("qtype-1"), "Counting Problems");
    await user.click(screen.getByTestId("action-answer-2"));
    await user.type(screen.getByTestId("answer-2"), "A red cup.");
    await user.selectOptions(screen.getByTestId("qtype-2"), "Object Recognition");
    await user.click(screen.getByTestId("action-reject-3"));

    await user.click(screen.getByTestId("fgqa-submit"));
    expect(submit).not.toHaveBeenCalled();
    expect(screen.getByTestId("problem-reason-3")).toHaveTextContent("The reason is empty.");
    await user.type(screen.getByTestId("reject-reason-3"), "Not visible in the clip.");
    await user.click(screen.getByTestId("fgqa-submit"));
    expect(submit).toHaveBeenCalledWith({
      answers: [
        { question_id: 1, action: "accept", q_type: "Counting Problems" },
        { question_id: 2, action: "answer", answer: "A red cup.", q_type: "Object Recognition" },
        { question_id: 3, action: "reject", reason: "Not visible in the clip." },
      ],
    });
    expect(saveDraft).toHaveBeenCalled();
  });

  it("keyboard: j moves to the next question, a / e / x pick the action", async () => {
    const { user } = renderEditor(FgqaAnswerEditor, makeTask("fgqa_answer", [q(1), q(2)]));
    await user.keyboard("a");
    expect(screen.getByTestId("action-accept-1")).toHaveAttribute("aria-checked", "true");
    await user.keyboard("j");
    await user.keyboard("e");
    expect(screen.getByTestId("answer-2")).toHaveValue("Model answer 2.");
    await user.keyboard("x");
    expect(screen.getByTestId("action-reject-2")).toHaveAttribute("aria-checked", "true");
  });

  it("asks for a type before accepting, and shows the server's refusal", async () => {
    const submit = vi.fn().mockRejectedValue(new ApiError(400, { detail: "Question 1: choose the question type.", errors: {} }));
    const { user } = renderEditor(FgqaAnswerEditor, makeTask("fgqa_answer", [q(1)]), submit);
    await user.click(screen.getByTestId("action-accept-1"));
    await user.click(screen.getByTestId("fgqa-submit"));
    expect(screen.getByTestId("problem-qtype-1")).toHaveTextContent("Choose the question type.");
    await user.selectOptions(screen.getByTestId("qtype-1"), "Pose");
    await user.click(screen.getByTestId("fgqa-submit"));
    expect(await screen.findByTestId("submit-error")).toHaveTextContent("Question 1: choose the question type.");
  });
});

describe("DistractorEditor", () => {
  const question = q(5, {
    status: "answered",
    answer: "Three times.",
    q_type: "Counting Problems",
    is_benchmark: true,
    imported_distractors: ["Twice.", "Four times.", "Three times."],
  });

  it("shows the correct answer and takes keep / edit / drop for each distractor", async () => {
    const { submit, user } = renderEditor(DistractorEditor, makeTask("fgqa_distractors", [question]));
    expect(screen.getByTestId("correct-answer")).toHaveTextContent("Three times.");
    await user.click(screen.getByTestId("distractor-keep-1"));
    await user.click(screen.getByTestId("distractor-edit-2"));
    const input = screen.getByTestId("distractor-edited-2") as HTMLInputElement;
    expect(input).toHaveFocus();
    await user.clear(input);
    await user.type(input, "Five times.");
    await user.click(screen.getByTestId("distractor-keep-3"));
    await user.click(screen.getByTestId("distractors-submit"));
    expect(submit).not.toHaveBeenCalled();
    expect(screen.getByTestId("distractor-problem-3")).toHaveTextContent("Distractor 3 is the same as the correct answer.");
    await user.click(screen.getByTestId("distractor-drop-3"));
    await user.click(screen.getByTestId("distractors-submit"));
    expect(submit).toHaveBeenCalledWith({
      decisions: [{ action: "keep" }, { action: "edit", text: "Five times." }, { action: "drop" }],
    });
  });

  it("refuses to drop every distractor", async () => {
    const { submit, user } = renderEditor(DistractorEditor, makeTask("fgqa_distractors", [question]));
    await user.keyboard("d");
    await user.keyboard("j");
    await user.keyboard("d");
    await user.keyboard("j");
    await user.keyboard("d");
    await user.click(screen.getByTestId("distractors-submit"));
    expect(screen.getByTestId("form-problems")).toHaveTextContent("Keep at least one distractor");
    expect(submit).not.toHaveBeenCalled();
  });
});
