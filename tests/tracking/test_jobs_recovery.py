"""A worker killed mid-propagation loses nothing: the sweeper re-queues its job, another worker
finishes it, exactly one revision exists; re-delivered messages are harmless."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.utils.nodenames import host_format
from django.conf import settings
from django.utils import timezone

from tests.conftest import WorkerProcess, wait_for, worker_env
from tests.tracking.conftest import Scene, make_scene
from tracking.models import Masklet, MaskletRevision, Prompt, TrackingJob
from tracking.services import routing
from tracking.services.jobs import (
    published_count,
    tracking_job_create,
    tracking_job_run,
    tracking_jobs_sweep,
)
from tracking.tasks import propagate
from workers.celery import worker_queue_name

PILLAR = 4


def _masklet(scene: Scene) -> Masklet:
    masklet = Masklet.objects.create(
        video=scene.video,
        object_id=Masklet.objects.filter(video=scene.video).count() + 1,
        created_by=scene.annotator,
        select_task=scene.task,
    )
    frame = scene.visible_frame(PILLAR)
    Prompt.objects.create(
        masklet=masklet, frame=frame, points=[scene.click(frame, PILLAR)], labels=[1]
    )
    return masklet


def _job(scene: Scene, **fields: Any) -> TrackingJob:
    job = TrackingJob.objects.create(video=scene.video, engine="cpu", frames_total=24, **fields)
    job.masklets.set([_masklet(scene)])
    return job


def _worker(name: str, tmp_path: Path) -> tuple[WorkerProcess, str]:
    worker = WorkerProcess(queues="gpu", name=name, env=worker_env(), log=tmp_path / f"{name}.log")
    return worker, host_format(f"{name}@%h")


def test_a_worker_killed_mid_propagation_loses_nothing(
    transactional_db: None, tmp_path: Path
) -> None:
    scene = make_scene(frames=120)
    masklet = _masklet(scene)
    first, first_name = _worker("doomed", tmp_path)
    second, second_name = _worker("rescuer", tmp_path)
    first.start()
    try:
        wait_for(lambda: routing.worker_alive(first_name), timeout=30)
        # The first worker holds the video's session: the job goes to its own queue.
        routing.session_holder_set(video_id=scene.video.pk, hostname=first_name)
        job = tracking_job_create(
            user=scene.annotator,
            video_id=scene.video.pk,
            task_id=scene.task.pk,
            masklet_ids=[masklet.pk],
        )
        running = wait_for(
            lambda: TrackingJob.objects.filter(
                pk=job.pk, status="running", frames_done__gte=5
            ).first(),
            timeout=120,
            interval=0.05,
        )
        assert running.worker == first_name
        first.kill()
    finally:
        first.stop()
    job.refresh_from_db()
    assert job.status == "running"
    assert 5 <= job.frames_done < job.frames_total == 120
    assert published_count(job_id=job.pk) >= 5
    assert not MaskletRevision.objects.exists()  # nothing half-written is visible
    assert Masklet.objects.get(pk=masklet.pk).current_revision_id is None

    second.start()
    try:
        assert tracking_jobs_sweep()["requeued"] == []  # its heartbeat is not stale yet
        later = timezone.now() + timedelta(seconds=settings.TRACKING_HEARTBEAT_STALE_SECONDS + 1)
        assert tracking_jobs_sweep(now=later)["requeued"] == [job.pk]
        done = wait_for(
            lambda: TrackingJob.objects.filter(pk=job.pk, status="succeeded").first(),
            timeout=180,
        )
        assert done.attempts == 2
        assert done.worker != first_name
        assert done.frames_done == 120
        revision = MaskletRevision.objects.get()
        assert revision.job_id == job.pk
        assert len(revision.masks) == 120
        assert Masklet.objects.get(pk=masklet.pk).current_revision_id == revision.pk

        # The killed worker's message, delivered again, and a duplicate: both harmless.
        assert tracking_job_run(job_id=job.pk, hostname="late@host") == "skipped"
        sent = propagate.apply_async((job.pk,), queue=worker_queue_name(second_name))
        log = tmp_path / "rescuer.log"
        wait_for(lambda: f"[{sent.id}] succeeded" in log.read_text(), timeout=60)
        assert MaskletRevision.objects.count() == 1
        assert TrackingJob.objects.get(pk=job.pk).attempts == 2
    finally:
        second.stop()


@pytest.mark.django_db
def test_sweeper_requeues_stale_running_jobs_and_fails_them_after_max_attempts(
    scene: Scene,
) -> None:
    now = timezone.now()
    old = now - timedelta(seconds=settings.TRACKING_HEARTBEAT_STALE_SECONDS + 5)
    stale = _job(scene, status="running", started_at=old, heartbeat_at=old, attempts=1,
                 worker="gone@host")  # fmt: skip
    worn = TrackingJob.objects.create(
        video=scene.video, engine="cpu", status="running", started_at=old, heartbeat_at=old,
        attempts=settings.TRACKING_JOB_MAX_ATTEMPTS,
    )  # fmt: skip
    stopping = TrackingJob.objects.create(
        video=scene.video, engine="cpu", status="running", started_at=old, heartbeat_at=old,
        attempts=1, cancel_requested=True,
    )  # fmt: skip
    alive = TrackingJob.objects.create(
        video=scene.video, engine="cpu", status="running", started_at=old, heartbeat_at=now,
        attempts=1,
    )  # fmt: skip
    routing.session_holder_set(video_id=scene.video.pk, hostname="gone@host")
    result = tracking_jobs_sweep(now=now)
    assert result["requeued"] == [stale.pk]
    assert result["failed"] == [worn.pk]
    assert result["cancelled"] == [stopping.pk]
    stale.refresh_from_db()
    assert (stale.status, stale.worker, stale.attempts) == ("queued", "", 1)
    worn.refresh_from_db()
    assert worn.status == "failed"
    assert "stopped responding" in worn.error
    assert "TRACKING_JOB_MAX_ATTEMPTS" in worn.error
    assert TrackingJob.objects.get(pk=stopping.pk).status == "cancelled"
    assert TrackingJob.objects.get(pk=alive.pk).status == "running"
    assert routing.session_holder(video_id=scene.video.pk) is None


@pytest.mark.django_db
def test_sweeper_resends_old_queued_jobs_only_while_nothing_runs(scene: Scene) -> None:
    job = _job(scene)
    later = timezone.now() + timedelta(seconds=settings.TRACKING_QUEUED_STALE_SECONDS + 5)
    busy = TrackingJob.objects.create(
        video=scene.video, engine="cpu", status="running", heartbeat_at=later, attempts=1
    )
    assert tracking_jobs_sweep(now=later)["resent"] == []
    TrackingJob.objects.filter(pk=busy.pk).update(status="succeeded")
    assert tracking_jobs_sweep(now=later)["resent"] == [job.pk]
    # Not again while that message has had no time to be taken.
    assert tracking_jobs_sweep(now=later)["resent"] == []


@pytest.mark.django_db
def test_a_job_is_claimed_once(scene: Scene) -> None:
    job = _job(scene, status="succeeded")
    assert tracking_job_run(job_id=job.pk) == "skipped"
    running = _job(scene, status="running", attempts=1)
    assert tracking_job_run(job_id=running.pk) == "skipped"
    cancelled = _job(scene, cancel_requested=True)
    assert tracking_job_run(job_id=cancelled.pk) == "skipped"
    assert TrackingJob.objects.get(pk=running.pk).attempts == 1
    assert not MaskletRevision.objects.exists()


@pytest.mark.django_db
def test_sweeper_resends_jobs_queued_for_a_worker_that_is_gone(
    scene: Scene, django_capture_on_commit_callbacks: Any
) -> None:
    routing.worker_beat("holder@host")
    routing.session_holder_set(video_id=scene.video.pk, hostname="holder@host")
    masklet = _masklet(scene)
    with django_capture_on_commit_callbacks(execute=True):
        job = tracking_job_create(
            user=scene.annotator,
            video_id=scene.video.pk,
            task_id=scene.task.pk,
            masklet_ids=[masklet.pk],
        )
    assert tracking_jobs_sweep()["resent"] == []  # its worker is alive
    from django.core.cache import cache

    cache.delete("tracking:worker:holder@host")  # the worker dies before taking it
    assert tracking_jobs_sweep()["resent"] == [job.pk]
    assert tracking_jobs_sweep()["resent"] == []  # sent to gpu now: nothing to do
