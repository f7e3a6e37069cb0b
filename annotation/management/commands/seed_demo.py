from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from annotation.services.demo import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = (
        "Create demo projects, one user per role and a synthetic video; with --complete also a "
        "complete, verified demo dataset (videos with masklets, captions through all three "
        "passes, FGQA with distractors, reviews, rejections and rework, gold, double "
        "annotation, splits). Safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=None, help="URL to print (default from HOST/PORT)")
        parser.add_argument(
            "--complete",
            action="store_true",
            help="also seed the complete, verified dataset for the dashboard and exports",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        with tqdm(total=100, desc="demo video", unit="%", disable=None) as bar:

            def progress(share: float) -> None:
                bar.n = int(share * 100)
                bar.refresh()

            with tqdm(desc="complete dataset", unit=" steps", disable=None) as steps:

                def step(what: str) -> None:
                    steps.set_postfix_str(what[:60], refresh=False)
                    steps.update(1)

                summary = demo_seed(progress=progress, complete=opts["complete"], step=step)
        url = opts["url"] or (
            f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}/"
        )
        made = ", ".join(summary.created) if summary.created else "nothing new (already seeded)"
        self.stdout.write(f"Demo data: {made}.")
        self.stdout.write("")
        self.stdout.write(f"  Open {url} and sign in as one of (password: {DEMO_PASSWORD}):")
        for username, role, superuser in summary.users:
            extra = " + site administrator" if superuser else ""
            self.stdout.write(f"    {username:<12} {role}{extra}")
        projects = ", ".join(p.name for p in summary.projects)
        self.stdout.write(f"  Projects: {projects}")
        for video in summary.videos:
            frames = video.annotation_frame_count
            self.stdout.write(f"  Video: {video.name} ({video.status}, {frames} annotation frames)")
