import io
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from annotation.exports import formats
from annotation.models import Video
from tests.factories import ProjectFactory, VideoFactory, tracked_masklet
from tests.media_files import make_video
from tracking.models import Masklet, MaskletRevision, MaskletSource, MaskletStatus
from tracking.services.sav import SavFile, SavImportError, motion_score, sav_import
from workers import rle

pytestmark = pytest.mark.django_db


# --- helpers -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sav_example(shared_data: Path) -> Path:
    folder = shared_data / "sav_example"
    if not (folder / "sav_000001_manual.json").exists():
        pytest.skip(f"SA-V example files are absent from {folder}")
    return folder


@pytest.fixture(scope="session")
def sav_video_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for sav_000001.mp4 (not distributed): 480x848, 24 fps, 483 frames."""
    path = tmp_path_factory.mktemp("sav") / "sav_000001.mp4"
    return make_video(path, width=480, height=848, fps=24.0, frames=483)


def sav_sized_video(**kw):  # type: ignore[no-untyped-def]
    """A ready video with SA-V's facts (no media: the import reads only the frame index)."""
    fields = {
        "width": 480,
        "height": 848,
        "source_fps": 24.0,
        "source_frame_count": 483,
        "duration": 20.125,
        "annotation_frame_count": 121,
        "frame_index": [4 * k for k in range(121)],
    }
    fields.update(kw)
    return VideoFactory(**fields)


def small_video(project=None, frames: int = 13, fps: float = 6.0):  # type: ignore[no-untyped-def]
    """A 64x48, 24 fps, 49-frame video (2 s): 13 annotation frames at 6 fps."""
    project = project or ProjectFactory(annotation_fps=fps)
    return VideoFactory(
        project=project,
        width=64,
        height=48,
        source_fps=24.0,
        source_frame_count=49,
        duration=49 / 24,
        annotation_frame_count=frames,
        frame_index=[round(24 * k / fps) for k in range(frames)],
    )


def square(x: int, y: int, size: int = 8, height: int = 48, width: int = 64) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    mask[y : y + size, x : x + size] = True
    return mask


def sav_document(tracks: list[list[np.ndarray]], kind: str = "manual") -> dict:
    """An SA-V file from masks given per masklet, per SA-V frame."""
    height, width = tracks[0][0].shape
    frames = len(tracks[0])
    return {
        "video_id": "sav_999999",
        "video_duration": 49 / 24,
        "video_frame_count": 49.0,
        "video_height": float(height),
        "video_width": float(width),
        "video_resolution": float(height * width),
        "video_environment": "Outdoor",
        "video_split": "train",
        "masklet": [[rle.encode(track[j]) for track in tracks] for j in range(frames)],
        "masklet_id": list(range(len(tracks))),
        "masklet_first_appeared_frame": [0.0] * len(tracks),
        "masklet_frame_count": [frames] * len(tracks),
        "masklet_type": [kind] * len(tracks),
        "masklet_stability_score": [None] * len(tracks),
        "masklet_num": len(tracks),
    }


def static_and_moving(frames: int = 13) -> list[list[np.ndarray]]:
    static = [square(4, 4) for _ in range(frames)]
    moving = [square(4 + 4 * j, 30) for j in range(frames)]
    return [static, moving]


