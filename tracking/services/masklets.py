"""Masklets from clicks: create, refine on any frame, recategorise, delete a draft.

A click is answered by the GPU worker that holds the video's session (tracking.services.routing):
the request stores the prompt, enqueues ``tracking.click`` and waits for the worker to write the
answer to the cache (results are otherwise ignored in this deployment). If no worker answers in
``TRACKING_CLICK_TIMEOUT_SECONDS`` the prompt (and a masklet made for it) is removed again and
the caller gets a 503: nothing is left half-stored.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Max

from annotation.access import project_role
from annotation.errors import ConflictError, NotFoundError, ServiceError
from annotation.models import Role, Task, TaskEvent, TaskEventKind, TaskKind, Video, VideoStatus
from annotation.services.reviews import mask_edit_task
from tracking.models import (
    Category,
    Masklet,
    MaskletSource,
    MaskletStatus,
    Prompt,
    TrackingJob,
    TrackingJobStatus,
)
from tracking.services import routing
from workers import rle
from workers.rle import Rle

logger = logging.getLogger(__name__)

MAX_POINTS = 64
ACTIVE_JOB = (TrackingJobStatus.QUEUED, TrackingJobStatus.RUNNING)


class TrackingUnavailable(ServiceError):
    status = 503
    code = "tracking_unavailable"


@dataclass
class ClickResult:
    masklet: Masklet
    frame: int
    mask: Rle
    bbox: list[int] | None


def bbox_xywh(mask: Rle | dict[str, Any]) -> list[int] | None:
    box = rle.bbox_xyxy(mask)
    return None if box is None else [box[0], box[1], box[2] - box[0], box[3] - box[1]]


# --- who may change masks ------------------------------------------------------------------


def video_get(*, video_id: int) -> Video:
    video = Video.objects.filter(pk=video_id).select_related("project").first()
    if video is None:
        raise NotFoundError("Video not found.")
    return video


def masklet_get(*, masklet_id: int) -> Masklet:
    masklet = (
        Masklet.objects.filter(pk=masklet_id)
        .select_related("video__project", "current_revision")
        .first()
    )
    if masklet is None:
        raise NotFoundError("Masklet not found.")
    return masklet


def edit_task_check(
    *, user: Any, video: Video, task_id: int | None, masklet: Masklet | None = None
) -> Task | None:
    """The leased task ``user`` changes masks under (annotation.services.reviews.mask_edit_task);
    project admins may always (their task, if they name one, is recorded). Non-members: 404."""
    role = project_role(user=user, project=video.project_id)
    if role is None:
        raise NotFoundError("Video not found." if masklet is None else "Masklet not found.")
    if role == Role.ADMIN:
        if task_id is None:
            return None
        return Task.objects.filter(pk=task_id, video=video).first()
    if task_id is None:
        raise ServiceError(
            "Name the task you work under (task_id).", errors={"task_id": ["Required."]}
        )
    return mask_edit_task(user=user, video_id=video.pk, masklet=masklet, task_id=task_id)


def video_ready_check(video: Video) -> None:
    if video.status != VideoStatus.READY or video.annotation_frame_count < 1:
        raise ServiceError(f"Video {video.pk} is not ready for tracking (it is {video.status}).")


def active_job(*, video_id: int) -> TrackingJob | None:
    return (
        TrackingJob.objects.filter(video_id=video_id, status__in=ACTIVE_JOB).order_by("pk").first()
    )


def _refuse_while_tracking(video: Video) -> None:
    job = active_job(video_id=video.pk)
    if job is not None:
        from tracking.selectors.jobs import job_payload

        raise ConflictError(
            f"Tracking job {job.pk} is {job.status} on this video; wait for it to finish or "
            "cancel it before clicking.",
            current={"job": job_payload(job)},
            code="tracking_running",
        )


# --- prompt input -------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def prompt_check(*, video: Video, frame: Any, points: Any, labels: Any, box: Any) -> dict[str, Any]:
    """Frame, clicks and box in range for the video's annotation frames; ServiceError naming the
    field otherwise. Returns the prompt's stored form."""
    width, height, count = video.width or 0, video.height or 0, video.annotation_frame_count
    if not isinstance(frame, int) or isinstance(frame, bool) or not 0 <= frame < count:
        raise ServiceError(
            f"frame must be an annotation frame 0..{count - 1}.",
            errors={"frame": [f"Out of range 0..{count - 1}."]},
        )
    points = [] if points is None else points
    labels = [] if labels is None else labels
    if not isinstance(points, list) or not isinstance(labels, list):
        raise ServiceError("points and labels must be lists.")
    if len(points) != len(labels):
        raise ServiceError(
            f"{len(points)} points but {len(labels)} labels: give each point a label.",
            errors={"labels": ["One label per point."]},
        )
    if len(points) > MAX_POINTS:
        raise ServiceError(
            f"At most {MAX_POINTS} points per frame.", errors={"points": ["Too many."]}
        )
    for point in points:
        if not (isinstance(point, list | tuple) and len(point) == 2 and all(map(_number, point))):
            raise ServiceError("Each point must be [x, y].", errors={"points": ["Not [x, y]."]})
        x, y = point
        if not (0 <= x < width and 0 <= y < height):
            raise ServiceError(
                f"Point [{x}, {y}] is outside the {width}x{height} frame.",
                errors={"points": ["Outside the frame."]},
            )
    if any(label not in (0, 1) or isinstance(label, bool) for label in labels):
        raise ServiceError(
            "labels must be 1 (positive) or 0 (negative).", errors={"labels": ["Not 0 or 1."]}
        )
    if box is not None:
        if not (isinstance(box, list | tuple) and len(box) == 4 and all(map(_number, box))):
            raise ServiceError("box must be [x1, y1, x2, y2].", errors={"box": ["Not 4 numbers."]})
        x1, y1, x2, y2 = box
        if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
            raise ServiceError(
                f"box must satisfy 0 <= x1 < x2 <= {width} and 0 <= y1 < y2 <= {height}.",
                errors={"box": ["Empty or outside the frame."]},
            )
        box = [float(v) for v in box]
    if not points and box is None:
        raise ServiceError("Give at least one point or a box.", errors={"points": ["Required."]})
    return {
        "frame": frame,
        "points": [[float(x), float(y)] for x, y in points],
        "labels": [int(v) for v in labels],
        "box": box,
    }


