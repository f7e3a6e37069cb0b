"""The CPU tracker: classical segmentation and optical-flow propagation, no model weights.

Clicks to mask: GrabCut is run around the positive clicks at several scales; the scale whose
segment is *stable* (nearly the same segment at the neighbouring scale) and fills a sensible
part of its search disc wins. That answers "the object under the click" without knowing its
size, and keeps a single click from taking the whole frame.

Propagation, frame to frame: dense DIS optical flow warps the previous mask; a colour model
learned on the object's anchor frames (frames with prompts) re-labels the warped region so that
occluders and background the flow dragged along fall away; GrabCut snaps the result to edges.
A mask that shrinks to nothing (subject occluded or out of frame) becomes empty, and while
empty the tracker searches the frame for a region matching the colour model, near where the
subject was heading, to re-acquire it. Frames with prompts are anchors: tracking restarts
from the anchor mask whenever it reaches one.

Everything runs on a downscaled copy of the frames (``work_size`` on the long side); masks
come back at the annotation frame's full size.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from workers import rle
from workers.engine import Direction, FrameSource, Prompt, frame_order
from workers.rle import Rle

ALGORITHM_VERSION = "cpu-flow-1"

Point = tuple[float, float]  # (x, y) in working pixels

_BINS = 16  # per colour channel of the appearance histograms
_REFINE_ITERATIONS = 1
_LOST_FRACTION = 0.06  # a mask below this share of the subject's size counts as gone


class CpuTrackingEngine:
    name = "cpu"

    def __init__(self, *, work_size: int = 640, frame_cache: int = 16) -> None:
        if work_size < 64:
            raise ValueError("work_size must be at least 64 pixels")
        self.work_size = int(work_size)
        self.frame_cache = int(frame_cache)
        self.model_version = f"{ALGORITHM_VERSION}@{self.work_size}"

    def open_session(self, source: FrameSource) -> CpuSession:
        return CpuSession(source, work_size=self.work_size, frame_cache=self.frame_cache)


@dataclass
class _Frame:
    bgr: np.ndarray  # work resolution
    gray: np.ndarray
    bins: np.ndarray  # colour cell per pixel, see colour_bins


@dataclass
class Appearance:
    """What the object looks like, learned on its anchor frames."""

    fg: np.ndarray  # colour histogram of the object
    bg: np.ndarray  # colour histogram of the rest of those frames
    area: float  # typical size in working pixels


@dataclass
class _Anchor:
    prompt: Prompt
    mask: np.ndarray  # work resolution
    base: np.ndarray | None  # the tracked mask the prompt corrected, if any


@dataclass
class _Object:
    object_id: int
    anchors: dict[int, _Anchor] = field(default_factory=dict)
    appearance: Appearance | None = None
    # Last propagated mask per frame (work resolution, RLE to stay small on long videos),
    # with the anchor generation it was tracked from: a corrective prompt corrects what the
    # annotator sees, however old, but a pass only starts from a mask of the current anchors.
    tracked: dict[int, tuple[int, Rle]] = field(default_factory=dict)
    generation: int = 0


@dataclass
class _Track:
    """Running state of one object during one pass; ``velocity`` is in pixels per step of
    the pass (so it points backward in time on a backward pass)."""

    mask: np.ndarray | None
    area: float
    centre: tuple[float, float] | None
    velocity: tuple[float, float] = (0.0, 0.0)
    lost_for: int = 0


class CpuSession:
    def __init__(self, source: FrameSource, *, work_size: int = 640, frame_cache: int = 16) -> None:
        self.source = source
        self.scale = min(1.0, work_size / max(source.width, source.height))
        self.work_w = max(1, round(source.width * self.scale))
        self.work_h = max(1, round(source.height * self.scale))
        self._frames: OrderedDict[int, _Frame] = OrderedDict()
        self._frame_cache = max(4, frame_cache)
        self._flows: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._objects: dict[int, _Object] = {}
        self._dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self._closed = False

    # -- protocol ---------------------------------------------------------------------------

    def add_prompt(self, prompt: Prompt) -> np.ndarray:
        self._check_open()
        if prompt.frame >= self.source.count:
            raise IndexError(f"frame {prompt.frame} is outside 0..{self.source.count - 1}")
        obj = self._objects.setdefault(prompt.object_id, _Object(prompt.object_id))
        previous = obj.anchors.pop(prompt.frame, None)
        base = previous.base if previous is not None else self._tracked(obj, prompt.frame)
        if previous is not None:
            # The replaced prompt must not colour the model used to read its replacement.
            self._learn_appearance(obj)
        frame = self._frame(prompt.frame)
        pos, neg = self._points(prompt)
        box = None if prompt.box is None else [v * self.scale for v in prompt.box]
        mask = segment_prompt(
            frame.bgr, frame.bins, pos, neg, box=box, base=base, appearance=obj.appearance
        )
        obj.anchors[prompt.frame] = _Anchor(prompt, mask, base)
        obj.tracked.pop(prompt.frame, None)
        obj.generation += 1
        self._learn_appearance(obj)
        return self._full(mask)

    def propagate(
        self,
        *,
        start_frame: int,
        direction: Direction = "both",
        object_ids: Sequence[int] | None = None,
    ) -> Iterator[tuple[int, dict[int, np.ndarray]]]:
        self._check_open()
        order = frame_order(start_frame, self.source.count, direction)
        ids = list(self._objects) if object_ids is None else list(object_ids)
        if not ids:
            raise ValueError("nothing to propagate: no object has a prompt in this session")
        unknown = [i for i in ids if i not in self._objects]
        if unknown:
            raise KeyError(f"no prompts for object ids {unknown}")
        return self._propagate(order, [self._objects[i] for i in ids])

    def _propagate(
        self, order: list[tuple[int, bool]], objects: list[_Object]
    ) -> Iterator[tuple[int, dict[int, np.ndarray]]]:
        tracks: dict[int, _Track | None] = {}
        previous: int | None = None
        for frame_index, reverse in order:
            step = -1 if reverse else 1
            contiguous = previous is not None and frame_index == previous + step
            for obj in objects:
                if not contiguous:
                    tracks[obj.object_id] = self._seed(obj, frame_index, step)
            # Objects still in view go first, so that one searching for its way back cannot
            # take pixels another object holds (two children in similar clothes).
            order_here = sorted(objects, key=lambda o: _is_lost(tracks.get(o.object_id)))
            claimed = np.zeros((self.work_h, self.work_w), dtype=bool)
            masks: dict[int, np.ndarray] = {}
            for obj in order_here:
                mask, track = self._advance(
                    obj, tracks.get(obj.object_id), frame_index, step, claimed=claimed
                )
                tracks[obj.object_id] = track
                claimed |= mask
                masks[obj.object_id] = mask
                obj.tracked[frame_index] = (obj.generation, rle.encode(mask))
            previous = frame_index
            yield frame_index, {obj.object_id: self._full(masks[obj.object_id]) for obj in objects}

    def remove_object(self, object_id: int) -> None:
        self._objects.pop(object_id, None)

    def reset(self) -> None:
        self._objects.clear()

    def close(self) -> None:
        self._closed = True
        self._objects.clear()
        self._frames.clear()
        self._flows.clear()

    # -- tracking ---------------------------------------------------------------------------

    def _seed(self, obj: _Object, frame_index: int, step: int) -> _Track | None:
        """State to enter ``frame_index`` with when a pass starts there."""
        before = frame_index - step
        if 0 <= before < self.source.count:
            if before in obj.anchors:
                return self._track_from(obj.anchors[before].mask)
            tracked = obj.tracked.get(before)
            if tracked is not None and tracked[0] == obj.generation:
                return self._track_from(rle.decode(tracked[1]))
        # Warm up silently from the nearest anchor behind the start, so that a pass starting
        # between anchors continues the subject instead of searching for it.
        behind = [a for a in obj.anchors if (a < frame_index if step > 0 else a > frame_index)]
        if not behind:
            return None
        anchor = max(behind) if step > 0 else min(behind)
        track: _Track | None = self._track_from(obj.anchors[anchor].mask)
        for f in range(anchor + step, frame_index, step):
            _, track = self._advance(obj, track, f, step)
        return track

    def _advance(
        self,
        obj: _Object,
        track: _Track | None,
        frame_index: int,
        step: int,
        claimed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, _Track]:
        anchor = obj.anchors.get(frame_index)
        if anchor is not None:
            return anchor.mask, self._track_from(anchor.mask, track)
        empty = np.zeros((self.work_h, self.work_w), dtype=bool)
        appearance = obj.appearance
        if appearance is None:
            return empty, _Track(None, 0.0, None)
        if track is None:
            track = _Track(None, appearance.area, None, lost_for=1)
        frame = self._frame(frame_index)
        prev_index = frame_index - step
        if track.mask is not None and 0 <= prev_index < self.source.count:
            mask = self._follow(appearance, track, prev_index, frame_index)
            if mask is not None:
                return mask, self._track_from(mask, track)
            return empty, _Track(None, track.area, track.centre, track.velocity, lost_for=1)
        found = self._reacquire(appearance, track, frame, claimed)
        if found is not None:
            return found, self._track_from(found, track)
        track.lost_for += 1
        return empty, track

    def _track_from(self, mask: np.ndarray, previous: _Track | None = None) -> _Track:
        area = float(np.count_nonzero(mask))
        if area == 0:
            return _Track(None, previous.area if previous else 0.0, None, lost_for=1)
        ys, xs = np.nonzero(mask)
        centre = (float(xs.mean()), float(ys.mean()))
        if previous is None or previous.centre is None:
            return _Track(mask, area, centre)
        gap = 1 if previous.mask is not None else max(1, previous.lost_for)
        velocity = ((centre[0] - previous.centre[0]) / gap, (centre[1] - previous.centre[1]) / gap)
        # The subject's size follows the mask while it changes smoothly, but not while it is
        # being covered or cut by the frame edge (the mask then shrinks quickly).
        size = area if area > 0.8 * previous.area else previous.area
        return _Track(mask, size, centre, velocity)

    def _follow(
        self, appearance: Appearance, track: _Track, prev_index: int, frame_index: int
    ) -> np.ndarray | None:
        assert track.mask is not None
        frame = self._frame(frame_index)
        predicted = self._predict(track, prev_index, frame_index)
        size = max(track.area, 1.0)
        if predicted is None or np.count_nonzero(predicted) < _LOST_FRACTION * size:
            return None
        mask = refine(frame.bgr, frame.bins, predicted, appearance)
        if mask is None or np.count_nonzero(mask) < _LOST_FRACTION * size:
            return None
        return mask

    def _predict(self, track: _Track, prev_index: int, frame_index: int) -> np.ndarray | None:
        """Where the previous mask lands in this frame: carried by dense flow, or moved as a
        whole where flow lost a small, fast subject (a template match disagrees with it)."""
        assert track.mask is not None
        flow = self._flow(frame_index, prev_index)
        grid_x, grid_y = _grid(self.work_h, self.work_w)
        warped = cv2.remap(
            track.mask.view(np.uint8).astype(np.float32),
            grid_x + flow[..., 0],
            grid_y + flow[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        # Flow on flat, textureless areas can throw specks of the mask far away; they are
        # dropped before they can grow into a second, wrong object.
        predicted = _drop_islands(warped >= 0.5)
        matched = match_translation(
            self._frame(prev_index).bgr, track.mask, self._frame(frame_index).bgr, track.velocity
        )
        if matched is None:
            return predicted
        (dx, dy), score = matched
        ys, xs = np.nonzero(predicted)
        extent = math.sqrt(max(track.area, 1.0))
        if len(xs) == 0:
            flow_dx = flow_dy = math.inf
        else:
            # Flow is sampled in the new frame and points back, so the motion is minus it.
            flow_dx = -float(np.median(flow[ys, xs, 0]))
            flow_dy = -float(np.median(flow[ys, xs, 1]))
        disagree = math.hypot(dx - flow_dx, dy - flow_dy) > max(4.0, 0.25 * extent)
        if score >= 0.6 and disagree:
            return _shift(track.mask, dx, dy)
        return predicted

    def _reacquire(
        self, appearance: Appearance, track: _Track, frame: _Frame, claimed: np.ndarray | None
    ) -> np.ndarray | None:
        """Look for the subject coming back (from behind something, or into the frame) near
        where it was last seen or where it was heading. Never anywhere else: on real footage
        the object's colours are found all over the frame."""
        if track.centre is None:
            return None
        prob = back_project(frame.bins, appearance.fg, appearance.bg)
        prob = cv2.GaussianBlur(prob, (0, 0), 2.0)
        if claimed is not None:
            prob[claimed] = 0
        candidates = (prob >= 150).view(np.uint8)
        n, labels, stats, centroids = cv2.connectedComponentsWithStats(candidates, connectivity=8)
        size = max(track.area, appearance.area, 1.0)
        extent = math.sqrt(size)
        lx, ly = track.centre
        px = lx + track.velocity[0] * track.lost_for
        py = ly + track.velocity[1] * track.lost_for
        reach = extent * (1.5 + 0.5 * min(track.lost_for, 6))
        best: tuple[float, int] | None = None
        for i in range(1, n):
            area = float(stats[i, cv2.CC_STAT_AREA])
            if area < 0.05 * size or area > 3.0 * size:
                continue
            cx, cy = centroids[i]
            distance = min(math.hypot(cx - lx, cy - ly), math.hypot(cx - px, cy - py))
            if distance > reach:
                continue
            mean_prob = float(prob[labels == i].mean()) / 255.0
            score = mean_prob * min(1.0, area / size) - 0.5 * distance / reach
            if best is None or score > best[0]:
                best = (score, i)
        if best is None:
            return None
        mask = refine(frame.bgr, frame.bins, labels == best[1], appearance)
        if mask is not None and claimed is not None:
            mask &= ~claimed
        if mask is None or np.count_nonzero(mask) < 0.05 * size:
            return None
        return mask

    # -- appearance -------------------------------------------------------------------------

    def _learn_appearance(self, obj: _Object) -> None:
        masks = [(i, a.mask, float(np.count_nonzero(a.mask))) for i, a in obj.anchors.items()]
        masks = [m for m in masks if m[2] > 0]
        if not masks:
            obj.appearance = None
            return
        largest = max(area for _, _, area in masks)
        fg = np.zeros((_BINS,) * 3, np.float32)
        bg = np.zeros((_BINS,) * 3, np.float32)
        total = size = 0.0
        for index, mask, area in masks:
            # An anchor on a sliver of the subject (half hidden, entering the frame) says
            # little about its colours and less about its size: weigh anchors by area.
            weight = area / largest
            bins = self._frame(index).bins
            # Border pixels blend object and background colours (and carry the mask's own
            # errors); learning from them teaches each model the other's colours.
            ys, xs = np.nonzero(mask)
            extent = max(xs.max() - xs.min(), ys.max() - ys.min()) + 1
            core = cv2.erode(mask.view(np.uint8), _disk(max(2, int(0.04 * extent)))).astype(bool)
            rest = ~cv2.dilate(mask.view(np.uint8), _disk(2)).astype(bool)
            fg += weight * _normalised(colour_hist(bins, core if core.any() else mask))
            bg += weight * _normalised(colour_hist(bins, rest))
            total += weight
            size += weight * area
        obj.appearance = Appearance(_normalised(fg), _normalised(bg), size / total)

    # -- frames and flow --------------------------------------------------------------------

    def _frame(self, index: int) -> _Frame:
        frame = self._frames.get(index)
        if frame is not None:
            self._frames.move_to_end(index)
            return frame
        bgr = _read_scaled(
            str(self.source.path(index)), self.work_w, self.work_h, self.source.width
        )
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        frame = _Frame(bgr=bgr, gray=gray, bins=colour_bins(bgr))
        self._frames[index] = frame
        while len(self._frames) > self._frame_cache:
            self._frames.popitem(last=False)
        return frame

    def _flow(self, to_index: int, from_index: int) -> np.ndarray:
        """Per pixel of ``to_index``, the offset to where it came from in ``from_index``
        (computed once per frame pair, shared by all objects of a pass)."""
        key = (to_index, from_index)
        flow = self._flows.get(key)
        if flow is None:
            flow = self._dis.calc(  # type: ignore[call-overload]  # (stubs lack flow=None)
                self._frame(to_index).gray, self._frame(from_index).gray, None
            )
            self._flows[key] = flow
            while len(self._flows) > 4:
                self._flows.popitem(last=False)
        return flow

    def _tracked(self, obj: _Object, index: int) -> np.ndarray | None:
        tracked = obj.tracked.get(index)
        return None if tracked is None else rle.decode(tracked[1])

    def _points(self, prompt: Prompt) -> tuple[list[Point], list[Point]]:
        pos: list[Point] = []
        neg: list[Point] = []
        for (x, y), label in zip(prompt.points, prompt.labels, strict=True):
            p = (
                min(self.work_w - 1.0, max(0.0, x * self.scale)),
                min(self.work_h - 1.0, max(0.0, y * self.scale)),
            )
            (pos if label == 1 else neg).append(p)
        return pos, neg

    def _full(self, mask: np.ndarray) -> np.ndarray:
        if mask.shape == (self.source.height, self.source.width):
            return mask.copy()
        up = cv2.resize(
            mask.view(np.uint8) * np.uint8(255),
            (self.source.width, self.source.height),
            interpolation=cv2.INTER_LINEAR,
        )
        return up >= 128

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this tracking session is closed")


