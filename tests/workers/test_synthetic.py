from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from tests.workers.clips import clip, depth
from workers import rle, synthetic

WALKER, PILLAR, RUNNER = 3, 4, 5


def test_generate_writes_h264_yuv420p_video_of_the_requested_shape(tmp_path: Path) -> None:
    video = synthetic.generate(tmp_path / "v.mp4", width=320, height=180, fps=24, frames=36, seed=3)
    with av.open(str(video.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (320, 180)
        assert stream.average_rate == 24
        assert sum(1 for _ in container.decode(stream)) == 36
    assert sorted(video.truth) == list(range(36))
    assert {o.name for o in video.objects} == {"ball", "spinner", "walker", "pillar", "runner"}
    assert {o.category for o in video.objects} == {"person", "animal", "object"}


def test_same_seed_gives_the_same_truth_and_another_seed_does_not(tmp_path: Path) -> None:
    kwargs = {"width": 160, "height": 96, "fps": 12, "frames": 12}
    a = synthetic.generate(tmp_path / "a.mp4", seed=7, **kwargs)
    b = synthetic.generate(tmp_path / "b.mp4", seed=7, **kwargs)
    c = synthetic.generate(tmp_path / "c.mp4", seed=8, **kwargs)
    assert a.truth == b.truth
    assert a.truth != c.truth


def test_generate_refuses_sizes_yuv420p_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        synthetic.generate(tmp_path / "odd.mp4", width=161, height=96, fps=12, frames=2)


def test_truth_masks_are_the_visible_parts_and_never_overlap() -> None:
    c = clip(1, 640, 360, 30, 10)
    for frame in range(0, c.video.frames, 10):
        masks = c.video.masks(frame)
        total = np.sum([m.astype(np.int32) for m in masks.values()], axis=0)
        assert total.max() <= 1, f"two objects claim one pixel in frame {frame}"


def test_walker_is_fully_hidden_behind_the_pillar_for_a_while_and_comes_back() -> None:
    c = clip(1, 640, 360, 30, 10)
    walker = [bool(m[WALKER].any()) for m in c.truth]
    hidden = [k for k, seen in enumerate(walker) if not seen]
    assert hidden, "the walker is never hidden"
    assert walker[0]
    assert walker[-1]
    assert hidden == list(range(hidden[0], hidden[-1] + 1)), "hidden once, in one stretch"
    assert all(c.truth[k][PILLAR].any() for k in hidden)


def test_runner_leaves_through_the_right_edge_and_returns() -> None:
    c = clip(1, 640, 360, 30, 10)
    seen = [bool(m[RUNNER].any()) for m in c.truth]
    gone = [k for k, s in enumerate(seen) if not s]
    assert gone
    assert seen[0]
    assert seen[-1]
    last_before = c.truth[gone[0] - 1][RUNNER]
    first_after = c.truth[gone[-1] + 1][RUNNER]
    assert last_before[:, -1].any(), "it leaves through the right edge"
    assert first_after[:, -1].any(), "it comes back through the right edge"


def test_click_point_is_the_deepest_pixel_of_the_mask() -> None:
    c = clip(1, 640, 360, 30, 10)
    mask = c.video.mask(0, 1)
    point = c.video.click_point(0, 1)
    assert point is not None
    x, y = point
    distance = cv2.distanceTransform(np.pad(mask.view(np.uint8), 1), cv2.DIST_L2, 5)
    assert mask[y, x]
    assert distance[y + 1, x + 1] == distance.max() == depth(mask)


def test_click_point_of_an_absent_object_is_none() -> None:
    assert synthetic.interior_point(np.zeros((4, 4), dtype=bool)) is None
    c = clip(1, 640, 360, 30, 10)
    hidden = next(k for k, m in enumerate(c.truth) if not m[WALKER].any())
    assert c.video.click_point(c.video.annotation_frames(6)[hidden], WALKER) is None


def test_annotation_frames_follow_sav_frame_counts() -> None:
    assert synthetic.annotation_frame_indices(483, 24, 6) == list(range(0, 481, 4))
    assert len(synthetic.annotation_frame_indices(483, 24, 6)) == 121
    assert synthetic.annotation_frame_indices(300, 30, 6) == list(range(0, 300, 5))
    assert synthetic.annotation_frame_indices(0, 30, 6) == []


def test_written_annotation_frames_match_the_truth_frame_count_and_size() -> None:
    c = clip(1, 640, 360, 30, 10)
    assert c.frames.count == len(c.video.annotation_frames(6)) == 60
    assert (c.frames.height, c.frames.width) == (360, 640)
    image = c.frames.read(10)
    ball = c.truth[10][1]
    # The frame shows the ball where the truth says: its pixels differ from the rest.
    inside = image[ball].mean(axis=0)
    outside = image[~ball].mean(axis=0)
    assert np.abs(inside - outside).max() > 40


def test_saved_truth_has_sav_layout_and_loads_back(tmp_path: Path) -> None:
    video = synthetic.generate(tmp_path / "sav_demo.mp4", width=192, height=108, fps=24, frames=48)
    path = video.save_truth(annotation_fps=6)
    assert path == tmp_path / "sav_demo_manual.json"
    doc = json.loads(path.read_text())
    assert doc["video_id"] == "sav_demo"
    assert doc["video_frame_count"] == 48.0
    assert (doc["video_height"], doc["video_width"]) == (108.0, 192.0)
    assert len(doc["masklet"]) == 12
    assert doc["masklet_id"] == [1, 2, 3, 4, 5]
    assert all(len(row) == 5 for row in doc["masklet"])
    for row in doc["masklet"]:
        for mask_rle in row:
            rle.validate(mask_rle, 108, 192)
    loaded = synthetic.SyntheticVideo.load(path)
    assert loaded.path == video.path
    assert loaded.objects == video.objects
    assert sorted(loaded.truth) == video.annotation_frames(6)
    for frame in loaded.truth:
        assert loaded.truth[frame] == video.truth[frame]
