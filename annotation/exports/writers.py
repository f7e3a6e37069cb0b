"""Deterministic streaming writers for dataset files, and the release manifest.

Each writer consumes an iterator of rows once, holds at most one batch of rows in memory, and
writes to a private local file while counting rows and hashing the bytes written. Only a
complete file is handed to the ``Destination`` (``put``), so a failed or refused export never
leaves a half-written file where readers look. Same rows in → byte-identical file out: no
timestamps, no host names, fixed key order, fixed compression settings.

``Destination`` is deliberately one method, so object stores fit behind it (an S3 destination
uploads the finished local file in ``put``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ProgressCallback = Callable[[int], None]

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT_VERSION = 1
DEFAULT_PROGRESS_EVERY = 10_000
DEFAULT_BATCH_ROWS = 50_000
_JSONL_CHUNK_ROWS = 1_000

# One encoder for every row: compact, UTF-8 text kept as is, NaN refused (it is not JSON).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class DuplicateKeyError(ValueError):
    """Two rows share a value of the writer's ``unique_field``; nothing was published."""


class RowSchemaError(ValueError):
    """A row whose fields or values do not fit the schema; nothing was published."""


@runtime_checkable
class Destination(Protocol):
    def put(self, relpath: str, local_path: Path) -> None:
        """Publish the finished file ``local_path`` as ``relpath`` (POSIX, relative), replacing
        any previous version. The caller does not use ``local_path`` afterwards, so it may be
        moved rather than copied."""
        ...


def check_relpath(relpath: str) -> str:
    path = PurePosixPath(relpath)
    if (
        not relpath
        or "\\" in relpath
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in relpath.split("/"))
    ):
        raise ValueError(f"not a safe relative path: {relpath!r}")
    return relpath


class LocalDirectory:
    """Files under a local folder; each file appears atomically (rename into place)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalDirectory({str(self.root)!r})"

    def path(self, relpath: str) -> Path:
        return self.root.joinpath(*check_relpath(relpath).split("/"))

    def put(self, relpath: str, local_path: Path) -> None:
        target = self.path(relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(local_path, target)
        except OSError:
            # Another filesystem: copy beside the target first so the final rename is atomic.
            part = target.with_name(f".{target.name}.part")
            shutil.copyfile(local_path, part)
            os.replace(part, target)


def as_destination(destination: Destination | str | os.PathLike[str]) -> Destination:
    if isinstance(destination, str | os.PathLike):
        return LocalDirectory(destination)
    return destination


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the export root, POSIX separators
    format: str  # "jsonl", "parquet" or "json"
    rows: int
    bytes: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
        }


class _HashingFile(io.RawIOBase):
    """Binary file that hashes and counts the bytes as they are written."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._raw.write(view)
        self.sha256.update(view)
        self.size += len(view)
        return len(view)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        if not self._raw.closed:
            self._raw.flush()

    def close(self) -> None:
        super().close()  # flushes first
        self._raw.close()


