"""Reads behind dataset releases: what is exportable, in a fixed order, as plain tuples.

"Verified" for PLM-STC means: the masklet is ACCEPTED (pass 3), its video is in the split, and
its *latest* caption revision is not flagged for a recheck (a reworked mask flags captions).
Every query here has a total order, so the same data always streams in the same order.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from annotation.models import (
    CaptionRevision,
    ExportJob,
    ExportUid,
    FgqaQuestion,
    FgqaStatus,
    Project,
    ProjectKind,
    SplitRun,
)
from tracking.models import Masklet, MaskletStatus

# Release order everywhere is (video id, object id): integers, so it does not depend on the
# database's text collation, and files made from a dump restored elsewhere stay identical.
STC_RECORD_FIELDS = (
    "masklet__video_id",
    "masklet__object_id",
    "masklet_id",
    "masklet__video__name",
    "masklet__video__annotation_frame_count",
    "segments",
)


def _newer_revision() -> Exists:
    return Exists(
        CaptionRevision.objects.filter(
            masklet_id=OuterRef("masklet_id"), number__gt=OuterRef("number")
        )
    )


def stc_latest_captions(*, project: Project, split: str) -> QuerySet[CaptionRevision]:
    """Latest caption revision of every masklet of the split's videos (any state)."""
    return CaptionRevision.objects.filter(
        masklet__video__project=project, masklet__video__split=split
    ).filter(~_newer_revision())


def stc_verified_captions(*, project: Project, split: str) -> QuerySet[CaptionRevision]:
    """The exportable records: one caption revision per verified masklet."""
    return stc_latest_captions(project=project, split=split).filter(
        masklet__status=MaskletStatus.ACCEPTED, needs_recheck=False
    )


def stc_record_rows(*, project: Project, split: str) -> QuerySet[CaptionRevision, tuple[Any, ...]]:
    """``STC_RECORD_FIELDS`` tuples in release order."""
    return (
        stc_verified_captions(project=project, split=split)
        .order_by("masklet__video_id", "masklet__object_id", "masklet_id")
        .values_list(*STC_RECORD_FIELDS)
    )


def stc_uid_rows(*, project: Project, split: str) -> QuerySet[ExportUid, tuple[Any, ...]]:
    """``(video id, object id, masklet pk, start, end, uid)`` of the split's accepted masklets,
    in release order (a superset of what the records need: older boundaries too)."""
    return (
        ExportUid.objects.filter(
            masklet__video__project=project,
            masklet__video__split=split,
            masklet__status=MaskletStatus.ACCEPTED,
        )
        .order_by(
            "masklet__video_id", "masklet__object_id", "masklet_id", "start_frame", "end_frame"
        )
        .values_list(
            "masklet__video_id",
            "masklet__object_id",
            "masklet_id",
            "start_frame",
            "end_frame",
            "id",
        )
    )


MASK_ROW_FIELDS = (
    "object_id",
    "video_id",
    "video__name",
    "video__width",
    "video__height",
    "video__duration",
    "video__source_frame_count",
    "video__annotation_frame_count",
    "current_revision__masks",
    "latest_needs_recheck",
)


def stc_mask_rows(*, project: Project, split: str) -> QuerySet[Masklet, dict[str, Any]]:
    """Every ACCEPTED masklet of the split's videos with its current masks, in release order,
    as dicts of ``MASK_ROW_FIELDS``.

    ``latest_needs_recheck`` is False exactly for the masklets that are caption records
    (None when the masklet has no captions at all).
    """
    latest = CaptionRevision.objects.filter(masklet_id=OuterRef("pk")).order_by("-number")
    return (
        Masklet.objects.filter(
            video__project=project, video__split=split, status=MaskletStatus.ACCEPTED
        )
        .annotate(latest_needs_recheck=Subquery(latest.values("needs_recheck")[:1]))
        .order_by("video_id", "object_id", "pk")
        .values(*MASK_ROW_FIELDS)
    )


