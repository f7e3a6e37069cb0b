"""Dataset releases: PLM-STC (RCap/RTLoc/RDCap, metadata, SA-V masklets) and PLM-FGQA.

The pure row builders and writers live in ``annotation.exports``; this module feeds them from
the database, streaming (``.iterator(chunk_size=…)`` over ``values_list`` tuples, never model
objects for the whole split), and publishes a release:

1. uids are assigned (persistent, see ``ExportUid``) for every segment the release will hold;
2. on PostgreSQL every file is read inside one REPEATABLE READ transaction, so the files of one
   release describe the same moment even while reviewers keep working;
3. every file is written to a private staging folder first and only then published, manifest
   last, so a failed export publishes nothing.

uids: RDCap ``uid`` = the masklet's primary key; RCap/RTLoc ``uid`` = ``ExportUid.id`` of the
(masklet, start_frame, end_frame) segment (the same segment has the same uid in both files);
FGQA ``qa_id``/``qa_uid`` = the imported ``qa_id`` or ``tubelet_<question pk>``.
"""

from __future__ import annotations

import functools
import itertools
import os
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from annotation import storage
from annotation.exports import formats
from annotation.exports.destinations import S3Prefix, staging_for
from annotation.exports.writers import (
    Destination,
    FileEntry,
    LocalDirectory,
    build_manifest,
    write_json,
    write_jsonl,
    write_manifest,
    write_parquet,
)
from annotation.models import CaptionRevision, ExportUid, Project, ProjectKind
from annotation.selectors import exports as selectors
from workers import rle

STC_TASKS: tuple[str, ...] = ("rcap", "rtloc", "rdcap")
STC_SPLITS: tuple[str, ...] = ("train", "val", "test")
FGQA_SPLITS: tuple[str, ...] = ("train", "test")
FILE_FORMATS: tuple[str, ...] = ("jsonl", "parquet")
CHUNK_SIZE = 2000
PROGRESS_EVERY = 1000

# (records done, records total): one unit per record per file pass.
Progress = Callable[[int, int], None]


class ExportError(ValueError):
    """The export cannot run as asked (bad split, format, task, destination)."""


@dataclass
class ExportResult:
    manifest: dict[str, Any]
    files: list[FileEntry]
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return int(self.manifest["total_rows"])


# --- destinations and provenance ---------------------------------------------------------------


def export_destination(out: str) -> Destination:
    """``s3://bucket/prefix`` (boto3 with the S3 settings) or a local folder."""
    if out.startswith("s3://"):
        try:
            bucket, prefix = storage.parse_s3_url(out)
        except ValueError as exc:
            raise ExportError(str(exc)) from None
        return S3Prefix(storage.s3_client(), bucket, prefix)
    if "://" in out:
        raise ExportError(f"--out must be a folder or s3://bucket/prefix, got {out!r}")
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ExportError(f"--out {out} exists and is not a folder")
    return LocalDirectory(path)


class StorageDestination:
    """Files under a key prefix of the platform's own storage (local files or S3)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"

    def put(self, relpath: str, local_path: Path) -> None:
        storage.put_file(self.prefix + relpath, local_path)


@functools.cache
def _git_commit() -> str:
    commit = os.environ.get("TUBELET_GIT_COMMIT", "").strip()
    if commit:
        return commit
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def export_code_version() -> str:
    """What produced the bytes: the code (git commit) and the libraries whose output is in the
    files (Parquet encoding is deterministic only for a fixed pyarrow version)."""
    import pyarrow
    import pycocotools

    cocotools = getattr(pycocotools, "__version__", None)
    if cocotools is None:
        from importlib.metadata import version

        cocotools = version("pycocotools")
    return f"tubelet git:{_git_commit()} pyarrow:{pyarrow.__version__} pycocotools:{cocotools}"


def _check(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise ExportError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")


# --- consistency -------------------------------------------------------------------------------


def snapshot_available() -> bool:
    """True where ``_snapshot`` opens a REPEATABLE READ transaction (PostgreSQL, not already
    inside a transaction). SQLite has no such isolation without blocking every writer."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


