/** Mask layers of the player: which masks are drawn how. Pure, tested. */
import { objectColor } from "@/lib/colors";
import type { WorkerLayer } from "@/lib/mask-protocol";
import type { Rgb } from "@/types/geometry";
import type { Rle } from "@/types/rle";

export type PlayerMask = {
  id: number;
  rle: Rle | null | undefined;
  /** Defaults to objectColor(id). */
  color?: Rgb;
};

/** filled: every mask filled; highlight: `highlightId` filled, the rest faint outlines; outline: outlines only. */
export type MaskMode = "filled" | "highlight" | "outline";

export const PLAYBACK_RATES = [0.5, 1, 2, 4, 8] as const;
export const MODES: MaskMode[] = ["filled", "highlight", "outline"];
export const MODE_LABELS: Record<MaskMode, string> = { filled: "Filled", highlight: "Highlight", outline: "Outline" };

/** Fill and outline opacity of one object's mask in a mode. */
export function maskAlphas(mode: MaskMode, highlighted: boolean): { fillAlpha: number; outlineAlpha: number } {
  if (mode === "outline") return { fillAlpha: 0, outlineAlpha: 1 };
  if (mode === "highlight") return highlighted ? { fillAlpha: 0.5, outlineAlpha: 1 } : { fillAlpha: 0, outlineAlpha: 0.35 };
  return { fillAlpha: 0.42, outlineAlpha: 0.95 };
}

/** The worker layers for one frame: empty masks skipped, the highlighted object on top. */
export function layersOf(masks: readonly PlayerMask[], mode: MaskMode, highlightId: number | null | undefined): WorkerLayer[] {
  const out: WorkerLayer[] = [];
  let top: WorkerLayer | null = null;
  for (const m of masks) {
    if (!m.rle) continue;
    const highlighted = highlightId !== null && highlightId !== undefined && m.id === highlightId;
    const layer = { rle: m.rle, color: m.color ?? objectColor(m.id).rgb, ...maskAlphas(mode, highlighted) };
    if (highlighted) top = layer;
    else out.push(layer);
  }
  if (top) out.push(top);
  return out;
}

