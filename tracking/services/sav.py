"""SA-V import: the dataset's manual and automatic masklets become candidate masklets of a video.

Frame spaces: SA-V annotates every 4th frame of its 24 fps videos, i.e. SA-V frame j is at
t = j / 6 s. Annotation frame k of a video is at t = k / project.annotation_fps. Each annotation
frame takes the SA-V frame at the same time; a time counts as the same when it is within half a
source frame of the video (the accuracy with which frame k can show t anyway). A project at 6 fps
maps k -> k, at 3 fps k -> 2k; at 4 fps every odd frame falls between two SA-V frames, which is
refused. The SA-V file must also end where the video ends: a file with annotated frames past the
video's last annotation frame belongs to another (longer) video, and is refused.

RLEs are stored as the file has them (the same ``counts`` strings), so exporting the masklets
again gives the same bytes.

Idempotence: a file is recognised by the sha256 of its bytes. Importing a file already imported
into the video skips it (and says so); a different file with the same name and kind as one
already imported is refused, as it would duplicate its masklets.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Max

from annotation import media
from annotation.errors import ServiceError
from annotation.models import Project, Video, VideoStatus
from tracking.models import Masklet, MaskletSource, MaskletStatus
from tracking.services.jobs import revision_create
from workers import rle

SAV_FPS = 6.0
AREA_WEIGHT = 0.25  # of relative area change against centroid motion, in the motion score
SAV_KINDS = {"manual": MaskletSource.SAV_MANUAL, "auto": MaskletSource.SAV_AUTO}
# Per-masklet lists of an SA-V file, stored in Masklet.source_metadata under these names.
_PER_MASKLET = {
    "masklet_size_rel": "size_rel",
    "masklet_size_abs": "size_abs",
    "masklet_size_bucket": "size_bucket",
    "masklet_visibility_changes": "visibility_changes",
    "masklet_first_appeared_frame": "first_appeared_frame",
    "masklet_frame_count": "frame_count",
    "masklet_edited_frame_count": "edited_frame_count",
    "masklet_type": "type",
}
_VIDEO_FIELDS = (
    "video_id",
    "video_duration",
    "video_frame_count",
    "video_height",
    "video_width",
    "video_resolution",
    "video_environment",
    "video_split",
)

Progress = Callable[[int, int], None]


class SavImportError(ServiceError):
    code = "sav_invalid"


@dataclass(frozen=True)
class SavFile:
    """One SA-V annotation file as read: its name (for messages and metadata) and bytes."""

    name: str
    data: bytes

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> SavFile:
        source = Path(path)
        try:
            return cls(name=source.name, data=source.read_bytes())
        except OSError as exc:
            raise SavImportError(f"{path}: cannot read ({exc.strerror or exc})") from None

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class _Masklet:
    sav_id: int
    masks: list[rle.Rle]
    motion_score: float
    metadata: dict[str, Any]


@dataclass
class _Parsed:
    file: SavFile
    sha256: str
    kind: str
    masklets: list[_Masklet]


@dataclass
class SavImportResult:
    video: Video
    masklets: list[Masklet] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one sentence per skipped file


def sav_video_resolve(*, project: Project, video: str, user: Any = None) -> Video:
    """``video`` is a video id of the project, or a path: a file already ingested into the
    project (same sha256) is reused, any other is ingested inline first."""
    path = Path(video)
    if path.is_file():
        try:
            digest = media.sha256_of(path)
        except OSError as exc:
            raise SavImportError(f"{video}: cannot read ({exc.strerror or exc})") from None
        existing = (
            Video.objects.filter(project=project, sha256=digest, clip_index=0)
            .exclude(status=VideoStatus.FAILED)
            .first()
        )
        if existing is not None:
            return existing
        from annotation.services.ingest import video_ingest_file

        outcomes = video_ingest_file(project=project, path=path, user=user)
        if len(outcomes) != 1 or outcomes[0].error or outcomes[0].video is None:
            reason = "; ".join(o.error for o in outcomes if o.error) or "not one video"
            raise SavImportError(f"{video}: ingest failed: {reason}")
        return outcomes[0].video
    if video.isdigit():
        found = Video.objects.filter(project=project, pk=int(video)).first()
        if found is None:
            raise SavImportError(f"video #{video} does not exist in project {project.name!r}")
        return found
    raise SavImportError(f"--video {video!r} is neither a file nor a video id")


def sav_import(
    *,
    video: Video,
    files: Sequence[SavFile],
    user: Any = None,
    progress: Progress | None = None,
) -> SavImportResult:
    """Import SA-V files into ``video`` as candidate masklets, one revision each (engine
    ``sav_manual`` / ``sav_auto``). All files or none: any problem raises
    :class:`SavImportError` naming the file, before anything is written. Holds a row lock on
    the video while writing, so two imports of one video run one after the other."""
    if video.status != VideoStatus.READY or not video.annotation_frame_count:
        raise SavImportError(
            f"video #{video.pk} ({video.name}) is not ready (status {video.status}): "
            "ingest it before importing masks"
        )
    if not files:
        raise SavImportError("no SA-V files given")
    loaded = [(sav_file, *_load(sav_file)) for sav_file in files]
    maps: dict[int, list[int]] = {}
    for sav_file, document, _ in loaded:
        frames = len(document["masklet"])
        if frames not in maps:
            maps[frames] = _frame_map(sav_file.name, frames, video)
    total = sum(len(document["masklet_id"]) for _, document, _ in loaded)
    checked: list[_Parsed] = []
    done = 0
    for sav_file, document, kind in loaded:

        def step(done_here: int, base: int = done) -> None:
            if progress:
                progress(base + done_here, total)

        frame_map = maps[len(document["masklet"])]
        masklets = _masklets(sav_file, document, kind, frame_map, video, step)
        done += len(masklets)
        checked.append(_Parsed(sav_file, sav_file.sha256, kind, masklets))
    return _write(video=video, parsed=checked, user=user)


def _load(sav_file: SavFile) -> tuple[dict[str, Any], str]:
    name = sav_file.name
    try:
        document = json.loads(sav_file.data, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise SavImportError(f"{name}: not a JSON file ({exc})") from None
    if not isinstance(document, dict):
        raise SavImportError(f"{name}: expected a JSON object (an SA-V annotation file)")
    frames = document.get("masklet")
    ids = document.get("masklet_id")
    if not isinstance(frames, list) or not frames:
        raise SavImportError(f"{name}: 'masklet' must be a non-empty list over annotated frames")
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ids
    ):
        raise SavImportError(f"{name}: 'masklet_id' must be a list of non-negative integers")
    if not ids:
        raise SavImportError(f"{name}: no masklets ('masklet_id' is empty)")
    if len(set(ids)) != len(ids):
        raise SavImportError(f"{name}: repeated masklet ids {ids}")
    if "masklet_num" in document and document["masklet_num"] != len(ids):
        raise SavImportError(
            f"{name}: masklet_num is {document['masklet_num']!r} but there are {len(ids)} ids"
        )
    for j, objects in enumerate(frames):
        if not isinstance(objects, list) or len(objects) != len(ids):
            got = len(objects) if isinstance(objects, list) else type(objects).__name__
            raise SavImportError(
                f"{name}: SA-V frame {j} has {got} masks, expected one per masklet ({len(ids)})"
            )
    for key in _PER_MASKLET:
        values = document.get(key)
        if values is not None and (not isinstance(values, list) or len(values) != len(ids)):
            raise SavImportError(f"{name}: {key} must be a list with one value per masklet")
    return document, _kind(name, document)


def _no_constant(token: str) -> Any:
    # NaN/Infinity are not JSON and the database's JSON type refuses them.
    raise ValueError(f"{token} is not a JSON value")


def _kind(name: str, document: Mapping[str, Any]) -> str:
    types = set(document.get("masklet_type") or [])
    from_data = types.pop() if len(types) == 1 else None
    if types:
        raise SavImportError(f"{name}: masklets of mixed types {sorted(document['masklet_type'])}")
    stem = Path(name).stem
    from_name = next((k for k in SAV_KINDS if stem.endswith(f"_{k}")), None)
    if from_data is not None and from_data not in SAV_KINDS:
        raise SavImportError(f"{name}: unknown masklet_type {from_data!r} (manual or auto)")
    if from_data and from_name and from_data != from_name:
        raise SavImportError(f"{name}: the name says {from_name} but masklet_type is {from_data}")
    kind = from_data or from_name
    if kind is None:
        raise SavImportError(
            f"{name}: cannot tell manual from auto (no masklet_type, name not *_manual.json "
            "or *_auto.json)"
        )
    return kind


def _frame_map(name: str, sav_frames: int, video: Video) -> list[int]:
    """SA-V frame index for each annotation frame of ``video`` (see the module docstring)."""
    fps = float(video.project.annotation_fps)
    count = video.annotation_frame_count
    tolerance = 0.5 / video.source_fps if video.source_fps else 1e-6
    tolerance += 1e-9
    sav_span = (sav_frames - 1) / SAV_FPS
    video_span = (count - 1) / fps

    def refuse(reason: str) -> SavImportError:
        return SavImportError(
            f"{name}: {sav_frames} annotated frames at {SAV_FPS:g} fps (0-{sav_span:.3f} s) do "
            f"not fit video #{video.pk} ({video.name}: {count} annotation frames at {fps:g} fps, "
            f"0-{video_span:.3f} s): {reason}"
        )

    mapping = []
    for k in range(count):
        t = k / fps
        j = round(t * SAV_FPS)
        if j >= sav_frames:
            raise refuse(f"annotation frame {k} ({t:.3f} s) is past the last SA-V frame")
        if abs(j / SAV_FPS - t) > tolerance:
            raise refuse(
                f"annotation frame {k} ({t:.3f} s) falls between SA-V frames "
                f"(nearest {j} at {j / SAV_FPS:.3f} s)"
            )
        mapping.append(j)
    # SA-V frames after the last one used must come before annotation frame `count` would:
    # otherwise the file describes a longer video.
    if sav_span >= count / fps - tolerance:
        raise refuse(f"SA-V frames after {video_span:.3f} s have no annotation frame")
    return mapping


def _masklets(
    sav_file: SavFile,
    document: Mapping[str, Any],
    kind: str,
    frame_map: list[int],
    video: Video,
    progress: Callable[[int], None],
) -> list[_Masklet]:
    name = sav_file.name
    height, width = int(video.height or 0), int(video.width or 0)
    for key, expected in (("video_height", height), ("video_width", width)):
        value = document.get(key)
        if value is not None and value != expected:
            raise SavImportError(
                f"{name}: annotated for a {document.get('video_width')!r}x"
                f"{document.get('video_height')!r} video but video #{video.pk} ({video.name}) "
                f"is {width}x{height}"
            )
    frames = document["masklet"]
    runs: list[list[list[int]]] = []  # per SA-V frame, per masklet
    for j, objects in enumerate(frames):
        runs.append([])
        for i, mask in enumerate(objects):
            try:
                runs[j].append(rle.validate(mask, height, width))
            except rle.RleError as exc:
                raise SavImportError(
                    f"{name}: SA-V frame {j}, masklet {document['masklet_id'][i]}: {exc}"
                ) from None
    video_fields = {k: document[k] for k in _VIDEO_FIELDS if k in document}
    stability = document.get("masklet_stability_score")
    fps = float(video.project.annotation_fps)
    out = []
    for i, sav_id in enumerate(document["masklet_id"]):
        # The file's own dicts: the counts strings are stored unchanged.
        masks = [_exact(frames[j][i]) for j in frame_map]
        score = motion_score(
            [runs[j][i] for j in frame_map], height=height, width=width, annotation_fps=fps
        )
        metadata: dict[str, Any] = {
            "sav_file": name,
            "sav_file_sha256": sav_file.sha256,
            "sav_type": kind,
            "masklet_id": sav_id,
            "sav_frames": len(frames),
            "sav_frame_map": frame_map,
            "video": video_fields,
        }
        for key, short in _PER_MASKLET.items():
            if key in document:
                metadata[short] = _plain(document[key][i])
        metadata["stability_score"] = _stability(stability, i, len(document["masklet_id"]))
        out.append(
            _Masklet(
                sav_id=sav_id,
                masks=masks,
                motion_score=score,
                metadata=metadata,
            )
        )
        progress(i + 1)
    return out


def _exact(mask: Mapping[str, Any]) -> rle.Rle:
    return rle.Rle(size=[int(mask["size"][0]), int(mask["size"][1])], counts=mask["counts"])


def _plain(value: Any) -> Any:
    # SA-V stores some integers as floats (first appeared frame 113.0).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _stability(value: Any, index: int, count: int) -> Any:
    """Manual files give one value per masklet (null); auto files one list per SA-V frame with a
    value per masklet, kept here as this masklet's list over SA-V frames."""
    if not isinstance(value, list):
        return None
    if len(value) and all(isinstance(row, list) and len(row) == count for row in value):
        return [row[index] for row in value]
    if len(value) == count:
        return value[index]
    return None


