"""Synthetic clips shared by the worker tests, generated once per test process.

Kept out of conftest.py on purpose: these tests must run with no Django and no conftest at
all (``pytest tests/workers -p no:django --noconftest``).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from workers import synthetic
from workers.engine import FrameSource

ANNOTATION_FPS = 6.0

_root = Path(tempfile.mkdtemp(prefix="tubelet-worker-tests-"))
atexit.register(shutil.rmtree, _root, ignore_errors=True)


@dataclass(frozen=True)
class Clip:
    video: synthetic.SyntheticVideo
    frames: FrameSource
    truth: list[dict[int, np.ndarray]]  # per annotation frame, per object id

    def first_visible(self, object_id: int) -> int:
        return next(k for k, masks in enumerate(self.truth) if masks[object_id].any())


@functools.cache
def clip(seed: int, width: int, height: int, fps: float, seconds: float) -> Clip:
    name = f"clip{seed}_{width}x{height}_{fps:g}_{seconds:g}"
    video = synthetic.generate(
        _root / f"{name}.mp4",
        width=width,
        height=height,
        fps=fps,
        frames=round(fps * seconds),
        seed=seed,
    )
    frames = synthetic.write_annotation_frames(
        video.path, _root / name, annotation_fps=ANNOTATION_FPS
    )
    return Clip(video, frames, video.annotation_truth(ANNOTATION_FPS))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def depth(mask: np.ndarray) -> float:
    """Distance from the mask's deepest pixel to its border (0 for an empty mask)."""
    if not mask.any():
        return 0.0
    return float(cv2.distanceTransform(np.pad(mask.view(np.uint8), 1), cv2.DIST_L2, 5).max())
