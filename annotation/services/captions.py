"""Pass 2: temporal segments with captions for one masklet.

Frames are annotation-frame indices, inclusive at both ends. Segments where the subject is not
visible ("out of frame") come from the mask and are never typed: the annotator's segments must
cover every other frame, without overlaps.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Max

from annotation.errors import ServiceError
from annotation.models import CaptionRevision, Draft, Project, Task, TaskExclusion, TaskKind
from annotation.services.agreement import double_annotation_queue
from annotation.services.queue import task_check_version, task_finish, task_leased

MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Segment:
    start_frame: int
    end_frame: int
    caption: str
    out_of_frame: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "caption": self.caption,
            "out_of_frame": self.out_of_frame,
        }


def out_of_frame_runs(visible: list[bool]) -> list[tuple[int, int]]:
    """Maximal runs of frames where the subject is not visible, as inclusive (start, end)."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for frame, seen in enumerate(visible):
        if not seen and start is None:
            start = frame
        elif seen and start is not None:
            runs.append((start, frame - 1))
            start = None
    if start is not None:
        runs.append((start, len(visible) - 1))
    return runs


def caption_check_text(text: Any, *, project: Project, where: str) -> str:
    if not isinstance(text, str):
        raise ServiceError(f"{where}: the caption must be text.")
    caption = " ".join(text.split())
    if not caption:
        raise ServiceError(f"{where}: the caption is empty.")
    if CONTROL.search(text):
        raise ServiceError(f"{where}: the caption contains control characters.")
    if MARKUP.search(caption):
        raise ServiceError(f"{where}: captions are plain text; remove the markup tag.")
    if len(caption) < project.min_caption_chars:
        raise ServiceError(
            f"{where}: the caption is too short ({len(caption)} characters; "
            f"at least {project.min_caption_chars})."
        )
    if len(caption) > project.max_caption_chars:
        raise ServiceError(
            f"{where}: the caption is too long ({len(caption)} characters; "
            f"at most {project.max_caption_chars})."
        )
    return caption


def segments_build(
    *, typed: list[dict[str, Any]], visible: list[bool], project: Project
) -> list[Segment]:
    """Validate the annotator's segments and add the out-of-frame ones from the mask.

    Raises ServiceError naming the first problem (segment numbers are 1-based, as shown in the
    editor). Returns every segment, sorted, covering 0 .. len(visible) - 1.
    """
    total = len(visible)
    if not isinstance(typed, list) or not typed:
        if all(not v for v in visible):
            raise ServiceError("The subject is never visible: this masklet cannot be captioned.")
        raise ServiceError("Add at least one segment.")
    if len(typed) > total:
        raise ServiceError(f"There are more segments ({len(typed)}) than frames ({total}).")
    user: list[Segment] = []
    for number, raw in enumerate(typed, start=1):
        where = f"Segment {number}"
        if not isinstance(raw, dict):
            raise ServiceError(f"{where}: must be an object with start_frame, end_frame, caption.")
        start, end = raw.get("start_frame"), raw.get("end_frame")
        if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
            raise ServiceError(f"{where}: start_frame and end_frame must be whole numbers.")
        if start < 0 or end > total - 1:
            raise ServiceError(
                f"{where}: frames {start}-{end} are outside the video (0-{total - 1})."
            )
        if end < start:
            raise ServiceError(f"{where}: ends (frame {end}) before it starts (frame {start}).")
        caption = caption_check_text(raw.get("caption"), project=project, where=where)
        user.append(Segment(start, end, caption))

    automatic = [
        Segment(s, e, project.out_of_frame_caption, out_of_frame=True)
        for s, e in out_of_frame_runs(visible)
    ]
    ordered = sorted(user, key=lambda s: (s.start_frame, s.end_frame))
    for segment in ordered:
        for gone in automatic:
            if segment.start_frame <= gone.end_frame and gone.start_frame <= segment.end_frame:
                raise ServiceError(
                    f"Segment {user.index(segment) + 1} (frames {segment.start_frame}-"
                    f"{segment.end_frame}) overlaps frames {gone.start_frame}-{gone.end_frame}, "
                    "where the subject is out of frame."
                )
    for before, after in itertools.pairwise(ordered):
        if after.start_frame <= before.end_frame:
            raise ServiceError(
                f"Segments {user.index(before) + 1} and {user.index(after) + 1} overlap "
                f"(frames {after.start_frame}-{min(before.end_frame, after.end_frame)})."
            )
    everything = sorted(ordered + automatic, key=lambda s: s.start_frame)
    expected = 0
    for segment in everything:
        if segment.start_frame > expected:
            raise ServiceError(
                f"Frames {expected}-{segment.start_frame - 1} are not covered by any segment."
            )
        expected = segment.end_frame + 1
    if expected < total:
        raise ServiceError(f"Frames {expected}-{total - 1} are not covered by any segment.")
    return everything


def visibility_of(revision: Any) -> list[bool]:
    return [bool(area) for area in revision.areas]


def caption_revision_create(
    *, masklet: Any, segments: list[Segment], author: Any, task: Task | None
) -> CaptionRevision:
    number = (masklet.caption_revisions.aggregate(n=Max("number"))["n"] or 0) + 1
    return CaptionRevision.objects.create(
        masklet=masklet,
        number=number,
        masklet_revision=masklet.current_revision,
        segments=[s.as_dict() for s in segments],
        author=author,
        task=task,
    )


def caption_submit(
    *, task_id: int, user: Any, segments: list[dict[str, Any]], base_version: int
) -> CaptionRevision:
    """Submit pass 2 for the masklet of a leased caption task and queue its verification."""
    from tracking.models import MaskletStatus

    with transaction.atomic():
        task = task_leased(task_id=task_id, user=user, lock=True)
        if task.kind != TaskKind.CAPTION or task.masklet_id is None:
            raise ServiceError("This is not a caption task.")
        if task.is_gold or task.is_duplicate:
            raise ServiceError("Submit this task through annotation.services.gold.shadow_submit.")
        task_check_version(task, base_version)
        masklet = task.masklet
        assert masklet is not None
        revision = masklet.current_revision
        if revision is None:
            raise ServiceError("The masklet has no mask yet.")
        built = segments_build(
            typed=segments, visible=visibility_of(revision), project=task.project
        )
        captions = caption_revision_create(masklet=masklet, segments=built, author=user, task=task)
        task_finish(task=task, user=user)
        type(masklet).objects.filter(pk=masklet.pk).update(
            status=MaskletStatus.CAPTIONED, version=F("version") + 1
        )
        review = Task.objects.create(
            project=task.project,
            kind=TaskKind.REVIEW,
            video=task.video,
            masklet=masklet,
            priority=task.priority,
        )
        pass_one = masklet.select_task.submitted_by_id if masklet.select_task else None
        authors = {user.pk, masklet.created_by_id, pass_one}
        TaskExclusion.objects.bulk_create(
            [TaskExclusion(task=review, user_id=uid) for uid in authors if uid is not None]
        )
        double_annotation_queue(task=task, user=user)
        Draft.objects.filter(task=task).delete()
    return captions
