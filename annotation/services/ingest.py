"""Media ingestion: validate, dedupe, store the source, then build frames, proxy and thumbnail.

A file that fails validation is rejected before anything is stored. A file that fails later is
kept as a ``failed`` Video with a reason and every object it wrote is removed.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotation import media, storage
from annotation.models import Project, ProjectKind, Task, TaskKind, Video, VideoStatus

logger = logging.getLogger(__name__)

Progress = Callable[[float], None]


@dataclass
class IngestOutcome:
    """The result for one input file or clip, as the CLI and the API report it."""

    name: str
    video: Video | None = None
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        video = self.video
        return {
            "id": video.pk if video else None,
            "name": video.name if video else self.name,
            "status": video.status if video else "rejected",
            "width": video.width if video else None,
            "height": video.height if video else None,
            "fps": video.source_fps if video else None,
            "source_frames": video.source_frame_count if video else None,
            "annotation_frames": video.annotation_frame_count if video else None,
            "error": self.error or (video.error if video else ""),
        }


@dataclass
class _Checked:
    name: str
    sha256: str
    probe: media.ProbeResult


def _check(*, project: Project, path: Path, original_name: str) -> _Checked:
    name = media.safe_name(original_name)
    if path.stat().st_size == 0:
        raise media.MediaError("file is empty (0 bytes)")
    if path.stat().st_size > settings.MAX_UPLOAD_BYTES:
        raise media.MediaError(
            f"file is larger than the limit of {settings.MAX_UPLOAD_BYTES} bytes"
        )
    digest = media.sha256_of(path)
    _refuse_duplicate(project=project, sha256=digest)
    return _Checked(name=name, sha256=digest, probe=media.probe(path))


def _refuse_duplicate(*, project: Project, sha256: str) -> None:
    # A failed attempt does not block trying the same file again.
    Video.objects.filter(project=project, sha256=sha256, status=VideoStatus.FAILED).delete()
    existing = Video.objects.filter(project=project, sha256=sha256).order_by("pk").first()
    if existing is not None:
        raise media.MediaError(
            f"duplicate: this file was already ingested as video #{existing.pk} ({existing.name})"
        )


def _unique_name(*, project: Project, name: str, sha256: str, clip_index: int) -> str:
    stem, suffix = os.path.splitext(name)
    if clip_index:
        stem = f"{stem}_clip{clip_index:03d}"
    suffix = suffix.lower() if suffix.lower() in media.VIDEO_SUFFIXES else ".mp4"
    candidate = f"{stem}{suffix}"
    if Video.objects.filter(project=project, name=candidate).exists():
        candidate = f"{stem}-{sha256[:8]}{suffix}"
    return candidate


def _source_key(*, project: Project, sha256: str, name: str) -> str:
    suffix = os.path.splitext(name)[1].lower() or ".mp4"
    return f"sources/{project.pk}/{sha256}{suffix}"


def video_ingest_file(
    *,
    project: Project,
    path: str | os.PathLike[str],
    original_name: str | None = None,
    user: Any = None,
    run_async: bool = False,
    split_scenes: bool = False,
    max_clip_seconds: float = 30.0,
    progress: Progress | None = None,
) -> list[IngestOutcome]:
    """Ingest one local file. Inline by default; ``run_async`` stores it and enqueues the
    processing on the ``media`` queue (after commit). Returns one outcome per resulting video."""
    source = Path(path)
    name = original_name or source.name
    try:
        checked = _check(project=project, path=source, original_name=name)
    except media.MediaError as exc:
        return [IngestOutcome(name=name, error=str(exc))]
    if split_scenes and max_clip_seconds <= 0:
        return [IngestOutcome(name=name, error="--max-clip-seconds must be positive")]

    source_key = _source_key(project=project, sha256=checked.sha256, name=checked.name)
    storage.put_file(source_key, source)
    options = {"split_scenes": split_scenes, "max_clip_seconds": max_clip_seconds}
    try:
        video = _video_create_pending(
            project=project, checked=checked, source_key=source_key, user=user, options=options
        )
    except media.MediaError as exc:
        # The same content is being ingested by someone else, who owns the stored source.
        return [IngestOutcome(name=checked.name, error=str(exc))]

    if run_async:
        from annotation.tasks import ingest_video

        transaction.on_commit(lambda: ingest_video.delay(video.pk))
        return [IngestOutcome(name=video.name, video=video)]
    return video_process(video_id=video.pk, progress=progress)


def _video_create_pending(
    *, project: Project, checked: _Checked, source_key: str, user: Any, options: dict[str, Any]
) -> Video:
    probe = checked.probe
    try:
        with transaction.atomic():
            return Video.objects.create(
                project=project,
                name=_unique_name(
                    project=project, name=checked.name, sha256=checked.sha256, clip_index=0
                ),
                original_name=checked.name,
                sha256=checked.sha256,
                source_key=source_key,
                codec=probe.codec,
                width=probe.width,
                height=probe.height,
                rotation=probe.rotation,
                source_fps=probe.fps or None,
                source_frame_count=probe.frame_count or None,
                duration=probe.duration or None,
                split_group=checked.sha256,
                status=VideoStatus.PENDING,
                uploaded_by=user if getattr(user, "pk", None) else None,
                ingest_options=options,
            )
    except IntegrityError:
        raise media.MediaError(
            "duplicate: this file is being ingested by another request"
        ) from None


def video_process(*, video_id: int, progress: Progress | None = None) -> list[IngestOutcome]:
    """Turn a pending video into ready clips (or failed ones). Safe to call twice for one video:
    only the caller that moves it from pending to processing does the work."""
    claimed = Video.objects.filter(pk=video_id, status=VideoStatus.PENDING).update(
        status=VideoStatus.PROCESSING, processing_started_at=timezone.now(), error=""
    )
    video = Video.objects.select_related("project").get(pk=video_id)
    if not claimed:
        return [IngestOutcome(name=video.name, video=video)]

    options = video.ingest_options or {}
    probe = _probe_from(video)
    with storage.fetched(video.source_key, suffix=Path(video.source_key).suffix) as local_source:
        clips: list[Video] = [video]
        if options.get("split_scenes"):
            try:
                ranges = media.detect_scenes(
                    local_source,
                    max_clip_seconds=float(options.get("max_clip_seconds") or 30.0),
                    duration=probe.duration,
                )
            except media.MediaError as exc:
                return [_fail(video, str(exc))]
            clips = _clips_create(video=video, ranges=ranges)
        outcomes = [
            _process_one(clip, local_source=local_source, probe=probe, progress=progress)
            for clip in clips
        ]
    if all(o.error for o in outcomes):
        storage.delete_key(video.source_key)
    return outcomes


def _probe_from(video: Video) -> media.ProbeResult:
    # The stored facts come from the probe at upload time; re-probing would read the file twice.
    return media.ProbeResult(
        container="",
        codec=video.codec,
        width=video.width or 0,
        height=video.height or 0,
        rotation=video.rotation,
        fps=video.source_fps or 0.0,
        frame_count=video.source_frame_count or 0,
        duration=video.duration or 0.0,
        has_audio=False,
    )


def _clips_create(*, video: Video, ranges: list[tuple[float, float]]) -> list[Video]:
    """Make the pending row clip 0 and add a row per further clip, all from one source."""
    stem = os.path.splitext(video.name)[0]
    clips = []
    with transaction.atomic():
        # A redelivered job starts over: drop clips a killed worker left behind.
        leftovers = Video.objects.filter(
            project_id=video.project_id, sha256=video.sha256, clip_index__gt=0
        )
        for leftover in leftovers:
            if leftover.storage_prefix:
                storage.delete_prefix(leftover.storage_prefix)
        leftovers.delete()
        for index, (start, end) in enumerate(ranges):
            if index == 0:
                clip = video
            else:
                clip = Video.objects.get(pk=video.pk)
                clip.pk = None
                clip.clip_index = index
                clip.name = _unique_name(
                    project=video.project, name=video.name, sha256=video.sha256, clip_index=index
                )
            clip.source_video_id = stem
            clip.source_start_time = start
            clip.source_end_time = end
            clip.status = VideoStatus.PROCESSING
            clip.save()
            clips.append(clip)
    return clips


def _process_one(
    video: Video, *, local_source: Path, probe: media.ProbeResult, progress: Progress | None
) -> IngestOutcome:
    video.storage_prefix = f"videos/{video.project_id}/{video.pk}/"
    video.save(update_fields=["storage_prefix"])
    work_dir = Path(tempfile.mkdtemp(prefix=f"tubelet-ingest-{video.pk}-"))
    try:
        result = media.process_clip(
            local_source,
            work_dir,
            probe_result=probe,
            annotation_fps=video.project.annotation_fps,
            start=video.source_start_time or 0.0,
            end=video.source_end_time,
            proxy_max_width=settings.PROXY_MAX_WIDTH,
            keyframe_seconds=settings.PROXY_KEYFRAME_SECONDS,
            jpeg_quality=settings.FRAME_JPEG_QUALITY,
            progress=progress,
        )
        if not result.frame_index:
            raise media.MediaError("video is too short for one annotation frame")
        storage.put_tree(video.storage_prefix, work_dir)
    except media.MediaError as exc:
        return _fail(video, str(exc))
    except Exception as exc:
        logger.exception("ingest of video %s failed", video.pk)
        return _fail(video, f"processing failed: {exc.__class__.__name__}: {exc}")
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    video.width, video.height = result.width, result.height
    video.source_frame_count = result.source_frame_count
    video.source_fps = result.fps
    video.duration = result.duration
    video.frame_index = result.frame_index
    video.annotation_frame_count = len(result.frame_index)
    video.status = VideoStatus.READY
    video.progress = 1.0
    video.processed_at = timezone.now()
    with transaction.atomic():
        video.save()
        _pipeline_start(video)
    return IngestOutcome(name=video.name, video=video)


def _pipeline_start(video: Video) -> None:
    """A ready STC video enters pass 1 (FGQA clips wait for their imported questions)."""
    if video.project.kind == ProjectKind.STC:
        Task.objects.get_or_create(
            project_id=video.project_id, video=video, kind=TaskKind.SELECT, rework_of=None
        )


def _fail(video: Video, reason: str) -> IngestOutcome:
    if video.storage_prefix:
        storage.delete_prefix(video.storage_prefix)
    Video.objects.filter(pk=video.pk).update(
        status=VideoStatus.FAILED, error=reason, processed_at=timezone.now()
    )
    video.refresh_from_db()
    return IngestOutcome(name=video.name, video=video, error=reason)


def video_requeue_stuck(
    *, older_than_seconds: int, pending_older_than_seconds: int | None = None
) -> int:
    """Put videos whose worker died mid-processing back in the queue (called by the sweeper).

    With ``pending_older_than_seconds``, also enqueue again the stored uploads still pending
    after that long while no video is processing (their message was lost). A second message is
    harmless: only the worker that moves a video from pending to processing works on it."""
    now = timezone.now()
    if (
        pending_older_than_seconds is not None
        and not Video.objects.filter(status=VideoStatus.PROCESSING).exists()
    ):
        waiting = now - timedelta(seconds=pending_older_than_seconds)
        lost = Video.objects.filter(
            status=VideoStatus.PENDING, created_at__lt=waiting, clip_index=0
        ).exclude(source_key="")
        from annotation.tasks import ingest_video as ingest_task

        for video_id in lost.values_list("pk", flat=True):
            # once per threshold, not on every sweep, while the video keeps waiting
            if cache.add(f"ingest-requeued:{video_id}", 1, pending_older_than_seconds):
                with transaction.atomic():
                    transaction.on_commit(partial(ingest_task.delay, video_id))
    cutoff = now - timedelta(seconds=older_than_seconds)
    stuck = list(
        Video.objects.filter(
            status=VideoStatus.PROCESSING, processing_started_at__lt=cutoff, clip_index=0
        ).values_list("pk", flat=True)
    )
    from annotation.tasks import ingest_video

    for video_id in stuck:
        with transaction.atomic():
            Video.objects.filter(pk=video_id, status=VideoStatus.PROCESSING).update(
                status=VideoStatus.PENDING
            )
            transaction.on_commit(partial(ingest_video.delay, video_id))
    return len(stuck)


def video_delete(*, video: Video) -> None:
    """Remove a video, everything annotated on it, and its stored media."""
    prefix, source_key, sha256 = video.storage_prefix, video.source_key, video.sha256
    project_id = video.project_id
    video.delete()
    if prefix:
        storage.delete_prefix(prefix)
    if source_key and not Video.objects.filter(project_id=project_id, sha256=sha256).exists():
        storage.delete_key(source_key)
