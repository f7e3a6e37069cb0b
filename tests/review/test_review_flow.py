"""Pass 3 on masklets: accept, reject with reasons, rework by the author, history."""

from __future__ import annotations

import pytest

from annotation.errors import ForbiddenError
from annotation.models import (
    CaptionRevision,
    Review,
    Role,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskExclusion,
    TaskKind,
    TaskStatus,
)
from annotation.services.reviews import captions_flag_for_recheck, mask_edit_task
from tests.conftest import client_for
from tests.factories import masks_for, member
from tests.review.conftest import SEGMENTS, claim, claim_status, submit
from tracking.models import MaskletRevision, MaskletStatus

pytestmark = pytest.mark.django_db

OOF = {"start_frame": 0, "end_frame": 0, "caption": "", "out_of_frame": True}


def stored(segments, oof=()):
    rows = [{**s, "out_of_frame": False} for s in segments]
    rows += [
        {"start_frame": a, "end_frame": b, "caption": "Out of frame.", "out_of_frame": True}
        for a, b in oof
    ]
    return sorted(rows, key=lambda s: s["start_frame"])


def new_mask_revision(masklet, visible, author=None):
    """What the tracking side does when a click makes a new revision current."""
    number = masklet.revisions.count() + 1
    seen = [i for i, v in enumerate(visible) if v]
    revision = MaskletRevision.objects.create(
        masklet=masklet,
        number=number,
        engine="test",
        masks=masks_for(visible),
        bboxes=[[20, 10, 40, 30] if v else None for v in visible],  # [x, y, w, h]
        areas=[1200 if v else 0 for v in visible],
        first_visible_frame=seen[0],
        last_visible_frame=seen[-1],
        author=author,
    )
    masklet.current_revision = revision
    masklet.save(update_fields=["current_revision"])
    captions_flag_for_recheck(masklet=masklet)
    return revision


def test_review_payload_shows_the_masklet_with_its_captions_and_history(stc):
    masklet = stc.captioned()
    task = claim(stc.reviewer, stc.project, "review")
    assert task["kind"] == "review"
    assert task["masklet"]["id"] == masklet.pk
    assert task["masklet"]["status"] == "captioned"
    assert task["captions"]["number"] == 1
    assert task["captions"]["author"] == "writer"
    assert task["captions"]["stale"] is False
    assert task["captions"]["segments"] == stored(SEGMENTS)
    assert task["history"] == {"mask_revisions": 1, "caption_revisions": 1, "reviews": []}
    assert [r["code"] for r in task["review_reasons"]] == [
        "mask_quality",
        "missing_action",
        "inaccurate_caption",
        "redundant_caption",
        "wrong_object",
        "other",
    ]


