from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.models import ProjectKind
from annotation.services.projects import project_create


class Command(BaseCommand):
    help = "Create a project (kind stc or fgqa)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--kind", choices=ProjectKind.values, default=ProjectKind.STC)
        parser.add_argument(
            "--fps",
            type=float,
            default=None,
            help="annotation fps (default: the DEFAULT_ANNOTATION_FPS setting)",
        )
        parser.add_argument("--guidelines", default="", help="guidelines text or @file")

    def handle(self, *args: Any, **opts: Any) -> None:
        guidelines = opts["guidelines"]
        if guidelines.startswith("@"):
            try:
                with open(guidelines[1:], encoding="utf-8") as fh:
                    guidelines = fh.read()
            except OSError as exc:
                raise CommandError(f"cannot read guidelines file: {exc}") from None
        try:
            project = project_create(
                name=opts["name"],
                kind=opts["kind"],
                annotation_fps=opts["fps"],
                guidelines=guidelines,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"project #{project.pk} {project.name} ({project.kind}, {project.annotation_fps} fps)"
        )
