"""Projects and their members."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.access import ALL_ROLES, require_role, require_superuser
from annotation.errors import NotFoundError
from annotation.models import Project, ProjectKind, Role
from annotation.selectors.projects import project_list_for, project_members
from annotation.services.projects import membership_remove, membership_set, project_create

User = get_user_model()


class ProjectOutput(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "kind",
            "annotation_fps",
            "guidelines",
            "out_of_frame_caption",
            "lease_minutes",
            "min_caption_chars",
            "max_caption_chars",
            "gold_rate",
            "double_annotation_rate",
            "created_at",
        ]


class ProjectListApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        kind = serializers.ChoiceField(choices=ProjectKind.values, default=ProjectKind.STC)
        annotation_fps = serializers.FloatField(required=False, min_value=0.1, max_value=60)
        guidelines = serializers.CharField(allow_blank=True, default="", max_length=100_000)

    def get(self, request: Request) -> Response:
        projects = project_list_for(user=request.user)
        data = [
            {**ProjectOutput(p).data, "video_count": p.video_count, "ready_count": p.ready_count}
            for p in projects
        ]
        return Response(data)

    def post(self, request: Request) -> Response:
        require_superuser(user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_create(created_by=request.user, **data.validated_data)
        membership_set(project=project, user=request.user, role=Role.ADMIN)
        return Response(ProjectOutput(project).data, status=201)


class ProjectDetailApi(APIView):
    class UpdateSerializer(serializers.Serializer):
        guidelines = serializers.CharField(allow_blank=True, max_length=100_000, required=False)
        out_of_frame_caption = serializers.CharField(max_length=200, required=False)
        lease_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60, required=False)
        min_caption_chars = serializers.IntegerField(min_value=1, max_value=1000, required=False)
        max_caption_chars = serializers.IntegerField(min_value=10, max_value=10_000, required=False)
        gold_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
        double_annotation_rate = serializers.FloatField(min_value=0, max_value=1, required=False)

    def get(self, request: Request, project_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=ALL_ROLES)
        return Response(ProjectOutput(get_object_or_404(Project, pk=project_id)).data)

    def patch(self, request: Request, project_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=[Role.ADMIN])
        data = self.UpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        Project.objects.filter(pk=project_id).update(**data.validated_data)
        return Response(ProjectOutput(Project.objects.get(pk=project_id)).data)


class MemberOutput(serializers.Serializer):
    user_id = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()


class ProjectMembersApi(APIView):
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        role = serializers.ChoiceField(choices=Role.values)

    def get(self, request: Request, project_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=[Role.ADMIN, Role.REVIEWER])
        project = get_object_or_404(Project, pk=project_id)
        return Response(MemberOutput(project_members(project=project), many=True).data)

    def post(self, request: Request, project_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=[Role.ADMIN])
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(username=data.validated_data["username"]).first()
        if user is None:
            raise NotFoundError(f"No user named {data.validated_data['username']!r}.")
        membership = membership_set(
            project=Project.objects.get(pk=project_id), user=user, role=data.validated_data["role"]
        )
        return Response(MemberOutput(membership).data, status=201)


class ProjectMemberApi(APIView):
    def delete(self, request: Request, project_id: int, user_id: int) -> Response:
        require_role(user=request.user, project=project_id, roles=[Role.ADMIN])
        membership_remove(
            project=Project.objects.get(pk=project_id), user=get_object_or_404(User, pk=user_id)
        )
        return Response(status=204)