def test_reject_sends_rework_to_the_caption_author_then_accept_with_history(stc):
    masklet = stc.captioned()
    outsider = member(stc.project, Role.ANNOTATOR, "outsider")
    review = claim(stc.reviewer, stc.project, "review")
    rejected = submit(
        stc.reviewer,
        review,
        decision="reject",
        reasons=["inaccurate_caption", "other"],
        comment="The dog  walks; it does not run.",
    )
    assert rejected.status_code == 200, rejected.json()
    masklet.refresh_from_db()
    assert masklet.status == MaskletStatus.REJECTED
    rework = Task.objects.get(rework_of_id=review["id"])
    assert (rework.kind, rework.status, rework.assignee_id, rework.masklet_id) == (
        TaskKind.CAPTION,
        TaskStatus.OPEN,
        stc.writer.pk,
        masklet.pk,
    )
    assert rework.notes == (
        "Rejected in review (Inaccurate caption, Other): The dog walks; it does not run."
    )
    # only the author can take it
    assert claim_status(outsider, stc.project, "caption") == 204
    assert claim_status(stc.builder, stc.project, "caption") == 204

    again = claim(stc.writer, stc.project, "caption")
    assert again["id"] == rework.pk
    assert (again["is_rework"], again["notes"]) == (True, rework.notes)
    assert again["captions"]["segments"] == stored(SEGMENTS)
    fixed = [SEGMENTS[0], {"start_frame": 5, "end_frame": 9, "caption": "The dog runs off."}]
    assert submit(stc.writer, again, segments=fixed).status_code == 200
    masklet.refresh_from_db()
    assert masklet.status == MaskletStatus.CAPTIONED

    second = claim(stc.reviewer, stc.project, "review")
    assert second["id"] != review["id"]
    assert second["captions"]["number"] == 2
    assert [r["decision"] for r in second["history"]["reviews"]] == ["reject"]
    edited = [SEGMENTS[0], {"start_frame": 5, "end_frame": 9, "caption": "The dog walks off."}]
    accepted = submit(stc.reviewer, second, decision="accept", segments=edited)
    assert accepted.status_code == 200, accepted.json()
    masklet.refresh_from_db()
    assert masklet.status == MaskletStatus.ACCEPTED
    final = CaptionRevision.objects.get(masklet=masklet, number=3)
    assert (final.author_id, final.task_id, final.segments) == (
        stc.reviewer.pk,
        second["id"],
        stored(edited),
    )
    assert TaskEvent.objects.get(kind=TaskEventKind.EDIT).data == {
        "what": "captions",
        "caption_revision": 3,
    }

    history = client_for(stc.admin).get(f"/api/masklets/{masklet.pk}/history").json()
    assert [
        (r["number"], r["author"], r["engine"], r["prompts"]) for r in history["mask_revisions"]
    ] == [(1, None, "test", 0)]
    assert [
        (c["number"], c["author"], c["task_kind"], c["masklet_revision"])
        for c in history["caption_revisions"]
    ] == [(1, "writer", "caption", 1), (2, "writer", "caption", 1), (3, "reviewer", "review", 1)]
    assert [
        (r["reviewer"], r["decision"], r["reasons"], r["comment"], r["caption_revision"])
        for r in history["reviews"]
    ] == [
        (
            "reviewer",
            "reject",
            ["inaccurate_caption", "other"],
            "The dog walks; it does not run.",
            1,
        ),
        ("reviewer", "accept", [], "", 3),
    ]
    assert history["reviews"][0]["rework_task"] == {
        "id": rework.pk,
        "kind": "caption",
        "status": "submitted",
        "assignee": "writer",
    }
    assert [(t["kind"], t["status"], t["submitted_by"]) for t in history["tasks"]] == [
        ("select", "submitted", "builder"),
        ("caption", "submitted", "writer"),
        ("review", "submitted", "reviewer"),
        ("caption", "submitted", "writer"),
        ("review", "submitted", "reviewer"),
    ]

    diff = client_for(stc.reviewer).get(
        f"/api/masklets/{masklet.pk}/diff/captions", {"from": 1, "to": 3}
    )
    assert diff.json()["summary"] == {"unchanged": 1, "changed": 1, "removed": 0, "added": 0}
    assert diff.json()["segments"][1] == {
        "status": "changed",
        "start_frame": 5,
        "end_frame": 9,
        "out_of_frame": False,
        "before": "The dog runs to the right.",
        "after": "The dog walks off.",
        "words": [
            {"op": "equal", "from": "The dog", "to": "The dog"},
            {"op": "replace", "from": "runs to the right.", "to": "walks off."},
        ],
    }


