"""Review-side reads and gold items: history and diffs of a masklet or an FGQA question,
marking verified items as gold.

Reviews themselves are submitted through the task API (POST /api/tasks/{id}/submit).
History and diffs: the project's reviewers and admins. Gold: admins mark, reviewers may list.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.access import STAFF_ROLES, require_role
from annotation.models import GoldItem, Project, Role, TaskKind
from annotation.selectors.dashboard import gold_item_rows
from annotation.selectors.history import (
    caption_diff,
    fgqa_history,
    fgqa_question_get,
    mask_diff,
    masklet_get,
    masklet_history,
)
from annotation.services.gold import gold_item_deactivate, gold_items_mark


class _Pair(serializers.Serializer):
    """?from=<revision number>&to=<revision number>"""

    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a Python keyword, so the fields cannot be class attributes
        return {
            "from": serializers.IntegerField(min_value=1),
            "to": serializers.IntegerField(min_value=1),
        }


def _staff_masklet(request: Request, masklet_id: int):  # type: ignore[no-untyped-def]
    masklet = masklet_get(masklet_id=masklet_id)
    require_role(user=request.user, project=masklet.video.project_id, roles=STAFF_ROLES)
    return masklet


class MaskletHistoryApi(APIView):
    def get(self, request: Request, masklet_id: int) -> Response:
        masklet = _staff_masklet(request, masklet_id)
        return Response(masklet_history(masklet=masklet))


class MaskletMaskDiffApi(APIView):
    def get(self, request: Request, masklet_id: int) -> Response:
        masklet = _staff_masklet(request, masklet_id)
        pair = _Pair(data=request.query_params)
        pair.is_valid(raise_exception=True)
        a, b = pair.validated_data["from"], pair.validated_data["to"]
        return Response(mask_diff(masklet=masklet, a=a, b=b))


class MaskletCaptionDiffApi(APIView):
    def get(self, request: Request, masklet_id: int) -> Response:
        masklet = _staff_masklet(request, masklet_id)
        pair = _Pair(data=request.query_params)
        pair.is_valid(raise_exception=True)
        a, b = pair.validated_data["from"], pair.validated_data["to"]
        return Response(caption_diff(masklet=masklet, a=a, b=b))


class FgqaQuestionHistoryApi(APIView):
    def get(self, request: Request, question_id: int) -> Response:
        question = fgqa_question_get(question_id=question_id)
        require_role(user=request.user, project=question.project_id, roles=STAFF_ROLES)
        return Response(fgqa_history(question=question))


class GoldListApi(APIView):
    class InputSerializer(serializers.Serializer):
        masklet_id = serializers.IntegerField(required=False)
        fgqa_question_id = serializers.IntegerField(required=False)
        kinds = serializers.ListField(
            child=serializers.ChoiceField(
                choices=[TaskKind.SELECT, TaskKind.CAPTION, TaskKind.FGQA_ANSWER]
            ),
            required=False,
            min_length=1,
            max_length=3,
        )

    def get(self, request: Request, project_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=STAFF_ROLES)
        project = get_object_or_404(Project, pk=project_id)
        return Response(gold_item_rows(project=project))

    def post(self, request: Request, project_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=[Role.ADMIN])
        project = get_object_or_404(Project, pk=project_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = gold_items_mark(project=project, user=request.user, **data.validated_data)
        rows = {row["id"]: row for row in gold_item_rows(project=project)}
        return Response([rows[item.pk] for item in items], status=201)


class GoldDetailApi(APIView):
    def delete(self, request: Request, gold_id: int) -> Response:
        item = get_object_or_404(GoldItem, pk=gold_id)
        require_role(user=request.user, project=item.project_id, roles=[Role.ADMIN])
        gold_item_deactivate(item=item)
        return Response(status=204)
