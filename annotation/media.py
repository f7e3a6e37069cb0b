"""Video probing and processing with PyAV. No Django: paths in, files and facts out.

Frame spaces: a source video has source frames at their own timestamps; the project's annotation
fps defines annotation frame k at t = k / fps, shown as the source frame nearest to t (ties go
to the earlier frame). Frame k exists while that nearest source frame exists, i.e. while
t <= last_source_time + half a source frame. A 24 fps, 483-frame video has 121 annotation frames.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "gif", "webp_pipe", "bmp_pipe", "tiff_pipe"}
IMAGE_CODECS = {"png", "mjpeg", "gif", "bmp", "tiff", "webp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts"}
MAX_NAME_LENGTH = 200
# A source that decodes to less than this share of the frames its header promises is truncated.
MIN_DECODED_SHARE = 0.98


class MediaError(Exception):
    """A problem with the input file, worded for the person who supplied it."""


@dataclass(frozen=True)
class ProbeResult:
    container: str
    codec: str
    width: int  # as displayed, after rotation
    height: int
    rotation: int  # degrees counter-clockwise applied to decoded frames to show them upright
    fps: float
    frame_count: int  # as the container claims; 0 when unknown
    duration: float
    has_audio: bool


@dataclass
class ClipResult:
    """What processing one clip produced: facts plus the files written into ``out_dir``."""

    width: int
    height: int
    source_frame_count: int
    duration: float
    fps: float
    frame_index: list[int] = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)


def safe_name(name: str) -> str:
    """Return a display name safe to store and to use in a storage key, or raise MediaError.

    Names that try to leave their folder (``../x.mp4``, ``/etc/x``, ``a\\b``) are refused rather
    than cleaned, so a user is never surprised by what was stored.
    """
    if not name or not name.strip():
        raise MediaError("file name is empty")
    if "\x00" in name or any(ord(c) < 32 for c in name):
        raise MediaError(f"file name {name!r} contains control characters")
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith(".."):
        raise MediaError(f"file name {name!r} is not a plain file name (path traversal refused)")
    normalized = unicodedata.normalize("NFC", name).strip()
    if len(normalized) > MAX_NAME_LENGTH:
        raise MediaError(f"file name is longer than {MAX_NAME_LENGTH} characters")
    if not re.fullmatch(r"[\w .()\[\]+,=@~-]+", normalized):
        raise MediaError(f"file name {name!r} contains characters that are not allowed")
    return normalized


def sha256_of(path: str | os.PathLike[str], chunk: int = 4 * 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def probe(path: str | os.PathLike[str]) -> ProbeResult:
    """Read the container header; raise MediaError for anything that is not a usable video."""
    size = os.path.getsize(path)
    if size == 0:
        raise MediaError("file is empty (0 bytes)")
    try:
        container = av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        if _looks_like_iso_media(path):
            raise MediaError(f"corrupt or truncated MP4/MOV file ({_ffmpeg_reason(exc)})") from None
        raise MediaError(f"not a readable video file ({_ffmpeg_reason(exc)})") from None
    with container:
        fmt = container.format.name
        if fmt in IMAGE_FORMATS:
            raise MediaError(f"file is an image ({fmt.replace('_pipe', '')}), not a video")
        if not container.streams.video:
            if container.streams.audio:
                raise MediaError("file has no video stream (audio only)")
            raise MediaError("file has no video stream")
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        if codec in IMAGE_CODECS and (stream.frames or 0) <= 1:
            raise MediaError(f"file is a still image ({codec}), not a video")
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        duration = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        rotation = _rotation_of(container, stream)
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            raise MediaError("video stream has no frame size (corrupt header)")
        if rotation in (90, 270):
            width, height = height, width
        return ProbeResult(
            container=fmt,
            codec=codec,
            width=width,
            height=height,
            rotation=rotation,
            fps=fps,
            frame_count=int(stream.frames or 0),
            duration=duration,
            has_audio=bool(container.streams.audio),
        )


def _looks_like_iso_media(path: str | os.PathLike[str]) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(12)
    return len(head) == 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide")


def _ffmpeg_reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return re.sub(r"\s*:\s*'[^']*'$", "", text).strip() or exc.__class__.__name__


def _rotation_of(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    """The display rotation (degrees, counter-clockwise), normalised to 0/90/180/270."""
    rotation = 0
    try:
        frame = next(container.decode(stream))
        rotation = round(getattr(frame, "rotation", 0) or 0)
    except (StopIteration, av.error.FFmpegError):
        raise MediaError("video stream has no decodable frame (corrupt or truncated)") from None
    finally:
        container.seek(0)
    return (rotation % 360 + 360) % 360 // 90 * 90


def annotation_frame_count(source_times: list[float], annotation_fps: float) -> int:
    """Number of annotation frames for source frames at the given times (seconds from 0)."""
    return len(build_frame_index(source_times, annotation_fps))


def build_frame_index(source_times: list[float], annotation_fps: float) -> list[int]:
    """Source frame shown as each annotation frame (see the module docstring for the rule)."""
    assigner = _FrameAssigner(Fraction(annotation_fps).limit_denominator(1_000_000))
    chosen: list[int] = []
    for i, t in enumerate(source_times):
        chosen.extend(k for k, _ in assigner.feed(i, Fraction(t)))
    chosen.extend(k for k, _ in assigner.finish(_half_frame(source_times)))
    return chosen


def _half_frame(times: list[float]) -> Fraction:
    if len(times) < 2:
        return Fraction(0)
    return Fraction(times[-1] - times[0]) / (len(times) - 1) / 2


class _FrameAssigner:
    """Streams source frames and says which become annotation frames, keeping one frame back.

    ``feed`` and ``finish`` yield (source index, payload) for each annotation frame in order.
    """

    def __init__(self, fps: Fraction) -> None:
        self.fps = fps
        self.k = 0
        self.prev: tuple[int, Fraction, object] | None = None

    def _target(self) -> Fraction:
        return Fraction(self.k) / self.fps

    def feed(self, index: int, t: Fraction, payload: object = None) -> Iterator[tuple[int, object]]:
        while self._target() <= t:
            target = self._target()
            if self.prev is not None and target - self.prev[1] <= t - target:
                yield self.prev[0], self.prev[2]
            else:
                yield index, payload
            self.k += 1
        self.prev = (index, t, payload)

    def finish(self, half_frame: Fraction) -> Iterator[tuple[int, object]]:
        if self.prev is None:
            return
        while self._target() <= self.prev[1] + half_frame:
            yield self.prev[0], self.prev[2]
            self.k += 1


@dataclass
class _Frame:
    index: int
    time: Fraction
    image: np.ndarray  # BGR, upright


def _decode(
    path: str | os.PathLike[str], rotation: int, start: float, end: float | None
) -> Iterator[_Frame]:
    """Upright BGR frames with times relative to ``start``; raises MediaError on corrupt data."""
    try:
        container = av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        raise MediaError(f"not a readable video file ({_ffmpeg_reason(exc)})") from None
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = stream.time_base or Fraction(1, 90_000)
        if start > 0:
            container.seek(int(start / time_base), stream=stream, backward=True)
        origin: Fraction | None = None
        index = 0
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = Fraction(frame.pts) * (frame.time_base or time_base)
                if origin is None:
                    origin = t if start <= 0 else Fraction(start)
                if t < origin:
                    continue
                if end is not None and t >= Fraction(end):
                    break
                image: np.ndarray = frame.to_ndarray(format="bgr24")
                if rotation:
                    image = np.ascontiguousarray(np.rot90(image, rotation // 90))
                yield _Frame(index=index, time=t - origin, image=image)
                index += 1
        except av.error.FFmpegError as exc:
            raise MediaError(
                f"video data is corrupt at source frame {index} ({_ffmpeg_reason(exc)})"
            ) from None


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


class _ProxyWriter:
    """H.264 MP4 for the browser: upright, at most ``max_width`` wide, short keyframe interval."""

    TIME_BASE = Fraction(1, 90_000)

    def __init__(
        self, path: Path, width: int, height: int, fps: float, max_width: int, gop_seconds: float
    ) -> None:
        scale = min(1.0, max_width / width)
        self.width, self.height = _even(width * scale), _even(height * scale)
        self.container = av.open(
            str(path), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(30)
        gop = max(1, round(float(rate) * gop_seconds))
        self.stream = self.container.add_stream(
            "libx264",
            rate=rate,
            options={
                "preset": "veryfast",
                "crf": "23",
                "g": str(gop),
                "keyint_min": str(gop),
                "sc_threshold": "0",
            },
        )
        self.stream.width, self.stream.height = self.width, self.height
        self.stream.pix_fmt = "yuv420p"
        self.stream.time_base = self.TIME_BASE
        self.last_pts = -1

    def write(self, image: np.ndarray, t: Fraction) -> None:
        if image.shape[1] != self.width or image.shape[0] != self.height:
            image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        pts = max(self.last_pts + 1, round(t / self.TIME_BASE))
        frame.pts, frame.time_base, self.last_pts = pts, self.TIME_BASE, pts
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


def process_clip(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    probe_result: ProbeResult,
    annotation_fps: float,
    start: float = 0.0,
    end: float | None = None,
    proxy_max_width: int = 1280,
    keyframe_seconds: float = 0.5,
    jpeg_quality: int = 90,
    progress: Callable[[float], None] | None = None,
) -> ClipResult:
    """Decode the source once and write into ``out_dir``: ``frames/NNNNNN.jpg`` (annotation
    frames at full resolution), ``proxy.mp4`` and ``thumb.jpg``.

    Raises MediaError when the data is corrupt or truncated; the caller removes ``out_dir``.
    """
    out = Path(out_dir)
    (out / "frames").mkdir(parents=True, exist_ok=True)
    proxy = _ProxyWriter(
        out / "proxy.mp4",
        probe_result.width,
        probe_result.height,
        probe_result.fps,
        proxy_max_width,
        keyframe_seconds,
    )
    assigner = _FrameAssigner(Fraction(annotation_fps).limit_denominator(1_000_000))
    result = ClipResult(
        width=probe_result.width,
        height=probe_result.height,
        source_frame_count=0,
        duration=0.0,
        fps=probe_result.fps,
    )
    jpeg_params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]
    expected = _expected_frames(probe_result, start, end)
    first_time = last_time = Fraction(0)

    def save(chosen: Iterator[tuple[int, object]]) -> None:
        for source_index, payload in chosen:
            assert isinstance(payload, _Frame)
            k = len(result.frame_index)
            ok, buf = cv2.imencode(".jpg", payload.image, jpeg_params)
            if not ok:
                raise MediaError(f"could not encode annotation frame {k} as JPEG")
            (out / "frames" / f"{k:06d}.jpg").write_bytes(buf.tobytes())
            result.frame_index.append(source_index)
            result.frame_times.append(float(payload.time))

    try:
        for frame in _decode(path, probe_result.rotation, start, end):
            if frame.image.shape[:2] != (probe_result.height, probe_result.width):
                raise MediaError(
                    f"frame {frame.index} is {frame.image.shape[1]}x{frame.image.shape[0]}, "
                    f"expected {probe_result.width}x{probe_result.height} (size changes mid-stream)"
                )
            if frame.index == 0:
                first_time = frame.time
            last_time = frame.time
            proxy.write(frame.image, frame.time)
            save(assigner.feed(frame.index, frame.time, frame))
            result.source_frame_count += 1
            if progress and expected and frame.index % 10 == 0:
                progress(min(1.0, frame.index / expected))
        if result.source_frame_count == 0:
            raise MediaError("video stream has no decodable frames")
        if result.source_frame_count > 1:
            half = (last_time - first_time) / (result.source_frame_count - 1) / 2
        else:
            half = Fraction(0)
        save(assigner.finish(half))
    finally:
        proxy.close()

    if expected and result.source_frame_count < expected * MIN_DECODED_SHARE:
        raise MediaError(
            f"video is truncated: decoded {result.source_frame_count} of {expected} frames"
        )
    if result.source_frame_count > 1:
        per_frame = float(last_time - first_time) / (result.source_frame_count - 1)
        result.duration = float(last_time) + per_frame
        if per_frame > 0:
            result.fps = probe_result.fps or 1.0 / per_frame
    else:
        result.duration = 1.0 / probe_result.fps if probe_result.fps else 0.0
    _write_thumbnail(out, len(result.frame_index))
    if progress:
        progress(1.0)
    return result


def _expected_frames(probe_result: ProbeResult, start: float, end: float | None) -> int:
    if start == 0 and end is None:
        return probe_result.frame_count
    if not probe_result.fps:
        return 0
    stop = probe_result.duration if end is None else min(end, probe_result.duration)
    # Clip boundaries fall between frames; only count frames surely inside the range.
    return max(0, math.floor((stop - start) * probe_result.fps) - 1)


def _write_thumbnail(out: Path, frame_count: int, width: int = 320) -> None:
    middle = out / "frames" / f"{frame_count // 2:06d}.jpg"
    image = cv2.imread(str(middle))
    if image is None:
        raise MediaError("could not read back an extracted frame for the thumbnail")
    height = _even(image.shape[0] * width / image.shape[1])
    thumb = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(out / "thumb.jpg"), thumb, [cv2.IMWRITE_JPEG_QUALITY, 85])


def detect_scenes(
    path: str | os.PathLike[str], *, max_clip_seconds: float, duration: float
) -> list[tuple[float, float]]:
    """Clip ranges (start, end) in seconds: scene cuts found by PySceneDetect's content detector,
    long scenes cut further so no clip exceeds ``max_clip_seconds``."""
    from scenedetect import ContentDetector, detect

    try:
        scenes = detect(str(path), ContentDetector(), show_progress=False)
    except Exception as exc:  # PySceneDetect wraps decoder failures in several exception types
        raise MediaError(f"scene detection failed ({exc})") from None
    ranges = [(s.seconds, e.seconds) for s, e in scenes] or [(0.0, duration)]
    clips: list[tuple[float, float]] = []
    for start, end in ranges:
        pieces = max(1, math.ceil((end - start) / max_clip_seconds - 1e-9))
        step = (end - start) / pieces
        clips.extend((start + i * step, start + (i + 1) * step) for i in range(pieces))
    return [(round(s, 6), round(e, 6)) for s, e in clips if e - s > 0]
