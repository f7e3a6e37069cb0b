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
import queue
import subprocess
import threading
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
# Rows per Parquet row group: a batch of row dicts is held per file while it fills, and the
# STC files are written side by side, so this bounds memory (~16k rows ≈ tens of MB).
PARQUET_ROW_GROUP = 16_384
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


# --- one pass, several files -------------------------------------------------------------------

_END = object()
_ABORT = object()
FANOUT_BATCH = 256


class _Aborted(Exception):
    """The producer failed; a writer stops without publishing its file."""


def _put(box: queue.Queue[Any], item: Any, consumer: threading.Thread) -> None:
    while consumer.is_alive():
        try:
            box.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def fan_out(
    records: Iterable[Mapping[str, Any]],
    sinks: Sequence[tuple[RowBuilder, Callable[[Iterator[dict[str, Any]]], FileEntry]]],
) -> list[FileEntry]:
    """Feed one pass over ``records`` to several writers: each ``(build, write)`` sink turns a
    record into rows, and ``write`` (a writer pulling from an iterator) runs in its own thread.

    Reading and decoding the database rows once instead of once per file is most of the
    saving. All database access stays on the calling thread. Memory is bounded by the queues
    (a few batches per writer). If building fails, every writer is aborted (nothing of theirs
    is published) and the error is raised; if a writer fails, its error is raised.
    """
    boxes: list[queue.Queue[Any]] = [queue.Queue(maxsize=4) for _ in sinks]
    results: list[FileEntry | None] = [None] * len(sinks)
    errors: list[BaseException] = []

    def rows_from(box: queue.Queue[Any]) -> Iterator[dict[str, Any]]:
        while (item := box.get()) is not _END:
            if item is _ABORT:
                raise _Aborted
            yield from item

    def run(index: int, write: Callable[[Iterator[dict[str, Any]]], FileEntry]) -> None:
        try:
            results[index] = write(rows_from(boxes[index]))
        except _Aborted:
            pass
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(i, write), name=f"export-writer-{i}", daemon=True)
        for i, (_, write) in enumerate(sinks)
    ]
    for thread in threads:
        thread.start()
    end: Any = _END
    try:
        for batch in _batched(records, FANOUT_BATCH):
            for box, thread, (build, _) in zip(boxes, threads, sinks, strict=True):
                _put(box, [row for record in batch for row in build(record)], thread)
            if errors:
                end = _ABORT
                break
    except BaseException:
        end = _ABORT
        raise
    finally:
        for box, thread in zip(boxes, threads, strict=True):
            _put(box, end, thread)
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    return [entry for entry in results if entry is not None]


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


def _uids_create(masklet_pk: int, spans: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """uids for segments that appeared after ``export_uids_assign`` (a caption saved while the
    export started); rare, so one small insert per masklet."""
    ExportUid.objects.bulk_create(
        [ExportUid(masklet_id=masklet_pk, start_frame=s, end_frame=e) for s, e in sorted(spans)],
        ignore_conflicts=True,
    )
    return {
        (s, e): uid
        for s, e, uid in ExportUid.objects.filter(masklet_id=masklet_pk).values_list(
            "start_frame", "end_frame", "id"
        )
    }


# --- PLM-STC -----------------------------------------------------------------------------------


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def stc_records(
    *, project: Project, split: str, segment_uids: bool = True, chunk_size: int | None = None
) -> Iterator[dict[str, Any]]:
    """The verified records of a split, in release order, as ``formats`` expects them:
    ``{"uid", "video", "masklet_id", "total_frames", "segments": [… with "uid"]}``.

    Segment uids come from a second cursor over ``ExportUid`` in the same order, merged as
    both streams advance (no per-chunk lookups)."""
    chunk_size = chunk_size or CHUNK_SIZE
    rows = selectors.stc_record_rows(project=project, split=split).iterator(chunk_size=chunk_size)
    uid_rows: Iterator[tuple[Any, ...]] = iter(())
    if segment_uids:
        uid_rows = selectors.stc_uid_rows(project=project, split=split).iterator(
            chunk_size=chunk_size * 4
        )
    pending = next(uid_rows, None)
    for video_id, object_id, masklet_pk, video, total_frames, segments in rows:
        spans = {(s["start_frame"], s["end_frame"]) for s in segments}
        if len(spans) != len(segments):
            # Each segment's uid is its (masklet, start, end): a repeat would share one.
            raise formats.ExportDataError(
                f"{video!r} masklet {object_id}: two segments with the same frames"
            )
        if segment_uids:
            key = (video_id, object_id, masklet_pk)
            uids: dict[tuple[int, int], int] = {}
            while pending is not None and pending[:3] < key:
                pending = next(uid_rows, None)
            while pending is not None and pending[:3] == key:
                uids[(pending[3], pending[4])] = pending[5]
                pending = next(uid_rows, None)
            written = [s for s in segments if not s.get("out_of_frame")]
            missing = {(s["start_frame"], s["end_frame"]) for s in written} - uids.keys()
            if missing:
                uids = _uids_create(masklet_pk, missing)
            for segment in written:
                segment["uid"] = uids[(segment["start_frame"], segment["end_frame"])]
        yield {
            "uid": masklet_pk,
            "video": video,
            "masklet_id": object_id,
            "total_frames": total_frames,
            "segments": segments,
        }


RowBuilder = Callable[[Mapping[str, Any]], list[dict[str, Any]]]


def _row_builder(task: str, project: Project) -> RowBuilder:
    if task == "rdcap":
        caption = project.out_of_frame_caption
        return lambda record: [formats.rdcap_row(record, out_of_frame_caption=caption)]
    return formats.rcap_rows if task == "rcap" else formats.rtloc_rows


def stc_rows(*, project: Project, split: str, task: str) -> Iterator[dict[str, Any]]:
    """Rows of one STC file exactly as the export writes them (the evaluation reads these)."""
    _check(task, STC_TASKS, "task")
    build = _row_builder(task, project)
    records = stc_records(project=project, split=split, segment_uids=task != "rdcap")
    return (row for record in records for row in build(record))


def _write_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    stage: LocalDirectory,
    relpath: str,
    schema: Any,
    file_format: str,
    unique_field: str | None,
) -> FileEntry:
    if file_format == "parquet":
        return write_parquet(
            rows,
            stage,
            relpath,
            schema=schema,
            unique_field=unique_field,
            batch_rows=PARQUET_ROW_GROUP,
        )
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
            # One unit per record for the caption files (one pass) and one for the masks pass.
            counter = _Counter(records * (1 + masks), progress)
            # uids are database keys, one per (masklet, frames), so they are unique by
            # construction; the writers' check would cost 8 bytes a row for nothing.
            sinks = [
                (
                    _row_builder(task, project),
                    functools.partial(
                        _write_rows,
                        stage=stage,
                        relpath=formats.stc_relpath(task, split, file_format),
                        schema=formats.STC_SCHEMAS[task],
                        file_format=file_format,
                        unique_field=None,
                    ),
                )
                for task in tasks
            ]
            records_stream = stc_records(
                project=project, split=split, segment_uids=tasks != ["rdcap"]
            )
            entries.extend(fan_out(counter.count(records_stream), sinks))
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
            entry = _write_rows(
                rows,
                stage=stage,
                relpath=relpath,
                schema=schema,
                file_format=file_format,
                unique_field=unique,
            )
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
