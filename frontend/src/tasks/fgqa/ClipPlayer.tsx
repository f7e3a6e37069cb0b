/** The clip's annotation frames in F1's frame player (no masks: FGQA clips have none). */
import { FramePlayer } from "@/components/player/FramePlayer";
import type { TaskPayload } from "@/types/api";

export type ClipPlayerProps = { task: TaskPayload; frame: number; onFrame: (frame: number) => void };

export default function ClipPlayer({ task, frame, onFrame }: ClipPlayerProps) {
  if (!task.video) return null;
  return (
    <div className="fgqa-player" data-testid="clip-player">
      <FramePlayer video={task.video} frame={frame} onFrameChange={onFrame} />
    </div>
  );
}