@contextmanager
def _snapshot() -> Iterator[None]:
    if not snapshot_available():
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


class _Counter:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done = 0
        self.total = total
        self._progress = progress

    def count(self, items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            yield item
            self.done += 1
            if self._progress is not None and self.done % PROGRESS_EVERY == 0:
                self._progress(self.done, self.total)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress(self.total, self.total)


# --- persistent uids ---------------------------------------------------------------------------

_ASSIGN_SQL = {
    "postgresql": """
        INSERT INTO {uids} (masklet_id, start_frame, end_frame)
        SELECT s.masklet_id, s.start_frame, s.end_frame FROM (
            SELECT DISTINCT cr.masklet_id AS masklet_id,
                   (seg.value ->> 'start_frame')::integer AS start_frame,
                   (seg.value ->> 'end_frame')::integer AS end_frame
            FROM {captions} cr CROSS JOIN LATERAL jsonb_array_elements(cr.segments) AS seg(value)
            WHERE cr.id IN ({scope})
              AND NOT COALESCE((seg.value ->> 'out_of_frame')::boolean, false)
        ) s
        WHERE NOT EXISTS (
            SELECT 1 FROM {uids} u WHERE u.masklet_id = s.masklet_id
            AND u.start_frame = s.start_frame AND u.end_frame = s.end_frame
        )
        ORDER BY s.masklet_id, s.start_frame, s.end_frame
        ON CONFLICT DO NOTHING
    """,
    "sqlite": """
        INSERT OR IGNORE INTO {uids} (masklet_id, start_frame, end_frame)
        SELECT s.masklet_id, s.start_frame, s.end_frame FROM (
            SELECT DISTINCT cr.masklet_id AS masklet_id,
                   CAST(json_extract(seg.value, '$.start_frame') AS INTEGER) AS start_frame,
                   CAST(json_extract(seg.value, '$.end_frame') AS INTEGER) AS end_frame
            FROM {captions} cr, json_each(cr.segments) AS seg
            WHERE cr.id IN ({scope})
              AND COALESCE(json_extract(seg.value, '$.out_of_frame'), 0) = 0
        ) s
        WHERE NOT EXISTS (
            SELECT 1 FROM {uids} u WHERE u.masklet_id = s.masklet_id
            AND u.start_frame = s.start_frame AND u.end_frame = s.end_frame
        )
        ORDER BY s.masklet_id, s.start_frame, s.end_frame
    """,
}


def export_uids_assign(*, project: Project, split: str) -> int:
    """Give every in-frame segment of the split's verified records a uid, in one statement.

    Only missing keys are inserted (an anti-join, not a blind ON CONFLICT), so re-exports do
    not burn sequence values and the int32 space lasts. Returns how many uids were created.
    """
    scope_sql, scope_params = (
        selectors.stc_verified_captions(project=project, split=split)
        .values("pk")
        .query.sql_with_params()
    )
    template = _ASSIGN_SQL.get(connection.vendor)
    if template is None:  # another backend: the per-chunk path assigns them while streaming
        return 0
    sql = template.format(
        uids=connection.ops.quote_name(ExportUid._meta.db_table),
        captions=connection.ops.quote_name(CaptionRevision._meta.db_table),
        scope=scope_sql,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, scope_params)
        return max(cursor.rowcount, 0)


def _segment_uids(batch: Sequence[tuple[Any, ...]]) -> dict[tuple[int, int, int], int]:
    """uids of the in-frame segments of a chunk of records; any still missing (a caption that
    changed after ``export_uids_assign``) are created here."""
    masklet_ids = [row[0] for row in batch]
    uids = {
        (m, s, e): uid
        for m, s, e, uid in ExportUid.objects.filter(masklet_id__in=masklet_ids).values_list(
            "masklet_id", "start_frame", "end_frame", "id"
        )
    }
    missing = sorted(
        {
            (row[0], seg["start_frame"], seg["end_frame"])
            for row in batch
            for seg in row[4]
            if not seg.get("out_of_frame")
        }
        - uids.keys()
    )
    if missing:
        ExportUid.objects.bulk_create(
            [ExportUid(masklet_id=m, start_frame=s, end_frame=e) for m, s, e in missing],
            ignore_conflicts=True,
        )
        created = ExportUid.objects.filter(
            masklet_id__in=sorted({m for m, _, _ in missing})
        ).values_list("masklet_id", "start_frame", "end_frame", "id")
        uids.update({(m, s, e): uid for m, s, e, uid in created})
    return uids


# --- PLM-STC -----------------------------------------------------------------------------------


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def stc_records(
    *, project: Project, split: str, segment_uids: bool = True, chunk_size: int = CHUNK_SIZE
) -> Iterator[dict[str, Any]]:
    """The verified records of a split, in release order, as ``formats`` expects them:
    ``{"uid", "video", "masklet_id", "total_frames", "segments": [… with "uid"]}``."""
    rows = selectors.stc_record_rows(project=project, split=split).iterator(chunk_size=chunk_size)
    for batch in _batched(rows, chunk_size):
        uids = _segment_uids(batch) if segment_uids else {}
        for masklet_pk, object_id, video, total_frames, segments in batch:
            if segment_uids:
                for segment in segments:
                    if not segment.get("out_of_frame"):
                        key = (masklet_pk, segment["start_frame"], segment["end_frame"])
                        segment["uid"] = uids[key]
            yield {
                "uid": masklet_pk,
                "video": video,
                "masklet_id": object_id,
                "total_frames": total_frames,
                "segments": segments,
            }


def _task_rows(task: str, records: Iterable[dict[str, Any]], project: Project) -> Iterator[dict]:
    if task == "rdcap":
        caption = project.out_of_frame_caption
        return (formats.rdcap_row(r, out_of_frame_caption=caption) for r in records)
    build = formats.rcap_rows if task == "rcap" else formats.rtloc_rows
    return (row for record in records for row in build(record))


def stc_rows(*, project: Project, split: str, task: str) -> Iterator[dict[str, Any]]:
    """Rows of one STC file exactly as the export writes them (the evaluation reads these)."""
    _check(task, STC_TASKS, "task")
    records = stc_records(project=project, split=split, segment_uids=task != "rdcap")
    return _task_rows(task, records, project)


def _write_rows(
    rows: Iterable[Mapping[str, Any]],
    stage: LocalDirectory,
    relpath: str,
    schema: Any,
    file_format: str,
    unique_field: str | None,
) -> FileEntry:
    if file_format == "parquet":
        return write_parquet(rows, stage, relpath, schema=schema, unique_field=unique_field)
    return write_jsonl(rows, stage, relpath, fields=schema, unique_field=unique_field)


def _mask_rows(
    *, project: Project, split: str, stage: LocalDirectory, entries: list[FileEntry]
) -> Iterator[dict[str, Any]]:
    """Metadata rows of the caption records; as a side effect, one SA-V masklet file per video
    with every accepted masklet of it (one video's masks in memory at a time)."""
    rows = selectors.stc_mask_rows(project=project, split=split).iterator(chunk_size=200)
    for _, group in itertools.groupby(rows, key=lambda row: row["video_id"]):
        masklets = []
        for row in group:
            name, height, width = row["video__name"], row["video__height"], row["video__width"]
            if not row["current_revision__masks"]:
                raise formats.ExportDataError(f"{name!r} masklet {row['object_id']}: no masks")
            rles = [
                m if m is not None else rle.empty(height, width)
                for m in row["current_revision__masks"]
            ]
            if row["latest_needs_recheck"] is False:
                yield formats.metadata_row(
                    {
                        "video": name,
                        "masklet_id": row["object_id"],
                        "total_frames": row["video__annotation_frame_count"],
                        "rles": rles,
                    }
                )
            masklets.append({"masklet_id": row["object_id"], "rles": rles})
        video_id = PurePosixPath(name).stem
        document = formats.sav_masklet_file(
            video_id=video_id,
            video_duration=row["video__duration"] or 0.0,
            video_frame_count=row["video__source_frame_count"] or 0,
            video_height=height,
            video_width=width,
            masklets=masklets,
        )
        entries.append(write_json(document, stage, formats.masklet_relpath(video_id)))


def stc_export(
    *,
    project: Project,
    split: str,
    destination: Destination,
    tasks: Sequence[str] = STC_TASKS,
    file_format: str = "jsonl",
    masks: bool = True,
    progress: Progress | None = None,
) -> ExportResult:
    """Write a PLM-STC release of ``split`` (verified records only) and its manifest.

    ``masks`` adds ``metadata/metadata_<split>.jsonl`` and ``masklets/<video>.json``.
    Raises ExportError for bad arguments and ``formats.ExportDataError`` /
    ``writers.DuplicateKeyError`` / ``writers.RowSchemaError`` for data that cannot be
    released; nothing is published then.
    """
    if project.kind != ProjectKind.STC:
        raise ExportError(f"project {project.name!r} is not a PLM-STC project")
    _check(split, STC_SPLITS, "split")
    _check(file_format, FILE_FORMATS, "format")
    for task in tasks:
        _check(task, STC_TASKS, "task")
    tasks = [t for t in STC_TASKS if t in tasks]  # fixed order, no repeats
    if not tasks:
        raise ExportError("no STC task to export")

    export_uids_assign(project=project, split=split)
    entries: list[FileEntry] = []
    with staging_for(destination) as stage:
        with _snapshot():
            records = selectors.stc_verified_captions(project=project, split=split).count()
            # One metadata row per record, so the masks pass counts like a caption file.
            counter = _Counter(records * (len(tasks) + masks), progress)
            for task in tasks:
                rows = _task_rows(
                    task,
                    counter.count(
                        stc_records(project=project, split=split, segment_uids=task != "rdcap")
                    ),
                    project,
                )
                relpath = formats.stc_relpath(task, split, file_format)
                entries.append(
                    _write_rows(rows, stage, relpath, formats.STC_SCHEMAS[task], file_format, "uid")
                )
            if masks:
                metadata = _mask_rows(project=project, split=split, stage=stage, entries=entries)
                entries.append(
                    write_jsonl(
                        counter.count(metadata),
                        stage,
                        formats.metadata_relpath(split),
                        fields=formats.METADATA_FIELDS,
                    )
                )
            report = {
                "records": records,
                "excluded": selectors.stc_exclusion_counts(project=project, split=split),
            }
            split_version = selectors.split_version_current(project=project)
        counter.finish()
        filters = {
            "dataset": "PLM-STC",
            "project": project.name,
            "split": split,
            "tasks": tasks,
            "format": file_format,
            "masks": masks,
            "verified_only": {
                "masklet_status": "accepted",
                "captions": "latest revision, not flagged for recheck",
                "video_split": split,
            },
            "frames": f"annotation frames at {project.annotation_fps:g} fps, inclusive ends",
            "out_of_frame_caption": project.out_of_frame_caption,
        }
        return _publish(stage, destination, entries, split_version, filters, report)


def _publish(
    stage: LocalDirectory,
    destination: Destination,
    entries: list[FileEntry],
    split_version: int | None,
    filters: dict[str, Any],
    report: dict[str, Any],
) -> ExportResult:
    code_version = export_code_version()
    manifest = build_manifest(
        entries, split_version=split_version, filters=filters, code_version=code_version
    )
    for entry in sorted(entries, key=lambda e: e.path):
        destination.put(entry.path, stage.path(entry.path))
    manifest_entry = write_manifest(
        destination,
        entries,
        split_version=split_version,
        filters=filters,
        code_version=code_version,
        tmp_dir=stage.root,
    )
    report = {**report, "manifest_sha256": manifest_entry.sha256}
    return ExportResult(manifest=manifest, files=entries, report=report)


# --- PLM-FGQA ----------------------------------------------------------------------------------


def fgqa_qa_id(pk: int, external_id: str) -> str:
    return external_id or f"tubelet_{pk}"


def fgqa_rows(*, project: Project, split: str) -> Iterator[dict[str, Any]]:
    """Rows of the FGQA file of ``split``: train in PLM-Video-Human's layout, test as
    PLM-VideoBench binary rows (one per distractor, sharing ``qa_uid``)."""
    _check(split, FGQA_SPLITS, "split")
    return (row for rows in _fgqa_question_rows(project=project, split=split) for row in rows)


def _fgqa_question_rows(*, project: Project, split: str) -> Iterator[list[dict[str, Any]]]:
    """The rows of each question in turn (one train row, or one test row per distractor)."""
    rows = selectors.fgqa_question_rows(project=project, split=split).iterator(
        chunk_size=CHUNK_SIZE
    )
    for (
        pk,
        external_id,
        segment_id,
        question,
        answer,
        distractors,
        q_type,
        q_subtype,
        domain,
        what_description,
        video,
        source_video_id,
        source_dataset,
        source_start,
        source_end,
        duration,
    ) in rows:
        qa_id = fgqa_qa_id(pk, external_id)
        if not answer.strip():
            raise formats.ExportDataError(f"question {qa_id}: accepted without an answer")
        start = source_start if source_start is not None else 0.0
        source = {
            "source_video_id": source_video_id or PurePosixPath(video).stem,
            "source_dataset": source_dataset,
            "source_start_time": start,
            "source_end_time": source_end if source_end is not None else start + (duration or 0),
        }
        if split == "train":
            yield [
                formats.fgqa_train_row(
                    qa_id=qa_id,
                    segment_id=segment_id or PurePosixPath(video).stem,
                    question=question,
                    answer=answer,
                    what_description=what_description,
                    q_type=q_type,
                    q_subtype=q_subtype,
                    domain=domain,
                    is_audited=1,  # ACCEPTED means a reviewer verified it
                    **source,
                )
            ]
        else:
            yield formats.fgqa_test_rows(
                qa_uid=qa_id,
                video=video,
                question=question,
                answer=answer,
                distractors=distractors,
                question_type=q_type,
                source_domain=domain,
                **source,
            )


def fgqa_export(
    *,
    project: Project,
    split: str,
    destination: Destination,
    file_format: str = "jsonl",
    progress: Progress | None = None,
) -> ExportResult:
    """Write ``fgqa/plm_fgqa_<split>.*`` (ACCEPTED questions; test: verified distractors)."""
    if project.kind != ProjectKind.FGQA:
        raise ExportError(f"project {project.name!r} is not an FGQA project")
    _check(split, FGQA_SPLITS, "split")
    _check(file_format, FILE_FORMATS, "format")
    unique = "qa_id" if split == "train" else "uid"
    with staging_for(destination) as stage:
        with _snapshot():
            questions = selectors.fgqa_verified_questions(project=project, split=split).count()
            counter = _Counter(questions, progress)
            per_question = counter.count(_fgqa_question_rows(project=project, split=split))
            rows = (row for question_rows in per_question for row in question_rows)
            relpath = formats.fgqa_relpath(split, file_format)
            schema = formats.FGQA_SCHEMAS[split]
            entry = _write_rows(rows, stage, relpath, schema, file_format, unique)
            report = {
                "records": questions,
                "excluded": selectors.fgqa_exclusion_counts(project=project, split=split),
            }
            split_version = selectors.split_version_current(project=project)
        counter.finish()
        filters = {
            "dataset": "PLM-FGQA",
            "project": project.name,
            "split": split,
            "format": file_format,
            "verified_only": {
                "question_status": "accepted",
                "distractors": "human-verified" if split != "train" else "not exported",
                "video_split": split,
            },
        }
        return _publish(stage, destination, [entry], split_version, filters, report)