def test_mask_reasons_send_rework_to_the_pass_one_author_and_flag_the_captions(stc):
    masklet = stc.captioned()
    review = claim(stc.reviewer, stc.project, "review")
    response = submit(
        stc.reviewer, review, decision="reject", reasons=["mask_quality", "missing_action"]
    )
    assert response.status_code == 200, response.json()
    rework = Task.objects.get(rework_of_id=review["id"])
    assert (rework.kind, rework.assignee_id, rework.masklet_id, rework.notes) == (
        TaskKind.SELECT,
        stc.builder.pk,
        masklet.pk,
        "Rejected in review (Mask quality, Missing action).",
    )
    assert claim_status(stc.writer, stc.project, "select") == 204
    task = claim(stc.builder, stc.project, "select")
    assert (task["id"], task["is_rework"], task["masklet"]["id"]) == (rework.pk, True, masklet.pk)
    assert task["captions"]["segments"] == stored(SEGMENTS)
    # the tracking side refines the mask under this lease
    assert mask_edit_task(user=stc.builder, video_id=stc.video.pk, masklet=masklet).pk == rework.pk
    with pytest.raises(ForbiddenError):
        mask_edit_task(user=stc.builder, video_id=stc.video.pk)  # no new object in a rework
    new_mask_revision(masklet, [True] * 8 + [False] * 2, author=stc.builder)
    assert CaptionRevision.objects.get(masklet=masklet).needs_recheck is True

    done = submit(stc.builder, task, category="person")
    assert done.status_code == 200, done.json()
    masklet.refresh_from_db()
    assert (masklet.status, masklet.category) == (MaskletStatus.CAPTIONED, "person")
    review_two = Task.objects.get(kind=TaskKind.REVIEW, status=TaskStatus.OPEN)
    assert set(review_two.exclusions.values_list("user_id", flat=True)) == {
        stc.builder.pk,
        stc.writer.pk,
    }
    second = claim(stc.reviewer, stc.project, "review")
    assert second["captions"]["stale"] is True
    assert second["masklet"]["revision"]["number"] == 2

    # flagged captions cannot be accepted unseen; rebuilt as they are, they overlap the new
    # out-of-frame frames 8-9, so the reviewer must edit them
    unseen = submit(stc.reviewer, second, decision="accept")
    assert (unseen.status_code, unseen.json()["code"]) == (400, "captions_need_recheck")
    rebuilt = submit(stc.reviewer, second, decision="accept", captions_rechecked=True)
    assert (rebuilt.status_code, rebuilt.json()["code"]) == (400, "captions_need_edit")
    assert rebuilt.json()["detail"] == (
        "The captions no longer fit the mask: Segment 2 (frames 5-9) overlaps frames 8-9, where "
        "the subject is out of frame. Edit them before accepting."
    )
    edited = [SEGMENTS[0], {"start_frame": 5, "end_frame": 7, "caption": "The dog runs right."}]
    ok = submit(stc.reviewer, second, decision="accept", segments=[*edited, OOF])
    assert ok.status_code == 200, ok.json()
    latest = CaptionRevision.objects.filter(masklet=masklet).order_by("-number").first()
    assert (latest.number, latest.needs_recheck, latest.masklet_revision.number) == (2, False, 2)
    assert latest.segments == stored(edited, oof=[(8, 9)])
    masklet.refresh_from_db()
    assert masklet.status == MaskletStatus.ACCEPTED


def test_recheck_without_edits_rebuilds_the_captions_against_the_new_mask(stc):
    masklet = stc.captioned(segments=[{"start_frame": 0, "end_frame": 9, "caption": "It runs."}])
    review = claim(stc.reviewer, stc.project, "review")
    # the reviewer refines the mask (same visibility): the captions only need a confirmation
    assert (
        mask_edit_task(user=stc.reviewer, video_id=stc.video.pk, masklet=masklet).pk
        == (review["id"])
    )
    new_mask_revision(masklet, [True] * 10, author=stc.reviewer)
    ok = submit(stc.reviewer, review, decision="accept", captions_rechecked=True)
    assert ok.status_code == 200, ok.json()
    latest = CaptionRevision.objects.get(masklet=masklet, number=2)
    assert (latest.author_id, latest.needs_recheck, latest.masklet_revision.number) == (
        stc.reviewer.pk,
        False,
        2,
    )
    assert not TaskEvent.objects.filter(kind=TaskEventKind.EDIT).exists()


def test_editing_an_accepted_masklet_sends_it_back_to_review(stc):
    masklet = stc.captioned()
    review = claim(stc.reviewer, stc.project, "review")
    assert submit(stc.reviewer, review, decision="accept").status_code == 200
    new_mask_revision(masklet, [True] * 10)
    masklet.refresh_from_db()
    assert masklet.status == MaskletStatus.CAPTIONED
    assert CaptionRevision.objects.get(masklet=masklet).needs_recheck is True
    assert Task.objects.filter(kind=TaskKind.REVIEW, status=TaskStatus.OPEN).count() == 1
    # flagging twice changes nothing more
    assert captions_flag_for_recheck(masklet=masklet) is False
    assert Task.objects.filter(kind=TaskKind.REVIEW, status=TaskStatus.OPEN).count() == 1


