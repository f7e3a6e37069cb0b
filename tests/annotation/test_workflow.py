import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotation.models import (
    CaptionRevision,
    FgqaAnswer,
    FgqaQuestion,
    ProjectKind,
    Role,
    Task,
    TaskKind,
    TaskStatus,
)
from tests.conftest import client_for
from tests.factories import ProjectFactory, TaskFactory, VideoFactory, member, tracked_masklet
from tracking.models import MaskletStatus

pytestmark = pytest.mark.django_db


def claim(user, project, queue_name):
    response = client_for(user).post(f"/api/projects/{project.pk}/queues/{queue_name}/next")
    assert response.status_code == 200, response.content
    return response.json()


def submit(user, task, **payload):
    return client_for(user).post(
        f"/api/tasks/{task['id']}/submit",
        {"base_version": task["version"], **payload},
        format="json",
    )


@pytest.fixture
def stc():
    project = ProjectFactory(min_caption_chars=5)
    video = VideoFactory(project=project, annotation_frame_count=10, frame_index=list(range(10)))
    TaskFactory(project=project, video=video, kind=TaskKind.SELECT)
    return project, video


def test_pass_one_submit_queues_a_caption_task_per_masklet_for_someone_else(stc):
    project, video = stc
    first, second = member(project, Role.ANNOTATOR), member(project, Role.ANNOTATOR)
    task = claim(first, project, "select")
    walker = tracked_masklet(video, object_id=1)
    candidate = tracked_masklet(video, object_id=2, status=MaskletStatus.CANDIDATE)
    response = submit(
        first, task, masklets=[{"id": walker.pk, "category": "person"}], rejected=[candidate.pk]
    )
    assert response.status_code == 200, response.json()
    walker.refresh_from_db()
    candidate.refresh_from_db()
    assert (walker.status, walker.category) == (MaskletStatus.SELECTED, "person")
    assert candidate.status == MaskletStatus.REJECTED
    assert (
        client_for(first).post(f"/api/projects/{project.pk}/queues/caption/next").status_code == 204
    )
    caption_task = claim(second, project, "caption")
    assert caption_task["masklet"]["id"] == walker.pk
    assert caption_task["masklet"]["revision"]["visible"] == [True] * 10


def test_pass_one_refuses_untracked_masklets_and_stale_versions(stc):
    project, video = stc
    ann = member(project, Role.ANNOTATOR)
    task = claim(ann, project, "select")
    from tracking.models import Masklet

    untracked = Masklet.objects.create(video=video, object_id=3)
    refused = submit(ann, task, masklets=[{"id": untracked.pk, "category": "object"}])
    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        "Masklet 3 is not tracked through the whole video yet: run Track first."
    )
    other_video = tracked_masklet(VideoFactory(project=project), object_id=1)
    foreign = submit(ann, task, masklets=[{"id": other_video.pk}])
    assert foreign.json()["detail"] == f"Masklet {other_video.pk} does not belong to this video."
    stale = submit(ann, {**task, "version": task["version"] - 1}, masklets=[])
    assert stale.status_code == 409
    assert stale.json()["current"]["version"] == task["version"]
    assert Task.objects.filter(kind=TaskKind.CAPTION).count() == 0


def test_caption_submit_stores_segments_with_out_of_frame_and_queues_review(stc):
    project, video = stc
    ann1, ann2 = member(project, Role.ANNOTATOR), member(project, Role.ANNOTATOR)
    reviewer = member(project, Role.REVIEWER)
    select_task = claim(ann1, project, "select")
    masklet = tracked_masklet(video, visible=[True] * 6 + [False] * 4)
    submit(ann1, select_task, masklets=[{"id": masklet.pk, "category": "animal"}])
    task = claim(ann2, project, "caption")
    bad = submit(ann2, task, segments=[{"start_frame": 0, "end_frame": 9, "caption": "Runs away."}])
    assert bad.status_code == 400
    assert "out of frame" in bad.json()["detail"]
    ok = submit(
        ann2,
        task,
        segments=[
            {"start_frame": 0, "end_frame": 2, "caption": "The dog sits."},
            {"start_frame": 3, "end_frame": 5, "caption": "The dog runs right."},
        ],
    )
    assert ok.status_code == 200, ok.json()
    captions = CaptionRevision.objects.get(masklet=masklet)
    assert captions.segments == [
        {"start_frame": 0, "end_frame": 2, "caption": "The dog sits.", "out_of_frame": False},
        {"start_frame": 3, "end_frame": 5, "caption": "The dog runs right.", "out_of_frame": False},
        {"start_frame": 6, "end_frame": 9, "caption": "Out of frame.", "out_of_frame": True},
    ]
    assert captions.masklet_revision_id == masklet.current_revision_id
    masklet.refresh_from_db()
    assert masklet.status == MaskletStatus.CAPTIONED
    review = Task.objects.get(kind=TaskKind.REVIEW)
    assert set(review.exclusions.values_list("user_id", flat=True)) == {ann1.pk, ann2.pk}
    assert claim(reviewer, project, "review")["id"] == review.pk
    again = submit(ann2, task, segments=[])
    assert again.status_code == 409


def test_annotator_cannot_submit_a_task_leased_to_someone_else(stc):
    project, _ = stc
    a, b = member(project, Role.ANNOTATOR), member(project, Role.ANNOTATOR)
    task = claim(a, project, "select")
    response = submit(b, task, masklets=[])
    assert response.status_code == 403
    assert response.json()["detail"] == "This task is not leased to you."


