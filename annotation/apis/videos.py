"""Videos: list, upload (processed on the media queue), detail with media URLs, delete."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.db import transaction
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.access import STAFF_ROLES, require_role, require_video_access
from annotation.apis.parsers import RawNameMultiPartParser, raw_file_name
from annotation.errors import ServiceError
from annotation.models import Project, Role
from annotation.selectors.videos import video_list, video_payload
from annotation.services.ingest import video_delete, video_ingest_file


class VideoListApi(APIView):
    parser_classes = [RawNameMultiPartParser]

    class UploadSerializer(serializers.Serializer):
        file = serializers.FileField(allow_empty_file=True)
        split_scenes = serializers.BooleanField(default=False)
        max_clip_seconds = serializers.FloatField(default=30.0, min_value=1.0, max_value=3600.0)

    def get(self, request: Request, project_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=STAFF_ROLES)
        videos = video_list(project_id=project_id, status=request.query_params.get("status"))
        return Response([video_payload(v, with_media=False) for v in videos])

    def post(self, request: Request, project_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=[Role.ADMIN])
        data = self.UploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        project = Project.objects.get(pk=project_id)
        with tempfile.TemporaryDirectory(prefix="tubelet-upload-") as tmp:
            local = Path(tmp) / "upload"
            with open(local, "wb") as fh:
                for chunk in upload.chunks():
                    fh.write(chunk)
            with transaction.atomic():
                outcomes = video_ingest_file(
                    project=project,
                    path=local,
                    original_name=raw_file_name(request, upload.name),
                    user=request.user,
                    run_async=True,
                    split_scenes=data.validated_data["split_scenes"],
                    max_clip_seconds=data.validated_data["max_clip_seconds"],
                )
        outcome = outcomes[0]
        if outcome.error or outcome.video is None:
            raise ServiceError(outcome.error, code="bad_video", errors={"file": [outcome.error]})
        return Response(video_payload(outcome.video, with_media=False), status=201)


class VideoDetailApi(APIView):
    def get(self, request: Request, video_id: int) -> Response:
        video = require_video_access(user=request.user, video_id=video_id)
        return Response(video_payload(video, with_media=video.status == "ready"))

    def delete(self, request: Request, video_id: int) -> Response:
        video = require_video_access(user=request.user, video_id=video_id)
        require_role(user=request.user, project=video.project_id, roles=[Role.ADMIN])
        video_delete(video=video)
        return Response(status=204)
