from __future__ import annotations

import ast
from pathlib import Path

import cv2
import numpy as np
import pytest

from workers import engine
from workers.cpu_engine import CpuSession, CpuTrackingEngine
from workers.engine import EngineSession, EngineUnavailable, FrameSource, Prompt, TrackingEngine

ENGINE_MODULES = ["rle", "engine", "cpu_engine", "sam2_engine", "sessions", "synthetic"]


def _frames(directory: Path, count: int, width: int = 32, height: int = 24) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        cv2.imwrite(str(directory / f"{k:06d}.jpg"), np.full((height, width, 3), k * 10, np.uint8))
    return directory


def test_engine_modules_import_no_django() -> None:
    workers = Path(engine.__file__).parent
    for name in ENGINE_MODULES:
        tree = ast.parse((workers / f"{name}.py").read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        }
        assert not imported & {"django", "rest_framework", "celery"}, name


def test_frame_source_reads_count_and_size_from_the_directory(tmp_path: Path) -> None:
    source = FrameSource.from_directory(_frames(tmp_path / "f", 3, width=40, height=30))
    assert (source.count, source.width, source.height) == (3, 40, 30)
    assert source.path(2) == tmp_path / "f" / "000002.jpg"
    assert source.read(1).shape == (30, 40, 3)
    with pytest.raises(IndexError):
        source.path(3)


def test_frame_source_refuses_empty_or_gapped_directories(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no annotation frames"):
        FrameSource.from_directory(tmp_path / "empty")
    gapped = _frames(tmp_path / "gapped", 3)
    (gapped / "000001.jpg").unlink()
    with pytest.raises(ValueError, match="not numbered"):
        FrameSource.from_directory(gapped)
    with pytest.raises(FileNotFoundError):
        FrameSource.from_directory(tmp_path / "missing")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"points": [[1, 2]], "labels": []}, "1 points but 0 labels"),
        ({}, "at least one point or a box"),
        ({"points": [[1, 2]], "labels": [2]}, "labels must be 1"),
        ({"points": [[1, 2, 3]], "labels": [1]}, r"\[x, y\]"),
        ({"box": [5, 5, 5, 9]}, "x2 > x1"),
        ({"frame": -1, "points": [[1, 2]], "labels": [1]}, "frame must be >= 0"),
    ],
)
def test_prompt_refuses_malformed_input(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Prompt(**{"frame": 0, "object_id": 1, **kwargs})  # type: ignore[arg-type]


def test_prompt_as_dict_is_plain_json_types() -> None:
    prompt = Prompt(frame=3, object_id=2, points=[[1, 2]], labels=[0], box=[0, 0, 4, 4])
    assert prompt.as_dict() == {
        "frame": 3,
        "object_id": 2,
        "points": [[1.0, 2.0]],
        "labels": [0],
        "box": [0.0, 0.0, 4.0, 4.0],
    }


def test_frame_order_visits_every_frame_once_in_propagation_order() -> None:
    assert engine.frame_order(2, 5, "forward") == [(2, False), (3, False), (4, False)]
    assert engine.frame_order(2, 5, "backward") == [(2, True), (1, True), (0, True)]
    assert engine.frame_order(2, 5, "both") == [
        (2, False),
        (3, False),
        (4, False),
        (1, True),
        (0, True),
    ]
    with pytest.raises(IndexError):
        engine.frame_order(5, 5, "forward")
    with pytest.raises(ValueError, match="direction"):
        engine.frame_order(0, 5, "sideways")  # type: ignore[arg-type]


def test_get_engine_builds_one_engine_per_process_and_options() -> None:
    engine.clear_engine_cache()
    first = engine.get_engine("cpu")
    assert engine.get_engine("cpu") is first
    assert engine.get_engine("cpu", work_size=320) is not first
    assert isinstance(first, CpuTrackingEngine)
    assert first.name == "cpu"
    engine.clear_engine_cache()
    assert engine.get_engine("cpu") is not first


def test_get_engine_names_the_setting_for_an_unknown_tracker() -> None:
    with pytest.raises(EngineUnavailable, match="TRACKER"):
        engine.get_engine("gpu-magic")  # type: ignore[arg-type]


def test_cpu_engine_satisfies_the_protocols(tmp_path: Path) -> None:
    cpu = CpuTrackingEngine()
    assert isinstance(cpu, TrackingEngine)
    session = cpu.open_session(FrameSource.from_directory(_frames(tmp_path / "f", 2)))
    assert isinstance(session, CpuSession)
    assert isinstance(session, EngineSession)
    assert cpu.model_version.startswith("cpu-flow-")
