import { DRAG_THRESHOLD_PX, dragBox, gestureToPrompt, type PressStart } from "./gesture";

const frame = { width: 640, height: 360 };
const press = (over: Partial<PressStart> = {}): PressStart => ({ x: 100.4, y: 50.7, button: 0, shiftKey: false, altKey: false, inside: true, ...over });

describe("gestureToPrompt", () => {
  it("turns a left click into a positive point at the pressed pixel", () => {
    expect(gestureToPrompt(press(), { x: 101, y: 51 }, frame, 1)).toEqual({ kind: "point", x: 100, y: 50, label: 1 });
  });

  it("makes Alt-click, Shift-click and right-click negative points", () => {
    expect(gestureToPrompt(press({ altKey: true }), { x: 100, y: 50 }, frame, 1)).toMatchObject({ kind: "point", label: 0 });
    expect(gestureToPrompt(press({ shiftKey: true }), { x: 100, y: 50 }, frame, 1)).toMatchObject({ kind: "point", label: 0 });
    expect(gestureToPrompt(press({ button: 2 }), { x: 100, y: 50 }, frame, 1)).toMatchObject({ kind: "point", label: 0 });
  });

  it("measures the drag on screen: the same frame distance is a click zoomed out and a box zoomed in", () => {
    const end = { x: 104, y: 54 }; // 4.9 frame pixels away
    expect(gestureToPrompt(press(), end, frame, 1)).toMatchObject({ kind: "point" });
    expect(gestureToPrompt(press(), end, frame, DRAG_THRESHOLD_PX)).toMatchObject({ kind: "box" });
  });

  it("turns a left drag into a box with ordered corners, in any direction", () => {
    expect(gestureToPrompt(press({ x: 300.2, y: 200.9 }), { x: 120.6, y: 80.1 }, frame, 1)).toEqual({ kind: "box", box: [120, 80, 301, 201] });
  });

  it("clips a box dragged past the frame edge to the frame", () => {
    expect(gestureToPrompt(press({ x: 600, y: 300 }), { x: 900, y: 500 }, frame, 1)).toEqual({ kind: "box", box: [600, 300, 640, 360] });
    expect(gestureToPrompt(press({ x: 20, y: 20 }), { x: -50, y: -9 }, frame, 1)).toEqual({ kind: "box", box: [0, 0, 20, 20] });
  });

  it("never makes a box from the right button (a right drag is still a negative point)", () => {
    expect(gestureToPrompt(press({ button: 2 }), { x: 300, y: 300 }, frame, 1)).toMatchObject({ kind: "point", x: 100, y: 50, label: 0 });
  });

  it("ignores clicks outside the frame, the middle button and boxes thinner than 2 pixels", () => {
    expect(gestureToPrompt(press({ inside: false, x: -3 }), { x: -3, y: 50 }, frame, 1)).toBeNull();
    expect(gestureToPrompt(press({ button: 1 }), { x: 100, y: 50 }, frame, 1)).toBeNull();
    expect(gestureToPrompt(press({ x: 700, y: 10 }), { x: 720, y: 100 }, frame, 1)).toBeNull();
  });

  it("keeps points inside the frame at its right and bottom edges", () => {
    expect(gestureToPrompt(press({ x: 639.9, y: 359.99 }), { x: 639.9, y: 359.99 }, frame, 1)).toEqual({ kind: "point", x: 639, y: 359, label: 1 });
  });
});

describe("dragBox", () => {
  it("shows no box until the press has moved past the threshold", () => {
    expect(dragBox(press(), { x: 101, y: 51 }, 1)).toBeNull();
    expect(dragBox(press(), { x: 130, y: 90 }, 1)).toEqual([100.4, 50.7, 130, 90]);
    expect(dragBox(press({ button: 2 }), { x: 130, y: 90 }, 1)).toBeNull();
  });
});
