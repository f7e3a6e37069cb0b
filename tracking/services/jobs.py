"""Propagation jobs: create, run on a GPU worker, stream finished frames, cancel, sweep.

Life of a job: QUEUED → (claimed with a conditional UPDATE: only one worker gets past it)
RUNNING → SUCCEEDED | FAILED | CANCELLED. While it runs, the worker writes ``frames_done`` and
``heartbeat_at`` and publishes each finished frame's masks in the cache (``job_frames`` reads
them for the long-poll); it checks ``cancel_requested`` between frames. The masks are kept in
memory and written at the end, in ONE transaction, as one new revision per masklet (unique per
job) together with the SUCCEEDED status: a worker killed before that leaves no trace of a
revision, and the sweeper puts its job back in the queue. A redelivered message finds the job
claimed or finished and does nothing.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from annotation.errors import ConflictError, NotFoundError, ServiceError
from annotation.models import TaskEvent, TaskEventKind, Video
from annotation.services.reviews import captions_flag_for_recheck
from tracking.models import (
    Direction,
    JobKind,
    Masklet,
    MaskletRevision,
    Prompt,
    TrackingJob,
    TrackingJobStatus,
)
from tracking.services import routing
from tracking.services.masklets import ACTIVE_JOB, edit_task_check, video_get, video_ready_check
from workers import rle
from workers.engine import Direction as EngineDirection
from workers.engine import frame_order
from workers.rle import Rle

logger = logging.getLogger(__name__)

FRAMES_TTL = 6 * 3600  # published frames stay readable this long
PROGRESS_INTERVAL = 0.5  # seconds between progress writes / cancel checks
PUBLISH_INTERVAL = 0.1  # seconds between cache writes of finished frames
FINAL = (TrackingJobStatus.SUCCEEDED, TrackingJobStatus.FAILED, TrackingJobStatus.CANCELLED)


class JobLost(Exception):
    """This worker no longer owns the job (cancelled, or swept and re-claimed elsewhere)."""


# --- published frames -------------------------------------------------------------------------


def _seq_key(job_id: int) -> str:
    return f"tracking:job:{job_id}:seq"


def _frame_key(job_id: int, seq: int) -> str:
    return f"tracking:job:{job_id}:f:{seq}"


def _enqueued_key(job_id: int) -> str:
    return f"tracking:job:{job_id}:enqueued"


def published_count(*, job_id: int) -> int:
    return int(cache.get(_seq_key(job_id)) or 0)


def published_frames(*, job_id: int, start: int, stop: int) -> list[dict[str, Any]]:
    """Frames published with sequence numbers start..stop-1 (those still in the cache)."""
    if stop <= start:
        return []
    keys = [_frame_key(job_id, n) for n in range(start, stop)]
    found = cache.get_many(keys)
    return [found[k] for k in keys if k in found]


class _FramePublisher:
    """Publishes finished frames for the long-poll in batches (one cache write per batch, not
    per frame: a cache round trip can cost as much as tracking a small frame)."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        # Continue after frames an earlier, killed attempt published: cursors stay valid.
        self.seq = published_count(job_id=job_id)
        self.pending: dict[str, Any] = {}
        self.last = time.monotonic()

    def add(self, frame: int, masks: dict[int, Rle]) -> None:
        self.pending[_frame_key(self.job_id, self.seq)] = {
            "frame": frame,
            "masks": {str(k): v for k, v in masks.items()},
        }
        self.seq += 1
        if time.monotonic() - self.last >= PUBLISH_INTERVAL:
            self.flush()

    def flush(self) -> None:
        self.last = time.monotonic()
        if self.pending:
            self.pending[_seq_key(self.job_id)] = self.seq
            cache.set_many(self.pending, timeout=FRAMES_TTL)
            self.pending = {}


# --- create / cancel --------------------------------------------------------------------------


