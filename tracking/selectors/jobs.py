"""Tracking jobs as the API shows them, and the long-poll over their published frames."""

from __future__ import annotations

import time
from typing import Any

from django.db import close_old_connections

from annotation.errors import NotFoundError
from tracking.models import TrackingJob
from tracking.selectors.masks import visible_masklet_ids
from tracking.services.jobs import FINAL, published_count, published_frames

MAX_WAIT = 25.0
POLL_INTERVAL = 0.1


def job_payload(job: TrackingJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "video_id": job.video_id,
        "masklet_ids": sorted(m.pk for m in job.masklets.all()),
        "start_frame": job.start_frame,
        "direction": job.direction,
        "frames_done": job.frames_done,
        "frames_total": job.frames_total,
        "error": job.error,
        "attempts": job.attempts,
        "worker": job.worker,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def job_get(*, user: Any, job_id: int) -> TrackingJob:
    """The job if the caller may see every masklet it tracks (else 404 / 403)."""
    job = TrackingJob.objects.filter(pk=job_id).prefetch_related("masklets").first()
    if job is None:
        raise NotFoundError("Job not found.")
    visible = visible_masklet_ids(user=user, video_id=job.video_id)
    if not {m.pk for m in job.masklets.all()} <= visible:
        raise NotFoundError("Job not found.")
    return job


def job_poll(*, user: Any, job_id: int, cursor: int, wait: float) -> dict[str, Any]:
    """Answer as soon as frames past ``cursor`` are published or the job ended, or after
    ``wait`` seconds. ``cursor`` counts the frames published so far (across attempts: a job
    re-run after its worker died publishes its frames again, after the first ones)."""
    job = job_get(user=user, job_id=job_id)
    deadline = time.monotonic() + max(0.0, min(wait, MAX_WAIT))
    cursor = max(0, cursor)
    while True:
        available = published_count(job_id=job_id)
        final = job.status in FINAL
        if available > cursor or final or time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL)
        close_old_connections()
        job.refresh_from_db()
    frames = published_frames(job_id=job_id, start=cursor, stop=available)
    job.refresh_from_db()
    return {"job": job_payload(job), "cursor": max(cursor, available), "frames": frames}


def video_jobs(*, user: Any, video_id: int, active: bool) -> list[dict[str, Any]]:
    from tracking.services.masklets import ACTIVE_JOB

    visible = visible_masklet_ids(user=user, video_id=video_id)
    jobs = TrackingJob.objects.filter(video_id=video_id).prefetch_related("masklets")
    if active:
        jobs = jobs.filter(status__in=ACTIVE_JOB)
    return [
        job_payload(j)
        for j in jobs.order_by("-pk")[:50]
        if {m.pk for m in j.masklets.all()} <= visible
    ]