# -- segmentation building blocks (module level so that tests and benchmarks can use them) ----


def segment_prompt(
    image: np.ndarray,
    bins: np.ndarray,
    positive: Sequence[Point],
    negative: Sequence[Point],
    *,
    box: Sequence[float] | None = None,
    base: np.ndarray | None = None,
    appearance: Appearance | None = None,
) -> np.ndarray:
    """Mask of the object the clicks (and box) point at, in ``image``'s pixels.

    ``base`` is the mask the tracker already had on this frame (the prompt corrects it);
    ``appearance`` is what the object looked like on its other anchor frames.
    """
    h, w = image.shape[:2]
    if box is not None:
        return _segment_box(image, positive, negative, box)
    if base is not None and base.any():
        return _correct(image, bins, base, positive, negative, appearance)
    if not positive:
        return np.zeros((h, w), dtype=bool)
    if appearance is None:
        return _segment_clicks(image, positive, negative)
    mask = _segment_by_colour(image, bins, positive, negative, appearance)
    if mask is not None:
        return mask
    # The click is on colours the object has not shown before (it turned, or the light
    # changed): segment from scratch, but refuse a region far bigger than the object.
    mask = _segment_clicks(image, positive, negative)
    if np.count_nonzero(mask) > 3.0 * appearance.area:
        return _disc(h, w, np.array(positive, np.float32), 0.3 * math.sqrt(appearance.area))
    return mask


