/**
 * The segments in frame order: typed ones editable (frames, caption, delete), out-of-frame ones
 * read-only and labelled. Enter in a caption box saves it and goes on to the next segment.
 */
import { useEffect, useRef } from "react";

import { formatTime, timeOfFrame } from "@/lib/frames";
import { captionLength } from "@/lib/segments";

import type { EditSegment } from "./segmentEditor";

export type Row =
  | { kind: "typed"; number: number; segment: EditSegment; problems: string[] }
  | { kind: "out"; start: number; end: number; caption: string };

type Props = {
  rows: Row[];
  activeKey: number | null;
  fps: number;
  total: number;
  minChars: number;
  maxChars: number;
  focusSeq: number;
  onSelect: (key: number, seek: boolean) => void;
  onCaption: (key: number, caption: string) => void;
  onFrames: (key: number, start: number, end: number) => void;
  onDelete: (key: number) => void;
  onEnter: () => void;
  onEscape: () => void;
};

function span(start: number, end: number, fps: number): string {
  return `${formatTime(timeOfFrame(start, fps))} – ${formatTime(timeOfFrame(end + 1, fps))}`;
}

function FrameInput({
  value,
  label,
  testid,
  max,
  onCommit,
}: {
  value: number;
  label: string;
  testid: string;
  max: number;
  onCommit: (v: number) => void;
}) {
  return (
    <input
      type="number"
      className="cap-frame-input"
      min={0}
      max={max}
      step={1}
      value={value}
      aria-label={label}
      data-testid={testid}
      onChange={(e) => {
        const v = e.target.valueAsNumber;
        if (Number.isInteger(v)) onCommit(v);
      }}
    />
  );
}

export default function SegmentList({
  rows,
  activeKey,
  fps,
  total,
  minChars,
  maxChars,
  focusSeq,
  onSelect,
  onCaption,
  onFrames,
  onDelete,
  onEnter,
  onEscape,
}: Props) {
  const boxes = useRef(new Map<number, HTMLTextAreaElement>());
  const items = useRef(new Map<number, HTMLLIElement>());

  useEffect(() => {
    if (focusSeq === 0 || activeKey === null) return;
    boxes.current.get(activeKey)?.focus();
  }, [focusSeq, activeKey]);

  useEffect(() => {
    if (activeKey === null) return;
    items.current.get(activeKey)?.scrollIntoView?.({ block: "nearest" });
  }, [activeKey]);

  return (
    <ol className="cap-segments" data-testid="segment-list">
      {rows.map((row) => {
        if (row.kind === "out") {
          return (
            <li key={`out-${row.start}`} className="cap-seg cap-seg--out" data-testid="segment-out-of-frame">
              <div className="cap-seg__head">
                <span className="cap-seg__badge cap-seg__badge--out">out</span>
                <span className="cap-seg__frames" data-testid="segment-out-of-frame-frames">
                  frames {row.start}–{row.end}
                </span>
                <span className="cap-seg__time">{span(row.start, row.end, fps)}</span>
                <span className="cap-seg__auto">automatic</span>
              </div>
              <p className="cap-seg__caption-ro">{row.caption}</p>
            </li>
          );
        }
        const { segment: s, number, problems } = row;
        const active = s.key === activeKey;
        const length = captionLength(s.caption);
        const lengthClass = length === 0 ? "" : length < minChars || length > maxChars ? " is-bad" : " is-ok";
        return (
          <li
            key={s.key}
            ref={(el) => {
              if (el) items.current.set(s.key, el);
              else items.current.delete(s.key);
            }}
            className={`cap-seg${active ? " is-active" : ""}${problems.length ? " has-issue" : ""}`}
            data-testid={`segment-${number}`}
            aria-current={active ? "true" : undefined}
          >
            <div className="cap-seg__head">
              <button
                type="button"
                className="cap-seg__badge"
                title="Select and go to its first frame"
                data-testid={`segment-select-${number}`}
                onClick={() => onSelect(s.key, true)}
              >
                {number}
              </button>
              <span className="cap-seg__frames">
                frames{" "}
                <FrameInput
                  value={s.start_frame}
                  label={`Segment ${number} first frame`}
                  testid={`segment-start-${number}`}
                  max={total - 1}
                  onCommit={(v) => onFrames(s.key, v, s.end_frame)}
                />
                –
                <FrameInput
                  value={s.end_frame}
                  label={`Segment ${number} last frame`}
                  testid={`segment-end-${number}`}
                  max={total - 1}
                  onCommit={(v) => onFrames(s.key, s.start_frame, v)}
                />
              </span>
              <span className="cap-seg__time" data-testid={`segment-time-${number}`}>
                {span(s.start_frame, s.end_frame, fps)}
              </span>
              <button
                type="button"
                className="btn btn-ghost cap-seg__delete"
                aria-label={`Delete segment ${number}`}
                title="Delete this segment"
                data-testid={`segment-delete-${number}`}
                onClick={() => onDelete(s.key)}
              >
                ✕
              </button>
            </div>
            <textarea
              ref={(el) => {
                if (el) boxes.current.set(s.key, el);
                else boxes.current.delete(s.key);
              }}
              className="cap-seg__caption"
              rows={2}
              value={s.caption}
              placeholder={active ? "What does the subject do? Enter saves and goes to the next segment." : "Caption"}
              aria-label={`Segment ${number} caption`}
              aria-invalid={problems.length > 0}
              data-testid={`segment-caption-${number}`}
              onFocus={() => {
                if (!active) onSelect(s.key, false);
              }}
              onChange={(e) => onCaption(s.key, e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey && !e.nativeEvent.isComposing) {
                  e.preventDefault();
                  onEnter();
                } else if (e.key === "Escape") {
                  e.preventDefault();
                  e.stopPropagation();
                  onEscape();
                }
              }}
            />
            <div className="cap-seg__foot">
              <span className={`cap-seg__count${lengthClass}`} data-testid={`segment-count-${number}`}>
                {length} / {maxChars}
                {length > 0 && length < minChars ? ` (at least ${minChars})` : ""}
              </span>
            </div>
            {problems.map((p) => (
              <p key={p} className="cap-problem" role="alert" data-testid={`segment-problem-${number}`}>
                {p}
              </p>
            ))}
          </li>
        );
      })}
    </ol>
  );
}
