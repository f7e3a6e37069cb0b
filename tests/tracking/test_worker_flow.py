"""Clicks, propagation, streaming, cancel and revisions through the real Celery worker (the
CPU tracker on a synthetic video ingested like the demo's)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from annotation.models import TaskEvent
from tests.conftest import wait_for
from tests.tracking.conftest import Scene, decode, iou, make_scene
from tracking.models import Masklet, MaskletRevision, Prompt, TrackingJob
from tracking.services import routing
from tracking.services.engines import engine_prompt, stored_prompts, tracking_engine
from workers.engine import FrameSource

PILLAR = 4  # the synthetic object the CPU tracker follows reliably at this small size


@pytest.fixture
def live(celery_worker: Any, transactional_db: None) -> Scene:
    return make_scene()


def _create(scene: Scene, object_id: int, frame: int | None = None) -> Any:
    frame = scene.visible_frame(object_id) if frame is None else frame
    return scene.client(scene.annotator).post(
        f"/api/tracking/videos/{scene.video.pk}/masklets",
        {
            "task_id": scene.task.pk,
            "category": "object",
            "frame": frame,
            "points": [scene.click(frame, object_id)],
            "labels": [1],
        },
        format="json",
    )


def _follow(scene: Scene, job_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Long-poll the job to its end; returns the last answer and every streamed frame."""
    client = scene.client(scene.annotator)
    cursor, frames = 0, []
    for _ in range(200):
        body = client.get(f"/api/tracking/jobs/{job_id}?cursor={cursor}&wait=10").json()
        assert body["cursor"] >= cursor
        cursor = body["cursor"]
        frames += body["frames"]
        if body["job"]["status"] in ("succeeded", "failed", "cancelled"):
            return body, frames
    pytest.fail("the job did not end")


