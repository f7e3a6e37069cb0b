"""The tracking HTTP API (contract: notes/TRACKING_API.md, summarised in README "Tracking").

Each view validates its input, calls one service or selector (which check the caller's role and
lease) and serializes the answer.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.selectors.tasks import masklet_summary
from tracking.selectors.jobs import job_payload, job_poll, video_jobs
from tracking.selectors.masks import revision_compare, revision_rows, video_masks
from tracking.services.jobs import tracking_job_cancel, tracking_job_create
from tracking.services.masklets import (
    ClickResult,
    masklet_create,
    masklet_delete,
    masklet_prompt_add,
    masklet_update,
)


class _PromptInput(serializers.Serializer):
    task_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    frame = serializers.IntegerField()
    points = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        required=False,
        default=list,
    )
    labels = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=1), required=False, default=list
    )
    box = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        required=False,
        allow_null=True,
        default=None,
    )


def _click_out(result: ClickResult) -> dict[str, Any]:
    return {
        "masklet": masklet_summary(result.masklet),
        "frame": result.frame,
        "mask": result.mask,
        "bbox": result.bbox,
    }


def _task_id(request: Request) -> int | None:
    value = request.query_params.get("task_id") or (
        request.data.get("task_id") if isinstance(request.data, dict) else None
    )
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise serializers.ValidationError({"task_id": ["Not an integer."]}) from None


class MaskletCreateApi(APIView):
    class InputSerializer(_PromptInput):
        category = serializers.CharField()

    def post(self, request: Request, video_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = masklet_create(user=request.user, video_id=video_id, **data.validated_data)
        return Response(_click_out(result), status=201)


class MaskletPromptApi(APIView):
    class InputSerializer(_PromptInput):
        replace = serializers.BooleanField(required=False, default=False)

    def post(self, request: Request, masklet_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = masklet_prompt_add(user=request.user, masklet_id=masklet_id, **data.validated_data)
        return Response(_click_out(result))


class MaskletDetailApi(APIView):
    class PatchSerializer(serializers.Serializer):
        task_id = serializers.IntegerField(required=False, allow_null=True, default=None)
        category = serializers.CharField()

    def patch(self, request: Request, masklet_id: int) -> Response:
        data = self.PatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        masklet = masklet_update(user=request.user, masklet_id=masklet_id, **data.validated_data)
        return Response({"masklet": masklet_summary(masklet)})

    def delete(self, request: Request, masklet_id: int) -> Response:
        masklet_delete(user=request.user, masklet_id=masklet_id, task_id=_task_id(request))
        return Response(status=204)


class PropagateApi(APIView):
    class InputSerializer(serializers.Serializer):
        task_id = serializers.IntegerField(required=False, allow_null=True, default=None)
        masklet_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1)
        frame = serializers.IntegerField(required=False, allow_null=True, default=None)
        direction = serializers.ChoiceField(
            choices=["both", "forward", "backward"], required=False, default="both"
        )

    def post(self, request: Request, video_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = tracking_job_create(user=request.user, video_id=video_id, **data.validated_data)
        return Response({"job": job_payload(job)}, status=202)


class JobDetailApi(APIView):
    class QuerySerializer(serializers.Serializer):
        cursor = serializers.IntegerField(min_value=0, required=False, default=0)
        wait = serializers.FloatField(min_value=0, max_value=25, required=False, default=20)

    def get(self, request: Request, job_id: int) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(job_poll(user=request.user, job_id=job_id, **query.validated_data))


class JobCancelApi(APIView):
    class InputSerializer(serializers.Serializer):
        task_id = serializers.IntegerField(required=False, allow_null=True, default=None)

    def post(self, request: Request, job_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = tracking_job_cancel(user=request.user, job_id=job_id, **data.validated_data)
        return Response({"job": job_payload(job)})


class VideoJobsApi(APIView):
    def get(self, request: Request, video_id: int) -> Response:
        active = request.query_params.get("active") in ("1", "true", "yes")
        return Response({"jobs": video_jobs(user=request.user, video_id=video_id, active=active)})


class VideoMasksApi(APIView):
    class QuerySerializer(serializers.Serializer):
        start = serializers.IntegerField(min_value=0)
        end = serializers.IntegerField(min_value=0)
        masklet_ids = serializers.RegexField(r"^\d+(,\d+)*$", required=False)
        revision = serializers.IntegerField(required=False)

    def get(self, request: Request, video_id: int) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        ids = params.get("masklet_ids")
        return Response(
            video_masks(
                user=request.user,
                video_id=video_id,
                start=params["start"],
                end=params["end"],
                masklet_ids=[int(i) for i in ids.split(",")] if ids else None,
                revision_id=params.get("revision"),
            )
        )


class MaskletRevisionsApi(APIView):
    def get(self, request: Request, masklet_id: int) -> Response:
        return Response({"revisions": revision_rows(user=request.user, masklet_id=masklet_id)})


class MaskletCompareApi(APIView):
    class QuerySerializer(serializers.Serializer):
        a = serializers.IntegerField(min_value=1)
        b = serializers.IntegerField(min_value=1)

    def get(self, request: Request, masklet_id: int) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            revision_compare(user=request.user, masklet_id=masklet_id, **query.validated_data)
        )
