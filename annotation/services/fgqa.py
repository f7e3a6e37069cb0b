"""FGQA: importing model questions for clips, answering them, verifying benchmark distractors."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F, Q

from annotation.errors import ServiceError
from annotation.models import (
    Draft,
    FgqaAnswer,
    FgqaQuestion,
    FgqaStatus,
    Project,
    Task,
    TaskExclusion,
    TaskKind,
    TaskStatus,
    Video,
    VideoStatus,
)
from annotation.services.agreement import double_annotation_queue
from annotation.services.captions import CONTROL, MARKUP
from annotation.services.queue import task_check_version, task_finish, task_leased

QUESTION_TYPES = [
    "Action Recognition",
    "Action Sequence",
    "Counting Problems",
    "Movement Direction",
    "Object Attributes",
    "Object Location",
    "Object Recognition",
    "Object State",
    "Other",
    "Pose",
    "Spatial Relations",
    "Speed/Force",
]
MAX_TEXT = 2000
TIME_TOLERANCE = 0.05  # seconds: clip boundaries are matched to this precision
MAX_REPORTED_ERRORS = 20


def _text(value: Any, *, what: str, required: bool = True) -> str:
    if value is None or value == "":
        if required:
            raise ValueError(f"{what} is missing")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text")
    text = " ".join(value.split())
    if required and not text:
        raise ValueError(f"{what} is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"{what} is longer than {MAX_TEXT} characters")
    if CONTROL.search(value) or MARKUP.search(text):
        raise ValueError(f"{what} must be plain text (no markup or control characters)")
    return text


def _time(value: Any, *, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number of seconds")
    if value < 0:
        raise ValueError(f"{what} must not be negative")
    return float(value)


@dataclass
class ImportReport:
    questions: int = 0
    skipped: int = 0
    clips: set[int] = field(default_factory=set)
    tasks: int = 0


def _find_clip(project: Project, row: dict[str, Any]) -> Video:
    ready = Video.objects.filter(project=project, status=VideoStatus.READY)
    if row.get("video_id") is not None:
        clip = ready.filter(pk=row["video_id"]).first()
        if clip is None:
            raise ValueError(f"no ready clip with id {row['video_id']} in this project")
        return clip
    name = row.get("clip") or row.get("video")
    if name:
        clip = ready.filter(name=name).first()
        if clip is None:
            raise ValueError(f"no ready clip named {name!r} in this project")
        return clip
    source = row.get("source_video_id")
    if not source:
        raise ValueError("give the clip (clip/video name or video_id) or source_video_id + times")
    start = _time(row.get("source_start_time"), what="source_start_time")
    end = _time(row.get("source_end_time"), what="source_end_time")
    if end <= start:
        raise ValueError("source_end_time must be after source_start_time")
    matches = list(
        ready.filter(
            source_video_id=source,
            source_start_time__gte=start - TIME_TOLERANCE,
            source_start_time__lte=start + TIME_TOLERANCE,
            source_end_time__gte=end - TIME_TOLERANCE,
            source_end_time__lte=end + TIME_TOLERANCE,
        )
    )
    if len(matches) != 1:
        what = "no clip" if not matches else f"{len(matches)} clips"
        raise ValueError(f"{what} of source video {source!r} spans {start:g}-{end:g} s")
    return matches[0]


def _parse_row(project: Project, row: Any) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise ValueError("each line must be a JSON object")
    clip = _find_clip(project, row)
    q_type = row.get("q_type") or row.get("question_type") or ""
    if q_type and q_type not in QUESTION_TYPES:
        raise ValueError(f"q_type {q_type!r} is not one of the 12 question types")
    distractors = row.get("distractors") or []
    if not isinstance(distractors, list):
        raise ValueError("distractors must be a list of texts")
    parsed_distractors = [_text(d, what=f"distractor {i + 1}") for i, d in enumerate(distractors)]
    source = row.get("source_video_id")
    return {
        "video": clip,
        "external_id": _text(row.get("qa_id"), what="qa_id", required=False),
        "segment_id": _text(row.get("segment_id"), what="segment_id", required=False),
        "question": _text(row.get("question"), what="question"),
        "model_answer": _text(
            row.get("model_answer", row.get("answer")), what="model_answer", required=False
        ),
        "imported_distractors": parsed_distractors,
        "q_type": q_type,
        "q_subtype": _text(row.get("q_subtype"), what="q_subtype", required=False),
        "what_description": _text(
            row.get("what_description"), what="what_description", required=False
        ),
        "domain": _text(row.get("domain"), what="domain", required=False),
        "is_benchmark": bool(row.get("benchmark", False)),
        "_source": (
            source,
            row.get("source_start_time"),
            row.get("source_end_time"),
            row.get("source_dataset"),
        ),
    }


def fgqa_import(*, project: Project, lines: Iterable[str]) -> ImportReport:
    """Import questions from JSONL lines, all or nothing. Re-importing a row with a known
    ``qa_id`` skips it, so a file can be imported twice safely."""
    if project.kind != "fgqa":
        raise ServiceError(f"Project {project.name!r} is not an FGQA project.")
    parsed: list[dict[str, Any]] = []
    errors: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = _parse_row(project, json.loads(line))
            key = row["external_id"]
            if key and key in seen:
                raise ValueError(f"qa_id {key!r} appears twice in the file")
            seen.add(key)
            parsed.append(row)
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not valid JSON ({exc.msg})")
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        more = len(errors) - len(shown)
        raise ServiceError(
            "Nothing was imported: " + "; ".join(shown) + (f"; and {more} more" if more else ""),
            errors={"file": errors},
        )
    if not parsed:
        raise ServiceError("The file holds no questions.")
    report = ImportReport()
    with transaction.atomic():
        known = set(
            FgqaQuestion.objects.filter(project=project)
            .exclude(external_id="")
            .values_list("external_id", flat=True)
        )
        for row in parsed:
            if row["external_id"] and row["external_id"] in known:
                report.skipped += 1
                continue
            clip: Video = row.pop("video")
            source, start, end, dataset = row.pop("_source")
            if source and not clip.source_video_id:
                clip.source_video_id = source
                clip.source_start_time, clip.source_end_time = start, end
                clip.save(update_fields=["source_video_id", "source_start_time", "source_end_time"])
            if dataset and not clip.source_dataset:
                clip.source_dataset = dataset
                clip.save(update_fields=["source_dataset"])
            FgqaQuestion.objects.create(project=project, video=clip, **row)
            report.questions += 1
            report.clips.add(clip.pk)
        for clip_id in sorted(report.clips):
            _, created = Task.objects.get_or_create(
                project=project,
                kind=TaskKind.FGQA_ANSWER,
                video_id=clip_id,
                status=TaskStatus.OPEN,
            )
            report.tasks += int(created)
    return report


def fgqa_pending_questions(*, video_id: int) -> list[FgqaQuestion]:
    return list(
        FgqaQuestion.objects.filter(video_id=video_id, status=FgqaStatus.PENDING).order_by("id")
    )


ANSWER_ACTIONS = ("accept", "correct", "answer", "reject")


def fgqa_answer_submit(
    *, task_id: int, user: Any, answers: list[dict[str, Any]], base_version: int
) -> list[FgqaQuestion]:
    """Record an answer (or a rejection) for every pending question of the task's clip."""
    with transaction.atomic():
        task = task_leased(task_id=task_id, user=user, lock=True)
        if task.kind != TaskKind.FGQA_ANSWER:
            raise ServiceError("This is not an FGQA answering task.")
        if task.is_gold or task.is_duplicate or task.rework_of_id is not None:
            raise ServiceError(
                "Submit this task through annotation.services.gold.shadow_submit "
                "or annotation.services.reviews.fgqa_rework_submit."
            )
        task_check_version(task, base_version)
        if task.video_id is None:
            raise ServiceError("This task has no clip.")
        pending = {q.pk: q for q in fgqa_pending_questions(video_id=task.video_id)}
        given = {a.get("question_id"): a for a in answers if isinstance(a, dict)}
        unknown = [qid for qid in given if qid not in pending]
        if unknown:
            raise ServiceError(f"Question {unknown[0]} is not open in this task.")
        missing = [qid for qid in pending if qid not in given]
        if missing:
            raise ServiceError(
                f"{len(missing)} question(s) still need an answer or a rejection.",
                errors={f"question_{qid}": ["Not answered."] for qid in missing},
            )
        done = []
        for qid, question in pending.items():
            done.append(_answer_one(task=task, user=user, question=question, entry=given[qid]))
        task_finish(task=task, user=user)
        double_annotation_queue(task=task, user=user)
        Draft.objects.filter(task=task).delete()
    return done


