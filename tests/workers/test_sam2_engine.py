"""The SAM 2 engine on a randomly initialised, shrunken model on CPU (no checkpoint can be
downloaded here): the plumbing is tested, not the masks' quality."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from workers import engine as engine_module
from workers.engine import EngineUnavailable, FrameSource, Prompt

pytestmark = pytest.mark.sam2

try:
    import torch
    from sam2.build_sam import build_sam2_video_predictor  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the machine
    pytest.skip(f"torch and the sam2 package are needed ({exc})", allow_module_level=True)

from workers.sam2_engine import Sam2Engine, Sam2Session  # noqa: E402

SMALL: dict[str, Any] = {
    "checkpoint": None,
    "allow_random_weights": True,
    "device": "cpu",
    "image_size": 128,
}
WIDTH, HEIGHT, FRAMES = 96, 64, 4


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> FrameSource:
    directory = tmp_path_factory.mktemp("sam2-frames")
    rng = np.random.default_rng(0)
    for k in range(FRAMES):
        image = rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        cv2.circle(image, (20 + 8 * k, 30), 10, (0, 0, 255), -1)
        cv2.imwrite(str(directory / f"{k:06d}.jpg"), image)
    return FrameSource.from_directory(directory)


@pytest.fixture(scope="module")
def sam2() -> Sam2Engine:
    return Sam2Engine(**SMALL)


def _click(frame: int, object_id: int, x: float = 20.0, y: float = 30.0) -> Prompt:
    return Prompt(frame=frame, object_id=object_id, points=[[x, y]], labels=[1])


def test_click_returns_a_bool_mask_of_the_frame_size(sam2: Sam2Engine, frames: FrameSource) -> None:
    session = sam2.open_session(frames)
    assert isinstance(session, Sam2Session)
    mask = session.add_prompt(_click(1, 7))
    assert mask.dtype == np.bool_
    assert mask.shape == (HEIGHT, WIDTH)
    box_mask = session.add_prompt(Prompt(frame=2, object_id=9, box=[50, 10, 90, 50]))
    assert box_mask.shape == (HEIGHT, WIDTH)


def test_propagating_both_ways_yields_every_frame_once_for_every_object(
    sam2: Sam2Engine, frames: FrameSource
) -> None:
    session = sam2.open_session(frames)
    session.add_prompt(_click(1, 7))
    session.add_prompt(_click(2, 9, x=70.0))
    out = list(session.propagate(start_frame=1, direction="both"))
    assert [f for f, _ in out] == [1, 2, 3, 0]
    for _, masks in out:
        assert sorted(masks) == [7, 9]
        assert all(m.shape == (HEIGHT, WIDTH) and m.dtype == np.bool_ for m in masks.values())


def test_propagating_one_way_for_some_objects(sam2: Sam2Engine, frames: FrameSource) -> None:
    session = sam2.open_session(frames)
    session.add_prompt(_click(0, 7))
    session.add_prompt(_click(0, 9, x=70.0))
    backward = list(session.propagate(start_frame=2, direction="backward", object_ids=[9]))
    assert [f for f, _ in backward] == [2, 1, 0]
    assert all(sorted(masks) == [9] for _, masks in backward)
    forward = [f for f, _ in session.propagate(start_frame=2, direction="forward")]
    assert forward == [2, 3]


def test_removed_object_is_no_longer_propagated(sam2: Sam2Engine, frames: FrameSource) -> None:
    session = sam2.open_session(frames)
    session.add_prompt(_click(0, 7))
    session.add_prompt(_click(1, 9, x=70.0))
    session.remove_object(7)
    out = list(session.propagate(start_frame=0, direction="forward"))
    assert all(sorted(masks) == [9] for _, masks in out)
    with pytest.raises(KeyError):
        session.propagate(start_frame=0, object_ids=[7])


def test_reset_forgets_every_object(sam2: Sam2Engine, frames: FrameSource) -> None:
    session = sam2.open_session(frames)
    session.add_prompt(_click(0, 7))
    session.reset()
    with pytest.raises(ValueError, match="no object"):
        session.propagate(start_frame=0)
    session.add_prompt(_click(0, 8))
    assert [f for f, _ in session.propagate(start_frame=0, direction="forward")] == [0, 1, 2, 3]


def test_closed_session_refuses_work(sam2: Sam2Engine, frames: FrameSource) -> None:
    session = sam2.open_session(frames)
    session.close()
    with pytest.raises(RuntimeError, match="closed"):
        session.add_prompt(_click(0, 7))


def test_memories_beyond_the_window_are_dropped_and_prompted_frames_kept(
    sam2: Sam2Engine, frames: FrameSource
) -> None:
    session = sam2.open_session(frames)
    session.add_prompt(_click(0, 7))
    sam2.memory_window = 1
    try:
        list(session.propagate(start_frame=0, direction="forward"))
    finally:
        sam2.memory_window = 0
    outputs = session._live()["output_dict_per_obj"][0]
    assert sorted(outputs["cond_frame_outputs"]) == [0]
    assert sorted(outputs["non_cond_frame_outputs"]) == [2, 3]


def test_state_has_the_keys_sam2s_own_init_state_builds(
    sam2: Sam2Engine, frames: FrameSource
) -> None:
    theirs = sam2.model.init_state(str(frames.directory), offload_video_to_cpu=True)
    ours: Any = sam2.open_session(frames)._live()
    assert sorted(ours) == sorted(theirs)
    assert ours["images"][1].shape == theirs["images"][1].shape
    assert torch.allclose(ours["images"][1], theirs["images"][1])


def test_model_is_loaded_once_per_process_and_options(sam2: Sam2Engine) -> None:
    again = Sam2Engine(**SMALL)
    assert again.model is sam2.model
    assert sam2.model_version == "sam2.1_hiera_t@random-init/128px"


def test_get_engine_caches_the_sam2_engine() -> None:
    engine_module.clear_engine_cache()
    try:
        first = engine_module.get_engine("sam2", **SMALL)
        assert engine_module.get_engine("sam2", **SMALL) is first
        assert isinstance(first, Sam2Engine)
    finally:
        engine_module.clear_engine_cache()


def test_missing_checkpoint_names_sam2_checkpoint() -> None:
    with pytest.raises(EngineUnavailable, match="SAM2_CHECKPOINT is not set"):
        Sam2Engine(checkpoint=None, device="cpu")


def test_checkpoint_path_that_does_not_exist_names_sam2_checkpoint(tmp_path: Path) -> None:
    missing = tmp_path / "sam2.1_hiera_tiny.pt"
    with pytest.raises(
        EngineUnavailable, match=re.escape(f"SAM2_CHECKPOINT={missing} does not exist")
    ):
        Sam2Engine(checkpoint=missing, device="cpu")


def test_checkpoint_that_is_not_a_sam2_model_names_the_settings(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"not a checkpoint")
    with pytest.raises(EngineUnavailable, match=r"SAM2_CHECKPOINT=.*SAM2_CONFIG"):
        Sam2Engine(checkpoint=bogus, device="cpu", image_size=128)


def test_unknown_config_names_sam2_config() -> None:
    with pytest.raises(EngineUnavailable, match=re.escape("SAM2_CONFIG=configs/nope.yaml")):
        Sam2Engine(config="configs/nope.yaml", checkpoint=None, allow_random_weights=True)


def test_bad_device_and_image_size_name_their_settings() -> None:
    with pytest.raises(EngineUnavailable, match="SAM2_DEVICE='tpu'"):
        Sam2Engine(device="tpu", checkpoint=None, allow_random_weights=True)
    with pytest.raises(EngineUnavailable, match="SAM2_IMAGE_SIZE=100"):
        Sam2Engine(image_size=100, checkpoint=None, allow_random_weights=True)
    if not torch.cuda.is_available():
        with pytest.raises(EngineUnavailable, match="SAM2_DEVICE=cuda"):
            Sam2Engine(device="cuda", checkpoint=None, allow_random_weights=True)
