"""Celery tasks of the annotation app: thin adapters over services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from annotation.services.ingest import video_process


@shared_task(
    name="annotation.ingest_video",
    acks_late=True,
    soft_time_limit=settings.INGEST_TIME_LIMIT,
    time_limit=settings.INGEST_TIME_LIMIT + 60,
)
def ingest_video(video_id: int, **_: object) -> None:
    video_process(video_id=video_id)


@shared_task(name="annotation.expire_leases", acks_late=True, time_limit=300)
def expire_leases(**_: object) -> None:
    from annotation.services.ingest import video_requeue_stuck
    from annotation.services.queue import task_leases_expire

    task_leases_expire()
    video_requeue_stuck(
        older_than_seconds=settings.INGEST_TIME_LIMIT + 120,
        pending_older_than_seconds=settings.INGEST_QUEUED_STALE_SECONDS,
    )


@shared_task(
    name="annotation.export_dataset",
    acks_late=True,
    soft_time_limit=settings.EXPORT_TIME_LIMIT,
    time_limit=settings.EXPORT_TIME_LIMIT + 60,
)
def export_dataset(job_id: int, **_: object) -> None:
    from annotation.services.export_jobs import export_job_run

    export_job_run(job_id=job_id)


@shared_task(name="annotation.export_sweep", acks_late=True, time_limit=300)
def export_sweep(**_: object) -> None:
    from annotation.services.export_jobs import export_jobs_requeue_stuck

    export_jobs_requeue_stuck()
