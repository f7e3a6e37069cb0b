"""Ingest speed: each real video through the inline ingest service, as a multiple of real time.

    python -m bench.ingest [VIDEO ...] [--fps 6]
    .venv/bin/python bench/ingest.py

By default it ingests every file in ``../shared/data/videos`` into a throwaway data folder with
its own SQLite database (the embedded default), one fresh project per video. Per video it prints
the video's duration, the wall time of ``video_ingest_file`` (hash, probe, store the source,
decode once, annotation-frame JPEGs, H.264 proxy, thumbnail, database rows) and the speed as a
multiple of real time (duration / wall), side by side with a bare PyAV decode of the same file
(the floor any ingest pays) and ingest's cost over that floor.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VIDEOS = ROOT.parent / "shared" / "data" / "videos"


def _setup(data_dir: str) -> None:
    os.environ.update(
        TUBELET_DATA_DIR=data_dir,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghij"),
        LOG_LEVEL="WARNING",
    )
    for name in ("DATABASE_URL", "REDIS_URL", "S3_BUCKET"):
        os.environ.pop(name, None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _decode_seconds(path: Path) -> float:
    import av

    started = time.perf_counter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            frame.to_ndarray(format="bgr24")
    return time.perf_counter() - started


def _ingest(path: Path, fps: float, index: int) -> tuple[float, Any]:
    from annotation.models import Project
    from annotation.services.ingest import video_ingest_file

    project = Project.objects.create(name=f"bench-ingest-{index}", annotation_fps=fps)
    started = time.perf_counter()
    outcomes = video_ingest_file(project=project, path=path)
    wall = time.perf_counter() - started
    if len(outcomes) != 1 or outcomes[0].error or outcomes[0].video is None:
        raise SystemExit(f"{path.name}: ingest failed: {[o.error for o in outcomes]}")
    return wall, outcomes[0].video


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest", description=__doc__.split("\n")[0]
    )
    parser.add_argument("videos", nargs="*", type=Path, help=f"default: {DEFAULT_VIDEOS}/*")
    parser.add_argument("--fps", type=float, default=6.0, help="annotation fps of the project")
    args = parser.parse_args(argv)
    videos = args.videos or sorted(
        p for p in DEFAULT_VIDEOS.glob("*") if p.is_file() and not p.name.startswith(".")
    )
    if not videos:
        print(f"ingest benchmark: no videos given and none in {DEFAULT_VIDEOS}", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="tubelet-bench-ingest-") as data_dir:
        _setup(data_dir)
        print(
            f"inline ingest (embedded default: SQLite, local files), annotation fps {args.fps:g}, "
            f"{os.cpu_count()} CPUs"
        )
        header = (
            f"{'video':<14} {'size':>9} {'fps':>6} {'frames':>6} {'annot':>5} "
            f"{'duration':>8} | {'ingest':>7} {'speed':>8} | {'decode':>7} {'speed':>8} | "
            f"{'ingest/decode':>13}"
        )
        print(header)
        print("-" * len(header))
        total_duration = total_wall = 0.0
        for index, path in enumerate(videos):
            decode = _decode_seconds(path)
            wall, video = _ingest(path, args.fps, index)
            duration = float(video.duration or 0.0)
            total_duration += duration
            total_wall += wall
            print(
                f"{path.name[:14]:<14} {video.width:>4}x{video.height:<4} "
                f"{video.source_fps:>6.2f} {video.source_frame_count:>6} "
                f"{video.annotation_frame_count:>5} {duration:>7.2f}s | "
                f"{wall:>6.2f}s {duration / wall:>7.1f}x | {decode:>6.2f}s "
                f"{duration / decode:>7.1f}x | {wall / decode:>12.1f}x",
                flush=True,
            )
        print("-" * len(header))
        print(
            f"{'all':<14} {'':>9} {'':>6} {'':>6} {'':>5} {total_duration:>7.2f}s | "
            f"{total_wall:>6.2f}s {total_duration / total_wall:>7.1f}x |"
        )
    print(
        "speed = video duration / wall time (above 1x is faster than real time); decode = a "
        "bare PyAV decode to BGR of the same file; ingest/decode = ingest's cost over that floor."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
