"""Shared steps of the browser flows: seeding through the services, and small page helpers."""

from __future__ import annotations

import re
from typing import Any

from annotation.models import Task, TaskKind, TaskStatus

# The demo video's shapes (workers/synthetic.py): the runner leaves through the right edge and
# comes back, so its masklet has an out-of-frame stretch in the middle.
RUNNER = 5
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
XSS_PROBE = "window.__xss === undefined && !document.querySelector('img[src=\"x\"]')"


def visible_runs(visible: list[bool], seen: bool) -> list[tuple[int, int]]:
    """Maximal runs of frames whose visibility is ``seen``, as inclusive (start, end)."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for frame, value in enumerate([*visible, not seen]):
        if value == seen and start is None:
            start = frame
        elif value != seen and start is not None:
            runs.append((start, frame - 1))
            start = None
    return runs


def click_frame(page: Any, x: float, y: float, *, button: str = "left") -> None:
    """Click the player at pixel (x, y) of the annotation frame, wherever it is on screen."""
    canvas = page.get_by_test_id("player-canvas")
    box = canvas.bounding_box()
    width, height = (int(v) for v in canvas.evaluate("c => [c.width, c.height]"))
    page.mouse.click(
        box["x"] + (x + 0.5) * box["width"] / width,
        box["y"] + (y + 0.5) * box["height"] / height,
        button=button,
    )


def seek(page: Any, frame: int) -> None:
    """Jump the player to ``frame`` with its frame field (typed, Enter)."""
    field = page.get_by_test_id("frame-input")
    field.fill(str(frame))
    field.press("Enter")


def draft_settled(page: Any) -> None:
    """Wait until the task's autosave has nothing pending (saved, or nothing changed yet)."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("draft-status")).to_have_attribute(
        "data-status", re.compile(r"^(saved|idle)$")
    )


def slow_network(page: Any, *, send_late: str = "", answer_late: str = "", ms: int = 1500) -> None:
    """Make the page's own fetch calls slow, in the page (no round trip through the test): the
    requests whose "METHOD url" matches ``send_late`` leave ``ms`` late, the answers to those
    matching ``answer_late`` (already handled by the server) arrive ``ms`` late. This makes the
    order of two racing requests the unlucky one every time."""
    page.evaluate(
        """([sendLate, answerLate, ms]) => {
          const real = window.fetch.bind(window);
          const wait = () => new Promise((r) => setTimeout(r, ms));
          const hit = (re, key) => re !== "" && new RegExp(re).test(key);
          window.fetch = async (input, init) => {
            const url = typeof input === "string" ? input : input.url;
            const key = `${(init && init.method) || "GET"} ${url}`;
            if (hit(sendLate, key)) await wait();
            const response = await real(input, init);
            if (hit(answerLate, key)) await wait();
            return response;
          };
        }""",
        [send_late, answer_late, ms],
    )


def start_queue(page: Any, project_name: str, queue: str) -> None:
    """Home → the project's card → Start working on ``queue``."""
    card = page.locator(f'[data-testid="project-card"][data-project="{project_name}"]')
    card.locator(f'[data-testid="start-working"][data-queue="{queue}"]').click()


def track_by_service(demo: Any, *, object_id: int = RUNNER) -> Any:
    """Pass-1 masks without the browser: one click on the shape at frame 0, tracked by the CPU
    engine through the whole video (tracking.services.batch.video_track)."""
    from tracking.services.batch import video_track

    x, y = demo.truth.click_point(demo.truth.annotation_frames(6.0)[0], object_id)
    result = video_track(
        video=demo.video,
        prompts=[{"object_id": 1, "frame": 0, "points": [[x, y]], "labels": [1], "box": None}],
        engine_name="cpu",
    )
    return result.masklets[0]


def pass_one_by_service(demo: Any, user: Any, *, category: str = "animal") -> Any:
    """Claim the video's pass-1 task as ``user``, track the runner, submit it."""
    from annotation.services.queue import task_claim_next
    from annotation.services.select import select_submit

    task = task_claim_next(user=user, project=demo.stc, kinds=[TaskKind.SELECT])
    assert task is not None
    masklet = track_by_service(demo)
    select_submit(
        task_id=task.pk,
        user=user,
        masklets=[{"id": masklet.pk, "category": category}],
        rejected=[],
        base_version=task.version,
    )
    masklet.refresh_from_db()
    return masklet


def captions_by_service(demo: Any, user: Any, masklet: Any, captions: list[str]) -> Any:
    """Pass 2 without the browser: one typed segment per visible stretch of the masklet."""
    from annotation.services.captions import caption_submit, visibility_of
    from annotation.services.queue import task_claim_next

    task = task_claim_next(user=user, project=demo.stc, kinds=[TaskKind.CAPTION])
    assert task is not None
    assert task.masklet_id == masklet.pk
    runs = visible_runs(visibility_of(masklet.current_revision), True)
    assert len(runs) == len(captions), runs
    segments = [
        {"start_frame": a, "end_frame": b, "caption": text}
        for (a, b), text in zip(runs, captions, strict=True)
    ]
    return caption_submit(task_id=task.pk, user=user, segments=segments, base_version=task.version)


def open_tasks(kind: str, **filters: Any) -> list[Task]:
    return list(Task.objects.filter(kind=kind, status=TaskStatus.OPEN, **filters))