def _segment_clicks(
    image: np.ndarray, positive: Sequence[Point], negative: Sequence[Point]
) -> np.ndarray:
    """The object under the clicks, size unknown: GrabCut at growing scales, keep the
    segment that stays the same from one scale to the next."""
    h, w = image.shape[:2]
    short = min(h, w)
    pts = np.array(positive, dtype=np.float32)
    candidates: list[tuple[np.ndarray, float]] = []
    radius = 0.04 * short
    while radius < 0.55 * short:
        mask = _grabcut_around(image, pts, negative, radius)
        # How much of the disc the segment fills: far below 1 it is a speck, far above 1 it
        # spills out of the disc (the object is bigger than this scale).
        fill = np.count_nonzero(mask) / (math.pi * radius * radius * len(pts))
        candidates.append((mask, fill))
        radius *= 1.6
    best: tuple[float, int] | None = None
    for i, (mask, fill) in enumerate(candidates):
        if fill < 0.12 or np.count_nonzero(mask) > 0.4 * h * w:
            continue
        stability = max(
            (
                _iou(mask, candidates[j][0])
                for j in (i - 1, i + 1)
                if 0 <= j < len(candidates) and candidates[j][1] >= 0.12
            ),
            default=0.0,
        )
        # Between equally stable segments the larger one wins (annotators mean whole objects
        # far more often than parts). What a segment that swallowed background looks like is
        # penalised: spilling far out of its disc, covering a large share of the frame,
        # having the same colours as its surroundings.
        share = np.count_nonzero(mask) / (h * w)
        score = (
            stability
            + 0.01 * i
            - 0.25 * max(0.0, fill - 1.2)
            - 1.5 * max(0.0, share - 0.12)
            - 0.1 * _surround_likeness(image, mask)
        )
        if best is None or score > best[0]:
            best = (score, i)
    if best is None:
        return _disc(h, w, pts, 0.02 * short)
    return _polish(image, candidates[best[1]][0], positive, negative)


