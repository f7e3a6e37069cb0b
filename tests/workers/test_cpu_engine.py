"""The CPU tracker against synthetic clips with exact truth (quality bounds, never timings)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from tests.workers.clips import Clip, clip, depth, iou
from workers import synthetic
from workers.cpu_engine import CpuTrackingEngine
from workers.engine import FrameSource, Prompt

# A 10 s clip at ordinary speed, and shorter ones where everything moves 2 to 2.5 times as
# far between annotation frames (the runner crosses about its own width per frame).
STANDARD = (1, 640, 360, 30.0, 10.0)
FAST = (24, 480, 270, 24.0, 4.0)
QUICK = (20, 480, 270, 30.0, 5.0)
CLIPS = [STANDARD, FAST, QUICK]
BALL, SPINNER, WALKER, PILLAR, RUNNER = 1, 2, 3, 4, 5
OBJECTS = [BALL, SPINNER, WALKER, PILLAR, RUNNER]
SHARED_VIDEOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "videos"


def _click(c: Clip, frame: int, object_id: int, label: int = 1) -> Prompt:
    point = synthetic.interior_point(c.truth[frame][object_id])
    assert point is not None
    return Prompt(frame=frame, object_id=object_id, points=[list(point)], labels=[label])


def _propagate_one(session: object, object_id: int, start: int) -> dict[int, np.ndarray]:
    return {f: m[object_id] for f, m in session.propagate(start_frame=start, direction="both")}  # type: ignore[attr-defined]


@functools.cache
def _one_click(spec: tuple[int, int, int, float, float], object_id: int) -> list[np.ndarray]:
    """Masks from one positive click on the first frame the object is visible."""
    c = clip(*spec)
    session = CpuTrackingEngine().open_session(c.frames)
    start = c.first_visible(object_id)
    session.add_prompt(_click(c, start, object_id))
    masks = _propagate_one(session, object_id, start)
    return [masks[k] for k in range(c.frames.count)]


def _ious(c: Clip, object_id: int, masks: list[np.ndarray]) -> list[float]:
    return [iou(masks[k], c.truth[k][object_id]) for k in range(c.frames.count)]


def _corrective_prompt(c: Clip, object_id: int, masks: list[np.ndarray]) -> Prompt | None:
    """One click on the worst frame, where an annotator would put it: in the middle of the
    biggest error, positive on a missed part or negative on a wrongly included one. Errors
    too thin to click (under 4 px deep) do not count."""
    ious = _ious(c, object_id, masks)

    def errors(k: int) -> tuple[np.ndarray, np.ndarray]:
        truth = c.truth[k][object_id]
        return truth & ~masks[k], masks[k] & ~truth

    clickable = [k for k in range(len(ious)) if max(depth(e) for e in errors(k)) >= 4]
    if not clickable:
        return None
    worst = min(clickable, key=lambda k: ious[k])
    missed, extra = errors(worst)
    label = 1 if depth(missed) >= depth(extra) else 0
    point = synthetic.interior_point(missed if label else extra)
    assert point is not None
    return Prompt(frame=worst, object_id=object_id, points=[list(point)], labels=[label])


@pytest.mark.parametrize("spec", CLIPS, ids=["standard", "fast", "quick"])
@pytest.mark.parametrize(
    "object_id", OBJECTS, ids=["ball", "spinner", "walker", "pillar", "runner"]
)
def test_one_click_tracks_the_shape_with_mean_iou_of_at_least_085(
    spec: tuple[int, int, int, float, float], object_id: int
) -> None:
    c = clip(*spec)
    ious = _ious(c, object_id, _one_click(spec, object_id))
    assert np.mean(ious) >= 0.85, [round(v, 2) for v in ious]


def test_corrective_click_on_the_worst_frame_raises_mean_iou() -> None:
    corrected = 0
    for spec in CLIPS:
        c = clip(*spec)
        for object_id in OBJECTS:
            before = _one_click(spec, object_id)
            correction = _corrective_prompt(c, object_id, before)
            if correction is None:
                continue
            session = CpuTrackingEngine().open_session(c.frames)
            start = c.first_visible(object_id)
            session.add_prompt(_click(c, start, object_id))
            session.add_prompt(correction)
            after_masks = _propagate_one(session, object_id, start)
            after = [after_masks[k] for k in range(c.frames.count)]
            old, new = _ious(c, object_id, before), _ious(c, object_id, after)
            assert np.mean(new) > np.mean(old), (spec, object_id, correction)
            assert new[correction.frame] > old[correction.frame]
            corrected += 1
    assert corrected, "no object had an error big enough to click; use a harder clip"


def test_masks_are_empty_while_the_subject_is_hidden_or_out_of_frame() -> None:
    c = clip(*STANDARD)
    for object_id in (WALKER, RUNNER):
        masks = _one_click(STANDARD, object_id)
        absent = [k for k in range(c.frames.count) if not c.truth[k][object_id].any()]
        assert absent
        empty = [k for k in absent if not masks[k].any()]
        # The frame where it disappears or reappears may keep a sliver; no other may.
        assert len(empty) >= len(absent) - 1, (absent, empty)


def test_subject_is_found_again_after_it_returns() -> None:
    c = clip(*STANDARD)
    for object_id in (WALKER, RUNNER):
        masks = _one_click(STANDARD, object_id)
        absent = [k for k in range(c.frames.count) if not c.truth[k][object_id].any()]
        after = range(absent[-1] + 1, c.frames.count)
        assert np.mean([iou(masks[k], c.truth[k][object_id]) for k in after]) >= 0.85


def test_box_prompt_segments_the_object_in_the_box() -> None:
    c = clip(*STANDARD)
    truth = c.truth[0][SPINNER]
    ys, xs = np.nonzero(truth)
    box = [xs.min() - 8.0, ys.min() - 8.0, xs.max() + 9.0, ys.max() + 9.0]
    session = CpuTrackingEngine().open_session(c.frames)
    mask = session.add_prompt(Prompt(frame=0, object_id=SPINNER, box=box))
    assert iou(mask, truth) >= 0.9


def test_negative_click_removes_a_wrongly_included_region() -> None:
    c = clip(*STANDARD)
    ball, spinner = c.truth[0][BALL], c.truth[0][SPINNER]
    on_ball = list(synthetic.interior_point(ball) or ())
    on_spinner = list(synthetic.interior_point(spinner) or ())
    session = CpuTrackingEngine().open_session(c.frames)
    both = session.add_prompt(
        Prompt(frame=0, object_id=1, points=[on_ball, on_spinner], labels=[1, 1])
    )
    assert np.count_nonzero(both & spinner) > 0.8 * np.count_nonzero(spinner)
    fixed = session.add_prompt(
        Prompt(frame=0, object_id=1, points=[on_ball, on_spinner], labels=[1, 0])
    )
    assert np.count_nonzero(fixed & spinner) == 0
    assert iou(fixed, ball) >= 0.9


def test_a_prompt_replaces_the_earlier_prompt_on_the_same_frame() -> None:
    c = clip(*STANDARD)
    session = CpuTrackingEngine().open_session(c.frames)
    session.add_prompt(_click(c, 0, BALL))
    moved = _click(c, 0, SPINNER)
    mask = session.add_prompt(
        Prompt(frame=0, object_id=BALL, points=moved.points, labels=moved.labels)
    )
    assert iou(mask, c.truth[0][SPINNER]) >= 0.9
    assert not (mask & c.truth[0][BALL]).any()


def test_several_objects_track_in_one_session_and_one_pass() -> None:
    c = clip(*FAST)
    session = CpuTrackingEngine().open_session(c.frames)
    for object_id in OBJECTS:
        session.add_prompt(_click(c, c.first_visible(object_id), object_id))
    frames = list(session.propagate(start_frame=0, direction="forward"))
    assert [f for f, _ in frames] == list(range(c.frames.count))
    assert all(sorted(masks) == OBJECTS for _, masks in frames)
    for object_id in OBJECTS:
        ious = [iou(masks[object_id], c.truth[f][object_id]) for f, masks in frames]
        assert np.mean(ious) >= 0.85, (object_id, [round(v, 2) for v in ious])
    for _, masks in frames:
        total = np.sum([m.astype(np.int32) for m in masks.values()], axis=0)
        assert total.max() <= 2  # an occluder and its occludee may share an edge, no more


def test_propagation_directions_visit_each_frame_once() -> None:
    c = clip(*FAST)
    session = CpuTrackingEngine().open_session(c.frames)
    session.add_prompt(_click(c, 10, BALL))
    n = c.frames.count
    forward = [f for f, _ in session.propagate(start_frame=10, direction="forward")]
    backward = [f for f, _ in session.propagate(start_frame=10, direction="backward")]
    both = [f for f, _ in session.propagate(start_frame=10, direction="both")]
    assert forward == list(range(10, n))
    assert backward == list(range(10, -1, -1))
    assert both == list(range(10, n)) + list(range(9, -1, -1))


def test_masks_have_the_annotation_frame_size_and_bool_dtype() -> None:
    c = clip(*FAST)
    session = CpuTrackingEngine(work_size=320).open_session(c.frames)
    mask = session.add_prompt(_click(c, 0, BALL))
    assert mask.dtype == np.bool_
    assert mask.shape == (c.frames.height, c.frames.width)
    _, masks = next(iter(session.propagate(start_frame=1, direction="forward")))
    assert masks[BALL].shape == (c.frames.height, c.frames.width)
    assert iou(mask, c.truth[0][BALL]) >= 0.85


def test_removed_and_reset_objects_are_no_longer_tracked() -> None:
    c = clip(*FAST)
    session = CpuTrackingEngine().open_session(c.frames)
    session.add_prompt(_click(c, 0, BALL))
    session.add_prompt(_click(c, 0, SPINNER))
    session.remove_object(BALL)
    _, masks = next(iter(session.propagate(start_frame=0, direction="forward")))
    assert sorted(masks) == [SPINNER]
    with pytest.raises(KeyError):
        session.propagate(start_frame=0, object_ids=[BALL])
    session.reset()
    with pytest.raises(ValueError, match="no object"):
        session.propagate(start_frame=0)


def test_closed_session_refuses_work() -> None:
    c = clip(*FAST)
    session = CpuTrackingEngine().open_session(c.frames)
    session.close()
    with pytest.raises(RuntimeError, match="closed"):
        session.add_prompt(_click(c, 0, BALL))


def test_prompt_outside_the_video_is_refused() -> None:
    c = clip(*FAST)
    session = CpuTrackingEngine().open_session(c.frames)
    with pytest.raises(IndexError):
        session.add_prompt(Prompt(frame=c.frames.count, object_id=1, points=[[5, 5]], labels=[1]))


@pytest.mark.parametrize(
    ("video", "click"),
    [("coffee", (880, 507)), ("dog", (613, 427)), ("bedroom", (400, 200))],
    ids=["mug", "dog", "girl"],
)
def test_one_click_on_real_video_gives_the_object_not_the_frame(
    tmp_path: Path, video: str, click: tuple[int, int]
) -> None:
    path = SHARED_VIDEOS / f"{video}.mp4"
    if not path.exists():
        pytest.skip(f"real clip {path} is absent (the shared data checkout)")
    frames = synthetic.write_annotation_frames(path, tmp_path / video, annotation_fps=6)
    frames = FrameSource.from_directory(tmp_path / video)
    area = frames.width * frames.height
    session = CpuTrackingEngine().open_session(frames)
    mask = session.add_prompt(Prompt(frame=0, object_id=1, points=[list(click)], labels=[1]))
    assert mask[click[1], click[0]]
    assert 0.002 * area < np.count_nonzero(mask) < 0.1 * area
    for frame, masks in session.propagate(start_frame=0, direction="forward"):
        assert np.count_nonzero(masks[1]) < 0.15 * area, frame
        if frame >= 12:
            break
