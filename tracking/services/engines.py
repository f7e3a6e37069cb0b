"""The worker side of tracking: engines built from settings, the video's annotation frames on
local disk, and this process's open sessions (one per video, see workers/sessions.py).

Session state is rebuilt from the stored prompts whenever it does not reflect them (a new
worker, an expired session, a prompt deleted elsewhere): prompts are the source of truth.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings

from annotation import storage
from annotation.models import Video
from tracking.models import Prompt
from tracking.services import routing
from workers import engine as engines
from workers.engine import FrameSource, TrackingEngine
from workers.sessions import SessionEntry, SessionRegistry

MAX_SESSIONS = 4


def engine_options(name: str) -> dict[str, Any]:
    if name == "cpu":
        return {"work_size": settings.TRACKER_CPU_WORK_SIZE}
    if name == "sam2":
        return {
            "config": settings.SAM2_CONFIG,
            "checkpoint": settings.SAM2_CHECKPOINT or None,
            "device": settings.SAM2_DEVICE,
            "image_size": settings.SAM2_IMAGE_SIZE,
            "max_memory_frames": settings.SAM2_MAX_MEMORY_FRAMES,
            "offload_to_cpu": settings.SAM2_OFFLOAD_TO_CPU,
            "allow_random_weights": settings.SAM2_ALLOW_RANDOM_WEIGHTS,
        }
    return {}


def tracking_engine(name: str) -> TrackingEngine:
    """The engine ``name`` (cpu | sam2) with this deployment's settings, made once per process.
    Raises :class:`workers.engine.EngineUnavailable` with a message naming the setting."""
    return engines.get_engine(name, **engine_options(name))  # type: ignore[arg-type]


def engine_prompt(prompt: Prompt) -> engines.Prompt:
    """A stored prompt as the engine sees it; the engine's object id is the masklet's pk."""
    return engines.Prompt(
        frame=prompt.frame,
        object_id=prompt.masklet_id,
        points=[tuple(p) for p in prompt.points or []],
        labels=list(prompt.labels or []),
        box=prompt.box,
    )


def stored_prompts(*, video_id: int, before: int | None = None) -> list[engines.Prompt]:
    """Every prompt of the video's masklets in the order they were made (ids below
    ``before`` only, when given)."""
    rows = Prompt.objects.filter(masklet__video_id=video_id).only(
        "pk", "frame", "masklet_id", "points", "labels", "box"
    )
    if before is not None:
        rows = rows.filter(pk__lt=before)
    return [engine_prompt(p) for p in rows.order_by("pk")]


# --- frames on local disk -----------------------------------------------------------------


_frames_lock = threading.Lock()


def frames_source(video: Video) -> FrameSource:
    """The video's annotation frames as a local directory: the storage folder itself with local
    storage, a per-worker copy (downloaded once, atomically) with S3."""
    if not storage.is_s3():
        return FrameSource.from_directory(storage.local_path(video.frames_prefix.rstrip("/")))
    root = Path(settings.DATA_DIR) / "tracking-frames"
    target = root / f"{video.pk}-{video.sha256[:16]}-{video.clip_index}"
    with _frames_lock:
        if not target.is_dir():
            root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
            try:
                keys = [k for k in storage.list_keys(video.frames_prefix) if k.endswith(".jpg")]

                def fetch(key: str) -> None:
                    (tmp / os.path.basename(key)).write_bytes(storage.read_bytes(key))

                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(fetch, keys))
                os.replace(tmp, target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    return FrameSource.from_directory(target)


# --- this process's sessions --------------------------------------------------------------

_registry: SessionRegistry | None = None
_registry_lock = threading.Lock()


def session_registry() -> SessionRegistry:
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = SessionRegistry(
                max_sessions=MAX_SESSIONS, idle_seconds=settings.TRACKING_SESSION_IDLE_SECONDS
            )
        return _registry


@contextmanager
def video_session(
    *, video: Video, engine_name: str, hostname: str, timeout: float | None = None
) -> Iterator[SessionEntry]:
    """Hold the video's session in this process (opening it if needed) and record this worker
    as its holder. Raises ``SessionBusy`` after ``timeout`` seconds of waiting for another
    thread (a propagation) using it."""
    engine = tracking_engine(engine_name)
    with session_registry().use(
        video.pk,
        open_session=lambda: engine.open_session(frames_source(video)),
        engine_name=engine.name,
        model_version=engine.model_version,
        timeout=timeout,
    ) as entry:
        if hostname:
            routing.session_holder_set(video_id=video.pk, hostname=hostname)
        yield entry


def sessions_expire(*, hostname: str) -> list[int]:
    """Close this process's idle sessions and forget them in the shared registry."""
    if _registry is None:
        return []
    closed = [int(k) for k in _registry.sweep()]  # type: ignore[call-overload]
    for video_id in closed:
        routing.session_holder_forget(video_id=video_id, hostname=hostname)
    return closed
