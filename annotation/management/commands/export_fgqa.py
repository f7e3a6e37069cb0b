from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from annotation.management.export_cli import export_errors, progress_bar, summary
from annotation.models import ProjectKind
from annotation.selectors.exports import project_for_export
from annotation.services.exports import (
    FGQA_SPLITS,
    FILE_FORMATS,
    export_destination,
    fgqa_export,
)


class Command(BaseCommand):
    help = (
        "Export ACCEPTED FGQA questions of one split: train as PLM-Video-Human fgqa, test as "
        "PLM-VideoBench fgqa (one binary row per verified distractor, shared qa_uid), plus "
        "manifest.json. Same data, same bytes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--split", required=True, choices=FGQA_SPLITS)
        parser.add_argument("--format", dest="file_format", default="jsonl", choices=FILE_FORMATS)
        parser.add_argument("--out", required=True, metavar="DIR|s3://bucket/prefix")
        parser.add_argument(
            "--project", help="project name (default: the only FGQA project, if just one)"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        with export_errors():
            project = project_for_export(name=opts["project"], kind=ProjectKind.FGQA)
            destination = export_destination(opts["out"])
            with progress_bar(f"{project.name} {opts['split']}") as progress:
                result = fgqa_export(
                    project=project,
                    split=opts["split"],
                    destination=destination,
                    file_format=opts["file_format"],
                    progress=progress,
                )
        self.stdout.write(summary(result, opts["out"]))