@pytest.fixture
def fgqa_project():
    project = ProjectFactory(kind=ProjectKind.FGQA)
    clip = VideoFactory(
        project=project,
        name="clip_a.mp4",
        source_video_id="ego_17",
        source_start_time=12.0,
        source_end_time=18.5,
    )
    return project, clip


def import_rows(project, rows):
    data = "\n".join(json.dumps(r) for r in rows)
    out = io.StringIO()
    import sys

    stdin, sys.stdin = sys.stdin, io.StringIO(data)
    try:
        call_command("import_fgqa", "-", "--project", project.name, stdout=out)
    finally:
        sys.stdin = stdin
    return out.getvalue()


def test_import_fgqa_by_clip_name_or_source_range_and_twice_safely(fgqa_project):
    project, clip = fgqa_project
    rows = [
        {
            "qa_id": "q1",
            "clip": "clip_a.mp4",
            "question": "What does the person pick up?",
            "model_answer": "A red cup.",
            "distractors": ["A blue cup."],
            "benchmark": True,
        },
        {
            "qa_id": "q2",
            "source_video_id": "ego_17",
            "source_start_time": 12.02,
            "source_end_time": 18.5,
            "question": "Which hand is used?",
            "q_type": "Pose",
        },
    ]
    assert import_rows(project, rows).strip() == (
        "imported 2 questions for 1 clips (0 already known, 1 new answering tasks)"
    )
    assert import_rows(project, rows).strip() == (
        "imported 0 questions for 0 clips (2 already known, 0 new answering tasks)"
    )
    assert FgqaQuestion.objects.filter(video=clip).count() == 2
    assert Task.objects.filter(kind=TaskKind.FGQA_ANSWER, video=clip).count() == 1


def test_import_fgqa_is_all_or_nothing_with_line_numbers(fgqa_project):
    project, _ = fgqa_project
    rows = [
        {"qa_id": "ok", "clip": "clip_a.mp4", "question": "Fine?"},
        {"qa_id": "bad", "clip": "nope.mp4", "question": "Where?"},
        {"qa_id": "typ", "clip": "clip_a.mp4", "question": "Q", "q_type": "Vibes"},
    ]
    with pytest.raises(CommandError) as caught:
        import_rows(project, rows)
    assert str(caught.value) == (
        "Nothing was imported: line 2: no ready clip named 'nope.mp4' in this project; "
        "line 3: q_type 'Vibes' is not one of the 12 question types"
    )
    assert not FgqaQuestion.objects.exists()


def test_fgqa_answer_then_distractor_verification_then_review(fgqa_project):
    project, _ = fgqa_project
    import_rows(
        project,
        [
            {
                "qa_id": "q1",
                "clip": "clip_a.mp4",
                "question": "What does the person pick up?",
                "model_answer": "A red cup.",
                "distractors": ["A blue cup.", "A red cup.", "A red mug."],
                "benchmark": True,
            },
            {"qa_id": "q2", "clip": "clip_a.mp4", "question": "Is it raining?"},
        ],
    )
    answerer, verifier = member(project, Role.ANNOTATOR), member(project, Role.ANNOTATOR)
    task = claim(answerer, project, "fgqa")
    assert [q["question"] for q in task["questions"]] == [
        "What does the person pick up?",
        "Is it raining?",
    ]
    q1, q2 = (q["id"] for q in task["questions"])
    partial = submit(
        answerer,
        task,
        answers=[{"question_id": q1, "action": "accept", "q_type": "Object Recognition"}],
    )
    assert partial.status_code == 400
    assert partial.json()["detail"] == "1 question(s) still need an answer or a rejection."
    ok = submit(
        answerer,
        task,
        answers=[
            {"question_id": q1, "action": "accept", "q_type": "Object Recognition"},
            {"question_id": q2, "action": "reject", "reason": "Cannot be answered from the clip."},
        ],
    )
    assert ok.status_code == 200, ok.json()
    assert FgqaQuestion.objects.get(pk=q1).answer == "A red cup."
    assert FgqaAnswer.objects.get(question_id=q1).used_model_answer is True
    assert FgqaQuestion.objects.get(pk=q2).status == "rejected"

    assert (
        client_for(answerer).post(f"/api/projects/{project.pk}/queues/fgqa/next").status_code == 204
    )
    verify = claim(verifier, project, "fgqa")
    assert verify["kind"] == "fgqa_distractors"
    same_as_answer = submit(
        verifier,
        verify,
        decisions=[
            {"action": "keep"},
            {"action": "keep"},
            {"action": "drop"},
        ],
    )
    assert same_as_answer.json()["detail"] == "Distractor 2 is the same as the correct answer."
    done = submit(
        verifier,
        verify,
        decisions=[
            {"action": "keep"},
            {"action": "drop"},
            {"action": "edit", "text": "A red bowl."},
        ],
    )
    assert done.status_code == 200, done.json()
    question = FgqaQuestion.objects.get(pk=q1)
    assert (question.distractors, question.distractors_verified) == (
        ["A blue cup.", "A red bowl."],
        True,
    )
    review = Task.objects.get(kind=TaskKind.FGQA_REVIEW)
    assert set(review.exclusions.values_list("user_id", flat=True)) == {answerer.pk, verifier.pk}
    assert Task.objects.get(pk=verify["id"]).status == TaskStatus.SUBMITTED
