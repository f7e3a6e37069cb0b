from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.errors import ServiceError
from annotation.models import Project
from annotation.services.fgqa import fgqa_import


class Command(BaseCommand):
    help = (
        "Import model-generated FGQA questions from JSONL, one object per line: the clip "
        '("clip": name | "video_id": id | "source_video_id" + "source_start_time" + '
        '"source_end_time"), "question", optional "model_answer", "distractors", "qa_id", '
        '"segment_id", "q_type", "q_subtype", "domain", "source_dataset", "what_description", '
        '"benchmark". All or nothing; rows with a known qa_id are skipped.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="JSONL file, or - for standard input")
        parser.add_argument("--project", required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        project = Project.objects.filter(name=opts["project"]).first()
        if project is None:
            raise CommandError(f"project {opts['project']!r} does not exist")
        try:
            if opts["file"] == "-":
                lines = sys.stdin.read().splitlines()
            else:
                with open(opts["file"], encoding="utf-8") as fh:
                    lines = fh.read().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {opts['file']}: {exc}") from None
        try:
            report = fgqa_import(project=project, lines=lines)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"imported {report.questions} questions for {len(report.clips)} clips "
            f"({report.skipped} already known, {report.tasks} new answering tasks)"
        )
