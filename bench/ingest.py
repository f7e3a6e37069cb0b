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
from collections.abc import Callable
from functools import partial
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


def _timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds of this process (every thread: PyAV and x264 run their own)
    and the result of ``run()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _decode(path: Path) -> None:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            frame.to_ndarray(format="bgr24")


def _ingest(path: Path, fps: float, index: int) -> Any:
    from annotation.models import Project
    from annotation.services.ingest import video_ingest_file

    project = Project.objects.create(name=f"bench-ingest-{index}", annotation_fps=fps)
    outcomes = video_ingest_file(project=project, path=path)
    if len(outcomes) != 1 or outcomes[0].error or outcomes[0].video is None:
        raise SystemExit(f"{path.name}: ingest failed: {[o.error for o in outcomes]}")
    return outcomes[0].video


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
        load = os.getloadavg()[0]
        print(
            f"inline ingest (embedded default: SQLite, local files), annotation fps {args.fps:g}, "
            f"{os.cpu_count()} CPUs, load average {load:.1f} at start"
        )
        header = (
            f"{'video':<12} {'size':>9} {'fps':>6} {'frames':>6} {'annot':>5} {'duration':>8} | "
            f"{'ingest':>7} {'speed':>6} {'CPU':>7} {'speed/CPU':>9} | "
            f"{'decode':>7} {'speed':>6} {'CPU':>7} | {'ingest/decode CPU':>17}"
        )
        print(header)
        print("-" * len(header))
        totals = [0.0, 0.0, 0.0]
        for index, path in enumerate(videos):
            decode_wall, decode_cpu, _ = _timed(partial(_decode, path))
            wall, cpu, video = _timed(partial(_ingest, path, args.fps, index))
            duration = float(video.duration or 0.0)
            for i, value in enumerate((duration, wall, cpu)):
                totals[i] += value
            print(
                f"{path.name[:12]:<12} {video.width:>4}x{video.height:<4} "
                f"{video.source_fps:>6.2f} {video.source_frame_count:>6} "
                f"{video.annotation_frame_count:>5} {duration:>7.2f}s | "
                f"{wall:>6.2f}s {duration / wall:>5.1f}x {cpu:>6.2f}s {duration / cpu:>8.1f}x | "
                f"{decode_wall:>6.2f}s {duration / decode_wall:>5.1f}x {decode_cpu:>6.2f}s | "
                f"{cpu / decode_cpu:>16.1f}x",
                flush=True,
            )
        duration, wall, cpu = totals
        print("-" * len(header))
        print(
            f"{'all':<12} {'':>9} {'':>6} {'':>6} {'':>5} {duration:>7.2f}s | "
            f"{wall:>6.2f}s {duration / wall:>5.1f}x {cpu:>6.2f}s {duration / cpu:>8.1f}x |"
        )
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(
        "speed = video duration / wall time (above 1x is faster than real time); speed/CPU = "
        "duration / CPU seconds of the process (all its threads), what one core does with the "
        "machine to itself; decode = a bare PyAV decode to BGR of the same file, the floor; "
        "ingest/decode CPU = ingest's cost over that floor."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
