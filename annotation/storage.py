"""Object storage: local files under the data folder, or S3 through boto3 (django-storages).

Everything stored goes through these functions so that both modes behave the same, including
cleanup: a failed ingest or export removes every key it wrote.
"""

from __future__ import annotations

import functools
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from django.core.files.storage import FileSystemStorage, storages

UPLOAD_THREADS = 8


def is_s3() -> bool:
    return not isinstance(_storage(), FileSystemStorage)


def _storage() -> Any:
    return storages["default"]


def put_file(key: str, local_path: str | os.PathLike[str]) -> None:
    storage = _storage()
    if isinstance(storage, FileSystemStorage):
        target = Path(storage.path(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        shutil.copyfile(local_path, tmp)
        os.replace(tmp, target)
        return
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    storage.bucket.upload_file(
        str(local_path), _s3_key(storage, key), ExtraArgs={"ContentType": content_type}
    )


def put_tree(prefix: str, local_dir: str | os.PathLike[str]) -> list[str]:
    """Upload every file under ``local_dir`` to ``prefix``; returns the keys written."""
    root = Path(local_dir)
    pairs = [
        (prefix + path.relative_to(root).as_posix(), path)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    ]
    if is_s3():
        with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
            list(pool.map(lambda pair: put_file(*pair), pairs))
    else:
        for key, path in pairs:
            put_file(key, path)
    return [key for key, _ in pairs]


def delete_prefix(prefix: str) -> None:
    if not prefix or not prefix.endswith("/"):
        raise ValueError(f"refusing to delete a prefix that is not a folder: {prefix!r}")
    storage = _storage()
    if isinstance(storage, FileSystemStorage):
        shutil.rmtree(storage.path(prefix.rstrip("/")), ignore_errors=True)
        return
    storage.bucket.objects.filter(Prefix=_s3_key(storage, prefix)).delete()


def delete_key(key: str) -> None:
    _storage().delete(key)


def list_keys(prefix: str) -> list[str]:
    storage = _storage()
    if isinstance(storage, FileSystemStorage):
        root = Path(storage.path(prefix.rstrip("/")))
        if not root.exists():
            return []
        base = Path(storage.location)
        return sorted(p.relative_to(base).as_posix() for p in root.rglob("*") if p.is_file())
    location = _s3_key(storage, "")
    return sorted(
        obj.key[len(location) :]
        for obj in storage.bucket.objects.filter(Prefix=_s3_key(storage, prefix))
    )


def exists(key: str) -> bool:
    return bool(_storage().exists(key))


def local_path(key: str) -> Path:
    """Filesystem path of a key in local mode (for the permission-checked media view)."""
    storage = _storage()
    if not isinstance(storage, FileSystemStorage):
        raise RuntimeError("local_path() is only available with local storage")
    return Path(storage.path(key))


def signed_url(key: str, *, expires: int, filename: str | None = None) -> str:
    """An expiring URL for the browser. With S3_PUBLIC_ENDPOINT_URL it is signed for that host
    (the signature covers the host, so a URL cannot be rewritten after signing)."""
    from django.conf import settings

    storage = _storage()
    params = (
        {"ResponseContentDisposition": f'attachment; filename="{filename}"'} if filename else None
    )
    public = getattr(settings, "S3_PUBLIC_ENDPOINT_URL", "")
    if public and not isinstance(storage, FileSystemStorage):
        client = _public_client(public, storage.region_name, storage.addressing_style)
        return str(
            client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": storage.bucket_name,
                    "Key": _s3_key(storage, key),
                    **(params or {}),
                },
                ExpiresIn=expires,
            )
        )
    return str(storage.url(key, parameters=params, expire=expires))


@functools.cache
def _public_client(endpoint: str, region: str | None, addressing_style: str | None) -> Any:
    """A boto3 client that only signs (it never connects), for the public endpoint."""
    import boto3
    from botocore.config import Config
    from django.conf import settings

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region or None,
        aws_access_key_id=settings.S3_ACCESS_KEY_ID or None,
        aws_secret_access_key=settings.S3_SECRET_ACCESS_KEY or None,
        config=Config(
            signature_version="s3v4", s3={"addressing_style": addressing_style or "auto"}
        ),
    )


@contextmanager
def fetched(key: str, suffix: str = "") -> Iterator[Path]:
    """A local copy of a stored object for the length of the block (a no-copy path locally)."""
    storage = _storage()
    if isinstance(storage, FileSystemStorage):
        yield Path(storage.path(key))
        return
    with tempfile.TemporaryDirectory(prefix="tubelet-fetch-") as tmp:
        target = Path(tmp) / f"object{suffix}"
        storage.bucket.download_file(_s3_key(storage, key), str(target))
        yield target


def read_bytes(key: str) -> bytes:
    with _storage().open(key, "rb") as fh:
        return bytes(fh.read())


def write_bytes(key: str, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(prefix="tubelet-put-") as tmp:
        tmp.write(data)
        tmp.flush()
        put_file(key, tmp.name)


def _s3_key(storage: Any, key: str) -> str:
    location = (storage.location or "").strip("/")
    return f"{location}/{key}" if location else key


# --- s3:// sources (ingest from a bucket) -------------------------------------------------------


def parse_s3_url(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def s3_client() -> Any:
    """A boto3 client with the endpoint and credentials of the S3 settings."""
    import boto3
    from django.conf import settings

    return boto3.client(
        "s3",
        region_name=settings.S3_REGION or None,
        endpoint_url=settings.S3_ENDPOINT_URL or None,
        aws_access_key_id=settings.S3_ACCESS_KEY_ID or None,
        aws_secret_access_key=settings.S3_SECRET_ACCESS_KEY or None,
    )
