"""Who changed what and when: the revisions of a masklet, its captions, its reviews, and diffs.

Masklet revisions and caption revisions are immutable, so a history is a plain listing and a
diff compares two stored rows. Gold copies and second annotations never write to an item, so
they do not appear here.
"""

from __future__ import annotations

import difflib
from itertools import zip_longest
from typing import Any

from annotation.errors import NotFoundError
from annotation.models import CaptionRevision, FgqaAnswer, FgqaQuestion, Review, Task
from tracking.models import Masklet, MaskletRevision
from workers import rle


def _name(user: Any) -> str | None:
    return user.username if user is not None else None


def mask_frame_ious(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[float | None]:
    """Per-frame mask IoU (two empty masks agree: 1.0); None where one side has no frame."""
    return [None if x is None or y is None else rle.iou(x, y) for x, y in zip_longest(a, b)]


def masklet_get(*, masklet_id: int) -> Masklet:
    masklet = (
        Masklet.objects.select_related("video", "current_revision").filter(pk=masklet_id).first()
    )
    if masklet is None:
        raise NotFoundError("Masklet not found.")
    return masklet


def mask_revision_rows(*, masklet: Masklet) -> list[dict[str, Any]]:
    revisions = (
        MaskletRevision.objects.filter(masklet=masklet)
        .select_related("author", "parent")
        .only(
            "pk",
            "number",
            "engine",
            "model_version",
            "prompts",
            "job_id",
            "note",
            "first_visible_frame",
            "last_visible_frame",
            "created_at",
            "author__username",
            "parent__number",
        )
        .order_by("number")
    )
    return [
        {
            "id": r.pk,
            "number": r.number,
            "author": _name(r.author),
            "engine": r.engine,
            "model_version": r.model_version,
            "prompts": len(r.prompts or []),
            "job_id": r.job_id,
            "parent": r.parent.number if r.parent else None,
            "note": r.note,
            "first_visible_frame": r.first_visible_frame,
            "last_visible_frame": r.last_visible_frame,
            "current": r.pk == masklet.current_revision_id,
            "created_at": r.created_at,
        }
        for r in revisions
    ]


def caption_revision_rows(*, masklet: Masklet) -> list[dict[str, Any]]:
    revisions = (
        CaptionRevision.objects.filter(masklet=masklet)
        .select_related("author", "task", "masklet_revision")
        .order_by("number")
    )
    return [
        {
            "id": c.pk,
            "number": c.number,
            "author": _name(c.author),
            "task_id": c.task_id,
            "task_kind": c.task.kind if c.task else None,
            "masklet_revision": c.masklet_revision.number,
            "needs_recheck": c.needs_recheck,
            "segments": c.segments,
            "created_at": c.created_at,
        }
        for c in revisions
    ]


def review_rows(*, masklet: Masklet | None = None, question: FgqaQuestion | None = None) -> list:
    reviews = Review.objects.select_related(
        "reviewer", "masklet_revision", "caption_revision"
    ).order_by("id")
    reviews = reviews.filter(masklet=masklet) if masklet else reviews.filter(fgqa_question=question)
    rework = {
        t.rework_of_id: t
        for t in Task.objects.filter(rework_of__in=[r.task_id for r in reviews]).select_related(
            "assignee"
        )
    }
    return [
        {
            "id": r.pk,
            "task_id": r.task_id,
            "reviewer": _name(r.reviewer),
            "decision": r.decision,
            "reasons": r.reasons,
            "comment": r.comment,
            "masklet_revision": r.masklet_revision.number if r.masklet_revision else None,
            "caption_revision": r.caption_revision.number if r.caption_revision else None,
            "rework_task": None
            if r.task_id not in rework
            else {
                "id": rework[r.task_id].pk,
                "kind": rework[r.task_id].kind,
                "status": rework[r.task_id].status,
                "assignee": _name(rework[r.task_id].assignee),
            },
            "created_at": r.created_at,
        }
        for r in reviews
    ]


def _task_rows(tasks: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": t.pk,
            "kind": t.kind,
            "status": t.status,
            "is_rework": t.rework_of_id is not None,
            "assignee": _name(t.assignee),
            "submitted_by": _name(t.submitted_by),
            "submitted_at": t.submitted_at,
            "active_seconds": t.active_seconds,
            "created_at": t.created_at,
        }
        for t in tasks.select_related("assignee", "submitted_by").order_by("id")
    ]


def masklet_history(*, masklet: Masklet) -> dict[str, Any]:
    """Every mask revision, caption revision, review and task of the masklet, oldest first."""
    real = Task.objects.filter(is_gold=False, is_duplicate=False)
    tasks = real.filter(masklet=masklet)
    if masklet.select_task_id:
        tasks = tasks | real.filter(pk=masklet.select_task_id)
    return {
        "masklet": {
            "id": masklet.pk,
            "video_id": masklet.video_id,
            "object_id": masklet.object_id,
            "category": masklet.category,
            "status": masklet.status,
            "current_revision": masklet.current_revision.number
            if masklet.current_revision
            else None,
        },
        "mask_revisions": mask_revision_rows(masklet=masklet),
        "caption_revisions": caption_revision_rows(masklet=masklet),
        "reviews": review_rows(masklet=masklet),
        "tasks": _task_rows(tasks),
    }


