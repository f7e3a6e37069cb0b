"""Pass 3: verification of masklets with their captions (REVIEW) and of FGQA answers
(FGQA_REVIEW), rejections with reasons, and the rework that goes back to the author.

Flow of a masklet: pass-2 submit → REVIEW task (its authors excluded) → accept: the masklet is
ACCEPTED (exportable); or reject with reasons → a rework task assigned to the author (pass-1
author for mask_quality / wrong_object, otherwise the pass-2 author), ``rework_of`` the review
task, the reasons in ``notes`` → the rework is submitted → a new REVIEW task.

A mask revision made after captions were written flags those captions (``needs_recheck``,
captions_flag_for_recheck); a review cannot accept flagged captions without re-checking them:
either edited segments, or ``captions_rechecked`` (the typed segments are rebuilt against the new
mask, out-of-frame segments re-derived, as a new caption revision by the reviewer).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from annotation.errors import ConflictError, ForbiddenError, ServiceError
from annotation.models import (
    CaptionRevision,
    Draft,
    FgqaAnswer,
    FgqaQuestion,
    FgqaReviewReason,
    FgqaStatus,
    Review,
    ReviewDecision,
    ReviewReason,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskExclusion,
    TaskKind,
    TaskStatus,
)
from annotation.services import fgqa
from annotation.services.captions import (
    CONTROL,
    MARKUP,
    caption_revision_create,
    segments_build,
    visibility_of,
)
from annotation.services.gold import answer_entry_check, gold_items_retire_for_masklet
from annotation.services.queue import task_check_version, task_finish, task_leased
from tracking.models import Category, Masklet, MaskletStatus

MASK_REASONS = frozenset({ReviewReason.MASK_QUALITY, ReviewReason.WRONG_OBJECT})
MAX_COMMENT = 2000


# --- shared checks ----------------------------------------------------------------------------


def verdict_check(
    *, decision: str, reasons: list[Any], comment: str, codes: type[ReviewReason | FgqaReviewReason]
) -> tuple[list[str], str]:
    """The decision, its reasons (known codes, no repeats) and comment, or a ServiceError."""
    if decision not in ReviewDecision.values:
        raise ServiceError(
            "The decision must be accept or reject.", errors={"decision": ["Unknown decision."]}
        )
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise ServiceError("Reasons must be a list of reason codes.")
    unknown = [r for r in reasons if r not in codes.values]
    if unknown:
        raise ServiceError(
            f"Unknown reason {unknown[0]!r}; choose from {', '.join(codes.values)}.",
            errors={"reasons": [f"Unknown reason {unknown[0]!r}."]},
        )
    reasons = list(dict.fromkeys(reasons))
    if not isinstance(comment, str):
        raise ServiceError("The comment must be text.")
    if CONTROL.search(comment) or MARKUP.search(comment):
        raise ServiceError("The comment must be plain text (no markup or control characters).")
    comment = " ".join(comment.split())
    if len(comment) > MAX_COMMENT:
        raise ServiceError(f"The comment is too long (at most {MAX_COMMENT} characters).")
    if decision == ReviewDecision.REJECT and not reasons:
        raise ServiceError(
            "Choose at least one reason to reject.", errors={"reasons": ["Required."]}
        )
    if decision == ReviewDecision.ACCEPT and reasons:
        raise ServiceError(
            "Reasons are for rejections; accept without reasons.",
            errors={"reasons": ["Only with reject."]},
        )
    if "other" in reasons and not comment:
        raise ServiceError(
            "Say what is wrong: a comment is required with the reason \u201cother\u201d.",
            errors={"comment": ["Required with other."]},
        )
    return reasons, comment


def rework_notes(
    *, reasons: list[str], comment: str, codes: type[ReviewReason | FgqaReviewReason]
) -> str:
    labels = ", ".join(str(codes(r).label) for r in reasons)
    return (
        f"Rejected in review ({labels}): {comment}"
        if comment
        else f"Rejected in review ({labels})."
    )


def _refuse_own_work(*, task: Task, user: Any, authors: set[int]) -> None:
    if user.pk in authors or TaskExclusion.objects.filter(task=task, user_id=user.pk).exists():
        raise ForbiddenError("You may not review your own work.", code="own_work")


def masklet_work_authors(*, masklet: Masklet) -> set[int]:
    """Who built the mask (pass 1 and mask reworks) and wrote its captions (pass 2 and caption
    reworks): none of them may review it."""
    submitted = Task.objects.filter(
        Q(pk=masklet.select_task_id)
        | Q(masklet=masklet, kind__in=[TaskKind.SELECT, TaskKind.CAPTION]),
        is_gold=False,
        is_duplicate=False,
        status=TaskStatus.SUBMITTED,
    ).values_list("submitted_by_id", flat=True)
    return {uid for uid in [masklet.created_by_id, *submitted] if uid is not None}


def question_work_authors(*, question: FgqaQuestion) -> set[int]:
    """Who answered the question or verified its distractors (reviewers' corrections aside)."""
    authors = (
        FgqaAnswer.objects.filter(question=question)
        .exclude(task__kind=TaskKind.FGQA_REVIEW)
        .values_list("author_id", flat=True)
    )
    return {uid for uid in authors if uid is not None}


def _latest_captions(masklet: Masklet) -> CaptionRevision | None:
    return CaptionRevision.objects.filter(masklet=masklet).order_by("-number").first()


def _review_task_create(*, masklet: Masklet, video_id: int, project_id: int, priority: int) -> Task:
    review = Task.objects.create(
        project_id=project_id,
        kind=TaskKind.REVIEW,
        video_id=video_id,
        masklet=masklet,
        priority=priority,
    )
    TaskExclusion.objects.bulk_create(
        [TaskExclusion(task=review, user_id=uid) for uid in masklet_work_authors(masklet=masklet)]
    )
    return review


def _fgqa_review_task_create(*, question: FgqaQuestion, source: Task) -> Task:
    review = Task.objects.create(
        project_id=source.project_id,
        kind=TaskKind.FGQA_REVIEW,
        video_id=question.video_id,
        fgqa_question=question,
        priority=source.priority,
    )
    TaskExclusion.objects.bulk_create(
        [
            TaskExclusion(task=review, user_id=uid)
            for uid in question_work_authors(question=question)
        ]
    )
    return review


# --- masks changed after captions ---------------------------------------------------------------


def captions_flag_for_recheck(*, masklet: Masklet) -> bool:
    """Flag the masklet's latest captions when they were written against another mask revision
    than its current one. Call in the transaction that makes a new revision current (tracking).

    An ACCEPTED masklet goes back to CAPTIONED with a new REVIEW task (it is not exportable until
    re-verified), and gold items made from it retire. Returns whether captions were flagged.
    """
    current = (
        Masklet.objects.filter(pk=masklet.pk)
        .values_list("current_revision_id", "status", "video_id", "video__project_id")
        .first()
    )
    latest = _latest_captions(masklet)
    if current is None or latest is None or latest.needs_recheck:
        return False
    revision_id, status, video_id, project_id = current
    if latest.masklet_revision_id == revision_id:
        return False
    CaptionRevision.objects.filter(pk=latest.pk).update(needs_recheck=True)
    gold_items_retire_for_masklet(masklet=masklet)
    if status == MaskletStatus.ACCEPTED:
        Masklet.objects.filter(pk=masklet.pk).update(
            status=MaskletStatus.CAPTIONED, version=F("version") + 1
        )
        pending = Task.objects.filter(
            masklet=masklet,
            kind=TaskKind.REVIEW,
            status__in=[TaskStatus.OPEN, TaskStatus.LEASED],
        )
        if not pending.exists():
            _review_task_create(
                masklet=masklet, video_id=video_id, project_id=project_id, priority=0
            )
    return True


def mask_edit_task(
    *, user: Any, video_id: int, masklet: Masklet | None = None, task_id: int | None = None
) -> Task:
    """The leased task under which ``user`` may change masks of a video: for the tracking API.

    - pass 1 (a SELECT task of the video): create masklets, edit those without captions;
      a gold pass-1 copy: only the masklets this person made for it;
    - a mask rework (SELECT with a masklet) or a REVIEW task: refine that masklet only (a
      reviewer "may not choose a new object"; ``masklet`` None = creating one, refused).
    ``task_id``: only that task counts (the tracking API names the task it acts under).
    Raises ForbiddenError otherwise.
    """
    leases = Task.objects.filter(
        lease_owner_id=user.pk,
        status=TaskStatus.LEASED,
        lease_expires_at__gte=timezone.now(),
        video_id=video_id,
        kind__in=[TaskKind.SELECT, TaskKind.REVIEW],
    ).order_by("leased_at")
    if task_id is not None:
        leases = leases.filter(pk=task_id)
    for task in leases:
        if task.masklet_id is not None:
            if masklet is not None and masklet.pk == task.masklet_id:
                return task
            continue
        if masklet is None:
            return task
        if task.is_gold:
            if masklet.created_by_id == user.pk and masklet.created_at >= task.created_at:
                return task
            continue
        if not CaptionRevision.objects.filter(masklet=masklet).exists():
            return task
    raise ForbiddenError(
        "Masks can be changed only under your live lease on the pass-1 task of this video, or "
        "on the review or rework task of this masklet.",
        code="no_mask_lease",
    )


# --- pass 3 on masklets ----------------------------------------------------------------------


def review_submit(
    *,
    task_id: int,
    user: Any,
    base_version: int,
    decision: str,
    reasons: list[Any] | None = None,
    comment: str = "",
    segments: list[dict[str, Any]] | None = None,
    captions_rechecked: bool = False,
) -> Review:
    """Accept the masklet with its captions (edited captions become a new revision by the
    reviewer) or reject it with reasons, sending rework to the author."""
    reasons, comment = verdict_check(
        decision=decision, reasons=reasons or [], comment=comment, codes=ReviewReason
    )
    with transaction.atomic():
        task = task_leased(task_id=task_id, user=user, lock=True)
        if task.kind != TaskKind.REVIEW or task.masklet_id is None:
            raise ServiceError("This is not a review task.")
        task_check_version(task, base_version)
        masklet = (
            Masklet.objects.select_for_update(of=("self",))
            .select_related("current_revision")
            .get(pk=task.masklet_id)
        )
        _refuse_own_work(task=task, user=user, authors=masklet_work_authors(masklet=masklet))
        if masklet.status != MaskletStatus.CAPTIONED:
            raise ConflictError(
                f"This masklet is {masklet.status}, not waiting for review.",
                current={"masklet": masklet.pk, "status": masklet.status},
                code="not_under_review",
            )
        latest = _latest_captions(masklet)
        if latest is None or masklet.current_revision is None:
            raise ServiceError("The masklet has no mask or no captions to review.")
        if decision == ReviewDecision.ACCEPT:
            captions = _captions_to_accept(
                task=task,
                user=user,
                masklet=masklet,
                latest=latest,
                segments=segments,
                rechecked=captions_rechecked,
            )
            review = Review.objects.create(
                task=task,
                reviewer=user,
                masklet=masklet,
                masklet_revision=masklet.current_revision,
                caption_revision=captions,
                decision=ReviewDecision.ACCEPT,
            )
            Masklet.objects.filter(pk=masklet.pk).update(
                status=MaskletStatus.ACCEPTED, version=F("version") + 1
            )
        else:
            if segments is not None:
                raise ServiceError(
                    "Edited captions are saved only with an accept; reject without edits "
                    "(the author reworks them)."
                )
            review = Review.objects.create(
                task=task,
                reviewer=user,
                masklet=masklet,
                masklet_revision=masklet.current_revision,
                caption_revision=latest,
                decision=ReviewDecision.REJECT,
                reasons=reasons,
                comment=comment,
            )
            Masklet.objects.filter(pk=masklet.pk).update(
                status=MaskletStatus.REJECTED, version=F("version") + 1
            )
            _masklet_rework_create(task=task, masklet=masklet, reasons=reasons, comment=comment)
        task_finish(task=task, user=user)
        Draft.objects.filter(task=task).delete()
    return review


def _captions_to_accept(
    *,
    task: Task,
    user: Any,
    masklet: Masklet,
    latest: CaptionRevision,
    segments: list[dict[str, Any]] | None,
    rechecked: bool,
) -> CaptionRevision:
    stale = latest.needs_recheck or latest.masklet_revision_id != masklet.current_revision_id
    visible = visibility_of(masklet.current_revision)
    if segments is not None:
        # Out-of-frame segments always come from the mask; what the editor sends back of them
        # is ignored.
        typed = [s for s in segments if not (isinstance(s, dict) and s.get("out_of_frame"))]
        built = segments_build(typed=typed, visible=visible, project=task.project)
        edited = [s.as_dict() for s in built] != latest.segments
        if not edited and not stale:
            return latest
        captions = caption_revision_create(masklet=masklet, segments=built, author=user, task=task)
        if edited:
            TaskEvent.objects.create(
                task=task,
                user_id=user.pk,
                kind=TaskEventKind.EDIT,
                data={"what": "captions", "caption_revision": captions.number},
            )
        return captions
    if not stale:
        return latest
    if not rechecked:
        raise ServiceError(
            "The mask changed after these captions were written: re-check them, then accept "
            "with captions_rechecked, or send the edited segments.",
            code="captions_need_recheck",
        )
    typed = [s for s in latest.segments if not s.get("out_of_frame")]
    try:
        built = segments_build(typed=typed, visible=visible, project=task.project)
    except ServiceError as exc:
        raise ServiceError(
            f"The captions no longer fit the mask: {exc.message} Edit them before accepting.",
            code="captions_need_edit",
        ) from None
    return caption_revision_create(masklet=masklet, segments=built, author=user, task=task)


def _masklet_rework_create(
    *, task: Task, masklet: Masklet, reasons: list[str], comment: str
) -> Task:
    real = Task.objects.filter(is_gold=False, is_duplicate=False, status=TaskStatus.SUBMITTED)
    if MASK_REASONS & set(reasons):
        kind = TaskKind.SELECT
        builders = real.filter(Q(pk=masklet.select_task_id) | Q(kind=kind, masklet=masklet))
        author = builders.order_by("-submitted_at").values_list("submitted_by_id", flat=True)
        assignee = author.first() or masklet.created_by_id
    else:
        kind = TaskKind.CAPTION
        writers = real.filter(kind=kind, masklet=masklet).order_by("-submitted_at")
        assignee = writers.values_list("submitted_by_id", flat=True).first()
    rework = Task.objects.create(
        project_id=task.project_id,
        kind=kind,
        video_id=task.video_id,
        masklet=masklet,
        assignee_id=assignee,
        rework_of=task,
        notes=rework_notes(reasons=reasons, comment=comment, codes=ReviewReason),
        priority=task.priority,
    )
    if assignee is None and task.lease_owner_id is not None:
        TaskExclusion.objects.create(task=rework, user_id=task.lease_owner_id)
    return rework


def mask_rework_submit(
    *, task_id: int, user: Any, base_version: int, category: str | None = None
) -> Task:
    """Submit a reworked mask (refined through the tracking API under this task's lease) and
    queue a new review. Returns the review task."""
    with transaction.atomic():
        task = task_leased(task_id=task_id, user=user, lock=True)
        if task.kind != TaskKind.SELECT or task.rework_of_id is None or task.masklet_id is None:
            raise ServiceError("This is not a mask rework task.")
        task_check_version(task, base_version)
        masklet = (
            Masklet.objects.select_for_update(of=("self",))
            .select_related("current_revision")
            .get(pk=task.masklet_id)
        )
        if category is not None and category not in Category.values:
            raise ServiceError(f"The category must be one of {', '.join(Category.values)}.")
        revision = masklet.current_revision
        total = task.video.annotation_frame_count if task.video else 0
        if revision is None or len(revision.masks) != total:
            raise ServiceError(
                f"Masklet {masklet.object_id} is not tracked through the whole video yet: "
                "run Track first."
            )
        if revision.first_visible_frame is None:
            raise ServiceError(f"Masklet {masklet.object_id} is empty on every frame.")
        captions_flag_for_recheck(masklet=masklet)
        Masklet.objects.filter(pk=masklet.pk).update(
            status=MaskletStatus.CAPTIONED,
            category=category or masklet.category,
            version=F("version") + 1,
        )
        task_finish(task=task, user=user)
        review = _review_task_create(
            masklet=masklet,
            video_id=masklet.video_id,
            project_id=task.project_id,
            priority=task.priority,
        )
        Draft.objects.filter(task=task).delete()
    return review


# --- pass 3 on FGQA ----------------------------------------------------------------------------


def _distractors_check(values: Any, *, answer: str) -> list[str]:
    if not isinstance(values, list):
        raise ServiceError("Distractors must be a list of texts.")
    kept: list[str] = []
    for number, value in enumerate(values, start=1):
        try:
            text = fgqa._text(value, what=f"Distractor {number}")
        except ValueError as exc:
            raise ServiceError(f"{exc}.") from None
        if text.casefold() == answer.casefold():
            raise ServiceError(f"Distractor {number} is the same as the correct answer.")
        if text.casefold() in {k.casefold() for k in kept}:
            raise ServiceError(f"Distractor {number} repeats another distractor.")
        kept.append(text)
    return kept


def fgqa_review_submit(
    *,
    task_id: int,
    user: Any,
    base_version: int,
    decision: str,
    reasons: list[Any] | None = None,
    comment: str = "",
    answer: str | None = None,
    q_type: str | None = None,
    distractors: list[Any] | None = None,
) -> Review:
    """Accept the answer (optionally corrected: answer, q_type, the final distractor list) or
    reject it with reasons, sending rework to the answerer. A benchmark question is accepted
    only with at least one verified distractor."""
    reasons, comment = verdict_check(
        decision=decision, reasons=reasons or [], comment=comment, codes=FgqaReviewReason
    )
    with transaction.atomic():
        task = task_leased(task_id=task_id, user=user, lock=True)
        if task.kind != TaskKind.FGQA_REVIEW or task.fgqa_question_id is None:
            raise ServiceError("This is not an FGQA review task.")
        task_check_version(task, base_version)
        question = FgqaQuestion.objects.select_for_update().get(pk=task.fgqa_question_id)
        _refuse_own_work(task=task, user=user, authors=question_work_authors(question=question))
        if question.status != FgqaStatus.ANSWERED:
            raise ConflictError(
                f"This question is {question.status}, not waiting for review.",
                current={"question": question.pk, "status": question.status},
                code="not_under_review",
            )
        if decision == ReviewDecision.ACCEPT:
            _fgqa_accept(
                task=task,
                user=user,
                question=question,
                answer=answer,
                q_type=q_type,
                distractors=distractors,
            )
            review = Review.objects.create(
                task=task, reviewer=user, fgqa_question=question, decision=ReviewDecision.ACCEPT
            )
        else:
            if answer is not None or q_type is not None or distractors is not None:
                raise ServiceError(
                    "Corrections are saved only with an accept; reject without them "
                    "(the answerer reworks the answer)."
                )
            review = Review.objects.create(
                task=task,
                reviewer=user,
                fgqa_question=question,
                decision=ReviewDecision.REJECT,
                reasons=reasons,
                comment=comment,
            )
            notes = rework_notes(reasons=reasons, comment=comment, codes=FgqaReviewReason)
            FgqaQuestion.objects.filter(pk=question.pk).update(
                status=FgqaStatus.REJECTED, reject_reason=notes, version=F("version") + 1
            )
            answerer = (
                FgqaAnswer.objects.filter(question=question, task__kind=TaskKind.FGQA_ANSWER)
                .order_by("-id")
                .values_list("author_id", flat=True)
                .first()
            )
            rework = Task.objects.create(
                project_id=task.project_id,
                kind=TaskKind.FGQA_ANSWER,
                video_id=question.video_id,
                fgqa_question=question,
                assignee_id=answerer,
                rework_of=task,
                notes=notes,
                priority=task.priority,
            )
            if answerer is None:
                TaskExclusion.objects.create(task=rework, user_id=user.pk)
        task_finish(task=task, user=user)
        Draft.objects.filter(task=task).delete()
    return review


def _fgqa_accept(
    *,
    task: Task,
    user: Any,
    question: FgqaQuestion,
    answer: str | None,
    q_type: str | None,
    distractors: list[Any] | None,
) -> None:
    final_answer = question.answer
    if answer is not None:
        try:
            final_answer = fgqa._text(answer, what="The answer")
        except ValueError as exc:
            raise ServiceError(f"{exc}.") from None
    final_type = question.q_type if q_type is None else q_type
    if final_type not in fgqa.QUESTION_TYPES:
        raise ServiceError("Choose the question type.", errors={"q_type": ["Unknown type."]})
    if distractors is None:
        final_distractors = _distractors_check(list(question.distractors), answer=final_answer)
        verified = question.distractors_verified
    else:
        final_distractors = _distractors_check(distractors, answer=final_answer)
        verified = True
    if question.is_benchmark and not (final_distractors and verified):
        raise ServiceError(
            "A benchmark question needs at least one verified distractor: send the list to keep.",
            errors={"distractors": ["At least one."]},
        )
    changed = [
        name
        for name, before, after in (
            ("answer", question.answer, final_answer),
            ("q_type", question.q_type, final_type),
            ("distractors", question.distractors, final_distractors),
        )
        if before != after
    ]
    if changed:
        FgqaAnswer.objects.create(
            question=question,
            task=task,
            author=user,
            answer=final_answer,
            q_type=final_type,
            distractors=final_distractors,
        )
        TaskEvent.objects.create(
            task=task, user_id=user.pk, kind=TaskEventKind.EDIT, data={"what": changed}
        )
    FgqaQuestion.objects.filter(pk=question.pk).update(
        answer=final_answer,
        q_type=final_type,
        distractors=final_distractors,
        distractors_verified=verified,
        status=FgqaStatus.ACCEPTED,
        reject_reason="",
        version=F("version") + 1,
    )


def fgqa_rework_submit(
    *, task_id: int, user: Any, base_version: int, answers: list[dict[str, Any]]
) -> FgqaQuestion:
    """The answerer's new answer to a question rejected in review (or their rejection of the
    question), then a new FGQA review."""
    with transaction.atomic():
        task = task_leased(task_id=task_id, user=user, lock=True)
        if (
            task.kind != TaskKind.FGQA_ANSWER
            or task.rework_of_id is None
            or task.fgqa_question_id is None
        ):
            raise ServiceError("This is not an FGQA rework task.")
        task_check_version(task, base_version)
        question = FgqaQuestion.objects.select_for_update().get(pk=task.fgqa_question_id)
        given = [a for a in answers if isinstance(a, dict)]
        if [a.get("question_id") for a in given] != [question.pk]:
            raise ServiceError(f"Answer question {question.pk} (and only it) in this task.")
        entry = answer_entry_check(question=question, entry=given[0])
        if entry["rejected"]:
            FgqaAnswer.objects.create(
                question=question,
                task=task,
                author=user,
                rejected=True,
                reject_reason=entry["reason"],
            )
            FgqaQuestion.objects.filter(pk=question.pk).update(
                status=FgqaStatus.REJECTED,
                reject_reason=entry["reason"],
                version=F("version") + 1,
            )
        else:
            FgqaAnswer.objects.create(
                question=question,
                task=task,
                author=user,
                answer=entry["answer"],
                q_type=entry["q_type"],
                used_model_answer=entry["action"] == "accept",
            )
            FgqaQuestion.objects.filter(pk=question.pk).update(
                status=FgqaStatus.ANSWERED,
                answer=entry["answer"],
                q_type=entry["q_type"],
                reject_reason="",
                version=F("version") + 1,
            )
        task_finish(task=task, user=user)
        if not entry["rejected"]:
            _fgqa_review_task_create(question=question, source=task)
        Draft.objects.filter(task=task).delete()
    question.refresh_from_db()
    return question
