/** The pass-2 video: the frame player with the task's masklet highlighted. (Filled in with F1's FramePlayer.) */
import type { TaskPayload } from "@/types/api";

export type CaptionVideoProps = {
  task: TaskPayload;
  frame: number;
  playing: boolean;
  onFrame: (frame: number) => void;
  onPlaying: (playing: boolean) => void;
  color: string;
};

export default function CaptionVideo({ frame }: CaptionVideoProps) {
  return <div data-testid="caption-video">frame {frame}</div>;
}
