import {
  captionLength,
  checkCaption,
  DEFAULT_OUT_OF_FRAME_CAPTION,
  mergeWithOutOfFrame,
  normalizeCaption,
  outOfFrameSegments,
  type Segment,
  typedSegments,
  validateSegments,
} from "./segments";

const rules = { minChars: 5, maxChars: 40 };
const seg = (start_frame: number, end_frame: number, caption = "walks to the door"): Segment => ({
  start_frame,
  end_frame,
  caption,
  out_of_frame: false,
});
const ooF = (start_frame: number, end_frame: number): Segment => ({
  start_frame,
  end_frame,
  caption: DEFAULT_OUT_OF_FRAME_CAPTION,
  out_of_frame: true,
});
/** visible(10, [3, 5]) → frames 3..5 invisible in a 10-frame video. */
function visible(total: number, ...hidden: [number, number][]): boolean[] {
  const v = Array<boolean>(total).fill(true);
  for (const [a, b] of hidden) for (let k = a; k <= b; k++) v[k] = false;
  return v;
}

describe("outOfFrameSegments", () => {
  it("gives maximal runs of invisible frames, inclusive", () => {
    expect(outOfFrameSegments(visible(10, [3, 5]))).toEqual([ooF(3, 5)]);
    expect(outOfFrameSegments(visible(10, [0, 0], [9, 9]))).toEqual([ooF(0, 0), ooF(9, 9)]);
    expect(outOfFrameSegments(visible(10, [0, 2], [4, 4], [7, 9]))).toEqual([
      ooF(0, 2),
      ooF(4, 4),
      ooF(7, 9),
    ]);
  });

  it("covers the whole video when the subject is never visible", () => {
    expect(outOfFrameSegments(visible(4, [0, 3]))).toEqual([ooF(0, 3)]);
  });

  it("gives nothing when the subject is always visible, or there are no frames", () => {
    expect(outOfFrameSegments(visible(10))).toEqual([]);
    expect(outOfFrameSegments([])).toEqual([]);
  });

  it("uses the project's caption", () => {
    expect(outOfFrameSegments([false], "Not visible.")[0]?.caption).toBe("Not visible.");
  });
});

describe("mergeWithOutOfFrame", () => {
  it("fills the invisible runs between typed segments, sorted", () => {
    const merged = mergeWithOutOfFrame([seg(6, 9), seg(0, 2)], visible(10, [3, 5]));
    expect(merged).toEqual([seg(0, 2), ooF(3, 5), seg(6, 9)]);
  });

  it("recomputes out-of-frame segments from the mask instead of trusting the list", () => {
    const stale = [seg(0, 4), ooF(5, 9)];
    expect(mergeWithOutOfFrame(stale, visible(10, [5, 6]))).toEqual([seg(0, 4), ooF(5, 6)]);
  });

  it("leaves typedSegments to be submitted", () => {
    expect(typedSegments([seg(0, 2), ooF(3, 5), seg(6, 9)])).toEqual([seg(0, 2), seg(6, 9)]);
  });
});

describe("captions", () => {
  it("collapse whitespace like Python's split/join", () => {
    expect(normalizeCaption("  a \t b\n\nc  ")).toBe("a b c");
    expect(normalizeCaption("a\u00a0\u3000b")).toBe("a b");
    expect(normalizeCaption("\ufeffa b\ufeff")).toBe("\ufeffa b\ufeff"); // not whitespace for Python
    expect(normalizeCaption(" ")).toBe("");
  });

  it("count code points, not UTF-16 units", () => {
    expect(captionLength("🐕 runs")).toBe(6);
    expect(captionLength("  ab  ")).toBe(2);
  });

  it("are checked in the server's order with its messages", () => {
    expect(checkCaption(42, rules, "Segment 1")).toBe("Segment 1: the caption must be text.");
    expect(checkCaption("   \n ", rules, "Segment 1")).toBe("Segment 1: the caption is empty.");
    expect(checkCaption("opens\u0007 door", rules, "Segment 2")).toBe(
      "Segment 2: the caption contains control characters.",
    );
    expect(checkCaption("a <b>bold</b> move", rules, "Segment 3")).toBe(
      "Segment 3: captions are plain text; remove the markup tag.",
    );
    expect(checkCaption("1 < 2 and 3 > 2", rules, "Segment 3")).toBeNull();
    expect(checkCaption("sits", rules, "Segment 4")).toBe(
      "Segment 4: the caption is too short (4 characters; at least 5).",
    );
    expect(checkCaption("sits ", rules, "Segment 4")).toBe(
      "Segment 4: the caption is too short (4 characters; at least 5).",
    );
    expect(checkCaption("stand", rules, "Segment 4")).toBeNull();
    expect(checkCaption("x".repeat(40), rules, "Segment 5")).toBeNull();
    expect(checkCaption("x".repeat(41), rules, "Segment 5")).toBe(
      "Segment 5: the caption is too long (41 characters; at most 40).",
    );
  });
});

