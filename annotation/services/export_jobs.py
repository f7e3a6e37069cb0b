"""Export jobs: a release started from the dashboard, run by a worker on the ``export`` queue.

A job writes the release to a local temporary folder, zips it (deterministically), then stores
the files under ``exports/<project>/<job>/files/`` and the archive beside them, in the
platform's storage (local files or S3). Only one worker runs a job: it is claimed with a
conditional UPDATE (QUEUED → RUNNING), so a redelivered message is harmless; a job left RUNNING
by a killed worker is claimable again once it is older than the time limit, and the periodic
sweeper re-queues it.
"""

from __future__ import annotations

import logging
import tempfile
import time
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from annotation import storage
from annotation.errors import ServiceError
from annotation.exports.formats import ExportDataError
from annotation.exports.writers import DuplicateKeyError, LocalDirectory, RowSchemaError
from annotation.models import ExportJob, JobStatus, Project, ProjectKind
from annotation.services.exports import (
    FGQA_SPLITS,
    FILE_FORMATS,
    STC_SPLITS,
    STC_TASKS,
    ExportError,
    fgqa_export,
    snapshot_available,
    stc_export,
)

logger = logging.getLogger(__name__)

EXPORT_TIME_LIMIT = settings.EXPORT_TIME_LIMIT
# A RUNNING job older than this lost its worker (the task itself is killed at the time limit).
STALE_AFTER = timedelta(seconds=EXPORT_TIME_LIMIT + 300)
PROGRESS_INTERVAL_S = 0.5
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
# Fixed entry metadata so the same files always make the same archive.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_STORED_SUFFIXES = (".parquet", ".zip")


def export_job_prefix(job: ExportJob) -> str:
    return f"exports/{job.project_id}/{job.pk}/"


def export_job_archive_name(job: ExportJob) -> str:
    task = f"_{job.task_filter}" if job.dataset == ProjectKind.STC else ""
    return f"tubelet_{job.dataset}_{job.split}{task}_{job.file_format}_job{job.pk}.zip"


def export_job_create(
    *, project: Project, user: Any, split: str, task: str = "all", file_format: str = "jsonl"
) -> tuple[ExportJob, bool]:
    """Queue an export of ``split`` of the project's dataset; returns (job, created).

    Asking again while the same export is queued or running returns that job.
    """
    if project.kind == ProjectKind.STC:
        allowed_splits, allowed_tasks = STC_SPLITS, (*STC_TASKS, "all")
    else:
        allowed_splits, allowed_tasks = FGQA_SPLITS, ("all",)
    errors = {}
    if split not in allowed_splits:
        errors["split"] = [f"Choose one of {', '.join(allowed_splits)}."]
    if task not in allowed_tasks:
        errors["task"] = [f"Choose one of {', '.join(allowed_tasks)}."]
    if file_format not in FILE_FORMATS:
        errors["format"] = [f"Choose one of {', '.join(FILE_FORMATS)}."]
    if errors:
        raise ServiceError("; ".join(f"{k}: {v[0]}" for k, v in errors.items()), errors=errors)
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        same = ExportJob.objects.filter(
            project=project,
            dataset=project.kind,
            split=split,
            task_filter=task,
            file_format=file_format,
            status__in=ACTIVE,
        ).first()
        if same is not None:
            return same, False
        job = ExportJob.objects.create(
            project=project,
            dataset=project.kind,
            split=split,
            task_filter=task,
            file_format=file_format,
            created_by=user if getattr(user, "pk", None) else None,
        )
        job.destination = export_job_prefix(job) + "files/"
        job.save(update_fields=["destination"])
        _enqueue_on_commit(job.pk)
    return job, True


def _enqueue_on_commit(job_id: int) -> None:
    from annotation.tasks import export_dataset

    transaction.on_commit(lambda: export_dataset.delay(job_id))


class _JobProgress:
    """Writes rows_done/rows_total at most every PROGRESS_INTERVAL_S, and the last values on
    close.

    While the export reads inside its snapshot transaction, an UPDATE on that connection would
    stay invisible until the end, so progress then goes through a second connection (Django
    gives each thread its own).
    """

    def __init__(self, job_id: int, *, separate_connection: bool) -> None:
        self.job_id = job_id
        self.done = self.total = 0
        self._last = 0.0
        self._pool: ThreadPoolExecutor | None = (
            ThreadPoolExecutor(1) if separate_connection else None
        )
        self._pending: Future[None] | None = None

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL_S:
            return
        self._last = now
        if self._pool is None:
            self._write(done, total)
        elif self._pending is None or self._pending.done():
            self._pending = self._pool.submit(self._write, done, total)

    def _write(self, done: int, total: int) -> None:
        ExportJob.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(
            rows_done=done, rows_total=total
        )

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            pool.submit(self._write, self.done, self.total).result()
        finally:
            # Resolved inside the pool thread: that thread's own connection.
            pool.submit(lambda: connection.close()).result()
            pool.shutdown(wait=True)


