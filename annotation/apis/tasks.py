"""The annotator's loop: claim the next task, heartbeat, draft autosave, skip, submit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.access import STAFF_ROLES, project_role, require_role
from annotation.errors import NotFoundError, ServiceError
from annotation.models import (
    FgqaReviewReason,
    Project,
    ReviewDecision,
    ReviewReason,
    Role,
    Task,
    TaskKind,
)
from annotation.selectors.tasks import QUEUES, draft_payload, queue_counts, task_payload
from annotation.services import captions, drafts, fgqa, gold, queue, reviews, select
from tracking.models import Category

QUEUE_ROLES = {
    "select": (Role.ANNOTATOR, Role.ADMIN),
    "caption": (Role.ANNOTATOR, Role.ADMIN),
    "fgqa": (Role.ANNOTATOR, Role.ADMIN),
    "review": (Role.REVIEWER, Role.ADMIN),
}


def _queue_of(kind: str) -> str:
    return next(name for name, kinds in QUEUES.items() if kind in kinds)


def _task_for(request: Request, task_id: int) -> Task:
    """A task the caller may look at: their own lease, or any task as reviewer/admin."""
    task = Task.objects.select_related("project", "video").filter(pk=task_id).first()
    if task is None:
        raise NotFoundError("Task not found.")
    role = project_role(user=request.user, project=task.project_id)
    if role is None:
        raise NotFoundError("Task not found.")
    if role not in STAFF_ROLES and request.user.pk not in (task.lease_owner_id, task.assignee_id):
        raise NotFoundError("Task not found.")
    return task


class QueueListApi(APIView):
    def get(self, request: Request, project_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=[Role.ANNOTATOR, *STAFF_ROLES])
        project = get_object_or_404(Project, pk=project_id)
        return Response(queue_counts(project=project, user=request.user))


class QueueNextApi(APIView):
    """Lease the next task of a queue (or give back the one already held): 200, or 204 when
    there is nothing for this user."""

    def post(self, request: Request, project_id: int, queue_name: str) -> Response:
        if queue_name not in QUEUES:
            raise NotFoundError(f"No queue named {queue_name!r}.")
        require_role(user=request.user, project=project_id, roles=QUEUE_ROLES[queue_name])
        project = get_object_or_404(Project, pk=project_id)
        task = queue.task_claim_next(user=request.user, project=project, kinds=QUEUES[queue_name])
        if task is None:
            return Response(status=204)
        return Response(task_payload(task))


class TaskDetailApi(APIView):
    def get(self, request: Request, task_id: int) -> Response:
        return Response(task_payload(_task_for(request, task_id)))


class TaskHeartbeatApi(APIView):
    class InputSerializer(serializers.Serializer):
        active = serializers.BooleanField(default=True)

    def post(self, request: Request, task_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = queue.task_heartbeat(task_id=task_id, user=request.user, **data.validated_data)
        return Response({"lease_expires_at": task.lease_expires_at})


class TaskReleaseApi(APIView):
    def post(self, request: Request, task_id: int) -> Response:
        queue.task_release(task_id=task_id, user=request.user)
        return Response(status=204)


class TaskSkipApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=1000, allow_blank=True)

    def post(self, request: Request, task_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = queue.task_skip(task_id=task_id, user=request.user, **data.validated_data)
        return Response({"id": task.pk, "status": task.status})


class TaskDraftApi(APIView):
    class InputSerializer(serializers.Serializer):
        data = serializers.DictField()
        version = serializers.IntegerField(min_value=0)

    def get(self, request: Request, task_id: int) -> Response:
        return Response(draft_payload(drafts.draft_get(task_id=task_id, user=request.user)))

    def put(self, request: Request, task_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = drafts.draft_save(
            task_id=task_id,
            user=request.user,
            data=data.validated_data["data"],
            base_version=data.validated_data["version"],
        )
        return Response(draft_payload(draft))


class _Select(serializers.Serializer):
    base_version = serializers.IntegerField()
    masklets = serializers.ListField(child=serializers.DictField(), max_length=200)
    rejected = serializers.ListField(child=serializers.IntegerField(), default=list, max_length=500)


class _Caption(serializers.Serializer):
    base_version = serializers.IntegerField()
    segments = serializers.ListField(child=serializers.DictField(), max_length=2000)


class _FgqaAnswers(serializers.Serializer):
    base_version = serializers.IntegerField()
    answers = serializers.ListField(child=serializers.DictField(), max_length=500)


class _FgqaDistractors(serializers.Serializer):
    base_version = serializers.IntegerField()
    decisions = serializers.ListField(child=serializers.DictField(), max_length=50)


class _Review(serializers.Serializer):
    base_version = serializers.IntegerField()
    decision = serializers.ChoiceField(choices=ReviewDecision.values)
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=ReviewReason.values), default=list, max_length=10
    )
    comment = serializers.CharField(allow_blank=True, default="", max_length=2000)
    segments = serializers.ListField(child=serializers.DictField(), required=False, max_length=2000)
    captions_rechecked = serializers.BooleanField(default=False)


class _FgqaReview(serializers.Serializer):
    base_version = serializers.IntegerField()
    decision = serializers.ChoiceField(choices=ReviewDecision.values)
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=FgqaReviewReason.values), default=list, max_length=10
    )
    comment = serializers.CharField(allow_blank=True, default="", max_length=2000)
    answer = serializers.CharField(required=False, max_length=2000)
    q_type = serializers.CharField(required=False, max_length=40)
    distractors = serializers.ListField(
        child=serializers.CharField(max_length=2000), required=False, max_length=20
    )


class _MaskRework(serializers.Serializer):
    base_version = serializers.IntegerField()
    category = serializers.ChoiceField(choices=Category.values, required=False)


Submitter = tuple[type[serializers.Serializer], Callable[..., Any]]

# Each task kind: what its submission looks like and which service takes it.
SUBMITTERS: dict[str, Submitter] = {
    TaskKind.SELECT: (_Select, select.select_submit),
    TaskKind.CAPTION: (_Caption, captions.caption_submit),
    TaskKind.FGQA_ANSWER: (_FgqaAnswers, fgqa.fgqa_answer_submit),
    TaskKind.FGQA_DISTRACTORS: (_FgqaDistractors, fgqa.fgqa_distractors_submit),
    TaskKind.REVIEW: (_Review, reviews.review_submit),
    TaskKind.FGQA_REVIEW: (_FgqaReview, reviews.fgqa_review_submit),
}
# Gold copies and second annotations take the input of their kind but never touch the item.
SHADOW_SUBMITTERS: dict[str, Submitter] = {
    TaskKind.SELECT: (_Select, gold.shadow_submit),
    TaskKind.CAPTION: (_Caption, gold.shadow_submit),
    TaskKind.FGQA_ANSWER: (_FgqaAnswers, gold.shadow_submit),
}
# Reworks after a rejection that go straight back to review (a caption rework is a pass-2
# submission like the first one).
REWORK_SUBMITTERS: dict[str, Submitter] = {
    TaskKind.SELECT: (_MaskRework, reviews.mask_rework_submit),
    TaskKind.FGQA_ANSWER: (_FgqaAnswers, reviews.fgqa_rework_submit),
}


def _submitter(task: Task) -> Submitter:
    if task.is_gold or task.is_duplicate:
        table = SHADOW_SUBMITTERS
    elif task.rework_of_id is not None and task.kind in REWORK_SUBMITTERS:
        table = REWORK_SUBMITTERS
    else:
        table = SUBMITTERS
    if task.kind not in table:
        raise ServiceError(f"Tasks of kind {task.kind} cannot be submitted here.")
    return table[task.kind]


class TaskSubmitApi(APIView):
    def post(self, request: Request, task_id: int) -> Response:
        task = get_object_or_404(
            Task.objects.only("kind", "project_id", "is_gold", "is_duplicate", "rework_of_id"),
            pk=task_id,
        )
        require_role(
            user=request.user, project=task.project_id, roles=QUEUE_ROLES[_queue_of(task.kind)]
        )
        serializer_class, service = _submitter(task)
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        service(task_id=task_id, user=request.user, **data.validated_data)
        after = Task.objects.values("status", "version").get(pk=task_id)
        return Response({"id": task_id, **after})