def stc_exclusion_counts(*, project: Project, split: str) -> dict[str, int]:
    """Masklets of the split that are *not* exported, by reason (for the release report)."""
    latest = CaptionRevision.objects.filter(masklet_id=OuterRef("pk")).order_by("-number")
    in_split = Masklet.objects.filter(video__project=project, video__split=split).annotate(
        latest_needs_recheck=Subquery(latest.values("needs_recheck")[:1])
    )
    captioned = in_split.filter(latest_needs_recheck__isnull=False)
    accepted = in_split.filter(status=MaskletStatus.ACCEPTED)
    return {
        "captioned_not_accepted": captioned.exclude(status=MaskletStatus.ACCEPTED).count(),
        "accepted_captions_need_recheck": accepted.filter(latest_needs_recheck=True).count(),
        "accepted_without_captions": accepted.filter(latest_needs_recheck__isnull=True).count(),
    }


FGQA_ROW_FIELDS = (
    "pk",
    "external_id",
    "segment_id",
    "question",
    "answer",
    "distractors",
    "q_type",
    "q_subtype",
    "domain",
    "what_description",
    "video__name",
    "video__source_video_id",
    "video__source_dataset",
    "video__source_start_time",
    "video__source_end_time",
    "video__duration",
)


def fgqa_verified_questions(*, project: Project, split: str) -> QuerySet[FgqaQuestion]:
    """ACCEPTED questions of the split's videos; for the benchmark (test) only those whose
    distractors were verified by a person."""
    qs = FgqaQuestion.objects.filter(
        project=project, video__split=split, status=FgqaStatus.ACCEPTED
    )
    if split != "train":
        qs = qs.filter(distractors_verified=True)
    return qs


def fgqa_question_rows(*, project: Project, split: str) -> QuerySet[FgqaQuestion, tuple[Any, ...]]:
    return (
        fgqa_verified_questions(project=project, split=split)
        .order_by("video_id", "pk")
        .values_list(*FGQA_ROW_FIELDS)
    )


def fgqa_exclusion_counts(*, project: Project, split: str) -> dict[str, int]:
    in_split = FgqaQuestion.objects.filter(project=project, video__split=split)
    counts = {
        "not_accepted": in_split.exclude(status=FgqaStatus.ACCEPTED).count(),
    }
    if split != "train":
        counts["accepted_without_verified_distractors"] = in_split.filter(
            status=FgqaStatus.ACCEPTED, distractors_verified=False
        ).count()
    return counts


def split_version_current(*, project: Project) -> int | None:
    run = SplitRun.objects.filter(project=project).order_by("-version").first()
    return run.version if run else None


def project_for_export(*, name: str | None, kind: str) -> Project:
    """The named project, or the only project of this kind. Raises LookupError with the reason."""
    if name:
        project = Project.objects.filter(name=name).first()
        if project is None:
            raise LookupError(f"project {name!r} does not exist")
        if project.kind != kind:
            raise LookupError(f"project {name!r} is a {project.kind} project, not {kind}")
        return project
    candidates = list(Project.objects.filter(kind=kind).order_by("name")[:2])
    if len(candidates) == 1:
        return candidates[0]
    label = "PLM-STC" if kind == ProjectKind.STC else "FGQA"
    if not candidates:
        raise LookupError(f"there is no {label} project")
    names = ", ".join(
        repr(n) for n in Project.objects.filter(kind=kind).values_list("name", flat=True)
    )
    raise LookupError(f"there are several {label} projects ({names}); name one with --project")


def export_job_list(*, project_id: int, limit: int = 50) -> QuerySet[ExportJob]:
    return (
        ExportJob.objects.filter(project_id=project_id)
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def export_job_get(*, job_id: int) -> ExportJob | None:
    return ExportJob.objects.filter(pk=job_id).select_related("project", "created_by").first()