def masklet_history_summary(*, masklet: Masklet) -> dict[str, Any]:
    """What the review screen shows beside the editor (the full listing is masklet_history)."""
    return {
        "mask_revisions": MaskletRevision.objects.filter(masklet=masklet).count(),
        "caption_revisions": CaptionRevision.objects.filter(masklet=masklet).count(),
        "reviews": review_rows(masklet=masklet),
    }


def fgqa_question_get(*, question_id: int) -> FgqaQuestion:
    question = FgqaQuestion.objects.filter(pk=question_id).first()
    if question is None:
        raise NotFoundError("Question not found.")
    return question


def fgqa_answer_rows(*, question: FgqaQuestion) -> list[dict[str, Any]]:
    answers = (
        FgqaAnswer.objects.filter(question=question).select_related("author", "task").order_by("id")
    )
    return [
        {
            "id": a.pk,
            "author": _name(a.author),
            "task_id": a.task_id,
            "task_kind": a.task.kind if a.task else None,
            "answer": a.answer,
            "q_type": a.q_type,
            "used_model_answer": a.used_model_answer,
            "rejected": a.rejected,
            "reject_reason": a.reject_reason,
            "distractors": a.distractors,
            "created_at": a.created_at,
        }
        for a in answers
    ]


def fgqa_history(*, question: FgqaQuestion) -> dict[str, Any]:
    real = Task.objects.filter(is_gold=False, is_duplicate=False)
    return {
        "question": {
            "id": question.pk,
            "video_id": question.video_id,
            "question": question.question,
            "model_answer": question.model_answer,
            "answer": question.answer,
            "q_type": question.q_type,
            "distractors": question.distractors,
            "distractors_verified": question.distractors_verified,
            "is_benchmark": question.is_benchmark,
            "status": question.status,
        },
        "answers": fgqa_answer_rows(question=question),
        "reviews": review_rows(question=question),
        "tasks": _task_rows(real.filter(fgqa_question=question)),
    }


def mask_diff(*, masklet: Masklet, a: int, b: int) -> dict[str, Any]:
    """Per-frame IoU between mask revisions number ``a`` and ``b`` of the masklet."""
    revisions = {
        r.number: r for r in MaskletRevision.objects.filter(masklet=masklet, number__in=[a, b])
    }
    for number in (a, b):
        if number not in revisions:
            raise NotFoundError(f"Masklet {masklet.pk} has no revision {number}.")
    first, second = revisions[a], revisions[b]
    ious = mask_frame_ious(first.masks, second.masks)
    known = [v for v in ious if v is not None]
    return {
        "from": a,
        "to": b,
        "frames": len(ious),
        "iou": ious,
        "mean_iou": sum(known) / len(known) if known else None,
        "changed_frames": [k for k, v in enumerate(ious) if v is None or v < 1.0],
        "area_from": first.areas,
        "area_to": second.areas,
        "prompts_from": len(first.prompts or []),
        "prompts_to": len(second.prompts or []),
    }


def word_diff(before: str, after: str) -> list[dict[str, str]]:
    """difflib opcodes over words: [{"op": equal|replace|delete|insert, "from", "to"}]."""
    old, new = before.split(), after.split()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return [
        {"op": op, "from": " ".join(old[i1:i2]), "to": " ".join(new[j1:j2])}
        for op, i1, i2, j1, j2 in matcher.get_opcodes()
    ]


def caption_diff(*, masklet: Masklet, a: int, b: int) -> dict[str, Any]:
    """Segments of caption revision ``a`` against ``b``, matched by their frames: a segment
    whose boundaries moved shows as removed + added; one whose text changed, with a word diff."""
    revisions = {
        c.number: c for c in CaptionRevision.objects.filter(masklet=masklet, number__in=[a, b])
    }
    for number in (a, b):
        if number not in revisions:
            raise NotFoundError(f"Masklet {masklet.pk} has no caption revision {number}.")

    def by_frames(revision: CaptionRevision) -> dict[tuple[int, int], dict[str, Any]]:
        return {(s["start_frame"], s["end_frame"]): s for s in revision.segments}

    old, new = by_frames(revisions[a]), by_frames(revisions[b])
    rows: list[dict[str, Any]] = []
    counts = {"unchanged": 0, "changed": 0, "removed": 0, "added": 0}
    for frames in sorted(old.keys() | new.keys()):
        before, after = old.get(frames), new.get(frames)
        if before is None:
            status = "added"
        elif after is None:
            status = "removed"
        elif before["caption"] == after["caption"]:
            status = "unchanged"
        else:
            status = "changed"
        counts[status] += 1
        rows.append(
            {
                "status": status,
                "start_frame": frames[0],
                "end_frame": frames[1],
                "out_of_frame": bool((after or before or {}).get("out_of_frame")),
                "before": before["caption"] if before else None,
                "after": after["caption"] if after else None,
                "words": word_diff(before["caption"], after["caption"])
                if status == "changed" and before and after
                else [],
            }
        )
    return {"from": a, "to": b, "segments": rows, "summary": counts}
