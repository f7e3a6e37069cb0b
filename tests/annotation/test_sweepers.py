"""Sweepers for work whose message was lost, and the deploy settings: SigV4 signed URLs, a public
S3 endpoint for browser URLs, static files outside the data folder, the export time limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from annotation import storage
from annotation.models import ExportJob, JobStatus, Video, VideoStatus
from annotation.services.export_jobs import export_jobs_requeue_stuck
from annotation.services.ingest import video_requeue_stuck
from tests.factories import ProjectFactory, VideoFactory

ROOT = Path(__file__).resolve().parents[2]


def _pending(project, name: str, minutes_ago: float, **fields) -> Video:
    video = VideoFactory(
        project=project, name=name, status=VideoStatus.PENDING, source_key=f"sources/{name}"
    )
    Video.objects.filter(pk=video.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago), **fields
    )
    cache.delete(f"ingest-requeued:{video.pk}")
    return video


@pytest.mark.django_db
def test_a_pending_upload_whose_message_was_lost_is_enqueued_again_once(
    django_capture_on_commit_callbacks,
) -> None:
    project = ProjectFactory()
    lost = _pending(project, "lost.mp4", minutes_ago=20)
    _pending(project, "fresh.mp4", minutes_ago=1)
    with django_capture_on_commit_callbacks() as callbacks:
        assert video_requeue_stuck(older_than_seconds=3600, pending_older_than_seconds=600) == 0
    assert [cb.args for cb in callbacks] == [(lost.pk,)]
    with django_capture_on_commit_callbacks() as again:
        video_requeue_stuck(older_than_seconds=3600, pending_older_than_seconds=600)
    assert again == []  # not on every sweep
    assert Video.objects.get(pk=lost.pk).status == VideoStatus.PENDING


@pytest.mark.django_db
def test_pending_uploads_are_left_alone_while_a_video_is_processing(
    django_capture_on_commit_callbacks,
) -> None:
    project = ProjectFactory()
    _pending(project, "waiting.mp4", minutes_ago=20)
    VideoFactory(
        project=project,
        status=VideoStatus.PROCESSING,
        processing_started_at=timezone.now() - timedelta(minutes=5),
    )
    with django_capture_on_commit_callbacks() as callbacks:
        video_requeue_stuck(older_than_seconds=3600, pending_older_than_seconds=600)
    assert callbacks == []


def _export(project, status: str, minutes_ago: float, **fields) -> ExportJob:
    job = ExportJob.objects.create(project=project, dataset="stc", split="test", status=status)
    ExportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago), **fields
    )
    cache.delete(f"export-requeued:{job.pk}")
    return job


@pytest.mark.django_db
@override_settings(EXPORT_QUEUED_STALE_SECONDS=600)
def test_a_queued_export_whose_message_was_lost_is_enqueued_again_once(
    django_capture_on_commit_callbacks,
) -> None:
    project = ProjectFactory()
    lost = _export(project, JobStatus.QUEUED, minutes_ago=20)
    _export(project, JobStatus.QUEUED, minutes_ago=2)
    with django_capture_on_commit_callbacks() as callbacks:
        assert export_jobs_requeue_stuck() == [lost.pk]
    assert len(callbacks) == 1
    assert export_jobs_requeue_stuck() == []
    assert ExportJob.objects.get(pk=lost.pk).status == JobStatus.QUEUED


@pytest.mark.django_db
@override_settings(EXPORT_QUEUED_STALE_SECONDS=600)
def test_queued_exports_wait_while_another_export_runs() -> None:
    project = ProjectFactory()
    _export(project, JobStatus.QUEUED, minutes_ago=20)
    _export(project, JobStatus.RUNNING, minutes_ago=30, started_at=timezone.now())
    assert export_jobs_requeue_stuck() == []


@pytest.mark.django_db
def test_browser_urls_are_signed_v4_for_the_public_endpoint(s3_storage) -> None:
    storage.write_bytes("videos/x/thumb.jpg", b"jpeg bytes")
    public = s3_storage["endpoint"].replace("127.0.0.1", "localhost")
    with override_settings(S3_PUBLIC_ENDPOINT_URL=public):
        url = storage.signed_url("videos/x/thumb.jpg", expires=600, filename="t.jpg")
    assert url.startswith(f"{public}/tubelet-test/videos/x/thumb.jpg?")
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["600"]
    assert query["response-content-disposition"] == ['attachment; filename="t.jpg"']
    response = requests.get(url, timeout=10)
    assert (response.status_code, response.content) == (200, b"jpeg bytes")
    # without it, the storage's own endpoint signs
    assert storage.signed_url("videos/x/thumb.jpg", expires=600).startswith(s3_storage["endpoint"])


def test_settings_sign_v4_keep_static_files_out_of_the_data_folder_and_limit_exports(
    tmp_path: Path,
) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("S3_", "STATIC_ROOT", "EXPORT_", "DJANGO_SETTINGS"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        TUBELET_DATA_DIR=str(tmp_path / "data"),
        SECRET_KEY="x" * 50,
        S3_BUCKET="bucket",
        EXPORT_TIME_LIMIT="5400",
    )
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.STORAGES['default']['OPTIONS']['signature_version'], "
        "s.STATIC_ROOT, str(s.DATA_DIR), s.EXPORT_TIME_LIMIT]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    signature, static_root, data_dir, limit = json.loads(out.strip().splitlines()[-1])
    assert signature == "s3v4"
    assert static_root == str(ROOT / "staticfiles")
    assert not Path(static_root).is_relative_to(data_dir)
    assert limit == 5400