def _answer_one(
    *, task: Task, user: Any, question: FgqaQuestion, entry: dict[str, Any]
) -> FgqaQuestion:
    action = entry.get("action")
    where = f"Question {question.pk}"
    if action not in ANSWER_ACTIONS:
        raise ServiceError(f"{where}: action must be one of {', '.join(ANSWER_ACTIONS)}.")
    if action == "reject":
        try:
            reason = _text(entry.get("reason"), what="the reason")
        except ValueError as exc:
            raise ServiceError(f"{where}: {exc}.") from None
        FgqaAnswer.objects.create(
            question=question, task=task, author=user, rejected=True, reject_reason=reason
        )
        FgqaQuestion.objects.filter(pk=question.pk).update(
            status=FgqaStatus.REJECTED, reject_reason=reason, version=F("version") + 1
        )
        question.refresh_from_db()
        return question
    q_type = entry.get("q_type")
    if q_type not in QUESTION_TYPES:
        raise ServiceError(f"{where}: choose the question type.")
    if action == "accept":
        if not question.model_answer:
            raise ServiceError(f"{where}: there is no model answer to accept.")
        answer = question.model_answer
    else:
        try:
            answer = _text(entry.get("answer"), what="the answer")
        except ValueError as exc:
            raise ServiceError(f"{where}: {exc}.") from None
    FgqaAnswer.objects.create(
        question=question,
        task=task,
        author=user,
        answer=answer,
        q_type=q_type,
        used_model_answer=action == "accept",
    )
    FgqaQuestion.objects.filter(pk=question.pk).update(
        status=FgqaStatus.ANSWERED, answer=answer, q_type=q_type, version=F("version") + 1
    )
    question.refresh_from_db()
    if question.is_benchmark and question.imported_distractors:
        follow_up = Task.objects.create(
            project=task.project,
            kind=TaskKind.FGQA_DISTRACTORS,
            video=task.video,
            fgqa_question=question,
            priority=task.priority,
        )
    else:
        follow_up = Task.objects.create(
            project=task.project,
            kind=TaskKind.FGQA_REVIEW,
            video=task.video,
            fgqa_question=question,
            priority=task.priority,
        )
    TaskExclusion.objects.create(task=follow_up, user_id=user.pk)
    return question


