/** Server data of the caption editor: the masks of the task's masklet (tracking API). */
import { useQuery } from "@tanstack/react-query";

import { api } from "@/api/client";
import type { MaskRange } from "@/types/api";
import type { Rle } from "@/types/rle";

/** Largest frame range one masks request may ask for (notes/TRACKING_API.md). */
export const MASK_CHUNK = 600;

/** Every frame's mask of one masklet (its current revision), fetched in chunks. */
export async function fetchMaskletMasks(
  videoId: number,
  maskletId: number,
  total: number,
  signal?: AbortSignal,
): Promise<(Rle | null)[]> {
  const frames: (Rle | null)[] = [];
  for (let start = 0; start < total; start += MASK_CHUNK) {
    const end = Math.min(total, start + MASK_CHUNK) - 1;
    const range = await api<MaskRange>(
      `/tracking/videos/${videoId}/masks?start=${start}&end=${end}&masklet_ids=${maskletId}`,
      { signal },
    );
    const got = range.masklets[String(maskletId)]?.frames ?? [];
    for (let k = 0; k <= end - start; k++) frames.push(got[k] ?? null);
  }
  return frames;
}

/** The masks of the caption task's masklet; keyed by revision (a new revision is new masks). */
export function useMaskletMasks(videoId: number | undefined, maskletId: number | undefined, revisionId: number | undefined, total: number) {
  return useQuery({
    queryKey: ["caption", "masks", videoId, maskletId, revisionId, total],
    queryFn: ({ signal }) => fetchMaskletMasks(videoId as number, maskletId as number, total, signal),
    enabled: videoId !== undefined && maskletId !== undefined && total > 0,
    staleTime: Infinity,
  });
}
