"""Train/val/test assignment by video group, balanced, frozen once given.

Rules, in the order they apply:

1. A video that has a split keeps it forever (``Video.split`` non-empty is frozen).
2. A new video of a group that already has a split joins that split (clips of one source video
   stay together); a group already spread over several splits is a conflict: its new videos
   stay unassigned and are reported.
3. New groups named by the deny list go to train (never val/test); groups named by the hold-out
   list go to test (never train). A group named by both is an error.
4. Every other new group is stratified: its *stratum* is its most common (subject category,
   captions-per-masklet bucket) cell. val and test each get ``round(fraction * all videos)``
   videos minus what they already hold; that quota is shared out over the strata in proportion
   to each stratum's size (largest remainder), then filled per stratum from a seeded shuffle of
   its groups. The rest go to train.

Same data, fractions and seed → same assignment.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from annotation.errors import ConflictError, ServiceError
from annotation.models import Project, SplitRun, Video
from annotation.selectors.splits import SPLITS, VideoInfo, split_counts, split_videos

NO_STRATUM = ("none", "0")


@dataclass
class _Group:
    key: str
    videos: list[VideoInfo]
    cells: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def size(self) -> int:
        return len(self.videos)

    @property
    def splits(self) -> set[str]:
        return {v.split for v in self.videos if v.split}

    @property
    def stratum(self) -> tuple[str, str]:
        if not self.cells:
            return NO_STRATUM
        # Most masklets first; ties broken by the cell itself so the choice is stable.
        return min(self.cells.items(), key=lambda item: (-item[1], item[0]))[0]


@dataclass
class SplitOutcome:
    run: SplitRun
    assigned: dict[str, int]  # new videos per split
    conflicts: list[str]  # groups spread over several splits (new videos left unassigned)
    frozen_denied: list[str]  # listed groups whose frozen split is not what the list asks
    unmatched: list[str]  # deny/hold-out entries that name no video of the project


def check_fractions(val: float, test: float) -> None:
    for name, value in (("--val", val), ("--test", test)):
        if not (math.isfinite(value) and 0 <= value < 1):
            raise ServiceError(f"{name} must be a fraction in [0, 1), got {value:g}")
    if val + test >= 1:
        raise ServiceError(
            f"--val + --test must leave something for train: {val:g} + {test:g} >= 1"
        )


def _round(value: float) -> int:
    return math.floor(value + 0.5)


def _apportion(weights: dict[Any, float], total: int, caps: dict[Any, int]) -> dict[Any, int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder, ties by
    key), never above ``caps``."""
    shares = dict.fromkeys(weights, 0)
    remaining = min(total, sum(caps.values()))
    while remaining > 0:
        open_keys = [k for k in weights if shares[k] < caps[k]]
        weight = sum(weights[k] for k in open_keys)
        if weight <= 0:
            weights = {k: float(caps[k] - shares[k]) for k in weights}
            continue
        exact = {k: remaining * weights[k] / weight for k in open_keys}
        given = 0
        for k in open_keys:
            add = min(math.floor(exact[k]), caps[k] - shares[k])
            shares[k] += add
            given += add
        left = remaining - given
        for k in sorted(open_keys, key=lambda k: (-(exact[k] - math.floor(exact[k])), k)):
            if left == 0:
                break
            if shares[k] < caps[k]:
                shares[k] += 1
                left -= 1
        if left == remaining:  # nothing could move
            break
        remaining = left
    return shares


def _pick(groups: list[_Group], quota: int) -> list[_Group]:
    """Groups (already in seeded order) whose sizes add up as close to ``quota`` as possible
    without going over by more than a group would leave it short."""
    chosen, count = [], 0
    for group in groups:
        if count >= quota:
            break
        if count + group.size <= quota or (count + group.size - quota) < (quota - count):
            chosen.append(group)
            count += group.size
    return chosen


def _matches(entries: Sequence[str], groups: Iterable[_Group]) -> tuple[set[str], set[str]]:
    """(group keys named by the entries, entries that named nothing)."""
    wanted = set(entries)
    named, used = set(), set()
    for group in groups:
        for video in group.videos:
            hit = wanted.intersection(video.aliases)
            if hit:
                named.add(group.key)
                used |= hit
    return named, wanted - used