describe("validateSegments", () => {
  it("accepts segments that cover every visible frame", () => {
    expect(validateSegments([seg(0, 9)], visible(10), rules)).toEqual([]);
    expect(validateSegments([seg(0, 2), seg(6, 9)], visible(10, [3, 5]), rules)).toEqual([]);
    expect(validateSegments([seg(5, 9), seg(0, 4)], visible(10), rules)).toEqual([]);
    expect(validateSegments([seg(0, 0), seg(1, 1)], visible(2), rules)).toEqual([]);
  });

  it("ignores out-of-frame entries of the list (the editor shows them read-only)", () => {
    const list = [seg(0, 2), ooF(3, 5), seg(6, 9)];
    expect(validateSegments(list, visible(10, [3, 5]), rules)).toEqual([]);
  });

  it("asks for a segment when there is none", () => {
    expect(validateSegments([], visible(10), rules)).toEqual([
      { index: null, field: "list", message: "Add at least one segment." },
    ]);
    expect(validateSegments([ooF(0, 9)], visible(10, [0, 9]), rules)).toEqual([
      {
        index: null,
        field: "list",
        message: "The subject is never visible: this masklet cannot be captioned.",
      },
    ]);
  });

  it("refuses frames outside the video, at both ends", () => {
    expect(validateSegments([seg(0, 10)], visible(10), rules)).toEqual([
      {
        index: 0,
        field: "frames",
        message: "Segment 1: frames 0-10 are outside the video (0-9).",
        frames: [0, 10],
      },
      {
        index: null,
        field: "coverage",
        message: "Frames 0-9 are not covered by any segment.",
        frames: [0, 9],
      },
    ]);
    expect(validateSegments([seg(-1, 9)], visible(10), rules)[0]?.message).toBe(
      "Segment 1: frames -1-9 are outside the video (0-9).",
    );
  });

  it("refuses a segment that ends before it starts, and fractional frames", () => {
    const issues = validateSegments([seg(0, 4), seg(9, 5)], visible(10), rules);
    expect(issues[0]).toEqual({
      index: 1,
      field: "frames",
      message: "Segment 2: ends (frame 5) before it starts (frame 9).",
      frames: [5, 9],
    });
    expect(validateSegments([seg(0, 4.5)], visible(10), rules)[0]?.message).toBe(
      "Segment 1: start_frame and end_frame must be whole numbers.",
    );
  });

  it("finds overlaps, including a single shared boundary frame", () => {
    expect(validateSegments([seg(0, 5), seg(5, 9)], visible(10), rules)).toEqual([
      {
        index: 1,
        field: "frames",
        message: "Segments 1 and 2 overlap (frames 5-5).",
        frames: [5, 5],
      },
    ]);
    expect(validateSegments([seg(4, 9), seg(0, 6)], visible(10), rules)).toEqual([
      {
        index: 0,
        field: "frames",
        message: "Segments 2 and 1 overlap (frames 4-6).",
        frames: [4, 6],
      },
    ]);
  });

  it("refuses typed segments over frames where the subject is out of frame", () => {
    expect(validateSegments([seg(0, 3), seg(6, 9)], visible(10, [3, 5]), rules)).toEqual([
      {
        index: 0,
        field: "frames",
        message: "Segment 1 (frames 0-3) overlaps frames 3-5, where the subject is out of frame.",
        frames: [3, 3],
      },
    ]);
  });

  it("names every gap, at the start, in the middle and at the end", () => {
    const issues = validateSegments([seg(1, 3), seg(5, 8)], visible(10), rules);
    expect(issues.map((i) => [i.message, i.frames])).toEqual([
      ["Frames 0-0 are not covered by any segment.", [0, 0]],
      ["Frames 4-4 are not covered by any segment.", [4, 4]],
      ["Frames 9-9 are not covered by any segment.", [9, 9]],
    ]);
    expect(issues.every((i) => i.index === null && i.field === "coverage")).toBe(true);
  });

  it("counts out-of-frame runs as covered", () => {
    expect(validateSegments([seg(0, 6)], visible(10, [7, 9]), rules)).toEqual([]);
    expect(validateSegments([seg(3, 9)], visible(10, [0, 2]), rules)).toEqual([]);
  });

  it("reports caption problems per segment next to frame problems", () => {
    const issues = validateSegments([seg(0, 4, "  "), seg(5, 9, "runs")], visible(10), rules);
    expect(issues).toEqual([
      { index: 0, field: "caption", message: "Segment 1: the caption is empty." },
      {
        index: 1,
        field: "caption",
        message: "Segment 2: the caption is too short (4 characters; at least 5).",
      },
    ]);
  });

  it("numbers segments by their place in the list the editor shows", () => {
    const list = [ooF(0, 1), seg(2, 9, "")];
    expect(validateSegments(list, visible(10, [0, 1]), rules)).toEqual([
      { index: 1, field: "caption", message: "Segment 2: the caption is empty." },
    ]);
  });

  it("refuses more segments than frames", () => {
    const issues = validateSegments([seg(0, 0), seg(1, 1), seg(1, 1)], visible(2), rules);
    expect(issues[0]).toEqual({
      index: null,
      field: "list",
      message: "There are more segments (3) than frames (2).",
    });
  });
});