def tracking_job_create(
    *,
    user: Any,
    video_id: int,
    task_id: int | None,
    masklet_ids: Any,
    frame: Any = None,
    direction: Any = Direction.BOTH,
) -> TrackingJob:
    """Queue a propagation of the masklets from ``frame`` (default: the frame of their latest
    prompt). Refused while another job of the video is queued or running."""
    video = video_get(video_id=video_id)
    if not isinstance(masklet_ids, list) or not masklet_ids:
        raise ServiceError("Name the masklets to track.", errors={"masklet_ids": ["Required."]})
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in masklet_ids):
        raise ServiceError("masklet_ids must be ids.", errors={"masklet_ids": ["Not ids."]})
    if len(set(masklet_ids)) != len(masklet_ids):
        raise ServiceError("A masklet is listed twice.", errors={"masklet_ids": ["Repeated."]})
    masklets = {m.pk: m for m in Masklet.objects.filter(pk__in=masklet_ids, video=video)}
    # Access first: a non-member learns nothing about the masklets. The check names a masklet:
    # review and mask-rework tasks may refine theirs but not create one (masklet=None).
    task = edit_task_check(
        user=user, video=video, task_id=task_id, masklet=masklets.get(masklet_ids[0])
    )
    missing = [i for i in masklet_ids if i not in masklets]
    if missing:
        raise ServiceError(
            f"Masklet {missing[0]} is not a masklet of this video.",
            errors={"masklet_ids": [f"{missing[0]} not in this video."]},
        )
    for masklet in masklets.values():
        edit_task_check(user=user, video=video, task_id=task_id, masklet=masklet)
    video_ready_check(video)
    if direction not in Direction.values:
        raise ServiceError(
            "direction must be both, forward or backward.",
            errors={"direction": ["Unknown direction."]},
        )
    latest = Prompt.objects.filter(masklet_id__in=masklet_ids).order_by("-pk")
    prompted = set(latest.values_list("masklet_id", flat=True).distinct())
    unprompted = [i for i in masklet_ids if i not in prompted]
    if unprompted:
        raise ServiceError(
            f"Masklet {unprompted[0]} has no clicks to track from.",
            errors={"masklet_ids": [f"{unprompted[0]} has no prompts."]},
        )
    count = video.annotation_frame_count
    if frame is None:
        frame = latest.values_list("frame", flat=True).first()
    if not isinstance(frame, int) or isinstance(frame, bool) or not 0 <= frame < count:
        raise ServiceError(
            f"frame must be an annotation frame 0..{count - 1}.",
            errors={"frame": [f"Out of range 0..{count - 1}."]},
        )
    with transaction.atomic():
        Video.objects.select_for_update().filter(pk=video.pk).first()
        running = TrackingJob.objects.filter(video=video, status__in=ACTIVE_JOB).first()
        if running is not None:
            from tracking.selectors.jobs import job_payload

            raise ConflictError(
                f"Tracking job {running.pk} is already {running.status} on this video.",
                current={"job": job_payload(running)},
                code="tracking_running",
            )
        job = TrackingJob.objects.create(
            video=video,
            kind=JobKind.PROPAGATE,
            engine=settings.TRACKER,  # the worker that runs it records its own
            start_frame=frame,
            direction=direction,
            frames_total=len(frame_order(frame, count, direction)),
            created_by=user if user.is_authenticated else None,
        )
        job.masklets.set(masklet_ids)
        if task is not None:
            TaskEvent.objects.create(
                task=task,
                user_id=user.pk,
                kind=TaskEventKind.PROPAGATE,
                data={"job": job.pk, "masklets": masklet_ids, "frame": frame},
            )
        queue = routing.queue_for_video(video_id=video.pk)
        transaction.on_commit(lambda: tracking_job_enqueue(job_id=job.pk, queue=queue))
    return job


def tracking_job_enqueue(*, job_id: int, queue: str = routing.GPU_QUEUE) -> None:
    from tracking.tasks import propagate

    cache.set(_enqueued_key(job_id), queue, timeout=settings.TRACKING_QUEUED_STALE_SECONDS)
    propagate.apply_async((job_id,), queue=queue)


def tracking_job_cancel(*, user: Any, job_id: int, task_id: int | None) -> TrackingJob:
    """Cancel a queued job at once; a running one stops after its current frame (no revision)."""
    job = _job_for_edit(user=user, job_id=job_id, task_id=task_id)
    now = timezone.now()
    if not TrackingJob.objects.filter(pk=job.pk, status=TrackingJobStatus.QUEUED).update(
        status=TrackingJobStatus.CANCELLED, cancel_requested=True, finished_at=now
    ):
        TrackingJob.objects.filter(pk=job.pk, status=TrackingJobStatus.RUNNING).update(
            cancel_requested=True
        )
    job.refresh_from_db()
    return job


