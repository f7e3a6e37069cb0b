"""Who holds which video's tracking session, and which GPU workers are alive: the cross-worker
view, kept in the Django cache (Redis in production and tests, files when embedded).

- ``tracking:session:<video>`` → hostname of the worker whose process holds the video's
  session; refreshed on every use, expires with the session's idle time.
- ``tracking:worker:<hostname>`` → set every few seconds by each GPU worker's heartbeat
  thread; a worker whose key has expired is gone, and nothing is routed to its own queue.

Messages go to ``gpu.<hostname>`` (the worker's own queue, see workers/celery.py) when a live
worker holds the session, else to ``gpu``, where any GPU worker takes them and rebuilds the
session from the stored prompts.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache

from workers.celery import worker_queue_name

logger = logging.getLogger(__name__)

GPU_QUEUE = "gpu"


def _session_key(video_id: int) -> str:
    return f"tracking:session:{video_id}"


def _worker_key(hostname: str) -> str:
    return f"tracking:worker:{hostname}"


def heartbeat_interval() -> float:
    return max(1.0, min(10.0, settings.TRACKING_HEARTBEAT_STALE_SECONDS / 6))


def worker_alive_seconds() -> float:
    return max(3.0, settings.TRACKING_HEARTBEAT_STALE_SECONDS / 3)


def session_holder_set(*, video_id: int, hostname: str) -> None:
    cache.set(_session_key(video_id), hostname, timeout=settings.TRACKING_SESSION_IDLE_SECONDS)


def session_holder(*, video_id: int) -> str | None:
    value = cache.get(_session_key(video_id))
    return value if isinstance(value, str) and value else None


def session_holder_forget(*, video_id: int, hostname: str | None = None) -> None:
    """Drop the entry (only if ``hostname`` still holds it, when given)."""
    if hostname is None or session_holder(video_id=video_id) == hostname:
        cache.delete(_session_key(video_id))


def worker_beat(hostname: str) -> None:
    cache.set(_worker_key(hostname), time.time(), timeout=worker_alive_seconds())


def worker_alive(hostname: str) -> bool:
    return cache.get(_worker_key(hostname)) is not None


def queue_for_video(*, video_id: int) -> str:
    """The queue of the live worker holding the video's session, else the shared one."""
    holder = session_holder(video_id=video_id)
    if holder and worker_alive(holder):
        return worker_queue_name(holder)
    if holder:
        session_holder_forget(video_id=video_id, hostname=holder)
    return GPU_QUEUE


_heartbeat_started: set[str] = set()
_heartbeat_lock = threading.Lock()


def worker_heartbeat_start(hostname: str) -> None:
    """Start this GPU worker's heartbeat thread (once per process): marks the worker alive
    and closes its idle tracking sessions."""
    with _heartbeat_lock:
        if hostname in _heartbeat_started:
            return
        _heartbeat_started.add(hostname)
    thread = threading.Thread(
        target=_heartbeat_loop, args=(hostname,), name="tracking-heartbeat", daemon=True
    )
    thread.start()
    # Load the engine (a SAM 2 model) now rather than on the first click, which would wait.
    threading.Thread(target=_warm_up, name="tracking-warm-up", daemon=True).start()


def _warm_up() -> None:
    from tracking.services.engines import tracking_engine

    try:
        tracking_engine(settings.TRACKER)
    except Exception as exc:  # the first job reports it properly
        logger.warning("tracking engine %s not loaded at start: %s", settings.TRACKER, exc)


def _heartbeat_loop(hostname: str) -> None:
    from tracking.services.engines import sessions_expire

    while True:
        try:
            worker_beat(hostname)
            sessions_expire(hostname=hostname)
        except Exception:  # a cache hiccup must not kill the heartbeat for good
            logger.exception("tracking heartbeat of %s failed", hostname)
        time.sleep(heartbeat_interval())
