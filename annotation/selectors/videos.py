"""Reads about videos, including where the browser may fetch their media."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from annotation import storage
from annotation.models import Video


def video_list(*, project_id: int, status: str | None = None) -> QuerySet[Video]:
    qs = Video.objects.filter(project_id=project_id).select_related("project").defer("frame_index")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("id")


def video_media_urls(*, video: Video) -> dict[str, Any]:
    """URLs for the proxy, thumbnail and every annotation frame.

    S3: expiring signed URLs. Local: the permission-checked media view (with range support).
    ``frame_url_template`` is only given where one pattern serves every frame (local mode).
    """
    count = video.annotation_frame_count
    if storage.is_s3():
        ttl = settings.SIGNED_URL_TTL
        return {
            "proxy_url": storage.signed_url(video.proxy_key, expires=ttl),
            "thumbnail_url": storage.signed_url(video.thumbnail_key, expires=ttl),
            "frame_urls": [
                storage.signed_url(video.frame_key(k), expires=ttl) for k in range(count)
            ],
            "frame_url_template": None,
            "expires_in": ttl,
        }
    base = reverse("media-file", kwargs={"video_id": video.pk, "path": "x"})[:-1]
    return {
        "proxy_url": f"{base}proxy.mp4",
        "thumbnail_url": f"{base}thumb.jpg",
        "frame_urls": [f"{base}frames/{k:06d}.jpg" for k in range(count)],
        "frame_url_template": f"{base}frames/{{frame}}.jpg",
        "frame_digits": 6,
        "expires_in": None,
    }


VIDEO_FIELDS = (
    "id",
    "project_id",
    "name",
    "original_name",
    "status",
    "error",
    "progress",
    "width",
    "height",
    "codec",
    "source_fps",
    "source_frame_count",
    "duration",
    "annotation_frame_count",
    "source_video_id",
    "source_start_time",
    "source_end_time",
    "split",
    "created_at",
)


def video_payload(video: Video, *, with_media: bool) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(video, name) for name in VIDEO_FIELDS}
    data["annotation_fps"] = video.project.annotation_fps
    if with_media:
        data["media"] = video_media_urls(video=video)
    return data