def _job_for_edit(*, user: Any, job_id: int, task_id: int | None) -> TrackingJob:
    job = TrackingJob.objects.filter(pk=job_id).select_related("video").first()
    if job is None:
        raise NotFoundError("Job not found.")
    # Each masklet is named: review and rework tasks may act on theirs (masklet=None would be
    # read as creating one, which they may not).
    masklets: list[Masklet | None] = list(job.masklets.all()) or [None]
    for masklet in masklets:
        edit_task_check(user=user, video=job.video, task_id=task_id, masklet=masklet)
    return job


# --- run --------------------------------------------------------------------------------------


class _Heartbeat:
    """Writes ``heartbeat_at`` every few seconds from its own thread (and connection), so a
    job whose worker is busy opening a session or loading a model is not mistaken for lost."""

    def __init__(self, mine: Callable[[], Any]) -> None:
        self._mine = mine
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="tracking-job-heartbeat", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.wait(routing.heartbeat_interval()):
                self._mine().update(heartbeat_at=timezone.now())
        except Exception:
            logger.exception("job heartbeat failed")
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def tracking_job_run(*, job_id: int, hostname: str = "") -> str:
    """Run a queued job to its end; returns the job's final status, or ``"skipped"`` when
    this call did not claim it (already claimed, finished or cancelled). Safe to call twice."""
    now = timezone.now()
    claimed = TrackingJob.objects.filter(
        pk=job_id, status=TrackingJobStatus.QUEUED, cancel_requested=False
    ).update(
        status=TrackingJobStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        worker=hostname[:255],
        # The engine is the running worker's (TRACKER is a per-process setting).
        engine=settings.TRACKER,
        attempts=F("attempts") + 1,
        frames_done=0,
        error="",
    )
    if not claimed:
        return "skipped"

    def mine() -> Any:
        return TrackingJob.objects.filter(
            pk=job_id, status=TrackingJobStatus.RUNNING, started_at=now
        )

    heartbeat = _Heartbeat(mine)
    try:
        return _run_claimed(job_id=job_id, hostname=hostname, mine=mine)
    except JobLost:
        return "lost"
    except Exception as exc:
        logger.exception("tracking job %s failed", job_id)
        _fail(mine(), _failure_message(exc))
        return TrackingJobStatus.FAILED
    finally:
        heartbeat.stop()


def _failure_message(exc: BaseException) -> str:
    from celery.exceptions import SoftTimeLimitExceeded

    from workers.engine import EngineUnavailable

    if isinstance(exc, EngineUnavailable):
        return f"Tracking engine unavailable: {exc}"
    if isinstance(exc, SoftTimeLimitExceeded):
        return (
            f"The job ran past TRACKING_JOB_TIME_LIMIT ({settings.TRACKING_JOB_TIME_LIMIT} s) "
            "and was stopped."
        )
    return f"Tracking failed: {type(exc).__name__}: {exc}"


def _fail(mine: Any, message: str) -> None:
    mine.update(status=TrackingJobStatus.FAILED, finished_at=timezone.now(), error=message[:2000])


