"""Celery tasks of the tracking app: thin adapters over services (routed to ``gpu`` by name,
or to one GPU worker's own queue by the caller; ``tracking.sweep`` runs on ``media``)."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings


@shared_task(
    name="tracking.click",
    bind=True,
    acks_late=True,
    soft_time_limit=settings.TRACKING_JOB_TIME_LIMIT,
    time_limit=settings.TRACKING_JOB_TIME_LIMIT + 60,
)
def click(self: Task, prompt_id: int, token: str, **_: Any) -> None:
    from tracking.services.masklets import click_run

    click_run(prompt_id=prompt_id, token=token, hostname=self.request.hostname or "")


@shared_task(
    name="tracking.propagate",
    bind=True,
    acks_late=True,
    soft_time_limit=settings.TRACKING_JOB_TIME_LIMIT,
    time_limit=settings.TRACKING_JOB_TIME_LIMIT + 60,
)
def propagate(self: Task, job_id: int, **_: Any) -> None:
    from tracking.services.jobs import tracking_job_run

    tracking_job_run(job_id=job_id, hostname=self.request.hostname or "")


@shared_task(name="tracking.sweep", acks_late=True, time_limit=300)
def sweep(**_: Any) -> None:
    from tracking.services.jobs import tracking_sweep

    tracking_sweep()