# --- writes -------------------------------------------------------------------------------


def masklet_create(
    *,
    user: Any,
    video_id: int,
    task_id: int | None,
    category: str,
    frame: Any,
    points: Any,
    labels: Any,
    box: Any = None,
) -> ClickResult:
    """A new draft masklet from clicks on one frame, with that frame's mask."""
    video = video_get(video_id=video_id)
    task = edit_task_check(user=user, video=video, task_id=task_id)
    video_ready_check(video)
    if category not in Category.values:
        raise ServiceError(
            f"category must be one of {', '.join(Category.values)}.",
            errors={"category": ["Unknown category."]},
        )
    data = prompt_check(video=video, frame=frame, points=points, labels=labels, box=box)
    _refuse_while_tracking(video)
    with transaction.atomic():
        Video.objects.select_for_update().filter(pk=video.pk).first()
        top = Masklet.objects.filter(video=video).aggregate(m=Max("object_id"))["m"] or 0
        masklet = Masklet.objects.create(
            video=video,
            object_id=top + 1,
            category=category,
            source=MaskletSource.CLICKS,
            status=MaskletStatus.DRAFT,
            select_task=task if task is not None and task.kind == TaskKind.SELECT else None,
            created_by=user if user.is_authenticated else None,
        )
        prompt = Prompt.objects.create(masklet=masklet, author=masklet.created_by, **data)
    try:
        mask = click_dispatch(prompt_id=prompt.pk, video_id=video.pk)
    except BaseException:
        Masklet.objects.filter(pk=masklet.pk).delete()
        raise
    _click_record(task=task, user=user, masklet=masklet, prompt=prompt, created=True)
    return ClickResult(masklet_get(masklet_id=masklet.pk), data["frame"], mask, bbox_xywh(mask))


