/**
 * The clip being asked about, with where it comes from: the frame player over the clip's
 * annotation frames, and the source video id and time range (each clip frame mapped to its
 * time in the source).
 */
import { useState } from "react";

import { formatFrameLabel, formatTime, timeOfFrame } from "@/lib/frames";
import type { TaskPayload } from "@/types/api";

import ClipPlayer from "./ClipPlayer";

function seconds(t: number | null | undefined): string {
  return t == null ? "—" : `${formatTime(t)} (${t.toFixed(2)} s)`;
}

export default function ClipContext({ task }: { task: TaskPayload }) {
  const video = task.video;
  const [frame, setFrame] = useState(0);
  if (!video) return <div className="fgqa-clip fgqa-muted">This task has no clip.</div>;
  const fps = video.annotation_fps || task.project.annotation_fps;
  const total = video.annotation_frame_count;
  const start = video.source_start_time;
  const end = video.source_end_time;
  const now = start != null ? start + timeOfFrame(frame, fps) : null;
  return (
    <div className="fgqa-clip" data-testid="clip-context">
      <ClipPlayer task={task} frame={frame} onFrame={setFrame} />
      <dl className="fgqa-context">
        <dt>Clip</dt>
        <dd data-testid="clip-name">
          {video.name} · {formatFrameLabel(frame, total)} · {formatTime(timeOfFrame(frame, fps))}
        </dd>
        <dt>Source video</dt>
        <dd data-testid="clip-source">{video.source_video_id || "— (not cut from a longer video)"}</dd>
        {start != null && end != null && (
          <>
            <dt>In the source</dt>
            <dd data-testid="clip-source-range">
              {seconds(start)} – {seconds(end)} · {(end - start).toFixed(1)} s
            </dd>
            <dt>Now in source</dt>
            <dd data-testid="clip-source-now">{seconds(now)}</dd>
          </>
        )}
      </dl>
    </div>
  );
}
