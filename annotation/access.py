"""Who may do what. Every API calls one of these before touching data.

Non-members get 404 (a project's existence is not revealed); members without the role get 403.
Superusers act as project admins everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q
from rest_framework.exceptions import NotFound, PermissionDenied

from annotation.models import Membership, Project, Role, Task, Video

User = AbstractBaseUser | AnonymousUser

STAFF_ROLES = (Role.REVIEWER, Role.ADMIN)
ALL_ROLES = (Role.ANNOTATOR, Role.REVIEWER, Role.ADMIN)


def project_role(*, user: User, project: Project | int) -> str | None:
    if not user.is_authenticated:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    project_id = project if isinstance(project, int) else project.pk
    return (
        Membership.objects.filter(project_id=project_id, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )


def require_role(*, user: User, project: Project | int, roles: Iterable[str]) -> str:
    role = project_role(user=user, project=project)
    if role is None:
        raise NotFound("Project not found.")
    allowed = set(roles)
    if role not in allowed:
        names = " or ".join(sorted(allowed))
        raise PermissionDenied(f"This needs the {names} role in this project; you are {role}.")
    return role


def require_superuser(*, user: User) -> None:
    if not getattr(user, "is_superuser", False):
        raise PermissionDenied("Only a site administrator can do this.")


def visible_videos_q(*, user: User) -> Q:
    """Videos a user may see: all of their projects as reviewer/admin; as an annotator, only the
    videos of tasks leased to, assigned to or submitted by them."""
    if getattr(user, "is_superuser", False):
        return Q()
    staff_projects = Membership.objects.filter(Q(user_id=user.pk), role__in=STAFF_ROLES).values(
        "project_id"
    )
    own_tasks = Task.objects.filter(
        Q(lease_owner_id=user.pk) | Q(assignee_id=user.pk) | Q(submitted_by_id=user.pk),
        Q(project__memberships__user_id=user.pk),
    ).values("video_id")
    return Q(project_id__in=staff_projects) | Q(pk__in=own_tasks)


def require_video_access(*, user: User, video_id: int) -> Video:
    if not user.is_authenticated:
        raise NotFound("Video not found.")
    video = (
        Video.objects.filter(visible_videos_q(user=user), pk=video_id)
        .select_related("project")
        .first()
    )
    if video is None:
        raise NotFound("Video not found.")
    return video