def write(tmp_path: Path, name: str, document: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def import_sav(*args: str) -> tuple[list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_sav", *args, "--json", stdout=out, stderr=err)
    rows = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return rows, err.getvalue()


def assert_nothing_stored() -> None:
    assert Masklet.objects.count() == 0
    assert MaskletRevision.objects.count() == 0


# --- the real SA-V example ---------------------------------------------------------------------


@pytest.mark.slow
def test_import_of_the_sav_example_keeps_every_rle_byte_exact(sav_example, sav_video_file):
    project = ProjectFactory()
    manual_path = sav_example / "sav_000001_manual.json"
    auto_path = sav_example / "sav_000001_auto.json"
    rows, _ = import_sav(
        "--project", project.name, "--video", str(sav_video_file), str(manual_path), str(auto_path)
    )

    video = Video.objects.get(project=project)
    assert (video.width, video.height, video.annotation_frame_count) == (480, 848, 121)
    assert len(rows) == 14
    assert [r["object_id"] for r in rows] == list(range(14))
    assert all(r["video"] == video.pk and r["status"] == "candidate" for r in rows)
    assert all(r["frames"] == 121 for r in rows)
    for path, source, first_object_id in (
        (manual_path, MaskletSource.SAV_MANUAL, 0),
        (auto_path, MaskletSource.SAV_AUTO, 5),
    ):
        document = json.loads(path.read_text())
        for i, sav_id in enumerate(document["masklet_id"]):
            masklet = Masklet.objects.get(video=video, object_id=first_object_id + sav_id)
            revision = masklet.current_revision
            assert masklet.source == source
            assert masklet.status == MaskletStatus.CANDIDATE
            assert revision.engine == source
            assert revision.number == 1
            assert masklet.revisions.count() == 1
            stored = revision.masks
            original = [frame[i] for frame in document["masklet"]]
            assert stored == original  # same size lists and the same counts strings
            for mine, theirs in zip(stored, original, strict=True):
                assert np.array_equal(rle.decode(mine), rle.decode(theirs))
            areas = [rle.area(m) for m in original]
            assert revision.areas == areas
            boxes = [rle.bbox_xyxy(m) for m in original]  # stored as [x, y, width, height]
            assert revision.bboxes == [b and [b[0], b[1], b[2] - b[0], b[3] - b[1]] for b in boxes]
            visible = [k for k, a in enumerate(areas) if a]
            assert revision.first_visible_frame == visible[0]
            assert revision.last_visible_frame == visible[-1]
            meta = masklet.source_metadata
            assert meta["sav_file"] == path.name
            assert meta["sav_type"] == source.removeprefix("sav_")
            assert meta["masklet_id"] == sav_id
            assert meta["first_appeared_frame"] == int(document["masklet_first_appeared_frame"][i])
            assert meta["size_abs"] == document["masklet_size_abs"][i]
            assert meta["size_bucket"] == document["masklet_size_bucket"][i]
            assert meta["edited_frame_count"] == document["masklet_edited_frame_count"][i]
            assert meta["sav_frame_map"] == list(range(121))
            assert meta["video"]["video_id"] == "sav_000001"
            if source == MaskletSource.SAV_AUTO:
                expected = [row[i] for row in document["masklet_stability_score"]]
                assert meta["stability_score"] == expected
            else:
                assert meta["stability_score"] is None

    # The SA-V masklet export of the manual masklets writes the file's own "masklet" bytes.
    manual = json.loads(manual_path.read_text())
    exported = formats.sav_masklet_file(
        video_id="sav_000001",
        video_duration=video.duration,
        video_frame_count=video.source_frame_count,
        video_height=video.height,
        video_width=video.width,
        masklets=[
            {"masklet_id": m.object_id, "rles": m.current_revision.masks}
            for m in Masklet.objects.filter(video=video, source=MaskletSource.SAV_MANUAL)
        ],
    )
    assert json.dumps(exported["masklet"]) == json.dumps(manual["masklet"])
    assert exported["masklet_first_appeared_frame"] == [
        int(v) for v in manual["masklet_first_appeared_frame"]
    ]

    # Again, by id and by path: both files are recognised and skipped, nothing changes.
    for video_ref in (str(video.pk), str(sav_video_file)):
        again, notes = import_sav(
            "--project", project.name, "--video", video_ref, str(manual_path), str(auto_path)
        )
        assert again == []
        assert "sav_000001_manual.json: already imported into video" in notes
        assert "as masklets 0-4, skipped" in notes
        assert "sav_000001_auto.json: already imported" in notes
        assert "as masklets 5-13, skipped" in notes
    assert Masklet.objects.count() == 14
    assert MaskletRevision.objects.count() == 14
    assert Video.objects.filter(project=project).count() == 1


def test_sav_example_against_a_video_of_another_size_is_refused(sav_example):
    video = sav_sized_video(width=960, height=540)
    with pytest.raises(CommandError, match=r"sav_000001_manual.json: annotated for a 480.0x848.0"):
        import_sav(
            "--project",
            video.project.name,
            "--video",
            str(video.pk),
            str(sav_example / "sav_000001_manual.json"),
        )
    assert_nothing_stored()


def test_sav_example_against_a_video_with_other_frame_counts_is_refused(sav_example):
    bedroom_like = sav_sized_video(
        width=480,
        height=848,
        source_fps=30.0,
        source_frame_count=200,
        annotation_frame_count=40,
        frame_index=[5 * k for k in range(40)],
    )
    with pytest.raises(
        CommandError,
        match=r"sav_000001_auto.json: 121 annotated frames at 6 fps \(0-20.000 s\) do not fit "
        rf"video #{bedroom_like.pk} .*40 annotation frames at 6 fps, 0-6.500 s\): SA-V frames "
        r"after 6.500 s have no annotation frame",
    ):
        import_sav(
            "--project",
            bedroom_like.project.name,
            "--video",
            str(bedroom_like.pk),
            str(sav_example / "sav_000001_auto.json"),
        )
    assert_nothing_stored()


def test_a_corrupt_rle_in_the_second_file_imports_nothing_from_either(sav_example, tmp_path):
    video = sav_sized_video()
    auto = json.loads((sav_example / "sav_000001_auto.json").read_text())
    auto["masklet"][57][3]["counts"] = auto["masklet"][57][3]["counts"][:-3]
    bad = write(tmp_path, "sav_000001_auto.json", auto)
    with pytest.raises(
        CommandError,
        match=r"sav_000001_auto.json: SA-V frame 57, masklet 3: RLE counts (cover \d+ pixels|"
        r"string ends)",
    ):
        import_sav(
            "--project",
            video.project.name,
            "--video",
            str(video.pk),
            str(sav_example / "sav_000001_manual.json"),
            str(bad),
        )
    assert_nothing_stored()


# --- frame mapping -----------------------------------------------------------------------------


def test_a_3_fps_project_takes_every_other_sav_frame(tmp_path):
    video = small_video(frames=7, fps=3.0)
    tracks = static_and_moving()
    path = write(tmp_path, "sav_999999_manual.json", sav_document(tracks))
    result = sav_import(video=video, files=[SavFile.read(path)])
    document = json.loads(path.read_text())
    moving = result.masklets[1]
    assert moving.source_metadata["sav_frame_map"] == [0, 2, 4, 6, 8, 10, 12]
    assert moving.current_revision.masks == [document["masklet"][j][1] for j in range(0, 13, 2)]
    assert moving.current_revision.bboxes[3] == [28, 30, 8, 8]


@pytest.mark.parametrize(
    ("fps", "frames", "reason"),
    [
        (4.0, 9, r"annotation frame 1 \(0.250 s\) falls between SA-V frames \(nearest 2"),
        (6.0, 14, r"annotation frame 13 \(2.167 s\) is past the last SA-V frame"),
        (6.0, 12, r"SA-V frames after 1.833 s have no annotation frame"),
    ],
)
def test_frames_that_do_not_fit_are_refused(tmp_path, fps, frames, reason):
    video = small_video(frames=frames, fps=fps)
    path = write(tmp_path, "sav_999999_manual.json", sav_document(static_and_moving()))
    with pytest.raises(
        SavImportError, match=rf"^sav_999999_manual.json: 13 annotated frames .*{reason}"
    ):
        sav_import(video=video, files=[SavFile.read(path)])
    assert_nothing_stored()


# --- motion score ------------------------------------------------------------------------------


def test_a_moving_masklet_ranks_above_a_static_one(tmp_path):
    video = small_video()
    path = write(tmp_path, "sav_999999_auto.json", sav_document(static_and_moving(), "auto"))
    rows, _ = import_sav("--project", video.project.name, "--video", str(video.pk), str(path))
    static, moving = (Masklet.objects.get(video=video, object_id=i) for i in (0, 1))
    # 4 px a frame over a 80 px diagonal, 6 frames a second, constant area.
    assert moving.motion_score == pytest.approx(6 * 4 / 80)
    assert static.motion_score == 0.0
    assert [r["object_id"] for r in sorted(rows, key=lambda r: -r["motion_score"])] == [1, 0]
    assert moving.source == MaskletSource.SAV_AUTO


def runs_of(masks: list[np.ndarray]) -> list[list[int]]:
    return [rle.validate(rle.encode(m), *m.shape) for m in masks]


def test_motion_score_counts_area_change_and_skips_absent_frames():
    empty = np.zeros((48, 64), dtype=bool)
    runs = runs_of([square(0, 0, 4), square(0, 0, 8), empty, square(0, 0, 8)])
    # One visible pair: the centroid moves (1.5, 1.5) -> (3.5, 3.5), area 16 -> 64.
    shift = np.hypot(2, 2) / np.hypot(64, 48)
    assert motion_score(runs, height=48, width=64, annotation_fps=6.0) == pytest.approx(
        6 * (shift + 0.25 * 48 / 64)
    )
    assert motion_score(runs[2:3], height=48, width=64, annotation_fps=6.0) == 0.0


def test_motion_score_centroids_from_runs_match_the_decoded_masks():
    rng = np.random.default_rng(7)
    masks = [rng.random((37, 53)) < share for share in (0.05, 0.3, 0.6)]
    expected = []
    for a, b in itertools.pairwise(masks):
        (ya, xa), (yb, xb) = (np.argwhere(m).mean(axis=0) for m in (a, b))
        shift = np.hypot(xb - xa, yb - ya) / np.hypot(53, 37)
        expected.append((shift, abs(int(b.sum()) - int(a.sum())) / max(a.sum(), b.sum())))
    score = motion_score(runs_of(masks), height=37, width=53, annotation_fps=2.0)
    assert score == pytest.approx(
        2 * (np.mean([e[0] for e in expected]) + 0.25 * np.mean([e[1] for e in expected]))
    )


# --- bad input: every case names the file and stores nothing -----------------------------------


def _bad_documents() -> list[tuple[str, object, str]]:
    def doc(**changes: object) -> dict:
        document = sav_document(static_and_moving())
        document.update(changes)
        return document

    good = sav_document(static_and_moving())
    counts_list = json.loads(json.dumps(good))
    counts_list["masklet"][2][1]["counts"] = [0, 3072]
    bad_char = json.loads(json.dumps(good))
    bad_char["masklet"][4][0]["counts"] = bad_char["masklet"][4][0]["counts"] + " "
    too_many = json.loads(json.dumps(good))
    too_many["masklet"][5][1] = rle.encode(np.zeros((48, 65), dtype=bool))
    too_many["masklet"][5][1]["size"] = [48, 64]
    other_size = json.loads(json.dumps(good))
    other_size["masklet"][6][0] = rle.encode(np.zeros((64, 48), dtype=bool))
    missing = json.loads(json.dumps(good))
    del missing["masklet"][7][1]["size"]
    short_frame = json.loads(json.dumps(good))
    short_frame["masklet"][8] = short_frame["masklet"][8][:1]

    def at(j: int, i: int) -> str:
        return rf"SA-V frame {j}, masklet {i}: RLE"

    cases = {
        "counts as a list": (counts_list, rf"{at(2, 1)} counts must be the compressed COCO"),
        "invalid character": (bad_char, rf"{at(4, 0)} counts has an invalid character ' '"),
        "runs past the frame": (too_many, rf"{at(5, 1)} counts cover 3120 pixels but a 48x64"),
        "mask of another size": (other_size, rf"{at(6, 0)} size \[64, 48\] does not match"),
        "no size": (missing, rf"{at(7, 1)} is missing size"),
        "frame short of masks": (short_frame, r"SA-V frame 8 has 1 masks, expected one per"),
        "header size": (doc(video_width=640.0), r"annotated for a 640.0x48.0 video but video"),
        "repeated ids": (doc(masklet_id=[1, 1]), r"repeated masklet ids \[1, 1\]"),
        "no masklets": (doc(masklet=[]), r"'masklet' must be a non-empty list"),
        "ids not integers": (doc(masklet_id=["a", "b"]), r"'masklet_id' must be a list of"),
        "count disagrees": (doc(masklet_num=3), r"masklet_num is 3 but there are 2 ids"),
        "short list": (doc(masklet_frame_count=[13]), r"masklet_frame_count must be a list with"),
        "type vs name": (doc(masklet_type=["auto"] * 2), r"the name says manual but masklet_type"),
        "mixed types": (doc(masklet_type=["auto", "manual"]), r"masklets of mixed types"),
        "not an object": ([1, 2], r"expected a JSON object"),
    }
    return [pytest.param(document, message, id=case) for case, (document, message) in cases.items()]


@pytest.mark.parametrize(("document", "message"), _bad_documents())
def test_every_bad_file_gets_its_error_and_nothing_is_stored(tmp_path, document, message):
    video = small_video()
    good = write(tmp_path, "sav_999998_auto.json", sav_document(static_and_moving(), "auto"))
    bad = write(tmp_path, "sav_999999_manual.json", document)
    with pytest.raises(CommandError, match=rf"^sav_999999_manual.json: {message}"):
        import_sav("--project", video.project.name, "--video", str(video.pk), str(good), str(bad))
    assert_nothing_stored()


def test_files_that_are_not_sav_json_are_refused(tmp_path):
    video = small_video()
    not_json = tmp_path / "sav_1_manual.json"
    not_json.write_bytes(b"\x89PNG\r\n")
    nan = tmp_path / "sav_2_auto.json"
    # json.dumps writes NaN for float("nan"), which is not JSON.
    nan.write_text(
        json.dumps(sav_document(static_and_moving(), "auto") | {"video_duration": math.nan})
    )
    untyped = sav_document(static_and_moving())
    del untyped["masklet_type"]
    no_kind = write(tmp_path, "masks.json", untyped)
    cases = [
        (not_json, r"^sav_1_manual.json: not a JSON file"),
        (nan, r"^sav_2_auto.json: not a JSON file \(NaN is not a JSON value\)"),
        (no_kind, r"^masks.json: cannot tell manual from auto"),
        (tmp_path / "absent_manual.json", r"absent_manual.json: cannot read \(No such file"),
    ]
    for path, message in cases:
        with pytest.raises(CommandError, match=message):
            import_sav("--project", video.project.name, "--video", str(video.pk), str(path))
    assert_nothing_stored()


def test_unknown_project_video_or_unready_video_is_refused(tmp_path):
    video = small_video()
    other = small_video()
    pending = small_video(project=video.project)
    Video.objects.filter(pk=pending.pk).update(status="pending")
    path = write(tmp_path, "sav_999999_manual.json", sav_document(static_and_moving()))
    name = video.project.name
    cases = [
        (("--project", "nope", "--video", str(video.pk)), r"project 'nope' does not exist"),
        (("--project", name, "--video", str(other.pk)), rf"video #{other.pk} does not exist in"),
        (("--project", name, "--video", "x.mp4"), r"--video 'x.mp4' is neither a file nor a"),
        (("--project", name, "--video", str(pending.pk)), r"is not ready \(status pending\)"),
    ]
    for args, message in cases:
        with pytest.raises(CommandError, match=message):
            import_sav(*args, str(path))
    assert_nothing_stored()


def test_a_video_path_that_fails_to_ingest_is_refused(tmp_path):
    project = ProjectFactory()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    path = write(tmp_path, "sav_999999_manual.json", sav_document(static_and_moving()))
    with pytest.raises(CommandError, match=r"broken.mp4: ingest failed: corrupt or truncated"):
        import_sav("--project", project.name, "--video", str(broken), str(path))
    assert_nothing_stored()


# --- idempotence -------------------------------------------------------------------------------


def test_reimporting_a_file_skips_it_and_a_changed_file_of_the_same_name_is_refused(tmp_path):
    video = small_video()
    tracked_masklet(video, object_id=3, visible=[True] * 13)
    path = write(tmp_path, "sav_999999_manual.json", sav_document(static_and_moving()))
    rows, _ = import_sav("--project", video.project.name, "--video", str(video.pk), str(path))
    # Object ids continue after the video's existing masklets; SA-V ids are kept in metadata.
    assert [(r["object_id"], r["sav_masklet_id"]) for r in rows] == [(4, 0), (5, 1)]

    rows, notes = import_sav(
        "--project", video.project.name, "--video", str(video.pk), str(path), str(path)
    )
    assert rows == []
    assert notes.count("sav_999999_manual.json: already imported into video") == 2
    assert "as masklets 4-5, skipped" in notes

    changed = sav_document(static_and_moving())
    changed["video_environment"] = "Indoor"
    other = tmp_path / "again"
    other.mkdir()
    changed_path = write(other, "sav_999999_manual.json", changed)
    with pytest.raises(
        CommandError,
        match=r"sav_999999_manual.json: a different file of this name \(manual\) was already "
        r"imported into video #\d+ as masklets 4-5; delete those first",
    ):
        import_sav("--project", video.project.name, "--video", str(video.pk), str(changed_path))
    assert Masklet.objects.filter(video=video).count() == 3
    assert MaskletRevision.objects.count() == 3
