"""Pass 3 on FGQA answers: accept with corrections, benchmark distractors, reject → rework."""

from __future__ import annotations

import json

import pytest

from annotation.models import (
    FgqaAnswer,
    FgqaQuestion,
    ProjectKind,
    Review,
    Role,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskKind,
    TaskStatus,
)
from annotation.services.fgqa import fgqa_import
from tests.conftest import client_for
from tests.factories import ProjectFactory, VideoFactory, member
from tests.review.conftest import claim, claim_status, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def fgqa():
    project = ProjectFactory(kind=ProjectKind.FGQA)
    VideoFactory(project=project, name="clip_a.mp4")
    rows = [
        {
            "qa_id": "q1",
            "clip": "clip_a.mp4",
            "question": "What does the person pick up?",
            "model_answer": "A red cup.",
            "benchmark": True,
        },
    ]
    fgqa_import(project=project, lines=[json.dumps(r) for r in rows])
    people = {
        "answerer": member(project, Role.ANNOTATOR, "answerer"),
        "reviewer": member(project, Role.REVIEWER, "reviewer"),
        "admin": member(project, Role.ADMIN, "boss"),
    }
    task = claim(people["answerer"], project, "fgqa")
    question = FgqaQuestion.objects.get()
    ok = submit(
        people["answerer"],
        task,
        answers=[{"question_id": question.pk, "action": "accept", "q_type": "Object State"}],
    )
    assert ok.status_code == 200, ok.json()
    return project, question, people


def test_benchmark_question_is_accepted_only_with_a_verified_distractor(fgqa):
    project, question, people = fgqa
    review = claim(people["reviewer"], project, "review")
    assert review["kind"] == "fgqa_review"
    assert review["questions"][0]["answer"] == "A red cup."
    assert [a["author"] for a in review["history"]["answers"]] == ["answerer"]
    assert [r["code"] for r in review["review_reasons"]] == [
        "wrong_answer",
        "ambiguous_answer",
        "unanswerable",
        "other",
    ]
    none = submit(people["reviewer"], review, decision="accept")
    assert none.json()["detail"] == (
        "A benchmark question needs at least one verified distractor: send the list to keep."
    )
    empty = submit(people["reviewer"], review, decision="accept", distractors=[])
    assert empty.status_code == 400
    same = submit(
        people["reviewer"],
        review,
        decision="accept",
        answer="A red mug.",
        distractors=["A red mug."],
    )
    assert same.json()["detail"] == "Distractor 1 is the same as the correct answer."
    question.refresh_from_db()
    assert (question.status, question.answer, question.distractors) == (
        "answered",
        "A red cup.",
        [],
    )

    ok = submit(
        people["reviewer"],
        review,
        decision="accept",
        answer="A red mug.",
        q_type="Object Recognition",
        distractors=["A blue mug.", "A red bowl."],
    )
    assert ok.status_code == 200, ok.json()
    question.refresh_from_db()
    assert (
        question.status,
        question.answer,
        question.q_type,
        question.distractors,
        question.distractors_verified,
    ) == ("accepted", "A red mug.", "Object Recognition", ["A blue mug.", "A red bowl."], True)
    correction = FgqaAnswer.objects.get(task_id=review["id"])
    assert (correction.author_id, correction.answer, correction.distractors) == (
        people["reviewer"].pk,
        "A red mug.",
        ["A blue mug.", "A red bowl."],
    )
    assert TaskEvent.objects.get(kind=TaskEventKind.EDIT).data == {
        "what": ["answer", "q_type", "distractors"]
    }


def test_reject_sends_rework_to_the_answerer_then_a_new_review(fgqa):
    project, question, people = fgqa
    review = claim(people["reviewer"], project, "review")
    missing = submit(people["reviewer"], review, decision="reject", reasons=["other"])
    assert missing.status_code == 400
    wrong_code = submit(people["reviewer"], review, decision="reject", reasons=["mask_quality"])
    assert wrong_code.status_code == 400
    rejected = submit(
        people["reviewer"],
        review,
        decision="reject",
        reasons=["wrong_answer"],
        comment="The cup is blue.",
    )
    assert rejected.status_code == 200, rejected.json()
    question.refresh_from_db()
    assert (question.status, question.reject_reason) == (
        "rejected",
        "Rejected in review (Wrong answer): The cup is blue.",
    )
    rework = Task.objects.get(rework_of_id=review["id"])
    assert (rework.kind, rework.assignee_id, rework.fgqa_question_id) == (
        TaskKind.FGQA_ANSWER,
        people["answerer"].pk,
        question.pk,
    )
    other = member(project, Role.ANNOTATOR, "other")
    assert claim_status(other, project, "fgqa") == 204
    task = claim(people["answerer"], project, "fgqa")
    assert (task["id"], task["is_rework"], task["notes"]) == (rework.pk, True, rework.notes)
    assert [q["id"] for q in task["questions"]] == [question.pk]
    wrong = submit(people["answerer"], task, answers=[{"question_id": 999, "action": "accept"}])
    assert wrong.json()["detail"] == f"Answer question {question.pk} (and only it) in this task."
    ok = submit(
        people["answerer"],
        task,
        answers=[
            {
                "question_id": question.pk,
                "action": "correct",
                "answer": "A blue cup.",
                "q_type": "Object Attributes",
            }
        ],
    )
    assert ok.status_code == 200, ok.json()
    question.refresh_from_db()
    assert (question.status, question.answer, question.reject_reason) == (
        "answered",
        "A blue cup.",
        "",
    )
    second = Task.objects.get(kind=TaskKind.FGQA_REVIEW, status=TaskStatus.OPEN)
    assert list(second.exclusions.values_list("user_id", flat=True)) == [people["answerer"].pk]
    assert claim_status(people["answerer"], project, "review") == 403
    again = claim(people["reviewer"], project, "review")
    done = submit(people["reviewer"], again, decision="accept", distractors=["A green cup."])
    assert done.status_code == 200, done.json()
    question.refresh_from_db()
    assert (question.status, question.distractors) == ("accepted", ["A green cup."])

    history = client_for(people["admin"]).get(f"/api/fgqa/questions/{question.pk}/history").json()
    assert [(a["author"], a["task_kind"], a["answer"]) for a in history["answers"]] == [
        ("answerer", "fgqa_answer", "A red cup."),
        ("answerer", "fgqa_answer", "A blue cup."),
        ("reviewer", "fgqa_review", "A blue cup."),
    ]
    assert [(r["decision"], r["reasons"]) for r in history["reviews"]] == [
        ("reject", ["wrong_answer"]),
        ("accept", []),
    ]
    assert Review.objects.count() == 2