def motion_score(
    runs: Sequence[Sequence[int]], *, height: int, width: int, annotation_fps: float
) -> float:
    """How much a masklet moves, to rank candidates for pass 1 (higher = more motion), from its
    masks' COCO run lengths (column-major, zeros first), one mask per annotation frame.

    Over each pair of consecutive annotation frames k, k+1 where the subject is visible in both::

        d_k = |centroid_{k+1} - centroid_k| / frame diagonal        (translation)
        a_k = |area_{k+1} - area_k| / max(area_{k+1}, area_k)       (growth, shrinking, turning)

    score = annotation_fps * (mean_k d_k + AREA_WEIGHT * mean_k a_k): diagonals per second plus
    a quarter of the relative area change per second, so scores compare across projects of
    different annotation fps. Area counts less because mask noise alone changes it: on SA-V's
    example, still subjects' areas change 10-28 % from one 6 fps frame to the next while their
    centroids move under 2 % of the diagonal, and moving ones' centroids move 8-9 %. A masklet
    visible on fewer than two consecutive frames scores 0.
    """
    diagonal = math.hypot(width, height)
    moments = [_moments(r, height) for r in runs]
    shifts, changes = [], []
    for (area_a, xa, ya), (area_b, xb, yb) in itertools.pairwise(moments):
        if area_a and area_b:
            shifts.append(math.hypot(xb - xa, yb - ya) / diagonal)
            changes.append(abs(area_b - area_a) / max(area_a, area_b))
    if not shifts:
        return 0.0
    return float(annotation_fps * (np.mean(shifts) + AREA_WEIGHT * np.mean(changes)))