def _run_claimed(*, job_id: int, hostname: str, mine: Callable[[], Any]) -> str:
    from tracking.services.engines import stored_prompts, video_session

    job = TrackingJob.objects.select_related("video").get(pk=job_id)
    video = job.video
    ids = sorted(job.masklets.values_list("pk", flat=True))
    if not ids:
        _fail(mine(), "The job's masklets were deleted.")
        return TrackingJobStatus.FAILED
    count = video.annotation_frame_count
    masks: dict[int, list[Rle | None]] = {i: [None] * count for i in ids}
    publisher = _FramePublisher(job_id)
    done = 0
    last_write = time.monotonic()
    with video_session(video=video, engine_name=job.engine, hostname=hostname) as entry:
        entry.sync_prompts(stored_prompts(video_id=video.pk))
        model_version = entry.model_version
        engine_name = entry.engine_name
        frames = entry.session.propagate(  # type: ignore[union-attr]
            start_frame=job.start_frame,
            direction=cast(EngineDirection, job.direction),
            object_ids=ids,
        )
        for frame, by_object in frames:
            encoded = {}
            for masklet_id in ids:
                mask = by_object.get(masklet_id)
                encoded[masklet_id] = (
                    rle.encode(mask)
                    if mask is not None
                    else rle.empty(video.height or 0, video.width or 0)
                )
                masks[masklet_id][frame] = encoded[masklet_id]
            done += 1
            publisher.add(frame, encoded)
            if time.monotonic() - last_write >= PROGRESS_INTERVAL:
                publisher.flush()
                last_write = time.monotonic()
                if (
                    not mine()
                    .filter(cancel_requested=False)
                    .update(frames_done=done, heartbeat_at=timezone.now())
                ):
                    return _stop(mine)
        publisher.flush()
    if mine().filter(cancel_requested=True).exists():
        return _stop(mine)
    return _commit(
        job=job,
        mine=mine,
        masks=masks,
        engine_name=engine_name,
        model_version=model_version,
        done=done,
    )


def _stop(mine: Callable[[], Any]) -> str:
    if (
        mine()
        .filter(cancel_requested=True)
        .update(status=TrackingJobStatus.CANCELLED, finished_at=timezone.now())
    ):
        return TrackingJobStatus.CANCELLED
    raise JobLost


def _commit(
    *,
    job: TrackingJob,
    mine: Callable[[], Any],
    masks: dict[int, list[Rle | None]],
    engine_name: str,
    model_version: str,
    done: int,
) -> str:
    """Write one revision per masklet and the job's success, all or nothing."""
    video = job.video
    with transaction.atomic():
        if not mine().select_for_update().exists():
            raise JobLost
        locked = (
            Masklet.objects.select_for_update(of=("self",))
            .filter(pk__in=list(masks))
            .order_by("pk")
        )
        for masklet in locked.select_related("current_revision"):
            previous = masklet.current_revision
            frames = masks[masklet.pk]
            for k, value in enumerate(frames):
                if value is None:
                    older = previous.masks[k] if previous and k < len(previous.masks) else None
                    frames[k] = older or rle.empty(video.height or 0, video.width or 0)
            revision = revision_create(
                masklet=masklet,
                masks=[m for m in frames if m is not None],
                engine=engine_name,
                model_version=model_version,
                job=job,
                parent=previous,
                author=job.created_by,
                note=f"propagate {job.direction} from frame {job.start_frame}",
            )
            logger.info("job %s: masklet %s revision %s", job.pk, masklet.pk, revision.number)
        if not mine().update(
            status=TrackingJobStatus.SUCCEEDED,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            frames_done=done,
        ):
            raise JobLost
    return TrackingJobStatus.SUCCEEDED


def revision_create(
    *,
    masklet: Masklet,
    masks: list[Rle],
    engine: str,
    model_version: str = "",
    job: TrackingJob | None = None,
    parent: MaskletRevision | None = None,
    author: Any = None,
    note: str = "",
) -> MaskletRevision:
    """A new immutable revision (one mask per annotation frame) made current. Call inside a
    transaction holding the masklet's row lock. Captions written against an older revision are
    flagged for re-checking."""
    areas = [rle.area(m) for m in masks]
    visible = [k for k, a in enumerate(areas) if a > 0]
    prompts = [
        {
            "id": p.pk,
            "frame": p.frame,
            "points": p.points,
            "labels": p.labels,
            "box": p.box,
            "author_id": p.author_id,
        }
        for p in Prompt.objects.filter(masklet=masklet).order_by("pk")
    ]
    number = (
        MaskletRevision.objects.filter(masklet=masklet).aggregate(n=Max("number"))["n"] or 0
    ) + 1
    revision = MaskletRevision.objects.create(
        masklet=masklet,
        number=number,
        prompts=prompts,
        engine=engine,
        model_version=model_version[:200],
        masks=masks,
        bboxes=[_xywh(m) if a else None for m, a in zip(masks, areas, strict=True)],
        areas=areas,
        first_visible_frame=visible[0] if visible else None,
        last_visible_frame=visible[-1] if visible else None,
        job=job,
        parent=parent,
        note=note[:200],
        author=author,
    )
    Masklet.objects.filter(pk=masklet.pk).update(
        current_revision=revision, version=F("version") + 1
    )
    captions_flag_for_recheck(masklet=masklet)
    return revision


