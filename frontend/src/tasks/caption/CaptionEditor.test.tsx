import { act, fireEvent, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import type { TaskPayload } from "@/types/api";

import CaptionEditor from "./CaptionEditor";
import type { CaptionVideoProps } from "./CaptionVideo";

// The player is F1's and draws on a canvas; here a stand-in that moves the playhead.
vi.mock("./CaptionVideo", () => ({
  default: ({ frame, onFrame }: CaptionVideoProps) => (
    <div>
      <span data-testid="video-frame">{frame}</span>
      <input aria-label="seek" type="number" value={frame} onChange={(e) => onFrame(Number(e.target.value))} />
    </div>
  ),
}));

function visible(total: number, ...hidden: [number, number][]): boolean[] {
  const v = Array<boolean>(total).fill(true);
  for (const [a, b] of hidden) for (let k = a; k <= b; k++) v[k] = false;
  return v;
}

function makeTask(vis: boolean[], over: Partial<TaskPayload> = {}): TaskPayload {
  return {
    id: 7,
    kind: "caption",
    status: "leased",
    version: 3,
    priority: 0,
    is_rework: false,
    notes: "",
    leased_at: null,
    lease_expires_at: null,
    project: {
      id: 1,
      name: "P",
      kind: "stc",
      guidelines: "",
      annotation_fps: 6,
      out_of_frame_caption: "Out of frame.",
      min_caption_chars: 5,
      max_caption_chars: 200,
      lease_minutes: 30,
    },
    video: null,
    masklet: {
      id: 11,
      object_id: 2,
      category: "person",
      source: "clicks",
      status: "selected",
      motion_score: null,
      version: 1,
      revision: { id: 5, number: 1, engine: "cpu", first_visible_frame: 0, last_visible_frame: vis.length - 1, visible: vis },
    },
    masklets: [],
    questions: [],
    captions: null,
    history: null,
    review_reasons: [],
    ...over,
  } as TaskPayload;
}

function setup(task: TaskPayload, draft: unknown = null) {
  const saveDraft = vi.fn();
  const submit = vi.fn().mockResolvedValue(undefined);
  const user = userEvent.setup();
  render(<CaptionEditor task={task} draft={draft} saveDraft={saveDraft} submit={submit} skip={vi.fn()} />);
  const seek = (k: number) => fireEvent.change(screen.getByLabelText("seek"), { target: { value: String(k) } });
  return { saveDraft, submit, user, seek };
}

const frames = (n: number) => [
  (screen.getByTestId(`segment-start-${n}`) as HTMLInputElement).valueAsNumber,
  (screen.getByTestId(`segment-end-${n}`) as HTMLInputElement).valueAsNumber,
];

// user-event types key by key through React: slow in jsdom on a busy machine.
vi.setConfig({ testTimeout: 30_000 });

describe("CaptionEditor", () => {
  it("i / o / Enter write segments by keyboard, skip out-of-frame frames, and submit what caption_submit takes", async () => {
    const { submit, saveDraft, user, seek } = setup(makeTask(visible(30, [20, 24])));
    // Starts with one segment over the first visible stretch and the automatic out-of-frame one.
    expect(frames(1)).toEqual([0, 19]);
    expect(within(screen.getByTestId("segment-out-of-frame")).getByText("frames 20–24")).toBeInTheDocument();

    seek(8);
    await user.keyboard("o");
    expect(frames(1)).toEqual([0, 8]);
    expect(screen.getByTestId("segment-caption-1")).toHaveFocus();
    await user.keyboard("walks in{Enter}");
    expect(frames(2)).toEqual([9, 19]);
    expect(screen.getByTestId("video-frame")).toHaveTextContent("9");
    expect(screen.getByTestId("segment-caption-2")).not.toHaveFocus();

    seek(12);
    await user.keyboard("i");
    expect(frames(2)).toEqual([12, 19]);
    seek(9);
    await user.keyboard("o");
    expect(screen.getByTestId("caption-notice")).toHaveTextContent("Out (frame 9) would be before in (frame 12)");
    expect(frames(2)).toEqual([12, 19]);
    await user.keyboard("i");
    seek(19);
    await user.keyboard("o");
    await user.keyboard("sits down{Enter}");
    // The next one starts after the out-of-frame stretch.
    expect(frames(3)).toEqual([25, 29]);
    await user.click(screen.getByTestId("segment-caption-3"));
    await user.keyboard("stands up{Enter}");
    expect(screen.getByTestId("caption-notice")).toHaveTextContent("Every frame is covered");

    await user.click(screen.getByTestId("caption-submit"));
    expect(submit).toHaveBeenCalledWith({
      segments: [
        { start_frame: 0, end_frame: 8, caption: "walks in" },
        { start_frame: 9, end_frame: 19, caption: "sits down" },
        { start_frame: 25, end_frame: 29, caption: "stands up" },
      ],
    });
    expect(saveDraft).toHaveBeenLastCalledWith({
      segments: [
        { start_frame: 0, end_frame: 8, caption: "walks in" },
        { start_frame: 9, end_frame: 19, caption: "sits down" },
        { start_frame: 25, end_frame: 29, caption: "stands up" },
      ],
      active: null,
    });
  });

  it("shows every problem inline on submit and sends nothing", async () => {
    const { submit, user, seek } = setup(makeTask(visible(30)));
    seek(10);
    await user.keyboard("o");
    await user.keyboard("run");
    expect(screen.getByTestId("timeline-gap")).not.toHaveClass("is-error");
    await user.click(screen.getByTestId("caption-submit"));
    expect(submit).not.toHaveBeenCalled();
    expect(screen.getByTestId("segment-problem-1")).toHaveTextContent(
      "Segment 1: the caption is too short (3 characters; at least 5).",
    );
    expect(screen.getByTestId("caption-issues")).toHaveTextContent("Frames 11-29 are not covered by any segment.");
    expect(screen.getByTestId("caption-invalid")).toHaveTextContent("2 problems to fix before submitting.");
    expect(screen.getByTestId("timeline-gap")).toHaveClass("is-error");
  });

  it("shows overlaps as they are made, before any submit", async () => {
    const { user } = setup(makeTask(visible(20)));
    fireEvent.change(screen.getByTestId("segment-end-1"), { target: { value: "9" } });
    await user.click(screen.getByTestId("new-segment"));
    expect(frames(2)).toEqual([10, 19]);
    fireEvent.change(screen.getByTestId("segment-start-2"), { target: { value: "7" } });
    expect(screen.getByTestId("segment-problem-2")).toHaveTextContent("Segments 1 and 2 overlap (frames 7-9).");
  });

  it("restores a draft exactly (a reload loses nothing)", () => {
    const draft = {
      segments: [
        { start_frame: 0, end_frame: 4, caption: "enters" },
        { start_frame: 5, end_frame: 9, caption: "half-typed" },
      ],
      active: 1,
    };
    const { saveDraft } = setup(makeTask(visible(10)), draft);
    expect(frames(1)).toEqual([0, 4]);
    expect(screen.getByTestId("segment-caption-2")).toHaveValue("half-typed");
    expect(screen.getByTestId("segment-2")).toHaveAttribute("aria-current", "true");
    expect(screen.getByTestId("video-frame")).toHaveTextContent("5");
    expect(saveDraft).not.toHaveBeenCalled();
  });

  it("starts a rework from the captions under review, without their out-of-frame rows", () => {
    const task = makeTask(visible(10, [8, 9]), {
      is_rework: true,
      notes: "Caption 2 is inaccurate.",
      captions: {
        id: 1,
        number: 1,
        author: "annotator2",
        masklet_revision: 1,
        needs_recheck: false,
        created_at: "",
        segments: [
          { start_frame: 0, end_frame: 3, caption: "walks", out_of_frame: false },
          { start_frame: 4, end_frame: 7, caption: "flies", out_of_frame: false },
          { start_frame: 8, end_frame: 9, caption: "Out of frame.", out_of_frame: true },
        ],
      },
    });
    setup(task);
    expect(screen.getByTestId("rework-notes")).toHaveTextContent("Caption 2 is inaccurate.");
    expect(screen.getByTestId("segment-caption-2")).toHaveValue("flies");
    expect(screen.queryByTestId("segment-3")).toBeNull();
    expect(screen.getAllByTestId("segment-out-of-frame")).toHaveLength(1);
  });

  it("says plainly when the subject is never visible", () => {
    setup(makeTask(visible(6, [0, 5])));
    expect(screen.getByTestId("caption-no-mask")).toHaveTextContent("The subject is never visible in this masklet");
    expect(screen.queryByTestId("caption-submit")).toBeNull();
  });

  it("keeps markup as text and refuses it as the server does", async () => {
    const { submit, user } = setup(makeTask(visible(10)));
    await act(async () => {
      screen.getByTestId("segment-caption-1").focus();
    });
    await user.keyboard("<b>runs</b> away");
    await user.click(screen.getByTestId("caption-submit"));
    expect(document.querySelector("b")).toBeNull();
    expect(screen.getByTestId("segment-problem-1")).toHaveTextContent(
      "Segment 1: captions are plain text; remove the markup tag.",
    );
    expect(submit).not.toHaveBeenCalled();
  });
});