def _segment_by_colour(
    image: np.ndarray,
    bins: np.ndarray,
    positive: Sequence[Point],
    negative: Sequence[Point],
    appearance: Appearance,
) -> np.ndarray | None:
    """A click on an object already seen on other frames: the connected region under the
    click that has the object's colours. ``None`` when the colours do not single it out."""
    h, w = bins.shape
    frame_bg = _normalised(colour_hist(bins, np.ones((h, w), dtype=bool)))
    prob = back_project(bins, appearance.fg, _normalised(appearance.bg + frame_bg))
    # Closing bridges texture cells the histogram rates low without widening thin slivers
    # (a subject mostly hidden may show only a few pixels).
    likely = cv2.morphologyEx((prob >= 128).view(np.uint8), cv2.MORPH_CLOSE, _disk(1)).astype(bool)
    seeds = [p for p in (_nearest(likely, pt, 3) for pt in positive) if p is not None]
    if not seeds:
        return None
    region = _components_at(likely, seeds)
    for x, y in negative:
        region &= ~_components_at(region, [(round(x), round(y))])
    area = np.count_nonzero(region)
    if area == 0 or area > 4.0 * appearance.area:
        return None
    if area < 64:
        # Too few pixels for GrabCut's colour mixtures; the colour region is the answer.
        return region
    return refine(image, bins, region, appearance, positive=positive, negative=negative)


