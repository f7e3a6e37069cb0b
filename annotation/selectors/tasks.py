"""What the annotation screens need to open a task, in one response."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q

from annotation.models import Draft, Project, Task, TaskKind, TaskStatus
from annotation.selectors.videos import video_payload

QUEUES: dict[str, list[str]] = {
    "select": [TaskKind.SELECT],
    "caption": [TaskKind.CAPTION],
    "fgqa": [TaskKind.FGQA_ANSWER, TaskKind.FGQA_DISTRACTORS],
    "review": [TaskKind.REVIEW, TaskKind.FGQA_REVIEW],
}
ANNOTATOR_QUEUES = ("select", "caption", "fgqa")


def project_payload(project: Project) -> dict[str, Any]:
    return {
        "id": project.pk,
        "name": project.name,
        "kind": project.kind,
        "guidelines": project.guidelines,
        "annotation_fps": project.annotation_fps,
        "out_of_frame_caption": project.out_of_frame_caption,
        "min_caption_chars": project.min_caption_chars,
        "max_caption_chars": project.max_caption_chars,
        "lease_minutes": project.lease_minutes,
    }


def masklet_summary(masklet: Any) -> dict[str, Any]:
    revision = masklet.current_revision
    return {
        "id": masklet.pk,
        "object_id": masklet.object_id,
        "category": masklet.category,
        "source": masklet.source,
        "status": masklet.status,
        "motion_score": masklet.motion_score,
        "version": masklet.version,
        "revision": None
        if revision is None
        else {
            "id": revision.pk,
            "number": revision.number,
            "engine": revision.engine,
            "first_visible_frame": revision.first_visible_frame,
            "last_visible_frame": revision.last_visible_frame,
            "visible": [bool(a) for a in revision.areas],
        },
    }


def _question_payload(q: Any, *, fresh: bool = False) -> dict[str, Any]:
    """``fresh``: as an unanswered question looks (gold copies and second annotations must not
    show the answer they are scored against)."""
    return {
        "id": q.pk,
        "question": q.question,
        "model_answer": q.model_answer,
        "answer": "" if fresh else q.answer,
        "q_type": "" if fresh else q.q_type,
        "status": "pending" if fresh else q.status,
        "is_benchmark": q.is_benchmark,
        "imported_distractors": q.imported_distractors,
        "distractors": [] if fresh else q.distractors,
    }


def caption_revision_payload(revision: Any) -> dict[str, Any] | None:
    if revision is None:
        return None
    return {
        "id": revision.pk,
        "number": revision.number,
        "author": revision.author.username if revision.author else None,
        "masklet_revision": revision.masklet_revision.number,
        "needs_recheck": revision.needs_recheck,
        "segments": revision.segments,
        "created_at": revision.created_at,
    }


def _review_context(task: Task, data: dict[str, Any]) -> None:
    """What review and rework screens show besides the item: the current captions, whether
    they must be re-checked, the history so far, and the reasons a reviewer can give."""
    from annotation.models import CaptionRevision, FgqaReviewReason, ReviewReason
    from annotation.selectors.history import (
        fgqa_answer_rows,
        masklet_history_summary,
        review_rows,
    )
    from tracking.models import Masklet

    if task.masklet_id is not None and (task.kind == TaskKind.REVIEW or task.rework_of_id):
        masklet = Masklet.objects.select_related("current_revision").get(pk=task.masklet_id)
        latest = (
            CaptionRevision.objects.filter(masklet=masklet)
            .select_related("author", "masklet_revision")
            .order_by("-number")
            .first()
        )
        data["captions"] = caption_revision_payload(latest)
        if latest is not None:
            data["captions"]["stale"] = (
                latest.needs_recheck or latest.masklet_revision_id != masklet.current_revision_id
            )
        data["history"] = masklet_history_summary(masklet=masklet)
    if task.fgqa_question_id is not None and (
        task.kind == TaskKind.FGQA_REVIEW or task.rework_of_id
    ):
        from annotation.models import FgqaQuestion

        question = FgqaQuestion.objects.get(pk=task.fgqa_question_id)
        data["history"] = {
            "answers": fgqa_answer_rows(question=question),
            "reviews": review_rows(question=question),
        }
    if task.kind in (TaskKind.REVIEW, TaskKind.FGQA_REVIEW):
        codes = ReviewReason if task.kind == TaskKind.REVIEW else FgqaReviewReason
        data["review_reasons"] = [{"code": c.value, "label": str(c.label)} for c in codes]


def task_payload(task: Task) -> dict[str, Any]:
    """Everything the editor needs for ``task``. Gold copies and second annotations look
    exactly like first-time tasks of their kind (a test holds this)."""
    from annotation.services.fgqa import fgqa_questions_for_task
    from annotation.services.gold import gold_attempt_masklets, shadow_questions
    from tracking.models import Masklet, MaskletStatus

    shadow = task.is_gold or task.is_duplicate

    data: dict[str, Any] = {
        "id": task.pk,
        "kind": task.kind,
        "status": task.status,
        "version": task.version,
        "priority": task.priority,
        "is_rework": task.rework_of_id is not None,
        "notes": task.notes,
        "leased_at": task.leased_at,
        "lease_expires_at": task.lease_expires_at,
        "project": project_payload(task.project),
        "video": None,
        "masklet": None,
        "masklets": [],
        "questions": [],
        "captions": None,
        "history": None,
        "review_reasons": [],
    }
    if task.video is not None:
        data["video"] = video_payload(task.video, with_media=True)
    if task.masklet_id is not None:
        masklet = Masklet.objects.select_related("current_revision").get(pk=task.masklet_id)
        data["masklet"] = masklet_summary(masklet)
        if shadow:
            data["masklet"]["status"] = MaskletStatus.SELECTED
    if task.kind == TaskKind.SELECT:
        shown = (
            gold_attempt_masklets(task=task)
            if task.is_gold
            else Masklet.objects.filter(video=task.video).exclude(status=MaskletStatus.DISCARDED)
        )
        shown = shown.select_related("current_revision").order_by(
            F("motion_score").desc(nulls_last=True), "object_id"
        )
        data["masklets"] = [masklet_summary(m) for m in shown]
    if shadow and task.kind == TaskKind.FGQA_ANSWER:
        data["questions"] = [_question_payload(q, fresh=True) for q in shadow_questions(task=task)]
    elif task.kind == TaskKind.FGQA_ANSWER and task.rework_of_id and task.fgqa_question_id:
        from annotation.models import FgqaQuestion

        question = FgqaQuestion.objects.get(pk=task.fgqa_question_id)
        data["questions"] = [_question_payload(question)]
    elif task.kind in (TaskKind.FGQA_ANSWER, TaskKind.FGQA_DISTRACTORS, TaskKind.FGQA_REVIEW):
        data["questions"] = [_question_payload(q) for q in fgqa_questions_for_task(task=task)]
    _review_context(task, data)
    return data


def draft_payload(draft: Draft | None) -> dict[str, Any]:
    if draft is None:
        return {"version": 0, "data": None, "updated_at": None}
    return {"version": draft.version, "data": draft.data, "updated_at": draft.updated_at}


def queue_counts(*, project: Project, user: Any) -> dict[str, dict[str, int]]:
    """Open and in-progress tasks per queue, and how many of them this user may take."""
    rows = (
        Task.objects.filter(project=project)
        .values("kind")
        .annotate(
            open=Count("id", filter=Q(status=TaskStatus.OPEN)),
            leased=Count("id", filter=Q(status=TaskStatus.LEASED)),
            mine=Count("id", filter=Q(status=TaskStatus.LEASED, lease_owner_id=user.pk)),
        )
    )
    by_kind: dict[str, dict[str, int]] = {
        r["kind"]: {"open": r["open"], "leased": r["leased"], "mine": r["mine"]} for r in rows
    }
    empty: dict[str, int] = {}
    return {
        queue: {
            key: sum(by_kind.get(kind, empty).get(key, 0) for kind in kinds)
            for key in ("open", "leased", "mine")
        }
        for queue, kinds in QUEUES.items()
    }
