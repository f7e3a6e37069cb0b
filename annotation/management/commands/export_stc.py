from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from annotation.management.export_cli import export_errors, progress_bar, summary
from annotation.models import ProjectKind
from annotation.selectors.exports import project_for_export
from annotation.services.exports import (
    FILE_FORMATS,
    STC_SPLITS,
    STC_TASKS,
    export_destination,
    stc_export,
)


class Command(BaseCommand):
    help = (
        "Export verified PLM-STC data of one split in the PLM-Video-Human / PLM-VideoBench "
        "layout: rcap/, rtloc/, rdcap/ files, metadata/metadata_<split>.jsonl (per-frame boxes), "
        "masklets/<video>.json (SA-V layout) and manifest.json. Same data, same bytes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--split", required=True, choices=STC_SPLITS)
        parser.add_argument("--task", default="all", choices=[*STC_TASKS, "all"])
        parser.add_argument("--format", dest="file_format", default="jsonl", choices=FILE_FORMATS)
        parser.add_argument("--out", required=True, metavar="DIR|s3://bucket/prefix")
        parser.add_argument(
            "--project", help="project name (default: the only PLM-STC project, if just one)"
        )
        parser.add_argument(
            "--no-masks",
            action="store_true",
            help="leave out metadata/ and masklets/ (caption files only)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        tasks = list(STC_TASKS) if opts["task"] == "all" else [opts["task"]]
        with export_errors():
            project = project_for_export(name=opts["project"], kind=ProjectKind.STC)
            destination = export_destination(opts["out"])
            with progress_bar(f"{project.name} {opts['split']}") as progress:
                result = stc_export(
                    project=project,
                    split=opts["split"],
                    destination=destination,
                    tasks=tasks,
                    file_format=opts["file_format"],
                    masks=not opts["no_masks"],
                    progress=progress,
                )
        self.stdout.write(summary(result, opts["out"]))
