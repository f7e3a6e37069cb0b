"""factory_boy factories for the domain models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from annotation.models import Membership, Project, Role, Task, TaskKind, Video, VideoStatus


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **_: object) -> None:
        self.set_password(extracted or "correct-horse-1")
        if create:
            self.save(update_fields=["password"])


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"project-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ANNOTATOR


class VideoFactory(factory.django.DjangoModelFactory):
    """A ready video without stored media (for tests that do not read frames)."""

    class Meta:
        model = Video

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"video_{n:06d}.mp4")
    original_name = factory.SelfAttribute("name")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    width = 640
    height = 360
    source_fps = 30.0
    source_frame_count = 300
    duration = 10.0
    annotation_frame_count = 60
    frame_index = factory.LazyFunction(lambda: [k * 5 for k in range(60)])
    status = VideoStatus.READY
    storage_prefix = factory.LazyAttribute(lambda o: f"videos/test/{o.name}/")


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    project = factory.SubFactory(ProjectFactory)
    kind = TaskKind.SELECT
    video = factory.SubFactory(VideoFactory, project=factory.SelfAttribute("..project"))


def member(project: Project, role: str, username: str | None = None):  # type: ignore[no-untyped-def]
    user = UserFactory(username=username) if username else UserFactory()
    MembershipFactory(project=project, user=user, role=role)
    return user
