import {
  clampFrame,
  durationOf,
  formatFrameLabel,
  formatTime,
  formatTimecode,
  frameAtTime,
  frameUrl,
  timeOfFrame,
} from "./frames";

describe("frameAtTime", () => {
  it("maps the start of each frame to that frame", () => {
    for (let k = 0; k < 121; k++) expect(frameAtTime(timeOfFrame(k, 6), 6, 121)).toBe(k);
    for (let k = 0; k < 300; k++) expect(frameAtTime(timeOfFrame(k, 29.97), 29.97, 300)).toBe(k);
  });

  it("is robust to times written a hair before the boundary", () => {
    expect(frameAtTime(0.1666666, 6, 121)).toBe(1);
    expect(frameAtTime(1 / 6 - 1e-9, 6, 121)).toBe(1);
    expect(frameAtTime(0.3333333, 6, 121)).toBe(2);
    expect(frameAtTime(0.1 + 0.2, 10, 100)).toBe(3); // 0.30000000000000004
    expect(frameAtTime(0.7 * 10, 1, 100)).toBe(7); // 7.000000000000001
    expect(frameAtTime(2.9999999, 6, 121)).toBe(18);
  });

  it("keeps showing a frame until the next one starts", () => {
    expect(frameAtTime(0, 6, 121)).toBe(0);
    expect(frameAtTime(0.16, 6, 121)).toBe(0);
    expect(frameAtTime(1 / 6 + 1e-6, 6, 121)).toBe(1);
    expect(frameAtTime(0.33, 6, 121)).toBe(1);
    expect(frameAtTime(0.333, 6, 121)).toBe(1); // 1.998 frames: 2 ms before frame 2 starts
  });

  it("clamps to the first and last frame", () => {
    expect(frameAtTime(-0.5, 6, 121)).toBe(0);
    expect(frameAtTime(20, 6, 121)).toBe(120); // t = 120 / 6 is the last frame
    expect(frameAtTime(20.16, 6, 121)).toBe(120); // still inside the last frame
    expect(frameAtTime(20.17, 6, 121)).toBe(120); // past the end
    expect(frameAtTime(1000, 6, 121)).toBe(120);
    expect(frameAtTime(Number.POSITIVE_INFINITY, 6, 121)).toBe(120);
    expect(frameAtTime(Number.NEGATIVE_INFINITY, 6, 121)).toBe(0);
    expect(frameAtTime(Number.NaN, 6, 121)).toBe(0);
  });

  it("answers 0 for a video without frames", () => {
    expect(frameAtTime(3, 6, 0)).toBe(0);
  });

  it("refuses a non-positive fps", () => {
    expect(() => frameAtTime(1, 0, 10)).toThrow(RangeError);
    expect(() => timeOfFrame(1, -6)).toThrow(RangeError);
  });
});

describe("timeOfFrame / durationOf", () => {
  it("puts frame k at k / fps", () => {
    expect(timeOfFrame(0, 6)).toBe(0);
    expect(timeOfFrame(3, 6)).toBe(0.5);
    expect(timeOfFrame(120, 6)).toBe(20);
  });

  it("counts the last frame in the duration", () => {
    expect(durationOf(121, 6)).toBeCloseTo(20.1666667, 6);
    expect(durationOf(0, 6)).toBe(0);
  });
});

describe("clampFrame", () => {
  it("keeps frames inside [0, count - 1]", () => {
    expect(clampFrame(-1, 10)).toBe(0);
    expect(clampFrame(0, 10)).toBe(0);
    expect(clampFrame(9, 10)).toBe(9);
    expect(clampFrame(10, 10)).toBe(9);
    expect(clampFrame(4.4, 10)).toBe(4);
    expect(clampFrame(Number.NaN, 10)).toBe(0);
    expect(clampFrame(5, 0)).toBe(0);
  });
});

describe("formatTime", () => {
  it("writes mm:ss.cc", () => {
    expect(formatTime(0)).toBe("00:00.00");
    expect(formatTime(1.5)).toBe("00:01.50");
    expect(formatTime(7 / 6)).toBe("00:01.16");
    expect(formatTime(0.29999999)).toBe("00:00.30");
    expect(formatTime(59.999)).toBe("00:59.99");
    expect(formatTime(60)).toBe("01:00.00");
    expect(formatTime(3599.5)).toBe("59:59.50");
    expect(formatTime(3661.25)).toBe("1:01:01.25");
    expect(formatTime(-3)).toBe("00:00.00");
  });
});

describe("formatTimecode", () => {
  it("writes whole seconds and the frame within the second", () => {
    expect(formatTimecode(0, 6)).toBe("00:00.00");
    expect(formatTimecode(5, 6)).toBe("00:00.05");
    expect(formatTimecode(6, 6)).toBe("00:01.00");
    expect(formatTimecode(7, 6)).toBe("00:01.01");
    expect(formatTimecode(120, 6)).toBe("00:20.00");
    expect(formatTimecode(360, 6)).toBe("01:00.00");
  });

  it("handles fractional rates", () => {
    expect(formatTimecode(29, 29.97)).toBe("00:00.29");
    expect(formatTimecode(30, 29.97)).toBe("00:01.00");
    expect(formatTimecode(60, 29.97)).toBe("00:02.00");
  });
});

describe("formatFrameLabel", () => {
  it("pads the index to the width of the last index", () => {
    expect(formatFrameLabel(7, 121)).toBe("007 / 120");
    expect(formatFrameLabel(120, 121)).toBe("120 / 120");
    expect(formatFrameLabel(0, 1)).toBe("0 / 0");
    expect(formatFrameLabel(3, 10)).toBe("3 / 9");
  });
});

describe("frameUrl", () => {
  it("fills {frame} padded to the digits the server gives", () => {
    expect(frameUrl("/media/videos/7/frames/{frame}.jpg", 0, 6)).toBe("/media/videos/7/frames/000000.jpg");
    expect(frameUrl("/media/videos/7/frames/{frame}.jpg", 120, 6)).toBe("/media/videos/7/frames/000120.jpg");
    expect(frameUrl("/f/{frame}.jpg", 1234567, 6)).toBe("/f/1234567.jpg");
    expect(frameUrl("/f/{frame}.jpg", 5)).toBe("/f/5.jpg");
  });

  it("understands a Python-style width", () => {
    expect(frameUrl("/f/{frame:06d}.jpg", 42)).toBe("/f/000042.jpg");
    expect(frameUrl("/f/{frame:4d}.jpg", 42, 6)).toBe("/f/0042.jpg");
  });

  it("leaves the rest of the template alone", () => {
    expect(frameUrl("/f/{frame}.jpg?sig=a{b}", 1, 2)).toBe("/f/01.jpg?sig=a{b}");
  });

  it("refuses negative or fractional frames", () => {
    expect(() => frameUrl("/f/{frame}.jpg", -1, 6)).toThrow(RangeError);
    expect(() => frameUrl("/f/{frame}.jpg", 1.5, 6)).toThrow(RangeError);
  });
});
