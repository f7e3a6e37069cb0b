"""Export jobs from the dashboard: the API per role, the real Celery worker on the export queue,
progress, the download (local zip view, S3 signed URL), claims and failures."""

import io
import threading
import zipfile
from datetime import timedelta

import pytest
import requests
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from annotation import storage
from annotation.models import ExportJob, JobStatus, Role
from annotation.services.export_jobs import (
    _JobProgress,
    export_job_create,
    export_job_run,
    export_jobs_requeue_stuck,
)
from tests.conftest import client_for, wait_for
from tests.export_data import captioned_masklet, clip, fgqa_project, recaption, stc_project
from tests.factories import UserFactory, member


def make_release():
    project = stc_project()
    video = clip(project, "sav_000001.mp4", "test")
    walker = captioned_masklet(
        video, [(0, 3, "A man walks in."), (4, 5, None), (6, 11, "He sits down.")], object_id=0
    )
    captioned_masklet(video, [(0, 11, "A dog sleeps on the rug.")], object_id=1)
    return project, walker


def unzip(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def local_files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_export_job_runs_on_the_worker_and_downloads_the_same_bytes_as_the_cli(
    celery_worker, transactional_db, tmp_path
):
    project, _ = make_release()
    admin = member(project, Role.ADMIN)
    client = client_for(admin)

    created = client.post(f"/api/projects/{project.pk}/exports", {"split": "test"}, format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["dataset"], body["split"], body["task"], body["format"]) == (
        "queued",
        "stc",
        "test",
        "all",
        "jsonl",
    )
    assert body["download_url"] is None
    job_id = body["id"]
    done = wait_for(
        lambda: (
            (r := client.get(f"/api/exports/{job_id}").json())["status"] in ("succeeded", "failed")
            and r
        ),
        timeout=90,
    )
    assert done["status"] == "succeeded", done["error"]
    assert (done["rows_done"], done["rows_total"], done["progress"]) == (4, 4, 1.0)
    assert done["total_rows"] == 11  # 3 rcap + 3 rtloc + 2 rdcap + 2 metadata + 1 masklet file
    assert done["report"]["records"] == 2
    assert done["attempts"] == 1
    assert done["download_url"] == f"/api/exports/{job_id}/download"

    download = client.get(done["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert f"tubelet_stc_test_all_jsonl_job{job_id}.zip" in download["Content-Disposition"]
    files = unzip(b"".join(download.streaming_content))
    call_command("export_stc", "--split", "test", "--out", str(tmp_path), stdout=io.StringIO())
    assert files == local_files(tmp_path)
    assert sorted(files) == sorted(
        ["manifest.json", *(f["path"] for f in done["manifest"]["files"])]
    )
    stored = storage.list_keys(f"exports/{project.pk}/{job_id}/files/")
    assert len(stored) == len(files)


def test_progress_is_visible_to_others_while_the_export_holds_its_snapshot(transactional_db):
    project, _ = make_release()
    job = ExportJob.objects.create(project=project, dataset="stc", split="test",
                                   status=JobStatus.RUNNING)  # fmt: skip
    seen = []

    def look():
        seen.append(ExportJob.objects.values_list("rows_done", "rows_total").get(pk=job.pk))
        connection.close()

    with transaction.atomic():
        progress = _JobProgress(job.pk, separate_connection=True)
        progress(5, 10)
        wait_for(lambda: progress._pending.done(), timeout=10)
        reader = threading.Thread(target=look)
        reader.start()
        reader.join()
        progress.close()

    assert seen == [(5, 10)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [(Role.REVIEWER, 403), (Role.ANNOTATOR, 403), (None, 404)]
)
def test_only_project_admins_may_list_start_watch_and_download(role, status):
    project, _ = make_release()
    job, _ = export_job_create(project=project, user=None, split="test")
    export_job_run(job_id=job.pk)
    user = member(project, role) if role else UserFactory()
    client = client_for(user)

    responses = [
        client.get(f"/api/projects/{project.pk}/exports"),
        client.post(f"/api/projects/{project.pk}/exports", {"split": "test"}, format="json"),
        client.get(f"/api/exports/{job.pk}"),
        client.get(f"/api/exports/{job.pk}/download"),
    ]

    assert [r.status_code for r in responses] == [status] * 4
    assert ExportJob.objects.count() == 1


@pytest.mark.django_db
def test_anonymous_users_are_refused(api):
    project, _ = make_release()
    job, _ = export_job_create(project=project, user=None, split="test")

    assert api.get(f"/api/projects/{project.pk}/exports").status_code in (401, 403)
    assert api.get(f"/api/exports/{job.pk}").status_code in (401, 403)
    assert api.get(f"/api/exports/{job.pk}/download").status_code in (401, 403)


@pytest.mark.django_db
def test_list_is_newest_first_and_asking_twice_returns_the_active_job():
    project, _ = make_release()
    client = client_for(member(project, Role.ADMIN))
    url = f"/api/projects/{project.pk}/exports"

    first = client.post(url, {"split": "test", "format": "parquet", "task": "rcap"}, format="json")
    again = client.post(url, {"split": "test", "format": "parquet", "task": "rcap"}, format="json")
    other = client.post(url, {"split": "train"}, format="json")

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json()["id"] == first.json()["id"]
    listed = client.get(url).json()
    assert [j["id"] for j in listed] == [other.json()["id"], first.json()["id"]]
    assert [(j["split"], j["task"], j["format"]) for j in listed] == [
        ("train", "all", "jsonl"),
        ("test", "rcap", "parquet"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [({"split": "dev"}, "split"), ({"split": "test", "task": "vqa"}, "task"),
     ({"split": "test", "format": "csv"}, "format"), ({}, "split")],
)  # fmt: skip
def test_bad_requests_are_400_naming_the_field(payload, field):
    project, _ = make_release()
    client = client_for(member(project, Role.ADMIN))

    response = client.post(f"/api/projects/{project.pk}/exports", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert ExportJob.objects.count() == 0


@pytest.mark.django_db
def test_fgqa_projects_export_train_or_test_only():
    project = fgqa_project()
    client = client_for(member(project, Role.ADMIN))

    refused = client.post(f"/api/projects/{project.pk}/exports", {"split": "val"}, format="json")
    accepted = client.post(f"/api/projects/{project.pk}/exports", {"split": "test"}, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"split": ["Choose one of train, test."]}
    assert accepted.status_code == 201
    assert accepted.json()["dataset"] == "fgqa"


@pytest.mark.django_db
def test_a_job_is_claimed_once_and_a_stale_one_again():
    project, _ = make_release()
    job, _ = export_job_create(project=project, user=None, split="test")

    export_job_run(job_id=job.pk)
    export_job_run(job_id=job.pk)  # a redelivered message

    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)
    now = timezone.now()
    running = ExportJob.objects.create(project=project, dataset="stc", split="test",
                                       status=JobStatus.RUNNING, started_at=now)  # fmt: skip
    export_job_run(job_id=running.pk)
    running.refresh_from_db()
    assert (running.status, running.attempts) == (JobStatus.RUNNING, 0)
    ExportJob.objects.filter(pk=running.pk).update(started_at=timezone.now() - timedelta(hours=12))
    export_job_run(job_id=running.pk)
    running.refresh_from_db()
    assert (running.status, running.attempts) == (JobStatus.SUCCEEDED, 1)


@pytest.mark.django_db
def test_sweeper_requeues_only_jobs_stuck_past_the_time_limit():
    project, _ = make_release()
    old = timezone.now() - timedelta(hours=12)
    stuck = ExportJob.objects.create(project=project, dataset="stc", split="test",
                                     status=JobStatus.RUNNING, started_at=old)  # fmt: skip
    now = timezone.now()
    fresh = ExportJob.objects.create(project=project, dataset="stc", split="val",
                                     status=JobStatus.RUNNING, started_at=now)  # fmt: skip

    assert export_jobs_requeue_stuck() == [stuck.pk]

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.status, fresh.status) == (JobStatus.QUEUED, JobStatus.RUNNING)


@pytest.mark.django_db
def test_a_refused_export_fails_with_the_reason_and_stores_nothing():
    project, walker = make_release()
    recaption(walker, [(0, 3, "A man walks in."), (4, 5, None)])  # frames 6..11 uncovered
    job, _ = export_job_create(project=project, user=None, split="test")

    export_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Export refused: 'sav_000001.mp4' masklet 0: frames 6..11")
    assert storage.list_keys(f"exports/{project.pk}/{job.pk}/") == []
    download = client_for(member(project, Role.ADMIN)).get(f"/api/exports/{job.pk}/download")
    assert download.status_code == 409
    assert download.json()["detail"] == "This export is failed; there is nothing to download yet."


@pytest.mark.django_db
def test_s3_mode_gives_a_signed_url_to_the_archive(s3_storage, tmp_path):
    project, _ = make_release()
    admin = member(project, Role.ADMIN)
    job, _ = export_job_create(project=project, user=admin, split="test", file_format="parquet")

    export_job_run(job_id=job.pk)

    detail = client_for(admin).get(f"/api/exports/{job.pk}").json()
    assert detail["status"] == "succeeded"
    assert detail["expires_in"] == 600
    url = detail["download_url"]
    assert url.startswith(f"{s3_storage['endpoint']}/{s3_storage['bucket']}/exports/")
    assert "Signature" in url or "X-Amz-Signature" in url
    files = unzip(requests.get(url, timeout=10).content)
    call_command("export_stc", "--split", "test", "--format", "parquet", "--out", str(tmp_path),
                 stdout=io.StringIO())  # fmt: skip
    assert files == local_files(tmp_path)
    assert requests.get(url.split("?")[0], timeout=10).status_code == 403
    redirect = client_for(admin).get(f"/api/exports/{job.pk}/download")
    assert redirect.status_code == 302
    assert redirect["Location"].startswith(url.split("?")[0])