def split_assign(
    *,
    project: Project,
    val_fraction: float,
    test_fraction: float,
    seed: int = 0,
    deny: Sequence[str] = (),
    hold_out: Sequence[str] = (),
    user: Any = None,
) -> SplitOutcome:
    """Assign every unassigned video of ``project`` and record a SplitRun (next version).

    Holds the project row lock for the whole run, so two runs never interleave; each video is
    written with a conditional UPDATE (``split = ''``), so a frozen split cannot be overwritten.
    """
    check_fractions(val_fraction, test_fraction)
    fractions = {"val": val_fraction, "test": test_fraction}
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        videos = split_videos(project=project)
        groups: dict[str, _Group] = {}
        for video in videos:
            group = groups.setdefault(video.group, _Group(key=video.group, videos=[]))
            group.videos.append(video)
            group.cells.update(video.cells)

        denied, deny_unmatched = _matches(deny, groups.values())
        held, hold_unmatched = _matches(hold_out, groups.values())
        both = sorted(denied & held)
        if both:
            raise ServiceError(
                f"{len(both)} group(s) are on both the deny and the hold-out list, e.g. "
                f"{both[0].split(':', 1)[1]!r}"
            )

        plan: dict[int, str] = {}
        conflicts: list[str] = []
        frozen_named: list[str] = []
        fresh: list[_Group] = []
        for key in sorted(groups):
            group = groups[key]
            new = [v for v in group.videos if not v.split]
            existing = group.splits
            if (key in denied and existing - {"train"}) or (key in held and "train" in existing):
                frozen_named.append(key)  # the list says otherwise, but a split never moves
            if not new:
                continue
            if len(existing) > 1:
                conflicts.append(key)
            elif existing:
                plan.update((v.pk, next(iter(existing))) for v in new)
            elif key in denied:
                plan.update((v.pk, "train") for v in new)
            elif key in held:
                plan.update((v.pk, "test") for v in new)
            else:
                fresh.append(group)

        def split_of(video: VideoInfo) -> str:
            return video.split or plan.get(video.pk, "")

        total_videos = len(videos)
        by_stratum: dict[tuple[str, str], list[_Group]] = defaultdict(list)
        for group in fresh:
            by_stratum[group.stratum].append(group)
        stratum_sizes: Counter[tuple[str, str]] = Counter()
        held_in: dict[str, Counter[tuple[str, str]]] = {s: Counter() for s in fractions}
        for group in groups.values():
            stratum_sizes[group.stratum] += group.size
            for video in group.videos:
                if split_of(video) in fractions:
                    held_in[split_of(video)][group.stratum] += 1
        available = {k: list(v) for k, v in by_stratum.items()}
        for stratum, members in available.items():
            rng = random.Random(f"{seed}/{stratum[0]}/{stratum[1]}")
            rng.shuffle(members)
        for split in ("test", "val"):
            fraction = fractions[split]
            have = sum(held_in[split].values())
            need = max(0, _round(fraction * total_videos) - have)
            weights = {
                k: max(0.0, fraction * stratum_sizes[k] - held_in[split][k]) for k in available
            }
            caps = {k: sum(g.size for g in available[k]) for k in available}
            quotas = _apportion(weights, need, caps)
            for stratum, quota in sorted(quotas.items()):
                for group in _pick(available[stratum], quota):
                    available[stratum].remove(group)
                    plan.update((v.pk, split) for v in group.videos)
        for members in available.values():
            for group in members:
                plan.update((v.pk, "train") for v in group.videos)

        now = timezone.now()
        assigned: dict[str, int] = dict.fromkeys(SPLITS, 0)
        for split in SPLITS:
            ids = sorted(pk for pk, s in plan.items() if s == split)
            for start in range(0, len(ids), 5000):
                chunk = ids[start : start + 5000]
                updated = Video.objects.filter(pk__in=chunk, split="").update(
                    split=split, split_assigned_at=now
                )
                if updated != len(chunk):
                    raise ConflictError(
                        "Some videos were given a split while this run was planning; "
                        "nothing was changed. Run it again."
                    )
            assigned[split] = len(ids)
        for video in videos:
            video.split = split_of(video)
        table = split_counts(videos=videos)
        version = (
            SplitRun.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0
        ) + 1
        run = SplitRun.objects.create(
            project=project,
            version=version,
            seed=seed,
            val_fraction=val_fraction,
            test_fraction=test_fraction,
            deny_list=list(deny),
            counts={
                "splits": {name: row.as_dict() for name, row in table.items()},
                "assigned": assigned,
                "hold_out": list(hold_out),
                "conflicts": [k.split(":", 1)[1] for k in conflicts],
            },
            created_by=user if getattr(user, "pk", None) else None,
        )
    return SplitOutcome(
        run=run,
        assigned=assigned,
        conflicts=[k.split(":", 1)[1] for k in conflicts],
        frozen_denied=[k.split(":", 1)[1] for k in frozen_named],
        unmatched=sorted(deny_unmatched | hold_unmatched),
    )


def deny_list_parse(lines: Iterable[str]) -> list[str]:
    """One video name (``sav_000123.mp4`` or ``sav_000123``), source video id or split group per
    line; blank lines and ``#`` comments are ignored. Sorted, without repeats."""
    entries = set()
    for line in lines:
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries.add(entry)
    return sorted(entries)
