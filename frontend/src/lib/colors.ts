/**
 * Object colours. Twenty hues picked by greedy max-min distance in CIELAB from saturated
 * candidates with lightness L* between 55 and 85: bright enough to read over dark footage, and
 * drawn with an opaque outline (see mask compositing) so they hold up over bright footage too.
 * The first ten are at least ΔE 43 apart, all twenty at least ΔE 28.
 */
import type { Rgb } from "@/types/geometry";

export const PALETTE = [
  "#3399FF",
  "#0DF20D",
  "#F2460D",
  "#F20DF2",
  "#33E6C8",
  "#F4D125",
  "#F986B6",
  "#EEA977",
  "#9CE06C",
  "#A76EF7",
  "#0DCCF2",
  "#F53D5C",
  "#F425AF",
  "#F2930D",
  "#0DF293",
  "#BF96E9",
  "#B1E31C",
  "#E0CC6C",
  "#D76742",
  "#EE77E4",
] as const;

export type ObjectColor = {
  hex: string;
  rgb: Rgb;
  /** Palette slot, 0 … PALETTE.length - 1. */
  slot: number;
};

export function hexToRgb(hex: string): Rgb {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`Not a #rrggbb colour: ${hex}`);
  return [parseInt(m[1] as string, 16), parseInt(m[2] as string, 16), parseInt(m[3] as string, 16)];
}

function colorOfSlot(slot: number): ObjectColor {
  const hex = PALETTE[slot] as string;
  return { hex, rgb: hexToRgb(hex), slot };
}

const slotOf = (id: number) => ((Math.trunc(id) % PALETTE.length) + PALETTE.length) % PALETTE.length;

/** The colour of one object, from its id alone: the same everywhere, on every screen. */
export function objectColor(id: number): ObjectColor {
  return colorOfSlot(slotOf(id));
}

/**
 * Colours for the objects shown together: each keeps objectColor(id) unless an object with a
 * smaller id already took that slot, then takes the next free one. Independent of the order of
 * `ids`; all distinct while there are at most PALETTE.length objects.
 */
export function assignObjectColors(ids: readonly number[]): Map<number, ObjectColor> {
  const out = new Map<number, ObjectColor>();
  const taken = new Set<number>();
  for (const id of [...new Set(ids)].sort((a, b) => a - b)) {
    let slot = slotOf(id);
    for (let tries = 0; tries < PALETTE.length && taken.has(slot); tries++) {
      slot = (slot + 1) % PALETTE.length;
    }
    if (taken.size < PALETTE.length) taken.add(slot);
    out.set(id, colorOfSlot(slot));
  }
  return out;
}

/** `rgba(r, g, b, a)` for CSS. */
export function cssRgba([r, g, b]: Rgb, alpha = 1): string {
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** WCAG relative luminance, 0 (black) … 1 (white). */
export function relativeLuminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** Black or white, whichever reads better on the colour (for labels on coloured chips). */
export function readableTextColor(rgb: Rgb): "#000000" | "#ffffff" {
  const l = relativeLuminance(rgb);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000000" : "#ffffff";
}