def test_clicks_become_a_masklet_tracked_through_the_video_with_streamed_frames(
    live: Scene,
) -> None:
    scene = live
    created = _create(scene, PILLAR)
    assert created.status_code == 201, created.content
    body = created.json()
    frame = scene.visible_frame(PILLAR)
    assert body["frame"] == frame
    assert body["masklet"]["revision"] is None
    assert body["masklet"]["status"] == "draft"
    mask = decode(body["mask"])
    assert iou(mask, scene.mask(frame, PILLAR)) >= 0.85
    ys, xs = np.nonzero(mask)
    assert body["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
    masklet = Masklet.objects.get(pk=body["masklet"]["id"])
    assert masklet.object_id == 1
    assert masklet.select_task_id == scene.task.pk
    assert Prompt.objects.get(masklet=masklet).mask == body["mask"]
    assert TaskEvent.objects.filter(task=scene.task, kind="click").count() == 1
    # The session's holder is recorded: the next click goes to that worker's own queue.
    assert routing.queue_for_video(video_id=scene.video.pk).startswith("gpu.test-worker@")

    started = scene.client(scene.annotator).post(
        f"/api/tracking/videos/{scene.video.pk}/propagate",
        {"task_id": scene.task.pk, "masklet_ids": [masklet.pk]},
        format="json",
    )
    assert started.status_code == 202, started.content
    job_id = started.json()["job"]["id"]
    last, frames = _follow(scene, job_id)
    count = scene.video.annotation_frame_count
    assert last["job"]["status"] == "succeeded", last["job"]
    assert last["job"]["frames_done"] == last["job"]["frames_total"] == count
    assert last["job"]["attempts"] == 1
    assert sorted(f["frame"] for f in frames) == list(range(count))
    revision = MaskletRevision.objects.get(masklet=masklet)
    assert revision.number == 1
    assert revision.job_id == job_id
    assert revision.engine == "cpu"
    assert len(revision.masks) == count
    for streamed in frames:
        assert streamed["masks"] == {str(masklet.pk): revision.masks[streamed["frame"]]}
    ious = [iou(decode(m), scene.mask(k, PILLAR)) for k, m in enumerate(revision.masks)]
    assert float(np.mean(ious)) >= 0.85
    masklet.refresh_from_db()
    assert masklet.current_revision_id == revision.pk
    read = scene.client(scene.annotator).get(
        f"/api/tracking/videos/{scene.video.pk}/masks?start=0&end={count - 1}"
    )
    assert read.json()["masklets"][str(masklet.pk)] == {"revision": 1, "frames": revision.masks}

    # Refine on another frame, track again: a second revision, the first one kept.
    other = frame + 10
    refined = scene.client(scene.annotator).post(
        f"/api/tracking/masklets/{masklet.pk}/prompts",
        {"task_id": scene.task.pk, "frame": other, "points": [scene.click(other, PILLAR)],
         "labels": [1]},
        format="json",
    )  # fmt: skip
    assert refined.status_code == 200, refined.content
    assert refined.json()["masklet"]["revision"]["number"] == 1
    again = scene.client(scene.annotator).post(
        f"/api/tracking/videos/{scene.video.pk}/propagate",
        {"task_id": scene.task.pk, "masklet_ids": [masklet.pk], "direction": "forward"},
        format="json",
    )
    assert again.json()["job"]["start_frame"] == other
    last, frames = _follow(scene, again.json()["job"]["id"])
    assert last["job"]["status"] == "succeeded"
    assert sorted(f["frame"] for f in frames) == list(range(other, count))
    second = MaskletRevision.objects.get(masklet=masklet, number=2)
    assert second.parent_id == revision.pk
    assert second.masks[:other] == revision.masks[:other]  # not re-tracked: kept
    assert len(second.prompts) == 2
    compared = (
        scene.client(scene.annotator)
        .get(f"/api/tracking/masklets/{masklet.pk}/compare?a=1&b=2")
        .json()
    )
    assert len(compared["iou"]) == count
    assert all(v == 1.0 for v in compared["iou"][:other] if v is not None)
    assert TaskEvent.objects.filter(task=scene.task, kind="click").count() == 2
    assert TaskEvent.objects.filter(task=scene.task, kind="propagate").count() == 2


def test_a_diverged_session_is_rebuilt_from_the_stored_prompts(live: Scene) -> None:
    scene = live
    first = _create(scene, 3)
    second = _create(scene, PILLAR)
    assert first.status_code == second.status_code == 201
    # Someone removes the first masklet behind the session's back: the worker's session
    # still holds its prompt, so the next click must rebuild from what is stored.
    Masklet.objects.filter(pk=first.json()["masklet"]["id"]).delete()
    masklet_id = second.json()["masklet"]["id"]
    frame = scene.visible_frame(PILLAR) + 5
    refined = scene.client(scene.annotator).post(
        f"/api/tracking/masklets/{masklet_id}/prompts",
        {"task_id": scene.task.pk, "frame": frame, "points": [scene.click(frame, PILLAR)],
         "labels": [1]},
        format="json",
    )  # fmt: skip
    assert refined.status_code == 200, refined.content
    # What a fresh session given only the stored prompts answers.
    from annotation import storage

    source = FrameSource.from_directory(storage.local_path(scene.video.frames_prefix.rstrip("/")))
    session = tracking_engine("cpu").open_session(source)
    prompts = stored_prompts(video_id=scene.video.pk)
    for prompt in prompts[:-1]:
        session.add_prompt(prompt)
    expected = session.add_prompt(prompts[-1])
    session.close()
    assert prompts[-1] == engine_prompt(Prompt.objects.order_by("pk").last())
    assert iou(decode(refined.json()["mask"]), expected) >= 0.95


def test_a_running_propagation_can_be_cancelled_and_leaves_no_revision(
    celery_worker: Any, transactional_db: None
) -> None:
    scene = make_scene(frames=96)
    created = _create(scene, PILLAR)
    assert created.status_code == 201, created.content
    masklet_id = created.json()["masklet"]["id"]
    client = scene.client(scene.annotator)
    job_id = client.post(
        f"/api/tracking/videos/{scene.video.pk}/propagate",
        {"task_id": scene.task.pk, "masklet_ids": [masklet_id]},
        format="json",
    ).json()["job"]["id"]
    first = client.get(f"/api/tracking/jobs/{job_id}?cursor=0&wait=20").json()
    assert first["frames"], first  # frames stream while it runs
    clicked = _create(scene, 3)
    assert clicked.status_code == 409  # no clicks while the video is being tracked
    assert clicked.json()["code"] == "tracking_running"
    cancelled = client.post(
        f"/api/tracking/jobs/{job_id}/cancel", {"task_id": scene.task.pk}, format="json"
    )
    assert cancelled.status_code == 200
    last, _ = _follow(scene, job_id)
    assert last["job"]["status"] == "cancelled"
    assert last["job"]["frames_done"] < 96
    assert not MaskletRevision.objects.exists()
    assert Masklet.objects.get(pk=masklet_id).current_revision_id is None
    assert TrackingJob.objects.get(pk=job_id).cancel_requested
    assert client.get(f"/api/tracking/videos/{scene.video.pk}/jobs?active=1").json() == {"jobs": []}
    wait_for(lambda: _create(scene, 3).status_code == 201, timeout=30)


def test_refinement_clicks_add_to_the_frame_without_doubling_and_replace_undoes(
    live: Scene,
) -> None:
    scene = live
    created = _create(scene, PILLAR)
    assert created.status_code == 201, created.content
    masklet_id = created.json()["masklet"]["id"]
    frame = scene.visible_frame(PILLAR)
    first = scene.click(frame, PILLAR)
    outside = [2.0, 2.0]
    url = f"/api/tracking/masklets/{masklet_id}/prompts"
    client = scene.client(scene.annotator)

    def send(points: list[list[float]], labels: list[int], **extra: Any) -> Any:
        body = {"task_id": scene.task.pk, "frame": frame, "points": points, "labels": labels}
        response = client.post(url, {**body, **extra}, format="json")
        assert response.status_code == 200, response.content
        return Prompt.objects.filter(masklet_id=masklet_id).order_by("pk").last()

    added = send([outside], [0])
    assert (added.points, added.labels) == ([first, outside], [1, 0])
    resent = send([first, outside], [1, 0])
    assert (resent.points, resent.labels) == ([first, outside], [1, 0])
    undone = send([first], [1], replace=True)
    assert (undone.points, undone.labels) == ([first], [1])
    assert Prompt.objects.filter(masklet_id=masklet_id).count() == 4  # one row per interaction
    assert TaskEvent.objects.filter(task=scene.task, kind="click").count() == 4
