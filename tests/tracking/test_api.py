"""The tracking API contract without a worker: who may call what, bad input, reads of stored
revisions, and the click that no worker answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from annotation.models import TaskEvent
from tests.tracking.conftest import Scene
from tracking.models import Masklet, MaskletRevision, Prompt, TrackingJob
from tracking.services import routing
from tracking.services.jobs import revision_create
from workers import rle

pytestmark = pytest.mark.django_db


def _masks(scene: Scene, shift: int = 0) -> list[dict[str, Any]]:
    video = scene.video
    out = []
    for k in range(video.annotation_frame_count):
        mask = np.zeros((video.height, video.width), dtype=bool)
        if 2 <= k < 20:
            mask[10:30, 20 + shift : 50 + shift] = True
        out.append(rle.encode(mask))
    return out


def _tracked(scene: Scene, *, revisions: int = 1) -> Masklet:
    masklet = Masklet.objects.create(
        video=scene.video, object_id=1, created_by=scene.annotator, select_task=scene.task
    )
    Prompt.objects.create(masklet=masklet, frame=3, points=[[30.0, 20.0]], labels=[1])
    for n in range(revisions):
        with transaction.atomic():
            revision_create(masklet=masklet, masks=_masks(scene, shift=n * 5), engine="test")
    masklet.refresh_from_db()
    return masklet


def _create_body(scene: Scene, **overrides: Any) -> dict[str, Any]:
    body = {
        "task_id": scene.task.pk,
        "category": "object",
        "frame": 2,
        "points": [[40.0, 30.0]],
        "labels": [1],
        "box": None,
    }
    body.update(overrides)
    return body


def _endpoints(scene: Scene, masklet: Masklet, job: TrackingJob) -> list[tuple[str, str, dict]]:
    video = scene.video.pk
    return [
        ("post", f"/api/tracking/videos/{video}/masklets", _create_body(scene)),
        ("post", f"/api/tracking/masklets/{masklet.pk}/prompts", _create_body(scene)),
        (
            "patch",
            f"/api/tracking/masklets/{masklet.pk}",
            {"task_id": scene.task.pk, "category": "animal"},
        ),
        ("delete", f"/api/tracking/masklets/{masklet.pk}?task_id={scene.task.pk}", {}),
        (
            "post",
            f"/api/tracking/videos/{video}/propagate",
            {"task_id": scene.task.pk, "masklet_ids": [masklet.pk]},
        ),
        ("get", f"/api/tracking/jobs/{job.pk}?wait=0", {}),
        ("post", f"/api/tracking/jobs/{job.pk}/cancel", {"task_id": scene.task.pk}),
        ("get", f"/api/tracking/videos/{video}/masks?start=0&end=3", {}),
        ("get", f"/api/tracking/masklets/{masklet.pk}/revisions", {}),
        ("get", f"/api/tracking/masklets/{masklet.pk}/compare?a=1&b=1", {}),
        ("get", f"/api/tracking/videos/{video}/jobs?active=1", {}),
    ]


def _call(client: APIClient, method: str, url: str, body: dict) -> Any:
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, body, format="json")


def _job(scene: Scene, masklet: Masklet) -> TrackingJob:
    job = TrackingJob.objects.create(video=scene.video, engine="cpu", frames_total=24)
    job.masklets.set([masklet])
    return job


def test_anonymous_callers_are_refused_everywhere(scene: Scene) -> None:
    masklet = _tracked(scene)
    job = _job(scene, masklet)
    for method, url, body in _endpoints(scene, masklet, job):
        response = _call(APIClient(), method, url, body)
        assert response.status_code in (401, 403), (method, url)
    assert Masklet.objects.count() == 1
    assert Prompt.objects.count() == 1


def test_non_members_get_404_everywhere(scene: Scene) -> None:
    masklet = _tracked(scene)
    job = _job(scene, masklet)
    client = scene.client(scene.outsider)
    for method, url, body in _endpoints(scene, masklet, job):
        response = _call(client, method, url, body)
        assert response.status_code == 404, (method, url, response.content)
        assert set(response.json()) >= {"detail", "code", "errors"}
    assert Masklet.objects.get().category == "object"
    assert job.status == TrackingJob.objects.get().status


def test_an_annotator_without_a_lease_gets_403_everywhere(scene: Scene) -> None:
    masklet = _tracked(scene)
    job = _job(scene, masklet)
    client = scene.client(scene.other)
    for method, url, body in _endpoints(scene, masklet, job):
        response = _call(client, method, url, body)
        assert response.status_code == 403, (method, url, response.content)
    assert Masklet.objects.count() == 1
    assert Prompt.objects.count() == 1
    assert not TrackingJob.objects.exclude(pk=job.pk).exists()


def test_a_reviewer_without_a_task_may_read_but_not_change_masks(scene: Scene) -> None:
    masklet = _tracked(scene)
    client = scene.client(scene.reviewer)
    video = scene.video.pk
    assert client.get(f"/api/tracking/videos/{video}/masks?start=0&end=3").status_code == 200
    assert client.get(f"/api/tracking/masklets/{masklet.pk}/revisions").status_code == 200
    refused = client.post(
        f"/api/tracking/videos/{video}/masklets", _create_body(scene, task_id=None), format="json"
    )
    assert refused.status_code == 400  # no task named
    refused = client.post(
        f"/api/tracking/videos/{video}/masklets", _create_body(scene), format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "no_mask_lease"
    assert Masklet.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"frame": 24}, "frame"),
        ({"frame": -1}, "frame"),
        ({"points": [[192.0, 10.0]]}, "points"),
        ({"points": [[10.0, 10.0, 3.0]]}, "points"),
        ({"labels": [1, 0]}, "labels"),
        ({"labels": [2]}, "labels"),
        ({"points": [], "labels": []}, "points"),
        ({"box": [50, 50, 40, 60]}, "box"),
        ({"box": [0, 0, 300, 60]}, "box"),
        ({"category": "vehicle"}, "category"),
        ({"task_id": "abc"}, "task_id"),
    ],
)
def test_bad_clicks_are_400_naming_the_field_and_store_nothing(
    scene: Scene, change: dict[str, Any], field: str
) -> None:
    response = scene.client(scene.annotator).post(
        f"/api/tracking/videos/{scene.video.pk}/masklets",
        _create_body(scene, **change),
        format="json",
    )
    assert response.status_code == 400, response.content
    assert any(key.split(".")[0] == field for key in response.json()["errors"]), response.json()
    assert Masklet.objects.count() == 0
    assert Prompt.objects.count() == 0
    assert not TaskEvent.objects.filter(kind="click").exists()


@override_settings(TRACKING_CLICK_TIMEOUT_SECONDS=1.0)
def test_a_click_no_worker_answers_is_503_and_leaves_nothing(scene: Scene) -> None:
    # The video's session is held by a live worker whose queue nobody consumes.
    routing.worker_beat("ghost@nowhere")
    routing.session_holder_set(video_id=scene.video.pk, hostname="ghost@nowhere")
    assert routing.queue_for_video(video_id=scene.video.pk) == "gpu.ghost@nowhere"
    response = scene.client(scene.annotator).post(
        f"/api/tracking/videos/{scene.video.pk}/masklets", _create_body(scene), format="json"
    )
    assert response.status_code == 503
    assert response.json()["code"] == "tracking_unavailable"
    assert "No tracking worker answered" in response.json()["detail"]
    assert Masklet.objects.count() == 0
    assert Prompt.objects.count() == 0
    assert not TaskEvent.objects.filter(kind="click").exists()
    # ... and the next click no longer waits for that worker.
    assert routing.session_holder(video_id=scene.video.pk) is None


def test_clicks_route_to_the_live_holder_of_the_session_only(scene: Scene) -> None:
    video = scene.video.pk
    assert routing.queue_for_video(video_id=video) == "gpu"
    routing.session_holder_set(video_id=video, hostname="dead@host")
    assert routing.queue_for_video(video_id=video) == "gpu"  # no heartbeat: gone
    assert routing.session_holder(video_id=video) is None
    routing.worker_beat("live@host")
    routing.session_holder_set(video_id=video, hostname="live@host")
    assert routing.queue_for_video(video_id=video) == "gpu.live@host"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"masklet_ids": []}, "masklet_ids"),
        ({"masklet_ids": [999999]}, "masklet_ids"),
        ({"frame": 24}, "frame"),
        ({"direction": "sideways"}, "direction"),
    ],
)
def test_bad_propagations_are_400_and_queue_nothing(
    scene: Scene, change: dict[str, Any], field: str
) -> None:
    masklet = _tracked(scene)
    body = {"task_id": scene.task.pk, "masklet_ids": [masklet.pk], **change}
    response = scene.client(scene.annotator).post(
        f"/api/tracking/videos/{scene.video.pk}/propagate", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert TrackingJob.objects.count() == 0


def test_a_masklet_without_clicks_cannot_be_tracked(scene: Scene) -> None:
    masklet = Masklet.objects.create(video=scene.video, object_id=7)
    response = scene.client(scene.annotator).post(
        f"/api/tracking/videos/{scene.video.pk}/propagate",
        {"task_id": scene.task.pk, "masklet_ids": [masklet.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert "no clicks" in response.json()["detail"]
    assert TrackingJob.objects.count() == 0


def test_propagation_is_refused_while_another_job_of_the_video_is_active(scene: Scene) -> None:
    masklet = _tracked(scene)
    running = _job(scene, masklet)
    response = scene.client(scene.annotator).post(
        f"/api/tracking/videos/{scene.video.pk}/propagate",
        {"task_id": scene.task.pk, "masklet_ids": [masklet.pk]},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["current"]["job"]["id"] == running.pk
    assert TrackingJob.objects.count() == 1


def test_propagate_queues_a_job_from_the_latest_prompt_frame(scene: Scene) -> None:
    masklet = _tracked(scene)
    Prompt.objects.create(masklet=masklet, frame=9, points=[[30.0, 20.0]], labels=[1])
    response = scene.client(scene.annotator).post(
        f"/api/tracking/videos/{scene.video.pk}/propagate",
        {"task_id": scene.task.pk, "masklet_ids": [masklet.pk], "direction": "forward"},
        format="json",
    )
    assert response.status_code == 202, response.content
    job = response.json()["job"]
    assert job["status"] == "queued"
    assert job["start_frame"] == 9
    assert job["direction"] == "forward"
    assert job["frames_total"] == 15
    assert job["masklet_ids"] == [masklet.pk]
    assert job["video_id"] == scene.video.pk
    assert set(job) == {
        "id", "kind", "status", "video_id", "masklet_ids", "start_frame", "direction",
        "frames_done", "frames_total", "error", "attempts", "worker", "created_at",
        "started_at", "finished_at",
    }  # fmt: skip
    assert TaskEvent.objects.filter(task=scene.task, kind="propagate").count() == 1
    listed = scene.client(scene.annotator).get(
        f"/api/tracking/videos/{scene.video.pk}/jobs?active=1"
    )
    assert [j["id"] for j in listed.json()["jobs"]] == [job["id"]]


def test_masks_for_a_range_come_from_the_current_revision_with_newer_prompts_over_it(
    scene: Scene,
) -> None:
    masklet = _tracked(scene, revisions=2)
    masks = _masks(scene, shift=5)
    refined = rle.encode(np.ones((scene.video.height, scene.video.width), dtype=bool))
    Prompt.objects.create(masklet=masklet, frame=4, points=[[1.0, 1.0]], labels=[1], mask=refined)
    untracked = Masklet.objects.create(video=scene.video, object_id=2)
    Prompt.objects.create(
        masklet=untracked, frame=3, points=[[1.0, 1.0]], labels=[1], mask=masks[3]
    )
    response = scene.client(scene.annotator).get(
        f"/api/tracking/videos/{scene.video.pk}/masks?start=2&end=5"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["size"] == [108, 192]
    assert (body["start"], body["end"]) == (2, 5)
    assert body["masklets"][str(masklet.pk)] == {
        "revision": 2,
        "frames": [masks[2], masks[3], refined, masks[5]],
    }
    assert body["masklets"][str(untracked.pk)] == {
        "revision": None,
        "frames": [None, masks[3], None, None],
    }
    first = masklet.revisions.get(number=1)
    one = scene.client(scene.annotator).get(
        f"/api/tracking/videos/{scene.video.pk}/masks?start=2&end=3"
        f"&masklet_ids={masklet.pk}&revision={first.pk}"
    )
    assert one.json()["masklets"] == {
        str(masklet.pk): {"revision": 1, "frames": _masks(scene)[2:4]}
    }


@pytest.mark.parametrize(
    "query",
    ["start=5&end=4", "start=0&end=24", "start=a&end=3", "end=3", "start=0&end=3&masklet_ids=x"],
)
def test_bad_mask_ranges_are_400(scene: Scene, query: str) -> None:
    response = scene.client(scene.annotator).get(
        f"/api/tracking/videos/{scene.video.pk}/masks?{query}"
    )
    assert response.status_code == 400, response.content


def test_at_most_600_frames_per_masks_call(scene: Scene) -> None:
    scene.video.annotation_frame_count = 700
    scene.video.save(update_fields=["annotation_frame_count"])
    client = scene.client(scene.annotator)
    url = f"/api/tracking/videos/{scene.video.pk}/masks"
    assert client.get(f"{url}?start=0&end=600").status_code == 400
    assert client.get(f"{url}?start=0&end=599").status_code == 200


def test_revisions_are_listed_and_compared_per_frame(scene: Scene) -> None:
    masklet = _tracked(scene, revisions=2)
    client = scene.client(scene.annotator)
    rows = client.get(f"/api/tracking/masklets/{masklet.pk}/revisions").json()["revisions"]
    assert [r["number"] for r in rows] == [1, 2]
    assert rows[0]["prompt_count"] == 1
    assert (rows[0]["first_visible_frame"], rows[0]["last_visible_frame"]) == (2, 19)
    assert set(rows[0]) == {
        "id", "number", "engine", "model_version", "author", "created_at", "note",
        "prompt_count", "first_visible_frame", "last_visible_frame", "job_id",
    }  # fmt: skip
    compared = client.get(f"/api/tracking/masklets/{masklet.pk}/compare?a=1&b=2").json()
    assert compared["a"] == 1
    assert compared["b"] == 2
    # 30x20 boxes shifted by 5 pixels: 25*20 / (35*20)
    shifted = 25 / 35
    assert compared["iou"] == [None, None] + [pytest.approx(shifted)] * 18 + [None] * 4
    assert compared["mean_iou"] == pytest.approx(shifted)
    assert compared["changed_frames"] == list(range(2, 20))
    missing = client.get(f"/api/tracking/masklets/{masklet.pk}/compare?a=1&b=3")
    assert missing.status_code == 404


def test_a_revision_stores_boxes_areas_and_visibility(scene: Scene) -> None:
    masklet = _tracked(scene)
    revision = MaskletRevision.objects.get(masklet=masklet)
    assert revision.bboxes[2] == [20, 10, 30, 20]  # [x, y, w, h]
    assert revision.bboxes[0] is None
    assert revision.areas[2] == 600
    assert revision.areas[0] == 0
    assert revision.prompts[0]["frame"] == 3
    masklet.refresh_from_db()
    assert masklet.current_revision_id == revision.pk


def test_patch_changes_the_category_and_delete_removes_a_draft_of_this_task(
    scene: Scene,
) -> None:
    masklet = _tracked(scene)
    client = scene.client(scene.annotator)
    patched = client.patch(
        f"/api/tracking/masklets/{masklet.pk}",
        {"task_id": scene.task.pk, "category": "animal"},
        format="json",
    )
    assert patched.status_code == 200
    assert patched.json()["masklet"]["category"] == "animal"
    assert patched.json()["masklet"]["version"] == masklet.version + 1
    bad = client.patch(
        f"/api/tracking/masklets/{masklet.pk}",
        {"task_id": scene.task.pk, "category": "plant"},
        format="json",
    )
    assert bad.status_code == 400
    imported = Masklet.objects.create(video=scene.video, object_id=5, source="sav_manual")
    refused = client.delete(f"/api/tracking/masklets/{imported.pk}?task_id={scene.task.pk}")
    assert refused.status_code == 400
    assert Masklet.objects.filter(pk=imported.pk).exists()
    gone = client.delete(f"/api/tracking/masklets/{masklet.pk}?task_id={scene.task.pk}")
    assert gone.status_code == 204
    assert not Masklet.objects.filter(pk=masklet.pk).exists()
    assert not Prompt.objects.filter(masklet_id=masklet.pk).exists()


def test_cancel_of_a_queued_job_ends_it_at_once(scene: Scene) -> None:
    masklet = _tracked(scene)
    job = _job(scene, masklet)
    response = scene.client(scene.annotator).post(
        f"/api/tracking/jobs/{job.pk}/cancel", {"task_id": scene.task.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["job"]["status"] == "cancelled"
    polled = scene.client(scene.annotator).get(f"/api/tracking/jobs/{job.pk}?cursor=0&wait=5")
    assert polled.json() == {"job": response.json()["job"], "cursor": 0, "frames": []}


def test_an_annotator_reads_only_the_masklets_of_the_tasks_they_hold(scene: Scene) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from annotation.models import Task

    masklet = _tracked(scene)
    hidden = Masklet.objects.create(video=scene.video, object_id=2)
    writer = scene.other
    Task.objects.create(
        project=scene.project, kind="caption", video=scene.video, masklet=masklet,
        status="leased", lease_owner=writer, assignee=writer, leased_at=timezone.now(),
        lease_expires_at=timezone.now() + timedelta(minutes=30),
    )  # fmt: skip
    client = scene.client(writer)
    body = client.get(f"/api/tracking/videos/{scene.video.pk}/masks?start=0&end=1").json()
    assert list(body["masklets"]) == [str(masklet.pk)]
    assert client.get(f"/api/tracking/masklets/{hidden.pk}/revisions").status_code == 403
    assert client.get(f"/api/tracking/masklets/{masklet.pk}/revisions").status_code == 200
    # ... and may not change masks with a caption task.
    refused = client.post(
        f"/api/tracking/masklets/{masklet.pk}/prompts",
        {"task_id": Task.objects.get(kind="caption").pk, "frame": 3, "points": [[5, 5]],
         "labels": [1]},
        format="json",
    )  # fmt: skip
    assert refused.status_code == 403
    assert Prompt.objects.filter(masklet=masklet).count() == 1
    # The pass-1 annotator sees both.
    both = scene.client(scene.annotator).get(
        f"/api/tracking/videos/{scene.video.pk}/masks?start=0&end=1"
    )
    assert sorted(both.json()["masklets"]) == sorted([str(masklet.pk), str(hidden.pk)])


def test_idle_sessions_are_closed_and_forgotten_by_the_registry(scene: Scene) -> None:
    from tracking.services.engines import session_registry, sessions_expire, video_session

    with video_session(video=scene.video, engine_name="cpu", hostname="me@host") as entry:
        entry.sync_prompts([])
    assert routing.session_holder(video_id=scene.video.pk) == "me@host"
    assert sessions_expire(hostname="me@host") == []  # still fresh
    registry = session_registry()
    idle, registry.idle_seconds = registry.idle_seconds, 0
    try:
        assert sessions_expire(hostname="me@host") == [scene.video.pk]
    finally:
        registry.idle_seconds = idle
    assert scene.video.pk not in registry
    assert routing.session_holder(video_id=scene.video.pk) is None


def test_a_reviewer_propagates_the_masklet_of_their_review_task_only(scene: Scene) -> None:
    from annotation.models import Task, TaskKind
    from tracking.models import MaskletStatus

    masklet = _tracked(scene)
    other = Masklet.objects.create(video=scene.video, object_id=2, created_by=scene.annotator)
    Prompt.objects.create(masklet=other, frame=3, points=[[60.0, 20.0]], labels=[1])
    Masklet.objects.filter(pk=masklet.pk).update(status=MaskletStatus.CAPTIONED)
    Task.objects.create(
        project=scene.project, kind=TaskKind.REVIEW, video=scene.video, masklet=masklet
    )
    client = scene.client(scene.reviewer)
    claimed = client.post(f"/api/projects/{scene.project.pk}/queues/review/next")
    assert claimed.status_code == 200, claimed.content
    task_id = claimed.json()["id"]
    url = f"/api/tracking/videos/{scene.video.pk}/propagate"

    refused = client.post(url, {"task_id": task_id, "masklet_ids": [other.pk]}, format="json")
    assert refused.status_code == 403
    assert TrackingJob.objects.count() == 0

    response = client.post(url, {"task_id": task_id, "masklet_ids": [masklet.pk]}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["job"]["masklet_ids"] == [masklet.pk]
    assert TrackingJob.objects.count() == 1
    job_id = response.json()["job"]["id"]
    cancelled = client.post(
        f"/api/tracking/jobs/{job_id}/cancel", {"task_id": task_id}, format="json"
    )
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["job"]["status"] == "cancelled"
