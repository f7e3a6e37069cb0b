"""Issue 4 in a real Chromium: pass 1 (click, track, accept), pass 2 by a second annotator
(two segments, the automatic out-of-frame segment, drafts, a 409 from a second tab, markup shown
as text), and an FGQA task answered."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from annotation.models import CaptionRevision, FgqaAnswer, Task, TaskKind, TaskStatus
from tests.e2e.helpers import (
    RUNNER,
    XSS,
    XSS_PROBE,
    click_frame,
    draft_settled,
    seek,
    slow_network,
    start_queue,
    visible_runs,
)
from tracking.models import Masklet, MaskletStatus

pytestmark = pytest.mark.e2e

TRACK_TIMEOUT_MS = 90_000


# Records what the pass-1 progress bar showed, from the page's own DOM (no polling from here).
PROGRESS_RECORDER = """
window.__progress = [];
new MutationObserver(() => {
  const bar = document.querySelector('[data-testid="track-progress"]');
  if (bar) window.__progress.push([Number(bar.dataset.done), Number(bar.dataset.total)]);
}).observe(document, {subtree: true, childList: true, attributes: true});
"""


def _pass_one(ui, demo):
    """annotator1 starts working, clicks the runner on frame 0 (its mask is drawn at once),
    tracks it (live progress, masks on the other frames), and submits."""
    page = ui.page_as("annotator1")
    page.add_init_script(PROGRESS_RECORDER)
    page.reload()
    start_queue(page, demo.stc.name, "select")
    expect(page.get_by_test_id("select-editor")).to_be_visible()
    canvas = page.get_by_test_id("player-canvas")
    expect(canvas).to_have_attribute("data-drawn-frame", "0")
    expect(canvas).to_have_attribute("data-mask-layers", "0")
    task = Task.objects.get(pk=int(page.get_by_test_id("task-shell").get_attribute("data-task-id")))
    assert (task.kind, task.video_id) == (TaskKind.SELECT, demo.video.pk)
    ui.shot(page, "pass1-opened")

    page.get_by_test_id("new-category").select_option("animal")
    x, y = demo.truth.click_point(demo.truth.annotation_frames(6.0)[0], RUNNER)
    click_frame(page, x, y)
    rows = page.get_by_test_id("object-row")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_test_id("object-category")).to_have_value("animal")
    expect(canvas).to_have_attribute("data-mask-layers", "1")
    ui.shot(page, "pass1-clicked")

    page.get_by_test_id("track").click()
    expect(rows.first).to_have_attribute("data-state", "tracking")
    expect(rows.first).to_have_attribute("data-state", "tracked", timeout=TRACK_TIMEOUT_MS)
    expect(page.get_by_test_id("track-progress")).to_have_count(0)
    expect(page.get_by_test_id("track-error")).to_have_count(0)
    progress = page.evaluate("window.__progress")
    assert progress, "the tracking progress bar never showed"
    assert progress[-1][0] <= progress[-1][1] == demo.video.annotation_frame_count, progress

    # Masks on frames the click was not on: the last frames, where the runner is back.
    last = demo.video.annotation_frame_count - 1
    seek(page, last)
    expect(canvas).to_have_attribute("data-drawn-frame", str(last))
    expect(canvas).to_have_attribute("data-mask-layers", "1")
    ui.shot(page, "pass1-tracked-last-frame")
    draft_settled(page)
    page.get_by_test_id("submit-next").click()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    ui.shot(page, "pass1-submitted-queue-empty")

    task.refresh_from_db()
    assert task.status == TaskStatus.SUBMITTED
    masklet = Masklet.objects.select_related("current_revision").get(select_task=task)
    assert (masklet.status, masklet.category) == (MaskletStatus.SELECTED, "animal")
    assert len(masklet.current_revision.masks) == demo.video.annotation_frame_count
    return masklet


def _pass_two(ui, demo, masklet) -> None:
    """annotator2 captions the runner's masklet: two typed segments around the automatic
    out-of-frame one; a reload keeps the draft; a second tab's save makes this tab's next save
    a 409, shown with a Reload action; markup typed in a caption stays text."""
    visible = [bool(a) for a in masklet.current_revision.areas]
    seen = visible_runs(visible, True)
    gone = visible_runs(visible, False)
    assert len(seen) >= 2, f"the tracked runner should leave and return: {seen}"
    assert len(gone) >= 1, f"the tracked runner should leave and return: {gone}"

    page = ui.page_as("annotator2")
    start_queue(page, demo.stc.name, "caption")
    editor = page.get_by_test_id("caption-editor")
    expect(editor).to_be_visible()
    task_id = int(page.get_by_test_id("task-shell").get_attribute("data-task-id"))
    task = Task.objects.get(pk=task_id)
    assert (task.kind, task.masklet_id) == (TaskKind.CAPTION, masklet.pk)

    # The automatic out-of-frame segments, from the mask, read-only.
    out = page.get_by_test_id("segment-out-of-frame")
    expect(out).to_have_count(len(gone))
    for i, (a, b) in enumerate(gone):
        expect(out.nth(i).get_by_test_id("segment-out-of-frame-frames")).to_have_text(
            f"frames {a}\u2013{b}"
        )
    expect(out.first.locator("textarea")).to_have_count(0)
    # The video with the subject's mask drawn over it (frame 0: the runner is in view).
    canvas = page.get_by_test_id("player-canvas")
    expect(canvas).to_have_attribute("data-drawn-frame", "0")
    expect(canvas).to_have_attribute("data-mask-layers", re.compile(r"^[1-9]"))
    ui.shot(page, "pass2-opened")

    # Markup typed into a caption is text: shown literally, never run, refused on submit.
    ui.allow_console(r"status of 400")
    first = page.get_by_test_id("segment-caption-1")
    first.fill(XSS)
    expect(page.get_by_test_id("draft-status")).to_have_attribute("data-status", "saved")
    page.get_by_test_id("caption-submit").click()
    expect(page.get_by_test_id("segment-problem-1").first).to_contain_text("markup")
    assert page.evaluate(XSS_PROBE)
    ui.shot(page, "pass2-markup-refused")

    # A reload loses nothing: the draft comes back, still as text.
    page.reload()
    expect(page.get_by_test_id("segment-caption-1")).to_have_value(XSS)
    assert page.evaluate(XSS_PROBE)

    # Two segments, keyboard first: caption, Enter = next segment on the next visible stretch.
    captions = [
        "The small animal runs to the right and leaves the frame.",
        "It comes back from the right edge and keeps running.",
        *(f"Then it keeps going ({n})." for n in range(3, len(seen) + 1)),
    ]
    for number, text in enumerate(captions, start=1):
        box = page.get_by_test_id(f"segment-caption-{number}")
        expect(page.get_by_test_id(f"segment-start-{number}")).to_have_value(
            str(seen[number - 1][0])
        )
        box.fill(text)
        box.press("Enter")
    expect(page.get_by_test_id("caption-notice")).to_contain_text("Every frame is covered")
    expect(page.get_by_test_id("draft-status")).to_have_attribute("data-status", "saved")

    # A second tab of the same task saves first; this tab's next save is stale (409).
    other = page.context.new_page()
    other.goto(f"/tasks/{task_id}")
    other_second = other.get_by_test_id("segment-caption-2")
    expect(other_second).to_have_value(captions[1])
    other_second.fill("It comes back from the right edge and runs on.")
    expect(other.get_by_test_id("draft-status")).to_have_attribute("data-status", "saved")
    other.close()
    ui.allow_console(r"status of 409")
    page.get_by_test_id("segment-caption-1").press("End")
    page.keyboard.type(" Fast.")
    conflict = page.get_by_test_id("conflict-banner")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text(re.compile(r"changed elsewhere", re.I))
    expect(conflict.get_by_test_id("reload")).to_be_visible()
    ui.shot(page, "pass2-conflict-409")
    # Reload gets the same task again; it must not give the lease back on the way (a release
    # racing the new claim can leave the task leased to nobody while it is on screen).
    sent = []
    page.on("request", lambda r: sent.append(f"{r.method} {r.url}"))
    with page.expect_response(lambda r: "/queues/caption/next" in r.url):
        conflict.get_by_test_id("reload").click()
    released = [r for r in sent if r.startswith("POST") and r.endswith(f"/tasks/{task_id}/release")]
    assert not released, "Reload gave the lease back before claiming the task again"
    expect(page.get_by_test_id("segment-caption-2")).to_have_value(
        "It comes back from the right edge and runs on."
    )
    expect(page.get_by_test_id("segment-caption-1")).to_have_value(captions[0])
    expect(page.get_by_test_id("conflict-banner")).to_have_count(0)
    expect(page.get_by_test_id("lease-lost")).to_have_count(0)
    ui.shot(page, "pass2-ready")

    draft_settled(page)
    page.get_by_test_id("caption-submit").click()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    ui.shot(page, "pass2-submitted-queue-empty")

    task.refresh_from_db()
    assert task.status == TaskStatus.SUBMITTED
    revision = CaptionRevision.objects.get(masklet=masklet)
    typed = [s for s in revision.segments if not s["out_of_frame"]]
    automatic = [s for s in revision.segments if s["out_of_frame"]]
    assert [(s["start_frame"], s["end_frame"]) for s in typed] == seen
    assert [s["caption"] for s in typed] == [
        captions[0],
        "It comes back from the right edge and runs on.",
        *captions[2:],
    ]
    assert [(s["start_frame"], s["end_frame"]) for s in automatic] == gone
    assert Task.objects.filter(kind=TaskKind.REVIEW, masklet=masklet, status="open").count() == 1


def test_annotators_select_track_and_caption_the_demo_video(ui, demo):
    masklet = _pass_one(ui, demo)
    _pass_two(ui, demo, masklet)


def test_fgqa_task_is_answered(ui, demo):
    from annotation.services.demo import demo_video_path
    from annotation.services.fgqa import fgqa_import
    from annotation.services.ingest import video_ingest_file

    clip = video_ingest_file(
        project=demo.fgqa, path=demo_video_path(), original_name="shapes_clip.mp4"
    )[0].video
    assert clip is not None
    rows = [
        {
            "qa_id": "q1",
            "video": clip.name,
            "question": "Which direction does the spotted ball move?",
            "model_answer": "It wanders around the frame.",
            "source_video_id": "kitchen_long_01",
            "source_start_time": 12.0,
            "source_end_time": 22.0,
        },
        {"qa_id": "q2", "video": clip.name, "question": "How many shapes leave the frame?"},
    ]
    lines = [json.dumps(row) for row in rows]
    fgqa_import(project=demo.fgqa, lines=lines)
    q1, q2 = demo.fgqa.fgqa_questions.order_by("external_id")

    page = ui.page_as("annotator1")
    start_queue(page, demo.fgqa.name, "fgqa")
    expect(page.get_by_test_id("fgqa-answer-editor")).to_be_visible()
    expect(page.get_by_test_id(f"question-text-{q1.pk}")).to_have_text(q1.question)
    expect(page.get_by_test_id(f"model-answer-{q1.pk}")).to_have_text(q1.model_answer)
    # The clip's source context: the longer video it was cut from, and where.
    expect(page.get_by_test_id("clip-source")).to_have_text("kitchen_long_01")
    expect(page.get_by_test_id("clip-source-range")).to_contain_text("12")
    expect(page.get_by_test_id("player-canvas")).to_have_attribute("data-drawn-frame", "0")
    ui.shot(page, "fgqa-opened")

    page.get_by_test_id("fgqa-submit").click()
    expect(page.get_by_test_id("form-problems")).to_be_visible()

    page.get_by_test_id(f"action-accept-{q1.pk}").click()
    page.get_by_test_id(f"qtype-{q1.pk}").select_option("Movement Direction")
    page.get_by_test_id(f"action-answer-{q2.pk}").click()
    page.get_by_test_id(f"answer-{q2.pk}").fill("One.")
    page.get_by_test_id(f"qtype-{q2.pk}").select_option("Counting Problems")
    expect(page.get_by_test_id("fgqa-progress")).to_have_text("2 of 2 ready")
    ui.shot(page, "fgqa-ready")

    # Submit right after the last change, with a slow answer: the pending autosave must not be
    # sent after the submit (the task is closed by then: it would be refused with a 409).
    refused = []
    page.on(
        "response",
        lambda r: refused.append(r.url) if "/draft" in r.url and r.status == 409 else None,
    )
    slow_network(page, answer_late=r"^POST .*/api/tasks/\d+/submit")
    page.get_by_test_id(f"answer-{q2.pk}").fill("One: the runner leaves through the right edge.")
    page.get_by_test_id("fgqa-submit").click()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    assert not refused, f"a draft save was sent after the submit and refused: {refused}"

    answers = {a.question_id: a for a in FgqaAnswer.objects.all()}
    assert (answers[q1.pk].answer, answers[q1.pk].q_type, answers[q1.pk].used_model_answer) == (
        "It wanders around the frame.",
        "Movement Direction",
        True,
    )
    assert (answers[q2.pk].answer, answers[q2.pk].q_type) == (
        "One: the runner leaves through the right edge.",
        "Counting Problems",
    )
