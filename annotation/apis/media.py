"""Media for the browser in local-storage mode: permission-checked, with HTTP range support.

In S3 mode the browser gets expiring signed URLs instead (see selectors/videos.py), and this view
answers 404.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Iterator

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from rest_framework.request import Request
from rest_framework.views import APIView

from annotation import storage
from annotation.access import require_video_access
from annotation.errors import NotFoundError

_ALLOWED_PATH = re.compile(r"^(proxy\.mp4|thumb\.jpg|frames/\d{6}\.jpg)$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def _read_range(path: str, start: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            block = fh.read(min(CHUNK, remaining))
            if not block:
                return
            remaining -= len(block)
            yield block


class MediaFileApi(APIView):
    def get(self, request: Request, video_id: int, path: str) -> HttpResponse:
        video = require_video_access(user=request.user, video_id=video_id)
        if storage.is_s3() or not _ALLOWED_PATH.match(path) or not video.storage_prefix:
            raise NotFoundError("No such media file.")
        local = storage.local_path(video.storage_prefix + path)
        if not local.is_file():
            raise NotFoundError("No such media file.")
        size = local.stat().st_size
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}

        match = _RANGE.match(request.headers.get("Range", "").strip())
        if not match or (not match.group(1) and not match.group(2)):
            # FileResponse closes the file when the response is done.
            handle = open(local, "rb")  # noqa: SIM115
            response: HttpResponse = FileResponse(handle, content_type=content_type)
            for key, value in headers.items():
                response[key] = value
            return response

        first, last = match.group(1), match.group(2)
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:  # "bytes=-N": the last N bytes
            start = max(0, size - int(last))
            end = size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        length = end - start + 1
        response = StreamingHttpResponse(
            _read_range(os.fspath(local), start, length), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(length)
        for key, value in headers.items():
            response[key] = value
        return response
