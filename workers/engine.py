"""The tracking-engine protocol: annotation frames and prompts in, boolean masks out.

Frame space: every frame index here is an *annotation-frame* index (DESIGN.md section 3),
and every point, box and mask is in pixels of the annotation frame JPEG (which has the
source video's width and height). Masks are ``bool`` arrays of shape ``(height, width)``;
turning them into RLE (:mod:`workers.rle`) is the caller's business.

Engines import no Django; settings reach them as keyword arguments of :func:`get_engine`.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

Direction = Literal["forward", "backward", "both"]
EngineName = Literal["cpu", "sam2"]

_FRAME_NAME = re.compile(r"^(\d{6})\.jpg$")


class EngineUnavailable(RuntimeError):
    """The engine cannot run here; the message names the setting (or package) to fix."""


@dataclass(frozen=True)
class FrameSource:
    """A directory of annotation frames ``000000.jpg, 000001.jpg, ...`` (frame k is file k)."""

    directory: Path
    count: int
    height: int
    width: int

    @classmethod
    def from_directory(cls, directory: str | os.PathLike[str]) -> FrameSource:
        path = Path(directory)
        if not path.is_dir():
            raise FileNotFoundError(f"frame directory {path} does not exist")
        indices = sorted(int(m.group(1)) for n in os.listdir(path) if (m := _FRAME_NAME.match(n)))
        if not indices:
            raise FileNotFoundError(f"no annotation frames (000000.jpg, ...) in {path}")
        if indices != list(range(len(indices))):
            raise ValueError(f"annotation frames in {path} are not numbered 0..{len(indices) - 1}")
        shape = _jpeg_size(path / "000000.jpg")
        if shape is None:
            raise ValueError(f"{path / '000000.jpg'} is not a readable JPEG")
        return cls(directory=path, count=len(indices), height=shape[0], width=shape[1])

    def path(self, frame: int) -> Path:
        if not 0 <= frame < self.count:
            raise IndexError(f"frame {frame} is outside 0..{self.count - 1}")
        return self.directory / f"{frame:06d}.jpg"

    def read(self, frame: int) -> np.ndarray:
        """The frame as an ``(height, width, 3)`` BGR ``uint8`` array."""
        import cv2

        image = cv2.imread(str(self.path(frame)), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f"cannot decode {self.path(frame)}")
        if image.shape[:2] != (self.height, self.width):
            raise ValueError(
                f"{self.path(frame)} is {image.shape[1]}x{image.shape[0]}, "
                f"expected {self.width}x{self.height}"
            )
        return image


@dataclass(frozen=True)
class Prompt:
    """All the clicks (and the box) given for one object on one annotation frame.

    A prompt *replaces* any earlier prompt for the same ``(frame, object_id)``: to add a click,
    send the frame's previous clicks plus the new one. That makes re-applying the stored
    prompts of a masklet, in order, rebuild exactly the same session state.
    ``points`` are ``[x, y]`` pixels of the annotation frame; ``labels`` are 1 (positive) or 0
    (negative); ``box`` is ``[x1, y1, x2, y2]`` in the same pixels.
    """

    frame: int
    object_id: int
    points: Sequence[Sequence[float]] = field(default_factory=list)
    labels: Sequence[int] = field(default_factory=list)
    box: Sequence[float] | None = None

    def __post_init__(self) -> None:
        if len(self.points) != len(self.labels):
            raise ValueError(
                f"{len(self.points)} points but {len(self.labels)} labels; give one label a point"
            )
        if not self.points and self.box is None:
            raise ValueError("a prompt needs at least one point or a box")
        if any(label not in (0, 1) for label in self.labels):
            raise ValueError(f"labels must be 1 (positive) or 0 (negative), got {self.labels}")
        if any(len(p) != 2 for p in self.points):
            raise ValueError("each point must be [x, y]")
        if self.box is not None and (
            len(self.box) != 4 or self.box[2] <= self.box[0] or self.box[3] <= self.box[1]
        ):
            raise ValueError(f"box must be [x1, y1, x2, y2] with x2 > x1 and y2 > y1: {self.box}")
        if self.frame < 0:
            raise ValueError(f"frame must be >= 0, got {self.frame}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "frame": self.frame,
            "object_id": self.object_id,
            "points": [[float(x), float(y)] for x, y in self.points],
            "labels": [int(v) for v in self.labels],
            "box": None if self.box is None else [float(v) for v in self.box],
        }


@runtime_checkable
class EngineSession(Protocol):
    """Tracking state of one video. Not thread-safe: callers serialise access
    (:class:`workers.sessions.SessionRegistry` holds a lock per session)."""

    source: FrameSource

    def add_prompt(self, prompt: Prompt) -> np.ndarray:
        """Apply ``prompt`` and return that frame's mask of that object at once."""
        ...

    def propagate(
        self,
        *,
        start_frame: int,
        direction: Direction = "both",
        object_ids: Sequence[int] | None = None,
    ) -> Iterator[tuple[int, dict[int, np.ndarray]]]:
        """Yield ``(frame, {object_id: mask})`` as each frame finishes: forward from
        ``start_frame`` to the last frame, backward from it to frame 0, or forward then
        backward for ``"both"`` (``start_frame`` itself is yielded once). All objects with
        prompts when ``object_ids`` is None. Raises ``ValueError`` when there is no object,
        ``KeyError`` for an id without prompts (both before the first frame)."""
        ...

    def remove_object(self, object_id: int) -> None: ...

    def reset(self) -> None:
        """Forget every prompt and object; the frames stay loaded."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class TrackingEngine(Protocol):
    name: str
    model_version: str

    def open_session(self, source: FrameSource) -> EngineSession: ...


def frame_order(start_frame: int, count: int, direction: Direction) -> list[tuple[int, bool]]:
    """``(frame, reverse)`` in the order a propagation visits them; each frame once."""
    if not 0 <= start_frame < count:
        raise IndexError(f"start_frame {start_frame} is outside 0..{count - 1}")
    if direction not in ("forward", "backward", "both"):
        raise ValueError(f"direction must be forward, backward or both, got {direction!r}")
    order: list[tuple[int, bool]] = []
    if direction in ("forward", "both"):
        order += [(f, False) for f in range(start_frame, count)]
    if direction == "backward":
        order += [(f, True) for f in range(start_frame, -1, -1)]
    elif direction == "both":
        order += [(f, True) for f in range(start_frame - 1, -1, -1)]
    return order


_engines: dict[tuple[str, tuple[tuple[str, Any], ...]], TrackingEngine] = {}
_engines_lock = threading.Lock()


def get_engine(name: EngineName, **options: Any) -> TrackingEngine:
    """The engine ``name`` built with ``options``, made once per process and reused (a SAM 2
    model is loaded once per worker process, not once per job).

    Raises :class:`EngineUnavailable` when the engine cannot run with these options.
    """
    factories = _factories()
    if name not in factories:
        raise EngineUnavailable(
            f"unknown tracker {name!r}: set TRACKER to one of {sorted(factories)}"
        )
    key = (name, tuple(sorted((k, _hashable(v)) for k, v in options.items())))
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = factories[name](**options)
        return engine


def clear_engine_cache() -> None:
    """Drop the cached engines (tests; a worker never needs this)."""
    with _engines_lock:
        _engines.clear()


def _factories() -> dict[str, Callable[..., TrackingEngine]]:
    # Imported lazily so that choosing the CPU tracker never imports torch.
    def cpu(**options: Any) -> TrackingEngine:
        from workers.cpu_engine import CpuTrackingEngine

        return CpuTrackingEngine(**options)

    def sam2(**options: Any) -> TrackingEngine:
        from workers.sam2_engine import Sam2Engine

        return Sam2Engine(**options)

    return {"cpu": cpu, "sam2": sam2}


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _jpeg_size(path: Path) -> tuple[int, int] | None:
    """(height, width) from the JPEG's SOF header, without decoding pixels."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return height, width
        i += 2 + length
    return None
