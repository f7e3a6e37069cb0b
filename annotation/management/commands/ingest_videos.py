from __future__ import annotations

import glob
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from annotation import media, storage
from annotation.models import Project
from annotation.services.ingest import IngestOutcome, video_ingest_file


@dataclass
class _Input:
    label: str
    path: Path | None = None
    s3: tuple[str, str] | None = None
    error: str = ""

    @property
    def name(self) -> str:
        return (
            os.path.basename(self.s3[1])
            if self.s3
            else (self.path.name if self.path else self.label)
        )


class Command(BaseCommand):
    help = (
        "Ingest videos into a project: probe, dedupe, frame index, annotation-frame JPEGs, "
        "browser proxy, thumbnail. Inputs are files, folders, globs or s3://bucket/prefix."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("inputs", nargs="+", metavar="PATH|GLOB|s3://bucket/prefix")
        parser.add_argument("--project", required=True, help="project name")
        parser.add_argument(
            "--async", dest="run_async", action="store_true", help="enqueue on the media queue"
        )
        parser.add_argument("--split-scenes", action="store_true", help="cut at scene changes")
        parser.add_argument("--max-clip-seconds", type=float, default=30.0)
        parser.add_argument("--json", action="store_true", help="one JSON object per video")

    def handle(self, *args: Any, **opts: Any) -> None:
        project = Project.objects.filter(name=opts["project"]).first()
        if project is None:
            raise CommandError(f"project {opts['project']!r} does not exist")
        if opts["max_clip_seconds"] <= 0:
            raise CommandError("--max-clip-seconds must be positive")
        items = list(self._expand(opts["inputs"]))
        outcomes: list[IngestOutcome] = []
        bar = tqdm(
            total=len(items) * 100,
            unit="%",
            disable=None,
            file=sys.stderr,
            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]",
        )
        try:
            for position, item in enumerate(items):
                bar.set_description(item.name[:40])

                def progress(share: float, base: int = position * 100) -> None:
                    bar.n = base + int(share * 100)
                    bar.refresh()

                results = self._ingest(item, project=project, opts=opts, progress=progress)
                for outcome in results:
                    self._report(outcome, as_json=opts["json"], bar=bar)
                outcomes.extend(results)
                bar.n = (position + 1) * 100
                bar.refresh()
        finally:
            bar.close()
        failed = [o for o in outcomes if o.error]
        if not opts["json"]:
            verb = "queued" if opts["run_async"] else "ingested"
            self.stderr.write(f"{len(outcomes) - len(failed)} {verb}, {len(failed)} failed")
        if failed:
            sys.exit(1)

    def _expand(self, inputs: list[str]) -> Iterator[_Input]:
        for raw in inputs:
            if raw.startswith("s3://"):
                yield from self._expand_s3(raw)
                continue
            path = Path(raw)
            if path.is_dir():
                files = sorted(
                    p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                )
                if not files:
                    yield _Input(label=raw, error="folder is empty")
                yield from (_Input(label=str(p), path=p) for p in files)
            elif path.is_file():
                yield _Input(label=raw, path=path)
            elif glob.has_magic(raw):
                matches = sorted(Path(p) for p in glob.glob(raw) if Path(p).is_file())
                if not matches:
                    yield _Input(label=raw, error="no files match this pattern")
                yield from (_Input(label=str(p), path=p) for p in matches)
            else:
                yield _Input(label=raw, error="no such file or folder")

    def _expand_s3(self, url: str) -> Iterator[_Input]:
        try:
            bucket, prefix = storage.parse_s3_url(url)
            client = storage.s3_client()
            paginator = client.get_paginator("list_objects_v2")
            keys = [
                obj["Key"]
                for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
                for obj in page.get("Contents", [])
                if not obj["Key"].endswith("/")
            ]
        except Exception as exc:  # boto3 raises many types; the user needs the message
            yield _Input(label=url, error=f"cannot list {url}: {exc}")
            return
        if not keys:
            yield _Input(label=url, error="no objects under this prefix")
        for key in sorted(keys):
            yield _Input(label=f"s3://{bucket}/{key}", s3=(bucket, key))

    @contextmanager
    def _local(self, item: _Input) -> Iterator[Path]:
        if item.path is not None:
            yield item.path
            return
        assert item.s3 is not None
        bucket, key = item.s3
        with tempfile.TemporaryDirectory(prefix="tubelet-s3-") as tmp:
            target = Path(tmp) / "source"
            try:
                storage.s3_client().download_file(bucket, key, str(target))
            except Exception as exc:  # botocore's errors share no useful base class
                raise media.MediaError(f"cannot download {item.label}: {exc}") from None
            yield target

    def _ingest(
        self, item: _Input, *, project: Project, opts: dict[str, Any], progress: Any
    ) -> list[IngestOutcome]:
        if item.error:
            return [IngestOutcome(name=item.label, error=item.error)]
        try:
            with self._local(item) as local:
                return video_ingest_file(
                    project=project,
                    path=local,
                    original_name=item.name,
                    run_async=opts["run_async"],
                    split_scenes=opts["split_scenes"],
                    max_clip_seconds=opts["max_clip_seconds"],
                    progress=progress,
                )
        except media.MediaError as exc:
            return [IngestOutcome(name=item.name, error=str(exc))]
        except OSError as exc:
            return [
                IngestOutcome(
                    name=item.name, error=f"cannot read {item.label}: {exc.strerror or exc}"
                )
            ]

    def _report(self, outcome: IngestOutcome, *, as_json: bool, bar: tqdm) -> None:
        if as_json:
            bar.clear()
            self.stdout.write(json.dumps(outcome.as_dict()))
            return
        data = outcome.as_dict()
        if outcome.error:
            line = f"FAILED {data['name']}: {outcome.error}"
        elif data["status"] == "ready":
            line = (
                f"ok     {data['name']} (#{data['id']}): {data['width']}x{data['height']}, "
                f"{data['fps']:.3f} fps, {data['source_frames']} frames -> "
                f"{data['annotation_frames']} annotation frames"
            )
        else:
            line = f"queued {data['name']} (#{data['id']}): {data['status']}"
        tqdm.write(line, file=sys.stdout)