def zip_release(root: Path, archive: Path) -> None:
    """Every file under ``root``, sorted, with fixed timestamps: same files, same bytes."""
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            stored = path.suffix in _STORED_SUFFIXES
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            with path.open("rb") as src, out.open(info, "w") as dst:
                while block := src.read(1 << 20):
                    dst.write(block)


def export_job_run(*, job_id: int) -> None:
    """Run a queued export job to completion (or failure). Safe to call twice."""
    now = timezone.now()
    claimed = (
        ExportJob.objects.filter(pk=job_id)
        .filter(
            Q(status=JobStatus.QUEUED)
            | Q(status=JobStatus.RUNNING, started_at__lt=now - STALE_AFTER)
        )
        .update(
            status=JobStatus.RUNNING,
            started_at=now,
            finished_at=None,
            attempts=F("attempts") + 1,
            rows_done=0,
            error="",
        )
    )
    if not claimed:
        return
    job = ExportJob.objects.select_related("project").get(pk=job_id)
    prefix = export_job_prefix(job)
    mine = ExportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, started_at=now)
    progress = _JobProgress(job_id, separate_connection=snapshot_available())
    try:
        storage.delete_prefix(prefix)  # what an earlier, killed attempt left
        with tempfile.TemporaryDirectory(prefix="tubelet-export-job-") as tmp:
            release = Path(tmp) / "release"
            destination = LocalDirectory(release)
            if job.dataset == ProjectKind.STC:
                tasks = list(STC_TASKS) if job.task_filter == "all" else [job.task_filter]
                result = stc_export(
                    project=job.project,
                    split=job.split,
                    destination=destination,
                    tasks=tasks,
                    file_format=job.file_format,
                    progress=progress,
                )
            else:
                result = fgqa_export(
                    project=job.project,
                    split=job.split,
                    destination=destination,
                    file_format=job.file_format,
                    progress=progress,
                )
            progress.close()
            archive = Path(tmp) / export_job_archive_name(job)
            zip_release(release, archive)
            storage.put_tree(prefix + "files/", release)
            archive_key = prefix + archive.name
            storage.put_file(archive_key, archive)
        mine.update(
            status=JobStatus.SUCCEEDED,
            finished_at=timezone.now(),
            rows_done=progress.total,
            rows_total=progress.total,
            manifest=result.manifest,
            report=result.report,
            archive_key=archive_key,
        )
    except (ExportError, ExportDataError, DuplicateKeyError, RowSchemaError) as exc:
        _fail(mine, prefix, f"Export refused: {exc}")
    except Exception as exc:  # the job must end FAILED with a reason, whatever broke
        logger.exception("export job %s failed", job_id)
        _fail(mine, prefix, f"Export failed: {type(exc).__name__}: {exc}")
    finally:
        progress.close()


def _fail(mine: Any, prefix: str, message: str) -> None:
    try:
        storage.delete_prefix(prefix)
    except Exception:  # cleanup must not hide the export's own error
        logger.exception("cannot clean up %s", prefix)
    mine.update(status=JobStatus.FAILED, finished_at=timezone.now(), error=message[:2000])


def export_jobs_requeue_stuck() -> list[int]:
    """Re-queue RUNNING jobs whose worker died (older than the time limit), and enqueue again
    QUEUED jobs waiting past EXPORT_QUEUED_STALE_SECONDS while no export runs (their message was
    lost); returns their ids. A second message for a job is harmless: the claim is conditional."""
    now = timezone.now()
    stale = now - STALE_AFTER
    requeued = []
    if not ExportJob.objects.filter(status=JobStatus.RUNNING, started_at__gte=stale).exists():
        waiting = now - timedelta(seconds=settings.EXPORT_QUEUED_STALE_SECONDS)
        for job_id in ExportJob.objects.filter(
            status=JobStatus.QUEUED, created_at__lt=waiting
        ).values_list("pk", flat=True):
            # once per threshold, not on every sweep, while the job keeps waiting
            if cache.add(f"export-requeued:{job_id}", 1, settings.EXPORT_QUEUED_STALE_SECONDS):
                with transaction.atomic():
                    _enqueue_on_commit(job_id)
                requeued.append(job_id)
    ids = list(
        ExportJob.objects.filter(status=JobStatus.RUNNING, started_at__lt=stale).values_list(
            "pk", flat=True
        )
    )
    for job_id in ids:
        with transaction.atomic():
            if ExportJob.objects.filter(
                pk=job_id, status=JobStatus.RUNNING, started_at__lt=stale
            ).update(status=JobStatus.QUEUED):
                _enqueue_on_commit(job_id)
                requeued.append(job_id)
    return requeued
