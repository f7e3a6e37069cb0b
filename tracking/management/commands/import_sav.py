from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from annotation.errors import ServiceError
from annotation.models import Project
from tracking.models import Masklet
from tracking.services.sav import SavFile, sav_import, sav_video_resolve


class Command(BaseCommand):
    help = (
        "Import SA-V annotation files (sav_*_manual.json, sav_*_auto.json) into a video as "
        "candidate masklets: SA-V's 6 fps frames mapped onto the video's annotation frames, RLEs "
        "kept byte-exact, SA-V metadata recorded, a motion score for ranking. All files or none; "
        "a file already imported into the video is skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE_manual.json|FILE_auto.json")
        parser.add_argument("--project", required=True, help="project name")
        parser.add_argument(
            "--video",
            required=True,
            metavar="PATH_OR_ID",
            help="video id in the project, or a video file (ingested first unless it already is)",
        )
        parser.add_argument("--json", action="store_true", help="one JSON object per masklet")

    def handle(self, *args: Any, **opts: Any) -> None:
        project = Project.objects.filter(name=opts["project"]).first()
        if project is None:
            raise CommandError(f"project {opts['project']!r} does not exist")
        bar = tqdm(total=0, unit="masklet", disable=None, file=sys.stderr, desc="import SA-V")

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            files = [SavFile.read(path) for path in opts["files"]]
            video = sav_video_resolve(project=project, video=opts["video"])
            result = sav_import(video=video, files=files, progress=progress)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        finally:
            bar.close()
        for note in result.skipped:
            self.stderr.write(note)
        for masklet in result.masklets:
            if opts["json"]:
                self.stdout.write(json.dumps(_row(masklet)))
        if not opts["json"]:
            ranked = sorted(result.masklets, key=lambda m: -(m.motion_score or 0.0))
            for masklet in ranked:
                row = _row(masklet)
                self.stdout.write(
                    f"masklet {row['object_id']:>3} ({row['source']} #{row['sav_masklet_id']}, "
                    f"{row['sav_file']}): frames {row['first_visible_frame']}-"
                    f"{row['last_visible_frame']}, motion {row['motion_score']:.4f}"
                )
            skipped = len(result.skipped)
            self.stdout.write(
                f"{len(result.masklets)} masklets imported into video #{video.pk} "
                f"({video.name}), {skipped} file{'' if skipped == 1 else 's'} skipped"
            )


def _row(masklet: Masklet) -> dict[str, Any]:
    revision = masklet.current_revision
    metadata = masklet.source_metadata
    return {
        "id": masklet.pk,
        "video": masklet.video_id,
        "object_id": masklet.object_id,
        "source": masklet.source,
        "status": masklet.status,
        "sav_file": metadata.get("sav_file"),
        "sav_masklet_id": metadata.get("masklet_id"),
        "motion_score": masklet.motion_score,
        "frames": len(revision.masks) if revision else 0,
        "first_visible_frame": revision.first_visible_frame if revision else None,
        "last_visible_frame": revision.last_visible_frame if revision else None,
        "revision": revision.pk if revision else None,
    }
