"""``manage.py track``: masklets from a prompts file, tracked through the whole video inline."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from tests.tracking.conftest import Scene, decode, iou
from tracking.models import Masklet, MaskletRevision, Prompt, TrackingJob
from workers import rle

pytestmark = pytest.mark.django_db


def _prompts(scene: Scene, object_ids: tuple[int, ...] = (4, 3)) -> list[dict[str, Any]]:
    out = []
    for object_id in object_ids:
        frame = scene.visible_frame(object_id)
        out.append(
            {
                "object_id": object_id,
                "frame": frame,
                "points": [scene.click(frame, object_id)],
                "labels": [1],
                "box": None,
            }
        )
    return out


def _run(scene: Scene, prompts: Any, tmp_path: Path, *extra: str) -> str:
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps(prompts))
    out = StringIO()
    call_command(
        "track", "--video", str(scene.video.pk), "--prompts", str(path), *extra, stdout=out
    )
    return out.getvalue()


def test_track_creates_masklets_tracked_through_the_whole_video(
    scene: Scene, tmp_path: Path
) -> None:
    out_file = tmp_path / "out" / "masks.json"
    printed = _run(scene, _prompts(scene), tmp_path, "--out", str(out_file), "--json")
    summary = json.loads(printed)
    count = scene.video.annotation_frame_count
    assert summary["video"] == scene.video.pk
    assert summary["engine"] == "cpu"
    assert summary["frames"] == count
    assert [m["object_id"] for m in summary["masklets"]] == [3, 4]
    job = TrackingJob.objects.get(pk=summary["job"])
    assert job.status == "succeeded"
    assert job.frames_done == count
    # The pillar is easy for the CPU tracker at this size, the small walker less so: bounds
    # on quality, the engine's own tests hold the real figures.
    for row, object_id, bound in zip(summary["masklets"], (3, 4), (0.5, 0.85), strict=True):
        masklet = Masklet.objects.get(pk=row["id"])
        assert masklet.object_id == object_id
        revision = masklet.current_revision
        assert revision is not None
        assert revision.job_id == job.pk
        assert len(revision.masks) == count
        assert Prompt.objects.filter(masklet=masklet, mask__isnull=False).count() == 1
        ious = [iou(decode(m), scene.mask(k, object_id)) for k, m in enumerate(revision.masks)]
        assert float(np.mean(ious)) >= bound, ious
    document = json.loads(out_file.read_text())
    assert document["masklet_id"] == [3, 4]
    assert document["video_height"] == 108.0
    assert document["video_width"] == 192.0
    assert len(document["masklet"]) == count
    stored = {
        m.object_id: m.current_revision.masks for m in Masklet.objects.filter(video=scene.video)
    }
    for k, row in enumerate(document["masklet"]):
        assert row == [stored[3][k], stored[4][k]]


def test_track_prints_a_line_per_masklet_without_json(scene: Scene, tmp_path: Path) -> None:
    printed = _run(scene, _prompts(scene, (4,)), tmp_path)
    assert "(object 4): revision 1, visible on" in printed


@pytest.mark.parametrize(
    ("prompts", "message"),
    [
        ({"object_id": 1}, "non-empty JSON list"),
        ([], "non-empty JSON list"),
        ([{"object_id": 0, "frame": 0, "points": [[1, 1]], "labels": [1]}], "object_id"),
        ([{"object_id": 1, "points": [[1, 1]], "labels": [1]}], "frame is missing"),
        ([{"object_id": 1, "frame": 99, "points": [[1, 1]], "labels": [1]}], "frame must be"),
        ([{"object_id": 1, "frame": 0, "points": [[500, 1]], "labels": [1]}], "outside"),
        ([{"object_id": 1, "frame": 0, "points": [[1, 1]], "labels": []}], "label"),
        ([{"object_id": 1, "frame": 0, "points": [[1, 1]], "labels": [1], "mask": 1}], "unknown"),
        ([{"object_id": 1, "frame": 0, "box": [5, 5, 1, 1]}], "box"),
    ],
)
def test_bad_prompt_files_are_refused_naming_the_problem_and_store_nothing(
    scene: Scene, tmp_path: Path, prompts: Any, message: str
) -> None:
    valid = _prompts(scene, (4,))
    entries = prompts if not isinstance(prompts, list) or not prompts else valid + prompts
    with pytest.raises(CommandError, match=message) as caught:
        _run(scene, entries, tmp_path)
    if isinstance(prompts, list) and prompts:
        assert "prompt #2" in str(caught.value)
    assert Masklet.objects.count() == 0
    assert Prompt.objects.count() == 0
    assert TrackingJob.objects.count() == 0
    assert MaskletRevision.objects.count() == 0


def test_unreadable_or_non_json_files_and_unknown_videos_are_refused(
    scene: Scene, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("track", "--video", str(scene.video.pk), "--prompts", str(bad))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("track", "--video", str(scene.video.pk), "--prompts", str(tmp_path / "no"))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("track", "--video", "999999", "--prompts", str(bad))
    assert Masklet.objects.count() == 0


def test_object_ids_the_video_already_has_are_refused(scene: Scene, tmp_path: Path) -> None:
    Masklet.objects.create(video=scene.video, object_id=3)
    with pytest.raises(CommandError, match="already has masklet"):
        _run(scene, _prompts(scene), tmp_path)
    assert Masklet.objects.count() == 1
    assert TrackingJob.objects.count() == 0


def test_a_missing_sam2_checkpoint_is_a_clear_error(scene: Scene, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="SAM2_") as caught:
        _run(scene, _prompts(scene, (4,)), tmp_path, "--engine", "sam2")
    assert "Traceback" not in str(caught.value)
    assert Masklet.objects.count() == 0


def test_an_empty_rle_is_what_absent_frames_hold(scene: Scene, tmp_path: Path) -> None:
    _run(scene, _prompts(scene, (4,)), tmp_path)
    revision = MaskletRevision.objects.get()
    empty = rle.empty(108, 192)
    for k, mask in enumerate(revision.masks):
        if not revision.areas[k]:
            assert mask == empty
            assert revision.bboxes[k] is None