def masklet_prompt_add(
    *,
    user: Any,
    masklet_id: int,
    task_id: int | None,
    frame: Any,
    points: Any,
    labels: Any,
    box: Any = None,
    replace: bool = False,
) -> ClickResult:
    """Refine a masklet on any frame. The clicks are added to the ones given earlier on that
    frame (clicks sent again are not doubled; a box replaces the earlier box); with
    ``replace`` they replace them (undo, clear)."""
    masklet = masklet_get(masklet_id=masklet_id)
    video = masklet.video
    task = edit_task_check(user=user, video=video, task_id=task_id, masklet=masklet)
    video_ready_check(video)
    if masklet.status == MaskletStatus.DISCARDED:
        raise ServiceError("This masklet was discarded.")
    data = prompt_check(video=video, frame=frame, points=points, labels=labels, box=box)
    if not replace:
        data = _merged(masklet=masklet, data=data)
    _refuse_while_tracking(video)
    author = user if user.is_authenticated else None
    prompt = Prompt.objects.create(masklet=masklet, author=author, **data)
    try:
        mask = click_dispatch(prompt_id=prompt.pk, video_id=video.pk)
    except BaseException:
        Prompt.objects.filter(pk=prompt.pk).delete()
        raise
    _click_record(task=task, user=user, masklet=masklet, prompt=prompt, created=False)
    return ClickResult(masklet_get(masklet_id=masklet.pk), data["frame"], mask, bbox_xywh(mask))


def _merged(*, masklet: Masklet, data: dict[str, Any]) -> dict[str, Any]:
    earlier = Prompt.objects.filter(masklet=masklet, frame=data["frame"]).order_by("-pk").first()
    if earlier is None:
        return data
    pairs = list(zip(earlier.points or [], earlier.labels or [], strict=False))
    seen = {(float(p[0]), float(p[1]), int(v)) for p, v in pairs}
    for point, label in zip(data["points"], data["labels"], strict=True):
        key = (point[0], point[1], label)
        if key not in seen:
            seen.add(key)
            pairs.append((point, label))
    if len(pairs) > MAX_POINTS:
        raise ServiceError(
            f"At most {MAX_POINTS} points per frame.", errors={"points": ["Too many."]}
        )
    return {
        "frame": data["frame"],
        "points": [list(p) for p, _ in pairs],
        "labels": [int(v) for _, v in pairs],
        "box": data["box"] if data["box"] is not None else earlier.box,
    }


def _click_record(
    *, task: Task | None, user: Any, masklet: Masklet, prompt: Prompt, created: bool
) -> None:
    if task is None:
        return
    TaskEvent.objects.create(
        task=task,
        user_id=user.pk,
        kind=TaskEventKind.CLICK,
        data={
            "masklet": masklet.pk,
            "prompt": prompt.pk,
            "frame": prompt.frame,
            "created": created,
        },
    )


def masklet_update(*, user: Any, masklet_id: int, task_id: int | None, category: Any) -> Masklet:
    masklet = masklet_get(masklet_id=masklet_id)
    edit_task_check(user=user, video=masklet.video, task_id=task_id, masklet=masklet)
    if category not in Category.values:
        raise ServiceError(
            f"category must be one of {', '.join(Category.values)}.",
            errors={"category": ["Unknown category."]},
        )
    Masklet.objects.filter(pk=masklet.pk).update(category=category, version=F("version") + 1)
    return masklet_get(masklet_id=masklet.pk)


