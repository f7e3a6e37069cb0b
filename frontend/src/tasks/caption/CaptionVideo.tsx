/**
 * The pass-2 video: F1's frame player over the annotation frames with the task's masklet shown.
 * Default display is a spotlight: the rest of the frame darkened, the subject as filmed with a
 * contour (the player's "highlight" mode applied to the complement of the mask); "filled" also
 * tints the subject, "outline" draws contours only (M cycles, H hides). The in / out of the
 * segment being edited are markers on the player's timeline.
 */
import { useCallback, useMemo, useState } from "react";

import { errorMessage } from "@/api/client";
import { FramePlayer, type MaskMode, type PlayerMask } from "@/components/player/FramePlayer";
import { hexToRgb } from "@/lib/colors";
import type { TaskPayload } from "@/types/api";
import type { Rgb } from "@/types/geometry";

import { useMaskletMasks } from "./api";
import { ComplementCache } from "./spotlight";

export type CaptionVideoProps = {
  task: TaskPayload;
  frame: number;
  playing: boolean;
  onFrame: (frame: number) => void;
  onPlaying: (playing: boolean) => void;
  /** The subject's colour (#rrggbb). */
  color: string;
  /** In and out of the segment being edited. */
  marks: { start: number; end: number } | null;
};

const NONE: readonly PlayerMask[] = [];
/** Layer id of "everything but the subject" (masklet ids are positive). */
const REST = -1;
const DIM: Rgb = [0, 0, 0];

export default function CaptionVideo({ task, frame, playing, onFrame, onPlaying, color, marks }: CaptionVideoProps) {
  const video = task.video;
  const masklet = task.masklet;
  const total = masklet?.revision?.visible.length ?? 0;
  const masks = useMaskletMasks(video?.id, masklet?.id, masklet?.revision?.id, total);
  const [mode, setMode] = useState<MaskMode>("highlight");
  const [rest] = useState(() => new ComplementCache());
  const rgb = useMemo(() => hexToRgb(color), [color]);
  const data = masks.data;
  const masksAt = useCallback(
    (k: number): readonly PlayerMask[] => {
      const rle = data?.[k];
      if (!rle || !masklet) return NONE;
      return [
        { id: REST, rle: rest.get(k, rle), color: DIM },
        { id: masklet.id, rle, color: rgb },
      ];
    },
    [data, masklet, rgb, rest],
  );
  const markers = useMemo(
    () =>
      marks
        ? [
            { frame: marks.start, color: "#3fb96b", title: `In: frame ${marks.start}` },
            { frame: marks.end, color: "#e5484d", title: `Out: frame ${marks.end}` },
          ]
        : [],
    [marks],
  );
  if (!video) return <p className="cap-muted">This task has no video.</p>;
  return (
    <div className="cap-video" data-testid="caption-video">
      <FramePlayer
        video={video}
        frame={frame}
        onFrameChange={onFrame}
        playing={playing}
        onPlayingChange={onPlaying}
        masksAt={masksAt}
        maskMode={mode}
        onMaskModeChange={setMode}
        highlightId={REST}
        markers={markers}
        hud={
          masks.isError ? (
            <div className="cap-video__error" role="alert" data-testid="caption-masks-error">
              The mask could not be loaded: {errorMessage(masks.error)}
            </div>
          ) : masks.isPending ? (
            <div className="cap-video__status">Loading the mask…</div>
          ) : null
        }
      />
    </div>
  );
}
