"""Gold items: marking, copies mixed into queues that look like any task, exact scores, and
no effect on the real item."""

from __future__ import annotations

import json

import numpy as np
import pytest

from annotation.errors import ForbiddenError
from annotation.models import (
    CaptionRevision,
    FgqaAnswer,
    FgqaQuestion,
    GoldItem,
    ProjectKind,
    Role,
    Task,
    TaskKind,
    TaskStatus,
    VideoStatus,
)
from annotation.services.fgqa import fgqa_import
from annotation.services.reviews import mask_edit_task
from tests.conftest import client_for
from tests.factories import (
    ProjectFactory,
    TaskFactory,
    VideoFactory,
    masks_for,
    member,
    tracked_masklet,
)
from tests.review.conftest import SEGMENTS, Stc, claim, claim_status, submit
from tracking.models import Masklet, MaskletRevision, MaskletStatus
from workers import rle

pytestmark = pytest.mark.django_db


def keys(value):
    """The shape of a payload: nested keys, list items by their first element."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return type(value).__name__


@pytest.fixture
def verified(stc: Stc):
    """An accepted masklet marked gold, a second video whose pass 1 queued real caption work,
    and an annotator who did none of it."""
    masklet = stc.captioned()
    review = claim(stc.reviewer, stc.project, "review")
    assert submit(stc.reviewer, review, decision="accept").status_code == 200
    marked = client_for(stc.admin).post(
        f"/api/projects/{stc.project.pk}/gold", {"masklet_id": masklet.pk}, format="json"
    )
    assert marked.status_code == 201, marked.json()
    other = VideoFactory(
        project=stc.project, annotation_frame_count=10, frame_index=list(range(10))
    )
    TaskFactory(project=stc.project, video=other, kind=TaskKind.SELECT)
    select = claim(stc.builder, stc.project, "select")
    real = tracked_masklet(other, object_id=1)
    assert submit(stc.builder, select, masklets=[{"id": real.pk}]).status_code == 200
    stc.project.gold_rate = 1.0
    stc.project.save(update_fields=["gold_rate"])
    stc.fresh = member(stc.project, Role.ANNOTATOR, "fresh")
    return stc, masklet, real, marked.json()


def test_admin_marks_an_accepted_masklet_as_gold_for_mask_and_captions(verified):
    stc, masklet, _, marked = verified
    assert [(g["kind"], g["masklet_id"], g["active"], g["copies_submitted"]) for g in marked] == [
        ("select", masklet.pk, True, 0),
        ("caption", masklet.pk, True, 0),
    ]
    caption_gold = GoldItem.objects.get(kind=TaskKind.CAPTION)
    latest = CaptionRevision.objects.get(masklet=masklet)
    assert caption_gold.reference == {
        "caption_revision": latest.pk,
        "masklet_revision": masklet.current_revision_id,
        "segments": latest.segments,
    }
    assert caption_gold.authors == sorted([stc.builder.pk, stc.writer.pk, stc.reviewer.pk])


def test_only_admins_mark_gold_and_only_verified_items(stc):
    masklet = stc.captioned()
    url = f"/api/projects/{stc.project.pk}/gold"
    body = {"masklet_id": masklet.pk}
    assert client_for(stc.writer).post(url, body, format="json").status_code == 403
    assert client_for(stc.reviewer).post(url, body, format="json").status_code == 403
    assert client_for(stc.reviewer).get(url).json() == []
    refused = client_for(stc.admin).post(url, body, format="json")
    assert (refused.status_code, refused.json()["detail"]) == (
        400,
        "Only accepted (verified) masklets can be gold.",
    )
    both = client_for(stc.admin).post(url, {}, format="json")
    assert both.json()["detail"] == "Give either masklet_id or fgqa_question_id."
    assert not GoldItem.objects.exists()


def test_a_gold_caption_copy_looks_like_any_caption_task(verified):
    stc, masklet, real, _ = verified
    gold = claim(stc.fresh, stc.project, "caption")
    copy = Task.objects.get(pk=gold["id"])
    assert (copy.is_gold, copy.masklet_id, copy.assignee_id) == (True, masklet.pk, stc.fresh.pk)
    # the real task of the other masklet, as the same person would get it
    Task.objects.filter(pk=copy.pk).update(status=TaskStatus.CANCELLED)
    stc.project.gold_rate = 0.0
    stc.project.save(update_fields=["gold_rate"])
    normal = claim(stc.fresh, stc.project, "caption")
    assert normal["masklet"]["id"] == real.pk
    assert keys(gold) == keys(normal)
    for name in ("kind", "status", "version", "priority", "is_rework", "notes", "captions"):
        assert gold[name] == normal[name], name
    assert (gold["history"], gold["review_reasons"], gold["masklets"]) == (None, [], [])
    assert gold["masklet"]["status"] == normal["masklet"]["status"] == "selected"
    assert "gold" not in json.dumps(gold).lower()
    detail = client_for(stc.fresh).get(f"/api/tasks/{gold['id']}").json()
    assert "gold" not in json.dumps(detail).lower()


def test_gold_caption_submission_is_scored_and_changes_nothing_real(verified):
    stc, masklet, _, _ = verified
    gold = claim(stc.fresh, stc.project, "caption")
    bad = submit(stc.fresh, gold, segments=[{"start_frame": 0, "end_frame": 3, "caption": "Sits."}])
    assert bad.json()["detail"] == "Frames 4-9 are not covered by any segment."
    typed = [
        {"start_frame": 0, "end_frame": 2, "caption": "The dog sits."},
        {"start_frame": 3, "end_frame": 9, "caption": "The dog runs off."},
    ]
    ok = submit(stc.fresh, gold, segments=typed)
    assert ok.status_code == 200, ok.json()
    assert ok.json()["status"] == "submitted"
    copy = Task.objects.get(pk=gold["id"])
    # reference (0,4),(5,9) and submitted (0,2),(3,9) on the 32-frame scale of 10 frames:
    # (0,12),(16,28) vs (0,6),(9,28). Best IoUs 6/12 = 0.5 and 12/19; recall over
    # {.3,.5,.7,.9} (strictly greater): 1/4 and 2/4; mean 0.375
    assert copy.score == 0.375
    assert copy.submission == {
        "segments": [{**s, "out_of_frame": False} for s in typed],
        "masklet_revision": masklet.current_revision_id,
    }
    masklet.refresh_from_db()
    assert masklet.status == MaskletStatus.ACCEPTED
    assert CaptionRevision.objects.filter(masklet=masklet).count() == 1
    assert Task.objects.filter(kind=TaskKind.REVIEW, status=TaskStatus.OPEN).count() == 0
    assert not Task.objects.filter(is_duplicate=True).exists()
    listed = client_for(stc.admin).get(f"/api/projects/{stc.project.pk}/gold").json()
    assert [(g["kind"], g["copies_submitted"], g["mean_score"]) for g in listed] == [
        ("select", 0, None),
        ("caption", 1, 0.375),
    ]
    # done once: the next claim is real work
    assert claim(stc.fresh, stc.project, "caption")["id"] != gold["id"]
    assert Task.objects.filter(is_gold=True).count() == 1


def test_gold_copies_never_go_to_the_items_authors_nor_to_an_idle_queue(verified):
    stc, _, real, _ = verified
    task = claim(stc.writer, stc.project, "caption")
    assert task["masklet"]["id"] == real.pk
    assert not Task.objects.filter(is_gold=True).exists()
    # once the real work is gone, no gold either
    submit(stc.writer, task, segments=SEGMENTS)
    assert claim_status(stc.fresh, stc.project, "caption") == 204
    assert not Task.objects.filter(is_gold=True).exists()


def test_released_gold_copy_is_dropped_and_deactivated_items_are_not_handed_out(verified):
    stc, _, real, _ = verified
    gold = claim(stc.fresh, stc.project, "caption")
    assert client_for(stc.fresh).post(f"/api/tasks/{gold['id']}/release").status_code == 204
    assert Task.objects.get(pk=gold["id"]).status == TaskStatus.CANCELLED
    held = claim(stc.fresh, stc.project, "caption")
    assert held["masklet"]["id"] == real.pk
    assert client_for(stc.fresh).post(f"/api/tasks/{held['id']}/release").status_code == 204
    item = GoldItem.objects.get(kind=TaskKind.CAPTION)
    another = member(stc.project, Role.ANNOTATOR, "another")
    assert client_for(stc.admin).delete(f"/api/gold/{item.pk}").status_code == 204
    assert client_for(another).delete(f"/api/gold/{item.pk}").status_code == 403
    item.refresh_from_db()
    assert item.active is False
    assert claim(another, stc.project, "caption")["id"] == held["id"]
    assert Task.objects.filter(is_gold=True).count() == 1


def square(top: int, left: int, visible: list[bool]) -> list[dict]:
    out = []
    for seen in visible:
        mask = np.zeros((360, 640), dtype=bool)
        if seen:
            mask[top : top + 30, left : left + 40] = True
        out.append(rle.encode(mask))
    return out


def attempt_masklet(video, user, object_id, masks, visible):
    """What the tracking API makes for a pass-1 attempt (clicks + Track)."""
    masklet = Masklet.objects.create(video=video, object_id=object_id, created_by=user)
    seen = [i for i, v in enumerate(visible) if v]
    revision = MaskletRevision.objects.create(
        masklet=masklet,
        number=1,
        engine="test",
        masks=masks,
        areas=[1200 if v else 0 for v in visible],
        bboxes=[None] * len(visible),
        first_visible_frame=seen[0],
        last_visible_frame=seen[-1],
        author=user,
    )
    masklet.current_revision = revision
    masklet.save(update_fields=["current_revision"])
    return masklet


def test_gold_pass_one_copy_scores_mean_frame_iou_and_discards_the_attempt(verified):
    stc, masklet, _, _ = verified
    GoldItem.objects.filter(kind=TaskKind.CAPTION).update(active=False)
    third = VideoFactory(
        project=stc.project, annotation_frame_count=10, frame_index=list(range(10))
    )
    TaskFactory(project=stc.project, video=third, kind=TaskKind.SELECT)
    gold = claim(stc.fresh, stc.project, "select")
    assert (gold["kind"], gold["video"]["id"], gold["masklets"]) == ("select", stc.video.pk, [])
    copy = Task.objects.get(pk=gold["id"])
    assert mask_edit_task(user=stc.fresh, video_id=stc.video.pk).pk == copy.pk
    with pytest.raises(ForbiddenError):
        mask_edit_task(user=stc.fresh, video_id=stc.video.pk, masklet=masklet)

    close = attempt_masklet(
        stc.video, stc.fresh, 2, masks_for([True] * 8 + [False] * 2), [True] * 8 + [False] * 2
    )
    far = attempt_masklet(stc.video, stc.fresh, 3, square(200, 300, [True] * 10), [True] * 10)
    shown = client_for(stc.fresh).get(f"/api/tasks/{gold['id']}").json()["masklets"]
    assert [m["id"] for m in shown] == [close.pk, far.pk]
    assert {m["status"] for m in shown} == {"draft"}
    cheat = submit(stc.fresh, gold, masklets=[{"id": masklet.pk}])
    assert cheat.json()["detail"] == f"Masklet {masklet.pk} does not belong to this video."
    ok = submit(stc.fresh, gold, masklets=[{"id": close.pk, "category": "animal"}, {"id": far.pk}])
    assert ok.status_code == 200, ok.json()
    copy.refresh_from_db()
    # frames 0-7 identical (IoU 1), 8-9 empty vs the gold square (0): 8/10; the far one: 0
    assert copy.score == 0.8
    assert [(m["id"], m["mean_iou"]) for m in copy.submission["masklets"]] == [
        (close.pk, 0.8),
        (far.pk, 0.0),
    ]
    assert set(Masklet.objects.filter(video=stc.video).values_list("object_id", "status")) == {
        (1, MaskletStatus.ACCEPTED),
        (2, MaskletStatus.DISCARDED),
        (3, MaskletStatus.DISCARDED),
    }
    assert Task.objects.filter(kind=TaskKind.CAPTION, masklet__in=[close, far]).count() == 0


@pytest.fixture
def fgqa_gold():
    project = ProjectFactory(kind=ProjectKind.FGQA, gold_rate=1.0)
    for name in ("clip_a.mp4", "clip_b.mp4"):
        VideoFactory(project=project, name=name, status=VideoStatus.READY)
    rows = [
        {
            "qa_id": "q1",
            "clip": "clip_a.mp4",
            "question": "What is picked up?",
            "model_answer": "A cup.",
        },
    ]
    fgqa_import(project=project, lines=[json.dumps(r) for r in rows])
    answerer = member(project, Role.ANNOTATOR, "answerer")
    reviewer = member(project, Role.REVIEWER, "reviewer")
    admin = member(project, Role.ADMIN, "boss")
    question = FgqaQuestion.objects.get()
    task = claim(answerer, project, "fgqa")
    submit(
        answerer,
        task,
        answers=[
            {
                "question_id": question.pk,
                "action": "correct",
                "answer": "A red cup.",
                "q_type": "Object Recognition",
            }
        ],
    )
    review = claim(reviewer, project, "review")
    assert submit(reviewer, review, decision="accept").status_code == 200
    marked = client_for(admin).post(
        f"/api/projects/{project.pk}/gold", {"fgqa_question_id": question.pk}, format="json"
    )
    assert marked.status_code == 201, marked.json()
    more = [{"qa_id": "q2", "clip": "clip_b.mp4", "question": "Which hand?"}]
    fgqa_import(project=project, lines=[json.dumps(r) for r in more])
    return project, question


@pytest.mark.parametrize(
    ("entry", "score"),
    [
        ({"action": "correct", "answer": "a red  CUP", "q_type": "Other"}, 1.0),
        ({"action": "accept", "q_type": "Other"}, 0.0),
        ({"action": "reject", "reason": "Cannot tell."}, 0.0),
    ],
)
def test_gold_fgqa_copy_scores_normalised_exact_answer_match(fgqa_gold, entry, score):
    project, question = fgqa_gold
    fresh = member(project, Role.ANNOTATOR, "fresh")
    gold = claim(fresh, project, "fgqa")
    assert gold["questions"] == [
        {
            "id": question.pk,
            "question": "What is picked up?",
            "model_answer": "A cup.",
            "answer": "",
            "q_type": "",
            "status": "pending",
            "is_benchmark": False,
            "imported_distractors": [],
            "distractors": [],
        }
    ]
    ok = submit(fresh, gold, answers=[{"question_id": question.pk, **entry}])
    assert ok.status_code == 200, ok.json()
    assert Task.objects.get(pk=gold["id"]).score == score
    question.refresh_from_db()
    assert (question.status, question.answer) == ("accepted", "A red cup.")
    assert FgqaAnswer.objects.filter(question=question).count() == 1
    assert not Task.objects.filter(kind=TaskKind.FGQA_REVIEW, status=TaskStatus.OPEN).exists()
