"""Tracking benchmark: quality and speed of a bare tracking engine on a synthetic clip.

    python -m bench.tracking [--width 960 --height 540 --seconds 10 --seed 1]
    python -m bench.tracking --engine sam2 --sam2-checkpoint /models/sam2.1_hiera_tiny.pt

Prints, for a generated clip with exact truth: mean IoU per object from one click on the
first frame it is visible and after one corrective click on its worst frame (the worst frame
with an error at least 4 px deep, clicked in the middle of the biggest error), click latency,
propagation speed with every object in one pass and with one object, and COCO RLE encode /
decode time per 1280x720 mask. Up to there nothing goes through Django, Celery or the
database: this is the bare engine.

Then the pipeline's overhead on the same clip: the clip is ingested into a throwaway data
folder (SQLite and file cache, the embedded default; ``--db postgres`` and ``--redis-url`` for
a throwaway PostgreSQL database and Redis, as deployed), one masklet per object gets its click,
and the real job runner (``tracking.services.jobs.tracking_job_run``: session, per-frame RLE
encode, frames published for the UI, progress writes, revisions committed) is timed against
the same engine's bare ``propagate`` over the same frames, objects and prompts (target:
pipeline / bare <= 1.10). "cold" opens a new session and applies the clicks on both
sides; "warm" propagates on an open session (the usual case after interactive clicks). After
one untimed pipeline run (first-use costs a long-running worker pays once), medians of
``--repeat`` rounds of cold bare, cold pipeline, warm bare, warm pipeline. Wall time suffers
from anything else the machine runs; the CPU ratio (this process's CPU seconds) much less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
ROOT = Path(__file__).resolve().parent.parent


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
        if args.pipeline_only:
            _pipeline_overhead(args, video, truth)
            return 0

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
        if not args.no_pipeline:
            print()
            _pipeline_overhead(args, video, truth)
    return 0


# --- pipeline over bare engine -----------------------------------------------------------------


def _django_setup(args: argparse.Namespace, data_dir: str, database_url: str | None) -> None:
    os.environ.update(
        TUBELET_DATA_DIR=data_dir,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghij"),
        LOG_LEVEL="WARNING",
        CACHE_KEY_PREFIX=f"bench-tracking-{os.getpid()}",
        TRACKER=args.engine,
        SAM2_CONFIG=args.sam2_config,
        SAM2_CHECKPOINT=args.sam2_checkpoint or "",
        SAM2_DEVICE=args.sam2_device,
        SAM2_IMAGE_SIZE=str(args.sam2_image_size),
    )
    for name, value in (("DATABASE_URL", database_url), ("REDIS_URL", args.redis_url)):
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    os.environ.pop("S3_BUCKET", None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _database(args: argparse.Namespace) -> AbstractContextManager[str | None]:
    """None for the embedded SQLite, else the URL of a fresh PostgreSQL database dropped after."""
    from bench.throwaway import database_for

    return database_for(args.db, args.postgres_url, "tracking")


def _timed(run: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds (all threads of this process) of ``run()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def _pipeline_overhead(
    args: argparse.Namespace, clip: synthetic.SyntheticVideo, truth: list[dict[int, np.ndarray]]
) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="bench-tracking-django-") as data_dir,
        _database(args) as database_url,
    ):
        _django_setup(args, data_dir, database_url)
        from annotation.models import Project
        from annotation.services.ingest import video_ingest_file
        from tracking.models import Masklet, TrackingJob
        from tracking.models import Prompt as StoredPrompt
        from tracking.services.engines import (
            frames_source,
            session_registry,
            stored_prompts,
            tracking_engine,
        )
        from tracking.services.jobs import tracking_job_run

        project = Project.objects.create(name="bench-tracking", annotation_fps=ANNOTATION_FPS)
        outcome = video_ingest_file(project=project, path=clip.path)[0]
        if outcome.error or outcome.video is None:
            raise SystemExit(f"tracking benchmark: ingest of the clip failed: {outcome.error}")
        video = outcome.video
        if video.annotation_frame_count != len(truth):
            raise SystemExit(
                f"tracking benchmark: ingest made {video.annotation_frame_count} annotation "
                f"frames, the clip's truth has {len(truth)}"
            )
        ids = []
        for object_id in truth[0]:
            start = next(k for k, masks in enumerate(truth) if masks[object_id].any())
            point = synthetic.interior_point(truth[start][object_id]) or (0, 0)
            masklet = Masklet.objects.create(video=video, object_id=object_id)
            StoredPrompt.objects.create(
                masklet=masklet, frame=start, points=[list(point)], labels=[1]
            )
            ids.append(masklet.pk)
        engine = tracking_engine(args.engine)
        prompts = stored_prompts(video_id=video.pk)
        count = video.annotation_frame_count
        bare_session: Any = None

        def bare_open() -> None:
            nonlocal bare_session
            bare_session = engine.open_session(frames_source(video))
            for prompt in prompts:
                bare_session.add_prompt(prompt)

        def bare_propagate() -> None:
            frames = bare_session.propagate(start_frame=0, direction="forward", object_ids=ids)
            if sum(1 for _ in frames) != count:
                raise SystemExit("tracking benchmark: the bare engine skipped frames")

        def pipeline() -> None:
            job = TrackingJob.objects.create(
                video=video, engine=engine.name, start_frame=0, direction="forward",
                frames_total=count,
            )  # fmt: skip
            job.masklets.set(ids)
            status = tracking_job_run(job_id=job.pk, hostname="bench@localhost")
            if status != "succeeded":
                job.refresh_from_db()
                raise SystemExit(f"tracking benchmark: the job ended {status}: {job.error}")

        def bare_cold() -> None:
            if bare_session is not None:
                bare_session.close()
            bare_open()
            bare_propagate()

        def pipeline_cold() -> None:
            session_registry().close(video.pk)
            pipeline()

        # Untimed: process-wide first-use costs (imports, connections, the frames in the page
        # cache) that a long-running worker pays once, not per job.
        pipeline_cold()
        cold_bare, cold_pipe, warm_bare, warm_pipe = [], [], [], []
        for _ in range(args.repeat):
            cold_bare.append(_timed(bare_cold))
            cold_pipe.append(_timed(pipeline_cold))
            warm_bare.append(_timed(bare_propagate))
            warm_pipe.append(_timed(pipeline))
        bare_session.close()
        session_registry().close_all()
        revisions = Masklet.objects.filter(pk__in=ids).values_list(
            "current_revision__number", flat=True
        )
        if set(revisions) != {1 + 2 * args.repeat}:
            raise SystemExit(f"tracking benchmark: unexpected revision numbers {sorted(revisions)}")
        from django.db import connections

        connections.close_all()

    backend = (
        f"{'PostgreSQL' if args.db == 'postgres' else 'SQLite'}, "
        f"{'Redis' if args.redis_url else 'file'} cache"
    )
    print(
        f"pipeline over bare engine ({engine.name}), {count} frames x {len(ids)} objects, "
        f"forward from frame 0, {backend}, medians of {args.repeat} runs:"
    )

    def median(runs: list[tuple[float, float]], i: int) -> float:
        return statistics.median(r[i] for r in runs)

    rows = []
    for label, bare, pipe in (
        ("cold: open + clicks + propagate", cold_bare, cold_pipe),
        ("warm: propagate", warm_bare, warm_pipe),
    ):
        rows.append(
            [
                label,
                f"{median(bare, 0):.2f} s",
                f"{median(pipe, 0):.2f} s",
                f"{median(pipe, 0) / median(bare, 0):.3f}",
                f"{median(pipe, 1) / median(bare, 1):.3f}",
            ]
        )
    _table(["run", "bare", "pipeline", "wall ratio", "CPU ratio"], rows)
    print("target: pipeline / bare <= 1.10 (CPU ratio = process CPU time, all threads)")


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
    parser.add_argument(
        "--no-pipeline", action="store_true", help="skip the pipeline-over-engine measure"
    )
    parser.add_argument(
        "--pipeline-only", action="store_true", help="only the pipeline-over-engine measure"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds of pipeline/bare runs")
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="pipeline database: a throwaway SQLite file or PostgreSQL database",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="server to create the throwaway PostgreSQL database on",
    )
    parser.add_argument(
        "--redis-url", default=None, help="pipeline cache (default: the embedded file cache)"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