DISTRACTOR_ACTIONS = ("keep", "edit", "drop")


def fgqa_distractors_submit(
    *, task_id: int, user: Any, decisions: list[dict[str, Any]], base_version: int
) -> FgqaQuestion:
    """Keep, edit or drop each imported distractor; at least one must remain, none may equal
    the answer or another distractor."""
    with transaction.atomic():
        task = task_leased(task_id=task_id, user=user, lock=True)
        if task.kind != TaskKind.FGQA_DISTRACTORS or task.fgqa_question_id is None:
            raise ServiceError("This is not a distractor verification task.")
        task_check_version(task, base_version)
        question = FgqaQuestion.objects.select_for_update().get(pk=task.fgqa_question_id)
        imported = question.imported_distractors
        if len(decisions) != len(imported):
            raise ServiceError(
                f"Decide on each of the {len(imported)} distractors (got {len(decisions)})."
            )
        kept: list[str] = []
        for number, (original, decision) in enumerate(zip(imported, decisions, strict=True), 1):
            action = decision.get("action") if isinstance(decision, dict) else None
            if action not in DISTRACTOR_ACTIONS:
                raise ServiceError(f"Distractor {number}: choose keep, edit or drop.")
            if action == "drop":
                continue
            text = original
            if action == "edit":
                try:
                    text = _text(decision.get("text"), what=f"Distractor {number}")
                except ValueError as exc:
                    raise ServiceError(f"{exc}.") from None
            if text.casefold() == question.answer.casefold():
                raise ServiceError(f"Distractor {number} is the same as the correct answer.")
            if text.casefold() in {k.casefold() for k in kept}:
                raise ServiceError(f"Distractor {number} repeats another distractor.")
            kept.append(text)
        if not kept:
            raise ServiceError("Keep at least one distractor, or reject the question in review.")
        FgqaQuestion.objects.filter(pk=question.pk).update(
            distractors=kept, distractors_verified=True, version=F("version") + 1
        )
        FgqaAnswer.objects.create(
            question=question, task=task, author=user, answer=question.answer, distractors=kept
        )
        task_finish(task=task, user=user)
        review = Task.objects.create(
            project=task.project,
            kind=TaskKind.FGQA_REVIEW,
            video=task.video,
            fgqa_question=question,
            priority=task.priority,
        )
        authors = set(
            FgqaAnswer.objects.filter(question=question).values_list("author_id", flat=True)
        )
        TaskExclusion.objects.bulk_create(
            [TaskExclusion(task=review, user_id=uid) for uid in authors if uid is not None]
        )
        Draft.objects.filter(task=task).delete()
    question.refresh_from_db()
    return question


def fgqa_questions_for_task(*, task: Task) -> list[FgqaQuestion]:
    if task.kind == TaskKind.FGQA_ANSWER:
        return list(
            FgqaQuestion.objects.filter(
                Q(status=FgqaStatus.PENDING) | Q(answers__task=task), video=task.video
            )
            .distinct()
            .order_by("id")
        )
    if task.fgqa_question_id:
        return [FgqaQuestion.objects.get(pk=task.fgqa_question_id)]
    return []
