from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from annotation.errors import ServiceError
from annotation.models import Video
from tracking.services.batch import prompts_file_read, sav_layout, video_track


class Command(BaseCommand):
    help = (
        "Pre-annotate a video: create one masklet per object_id of a prompts file "
        '([{"object_id", "frame", "points", "labels", "box"}, ...], pixels of the annotation '
        "frame), track them through the whole video in this process and store them (all or "
        "nothing); --out writes the masks in SA-V's layout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--video", required=True, type=int, help="video id")
        parser.add_argument("--prompts", required=True, help="prompts JSON file")
        parser.add_argument(
            "--engine", choices=["cpu", "sam2"], default=None, help="default: the TRACKER setting"
        )
        parser.add_argument("--out", help="write the masklets as SA-V layout JSON here")
        parser.add_argument("--json", action="store_true", help="print a JSON summary")

    def handle(self, *args: Any, **opts: Any) -> None:
        video = Video.objects.filter(pk=opts["video"]).first()
        if video is None:
            raise CommandError(f"video {opts['video']} does not exist")
        engine = opts["engine"] or settings.TRACKER
        bar = tqdm(total=video.annotation_frame_count, unit="frame", desc="track", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            prompts = prompts_file_read(video=video, path=opts["prompts"])
            result = video_track(
                video=video, prompts=prompts, engine_name=engine, progress=progress
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        finally:
            bar.close()
        if opts["out"]:
            _write_json(Path(opts["out"]), sav_layout(result))
        summary = {
            "video": video.pk,
            "engine": result.engine,
            "model_version": result.model_version,
            "job": result.job.pk,
            "frames": video.annotation_frame_count,
            "out": opts["out"],
            "masklets": [
                {
                    "id": m.pk,
                    "object_id": m.object_id,
                    "revision": r.number,
                    "first_visible_frame": r.first_visible_frame,
                    "last_visible_frame": r.last_visible_frame,
                    "visible_frames": sum(1 for a in r.areas if a),
                }
                for m, r in zip(result.masklets, result.revisions, strict=True)
            ],
        }
        if opts["json"]:
            self.stdout.write(json.dumps(summary))
            return
        for row in summary["masklets"]:
            self.stdout.write(
                f"masklet {row['id']} (object {row['object_id']}): revision {row['revision']}, "
                f"visible on {row['visible_frames']}/{summary['frames']} frames "
                f"({row['first_visible_frame']}..{row['last_visible_frame']})"
            )
        if opts["out"]:
            self.stdout.write(f"wrote {opts['out']}")


def _write_json(path: Path, document: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w") as f:
            json.dump(document, f, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
