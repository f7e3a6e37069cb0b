/** Coordinates in image pixels of the annotation frame (x to the right, y down, origin top-left). */
export type Point = [x: number, y: number];

/** A prompt click: label 1 adds the pixel to the object, 0 removes it (SAM 2 convention). */
export type Click = [...Point, label: 0 | 1];

/** A box prompt as two corners, x0 <= x1 and y0 <= y1, in image pixels. */
export type Box = [x0: number, y0: number, x1: number, y1: number];

/** COCO bbox: left, top, width, height in pixels. */
export type Bbox = [x: number, y: number, width: number, height: number];

export type Size = { width: number; height: number };

/** 8-bit sRGB. */
export type Rgb = [r: number, g: number, b: number];