class _UniqueKeys:
    """Values of one field seen so far, 8 bytes per row (ints as is, strings as a 64-bit hash),
    checked once at the end: memory grows by 8 bytes a row, not a Python object a row."""

    def __init__(self, field: str) -> None:
        self.field = field
        self._keys = array("q")
        self._hashed = False

    def add(self, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
            self._keys.append(value)
        else:
            self._hashed = True
            digest = hashlib.blake2b(repr(value).encode(), digest_size=8).digest()
            self._keys.append(int.from_bytes(digest, "big", signed=True))

    def check(self) -> None:
        keys = np.sort(np.frombuffer(self._keys, dtype=np.int64))
        repeated = np.unique(keys[1:][keys[1:] == keys[:-1]])
        if repeated.size:
            shown = "" if self._hashed else f": {repeated[:10].tolist()}"
            raise DuplicateKeyError(f"{repeated.size} repeated value(s) of {self.field!r}{shown}")


@contextlib.contextmanager
def _staged(
    destination: Destination, relpath: str, tmp_dir: str | os.PathLike[str] | None
) -> Iterator[tuple[_HashingFile, Path]]:
    check_relpath(relpath)
    if tmp_dir is None and isinstance(destination, LocalDirectory):
        # Same filesystem as the target, so publishing is a rename, not a second copy.
        destination.root.mkdir(parents=True, exist_ok=True)
        tmp_dir = destination.root
    handle, name = tempfile.mkstemp(prefix=".tubelet-export-", dir=tmp_dir)
    path = Path(name)
    try:
        with _HashingFile(os.fdopen(handle, "wb")) as out:
            yield out, path
        destination.put(relpath, path)
    finally:
        path.unlink(missing_ok=True)


def _field_names(fields: pa.Schema | Sequence[str] | None) -> tuple[str, ...] | None:
    if fields is None:
        return None
    return tuple(fields.names) if isinstance(fields, pa.Schema) else tuple(fields)


def _shaped(row: Mapping[str, Any], names: tuple[str, ...] | None) -> Mapping[str, Any]:
    if names is None or tuple(row) == names:
        return row
    if set(row) != set(names):
        missing = sorted(set(names) - set(row))
        extra = sorted(set(row) - set(names))
        raise RowSchemaError(f"row fields differ from the schema: missing {missing}, extra {extra}")
    return {name: row[name] for name in names}


class _Progress:
    def __init__(self, callback: ProgressCallback | None, every: int) -> None:
        if every <= 0:
            raise ValueError("progress_every must be positive")
        self._callback = callback
        self._every = every

    def rows_done(self, count: int) -> None:
        if self._callback is not None and count % self._every == 0:
            self._callback(count)

    def finish(self, count: int) -> None:
        if self._callback is not None and (count == 0 or count % self._every):
            self._callback(count)


def write_jsonl(
    rows: Iterable[Mapping[str, Any]],
    destination: Destination | str | os.PathLike[str],
    relpath: str,
    *,
    fields: pa.Schema | Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
    progress_every: int = DEFAULT_PROGRESS_EVERY,
    unique_field: str | None = None,
    tmp_dir: str | os.PathLike[str] | None = None,
) -> FileEntry:
    """One compact JSON object per line, UTF-8, ``\\n`` line ends, keys in ``fields`` order
    (rows with other keys are refused) or, without ``fields``, in each row's own order."""
    names = _field_names(fields)
    tracker = _Progress(progress, progress_every)
    unique = _UniqueKeys(unique_field) if unique_field else None
    count = 0
    with _staged(as_destination(destination), relpath, tmp_dir) as (out, _):
        chunk: list[str] = []
        for row in rows:
            row = _shaped(row, names)
            if unique is not None:
                unique.add(row[unique.field])
            chunk.append(_ENCODER.encode(row))
            count += 1
            if len(chunk) == _JSONL_CHUNK_ROWS:
                out.write(("\n".join(chunk) + "\n").encode())
                chunk.clear()
            tracker.rows_done(count)
        if chunk:
            out.write(("\n".join(chunk) + "\n").encode())
        if unique is not None:
            unique.check()
        tracker.finish(count)
    return FileEntry(relpath, "jsonl", count, out.size, out.sha256.hexdigest())


def write_parquet(
    rows: Iterable[Mapping[str, Any]],
    destination: Destination | str | os.PathLike[str],
    relpath: str,
    *,
    schema: pa.Schema,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    compression: str = "zstd",
    progress: ProgressCallback | None = None,
    progress_every: int = DEFAULT_PROGRESS_EVERY,
    unique_field: str | None = None,
    tmp_dir: str | os.PathLike[str] | None = None,
) -> FileEntry:
    """Parquet with exactly ``schema``; one row group per ``batch_rows`` rows. Values that do
    not fit the schema's types (e.g. an int32 overflow) raise, and nothing is published."""
    if batch_rows <= 0:
        raise ValueError("batch_rows must be positive")
    names = tuple(schema.names)
    tracker = _Progress(progress, progress_every)
    unique = _UniqueKeys(unique_field) if unique_field else None
    count = 0
    with _staged(as_destination(destination), relpath, tmp_dir) as (out, _):
        writer = pq.ParquetWriter(
            out,
            schema,
            compression=compression,
            use_dictionary=True,
            write_statistics=True,
        )
        try:
            batch: list[Mapping[str, Any]] = []
            for row in rows:
                batch.append(_shaped(row, names))
                if unique is not None:
                    unique.add(row[unique.field])
                count += 1
                if len(batch) == batch_rows:
                    writer.write_batch(_record_batch(batch, schema, count))
                    batch.clear()
                tracker.rows_done(count)
            if batch or count == 0:
                writer.write_batch(_record_batch(batch, schema, count))
        finally:
            writer.close()
        if unique is not None:
            unique.check()
        tracker.finish(count)
    return FileEntry(relpath, "parquet", count, out.size, out.sha256.hexdigest())


def _record_batch(
    rows: list[Mapping[str, Any]], schema: pa.Schema, rows_so_far: int
) -> pa.RecordBatch:
    try:
        return pa.RecordBatch.from_pylist(rows, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError) as exc:
        first = rows_so_far - len(rows) + 1
        raise RowSchemaError(
            f"rows {first}..{rows_so_far} have a value that does not fit the schema: {exc}"
        ) from exc


def _write_document(
    document: Mapping[str, Any],
    destination: Destination | str | os.PathLike[str],
    relpath: str,
    text: str,
    tmp_dir: str | os.PathLike[str] | None,
) -> FileEntry:
    with _staged(as_destination(destination), relpath, tmp_dir) as (out, _):
        out.write(text.encode())
    return FileEntry(relpath, "json", 1, out.size, out.sha256.hexdigest())


def write_json(
    document: Mapping[str, Any],
    destination: Destination | str | os.PathLike[str],
    relpath: str,
    *,
    tmp_dir: str | os.PathLike[str] | None = None,
) -> FileEntry:
    """One compact JSON document (e.g. a SA-V masklet file), keys in the document's order."""
    return _write_document(document, destination, relpath, _ENCODER.encode(document), tmp_dir)


def build_manifest(
    entries: Iterable[FileEntry],
    *,
    split_version: int | str | None,
    filters: Mapping[str, Any],
    code_version: str,
) -> dict[str, Any]:
    files = sorted(entries, key=lambda entry: entry.path)
    paths = [entry.path for entry in files]
    if len(set(paths)) != len(paths):
        raise ValueError(f"a file is listed twice in the manifest: {paths}")
    return {
        "format_version": MANIFEST_FORMAT_VERSION,
        "code_version": code_version,
        "split_version": split_version,
        "filters": dict(filters),
        "files": [entry.to_dict() for entry in files],
        "total_rows": sum(entry.rows for entry in files),
    }


def write_manifest(
    destination: Destination | str | os.PathLike[str],
    entries: Iterable[FileEntry],
    *,
    split_version: int | str | None,
    filters: Mapping[str, Any],
    code_version: str,
    tmp_dir: str | os.PathLike[str] | None = None,
) -> FileEntry:
    """``manifest.json``: every file with rows, bytes and sha256, plus what the export was
    asked for. No timestamps (the export job records when), so the same data gives the same
    manifest byte for byte; files are sorted by path and keys are sorted."""
    manifest = build_manifest(
        entries, split_version=split_version, filters=filters, code_version=code_version
    )
    text = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False)
    return _write_document(manifest, destination, MANIFEST_NAME, text + "\n", tmp_dir)
