"""Reads for train/val/test splits: video groups, what each group holds, counts per split."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, QuerySet

from annotation.models import CaptionRevision, Project, SplitRun, Video, VideoStatus
from tracking.models import Masklet, MaskletStatus

SPLITS = ("train", "val", "test")
# Masklets that count for balance: chosen in pass 1 and not thrown away since.
BALANCE_STATUSES = (MaskletStatus.SELECTED, MaskletStatus.CAPTIONED, MaskletStatus.ACCEPTED)
CAPTION_BUCKETS = 5  # 1, 2, 3, 4, 5+ captions per masklet (0 = not captioned yet)


def caption_bucket(count: int) -> str:
    return f"{CAPTION_BUCKETS}+" if count >= CAPTION_BUCKETS else str(count)


def group_key(*, split_group: str, source_video_id: str, name: str) -> str:
    """Clips that must stay together: same ``split_group`` (ingest sets the source file's
    sha256), else same ``source_video_id`` (FGQA clips), else the video alone."""
    if split_group:
        return f"group:{split_group}"
    if source_video_id:
        return f"source:{source_video_id}"
    return f"video:{name}"


@dataclass
class VideoInfo:
    pk: int
    name: str
    split: str
    group: str
    aliases: tuple[str, ...]  # what a deny-list line may name: video, stem, source id, group
    cells: Counter[tuple[str, str]] = field(default_factory=Counter)  # (category, bucket)
    captions: int = 0


def split_videos(*, project: Project) -> list[VideoInfo]:
    """Every non-failed video of the project with its masklet cells, in id order."""
    videos: dict[int, VideoInfo] = {}
    rows = (
        Video.objects.filter(project=project)
        .exclude(status=VideoStatus.FAILED)
        .order_by("pk")
        .values_list("pk", "name", "split", "split_group", "source_video_id")
    )
    for pk, name, split, split_group, source_video_id in rows.iterator(chunk_size=5000):
        stem = name.rsplit(".", 1)[0]
        aliases = tuple(a for a in (name, stem, source_video_id, split_group) if a)
        key = group_key(split_group=split_group, source_video_id=source_video_id, name=name)
        videos[pk] = VideoInfo(pk=pk, name=name, split=split, group=key, aliases=aliases)
    newer = CaptionRevision.objects.filter(
        masklet_id=OuterRef("masklet_id"), number__gt=OuterRef("number")
    )
    latest_segments = dict(
        CaptionRevision.objects.filter(masklet__video__project=project)
        .filter(~Exists(newer))
        .values_list("masklet_id", "segments")
        .iterator(chunk_size=5000)
    )
    masklets = (
        Masklet.objects.filter(video__project=project, status__in=BALANCE_STATUSES)
        .order_by("pk")
        .values_list("pk", "video_id", "category")
    )
    for pk, video_id, category in masklets.iterator(chunk_size=5000):
        info = videos.get(video_id)
        if info is None:
            continue
        segments = latest_segments.get(pk) or []
        count = sum(1 for s in segments if not s.get("out_of_frame"))
        info.cells[(category, caption_bucket(count))] += 1
        info.captions += count
    return list(videos.values())


@dataclass
class SplitCount:
    videos: int = 0
    groups: int = 0
    masklets: int = 0
    captions: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    by_cell: Counter[str] = field(default_factory=Counter)  # "person/3": masklets

    def as_dict(self) -> dict[str, object]:
        return {
            "videos": self.videos,
            "groups": self.groups,
            "masklets": self.masklets,
            "captions": self.captions,
            "by_category": dict(sorted(self.by_category.items())),
            "by_cell": dict(sorted(self.by_cell.items())),
        }


def split_counts(*, videos: list[VideoInfo]) -> dict[str, SplitCount]:
    """Per split, and "unassigned": videos, groups, masklets, captions, masklets by category
    and by balance cell (category/caption bucket)."""
    table = {name: SplitCount() for name in (*SPLITS, "unassigned")}
    groups: dict[str, set[str]] = defaultdict(set)
    for video in videos:
        name = video.split or "unassigned"
        row = table[name]
        row.videos += 1
        row.masklets += sum(video.cells.values())
        row.captions += video.captions
        for (category, bucket), n in video.cells.items():
            row.by_category[category] += n
            row.by_cell[f"{category}/{bucket}"] += n
        groups[name].add(video.group)
    for name, keys in groups.items():
        table[name].groups = len(keys)
    return table


def split_runs(*, project_id: int, limit: int = 20) -> QuerySet[SplitRun]:
    return SplitRun.objects.filter(project_id=project_id).order_by("-version")[:limit]


def split_video_counts(*, project_id: int) -> dict[str, int]:
    """Videos per split right now (``unassigned`` for those without one), failed ones left out."""
    counts = dict.fromkeys((*SPLITS, "unassigned"), 0)
    rows = (
        Video.objects.filter(project_id=project_id)
        .exclude(status=VideoStatus.FAILED)
        .values_list("split")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for split, n in rows:
        counts[split or "unassigned"] += n
    return counts
