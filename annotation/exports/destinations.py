"""Where finished export files go besides a local folder: an S3 prefix, and a staged release.

Pure (no Django): the S3 client is passed in, so any boto3-compatible client (AWS, MinIO, moto)
works and tests can use a real server.
"""

from __future__ import annotations

import mimetypes
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from annotation.exports.writers import Destination, LocalDirectory, check_relpath

_CONTENT_TYPES = {
    ".jsonl": "application/x-ndjson",
    ".json": "application/json",
    ".parquet": "application/vnd.apache.parquet",
    ".zip": "application/zip",
}


class S3Prefix:
    """Objects under ``s3://bucket/prefix/``; ``put`` uploads the finished file in one call
    (multipart for large files), so readers never see a partial object."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        if not bucket:
            raise ValueError("an S3 destination needs a bucket")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def __repr__(self) -> str:
        return f"S3Prefix('s3://{self.bucket}/{self.prefix}')"

    def key(self, relpath: str) -> str:
        relpath = check_relpath(relpath)
        return f"{self.prefix}/{relpath}" if self.prefix else relpath

    def put(self, relpath: str, local_path: Path) -> None:
        suffix = Path(relpath).suffix
        content_type = (
            _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(relpath)[0] or "binary/octet-stream"
        )
        self.client.upload_file(
            str(local_path),
            self.bucket,
            self.key(relpath),
            ExtraArgs={"ContentType": content_type},
        )


@contextmanager
def staging_for(destination: Destination) -> Iterator[LocalDirectory]:
    """A private local folder to write a whole release into before any of it is published.

    For a local destination it lives inside the destination folder (so publishing is a rename);
    otherwise in the system temporary folder. It is removed afterwards, published or not.
    """
    parent: Path | None = None
    if isinstance(destination, LocalDirectory):
        destination.root.mkdir(parents=True, exist_ok=True)
        parent = destination.root
    root = Path(tempfile.mkdtemp(prefix=".tubelet-staging-", dir=parent))
    try:
        yield LocalDirectory(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
