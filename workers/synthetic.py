"""Seeded synthetic videos with exact ground-truth masks, for tests, the demo and benchmarks.

Each video shows five textured shapes over a textured, slowly panning background:

- ``ball``: a spotted disc wandering on a Lissajous path;
- ``spinner``: a striped rectangle that keeps turning while it drifts;
- ``walker``: an ellipse crossing the bottom of the frame, fully hidden for a moment behind
- ``pillar``: a tall slab in front of everything (the occluder);
- ``runner``: an ellipse that leaves the frame through the right edge and comes back.

Ground truth is the *visible* part of each shape in every source frame (occluded and
out-of-frame parts excluded; an absent shape has an empty mask). Colours, textures, phases
and speeds come from the seed; the choreography (an occlusion, an exit and a return) holds
for every seed and every duration, because motion is defined over the clip's normalised time.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from workers import rle
from workers.engine import FrameSource
from workers.rle import Rle


@dataclass(frozen=True)
class SyntheticObject:
    object_id: int
    name: str
    category: str  # person | animal | object, as PLM-STC balances splits by it


@dataclass
class SyntheticVideo:
    """A generated clip and its truth; frame indices here are *source* frame indices."""

    path: Path
    width: int
    height: int
    fps: float
    frames: int
    seed: int
    objects: list[SyntheticObject]
    # truth[source_frame][object_id]; a loaded truth file holds only the annotated frames.
    truth: dict[int, dict[int, Rle]] = field(repr=False)

    def mask(self, frame: int, object_id: int) -> np.ndarray:
        return rle.decode(self.truth[frame][object_id])

    def masks(self, frame: int) -> dict[int, np.ndarray]:
        return {oid: rle.decode(r) for oid, r in self.truth[frame].items()}

    def object(self, object_id: int) -> SyntheticObject:
        return next(o for o in self.objects if o.object_id == object_id)

    def annotation_frames(self, annotation_fps: float) -> list[int]:
        """Source frame index of each annotation frame (DESIGN.md section 3)."""
        return annotation_frame_indices(self.frames, self.fps, annotation_fps)

    def annotation_truth(self, annotation_fps: float) -> list[dict[int, np.ndarray]]:
        return [self.masks(f) for f in self.annotation_frames(annotation_fps)]

    def click_point(self, frame: int, object_id: int) -> tuple[int, int] | None:
        """A click a careful annotator would make: the visible pixel deepest inside the mask
        (farthest from its border and from the frame edge); ``None`` if absent."""
        return interior_point(self.mask(frame, object_id))

    def save_truth(
        self, path: str | os.PathLike[str] | None = None, *, annotation_fps: float = 6.0
    ) -> Path:
        """Write the truth at ``annotation_fps`` in SA-V's ``*_manual.json`` layout (masks as
        COCO RLE per annotation frame per object), plus the names and categories."""
        target = Path(path) if path is not None else truth_path_for(self.path)
        sources = self.annotation_frames(annotation_fps)
        ids = [o.object_id for o in self.objects]
        masklet = [[self.truth[f][oid] for oid in ids] for f in sources]
        areas = np.array([[rle.area(r) for r in row] for row in masklet], dtype=np.float64)
        visible = areas > 0
        first = [
            int(np.argmax(visible[:, j])) if visible[:, j].any() else -1 for j in range(len(ids))
        ]
        changes = [
            int(np.count_nonzero(np.diff(visible[:, j].astype(np.int8)))) for j in range(len(ids))
        ]
        mean_area = [
            float(areas[visible[:, j], j].mean()) if visible[:, j].any() else 0.0
            for j in range(len(ids))
        ]
        doc: dict[str, Any] = {
            "video_id": self.path.stem,
            "video_duration": self.frames / self.fps,
            "video_frame_count": float(self.frames),
            "video_height": float(self.height),
            "video_width": float(self.width),
            "video_resolution": float(self.height * self.width),
            "video_environment": "Synthetic",
            "video_split": "train",
            "masklet": masklet,
            "masklet_id": ids,
            "masklet_size_rel": [a / (self.width * self.height) for a in mean_area],
            "masklet_size_abs": mean_area,
            "masklet_size_bucket": [_size_bucket(a) for a in mean_area],
            "masklet_visibility_changes": changes,
            "masklet_first_appeared_frame": [float(f) for f in first],
            "masklet_frame_count": [len(sources)] * len(ids),
            "masklet_edited_frame_count": [0] * len(ids),
            "masklet_type": ["manual"] * len(ids),
            "masklet_stability_score": [None] * len(ids),
            "masklet_num": len(ids),
            # Not in SA-V: what a demo and the tests need to know about the shapes.
            "masklet_name": [o.name for o in self.objects],
            "masklet_category": [o.category for o in self.objects],
            "video_fps": self.fps,
            "annotation_fps": annotation_fps,
            "source_frame_index": sources,
            "seed": self.seed,
        }
        target.write_text(json.dumps(doc, separators=(",", ":")))
        return target

    @classmethod
    def load(cls, truth_file: str | os.PathLike[str]) -> SyntheticVideo:
        """Read back a :meth:`save_truth` file (the video is expected next to it)."""
        path = Path(truth_file)
        doc = json.loads(path.read_text())
        ids = [int(i) for i in doc["masklet_id"]]
        truth = {
            int(src): {oid: row[j] for j, oid in enumerate(ids)}
            for src, row in zip(doc["source_frame_index"], doc["masklet"], strict=True)
        }
        objects = [
            SyntheticObject(object_id=oid, name=name, category=cat)
            for oid, name, cat in zip(
                ids, doc["masklet_name"], doc["masklet_category"], strict=True
            )
        ]
        stem = path.name.removesuffix("_manual.json")
        return cls(
            path=path.with_name(f"{stem}.mp4"),
            width=int(doc["video_width"]),
            height=int(doc["video_height"]),
            fps=float(doc["video_fps"]),
            frames=int(doc["video_frame_count"]),
            seed=int(doc["seed"]),
            objects=objects,
            truth=truth,
        )


def truth_path_for(video_path: str | os.PathLike[str]) -> Path:
    path = Path(video_path)
    return path.with_name(f"{path.stem}_manual.json")


def annotation_frame_indices(
    source_frames: int, source_fps: float, annotation_fps: float
) -> list[int]:
    """Nearest source frame to t = k / annotation_fps for every annotation frame k that
    falls inside the clip (483 frames at 24 fps give 121 frames at 6 fps, as in SA-V)."""
    if source_frames <= 0:
        return []
    step = source_fps / annotation_fps
    count = math.floor((source_frames - 1) / step + 1e-9) + 1
    return [min(source_frames - 1, math.floor(k * step + 0.5)) for k in range(count)]


def interior_point(mask: np.ndarray) -> tuple[int, int] | None:
    if not mask.any():
        return None
    # The zero border makes the frame edge count as a border: a click on a shape half out
    # of frame lands inside what is visible, not on the edge.
    padded = np.pad(mask.view(np.uint8), 1)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, 5)
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return int(x) - 1, int(y) - 1


def generate(
    path: str | os.PathLike[str],
    *,
    width: int = 640,
    height: int = 360,
    fps: float = 30.0,
    frames: int = 300,
    seed: int = 0,
    crf: int = 18,
) -> SyntheticVideo:
    """Render the clip to an H.264 (libx264, yuv420p) MP4 at ``path`` and return its truth."""
    if width % 2 or height % 2 or width < 64 or height < 64:
        raise ValueError(
            f"width and height must be even and >= 64 for yuv420p, got {width}x{height}"
        )
    if frames < 1 or fps <= 0:
        raise ValueError("frames must be >= 1 and fps > 0")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    scene = _Scene(width, height, frames, seed)
    truth: dict[int, dict[int, Rle]] = {}

    with av.open(str(target), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        for index, (image, masks) in enumerate(scene.render_all()):
            truth[index] = {oid: rle.encode(m) for oid, m in masks.items()}
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)

    return SyntheticVideo(
        path=target,
        width=width,
        height=height,
        fps=float(fps),
        frames=frames,
        seed=seed,
        objects=list(scene.objects),
        truth=truth,
    )


def write_annotation_frames(
    video_path: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    *,
    annotation_fps: float = 6.0,
    quality: int = 90,
) -> FrameSource:
    """Decode ``video_path`` and write its annotation frames as ``000000.jpg, ...``.

    A stand-in for the media worker's frame extraction, for tests and benchmarks; it picks
    frames by decode order, which is exact for the constant-rate clips :func:`generate` makes.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    with av.open(str(video_path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 30)
        total = stream.frames or sum(1 for _ in _decode(str(video_path)))
    wanted: dict[int, list[int]] = {}
    for k, src in enumerate(annotation_frame_indices(total, fps, annotation_fps)):
        wanted.setdefault(src, []).append(k)
    for index, image in enumerate(_decode(str(video_path))):
        for k in wanted.get(index, []):
            cv2.imwrite(str(out / f"{k:06d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return FrameSource.from_directory(out)


def _decode(path: str) -> Iterator[np.ndarray]:
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="bgr24")


def _size_bucket(area: float) -> str:
    # COCO's small / medium / large thresholds, which SA-V also uses.
    return "small" if area < 32**2 else "medium" if area < 96**2 else "large"


@dataclass
class _Sprite:
    obj: SyntheticObject
    texture: np.ndarray  # float32 HxWx3 BGR, 0..255, in the shape's own frame
    alpha: np.ndarray  # float32 HxW, 0..1
    pose: Any  # u (0..1 clip time) -> (cx, cy, angle_deg)


class _Scene:
    def __init__(self, width: int, height: int, frames: int, seed: int) -> None:
        self.w, self.h, self.n = width, height, frames
        self.rng = np.random.default_rng(seed)
        s = min(width, height)
        self.margin = int(0.06 * width) + 2
        self.background = self._background(width + 2 * self.margin, height + 2 * self.margin)
        self.pan_phase = float(self.rng.uniform(0, 2 * math.pi))
        hues = self._distinct_hues(5)
        r = self.rng
        w, h = float(width), float(height)

        ball_phase = r.uniform(0, 2 * math.pi, size=2)
        ball_speed = r.uniform(0.8, 1.3, size=2)

        def ball(u: float) -> tuple[float, float, float]:
            return (
                w * (0.26 + 0.11 * math.sin(2 * math.pi * ball_speed[0] * u + ball_phase[0])),
                h * (0.47 + 0.08 * math.sin(2 * math.pi * ball_speed[1] * u + ball_phase[1])),
                0.0,
            )

        spin_start = r.uniform(0, 180)
        spin_turns = r.uniform(1.0, 1.6) * r.choice([-1.0, 1.0])
        spin_phase = r.uniform(0, 2 * math.pi)

        def spinner(u: float) -> tuple[float, float, float]:
            return (
                w * (0.73 + 0.05 * math.sin(2 * math.pi * u + spin_phase)),
                h * 0.46,
                spin_start + 360.0 * spin_turns * u,
            )

        walk_from, walk_to = r.uniform(0.12, 0.18), r.uniform(0.82, 0.88)

        def walker(u: float) -> tuple[float, float, float]:
            return (w * (walk_from + (walk_to - walk_from) * u), h * 0.83, 0.0)

        def pillar(u: float) -> tuple[float, float, float]:
            return (w * (0.5 + 0.01 * math.sin(2 * math.pi * u)), h * 0.86, 0.0)

        run_phase = r.uniform(-0.15, 0.15)

        def runner(u: float) -> tuple[float, float, float]:
            # Out through the right edge around u = 0.25, back in around u = 0.55.
            x = 0.72 + 0.5 * math.sin(2 * math.pi * (u + run_phase * 0.3) - 0.1)
            return (w * x, h * 0.15, 8.0 * math.sin(6 * math.pi * u))

        self.sprites: list[_Sprite] = [
            self._sprite(1, "ball", "object", "disc", (0.13 * s, 0.13 * s), hues[0], ball),
            self._sprite(2, "spinner", "object", "rect", (0.19 * s, 0.085 * s), hues[1], spinner),
            self._sprite(3, "walker", "person", "ellipse", (0.075 * s, 0.12 * s), hues[2], walker),
            self._sprite(5, "runner", "animal", "ellipse", (0.11 * s, 0.065 * s), hues[4], runner),
            # Drawn last: the pillar hides whatever passes behind it.
            self._sprite(4, "pillar", "object", "rect", (0.14 * s, 0.3 * s), hues[3], pillar),
        ]
        # A few fixed sensor-noise fields drawn in turn: fresh noise per frame is the slowest
        # part of rendering and buys nothing a tracker would notice.
        self.grain = [
            self.rng.standard_normal((height, width, 3), dtype=np.float32) * 2.0 for _ in range(4)
        ]
        self.objects = sorted((sp.obj for sp in self.sprites), key=lambda o: o.object_id)

    def render_all(self) -> Iterator[tuple[np.ndarray, dict[int, np.ndarray]]]:
        for i in range(self.n):
            yield self.render(i / max(1, self.n - 1))

    def render(self, u: float) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        m = self.margin
        dx = m * (1 + 0.8 * math.sin(2 * math.pi * 0.5 * u + self.pan_phase))
        dy = m * (1 + 0.5 * math.cos(2 * math.pi * 0.7 * u + self.pan_phase))
        shift = np.array([[1, 0, -dx], [0, 1, -dy]], dtype=np.float32)
        image = cv2.warpAffine(
            self.background, shift, (self.w, self.h), flags=cv2.INTER_LINEAR
        ).astype(np.float32)
        visible: dict[int, np.ndarray] = {}
        for sp in self.sprites:
            cx, cy, angle = sp.pose(u)
            th, tw = sp.alpha.shape
            matrix = cv2.getRotationMatrix2D((tw / 2, th / 2), angle, 1.0)
            matrix[0, 2] += cx - tw / 2
            matrix[1, 2] += cy - th / 2
            x0, y0, x1, y1 = self._footprint(matrix, tw, th)
            if x1 <= x0 or y1 <= y0:
                visible[sp.obj.object_id] = np.zeros((self.h, self.w), dtype=bool)
                continue
            local = matrix.copy()
            local[0, 2] -= x0
            local[1, 2] -= y0
            size = (x1 - x0, y1 - y0)
            alpha = cv2.warpAffine(sp.alpha, local, size, flags=cv2.INTER_LINEAR)
            colour = cv2.warpAffine(sp.texture, local, size, flags=cv2.INTER_LINEAR)
            roi = image[y0:y1, x0:x1]
            roi += alpha[..., None] * (colour - roi)
            local_shape = alpha >= 0.5
            for mask in visible.values():
                mask[y0:y1, x0:x1] &= ~local_shape
            shape = np.zeros((self.h, self.w), dtype=bool)
            shape[y0:y1, x0:x1] = local_shape
            visible[sp.obj.object_id] = shape
        image += self.grain[int(self.rng.integers(len(self.grain)))]
        frame = np.clip(image, 0, 255).astype(np.uint8)
        return frame, dict(sorted(visible.items()))

    def _footprint(self, matrix: np.ndarray, tw: int, th: int) -> tuple[int, int, int, int]:
        corners = np.array([[0, 0, 1], [tw, 0, 1], [0, th, 1], [tw, th, 1]], dtype=np.float64)
        pts = corners @ matrix.T
        x0 = max(0, math.floor(pts[:, 0].min()))
        y0 = max(0, math.floor(pts[:, 1].min()))
        x1 = min(self.w, math.ceil(pts[:, 0].max()) + 1)
        y1 = min(self.h, math.ceil(pts[:, 1].max()) + 1)
        return x0, y0, x1, y1

    def _distinct_hues(self, n: int) -> list[float]:
        start = self.rng.uniform(0, 180)
        order = self.rng.permutation(n)
        return [float((start + 180.0 * k / n) % 180) for k in order]

    def _noise(self, h: int, w: int, cells: int) -> np.ndarray:
        small = self.rng.random((max(2, h * cells // max(h, w)), max(2, w * cells // max(h, w))))
        return cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)

    def _background(self, w: int, h: int) -> np.ndarray:
        # Low-saturation earthy texture with blobs at several scales plus stripes, so dense
        # optical flow has structure everywhere (as on real footage).
        base_hue = self.rng.uniform(0, 180)
        lum = (
            0.45 * self._noise(h, w, 6) + 0.3 * self._noise(h, w, 24) + 0.25 * self._noise(h, w, 90)
        )
        angle = self.rng.uniform(0, math.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        period = self.rng.uniform(0.04, 0.07) * min(w, h)
        stripes = 0.5 + 0.5 * np.sin(
            2 * np.pi * (xx * math.cos(angle) + yy * math.sin(angle)) / period
        )
        value = np.clip(60 + 120 * lum + 40 * stripes, 0, 255)
        hue = (base_hue + 40 * (self._noise(h, w, 4) - 0.5)) % 180
        sat = np.clip(40 + 50 * self._noise(h, w, 8), 0, 255)
        hsv = np.dstack([hue, sat, value]).astype(np.uint8)
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)

    def _sprite(
        self,
        object_id: int,
        name: str,
        category: str,
        kind: str,
        half: tuple[float, float],
        hue: float,
        pose: Any,
    ) -> _Sprite:
        ax, ay = half
        side = math.ceil(2 * math.hypot(ax, ay)) + 4
        c = side / 2
        yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) + 0.5
        if kind == "rect":
            inside = (np.abs(xx - c) <= ax) & (np.abs(yy - c) <= ay)
        else:
            inside = ((xx - c) / ax) ** 2 + ((yy - c) / ay) ** 2 <= 1.0
        alpha = cv2.GaussianBlur(inside.astype(np.float32), (3, 3), 0.7)
        pattern = self.rng.choice(["spots", "stripes", "checks"])
        period = self.rng.uniform(0.18, 0.3) * min(ax, ay) * 2
        if pattern == "stripes":
            motif = 0.5 + 0.5 * np.sin(2 * np.pi * xx / period)
        elif pattern == "checks":
            motif = ((xx // period + yy // period) % 2).astype(np.float32)
        else:
            motif = (self._noise(side, side, 8) > 0.6).astype(np.float32)
        value = np.clip(150 + 70 * motif + 30 * (self._noise(side, side, 12) - 0.5), 0, 255)
        sat = np.clip(190 + 40 * (self._noise(side, side, 6) - 0.5), 0, 255)
        hues = (hue + 8 * (self._noise(side, side, 5) - 0.5)) % 180
        hsv = np.dstack([hues, sat, value]).astype(np.uint8)
        texture = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR).astype(np.float32)
        return _Sprite(SyntheticObject(object_id, name, category), texture, alpha, pose)
