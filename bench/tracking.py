"""Tracking benchmark: quality and speed of a bare tracking engine on a synthetic clip.

    python -m bench.tracking [--width 960 --height 540 --seconds 10 --seed 1]
    python -m bench.tracking --engine sam2 --sam2-checkpoint /models/sam2.1_hiera_tiny.pt

Prints, for a generated clip with exact truth: mean IoU per object from one click on the
first frame it is visible and after one corrective click on its worst frame (the worst frame
with an error at least 4 px deep, clicked in the middle of the biggest error), click latency,
propagation speed with every object in one pass and with one object, and COCO RLE encode /
decode time per 1280x720 mask. Nothing here goes through Django, Celery or the database: this
is the bare engine (the pipeline's overhead is measured elsewhere, against these numbers).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from workers import rle, synthetic
from workers.engine import (
    EngineSession,
    EngineUnavailable,
    FrameSource,
    Prompt,
    TrackingEngine,
    get_engine,
)

ANNOTATION_FPS = 6.0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        engine = get_engine(args.engine, **_engine_options(args))
    except EngineUnavailable as exc:
        print(f"tracking benchmark: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-tracking-") as tmp:
        started = time.perf_counter()
        video = synthetic.generate(
            Path(tmp) / "clip.mp4",
            width=args.width,
            height=args.height,
            fps=args.fps,
            frames=round(args.fps * args.seconds),
            seed=args.seed,
        )
        generated = time.perf_counter() - started
        frames = synthetic.write_annotation_frames(
            video.path, Path(tmp) / "frames", annotation_fps=ANNOTATION_FPS
        )
        truth = video.annotation_truth(ANNOTATION_FPS)
        print(
            f"clip: {args.width}x{args.height}, {args.seconds:g} s at {args.fps:g} fps, seed "
            f"{args.seed}: {frames.count} annotation frames at {ANNOTATION_FPS:g} fps, "
            f"{len(video.objects)} objects (generated in {generated:.1f} s)"
        )
        print(f"engine: {engine.name} ({engine.model_version})\n")

        results = [_object_quality(engine, frames, truth, o.object_id) for o in video.objects]
        _table(
            ["object", "one click", "+1 correction", "worst frame"],
            [
                [
                    obj.name,
                    f"{r.one_click:.3f}",
                    "-" if r.corrected is None else f"{r.corrected:.3f}",
                    r.worst,
                ]
                for obj, r in zip(video.objects, results, strict=True)
            ]
            + [
                [
                    "mean",
                    f"{np.mean([r.one_click for r in results]):.3f}",
                    f"{np.mean([r.corrected or r.one_click for r in results]):.3f}",
                    "",
                ]
            ],
        )
        print()

        all_fps = _propagate_all(engine, frames, truth)
        single_fps = statistics.median(r.fps for r in results)
        encode_ms, decode_ms = _rle_speed(truth)
        _table(
            ["measure", "value", "ratio"],
            [
                [
                    "click latency, median",
                    f"{1000 * statistics.median(r.click_s for r in results):.0f} ms",
                    "",
                ],
                [
                    f"propagation, {len(video.objects)} objects in one pass",
                    f"{all_fps:.1f} frames/s",
                    f"{all_fps / ANNOTATION_FPS:.1f}x real time",
                ],
                [
                    "propagation, one object (median)",
                    f"{single_fps:.1f} frames/s",
                    f"{single_fps / ANNOTATION_FPS:.1f}x real time",
                ],
                ["RLE encode, 1280x720 mask", f"{encode_ms:.2f} ms", ""],
                ["RLE decode, 1280x720 mask", f"{decode_ms:.2f} ms", ""],
            ],
        )
    return 0


@dataclass(frozen=True)
class _Quality:
    one_click: float  # mean IoU over the clip
    corrected: float | None  # after one corrective click; None when no error was clickable
    worst: str
    click_s: float
    fps: float  # one object, both directions from its first visible frame


def _object_quality(
    engine: TrackingEngine, frames: FrameSource, truth: list[dict[int, np.ndarray]], object_id: int
) -> _Quality:
    start = next(k for k, masks in enumerate(truth) if masks[object_id].any())
    session = engine.open_session(frames)
    try:
        point = synthetic.interior_point(truth[start][object_id])
        first = Prompt(frame=start, object_id=object_id, points=[list(point or (0, 0))], labels=[1])
        t0 = time.perf_counter()
        session.add_prompt(first)
        click_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        masks = _collect(session, object_id, start, frames.count)
        fps = frames.count / (time.perf_counter() - t0)
        before = _ious(masks, truth, object_id)
        correction = _corrective_prompt(masks, truth, object_id, before)
        if correction is None:
            return _Quality(float(np.mean(before)), None, "no error to click", click_s, fps)
        session.add_prompt(correction)
        after = _ious(_collect(session, object_id, start, frames.count), truth, object_id)
        kind = "positive" if correction.labels[0] else "negative"
        worst = f"{correction.frame} ({before[correction.frame]:.2f}, {kind})"
        return _Quality(float(np.mean(before)), float(np.mean(after)), worst, click_s, fps)
    finally:
        session.close()


def _propagate_all(
    engine: TrackingEngine, frames: FrameSource, truth: list[dict[int, np.ndarray]]
) -> float:
    session = engine.open_session(frames)
    try:
        for object_id in truth[0]:
            start = next(k for k, masks in enumerate(truth) if masks[object_id].any())
            point = synthetic.interior_point(truth[start][object_id])
            session.add_prompt(
                Prompt(frame=start, object_id=object_id, points=[list(point or (0, 0))], labels=[1])
            )
        t0 = time.perf_counter()
        count = sum(1 for _ in session.propagate(start_frame=0, direction="forward"))
        return count / (time.perf_counter() - t0)
    finally:
        session.close()


def _collect(session: EngineSession, object_id: int, start: int, count: int) -> list[np.ndarray]:
    got = {f: m[object_id] for f, m in session.propagate(start_frame=start, direction="both")}
    return [got[k] for k in range(count)]


def _ious(
    masks: list[np.ndarray], truth: list[dict[int, np.ndarray]], object_id: int
) -> list[float]:
    out = []
    for mask, frame_truth in zip(masks, truth, strict=True):
        union = np.count_nonzero(mask | frame_truth[object_id])
        out.append(1.0 if union == 0 else np.count_nonzero(mask & frame_truth[object_id]) / union)
    return out


def _depth(mask: np.ndarray) -> float:
    if not mask.any():
        return 0.0
    return float(cv2.distanceTransform(np.pad(mask.view(np.uint8), 1), cv2.DIST_L2, 5).max())


def _corrective_prompt(
    masks: list[np.ndarray], truth: list[dict[int, np.ndarray]], object_id: int, ious: list[float]
) -> Prompt | None:
    """The click an annotator would add: on the worst frame, in the middle of the biggest
    error (positive on a missed part, negative on a wrong one); errors too thin to click
    (under 4 px deep) are not counted."""

    def errors(k: int) -> tuple[np.ndarray, np.ndarray]:
        return truth[k][object_id] & ~masks[k], masks[k] & ~truth[k][object_id]

    clickable = [k for k in range(len(masks)) if max(_depth(e) for e in errors(k)) >= 4]
    if not clickable:
        return None
    worst = min(clickable, key=lambda k: ious[k])
    missed, extra = errors(worst)
    label = 1 if _depth(missed) >= _depth(extra) else 0
    point = synthetic.interior_point(missed if label else extra)
    return Prompt(frame=worst, object_id=object_id, points=[list(point or (0, 0))], labels=[label])


def _rle_speed(truth: list[dict[int, np.ndarray]], repeat: int = 3) -> tuple[float, float]:
    """Median milliseconds to encode / decode one 1280x720 mask (the clip's masks scaled up,
    so the shapes and the share of empty masks are those of real tracks)."""
    masks = [
        cv2.resize(m.view(np.uint8), (1280, 720), interpolation=cv2.INTER_NEAREST).view(np.bool_)
        for frame in truth
        for m in frame.values()
    ]
    encode, decode = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        encoded = [rle.encode(m) for m in masks]
        encode.append((time.perf_counter() - t0) / len(masks))
        t0 = time.perf_counter()
        for r in encoded:
            rle.decode(r)
        decode.append((time.perf_counter() - t0) / len(masks))
    return 1000 * statistics.median(encode), 1000 * statistics.median(decode)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [list(header), *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def _engine_options(args: argparse.Namespace) -> dict[str, object]:
    if args.engine == "cpu":
        return {}
    return {
        "config": args.sam2_config,
        "checkpoint": args.sam2_checkpoint,
        "device": args.sam2_device,
        "image_size": args.sam2_image_size,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tracking", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--width", type=int, default=960)
    parser.add_argument("--height", type=int, default=540)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", choices=["cpu", "sam2"], default="cpu")
    parser.add_argument("--sam2-config", default="configs/sam2.1/sam2.1_hiera_t.yaml")
    parser.add_argument("--sam2-checkpoint", default=None)
    parser.add_argument("--sam2-device", default="auto", choices=["auto", "cuda", "cpu"])
    parser.add_argument("--sam2-image-size", type=int, default=0)
    return parser


if __name__ == "__main__":
    sys.exit(main())
