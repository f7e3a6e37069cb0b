"""Export throughput and memory: the streaming PLM-STC export vs a naive ORM-and-json baseline.

    python -m bench.export [--sizes 10000,100000,1000000] [--db sqlite|postgres]

For each size N it generates N verified caption records (accepted masklets, 3 captions and one
out-of-frame stretch each, 4 masklets a video) into a throwaway database (a SQLite file, the
embedded default, or a fresh PostgreSQL database that is dropped afterwards), then measures,
each in its own process so peak memory is that run's alone:

- tubelet, first export: rcap + rtloc + rdcap JSONL, including assigning the persistent uids;
- tubelet, re-export: the same (uids exist), JSONL and Parquet;
- naive: load every caption revision with its masklet and video as ORM objects, build all row
  dicts, ``json.dump`` one list per file.

Rows = rows written over the three files (7 per record). Memory = peak RSS of the process
minus its RSS just before the export started. Mask files (metadata, SA-V masklets) are left
out: their cost is RLE decoding per frame, not rows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RECORDS_PER_VIDEO = 4
FRAMES = 24
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"


# --- child process -----------------------------------------------------------------------------


def _setup(database_url: str, data_dir: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        TUBELET_DATA_DIR=data_dir,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghij"),
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("S3_BUCKET", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _rss_kb() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _peak_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def generate(records: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from annotation.models import CaptionRevision, Project, ProjectKind, Video, VideoStatus
    from tracking.models import Masklet, MaskletRevision, MaskletStatus

    call_command("migrate", verbosity=0)
    project = Project.objects.create(name="bench", kind=ProjectKind.STC)
    batch = 20_000
    verbs = ["walks in", "picks up a cup", "sits down", "waves", "turns around", "leaves"]
    for start in range(0, records, batch):
        stop = min(records, start + batch)
        first_video = start // RECORDS_PER_VIDEO
        last_video = (stop - 1) // RECORDS_PER_VIDEO
        videos, masklets, revisions, captions = [], [], [], []
        for v in range(first_video, last_video + 1):
            if v * RECORDS_PER_VIDEO >= start:
                videos.append(
                    Video(
                        id=v + 1,
                        project=project,
                        name=f"sav_{v:07d}.mp4",
                        original_name=f"sav_{v:07d}.mp4",
                        sha256=f"{v:064x}",
                        width=848,
                        height=480,
                        annotation_frame_count=FRAMES,
                        status=VideoStatus.READY,
                        split="test",
                    )
                )
        for i in range(start, stop):
            masklets.append(
                Masklet(
                    id=i + 1,
                    video_id=i // RECORDS_PER_VIDEO + 1,
                    object_id=i % RECORDS_PER_VIDEO,
                    status=MaskletStatus.ACCEPTED,
                )
            )
            revisions.append(MaskletRevision(id=i + 1, masklet_id=i + 1, number=1, engine="bench"))
            a, b, c = (verbs[(i + k) % len(verbs)] for k in range(3))
            captions.append(
                CaptionRevision(
                    id=i + 1,
                    masklet_id=i + 1,
                    number=1,
                    masklet_revision_id=i + 1,
                    segments=[
                        {"start_frame": 0, "end_frame": 5, "caption": f"The person {a}.",
                         "out_of_frame": False},
                        {"start_frame": 6, "end_frame": 9, "caption": "Out of frame.",
                         "out_of_frame": True},
                        {"start_frame": 10, "end_frame": 17, "caption": f"Then {b} slowly.",
                         "out_of_frame": False},
                        {"start_frame": 18, "end_frame": 23, "caption": f"Finally {c} ({i}).",
                         "out_of_frame": False},
                    ],
                )
            )  # fmt: skip
        with transaction.atomic():
            Video.objects.bulk_create(videos, batch_size=5000)
            Masklet.objects.bulk_create(masklets, batch_size=5000)
            MaskletRevision.objects.bulk_create(revisions, batch_size=5000)
            CaptionRevision.objects.bulk_create(captions, batch_size=5000)
    _reset_sequences()


def _reset_sequences() -> None:
    from django.core.management.color import no_style
    from django.db import connection

    from annotation.models import CaptionRevision, Video
    from tracking.models import Masklet, MaskletRevision

    sql = connection.ops.sequence_reset_sql(
        no_style(), [Video, Masklet, MaskletRevision, CaptionRevision]
    )
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


def measure_tubelet(out: str, file_format: str) -> dict[str, Any]:
    from annotation.exports.writers import LocalDirectory
    from annotation.models import Project
    from annotation.services.exports import stc_export

    project = Project.objects.get(name="bench")
    before = _rss_kb()
    started = time.perf_counter()
    result = stc_export(
        project=project,
        split="test",
        destination=LocalDirectory(out),
        file_format=file_format,
        masks=False,
    )
    seconds = time.perf_counter() - started
    return {"rows": result.total_rows, "seconds": seconds, "peak_kb": _peak_kb() - before}


def measure_naive(out: str) -> dict[str, Any]:
    """What an export looks like without streaming: everything in memory, then one dump."""
    from annotation.models import CaptionRevision, Project
    from annotation.services.exports import export_uids_assign
    from tracking.models import MaskletStatus

    project = Project.objects.get(name="bench")
    export_uids_assign(project=project, split="test")  # same uids as tubelet, not timed
    from annotation.models import ExportUid

    before = _rss_kb()
    started = time.perf_counter()
    revisions = list(
        CaptionRevision.objects.filter(
            masklet__video__project=project,
            masklet__video__split="test",
            masklet__status=MaskletStatus.ACCEPTED,
            needs_recheck=False,
        )
        .select_related("masklet__video")
        .order_by("masklet__video__name", "masklet__object_id")
    )
    uids = {(u.masklet_id, u.start_frame, u.end_frame): u.pk for u in ExportUid.objects.all()}
    rcap, rtloc, rdcap = [], [], []
    for revision in revisions:
        masklet, video = revision.masklet, revision.masklet.video
        base = {
            "video": video.name,
            "masklet_id": masklet.object_id,
            "total_frames": video.annotation_frame_count,
        }
        rdcap.append(
            {
                "uid": masklet.pk,
                **base,
                "dense_captions": [
                    {k: s[k] for k in ("start_frame", "end_frame", "caption")}
                    for s in revision.segments
                ],
            }
        )
        written = [s for s in revision.segments if not s["out_of_frame"]]
        texts = [s["caption"].lower().rstrip(".") for s in written]
        for segment in written:
            row = {
                "uid": uids[(masklet.pk, segment["start_frame"], segment["end_frame"])],
                **base,
                "caption": segment["caption"],
                "start_frame": segment["start_frame"],
                "end_frame": segment["end_frame"],
            }
            rcap.append(row)
            if texts.count(segment["caption"].lower().rstrip(".")) == 1:
                rtloc.append(row)
    for name, rows in (("rcap", rcap), ("rtloc", rtloc), ("rdcap", rdcap)):
        with open(Path(out) / f"plm_{name}_test.json", "w") as fh:
            json.dump(rows, fh)
    seconds = time.perf_counter() - started
    return {
        "rows": len(rcap) + len(rtloc) + len(rdcap),
        "seconds": seconds,
        "peak_kb": _peak_kb() - before,
    }


def child(args: argparse.Namespace) -> None:
    _setup(args.database_url, args.data_dir)
    if args.mode == "generate":
        generate(args.records)
        print(json.dumps({"ok": True}))
        return
    with tempfile.TemporaryDirectory(prefix="tubelet-bench-out-") as out:
        if args.mode == "naive":
            result = measure_naive(out)
        else:
            result = measure_tubelet(out, args.mode.split("-")[-1])
    print(json.dumps(result))


# --- parent ------------------------------------------------------------------------------------


def _run(mode: str, records: int, database_url: str, data_dir: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.export", "--child", mode, "--records", str(records),
               "--database-url", database_url, "--data-dir", data_dir]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"bench step {mode} at {records} records failed")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _database(kind: str, records: int, base_dir: str, pg_url: str) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite:///{base_dir}/bench_{records}.sqlite3", None
    from bench.throwaway import postgres_database

    return postgres_database(pg_url, f"{records}")


def _fmt(result: dict[str, Any] | None) -> tuple[str, str]:
    if result is None:
        return "skipped", "-"
    rate = result["rows"] / result["seconds"] if result["seconds"] else 0.0
    return f"{rate:,.0f}", f"{result['peak_kb'] / 1024:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                        help="comma-separated record counts")  # fmt: skip
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG),
                        help="server to create the throwaway databases on")  # fmt: skip
    parser.add_argument("--naive-max", type=int, default=1_000_000,
                        help="skip the naive baseline above this many records (it holds "
                        "everything in memory)")  # fmt: skip
    parser.add_argument("--child", dest="mode", help=argparse.SUPPRESS)
    parser.add_argument("--records", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        child(args)
        return

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    print(f"PLM-STC caption export (rcap + rtloc + rdcap, 7 rows a record) on {args.db}")
    header = (f"{'records':>9} {'rows':>9} | {'first rows/s':>12} {'MB':>7} | "
              f"{'jsonl rows/s':>12} {'MB':>7} | {'parquet rows/s':>14} {'MB':>7} | "
              f"{'naive rows/s':>12} {'MB':>8} | {'speed':>6} {'memory':>7}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for records in sizes:
        with tempfile.TemporaryDirectory(prefix="tubelet-bench-") as base:
            url, drop = _database(args.db, records, base, args.postgres_url)
            try:
                started = time.perf_counter()
                _run("generate", records, url, base)
                generated = time.perf_counter() - started
                first = _run("tubelet-jsonl", records, url, base)
                again = _run("tubelet-jsonl", records, url, base)
                parquet = _run("tubelet-parquet", records, url, base)
                naive = _run("naive", records, url, base) if records <= args.naive_max else None
            finally:
                if drop is not None:
                    drop()
        cells = [_fmt(r) for r in (first, again, parquet, naive)]
        if naive is not None:
            speed = (again["rows"] / again["seconds"]) / (naive["rows"] / naive["seconds"])
            memory = naive["peak_kb"] / max(again["peak_kb"], 1)
            ratios = f"{speed:>5.1f}x {memory:>6.0f}x"
        else:
            ratios = f"{'-':>6} {'-':>7}"
        print(f"{records:>9,} {again['rows']:>9,} | {cells[0][0]:>12} {cells[0][1]:>7} | "
              f"{cells[1][0]:>12} {cells[1][1]:>7} | {cells[2][0]:>14} {cells[2][1]:>7} | "
              f"{cells[3][0]:>12} {cells[3][1]:>8} | {ratios}   (generated in {generated:.0f} s)",
              flush=True)  # fmt: skip
    print("first = first export of the data (assigns the persistent uids); jsonl/parquet = "
          "re-exports; MB = peak RSS growth during the export; speed and memory = naive / "
          "tubelet re-export (JSONL).")  # fmt: skip


if __name__ == "__main__":
    main()
