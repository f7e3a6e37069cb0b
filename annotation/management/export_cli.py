"""What export_stc and export_fgqa share: the progress bar, error mapping and the summary."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import CommandError
from tqdm import tqdm

from annotation.exports.formats import ExportDataError
from annotation.exports.writers import DuplicateKeyError, RowSchemaError
from annotation.services.exports import ExportError, ExportResult


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    bar = tqdm(desc=label, unit=" records", disable=None, file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


@contextmanager
def export_errors() -> Iterator[None]:
    """Turn a refused export into a CLI error naming the problem (nothing was published)."""
    try:
        yield
    except (ExportError, LookupError) as exc:
        raise CommandError(str(exc)) from None
    except (ExportDataError, DuplicateKeyError, RowSchemaError) as exc:
        raise CommandError(f"export refused, nothing was published: {exc}") from None
    except OSError as exc:
        raise CommandError(f"cannot write the export: {exc}") from None


def summary(result: ExportResult, out: str) -> str:
    files = result.manifest["files"]
    width = max([len("file"), *(len(f["path"]) for f in files)])
    lines = [f"{'file':<{width}}  {'rows':>10}  {'bytes':>12}  sha256"]
    lines += [
        f"{f['path']:<{width}}  {f['rows']:>10}  {f['bytes']:>12}  {f['sha256'][:16]}"
        for f in files
    ]
    lines.append(f"{'total':<{width}}  {result.total_rows:>10}")
    excluded: dict[str, Any] = result.report.get("excluded", {})
    if any(excluded.values()):
        left_out = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in excluded.items() if v)
        lines.append(f"not exported (not verified): {left_out}")
    version = result.manifest["split_version"]
    lines.append(
        f"split version {version if version is not None else '(none recorded)'}; "
        f"manifest: {out.rstrip('/')}/manifest.json"
    )
    return "\n".join(lines)
