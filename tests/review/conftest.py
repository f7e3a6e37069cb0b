"""Fixtures for pass 3, gold, agreement and the dashboard: a small STC project driven through
the real API, and a controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from annotation.models import Role, TaskKind
from tests.conftest import client_for
from tests.factories import ProjectFactory, TaskFactory, VideoFactory, member, tracked_masklet

SEGMENTS = [
    {"start_frame": 0, "end_frame": 4, "caption": "The dog sits down."},
    {"start_frame": 5, "end_frame": 9, "caption": "The dog runs to the right."},
]


class Clock:
    """timezone.now() under the test's control (auto_now fields included)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", fake)
    return fake


def claim(user: Any, project: Any, queue_name: str) -> dict[str, Any]:
    response = client_for(user).post(f"/api/projects/{project.pk}/queues/{queue_name}/next")
    assert response.status_code == 200, response.content
    return response.json()


def claim_status(user: Any, project: Any, queue_name: str) -> int:
    return client_for(user).post(f"/api/projects/{project.pk}/queues/{queue_name}/next").status_code


def submit(user: Any, task: dict[str, Any], **payload: Any) -> Any:
    return client_for(user).post(
        f"/api/tasks/{task['id']}/submit",
        {"base_version": task["version"], **payload},
        format="json",
    )


class Stc:
    """One 10-frame video, a pass-1 author, a pass-2 author, a reviewer and an admin."""

    def __init__(self, **project_fields: Any) -> None:
        self.project = ProjectFactory(min_caption_chars=5, **project_fields)
        self.video = VideoFactory(
            project=self.project, annotation_frame_count=10, frame_index=list(range(10))
        )
        TaskFactory(project=self.project, video=self.video, kind=TaskKind.SELECT)
        self.builder = member(self.project, Role.ANNOTATOR, "builder")
        self.writer = member(self.project, Role.ANNOTATOR, "writer")
        self.reviewer = member(self.project, Role.REVIEWER, "reviewer")
        self.admin = member(self.project, Role.ADMIN, "boss")

    def captioned(self, segments: list[dict[str, Any]] | None = None, **masklet_fields: Any):  # type: ignore[no-untyped-def]
        """Pass 1 by builder, pass 2 by writer, through the API; returns the masklet."""
        task = claim(self.builder, self.project, "select")
        masklet = tracked_masklet(self.video, **masklet_fields)
        ok = submit(self.builder, task, masklets=[{"id": masklet.pk, "category": "animal"}])
        assert ok.status_code == 200, ok.json()
        task = claim(self.writer, self.project, "caption")
        ok = submit(self.writer, task, segments=segments or SEGMENTS)
        assert ok.status_code == 200, ok.json()
        masklet.refresh_from_db()
        return masklet


@pytest.fixture
def stc(db: None) -> Stc:
    return Stc()
