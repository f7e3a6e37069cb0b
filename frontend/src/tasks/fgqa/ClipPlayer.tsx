/** The clip's frames in F1's frame player (no masks). */
import type { TaskPayload } from "@/types/api";

export type ClipPlayerProps = { task: TaskPayload; frame: number; onFrame: (frame: number) => void };

export default function ClipPlayer({ frame }: ClipPlayerProps) {
  return <div data-testid="clip-player">frame {frame}</div>;
}
