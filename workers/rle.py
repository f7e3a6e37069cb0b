"""COCO run-length encoding of binary masks, in exactly the form SA-V files store them.

An RLE here is ``{"size": [height, width], "counts": "<compressed string>"}``: column-major
(Fortran order) runs starting with a run of zeros, compressed with COCO's LEB128-like text
code. ``counts`` is a ``str`` (JSON-ready), never ``bytes``. An absent subject is an
all-zero RLE of the frame size, as in SA-V.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import numpy as np
from pycocotools import mask as _coco


class Rle(TypedDict):
    size: list[int]
    counts: str


class RleError(ValueError):
    """A mask that is not a well-formed COCO RLE of the expected frame size."""


def encode(mask: np.ndarray) -> Rle:
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D (height, width), got shape {mask.shape}")
    # Viewing bool as uint8 is free; the one copy left is the transpose to column order
    # that the COCO encoder needs.
    pixels = mask.view(np.uint8) if mask.dtype == np.bool_ else (mask != 0).view(np.uint8)
    encoded = _coco.encode(np.asfortranarray(pixels))
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": _text(encoded["counts"])}


def decode(rle: Mapping[str, Any]) -> np.ndarray:
    """Return a C-contiguous ``bool`` array of shape ``(height, width)``."""
    pixels = _coco.decode(_coco_form(rle))
    return np.ascontiguousarray(pixels).view(np.bool_)


def empty(height: int, width: int) -> Rle:
    # One run of zeros covering the frame; computed rather than encoded from an array so
    # that empty frames of huge videos cost nothing.
    return {"size": [int(height), int(width)], "counts": _counts_to_string([height * width])}


def area(rle: Mapping[str, Any]) -> int:
    return int(_coco.area(_coco_form(rle)))


def bbox_xyxy(rle: Mapping[str, Any]) -> list[int] | None:
    """Pixel box ``[x1, y1, x2, y2]`` with x1/y1 inclusive and x2/y2 exclusive.

    A one-pixel mask at (x=3, y=5) gives ``[3, 5, 4, 6]``, so ``x2 - x1`` is the width in
    pixels. ``None`` for an empty mask (the PLM-VideoBench metadata writes ``null`` there).
    """
    form = _coco_form(rle)
    if _coco.area(form) == 0:
        return None
    x, y, w, h = (round(v) for v in _coco.toBbox(form))
    return [x, y, x + w, y + h]


def iou(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """Intersection over union; two empty masks agree perfectly (1.0), as an absent subject
    that is predicted absent is a correct prediction."""
    fa, fb = _coco_form(a), _coco_form(b)
    if list(fa["size"]) != list(fb["size"]):
        raise RleError(f"cannot compare masks of sizes {fa['size']} and {fb['size']}")
    area_a, area_b = int(_coco.area(fa)), int(_coco.area(fb))
    if area_a == 0 and area_b == 0:
        return 1.0
    if area_a == 0 or area_b == 0:
        return 0.0
    return float(_coco.iou([fa], [fb], [0])[0][0])


def validate(rle: object, height: int, width: int) -> list[int]:
    """Raise :class:`RleError` unless ``rle`` is a compressed COCO RLE of a ``height`` x
    ``width`` mask whose runs cover exactly ``height * width`` pixels; return its run lengths
    (column-major, zeros first), so a caller that needs them does not parse twice.

    This parses ``counts`` itself before pycocotools ever sees it, because the C decoder
    trusts the run lengths and would write past its buffer on a hostile string.
    """
    if not isinstance(rle, Mapping):
        raise RleError(f"RLE must be an object with 'size' and 'counts', got {type(rle).__name__}")
    missing = {"size", "counts"} - set(rle)
    if missing:
        raise RleError(f"RLE is missing {', '.join(sorted(missing))}")
    size = rle["size"]
    if (
        not isinstance(size, list | tuple)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in size)
    ):
        raise RleError(f"RLE size must be [height, width] as two integers, got {size!r}")
    if [size[0], size[1]] != [height, width]:
        raise RleError(f"RLE size {list(size)} does not match the frame size [{height}, {width}]")
    counts = rle["counts"]
    if not isinstance(counts, str):
        raise RleError(
            f"RLE counts must be the compressed COCO string, got {type(counts).__name__}"
        )
    runs = _string_to_counts(counts)
    total = sum(runs)
    if total != height * width:
        raise RleError(
            f"RLE counts cover {total} pixels but a {height}x{width} mask has {height * width}"
        )
    return runs


def _text(counts: bytes | str) -> str:
    return counts.decode("ascii") if isinstance(counts, bytes) else counts


def _coco_form(rle: Mapping[str, Any]) -> dict[str, Any]:
    counts = rle["counts"]
    return {
        "size": [int(rle["size"][0]), int(rle["size"][1])],
        "counts": counts.encode("ascii") if isinstance(counts, str) else counts,
    }


def _counts_to_string(runs: list[int]) -> str:
    # COCO's rleToString: runs after the second are delta-coded against the run two back,
    # then written 5 bits per character with a continuation bit, offset by 48 ('0').
    out: list[str] = []
    for i, run in enumerate(runs):
        x = run - runs[i - 2] if i > 2 else run
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def _string_to_counts(text: str) -> list[int]:
    # Mirror of COCO's rleFrString with bounds checks it lacks.
    runs: list[int] = []
    p, n = 0, len(text)
    while p < n:
        x, k, more = 0, 0, True
        while more:
            if p >= n:
                raise RleError("RLE counts string ends in the middle of a run length")
            c = ord(text[p]) - 48
            if not 0 <= c < 64:
                raise RleError(f"RLE counts has an invalid character {text[p]!r} at {p}")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(runs) > 2:
            x += runs[-2]
        if x < 0:
            raise RleError(f"RLE counts has a negative run length at run {len(runs)}")
        runs.append(x)
    return runs