def test_reviewer_never_reviews_their_own_work(stc):
    # an admin may annotate and review: they wrote the captions, so the review is not theirs
    first = claim(stc.builder, stc.project, "select")
    from tests.factories import tracked_masklet

    masklet = tracked_masklet(stc.video)
    submit(stc.builder, first, masklets=[{"id": masklet.pk, "category": "person"}])
    caption = claim(stc.admin, stc.project, "caption")
    assert submit(stc.admin, caption, segments=SEGMENTS).status_code == 200
    assert claim_status(stc.admin, stc.project, "review") == 204
    # even when the exclusion is missing (made before they did the work), submit refuses
    TaskExclusion.objects.filter(user=stc.admin).delete()
    review = claim(stc.admin, stc.project, "review")
    refused = submit(stc.admin, review, decision="accept")
    assert (refused.status_code, refused.json()["code"]) == (403, "own_work")
    assert refused.json()["detail"] == "You may not review your own work."
    task = Task.objects.get(pk=review["id"])
    assert (task.status, task.version) == (TaskStatus.LEASED, review["version"])
    masklet.refresh_from_db()
    assert masklet.status == MaskletStatus.CAPTIONED
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field", "detail"),
    [
        ({"decision": "reject", "reasons": ["blurry"]}, "reasons.0", None),
        (
            {"decision": "reject", "reasons": ["other"], "comment": "  "},
            "comment",
            "Say what is wrong: a comment is required with the reason \u201cother\u201d.",
        ),
        ({"decision": "reject", "reasons": []}, "reasons", "Choose at least one reason to reject."),
        (
            {"decision": "accept", "reasons": ["mask_quality"]},
            "reasons",
            "Reasons are for rejections; accept without reasons.",
        ),
        ({"decision": "maybe"}, "decision", None),
        (
            {"decision": "reject", "reasons": ["other"], "comment": "<b>bad</b>"},
            None,
            "The comment must be plain text (no markup or control characters).",
        ),
        (
            {
                "decision": "accept",
                "segments": [{"start_frame": 3, "end_frame": 1, "caption": "Backwards."}],
            },
            None,
            "Segment 1: ends (frame 1) before it starts (frame 3).",
        ),
        (
            {"decision": "reject", "reasons": ["inaccurate_caption"], "segments": SEGMENTS},
            None,
            "Edited captions are saved only with an accept; reject without edits "
            "(the author reworks them).",
        ),
    ],
)
def test_bad_review_input_is_refused_and_changes_nothing(stc, payload, field, detail):
    masklet = stc.captioned()
    review = claim(stc.reviewer, stc.project, "review")
    response = submit(stc.reviewer, review, **payload)
    assert response.status_code == 400, response.json()
    body = response.json()
    if field is not None:
        assert field in body["errors"]
    if detail is not None:
        assert body["detail"] == detail
    task = Task.objects.get(pk=review["id"])
    assert (task.status, task.version) == (TaskStatus.LEASED, review["version"])
    masklet.refresh_from_db()
    assert masklet.status == MaskletStatus.CAPTIONED
    assert not Review.objects.exists()
    assert CaptionRevision.objects.count() == 1
    assert not Task.objects.filter(rework_of__isnull=False).exists()


def test_review_needs_the_lease_and_a_current_version(stc):
    stc.captioned()
    review = claim(stc.reviewer, stc.project, "review")
    other = member(stc.project, Role.REVIEWER, "other-reviewer")
    assert submit(other, review, decision="accept").status_code == 403
    stale = submit(stc.reviewer, {**review, "version": review["version"] - 1}, decision="accept")
    assert stale.status_code == 409
    annotator = submit(stc.writer, review, decision="accept")
    assert annotator.status_code == 403
    assert not Review.objects.exists()


def test_mask_diff_gives_per_frame_iou(stc):
    masklet = stc.captioned()
    new_mask_revision(masklet, [True] * 7 + [False] * 3)
    body = (
        client_for(stc.reviewer)
        .get(f"/api/masklets/{masklet.pk}/diff/masks", {"from": 1, "to": 2})
        .json()
    )
    assert body["iou"] == [1.0] * 7 + [0.0] * 3
    assert body["mean_iou"] == 0.7
    assert body["changed_frames"] == [7, 8, 9]
    assert body["area_to"] == [1200] * 7 + [0] * 3
    missing = client_for(stc.reviewer).get(
        f"/api/masklets/{masklet.pk}/diff/masks", {"from": 1, "to": 5}
    )
    assert (missing.status_code, missing.json()["detail"]) == (
        404,
        f"Masklet {masklet.pk} has no revision 5.",
    )
    bad = client_for(stc.reviewer).get(f"/api/masklets/{masklet.pk}/diff/masks", {"from": "x"})
    assert bad.status_code == 400


def test_history_is_for_reviewers_and_admins_of_the_project(stc, api):
    masklet = stc.captioned()
    url = f"/api/masklets/{masklet.pk}/history"
    assert client_for(stc.writer).get(url).status_code == 403
    from tests.factories import UserFactory

    assert client_for(UserFactory()).get(url).status_code == 404
    assert api.get(url).status_code in (401, 403)
    assert client_for(stc.reviewer).get(url).status_code == 200
