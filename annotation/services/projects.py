"""Projects, members and users."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from annotation.models import Membership, Project, ProjectKind, Role

User = get_user_model()


def project_create(
    *,
    name: str,
    kind: str = ProjectKind.STC,
    annotation_fps: float | None = None,
    guidelines: str = "",
    created_by: Any = None,
    **options: Any,
) -> Project:
    name = name.strip()
    if not name:
        raise ValidationError("A project needs a name.")
    if kind not in ProjectKind.values:
        raise ValidationError(f"Project kind must be one of {', '.join(ProjectKind.values)}.")
    if annotation_fps is None:
        annotation_fps = settings.DEFAULT_ANNOTATION_FPS
    if annotation_fps <= 0:
        raise ValidationError("Annotation fps must be positive.")
    if Project.objects.filter(name=name).exists():
        raise ValidationError(f"A project named {name!r} already exists.")
    return Project.objects.create(
        name=name,
        kind=kind,
        annotation_fps=annotation_fps,
        guidelines=guidelines,
        created_by=created_by if getattr(created_by, "pk", None) else None,
        **options,
    )


def membership_set(*, project: Project, user: Any, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError(f"Role must be one of {', '.join(Role.values)}.")
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership


def membership_remove(*, project: Project, user: Any) -> None:
    Membership.objects.filter(project=project, user=user).delete()


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    email: str = "",
    superuser: bool = False,
    memberships: list[tuple[Project, str]] = (),  # type: ignore[assignment]
    update: bool = False,
) -> Any:
    """Create a user (or, with ``update``, reset an existing one's password) with project roles."""
    username = username.strip()
    if not username:
        raise ValidationError("A user needs a username.")
    if len(password) < 8:
        raise ValidationError("The password must have at least 8 characters.")
    user = User.objects.filter(username=username).first()
    if user is not None and not update:
        raise ValidationError(f"User {username!r} already exists.")
    if user is None:
        user = User(username=username)
    user.email = email
    user.is_superuser = superuser
    user.is_staff = superuser
    user.set_password(password)
    user.save()
    for project, role in memberships:
        membership_set(project=project, user=user, role=role)
    return user