def _moments(runs: Sequence[int], height: int) -> tuple[int, float, float]:
    """Area and centroid (x, y) of a mask straight from its runs, without decoding it: pixel
    i (column-major) is at x = i // height, y = i % height, and the sums of x and y over
    pixels 0..n-1 have closed forms, so each run of ones costs O(1)."""
    lengths = np.asarray(runs, dtype=np.int64)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    first, last = starts[1::2], ends[1::2]  # runs of ones, [first, last)
    area = int((last - first).sum())
    if not area:
        return 0, 0.0, 0.0

    def sums(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        columns, rest = np.divmod(n, height)
        x = height * columns * (columns - 1) // 2 + rest * columns
        y = columns * (height * (height - 1) // 2) + rest * (rest - 1) // 2
        return x, y

    (x_last, y_last), (x_first, y_first) = sums(last), sums(first)
    return area, float((x_last - x_first).sum()) / area, float((y_last - y_first).sum()) / area


def _write(*, video: Video, parsed: list[_Parsed], user: Any) -> SavImportResult:
    result = SavImportResult(video=video)
    author = user if getattr(user, "pk", None) else None
    with transaction.atomic():
        Video.objects.select_for_update().filter(pk=video.pk).first()
        imported = _imported_files(video)
        seen: set[str] = set()
        next_id = _next_object_id(video)
        for item in parsed:
            name = item.file.name
            if item.sha256 in seen:
                result.skipped.append(f"{name}: given twice, imported once")
                continue
            if item.sha256 in imported:
                ids = imported[item.sha256]["object_ids"]
                result.skipped.append(
                    f"{name}: already imported into video #{video.pk} as masklets "
                    f"{_ranges(ids)}, skipped"
                )
                continue
            for other in imported.values():
                if other["sav_file"] == name and other["sav_type"] == item.kind:
                    raise SavImportError(
                        f"{name}: a different file of this name ({item.kind}) was already "
                        f"imported into video #{video.pk} as masklets "
                        f"{_ranges(other['object_ids'])}; delete those first"
                    )
            seen.add(item.sha256)
            for data in item.masklets:
                result.masklets.append(
                    _masklet_create(
                        video=video,
                        item=item,
                        data=data,
                        object_id=next_id + data.sav_id,
                        author=author,
                    )
                )
            next_id += max(m.sav_id for m in item.masklets) + 1
    return result


def _masklet_create(
    *, video: Video, item: _Parsed, data: _Masklet, object_id: int, author: Any
) -> Masklet:
    masklet = Masklet.objects.create(
        video=video,
        object_id=object_id,
        source=SAV_KINDS[item.kind],
        status=MaskletStatus.CANDIDATE,
        motion_score=data.motion_score,
        source_metadata=data.metadata,
        created_by=author,
    )
    revision = revision_create(
        masklet=masklet,
        masks=data.masks,
        engine=SAV_KINDS[item.kind],
        model_version=f"SA-V {item.kind} ({item.file.name})",
        author=author,
        note=f"imported from {item.file.name}",
    )
    masklet.current_revision = revision
    masklet.save(update_fields=["current_revision"])
    return masklet


def _imported_files(video: Video) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    rows = (
        Masklet.objects.filter(
            video=video, source__in=[MaskletSource.SAV_MANUAL, MaskletSource.SAV_AUTO]
        )
        .order_by("object_id")
        .values_list("object_id", "source_metadata")
    )
    for object_id, metadata in rows:
        digest = metadata.get("sav_file_sha256", "")
        entry = files.setdefault(
            digest,
            {"sav_file": metadata.get("sav_file"), "sav_type": metadata.get("sav_type"),
             "object_ids": []},
        )  # fmt: skip
        entry["object_ids"].append(object_id)
    return files


def _next_object_id(video: Video) -> int:
    highest = Masklet.objects.filter(video=video).aggregate(top=Max("object_id"))["top"]
    return 0 if highest is None else highest + 1


def _ranges(ids: list[int]) -> str:
    if not ids:
        return "-"
    if ids == list(range(ids[0], ids[-1] + 1)):
        return f"{ids[0]}-{ids[-1]}" if len(ids) > 1 else str(ids[0])
    return ", ".join(str(i) for i in ids)
