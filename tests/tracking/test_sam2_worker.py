"""The SAM 2 path through a real GPU-queue worker: a randomly initialised, shrunken model on CPU
(no checkpoint can be downloaded here): click → propagate → revision stored. The plumbing is
tested, not the masks' quality."""

from __future__ import annotations

from pathlib import Path

import pytest
from celery.utils.nodenames import host_format
from django.test import override_settings

from tests.conftest import WorkerProcess, wait_for, worker_env
from tests.tracking.conftest import make_scene
from tracking.models import MaskletRevision, TrackingJob
from tracking.services import routing

pytestmark = pytest.mark.sam2

try:
    import torch  # noqa: F401
    from sam2.build_sam import build_sam2_video_predictor  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the machine
    pytest.skip(f"torch and the sam2 package are needed ({exc})", allow_module_level=True)


# Building the model on CPU takes a while on a busy machine; a GPU worker with a checkpoint
# answers the first click in seconds.
@override_settings(TRACKING_CLICK_TIMEOUT_SECONDS=240)
def test_sam2_worker_answers_clicks_and_stores_a_propagated_revision(
    transactional_db: None, tmp_path: Path
) -> None:
    scene = make_scene(frames=6)
    env = worker_env(
        TRACKER="sam2",
        SAM2_ALLOW_RANDOM_WEIGHTS="1",
        SAM2_DEVICE="cpu",
        SAM2_IMAGE_SIZE="128",
        SAM2_CHECKPOINT="",
    )
    worker = WorkerProcess(queues="gpu", name="sam2", env=env, log=tmp_path / "sam2.log")
    hostname = host_format("sam2@%h")
    worker.start()
    try:
        wait_for(lambda: routing.worker_alive(hostname), timeout=30)
        routing.session_holder_set(video_id=scene.video.pk, hostname=hostname)
        client = scene.client(scene.annotator)
        created = client.post(
            f"/api/tracking/videos/{scene.video.pk}/masklets",
            {"task_id": scene.task.pk, "category": "object", "frame": 2,
             "points": [[60.0, 40.0]], "labels": [1], "box": [40, 20, 100, 70]},
            format="json",
        )  # fmt: skip
        assert created.status_code == 201, created.content
        assert created.json()["mask"]["size"] == [108, 192]
        masklet_id = created.json()["masklet"]["id"]
        started = client.post(
            f"/api/tracking/videos/{scene.video.pk}/propagate",
            {"task_id": scene.task.pk, "masklet_ids": [masklet_id]},
            format="json",
        )
        assert started.status_code == 202
        job_id = started.json()["job"]["id"]
        job = wait_for(
            lambda: TrackingJob.objects.filter(
                pk=job_id, status__in=["succeeded", "failed"]
            ).first(),
            timeout=240,
        )
        assert job.status == "succeeded", job.error
        assert job.engine == "sam2"
        assert job.worker == hostname
        revision = MaskletRevision.objects.get(masklet_id=masklet_id)
        assert revision.engine == "sam2"
        assert revision.model_version.endswith("@random-init/128px")
        assert len(revision.masks) == 6
        assert all(m["size"] == [108, 192] for m in revision.masks)
    finally:
        worker.stop()
