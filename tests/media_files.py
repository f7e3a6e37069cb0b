"""Small media files made on the fly for ingest tests (good and deliberately bad ones)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


def make_video(
    path: Path,
    *,
    width: int = 160,
    height: int = 96,
    fps: float = 24.0,
    frames: int = 48,
    cut_at: int | None = None,
    faststart: bool = False,
) -> Path:
    """An H.264 MP4 whose frame i shows i as a brightness ramp; ``cut_at`` adds a hard scene cut."""
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), mode="w", format="mp4", options=options) as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        rng = np.random.default_rng(0)
        texture = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
        for i in range(frames):
            image = texture.copy()
            if cut_at is not None and i >= cut_at:
                image = 255 - image[:, ::-1]
            x = int((i * 3) % max(1, width - 20))
            cv2.rectangle(image, (x, 20), (x + 20, 50), (0, 0, 255), -1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_audio_only(path: Path) -> Path:
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=44100)
        stream.layout = "mono"
        samples = (np.sin(np.arange(44100) / 10.0) * 0.2).astype(np.float32)[None, :]
        for start in range(0, samples.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples[:, start : start + 1024]), format="fltp", layout="mono"
            )
            frame.sample_rate = 44100
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_png(path: Path) -> Path:
    ok, buf = cv2.imencode(".png", np.full((32, 32, 3), 127, np.uint8))
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def truncate(source: Path, target: Path, keep: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


def bad_inputs(folder: Path) -> dict[str, Path]:
    """Each bad kind of input, keyed by what is wrong with it."""
    folder.mkdir(parents=True, exist_ok=True)
    good = make_video(folder / "good-source.bin", frames=120)
    header_first = make_video(folder / "faststart-source.bin", frames=120, faststart=True)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("these are not the frames you are looking for\n")
    return {
        "empty": folder / "empty.mp4",
        "text": folder / "notes.mp4",
        "png": make_png(folder / "picture.mp4"),
        "audio": make_audio_only(folder / "song.mp4"),
        "truncated": truncate(good, folder / "truncated.mp4", 0.5),
        "truncated_data": truncate(header_first, folder / "cut-short.mp4", 0.5),
    }
