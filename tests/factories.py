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


def masks_for(visible: list[bool], height: int = 360, width: int = 640) -> list[dict]:
    """RLE masks with a small square on visible frames and an empty mask elsewhere."""
    import numpy as np

    from workers import rle

    out = []
    for seen in visible:
        mask = np.zeros((height, width), dtype=bool)
        if seen:
            mask[10:40, 20:60] = True
        out.append(rle.encode(mask))
    return out


def tracked_masklet(video: Video, *, visible: list[bool] | None = None, object_id: int = 1, **kw):  # type: ignore[no-untyped-def]
    """A masklet with one complete revision (what pass 1 produces after Track)."""
    from tracking.models import Masklet, MaskletRevision

    visible = visible if visible is not None else [True] * video.annotation_frame_count
    masklet = Masklet.objects.create(video=video, object_id=object_id, **kw)
    masks = masks_for(visible, video.height or 360, video.width or 640)
    seen = [i for i, v in enumerate(visible) if v]
    revision = MaskletRevision.objects.create(
        masklet=masklet,
        number=1,
        engine="test",
        masks=masks,
        bboxes=[[20, 10, 40, 30] if v else None for v in visible],  # [x, y, w, h]
        areas=[1200 if v else 0 for v in visible],
        first_visible_frame=seen[0] if seen else None,
        last_visible_frame=seen[-1] if seen else None,
    )
    masklet.current_revision = revision
    masklet.save(update_fields=["current_revision"])
    return masklet
