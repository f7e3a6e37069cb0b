"""Batch pre-annotation (``manage.py track``): masklets from a prompts file, tracked through the
whole video in this process, stored at the end in one transaction (all masklets or none)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from annotation.errors import ServiceError
from annotation.models import Video
from tracking.models import (
    Direction,
    JobKind,
    Masklet,
    MaskletRevision,
    MaskletSource,
    MaskletStatus,
    Prompt,
    TrackingJob,
    TrackingJobStatus,
)
from tracking.services.engines import frames_source, tracking_engine
from tracking.services.jobs import revision_create
from tracking.services.masklets import prompt_check
from workers import engine as engines
from workers import rle
from workers.rle import Rle

PROMPT_KEYS = {"object_id", "frame", "points", "labels", "box"}


@dataclass
class TrackResult:
    video: Video
    engine: str
    model_version: str
    job: TrackingJob
    masklets: list[Masklet] = field(default_factory=list)
    revisions: list[MaskletRevision] = field(default_factory=list)
    masks: dict[int, list[Rle]] = field(default_factory=dict)  # by object id


def prompts_parse(*, video: Video, data: Any) -> list[dict[str, Any]]:
    """The prompts of a prompts file, checked against the video; ServiceError naming the entry
    and the problem otherwise."""
    if not isinstance(data, list) or not data:
        raise ServiceError("the prompts file must hold a non-empty JSON list of prompts")
    out = []
    for index, entry in enumerate(data):
        where = f"prompt #{index + 1}"
        if not isinstance(entry, dict):
            raise ServiceError(f"{where}: must be an object, got {type(entry).__name__}")
        unknown = set(entry) - PROMPT_KEYS
        if unknown:
            raise ServiceError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        object_id = entry.get("object_id")
        if not isinstance(object_id, int) or isinstance(object_id, bool) or object_id < 1:
            raise ServiceError(f"{where}: object_id must be a positive integer, got {object_id!r}")
        if "frame" not in entry:
            raise ServiceError(f"{where}: frame is missing")
        try:
            checked = prompt_check(
                video=video,
                frame=entry["frame"],
                points=entry.get("points"),
                labels=entry.get("labels"),
                box=entry.get("box"),
            )
        except ServiceError as exc:
            raise ServiceError(f"{where} (object {object_id}): {exc.message}") from None
        out.append({"object_id": object_id, **checked})
    return out


def prompts_file_read(*, video: Video, path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ServiceError(f"cannot read the prompts file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ServiceError(
            f"the prompts file {path} is not JSON: {exc.msg} at line {exc.lineno}"
        ) from None
    return prompts_parse(video=video, data=data)


def video_track(
    *,
    video: Video,
    prompts: list[dict[str, Any]],
    engine_name: str,
    progress: Callable[[int, int], None] | None = None,
) -> TrackResult:
    """Create one masklet per object id of ``prompts`` and track them through the whole video.

    Raises ServiceError (nothing stored) for a video that is not ready, object ids the video
    already has, or an engine that cannot run here."""
    from annotation.models import VideoStatus
    from workers.engine import EngineUnavailable

    if video.status != VideoStatus.READY or video.annotation_frame_count < 1:
        raise ServiceError(f"video {video.pk} is not ready for tracking (it is {video.status})")
    object_ids = sorted({p["object_id"] for p in prompts})
    _refuse_taken(video=video, object_ids=object_ids)
    try:
        engine = tracking_engine(engine_name)
        session = engine.open_session(frames_source(video))
    except EngineUnavailable as exc:
        raise ServiceError(str(exc)) from None
    except (FileNotFoundError, ValueError) as exc:
        raise ServiceError(f"the frames of video {video.pk} cannot be read: {exc}") from None
    count = video.annotation_frame_count
    height, width = video.height or 0, video.width or 0
    masks: dict[int, list[Rle]] = {o: [rle.empty(height, width)] * count for o in object_ids}
    started = timezone.now()
    try:
        prompt_masks = []
        for p in prompts:
            prompt = engines.Prompt(
                frame=p["frame"],
                object_id=p["object_id"],
                points=p["points"],
                labels=p["labels"],
                box=p["box"],
            )
            prompt_masks.append(rle.encode(session.add_prompt(prompt)))
        start = min(p["frame"] for p in prompts)
        done = 0
        for frame, by_object in session.propagate(start_frame=start, direction="both"):
            for object_id, mask in by_object.items():
                if object_id in masks:
                    masks[object_id][frame] = rle.encode(mask)
            done += 1
            if progress is not None:
                progress(done, count)
    finally:
        session.close()
    with transaction.atomic():
        _refuse_taken(video=video, object_ids=object_ids)
        now = timezone.now()
        job = TrackingJob.objects.create(
            video=video,
            kind=JobKind.PROPAGATE,
            status=TrackingJobStatus.SUCCEEDED,
            engine=engine.name,
            start_frame=start,
            direction=Direction.BOTH,
            frames_done=done,
            frames_total=count,
            attempts=1,
            worker="manage.py track",
            started_at=started,
            heartbeat_at=now,
            finished_at=now,
        )
        result = TrackResult(
            video=video, engine=engine.name, model_version=engine.model_version, job=job
        )
        made: dict[int, Masklet] = {}
        for object_id in object_ids:
            masklet = Masklet.objects.create(
                video=video,
                object_id=object_id,
                source=MaskletSource.CLICKS,
                status=MaskletStatus.DRAFT,
            )
            made[object_id] = masklet
        Prompt.objects.bulk_create(
            [
                Prompt(
                    masklet=made[p["object_id"]],
                    frame=p["frame"],
                    points=p["points"],
                    labels=p["labels"],
                    box=p["box"],
                    mask=mask,
                )
                for p, mask in zip(prompts, prompt_masks, strict=True)
            ]
        )
        job.masklets.set(list(made.values()))
        for object_id, masklet in made.items():
            result.masklets.append(masklet)
            result.revisions.append(
                revision_create(
                    masklet=masklet,
                    masks=masks[object_id],
                    engine=engine.name,
                    model_version=engine.model_version,
                    job=job,
                    note="manage.py track",
                )
            )
        result.masks = masks
    return result


def _refuse_taken(*, video: Video, object_ids: list[int]) -> None:
    taken = sorted(
        Masklet.objects.filter(video=video, object_id__in=object_ids).values_list(
            "object_id", flat=True
        )
    )
    if taken:
        raise ServiceError(
            f"video {video.pk} already has masklet(s) with object_id {', '.join(map(str, taken))}"
        )


def sav_layout(result: TrackResult) -> dict[str, Any]:
    """The tracked masklets in SA-V's layout (``masklet``: per annotation frame, per object)."""
    from annotation.exports import formats

    video = result.video
    masklets: list[dict[str, Any]] = [
        {"masklet_id": o, "rles": r} for o, r in sorted(result.masks.items())
    ]
    try:
        return formats.sav_masklet_file(
            video_id=Path(video.name).stem,
            video_duration=video.duration or 0.0,
            video_frame_count=video.source_frame_count or 0,
            video_height=video.height or 0,
            video_width=video.width or 0,
            masklets=masklets,
        )
    except formats.ExportDataError:
        # A masklet empty on every frame has no SA-V size statistics; keep the core layout.
        return {
            "video_id": Path(video.name).stem,
            "video_frame_count": float(video.source_frame_count or 0),
            "video_height": float(video.height or 0),
            "video_width": float(video.width or 0),
            "masklet": [
                [m["rles"][k] for m in masklets] for k in range(video.annotation_frame_count)
            ],
            "masklet_id": [m["masklet_id"] for m in masklets],
            "masklet_num": len(masklets),
        }