def _surround_likeness(image: np.ndarray, mask: np.ndarray) -> float:
    """Bhattacharyya coefficient between the colours of ``mask`` and of a ring around it:
    near 0 for an object that stands out, near 1 for a patch of its surroundings."""
    window = _window(mask, 0.2, 4)
    if window is None:
        return 1.0
    x0, y0, x1, y1 = window
    sub = mask[y0:y1, x0:x1]
    ring = cv2.dilate(sub.view(np.uint8), _disk(max(3, int(0.15 * max(x1 - x0, y1 - y0)))))
    ring = ring.astype(bool) & ~sub
    if not ring.any():
        return 1.0
    bins = colour_bins(image[y0:y1, x0:x1])
    inside = _normalised(colour_hist(bins, sub))
    around = _normalised(colour_hist(bins, ring))
    return float(np.sqrt(inside * around).sum())


def _nearest(mask: np.ndarray, point: Point, reach: int) -> tuple[int, int] | None:
    """The pixel of ``mask`` closest to ``point`` within ``reach`` pixels."""
    h, w = mask.shape
    x, y = round(point[0]), round(point[1])
    x0, y0, x1, y1 = (
        max(0, x - reach),
        max(0, y - reach),
        min(w, x + reach + 1),
        min(h, y + reach + 1),
    )
    ys, xs = np.nonzero(mask[y0:y1, x0:x1])
    if len(xs) == 0:
        return None
    i = int(np.argmin((xs + x0 - x) ** 2 + (ys + y0 - y) ** 2))
    return int(xs[i] + x0), int(ys[i] + y0)


