import itertools
from pathlib import Path

import cv2
import pytest

from annotation import media
from tests.media_files import bad_inputs, make_video


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    return bad_inputs(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("empty", "file is empty (0 bytes)"),
        ("text", "not a readable video file"),
        ("png", "file is an image (png), not a video"),
        ("audio", "file has no video stream (audio only)"),
        ("truncated", "corrupt or truncated MP4/MOV file"),
    ],
)
def test_probe_refuses_bad_input_with_a_clear_reason(bad, kind, message):
    with pytest.raises(media.MediaError) as caught:
        media.probe(bad[kind])
    assert message in str(caught.value)


def test_processing_refuses_a_file_cut_short_after_its_header(bad, tmp_path):
    probe = media.probe(bad["truncated_data"])
    with pytest.raises(media.MediaError, match=r"video is truncated: decoded \d+ of 120 frames"):
        media.process_clip(bad["truncated_data"], tmp_path, probe_result=probe, annotation_fps=6)


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd.mp4", "/abs/clip.mp4", "a/b.mp4", "..\\x.mp4", "..", "bad\x00.mp4", ""],
)
def test_safe_name_refuses_paths_and_control_characters(name):
    with pytest.raises(media.MediaError):
        media.safe_name(name)


def test_safe_name_keeps_ordinary_names():
    assert media.safe_name("sav_000123 (take 2).mp4") == "sav_000123 (take 2).mp4"


def test_process_clip_writes_frames_proxy_and_thumbnail(tmp_path):
    source = make_video(tmp_path / "v.mp4", width=160, height=96, fps=24, frames=49)
    probe = media.probe(source)
    out = tmp_path / "out"
    result = media.process_clip(source, out, probe_result=probe, annotation_fps=6)
    assert result.source_frame_count == 49
    assert result.frame_index == [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48]
    assert sorted(p.name for p in (out / "frames").iterdir())[:2] == ["000000.jpg", "000001.jpg"]
    assert cv2.imread(str(out / "frames" / "000012.jpg")).shape == (96, 160, 3)
    assert cv2.imread(str(out / "thumb.jpg")).shape[1] == 320
    proxy = media.probe(out / "proxy.mp4")
    assert (proxy.codec, proxy.width, proxy.height) == ("h264", 160, 96)


def test_proxy_has_a_keyframe_at_least_every_half_second(tmp_path):
    import av

    source = make_video(tmp_path / "v.mp4", fps=30, frames=90)
    media.process_clip(source, tmp_path / "out", probe_result=media.probe(source), annotation_fps=6)
    with av.open(str(tmp_path / "out" / "proxy.mp4")) as container:
        keyframes = [p.pts for p in container.demux(video=0) if p.is_keyframe]
        tb = container.streams.video[0].time_base
    times = [float(k * tb) for k in keyframes]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) >= 6
    assert max(gaps) <= 0.5 + 1e-6


def test_rotated_video_is_stored_upright(tmp_path):
    import shutil
    import subprocess

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg command-line tool not installed (make test installs it)")
    plain = make_video(tmp_path / "plain.mp4", width=160, height=96, frames=12)
    rotated = tmp_path / "rotated.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(plain),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            str(rotated),
        ],
        check=True,
    )
    probe = media.probe(rotated)
    assert (probe.rotation, probe.width, probe.height) == (90, 96, 160)
    media.process_clip(rotated, tmp_path / "out", probe_result=probe, annotation_fps=6)
    upright = cv2.imread(str(tmp_path / "out" / "frames" / "000000.jpg"))
    reference = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(rotated),
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-vcodec",
            "png",
            "-",
        ],
        check=True,
        capture_output=True,
    ).stdout
    import numpy as np

    expected = cv2.imdecode(np.frombuffer(reference, np.uint8), cv2.IMREAD_COLOR)
    assert upright.shape == expected.shape == (160, 96, 3)
    # JPEG blurs the noise texture a little; the wrong turn would differ completely.
    same = np.abs(upright.astype(int) - expected.astype(int)).mean()
    turned_wrong = np.abs(upright[::-1, ::-1].astype(int) - expected.astype(int)).mean()
    assert same < turned_wrong / 4


def test_scene_detection_cuts_at_a_hard_cut_and_caps_clip_length(tmp_path):
    source = make_video(tmp_path / "cut.mp4", fps=24, frames=240, cut_at=96)
    clips = media.detect_scenes(source, max_clip_seconds=4.0, duration=10.0)
    assert clips[0] == (0.0, 4.0)
    starts = [round(s, 3) for s, _ in clips]
    assert 4.0 in starts
    assert all(e - s <= 4.0 + 1e-6 for s, e in clips)
    assert clips[-1][1] == pytest.approx(10.0)


def test_probe_of_shared_bedroom_clip(shared_data):
    probe = media.probe(shared_data / "videos" / "bedroom.mp4")
    assert (probe.width, probe.height, probe.fps, probe.frame_count) == (960, 540, 30.0, 200)


def test_unsupported_path_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError):
        media.probe(Path(tmp_path / "missing.mp4"))