def masklet_delete(*, user: Any, masklet_id: int, task_id: int | None) -> None:
    """Delete a draft masklet made from clicks in this task (a mistake), with its prompts."""
    masklet = masklet_get(masklet_id=masklet_id)
    task = edit_task_check(user=user, video=masklet.video, task_id=task_id, masklet=masklet)
    if masklet.status != MaskletStatus.DRAFT or masklet.source != MaskletSource.CLICKS:
        raise ServiceError(
            f"Only a draft masklet made from clicks can be deleted; this one is "
            f"{masklet.status} ({masklet.source}).",
            code="not_draft",
        )
    if task is not None and masklet.select_task_id != task.pk:
        raise ServiceError("Only masklets built in this task can be deleted.", code="not_draft")
    with transaction.atomic():
        locked = Masklet.objects.select_for_update().filter(pk=masklet.pk).first()
        if locked is None:
            return
        if TrackingJob.objects.filter(masklets=locked, status__in=ACTIVE_JOB).exists():
            raise ConflictError(
                "A tracking job is running on this masklet; cancel it first.",
                code="tracking_running",
            )
        locked.delete()


# --- the click round trip -----------------------------------------------------------------


def click_result_key(prompt_id: int, token: str) -> str:
    return f"tracking:click:{prompt_id}:{token}"


def click_dispatch(*, prompt_id: int, video_id: int) -> Rle:
    """Send the click to the worker holding the video's session (else any GPU worker) and wait
    for its answer. Raises TrackingUnavailable when none comes in time."""
    from tracking.tasks import click

    timeout = float(settings.TRACKING_CLICK_TIMEOUT_SECONDS)
    # A fresh token per request: an answer meant for an earlier request never matches.
    token = uuid.uuid4().hex
    key = click_result_key(prompt_id, token)
    queue = routing.queue_for_video(video_id=video_id)
    click.apply_async((prompt_id, token), queue=queue, expires=timeout)
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        answer = cache.get(key)
        if answer is not None:
            break
        if time.monotonic() >= deadline:
            routing.session_holder_forget(video_id=video_id)
            raise TrackingUnavailable(
                f"No tracking worker answered within {timeout:g} s; try again in a moment "
                "(if it persists, the GPU workers are down or overloaded)."
            )
        time.sleep(pause)
        pause = min(pause * 1.5, 0.05)
    cache.delete(key)
    if "error" in answer:
        error = ServiceError(answer["error"], code=answer.get("code") or "tracking_failed")
        error.status = int(answer.get("status") or 400)
        raise error
    return answer["mask"]  # type: ignore[no-any-return]


def click_run(*, prompt_id: int, token: str, hostname: str) -> None:
    """Worker side of a click: apply the stored prompt in the video's session (rebuilt from
    the stored prompts when it does not reflect them) and publish that frame's mask."""
    from tracking.services.engines import engine_prompt, stored_prompts, video_session
    from workers.engine import EngineUnavailable
    from workers.sessions import SessionBusy

    prompt = Prompt.objects.select_related("masklet__video").filter(pk=prompt_id).first()
    if prompt is None:
        return  # the request gave up and removed it
    video = prompt.masklet.video
    answer: dict[str, Any]
    try:
        with video_session(
            video=video,
            engine_name=settings.TRACKER,
            hostname=hostname,
            timeout=float(settings.TRACKING_CLICK_TIMEOUT_SECONDS) * 0.8,
        ) as entry:
            entry.sync_prompts(stored_prompts(video_id=video.pk, before=prompt.pk))
            mask = entry.add_prompt(engine_prompt(prompt))
        encoded = rle.encode(mask)
        Prompt.objects.filter(pk=prompt_id).update(mask=encoded)
        answer = {"mask": encoded}
    except SessionBusy:
        answer = {
            "error": "The tracker is busy with this video (a propagation); try again when it ends.",
            "status": 409,
            "code": "session_busy",
        }
    except EngineUnavailable as exc:
        answer = {"error": str(exc), "status": 503, "code": "engine_unavailable"}
    except (ValueError, IndexError, KeyError) as exc:
        answer = {"error": f"The tracker refused this prompt: {exc}", "status": 400}
    except Exception as exc:
        logger.exception("click on prompt %s failed", prompt_id)
        answer = {
            "error": f"The tracker failed: {type(exc).__name__}: {exc}",
            "status": 503,
            "code": "tracking_failed",
        }
    cache.set(click_result_key(prompt_id, token), answer, timeout=300)
