"""Dataset releases for the dashboard: split runs and counts, export jobs (start one, watch
its progress, download the release).

Exports are for project admins only, splits for admins and reviewers (non-members get 404,
other roles 403).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import storage
from annotation.access import require_role
from annotation.errors import ConflictError, NotFoundError
from annotation.models import ExportJob, JobStatus, Project, Role
from annotation.selectors.exports import export_job_get, export_job_list
from annotation.selectors.splits import split_runs, split_video_counts
from annotation.services.export_jobs import export_job_archive_name, export_job_create


def _download_url(job: ExportJob) -> str | None:
    if job.status != JobStatus.SUCCEEDED or not job.archive_key:
        return None
    if storage.is_s3():
        return storage.signed_url(
            job.archive_key,
            expires=settings.SIGNED_URL_TTL,
            filename=export_job_archive_name(job),
        )
    return reverse("export-download", kwargs={"job_id": job.pk})


def export_job_payload(job: ExportJob, *, with_files: bool) -> dict[str, Any]:
    manifest = job.manifest or {}
    data: dict[str, Any] = {
        "id": job.pk,
        "project_id": job.project_id,
        "dataset": job.dataset,
        "split": job.split,
        "task": job.task_filter,
        "format": job.file_format,
        "status": job.status,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "progress": (job.rows_done / job.rows_total) if job.rows_total else None,
        "total_rows": manifest.get("total_rows"),
        "split_version": manifest.get("split_version"),
        "report": job.report,
        "error": job.error,
        "attempts": job.attempts,
        "created_by": job.created_by.username if job.created_by else None,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "download_url": _download_url(job),
        "expires_in": settings.SIGNED_URL_TTL if storage.is_s3() else None,
    }
    if with_files:
        data["manifest"] = job.manifest
    return data


def _job_for_admin(request: Request, job_id: int) -> ExportJob:
    job = export_job_get(job_id=job_id)
    if job is None or not request.user.is_authenticated:
        raise NotFoundError("Export not found.")
    require_role(user=request.user, project=job.project_id, roles=[Role.ADMIN])
    return job


class ExportListApi(APIView):
    class InputSerializer(serializers.Serializer):
        split = serializers.CharField(max_length=8)
        task = serializers.CharField(max_length=8, default="all")
        format = serializers.CharField(max_length=8, default="jsonl")

    def get(self, request: Request, project_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=[Role.ADMIN])
        jobs = export_job_list(project_id=project_id)
        return Response([export_job_payload(job, with_files=False) for job in jobs])

    def post(self, request: Request, project_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=[Role.ADMIN])
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job, created = export_job_create(
            project=Project.objects.get(pk=project_id),
            user=request.user,
            split=data.validated_data["split"],
            task=data.validated_data["task"],
            file_format=data.validated_data["format"],
        )
        return Response(export_job_payload(job, with_files=True), status=201 if created else 200)


class ExportDetailApi(APIView):
    def get(self, request: Request, job_id: int) -> Response:
        job = _job_for_admin(request, job_id)
        return Response(export_job_payload(job, with_files=True))


class ExportDownloadApi(APIView):
    """The release as one zip: streamed from local storage, or a redirect to a signed URL."""

    def get(self, request: Request, job_id: int) -> HttpResponseBase:
        job = _job_for_admin(request, job_id)
        if job.status != JobStatus.SUCCEEDED or not job.archive_key:
            raise ConflictError(f"This export is {job.status}; there is nothing to download yet.")
        name = export_job_archive_name(job)
        if storage.is_s3():
            url = storage.signed_url(
                job.archive_key, expires=settings.SIGNED_URL_TTL, filename=name
            )
            return HttpResponseRedirect(url)
        path = storage.local_path(job.archive_key)
        if not path.is_file():
            raise NotFoundError("The export archive is gone from storage.")
        # FileResponse closes the file when the response is done.
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=name, content_type="application/zip"
        )


class SplitListApi(APIView):
    """Videos per split now, and the recorded assign_splits runs (newest first)."""

    def get(self, request: Request, project_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=[Role.ADMIN, Role.REVIEWER])
        runs = [
            {
                "version": run.version,
                "seed": run.seed,
                "val_fraction": run.val_fraction,
                "test_fraction": run.test_fraction,
                "deny_list_entries": len(run.deny_list),
                "counts": run.counts,
                "created_at": run.created_at,
            }
            for run in split_runs(project_id=project_id)
        ]
        return Response({"videos": split_video_counts(project_id=project_id), "runs": runs})
