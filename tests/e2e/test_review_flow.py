"""Issue 5 in a real Chromium: a reviewer rejects a captioned masklet with a reason, the author
gets the rework task with the reviewer's notes, fixes it and submits, the reviewer sees the
history (with the caption diff) and accepts; the QA dashboard on that data."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from annotation.models import Review, Task, TaskKind, TaskStatus
from tests.e2e.helpers import (
    XSS_PROBE,
    captions_by_service,
    draft_settled,
    pass_one_by_service,
    start_queue,
    visible_runs,
)
from tracking.models import MaskletStatus

pytestmark = pytest.mark.e2e

FIRST = "The small animal runs to the right and leaves the frame."
WRONG = "It comes back and sits still."
FIXED = "It comes back from the right edge and keeps running to the left."
COMMENT = "Segment 2: it does not sit still, it keeps running."


def test_reject_rework_accept_with_history(ui, demo):
    masklet = pass_one_by_service(demo, demo.users["annotator1"])
    captions_by_service(demo, demo.users["annotator2"], masklet, [FIRST, WRONG])
    gone = visible_runs([bool(a) for a in masklet.current_revision.areas], False)

    # The reviewer rejects: inaccurate caption, with a comment. Markup in it is refused plainly.
    reviewer = ui.page_as("reviewer")
    start_queue(reviewer, demo.stc.name, "review")
    expect(reviewer.get_by_test_id("review-editor")).to_be_visible()
    review_task = Task.objects.get(
        pk=int(reviewer.get_by_test_id("task-shell").get_attribute("data-task-id"))
    )
    assert (review_task.kind, review_task.masklet_id) == (TaskKind.REVIEW, masklet.pk)
    expect(reviewer.get_by_test_id("review-segment")).to_have_count(2)
    expect(reviewer.get_by_test_id("review-segment-oof")).to_have_count(len(gone))
    expect(reviewer.get_by_test_id("review-captions")).to_contain_text("sits still")
    reviewer.get_by_test_id("tab-history").click()
    expect(reviewer.get_by_test_id("history-event").first).to_be_visible()
    canvas = reviewer.get_by_test_id("player-canvas")
    expect(canvas).to_have_attribute("data-drawn-frame", "0")
    expect(canvas).to_have_attribute("data-mask-layers", re.compile(r"^[1-9]"))
    ui.shot(reviewer, "review-opened")

    reviewer.get_by_test_id("review-reject").check()
    reviewer.get_by_test_id("reason-inaccurate_caption").check()
    reviewer.get_by_test_id("review-comment").fill(f"{COMMENT} <b>really</b>")
    expect(reviewer.get_by_test_id("review-problem")).to_contain_text("plain text")
    expect(reviewer.get_by_test_id("review-submit")).to_be_disabled()
    expect(reviewer.get_by_test_id("review-comment")).to_have_value(f"{COMMENT} <b>really</b>")
    assert reviewer.evaluate(XSS_PROBE)
    assert reviewer.locator(".rv-verdict b", has_text="really").count() == 0
    ui.shot(reviewer, "review-markup-refused")
    reviewer.get_by_test_id("review-comment").fill(COMMENT)
    expect(reviewer.get_by_test_id("review-problem")).to_have_count(0)
    ui.shot(reviewer, "review-reject-ready")
    draft_settled(reviewer)
    reviewer.get_by_test_id("review-submit").click()
    expect(reviewer.get_by_test_id("queue-empty")).to_be_visible()

    rejection = Review.objects.get(task=review_task)
    assert (rejection.decision, rejection.reasons, rejection.comment) == (
        "reject",
        ["inaccurate_caption"],
        COMMENT,
    )
    rework = Task.objects.get(rework_of=review_task)
    assert (rework.kind, rework.assignee_id) == (TaskKind.CAPTION, demo.users["annotator2"].pk)

    # The author gets the rework with the reviewer's notes, starting from their captions.
    author = ui.page_as("annotator2")
    start_queue(author, demo.stc.name, "caption")
    expect(author.get_by_test_id("caption-editor")).to_be_visible()
    assert int(author.get_by_test_id("task-shell").get_attribute("data-task-id")) == rework.pk
    expect(author.get_by_test_id("rework-notes")).to_contain_text(COMMENT)
    expect(author.get_by_test_id("segment-caption-1")).to_have_value(FIRST)
    expect(author.get_by_test_id("segment-caption-2")).to_have_value(WRONG)
    ui.shot(author, "rework-opened")
    author.get_by_test_id("segment-caption-2").fill(FIXED)
    expect(author.get_by_test_id("draft-status")).to_have_attribute("data-status", "saved")
    author.get_by_test_id("caption-submit").click()
    expect(author.get_by_test_id("queue-empty")).to_be_visible()
    rework.refresh_from_db()
    assert rework.status == TaskStatus.SUBMITTED

    # The reviewer sees it again, with the earlier rejection, the history and the caption diff.
    start_again = reviewer.get_by_test_id("check-again")
    start_again.click()
    expect(reviewer.get_by_test_id("review-editor")).to_be_visible()
    second = Task.objects.get(
        pk=int(reviewer.get_by_test_id("task-shell").get_attribute("data-task-id"))
    )
    assert (second.kind, second.masklet_id) == (TaskKind.REVIEW, masklet.pk)
    expect(reviewer.get_by_test_id("previous-rejection")).to_contain_text(COMMENT)
    expect(reviewer.get_by_test_id("review-captions")).to_contain_text("keeps running to the left")
    reviewer.get_by_test_id("tab-history").click()
    events = reviewer.get_by_test_id("history-event")
    expect(events.filter(has_text=COMMENT)).to_have_count(1)
    expect(reviewer.get_by_test_id("caption-diff")).to_be_visible()
    changed = reviewer.locator('[data-testid="caption-diff-row"][data-status="changed"]')
    expect(changed).to_have_count(1)
    expect(changed).to_contain_text("sits still")
    ui.shot(reviewer, "review-again-history")

    reviewer.get_by_test_id("review-accept").check()
    draft_settled(reviewer)
    reviewer.get_by_test_id("review-submit").click()
    expect(reviewer.get_by_test_id("queue-empty")).to_be_visible()
    ui.shot(reviewer, "review-accepted-queue-empty")

    masklet.refresh_from_db()
    assert masklet.status == MaskletStatus.ACCEPTED
    assert list(Review.objects.filter(masklet=masklet).values_list("decision", flat=True)) == [
        "reject",
        "accept",
    ]
    latest = masklet.caption_revisions.order_by("-number").first()
    assert [s["caption"] for s in latest.segments if not s["out_of_frame"]] == [FIRST, FIXED]

    # The admin's QA dashboard on what just happened.
    admin = ui.page_as("admin")
    admin.goto(f"/projects/{demo.stc.pk}/dashboard")
    expect(admin.get_by_test_id("dashboard-page")).to_be_visible()
    expect(admin.get_by_test_id("dashboard-generated")).to_be_visible()
    ui.shot(admin, "dashboard-after-review")