def _grabcut_around(
    image: np.ndarray,
    pts: np.ndarray,
    negative: Sequence[Point],
    radius: float,
    max_side: int = 128,
) -> np.ndarray:
    """GrabCut in a window around the clicks, assuming the object reaches about ``radius``
    from them; run on a copy shrunk to ``max_side`` so that every scale costs the same."""
    h, w = image.shape[:2]
    half = 2.2 * radius
    x0 = int(max(0, pts[:, 0].min() - half))
    y0 = int(max(0, pts[:, 1].min() - half))
    x1 = int(min(w, pts[:, 0].max() + half + 1))
    y1 = int(min(h, pts[:, 1].max() + half + 1))
    roi = image[y0:y1, x0:x1]
    f = min(1.0, max_side / max(roi.shape[:2]))
    small = cv2.resize(roi, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else roi
    sh, sw = small.shape[:2]
    local = [((x - x0) * f, (y - y0) * f) for x, y in pts]
    region = np.zeros((sh, sw), np.uint8)
    cv2.fillConvexPoly(region, cv2.convexHull(np.array(local, np.float32)).astype(np.int32), 1)
    r = max(1, round(radius * f))
    region = cv2.dilate(region, _disk(r))
    init = np.where(region > 0, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    seed = max(1, round(0.2 * radius * f))
    for x, y in local:
        cv2.circle(init, (round(x), round(y)), seed, cv2.GC_FGD, -1)
    for x, y in negative:
        cv2.circle(init, (round((x - x0) * f), round((y - y0) * f)), seed, cv2.GC_BGD, -1)
    result = _components_at(_grabcut(small, init, 2), [(round(x), round(y)) for x, y in local])
    full = np.zeros((h, w), dtype=bool)
    if f < 1:
        full[y0:y1, x0:x1] = _resize_mask(result, x1 - x0, y1 - y0)
    else:
        full[y0:y1, x0:x1] = result
    return full


def _polish(
    image: np.ndarray, mask: np.ndarray, positive: Sequence[Point], negative: Sequence[Point]
) -> np.ndarray:
    """One GrabCut pass at working resolution in a band around ``mask``, to put the border on
    the image's edges after the coarse search."""
    window = _window(mask, 0.15, 6)
    if window is None:
        return mask
    x0, y0, x1, y1 = window
    sub = mask[y0:y1, x0:x1]
    k = max(1, int(0.04 * max(x1 - x0, y1 - y0)))
    outer = cv2.dilate(sub.view(np.uint8), _disk(k)).astype(bool)
    init = np.full(sub.shape, cv2.GC_BGD, np.uint8)
    init[outer] = cv2.GC_PR_BGD
    init[sub] = cv2.GC_PR_FGD
    _stamp(init, positive, negative, x0, y0, k)
    result = _grabcut(image[y0:y1, x0:x1], init, 1)
    if positive:
        result = _components_at(result, [(round(x - x0), round(y - y0)) for x, y in positive])
    if _iou(result, sub) < 0.7:
        # GrabCut changed its mind about the object rather than its border (shiny or
        # low-contrast objects): the coarse segment is the safer answer.
        return mask
    out = np.zeros(mask.shape, dtype=bool)
    out[y0:y1, x0:x1] = result
    return out


def _segment_box(
    image: np.ndarray, positive: Sequence[Point], negative: Sequence[Point], box: Sequence[float]
) -> np.ndarray:
    h, w = image.shape[:2]
    bx0, by0 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
    bx1, by1 = min(w, math.ceil(box[2])), min(h, math.ceil(box[3]))
    if bx1 - bx0 < 2 or by1 - by0 < 2:
        return np.zeros((h, w), dtype=bool)
    pad = max(4, int(0.2 * max(bx1 - bx0, by1 - by0)))
    x0, y0 = max(0, bx0 - pad), max(0, by0 - pad)
    x1, y1 = min(w, bx1 + pad), min(h, by1 + pad)
    # Outside the box is background by definition of a box prompt.
    init = np.full((y1 - y0, x1 - x0), cv2.GC_BGD, np.uint8)
    init[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0] = cv2.GC_PR_FGD
    _stamp(init, positive, negative, x0, y0, max(1, int(0.03 * max(bx1 - bx0, by1 - by0))))
    result = _grabcut(image[y0:y1, x0:x1], init, 3)
    if positive:
        result = _components_at(result, [(round(x - x0), round(y - y0)) for x, y in positive])
    else:
        result = _largest_component(result)
    out = np.zeros((h, w), dtype=bool)
    out[y0:y1, x0:x1] = result
    return out


def _correct(
    image: np.ndarray,
    bins: np.ndarray,
    base: np.ndarray,
    positive: Sequence[Point],
    negative: Sequence[Point],
    appearance: Appearance | None,
) -> np.ndarray:
    """A prompt on a frame that already has a tracked mask: positive clicks outside it add
    the region under them, negative clicks inside it cut away what looks like the pixels
    under them, and the result is re-fitted with every click as a hard label."""
    h, w = base.shape

    def inside(p: Point) -> bool:
        return bool(base[round(p[1]), round(p[0])])

    outside_pos = [p for p in positive if not inside(p)]
    inside_neg = [p for p in negative if inside(p)]
    if not outside_pos and not inside_neg:
        # The clicks confirm the tracked mask: keep it as it is (re-fitting it would only
        # let it drift); it becomes an anchor.
        return base.copy()
    mask = base.copy()
    if outside_pos:
        added = None
        if appearance is not None:
            added = _segment_by_colour(image, bins, outside_pos, negative, appearance)
        if added is None:
            added = _segment_clicks(image, outside_pos, negative)
            if appearance is not None and np.count_nonzero(added) > 3.0 * appearance.area:
                added = _disc(
                    h, w, np.array(outside_pos, np.float32), 0.3 * math.sqrt(appearance.area)
                )
        mask |= added
    refined = refine(image, bins, mask, appearance, positive=positive, negative=negative)
    if refined is None:
        return np.zeros((h, w), dtype=bool)
    for x, y in inside_neg:
        # A negative click that GrabCut did not honour still removes what is under it.
        if refined[round(y), round(x)]:
            reach = max(2, int(0.01 * min(h, w)))
            cv2.circle(refined.view(np.uint8), (round(x), round(y)), reach, 0, -1)
    return refined


def refine(
    image: np.ndarray,
    bins: np.ndarray,
    predicted: np.ndarray,
    appearance: Appearance | None,
    *,
    positive: Sequence[Point] = (),
    negative: Sequence[Point] = (),
) -> np.ndarray | None:
    """Re-segment around a predicted (warped) mask: colour evidence decides the uncertain
    pixels, GrabCut puts the border on edges. ``None`` when nothing of the object is left.

    The window reaches well beyond the prediction, so that a part coming into view (from
    behind an occluder, or over the frame edge) joins the mask as soon as it shows.
    """
    # Room to grow only where the prediction is smaller than the object usually is.
    missing = 0.0
    if appearance is not None:
        shown = np.count_nonzero(predicted) / max(appearance.area, 1.0)
        missing = math.sqrt(appearance.area) * max(0.0, 1.0 - shown)
    window = _window(predicted, 0.2, 8 + int(0.8 * missing))
    if window is None:
        return None
    x0, y0, x1, y1 = window
    roi = image[y0:y1, x0:x1]
    pred = predicted[y0:y1, x0:x1]
    pred_area = np.count_nonzero(pred)
    k = max(1, int(0.05 * max(x1 - x0, y1 - y0)))
    inner = cv2.erode(pred.view(np.uint8), _disk(k)).astype(bool)
    init = np.full(pred.shape, cv2.GC_PR_BGD, np.uint8)
    init[pred] = cv2.GC_PR_FGD
    if appearance is not None:
        roi_bins = bins[y0:y1, x0:x1]
        outer = cv2.dilate(pred.view(np.uint8), _disk(k)).astype(bool)
        bg = appearance.bg
        if (~outer).any():
            # This frame's surroundings count as much as the anchors': what is next to the
            # object now matters more than what was next to it then.
            bg = _normalised(_normalised(colour_hist(roi_bins, ~outer)) + bg)
        prob = back_project(roi_bins, appearance.fg, bg)
        init[pred & (prob < 60)] = cv2.GC_PR_BGD
        init[~pred & (prob >= 200)] = cv2.GC_PR_FGD
        init[inner & (prob >= 200)] = cv2.GC_FGD
    _stamp(init, positive, negative, x0, y0, max(1, k // 2))
    result = _grabcut(roi, init, _REFINE_ITERATIONS)
    if not result.any():
        return None
    # Keep what continues the prediction; look-alikes elsewhere in the window go. Parts are
    # judged after an opening, so that a look-alike touching the object through a thin
    # bridge (a shadow line, a table edge) does not come along with it.
    core = cv2.morphologyEx(result.view(np.uint8), cv2.MORPH_OPEN, _disk(2))
    if not core.any():
        core = result.view(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    overlap = np.bincount(labels[pred], minlength=n)
    areas = stats[:, cv2.CC_STAT_AREA]
    keep = (overlap > 0.3 * areas) | (overlap > 0.5 * pred_area)
    for x, y in positive:
        keep[labels[round(y - y0), round(x - x0)]] = True
    keep[0] = False
    result &= cv2.dilate(keep[labels].view(np.uint8), _disk(3)).astype(bool)
    grown = np.count_nonzero(result)
    # A subject grows smoothly from frame to frame, or back to its usual size when a hidden
    # part shows again; faster growth is the mask leaking into look-alike surroundings, and
    # then only the prediction's outline is trusted (colour may still remove pixels).
    usual = appearance.area if appearance is not None else pred_area
    if grown > min(2.0 * usual, max(1.25 * usual, 1.05 * pred_area)):
        result &= pred
    result = _drop_islands(result)
    if not result.any():
        return None
    out = np.zeros(predicted.shape, dtype=bool)
    out[y0:y1, x0:x1] = result
    return out


def match_translation(
    prev_image: np.ndarray,
    prev_mask: np.ndarray,
    image: np.ndarray,
    guess: tuple[float, float],
    max_template: int = 48,
) -> tuple[tuple[float, float], float] | None:
    """How far the masked object moved between the frames, by normalised cross-correlation
    of its pixels around ``prev position + guess``; ``((dx, dy), score)`` or ``None``."""
    h, w = prev_mask.shape
    ys, xs = np.nonzero(prev_mask)
    if len(xs) < 16:
        return None
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    size = max(x1 - x0, y1 - y0)
    reach = max(12.0, 1.5 * size, 1.5 * math.hypot(*guess))
    sx0 = max(0, int(x0 + guess[0] - reach))
    sy0 = max(0, int(y0 + guess[1] - reach))
    sx1 = min(w, int(x1 + guess[0] + reach) + 1)
    sy1 = min(h, int(y1 + guess[1] + reach) + 1)
    if sx1 - sx0 <= x1 - x0 or sy1 - sy0 <= y1 - y0:
        return None
    f = min(1.0, max_template / size)
    template = prev_image[y0:y1, x0:x1]
    tmask: np.ndarray = prev_mask[y0:y1, x0:x1].view(np.uint8) * np.uint8(255)
    search = image[sy0:sy1, sx0:sx1]
    if f < 1.0:
        template = cv2.resize(template, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        tmask = cv2.resize(
            tmask, (template.shape[1], template.shape[0]), interpolation=cv2.INTER_NEAREST
        )
        search = cv2.resize(search, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    if (
        search.shape[0] < template.shape[0]
        or search.shape[1] < template.shape[1]
        or np.count_nonzero(tmask) < 8
    ):
        return None
    scores = cv2.matchTemplate(search, template, cv2.TM_CCOEFF_NORMED, mask=tmask)
    scores = np.nan_to_num(scores, nan=-1.0, posinf=-1.0, neginf=-1.0)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    return ((sx0 + bx / f - x0, sy0 + by / f - y0), float(best))


def colour_bins(image: np.ndarray) -> np.ndarray:
    """Per pixel, the index of its colour cell in a ``_BINS``**3 BGR histogram (uint16)."""
    shift = 8 - int(math.log2(_BINS))
    q = (image >> shift).astype(np.uint16)
    return (q[..., 0] * _BINS + q[..., 1]) * _BINS + q[..., 2]


def colour_hist(bins: np.ndarray, mask: np.ndarray) -> np.ndarray:
    hist = np.bincount(bins[mask], minlength=_BINS**3).astype(np.float32).reshape((_BINS,) * 3)
    # Smooth across neighbouring cells: compression shifts colours by a few levels and small
    # objects have too few pixels to fill a histogram.
    for axis in range(3):
        hist = 0.5 * hist + 0.25 * (np.roll(hist, 1, axis) + np.roll(hist, -1, axis))
    return hist


def back_project(bins: np.ndarray, fg_hist: np.ndarray, bg_hist: np.ndarray) -> np.ndarray:
    """Per pixel, 255 x P(object | colour) under the two histograms, equal priors (uint8).

    (Done with numpy: OpenCV 5.0's calcBackProject returns wrong values for 3-D histograms.)
    """
    ratio = (fg_hist + 1e-6) / (fg_hist + bg_hist + 2e-6) * 255.0
    return ratio.astype(np.uint8).ravel()[bins]


def _normalised(hist: np.ndarray) -> np.ndarray:
    total = float(hist.sum())
    return hist / total if total > 0 else hist


def _grabcut(image: np.ndarray, init: np.ndarray, iterations: int) -> np.ndarray:
    fg = (init == cv2.GC_FGD) | (init == cv2.GC_PR_FGD)
    if not fg.any() or fg.all():
        return fg
    mask = init.copy()
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # GrabCut seeds its k-means from OpenCV's per-thread RNG; a fixed seed makes the same
    # prompts give the same masks whatever ran before on this thread.
    cv2.setRNGSeed(12345)
    try:
        # (The rectangle is ignored when initialising from the mask.)
        cv2.grabCut(
            np.ascontiguousarray(image),
            mask,
            (0, 0, 0, 0),
            bgd,
            fgd,
            iterations,
            cv2.GC_INIT_WITH_MASK,
        )
    except cv2.error:
        # GrabCut refuses regions too small or uniform to fit its colour mixtures; the
        # initial labelling is then the best answer there is.
        return fg
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def _components_at(mask: np.ndarray, points: Sequence[tuple[int, int]]) -> np.ndarray:
    _n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    h, w = mask.shape
    keep = {int(labels[min(h - 1, max(0, y)), min(w - 1, max(0, x))]) for x, y in points} - {0}
    if not keep:
        return np.zeros_like(mask)
    return np.isin(labels, list(keep))


def _drop_islands(mask: np.ndarray, share: float = 0.15) -> np.ndarray:
    """Remove connected parts smaller than ``share`` of the largest one."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    if n <= 2:
        return mask
    areas = stats[:, cv2.CC_STAT_AREA]
    keep = areas >= share * areas[1:].max()
    keep[0] = False
    return keep[labels]


def _is_lost(track: _Track | None) -> bool:
    return track is None or track.mask is None


def _largest_component(mask: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    if n <= 1:
        return mask
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def _window(mask: np.ndarray, margin: float, pad: int) -> tuple[int, int, int, int] | None:
    """The mask's bounding box grown by ``margin`` of its size plus ``pad`` pixels."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    h, w = mask.shape
    grow = int(margin * max(xs.max() - xs.min(), ys.max() - ys.min())) + pad
    return (
        max(0, int(xs.min()) - grow),
        max(0, int(ys.min()) - grow),
        min(w, int(xs.max()) + grow + 1),
        min(h, int(ys.max()) + grow + 1),
    )


def _stamp(
    init: np.ndarray, positive: Sequence[Point], negative: Sequence[Point], x0: int, y0: int, r: int
) -> None:
    """Mark clicks as certain object / certain background in a GrabCut label map."""
    for x, y in positive:
        cv2.circle(init, (round(x - x0), round(y - y0)), r, cv2.GC_FGD, -1)
    for x, y in negative:
        cv2.circle(init, (round(x - x0), round(y - y0)), r, cv2.GC_BGD, -1)


def _shift(mask: np.ndarray, dx: float, dy: float) -> np.ndarray:
    matrix = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
    moved = cv2.warpAffine(
        mask.view(np.uint8), matrix, (mask.shape[1], mask.shape[0]), flags=cv2.INTER_NEAREST
    )
    return moved.astype(bool)


def _resize_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    up = cv2.resize(
        mask.view(np.uint8) * np.uint8(255), (width, height), interpolation=cv2.INTER_LINEAR
    )
    return up >= 128


_disks: dict[int, np.ndarray] = {}


def _disk(r: int) -> np.ndarray:
    disk = _disks.get(r)
    if disk is None:
        disk = _disks[r] = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return disk


def _disc(h: int, w: int, pts: np.ndarray, radius: float) -> np.ndarray:
    out = np.zeros((h, w), np.uint8)
    for x, y in pts:
        cv2.circle(out, (round(float(x)), round(float(y))), max(1, round(radius)), 1, -1)
    return out.astype(bool)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


_grids: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    grid = _grids.get((h, w))
    if grid is None:
        xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        grid = _grids[(h, w)] = (xs, ys)
    return grid


def _read_scaled(path: str, width: int, height: int, full_width: int) -> np.ndarray:
    # libjpeg decodes straight to 1/2, 1/4 or 1/8 size, much cheaper than decoding the whole
    # frame and shrinking it; only the remaining factor is left to resize.
    flag = cv2.IMREAD_COLOR
    for factor, reduced in (
        (8, cv2.IMREAD_REDUCED_COLOR_8),
        (4, cv2.IMREAD_REDUCED_COLOR_4),
        (2, cv2.IMREAD_REDUCED_COLOR_2),
    ):
        if full_width // factor >= width:
            flag = reduced
            break
    image = cv2.imread(path, flag)
    if image is None:
        raise OSError(f"cannot decode {path}")
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
