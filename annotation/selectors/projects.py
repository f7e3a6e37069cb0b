"""Reads about projects and members."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from annotation.models import Membership, Project, Role, VideoStatus


def user_memberships(*, user: Any) -> list[dict[str, Any]]:
    if user.is_superuser:
        projects = Project.objects.order_by("name").values("id", "name", "kind")
        return [{"project": dict(p), "role": Role.ADMIN} for p in projects]
    rows = (
        Membership.objects.filter(user_id=user.pk)
        .select_related("project")
        .order_by("project__name")
    )
    return [
        {
            "project": {"id": m.project_id, "name": m.project.name, "kind": m.project.kind},
            "role": m.role,
        }
        for m in rows
    ]


def project_list_for(*, user: Any) -> QuerySet[Project]:
    qs = Project.objects.all()
    if not user.is_superuser:
        qs = qs.filter(memberships__user_id=user.pk)
    return qs.annotate(
        video_count=Count("videos", distinct=True),
        ready_count=Count("videos", filter=Q(videos__status=VideoStatus.READY), distinct=True),
    ).order_by("name")


def project_members(*, project: Project) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(project=project).select_related("user").order_by("user__username")
    )
