"""Masks for a frame range, revisions of a masklet, and comparisons of two revisions.

Who sees which masklets of a video: project admins and reviewers all of them; an annotator
those of the tasks they hold a live lease on for that video (a pass-1 task: every masklet of
the video, except in a gold copy: the ones they made for it; a task on one masklet: that one).
Non-members get 404, members with nothing to see 403.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from annotation.access import STAFF_ROLES, project_role
from annotation.errors import ForbiddenError, NotFoundError, ServiceError
from annotation.models import Task, TaskKind, TaskStatus, Video
from annotation.selectors.history import mask_frame_ious
from tracking.models import Masklet, MaskletRevision, MaskletStatus, Prompt

MAX_FRAMES = 600


def visible_masklet_ids(*, user: Any, video_id: int) -> set[int]:
    video = Video.objects.filter(pk=video_id).only("pk", "project_id").first()
    if video is None:
        raise NotFoundError("Video not found.")
    role = project_role(user=user, project=video.project_id)
    if role is None:
        raise NotFoundError("Video not found.")
    masklets = Masklet.objects.filter(video_id=video_id)
    if role in STAFF_ROLES:
        return set(masklets.values_list("pk", flat=True))
    leases = Task.objects.filter(
        lease_owner_id=user.pk,
        status=TaskStatus.LEASED,
        lease_expires_at__gte=timezone.now(),
        video_id=video_id,
    )
    if not leases.exists():
        raise ForbiddenError(
            "You see masks of a video only while you hold a task on it.", code="no_lease"
        )
    visible: set[int] = set()
    for task in leases:
        if task.masklet_id is not None:
            visible.add(task.masklet_id)
        elif task.kind == TaskKind.SELECT and task.is_gold:
            from annotation.services.gold import gold_attempt_masklets

            visible |= set(gold_attempt_masklets(task=task).values_list("pk", flat=True))
        elif task.kind == TaskKind.SELECT:
            visible |= set(
                masklets.exclude(status=MaskletStatus.DISCARDED).values_list("pk", flat=True)
            )
    return visible


def masklet_for_read(*, user: Any, masklet_id: int) -> Masklet:
    masklet = Masklet.objects.filter(pk=masklet_id).select_related("video").first()
    if masklet is None:
        raise NotFoundError("Masklet not found.")
    try:
        visible = visible_masklet_ids(user=user, video_id=masklet.video_id)
    except NotFoundError:
        raise NotFoundError("Masklet not found.") from None
    if masklet.pk not in visible:
        raise ForbiddenError("This masklet is not part of a task you hold.", code="no_lease")
    return masklet


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ServiceError(
            f"{name} must be an integer.", errors={name: ["Not an integer."]}
        ) from None


def video_masks(
    *,
    user: Any,
    video_id: int,
    start: Any,
    end: Any,
    masklet_ids: list[int] | None = None,
    revision_id: int | None = None,
) -> dict[str, Any]:
    """Current masks of the visible masklets for frames start..end (inclusive). A masklet with
    no revision shows the masks of its prompted frames only; prompts newer than the current
    revision (refinements not tracked yet) show over it on their frames."""
    visible = visible_masklet_ids(user=user, video_id=video_id)
    video = Video.objects.get(pk=video_id)
    count = video.annotation_frame_count
    start, end = _int(start, "start"), _int(end, "end")
    if not 0 <= start <= end < count:
        raise ServiceError(
            f"Frames must satisfy 0 <= start <= end <= {count - 1}.",
            errors={"end": ["Out of range."]},
        )
    if end - start + 1 > MAX_FRAMES:
        raise ServiceError(
            f"At most {MAX_FRAMES} frames per call.", errors={"end": ["Range too long."]}
        )
    wanted = visible if masklet_ids is None else visible & set(masklet_ids)
    if masklet_ids is not None and set(masklet_ids) - visible:
        raise ServiceError(
            "Some masklets are not visible to you or not in this video.",
            errors={"masklet_ids": ["Unknown masklet."]},
        )
    if revision_id is not None and len(wanted) != 1:
        raise ServiceError(
            "revision needs exactly one masklet in masklet_ids.",
            errors={"revision": ["Name one masklet."]},
        )
    masklets = Masklet.objects.filter(pk__in=wanted).order_by("pk")
    out: dict[str, Any] = {}
    for masklet in masklets:
        revision: MaskletRevision | None
        if revision_id is not None:
            revision = MaskletRevision.objects.filter(pk=revision_id, masklet=masklet).first()
            if revision is None:
                raise NotFoundError(f"Masklet {masklet.pk} has no revision {revision_id}.")
        else:
            revision = (
                MaskletRevision.objects.filter(pk=masklet.current_revision_id).first()
                if masklet.current_revision_id
                else None
            )
        frames: list[Any] = [None] * (end - start + 1)
        if revision is not None:
            frames = list(revision.masks[start : end + 1])
            frames += [None] * (end - start + 1 - len(frames))
        if revision_id is None:
            newer = Prompt.objects.filter(
                masklet=masklet, frame__gte=start, frame__lte=end, mask__isnull=False
            )
            if revision is not None:
                newer = newer.filter(created_at__gt=revision.created_at)
            for frame, mask in newer.order_by("pk").values_list("frame", "mask"):
                frames[frame - start] = mask
        out[str(masklet.pk)] = {
            "revision": revision.number if revision is not None else None,
            "frames": frames,
        }
    return {"size": [video.height, video.width], "start": start, "end": end, "masklets": out}


def revision_rows(*, user: Any, masklet_id: int) -> list[dict[str, Any]]:
    masklet = masklet_for_read(user=user, masklet_id=masklet_id)
    revisions = (
        MaskletRevision.objects.filter(masklet=masklet)
        .select_related("author")
        .defer("masks", "bboxes", "areas")
        .order_by("number")
    )
    return [
        {
            "id": r.pk,
            "number": r.number,
            "engine": r.engine,
            "model_version": r.model_version,
            "author": r.author.username if r.author else None,
            "created_at": r.created_at,
            "note": r.note,
            "prompt_count": len(r.prompts or []),
            "first_visible_frame": r.first_visible_frame,
            "last_visible_frame": r.last_visible_frame,
            "job_id": r.job_id,
        }
        for r in revisions
    ]


def revision_compare(*, user: Any, masklet_id: int, a: Any, b: Any) -> dict[str, Any]:
    """Per-frame IoU of revisions number ``a`` and ``b``; None where both masks are empty."""
    masklet = masklet_for_read(user=user, masklet_id=masklet_id)
    a, b = _int(a, "a"), _int(b, "b")
    revisions = {
        r.number: r for r in MaskletRevision.objects.filter(masklet=masklet, number__in=[a, b])
    }
    for number in (a, b):
        if number not in revisions:
            raise NotFoundError(f"Masklet {masklet.pk} has no revision {number}.")
    first, second = revisions[a], revisions[b]
    ious = mask_frame_ious(first.masks, second.masks)
    both_empty = [not x and not y for x, y in zip(first.areas, second.areas, strict=False)]
    per_frame: list[float | None] = [
        None if k < len(both_empty) and both_empty[k] else v for k, v in enumerate(ious)
    ]
    known = [v for v in per_frame if v is not None]
    return {
        "a": a,
        "b": b,
        "iou": per_frame,
        "mean_iou": sum(known) / len(known) if known else None,
        "changed_frames": [
            k for k, v in enumerate(ious) if v is None or (per_frame[k] is not None and v < 1.0)
        ],
    }
