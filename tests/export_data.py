"""Builders for verified (and not verified) PLM-STC and FGQA data, for the export, split and
evaluation tests."""

from __future__ import annotations

from typing import Any

from annotation.models import (
    CaptionRevision,
    FgqaQuestion,
    FgqaStatus,
    Project,
    ProjectKind,
    Video,
)
from tests.factories import ProjectFactory, VideoFactory, tracked_masklet
from tracking.models import Category, Masklet, MaskletStatus

OUT = "Out of frame."


def stc_project(name: str = "stc", **kw: Any) -> Project:
    return ProjectFactory(name=name, kind=ProjectKind.STC, **kw)


def fgqa_project(name: str = "fgqa", **kw: Any) -> Project:
    return ProjectFactory(name=name, kind=ProjectKind.FGQA, **kw)


def clip(project: Project, name: str, split: str = "", frames: int = 12, **kw: Any) -> Video:
    return VideoFactory(
        project=project,
        name=name,
        split=split,
        annotation_frame_count=frames,
        frame_index=[k * 5 for k in range(frames)],
        source_frame_count=frames * 5,
        duration=frames / 6,
        **kw,
    )


def segments_of(spans: list[tuple[int, int, str | None]]) -> list[dict[str, Any]]:
    """(start, end, caption) with caption None for an automatic out-of-frame segment."""
    return [
        {
            "start_frame": start,
            "end_frame": end,
            "caption": OUT if caption is None else caption,
            "out_of_frame": caption is None,
        }
        for start, end, caption in spans
    ]


def captioned_masklet(
    video: Video,
    spans: list[tuple[int, int, str | None]],
    *,
    object_id: int = 0,
    status: str = MaskletStatus.ACCEPTED,
    category: str = Category.PERSON,
    needs_recheck: bool = False,
) -> Masklet:
    """A masklet whose mask is visible exactly outside its out-of-frame spans, with one caption
    revision of ``spans``."""
    visible = [True] * video.annotation_frame_count
    for start, end, caption in spans:
        if caption is None:
            for frame in range(start, end + 1):
                visible[frame] = False
    masklet = tracked_masklet(
        video, visible=visible, object_id=object_id, status=status, category=category
    )
    CaptionRevision.objects.create(
        masklet=masklet,
        number=1,
        masklet_revision=masklet.current_revision,
        segments=segments_of(spans),
        needs_recheck=needs_recheck,
    )
    return masklet


def recaption(masklet: Masklet, spans: list[tuple[int, int, str | None]], **kw: Any) -> None:
    number = masklet.caption_revisions.count() + 1
    CaptionRevision.objects.create(
        masklet=masklet,
        number=number,
        masklet_revision=masklet.current_revision,
        segments=segments_of(spans),
        **kw,
    )


def fgqa_question(
    video: Video,
    *,
    question: str = "What does the person do with the knife?",
    answer: str = "Slices the onion.",
    distractors: list[str] | None = None,
    status: str = FgqaStatus.ACCEPTED,
    verified: bool = True,
    **kw: Any,
) -> FgqaQuestion:
    return FgqaQuestion.objects.create(
        project=video.project,
        video=video,
        question=question,
        answer=answer,
        distractors=distractors if distractors is not None else ["Peels the onion."],
        distractors_verified=verified,
        status=status,
        q_type=kw.pop("q_type", "Action Recognition"),
        domain=kw.pop("domain", "cooking"),
        **kw,
    )
