"""Fixtures for the tracking tests: a small synthetic video ingested like the demo's (real
frames in storage), people in every role, and a pass-1 task leased through the queue API."""

from __future__ import annotations

import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rest_framework.test import APIClient

from annotation.models import Project, Role, Task, TaskKind, Video
from annotation.services.ingest import video_ingest_file
from tests.conftest import client_for
from tests.factories import ProjectFactory, member
from workers import rle, synthetic

_CLIPS = Path(tempfile.mkdtemp(prefix="tubelet-tracking-clips-"))


@functools.cache
def clip(
    *, width: int = 192, height: int = 108, frames: int = 24, seed: int = 5
) -> synthetic.SyntheticVideo:
    """A synthetic clip at 6 fps (one annotation frame per source frame), made once."""
    path = _CLIPS / f"shapes_{width}x{height}_{frames}_{seed}.mp4"
    return synthetic.generate(path, width=width, height=height, fps=6.0, frames=frames, seed=seed)


@dataclass
class Scene:
    project: Project
    video: Video
    truth: synthetic.SyntheticVideo
    annotator: Any
    other: Any  # an annotator of the project with no lease on the video
    reviewer: Any
    admin: Any
    outsider: Any  # not a member
    task: Task  # the pass-1 task, leased to ``annotator``

    def client(self, user: Any) -> APIClient:
        return client_for(user)

    def mask(self, frame: int, object_id: int) -> np.ndarray:
        return self.truth.mask(frame, object_id)

    def click(self, frame: int, object_id: int) -> list[float]:
        point = self.truth.click_point(frame, object_id)
        assert point is not None, f"object {object_id} is not visible on frame {frame}"
        return [float(point[0]), float(point[1])]

    def visible_frame(self, object_id: int) -> int:
        return next(
            k for k in range(self.video.annotation_frame_count) if self.mask(k, object_id).any()
        )


def make_scene(**clip_kwargs: Any) -> Scene:
    project = ProjectFactory()
    source = clip(**clip_kwargs)
    path = source.path
    copy = Path(tempfile.mkdtemp(prefix="tubelet-ingest-")) / path.name
    shutil.copyfile(path, copy)
    outcome = video_ingest_file(project=project, path=copy, original_name=path.name)[0]
    assert outcome.video is not None, outcome.error
    video = outcome.video
    video.refresh_from_db()
    annotator = member(project, Role.ANNOTATOR)
    response = client_for(annotator).post(f"/api/projects/{project.pk}/queues/select/next")
    assert response.status_code == 200, response.content
    task = Task.objects.get(pk=response.json()["id"])
    assert task.kind == TaskKind.SELECT
    assert task.video_id == video.pk
    return Scene(
        project=project,
        video=video,
        truth=source,
        annotator=annotator,
        other=member(project, Role.ANNOTATOR),
        reviewer=member(project, Role.REVIEWER),
        admin=member(project, Role.ADMIN),
        outsider=member(ProjectFactory(), Role.ADMIN),
        task=task,
    )


@pytest.fixture(autouse=True)
def _fresh_tracking_cache() -> None:
    """Tracking's cache entries about jobs, clicks and session holders start empty: ids repeat
    from one test database to the next, the Redis database does not. (Worker beats stay: the
    session's worker keeps running.)"""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    keys = [
        key
        for kind in ("job", "click", "session")
        for key in client.scan_iter(match=f"{prefix}:*:tracking:{kind}:*")
    ]
    if keys:
        client.delete(*keys)


@pytest.fixture
def scene(db: None) -> Scene:
    return make_scene()


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def decode(mask: dict[str, Any]) -> np.ndarray:
    return rle.decode(mask)