def _xywh(mask: Rle) -> list[int] | None:
    box = rle.bbox_xyxy(mask)
    return None if box is None else [box[0], box[1], box[2] - box[0], box[3] - box[1]]


# --- sweeper ----------------------------------------------------------------------------------


def tracking_jobs_sweep(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Jobs whose worker died (RUNNING, heartbeat older than TRACKING_HEARTBEAT_STALE_SECONDS)
    go back to the queue, or fail after TRACKING_JOB_MAX_ATTEMPTS runs; a cancelled one ends.
    QUEUED jobs sent to the own queue of a worker that is gone, and jobs QUEUED for longer than
    TRACKING_QUEUED_STALE_SECONDS while no job runs (their message was lost), are sent again
    to ``gpu`` (a duplicate message is harmless: only one run claims the job)."""
    now = now or timezone.now()
    stale_at = now - timedelta(seconds=settings.TRACKING_HEARTBEAT_STALE_SECONDS)
    stale = Q(status=TrackingJobStatus.RUNNING) & (
        Q(heartbeat_at__lt=stale_at) | Q(heartbeat_at__isnull=True, started_at__lt=stale_at)
    )
    out: dict[str, list[int]] = {"requeued": [], "failed": [], "cancelled": [], "resent": []}
    for job in TrackingJob.objects.filter(stale).only("pk", "attempts", "worker", "video_id"):
        with transaction.atomic():
            row = TrackingJob.objects.filter(stale, pk=job.pk)
            if row.filter(cancel_requested=True).update(
                status=TrackingJobStatus.CANCELLED, finished_at=now
            ):
                out["cancelled"].append(job.pk)
            elif row.filter(attempts__gte=settings.TRACKING_JOB_MAX_ATTEMPTS).update(
                status=TrackingJobStatus.FAILED,
                finished_at=now,
                error=(
                    f"The worker running this job stopped responding {job.attempts} times "
                    f"(TRACKING_JOB_MAX_ATTEMPTS={settings.TRACKING_JOB_MAX_ATTEMPTS}); "
                    "giving up. Check the GPU workers' logs (out of memory?)."
                ),
            ):
                out["failed"].append(job.pk)
            elif row.update(status=TrackingJobStatus.QUEUED, worker=""):
                if job.worker:
                    routing.session_holder_forget(video_id=job.video_id, hostname=job.worker)
                job_id = job.pk
                transaction.on_commit(functools.partial(tracking_job_enqueue, job_id=job_id))
                out["requeued"].append(job.pk)
    # Sent to the own queue of a worker that has gone since: nobody will take it from there.
    for job_id in TrackingJob.objects.filter(status=TrackingJobStatus.QUEUED).values_list(
        "pk", flat=True
    ):
        queue = cache.get(_enqueued_key(job_id))
        private = isinstance(queue, str) and queue.startswith(f"{routing.GPU_QUEUE}.")
        if private and not routing.worker_alive(queue[len(routing.GPU_QUEUE) + 1 :]):
            tracking_job_enqueue(job_id=job_id)
            out["resent"].append(job_id)
    fresh = Q(status=TrackingJobStatus.RUNNING) & ~stale
    if not TrackingJob.objects.filter(fresh).exists():
        waiting_since = now - timedelta(seconds=settings.TRACKING_QUEUED_STALE_SECONDS)
        waiting = TrackingJob.objects.filter(
            status=TrackingJobStatus.QUEUED, created_at__lt=waiting_since
        ).values_list("pk", flat=True)
        for job_id in waiting:
            if cache.get(_enqueued_key(job_id)) is None and job_id not in out["resent"]:
                tracking_job_enqueue(job_id=job_id)
                out["resent"].append(job_id)
    return out


def tracking_sweep() -> dict[str, list[int]]:
    """The periodic ``tracking.sweep``: lost and stuck jobs (idle sessions are closed by each
    GPU worker's heartbeat thread, and their registry entries expire by themselves)."""
    close_old_connections()
    return tracking_jobs_sweep()
