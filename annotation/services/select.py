"""Pass 1: the annotator submits the masklets they built (or accepted) for a video."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F

from annotation.errors import ServiceError
from annotation.models import Draft, Task, TaskExclusion, TaskKind
from annotation.services.queue import task_check_version, task_finish, task_leased


def select_submit(
    *,
    task_id: int,
    user: Any,
    masklets: list[dict[str, Any]],
    rejected: list[int],
    base_version: int,
) -> list[Task]:
    """Accept the listed masklets (each with its category), reject the listed candidates, and
    queue one caption task per accepted masklet for someone other than ``user``."""
    from tracking.models import Category, Masklet, MaskletStatus

    with transaction.atomic():
        task = task_leased(task_id=task_id, user=user, lock=True)
        if task.kind != TaskKind.SELECT:
            raise ServiceError("This is not a pass-1 task.")
        if task.is_gold or task.rework_of_id is not None:
            raise ServiceError(
                "Submit this task through annotation.services.gold.shadow_submit "
                "or annotation.services.reviews.mask_rework_submit."
            )
        task_check_version(task, base_version)
        if not masklets:
            raise ServiceError(
                "Accept at least one masklet, or use \u201cNo interesting moving object\u201d."
            )
        ids = [int(m.get("id") or 0) for m in masklets]
        if len(set(ids)) != len(ids):
            raise ServiceError("A masklet is listed twice.")
        if set(ids) & set(rejected):
            raise ServiceError("A masklet cannot be both accepted and rejected.")
        found = {
            m.pk: m
            for m in Masklet.objects.select_for_update(of=("self",))
            .filter(pk__in=[*ids, *rejected], video=task.video)
            .select_related("current_revision")
        }
        missing = [i for i in [*ids, *rejected] if i not in found]
        if missing:
            raise ServiceError(f"Masklet {missing[0]} does not belong to this video.")
        total = task.video.annotation_frame_count if task.video else 0
        for entry in masklets:
            masklet = found[entry["id"]]
            category = entry.get("category", masklet.category)
            if category not in Category.values:
                raise ServiceError(
                    f"Masklet {masklet.object_id}: category must be one of "
                    f"{', '.join(Category.values)}."
                )
            revision = masklet.current_revision
            if revision is None or len(revision.masks) != total:
                raise ServiceError(
                    f"Masklet {masklet.object_id} is not tracked through the whole video yet: "
                    "run Track first."
                )
            if revision.first_visible_frame is None:
                raise ServiceError(f"Masklet {masklet.object_id} is empty on every frame.")
            Masklet.objects.filter(pk=masklet.pk).update(
                category=category,
                status=MaskletStatus.SELECTED,
                select_task=task,
                version=F("version") + 1,
            )
        Masklet.objects.filter(pk__in=rejected).update(
            status=MaskletStatus.REJECTED, select_task=task, version=F("version") + 1
        )
        task_finish(task=task, user=user)
        follow_ups = [
            Task(
                project=task.project,
                kind=TaskKind.CAPTION,
                video=task.video,
                masklet_id=masklet_id,
                priority=task.priority,
            )
            for masklet_id in ids
        ]
        Task.objects.bulk_create(follow_ups)
        created = list(
            Task.objects.filter(kind=TaskKind.CAPTION, masklet_id__in=ids, status="open")
        )
        # The pass-2 annotator of a video is never its pass-1 annotator.
        TaskExclusion.objects.bulk_create(
            [TaskExclusion(task=t, user_id=user.pk) for t in created], ignore_conflicts=True
        )
        Draft.objects.filter(task=task).delete()
    return created
