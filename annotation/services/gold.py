"""Gold tasks: verified items whose answer is known, mixed into annotators' queues and scored.

An admin marks an ACCEPTED masklet (gold for pass 1: its mask; for pass 2: its captions) or an
ACCEPTED FGQA question (gold for answering) as gold. The claim path (annotation.services.queue)
hands out a fresh *copy* of a gold item with probability ``project.gold_rate``: a normal task of
the same kind, leased to the claimer, which looks like any other task. Its submission is kept on
the copy (``Task.submission``) and scored against the reference (``Task.score``, 0..1):

- select (mask): mean per-frame mask IoU of the submitted masklet closest to the gold one
  (workers.rle.iou; frames where both are empty agree);
- caption (segments): RTLoc meanR of the submitted segments against the gold ones
  (annotation.services.agreement.segment_pairs: the benchmark code, 32-frame scale);
- fgqa_answer: normalised exact match of the answer (1 or 0; a rejection scores 0).

A gold copy (and a second annotation, ``is_duplicate``) never creates follow-up work and never
changes the real item: masklets that a gold pass-1 attempt tracked are discarded on submit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q

from annotation.errors import NotFoundError, ServiceError
from annotation.models import (
    CaptionRevision,
    Draft,
    FgqaAnswer,
    FgqaQuestion,
    FgqaStatus,
    GoldItem,
    Project,
    Review,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskKind,
    TaskStatus,
)
from annotation.selectors.history import mask_frame_ious
from annotation.services import fgqa
from annotation.services.agreement import answers_agree, segment_pairs, segments_recall
from annotation.services.captions import segments_build
from annotation.services.queue import task_check_version, task_finish, task_leased
from tracking.models import Masklet, MaskletRevision, MaskletStatus

GOLD_KINDS = (TaskKind.SELECT, TaskKind.CAPTION, TaskKind.FGQA_ANSWER)
MASKLET_GOLD_KINDS = (TaskKind.SELECT, TaskKind.CAPTION)
# A claim looks at this many gold items at most to find one the claimer may take.
GOLD_SCAN = 50


# --- marking ---------------------------------------------------------------------------------


def masklet_authors(*, masklet: Masklet) -> set[int]:
    """Everyone who made or verified the masklet and its captions (they know the answer)."""
    authors = {masklet.created_by_id}
    if masklet.select_task_id:
        authors.add(
            Task.objects.filter(pk=masklet.select_task_id)
            .values_list("submitted_by_id", flat=True)
            .first()
        )
    authors |= set(
        Task.objects.filter(masklet=masklet, is_gold=False, is_duplicate=False).values_list(
            "submitted_by_id", flat=True
        )
    )
    authors |= set(
        CaptionRevision.objects.filter(masklet=masklet).values_list("author_id", flat=True)
    )
    authors |= set(
        MaskletRevision.objects.filter(masklet=masklet).values_list("author_id", flat=True)
    )
    authors |= set(Review.objects.filter(masklet=masklet).values_list("reviewer_id", flat=True))
    return {a for a in authors if a is not None}


def question_authors(*, question: FgqaQuestion) -> set[int]:
    authors = set(FgqaAnswer.objects.filter(question=question).values_list("author_id", flat=True))
    authors |= set(
        Review.objects.filter(fgqa_question=question).values_list("reviewer_id", flat=True)
    )
    return {a for a in authors if a is not None}


def _latest_captions(masklet: Masklet) -> CaptionRevision | None:
    return CaptionRevision.objects.filter(masklet=masklet).order_by("-number").first()


def gold_items_mark(
    *,
    project: Project,
    user: Any,
    masklet_id: int | None = None,
    fgqa_question_id: int | None = None,
    kinds: list[str] | None = None,
) -> list[GoldItem]:
    """Mark a verified masklet (gold for ``kinds``, default select and caption) or a verified
    FGQA question as gold. Marking again refreshes the reference and re-activates the item."""
    if (masklet_id is None) == (fgqa_question_id is None):
        raise ServiceError("Give either masklet_id or fgqa_question_id.")
    with transaction.atomic():
        if masklet_id is not None:
            masklet = (
                Masklet.objects.select_for_update(of=("self",))
                .select_related("current_revision", "video")
                .filter(pk=masklet_id, video__project=project)
                .first()
            )
            if masklet is None:
                raise NotFoundError("Masklet not found in this project.")
            wanted = list(kinds or MASKLET_GOLD_KINDS)
            if not set(wanted) <= set(MASKLET_GOLD_KINDS):
                raise ServiceError("A masklet can be gold for: select, caption.")
            if masklet.status != MaskletStatus.ACCEPTED or masklet.current_revision is None:
                raise ServiceError("Only accepted (verified) masklets can be gold.")
            captions = _latest_captions(masklet)
            if (
                captions is None
                or captions.needs_recheck
                or (captions.masklet_revision_id != masklet.current_revision_id)
            ):
                raise ServiceError("The captions of this masklet need a recheck first.")
            authors = sorted(masklet_authors(masklet=masklet))
            references: dict[str, dict[str, Any]] = {
                TaskKind.SELECT: {"masklet_revision": masklet.current_revision_id},
                TaskKind.CAPTION: {
                    "caption_revision": captions.pk,
                    "masklet_revision": masklet.current_revision_id,
                    "segments": captions.segments,
                },
            }
            target: dict[str, Any] = {"masklet": masklet}
        else:
            question = (
                FgqaQuestion.objects.select_for_update()
                .filter(Q(pk=fgqa_question_id), project=project)
                .first()
            )
            if question is None:
                raise NotFoundError("Question not found in this project.")
            wanted = list(kinds or [TaskKind.FGQA_ANSWER])
            if wanted != [TaskKind.FGQA_ANSWER]:
                raise ServiceError("A question can be gold for: fgqa_answer.")
            if question.status != FgqaStatus.ACCEPTED:
                raise ServiceError("Only accepted (verified) questions can be gold.")
            authors = sorted(question_authors(question=question))
            references = {
                TaskKind.FGQA_ANSWER: {"answer": question.answer, "q_type": question.q_type}
            }
            target = {"fgqa_question": question}
        items = []
        for kind in wanted:
            item, _ = GoldItem.objects.update_or_create(
                kind=kind,
                **target,
                defaults={
                    "project": project,
                    "reference": references[kind],
                    "authors": authors,
                    "active": True,
                    "created_by": user,
                },
            )
            items.append(item)
    return items


def gold_item_deactivate(*, item: GoldItem) -> GoldItem:
    """No new copies of it are handed out; copies already made keep their reference."""
    GoldItem.objects.filter(pk=item.pk).update(active=False)
    item.active = False
    return item


def gold_items_retire_for_masklet(*, masklet: Masklet) -> int:
    """A gold masklet whose mask or captions changed is no longer a known answer."""
    return GoldItem.objects.filter(masklet=masklet, active=True).update(active=False)


# --- handing out copies ------------------------------------------------------------------------


def gold_copy_lease(
    *, user: Any, project: Project, kinds: list[str], now: datetime, lease: timedelta
) -> Task | None:
    """Create a copy of a gold item of ``kinds`` that ``user`` neither made nor had before,
    leased to them; None when there is none. Called from the claim path (queue.task_claim_next),
    which decides whether to draw gold at all."""
    done = Task.objects.filter(gold_item=OuterRef("pk"), assignee_id=user.pk)
    candidates = (
        GoldItem.objects.filter(project=project, active=True, kind__in=kinds)
        .filter(~Exists(done))
        .select_related("masklet", "fgqa_question")
        .order_by("id")[:GOLD_SCAN]
    )
    item = next((g for g in candidates if user.pk not in g.authors), None)
    if item is None:
        return None
    if item.kind == TaskKind.FGQA_ANSWER:
        assert item.fgqa_question is not None
        where: dict[str, Any] = {
            "video_id": item.fgqa_question.video_id,
            "fgqa_question": item.fgqa_question,
        }
    else:
        assert item.masklet is not None
        where = {"video_id": item.masklet.video_id}
        if item.kind == TaskKind.CAPTION:
            where["masklet"] = item.masklet
    try:
        with transaction.atomic():
            copy = Task.objects.create(
                project=project,
                kind=item.kind,
                status=TaskStatus.LEASED,
                is_gold=True,
                gold_item=item,
                gold_reference=item.reference,
                assignee=user,
                lease_owner=user,
                leased_at=now,
                lease_expires_at=now + lease,
                last_seen_at=now,
                # what a task that was created and then claimed once has
                version=2,
                **where,
            )
            TaskEvent.objects.create(task=copy, user_id=user.pk, kind=TaskEventKind.CLAIM)
    except IntegrityError:
        return None  # the same person claimed twice at once; the other claim made the copy
    return Task.objects.select_related("video__project", "project").get(pk=copy.pk)


# --- submissions of gold copies and second annotations ---------------------------------------


def gold_attempt_masklets(*, task: Task) -> Any:
    """Masklets that the holder of a gold pass-1 copy tracked for it (the real ones of the
    video stay hidden: they hold the answer)."""
    return Masklet.objects.filter(
        Q(video_id=task.video_id),
        Q(created_by_id=task.assignee_id),
        created_at__gte=task.created_at,
        status__in=[MaskletStatus.DRAFT, MaskletStatus.CANDIDATE],
    )


def shadow_questions(*, task: Task) -> list[FgqaQuestion]:
    """The questions a gold / second FGQA answering task asks."""
    if task.is_gold:
        return list(FgqaQuestion.objects.filter(Q(pk=task.fgqa_question_id)))
    answered = FgqaAnswer.objects.filter(Q(task_id=task.duplicate_of_id), rejected=False)
    return list(FgqaQuestion.objects.filter(pk__in=answered.values("question_id")).order_by("id"))


def shadow_submit(
    *,
    task_id: int,
    user: Any,
    base_version: int,
    masklets: list[dict[str, Any]] | None = None,
    rejected: list[int] | None = None,
    segments: list[dict[str, Any]] | None = None,
    answers: list[dict[str, Any]] | None = None,
) -> Task:
    """Submit a gold copy or a second annotation: validated like the real submission, kept on
    the task, scored when gold; no follow-up work, the real item untouched."""
    with transaction.atomic():
        task = task_leased(task_id=task_id, user=user, lock=True)
        if not (task.is_gold or task.is_duplicate):
            raise ServiceError("This task is neither a gold copy nor a second annotation.")
        task_check_version(task, base_version)
        if task.kind == TaskKind.SELECT:
            submission, score = _select_attempt(task, masklets or [], rejected or [])
        elif task.kind == TaskKind.CAPTION:
            submission, score = _caption_attempt(task, segments)
        elif task.kind == TaskKind.FGQA_ANSWER:
            submission, score = _answer_attempt(task, answers or [])
        else:
            raise ServiceError(f"Tasks of kind {task.kind} have no gold copies.")
        task_finish(task=task, user=user)
        Task.objects.filter(pk=task.pk).update(submission=submission, score=score)
        Draft.objects.filter(task=task).delete()
    task.refresh_from_db()
    return task


def _select_attempt(
    task: Task, masklets: list[dict[str, Any]], rejected: list[int]
) -> tuple[dict[str, Any], float | None]:
    from tracking.models import Category

    if not masklets:
        raise ServiceError(
            "Accept at least one masklet, or use \u201cNo interesting moving object\u201d."
        )
    ids = [int(m.get("id") or 0) for m in masklets]
    if len(set(ids)) != len(ids):
        raise ServiceError("A masklet is listed twice.")
    attempt = {m.pk: m for m in gold_attempt_masklets(task=task).select_related("current_revision")}
    missing = [i for i in [*ids, *rejected] if i not in attempt]
    if missing:
        raise ServiceError(f"Masklet {missing[0]} does not belong to this video.")
    total = task.video.annotation_frame_count if task.video else 0
    reference = MaskletRevision.objects.get(pk=(task.gold_reference or {})["masklet_revision"])
    kept = []
    for entry in masklets:
        masklet = attempt[int(entry["id"])]
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
        ious = [v for v in mask_frame_ious(reference.masks, revision.masks) if v is not None]
        kept.append(
            {
                "id": masklet.pk,
                "category": category,
                "revision": revision.pk,
                "mean_iou": sum(ious) / len(ious) if ious else 0.0,
            }
        )
    Masklet.objects.filter(pk__in=list(attempt)).update(status=MaskletStatus.DISCARDED)
    score = max(k["mean_iou"] for k in kept) if task.is_gold else None
    return {"masklets": kept, "rejected": list(rejected)}, score


def _caption_attempt(
    task: Task, segments: list[dict[str, Any]] | None
) -> tuple[dict[str, Any], float | None]:
    masklet = task.masklet
    if masklet is None:
        raise ServiceError("This is not a caption task.")
    revision_id = (
        (task.gold_reference or {}).get("masklet_revision")
        if task.is_gold
        else masklet.current_revision_id
    )
    revision = MaskletRevision.objects.filter(Q(pk=revision_id)).first()
    if revision is None:
        raise ServiceError("The masklet has no mask yet.")
    built = segments_build(
        typed=segments or [], visible=[bool(a) for a in revision.areas], project=task.project
    )
    submitted = [s.as_dict() for s in built]
    score = None
    if task.is_gold:
        pairs = segment_pairs(
            reference=(task.gold_reference or {})["segments"],
            other=submitted,
            total_frames=len(revision.areas),
        )
        score = segments_recall(pairs).value
    return {"segments": submitted, "masklet_revision": revision.pk}, score


def _answer_attempt(
    task: Task, answers: list[dict[str, Any]]
) -> tuple[dict[str, Any], float | None]:
    questions = {q.pk: q for q in shadow_questions(task=task)}
    given = {a.get("question_id"): a for a in answers if isinstance(a, dict)}
    unknown = [qid for qid in given if qid not in questions]
    if unknown:
        raise ServiceError(f"Question {unknown[0]} is not open in this task.")
    missing = [qid for qid in questions if qid not in given]
    if missing:
        raise ServiceError(
            f"{len(missing)} question(s) still need an answer or a rejection.",
            errors={f"question_{qid}": ["Not answered."] for qid in missing},
        )
    kept = [answer_entry_check(question=questions[qid], entry=given[qid]) for qid in questions]
    score = None
    if task.is_gold:
        reference = (task.gold_reference or {}).get("answer", "")
        agreed = [not k["rejected"] and answers_agree(k["answer"], reference) for k in kept]
        score = sum(agreed) / len(agreed) if agreed else None
    return {"answers": kept}, score


def answer_entry_check(*, question: FgqaQuestion, entry: dict[str, Any]) -> dict[str, Any]:
    """The checks of fgqa._answer_one, without writing anything: {"question_id", "action",
    "rejected", "answer", "q_type"} (+ "reason" for a rejection)."""
    action = entry.get("action")
    where = f"Question {question.pk}"
    if action not in fgqa.ANSWER_ACTIONS:
        raise ServiceError(f"{where}: action must be one of {', '.join(fgqa.ANSWER_ACTIONS)}.")
    out: dict[str, Any] = {"question_id": question.pk, "action": action, "rejected": False}
    if action == "reject":
        try:
            out["reason"] = fgqa._text(entry.get("reason"), what="the reason")
        except ValueError as exc:
            raise ServiceError(f"{where}: {exc}.") from None
        return {**out, "rejected": True, "answer": "", "q_type": ""}
    q_type = entry.get("q_type")
    if q_type not in fgqa.QUESTION_TYPES:
        raise ServiceError(f"{where}: choose the question type.")
    if action == "accept":
        if not question.model_answer:
            raise ServiceError(f"{where}: there is no model answer to accept.")
        answer = question.model_answer
    else:
        try:
            answer = fgqa._text(entry.get("answer"), what="the answer")
        except ValueError as exc:
            raise ServiceError(f"{where}: {exc}.") from None
    return {**out, "answer": answer, "q_type": q_type}
