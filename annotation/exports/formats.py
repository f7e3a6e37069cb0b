"""Dataset file formats of PLM-Video-Human / PLM-VideoBench, and pure row builders.

Schemas follow the Hugging Face dataset cards of ``facebook/PLM-Video-Human`` (train) and
``facebook/PLM-VideoBench`` (val/test), field for field and in card order. Row builders return
plain dicts whose key order is the schema's, so JSONL and Parquet files carry the same columns
in the same order.

Frame fields are *annotation-frame* indices (the project's annotation fps, 6 by default), with
inclusive ends: a segment ``{start_frame: 0, end_frame: 40}`` covers frames 0 … 40.

``uid`` values are inputs: the caller assigns them (ideally a persistent integer per exported
row, kept in the database) so they survive re-exports. ``stable_uid`` is there for callers
without such an id; in 31 bits, hash collisions become likely past ~50k rows, so pass
``unique_field="uid"`` to the writers, which refuse to publish a file with a repeated uid.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

# --- schemas -----------------------------------------------------------------------------------

_STC_COMMON = [
    pa.field("uid", pa.int32()),
    pa.field("video", pa.string()),
    pa.field("masklet_id", pa.int32()),
    pa.field("total_frames", pa.int32()),
]

RCAP_SCHEMA = pa.schema(
    [
        *_STC_COMMON,
        pa.field("caption", pa.string()),
        pa.field("start_frame", pa.int32()),
        pa.field("end_frame", pa.int32()),
    ]
)
RTLOC_SCHEMA = RCAP_SCHEMA

DENSE_CAPTION_TYPE = pa.struct(
    [
        pa.field("start_frame", pa.int32()),
        pa.field("end_frame", pa.int32()),
        pa.field("caption", pa.string()),
    ]
)
RDCAP_SCHEMA = pa.schema([*_STC_COMMON, pa.field("dense_captions", pa.list_(DENSE_CAPTION_TYPE))])

# The cards write source times as ``float``; they are seconds cut from long source videos, so
# we keep double precision (float32 is off by up to ~0.25 ms at one hour).
FGQA_TRAIN_SCHEMA = pa.schema(
    [
        pa.field("qa_id", pa.string()),
        pa.field("segment_id", pa.string()),
        pa.field("question", pa.string()),
        pa.field("answer", pa.string()),
        pa.field(
            "metadata",
            pa.struct(
                [
                    pa.field("source_video_id", pa.string()),
                    pa.field("source_dataset", pa.string()),
                    pa.field("source_start_time", pa.float64()),
                    pa.field("source_end_time", pa.float64()),
                    pa.field("what_description", pa.string()),
                    pa.field("q_type", pa.string()),
                    pa.field("q_subtype", pa.string()),
                    pa.field("domain", pa.string()),
                    pa.field("is_audited", pa.int32()),
                ]
            ),
        ),
    ]
)

FGQA_TEST_SCHEMA = pa.schema(
    [
        pa.field("uid", pa.string()),
        pa.field("qa_uid", pa.string()),
        pa.field("video", pa.string()),
        pa.field("question", pa.string()),
        pa.field("answer", pa.string()),
        pa.field(
            "options",
            pa.struct([pa.field("option_0", pa.string()), pa.field("option_1", pa.string())]),
        ),
        pa.field("answer_index", pa.int32()),
        pa.field(
            "metadata",
            pa.struct(
                [
                    pa.field("source_video_id", pa.string()),
                    pa.field("source_dataset", pa.string()),
                    pa.field("source_start_time", pa.float64()),
                    pa.field("source_end_time", pa.float64()),
                    pa.field("question_type", pa.string()),
                    pa.field("source_domain", pa.string()),
                ]
            ),
        ),
    ]
)

# metadata/metadata_<split>.jsonl is JSONL only: ``bbox`` is keyed by frame index.
METADATA_FIELDS: tuple[str, ...] = ("video", "masklet_id", "bbox")

STC_SCHEMAS: Mapping[str, pa.Schema] = {
    "rcap": RCAP_SCHEMA,
    "rtloc": RTLOC_SCHEMA,
    "rdcap": RDCAP_SCHEMA,
}
FGQA_SCHEMAS: Mapping[str, pa.Schema] = {"train": FGQA_TRAIN_SCHEMA, "test": FGQA_TEST_SCHEMA}

DEFAULT_OUT_OF_FRAME_CAPTION = "Out of frame."
FORMAT_EXTENSIONS: Mapping[str, str] = {"jsonl": "jsonl", "parquet": "parquet"}

INT32_MAX = 2**31 - 1


class ExportDataError(ValueError):
    """A record that cannot be exported as is (coverage gaps, bad frames, bad names)."""


# --- file names --------------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _safe_name(name: str, what: str) -> str:
    if not _SAFE_NAME.match(name) or ".." in name:
        raise ExportDataError(f"{what} {name!r} is not a safe file name")
    return name


def stc_relpath(task: str, split: str, file_format: str) -> str:
    if task not in STC_SCHEMAS:
        raise ValueError(f"unknown STC task {task!r}")
    return f"{task}/plm_{task}_{_safe_name(split, 'split')}.{FORMAT_EXTENSIONS[file_format]}"


def fgqa_relpath(split: str, file_format: str) -> str:
    return f"fgqa/plm_fgqa_{_safe_name(split, 'split')}.{FORMAT_EXTENSIONS[file_format]}"


def metadata_relpath(split: str) -> str:
    return f"metadata/metadata_{_safe_name(split, 'split')}.jsonl"


def masklet_relpath(video_id: str) -> str:
    return f"masklets/{_safe_name(video_id, 'video id')}.json"


# --- uids --------------------------------------------------------------------------------------


def stable_uid(*keys: str | int) -> int:
    """A non-negative int32 derived only from ``keys`` (same keys → same uid, on any machine).

    Collisions are possible (31 bits); detecting them is the writer's ``unique_field`` job.
    """
    if not keys:
        raise ValueError("stable_uid needs at least one key")
    # Type-tagged and length-prefixed so ("1", 2) and (1, "2") or ("a|b",) and ("a", "b") differ.
    digest = hashlib.sha256()
    for key in keys:
        if isinstance(key, bool) or not isinstance(key, int | str):
            raise TypeError(f"uid keys must be str or int, got {type(key).__name__}")
        encoded = (f"i{key}" if isinstance(key, int) else f"s{key}").encode()
        digest.update(len(encoded).to_bytes(4, "big") + encoded)
    return int.from_bytes(digest.digest()[:4], "big") & INT32_MAX


def _int32(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ExportDataError(f"{what} must be an integer, got {value!r}")
    if not -(2**31) <= value <= INT32_MAX:
        raise ExportDataError(f"{what} {value} does not fit in int32")
    return value


# --- PLM-STC rows ------------------------------------------------------------------------------


def _segments(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Segments sorted by start, each checked against the video's frame range."""
    total = _int32(record["total_frames"], "total_frames")
    if total <= 0:
        raise ExportDataError(f"{_where(record)}: total_frames must be positive, got {total}")
    segments = sorted(record["segments"], key=lambda s: (s["start_frame"], s["end_frame"]))
    for segment in segments:
        start = _int32(segment["start_frame"], "start_frame")
        end = _int32(segment["end_frame"], "end_frame")
        if not 0 <= start <= end < total:
            raise ExportDataError(
                f"{_where(record)}: segment [{start}, {end}] is outside 0..{total - 1} "
                "or ends before it starts"
            )
    return segments


def _where(record: Mapping[str, Any]) -> str:
    return f"{record.get('video')!r} masklet {record.get('masklet_id')!r}"


def _caption(segment: Mapping[str, Any], out_of_frame_caption: str) -> str:
    if segment.get("out_of_frame"):
        return out_of_frame_caption
    return _written_caption(segment)


def _written_caption(segment: Mapping[str, Any]) -> str:
    caption = segment["caption"]
    if not isinstance(caption, str) or not caption.strip():
        raise ExportDataError(f"empty caption on segment {dict(segment)!r}")
    return caption


def rdcap_row(
    record: Mapping[str, Any], *, out_of_frame_caption: str = DEFAULT_OUT_OF_FRAME_CAPTION
) -> dict[str, Any]:
    """One RDCap row: every segment, out-of-frame ones included (with the fixed caption).

    The segments must tile the video exactly: the first starts at 0, each next one starts on
    the frame after the previous end, the last ends at total_frames - 1.
    """
    segments = _segments(record)
    total = record["total_frames"]
    expected_start = 0
    for segment in segments:
        start, end = segment["start_frame"], segment["end_frame"]
        if start > expected_start:
            raise ExportDataError(
                f"{_where(record)}: frames {expected_start}..{start - 1} have no segment"
            )
        if start < expected_start:
            raise ExportDataError(
                f"{_where(record)}: segment [{start}, {end}] overlaps the one ending at "
                f"{expected_start - 1}"
            )
        expected_start = end + 1
    if expected_start != total:
        raise ExportDataError(
            f"{_where(record)}: frames {expected_start}..{total - 1} have no segment"
        )
    return {
        "uid": _int32(record["uid"], "uid"),
        "video": record["video"],
        "masklet_id": _int32(record["masklet_id"], "masklet_id"),
        "total_frames": total,
        "dense_captions": [
            {
                "start_frame": s["start_frame"],
                "end_frame": s["end_frame"],
                "caption": _caption(s, out_of_frame_caption),
            }
            for s in segments
        ],
    }


def _segment_row(record: Mapping[str, Any], segment: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "uid": _int32(segment["uid"], "segment uid"),
        "video": record["video"],
        "masklet_id": _int32(record["masklet_id"], "masklet_id"),
        "total_frames": record["total_frames"],
        "caption": _written_caption(segment),
        "start_frame": segment["start_frame"],
        "end_frame": segment["end_frame"],
    }


def rcap_rows(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One RCap row per in-frame segment (each segment carries its own ``uid``)."""
    return [_segment_row(record, s) for s in _segments(record) if not s.get("out_of_frame")]


def caption_key(caption: str) -> str:
    """What makes two captions "the same" for RTLoc: Unicode compatibility form, case, runs of
    whitespace and trailing sentence punctuation are ignored ("The man sits." == "the man sits").
    """
    text = unicodedata.normalize("NFKC", caption).casefold()
    return " ".join(text.split()).rstrip(".!?;, ")


def rtloc_rows(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Like RCap, minus captions that are not unique within the masklet (by ``caption_key``):
    a localisation query must point at one segment, so *every* copy of a repeated caption goes.
    """
    in_frame = [s for s in _segments(record) if not s.get("out_of_frame")]
    counts: dict[str, int] = {}
    for segment in in_frame:
        key = caption_key(_written_caption(segment))
        counts[key] = counts.get(key, 0) + 1
    return [
        _segment_row(record, s) for s in in_frame if counts[caption_key(_written_caption(s))] == 1
    ]


# --- masks: metadata rows and SA-V masklet files -----------------------------------------------


def _mask_api() -> Any:
    # Imported lazily: the caption/FGQA builders and the writers must not need pycocotools.
    from pycocotools import mask as coco_mask

    return coco_mask


def _coco_rle(rle: Mapping[str, Any]) -> dict[str, Any]:
    size = rle.get("size")
    counts = rle.get("counts")
    if not (isinstance(size, list | tuple) and len(size) == 2 and isinstance(counts, str | bytes)):
        raise ExportDataError(f"not a compressed COCO RLE: {dict(rle)!r:.120}")
    return {"size": [int(size[0]), int(size[1])], "counts": counts}


def bbox_from_rle(rle: Mapping[str, Any] | None) -> list[int] | None:
    """Pixel box [x1, y1, x2, y2] of a mask (x2/y2 one past the last pixel: x1 + width), or
    None for an absent or empty mask."""
    if rle is None:
        return None
    coco = _mask_api()
    coco_rle = _coco_rle(rle)
    if coco.area(coco_rle) == 0:
        return None
    x, y, w, h = (int(v) for v in coco.toBbox(coco_rle))
    return [x, y, x + w, y + h]


def metadata_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """``{"video", "masklet_id", "bbox": {"<annotation frame>": [x1, y1, x2, y2] | None}}`` with
    one entry per annotation frame, from ``record["rles"]`` (one RLE or None per frame)."""
    rles = record["rles"]
    total = record["total_frames"]
    if len(rles) != total:
        raise ExportDataError(f"{_where(record)}: {len(rles)} masks for {total} frames")
    return {
        "video": record["video"],
        "masklet_id": _int32(record["masklet_id"], "masklet_id"),
        "bbox": {str(frame): bbox_from_rle(rle) for frame, rle in enumerate(rles)},
    }


def _size_bucket(area: float) -> str:
    # SA-V's buckets (COCO's area ranges): small < 32², medium < 96², large otherwise.
    if area < 32**2:
        return "small"
    if area < 96**2:
        return "medium"
    return "large"


def sav_masklet_file(
    *,
    video_id: str,
    video_duration: float,
    video_frame_count: int,
    video_height: int,
    video_width: int,
    masklets: Sequence[Mapping[str, Any]],
    masklet_type: str = "manual",
) -> dict[str, Any]:
    """A ``masklets/<video_id>.json`` document in SA-V's layout and key order.

    ``masklets``: ``[{"masklet_id": int, "rles": [RLE per annotation frame]}, …]``; an absent
    subject is an empty-mask RLE, as in SA-V. ``video_frame_count`` is the *source* video's
    frame count (SA-V: 483 frames at 24 fps for 121 annotated frames). Video fields are floats,
    as SA-V stores them. Derived per masklet, by SA-V's definitions: mean area over visible
    frames (absolute and relative to the resolution), size bucket, visibility changes after
    the first appearance, first annotation frame with a visible mask, annotated frame count.
    Left out because we cannot fill them honestly: ``video_environment``, ``video_split``
    (SA-V's own), ``masklet_edited_frame_count``, ``masklet_stability_score``.
    """
    _safe_name(video_id, "video id")
    if not masklets:
        raise ExportDataError(f"{video_id}: no masklets")
    coco = _mask_api()
    n_frames = len(masklets[0]["rles"])
    resolution = float(video_height * video_width)
    frames: list[list[dict[str, Any]]] = [[] for _ in range(n_frames)]
    ids: list[int] = []
    size_abs: list[float] = []
    first_appeared: list[int] = []
    visibility_changes: list[int] = []
    for masklet in masklets:
        masklet_id = _int32(masklet["masklet_id"], "masklet_id")
        rles = [_coco_rle(r) for r in masklet["rles"]]
        if len(rles) != n_frames:
            raise ExportDataError(
                f"{video_id}: masklet {masklet_id} has {len(rles)} frames, expected {n_frames}"
            )
        for rle in rles:
            if rle["size"] != [video_height, video_width]:
                raise ExportDataError(
                    f"{video_id}: masklet {masklet_id} mask size {rle['size']} is not "
                    f"[{video_height}, {video_width}]"
                )
        areas = [int(a) for a in coco.area(rles)] if rles else []
        visible = [a > 0 for a in areas]
        if not any(visible):
            raise ExportDataError(f"{video_id}: masklet {masklet_id} is empty in every frame")
        first = visible.index(True)
        for frame, rle in enumerate(rles):
            frames[frame].append({"size": rle["size"], "counts": _text(rle["counts"])})
        ids.append(masklet_id)
        size_abs.append(sum(areas) / sum(visible))
        first_appeared.append(first)
        visibility_changes.append(
            sum(1 for a, b in zip(visible[first:], visible[first + 1 :], strict=False) if a != b)
        )
    if len(set(ids)) != len(ids):
        raise ExportDataError(f"{video_id}: repeated masklet ids {ids}")
    return {
        "video_id": video_id,
        "video_duration": float(video_duration),
        "video_frame_count": float(video_frame_count),
        "video_height": float(video_height),
        "video_width": float(video_width),
        "video_resolution": resolution,
        "masklet": frames,
        "masklet_id": ids,
        "masklet_size_rel": [a / resolution for a in size_abs],
        "masklet_size_abs": size_abs,
        "masklet_size_bucket": [_size_bucket(a) for a in size_abs],
        "masklet_visibility_changes": visibility_changes,
        "masklet_first_appeared_frame": first_appeared,
        "masklet_frame_count": [n_frames] * len(ids),
        "masklet_type": [masklet_type] * len(ids),
        "masklet_num": len(ids),
    }


def _text(counts: str | bytes) -> str:
    return counts.decode("ascii") if isinstance(counts, bytes) else counts


# --- FGQA rows ---------------------------------------------------------------------------------


def _seconds(value: float, what: str) -> float:
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise ExportDataError(f"{what} must be a finite, non-negative number of seconds")
    return seconds


def fgqa_train_row(
    *,
    qa_id: str,
    segment_id: str,
    question: str,
    answer: str,
    source_video_id: str,
    source_dataset: str,
    source_start_time: float,
    source_end_time: float,
    what_description: str,
    q_type: str,
    q_subtype: str,
    domain: str,
    is_audited: bool | int,
) -> dict[str, Any]:
    """A PLM-Video-Human ``fgqa`` row. Times are seconds in the source video."""
    start = _seconds(source_start_time, "source_start_time")
    end = _seconds(source_end_time, "source_end_time")
    if end < start:
        raise ExportDataError(f"{qa_id}: source_end_time {end} is before {start}")
    return {
        "qa_id": qa_id,
        "segment_id": segment_id,
        "question": question,
        "answer": answer,
        "metadata": {
            "source_video_id": source_video_id,
            "source_dataset": source_dataset,
            "source_start_time": start,
            "source_end_time": end,
            "what_description": what_description,
            "q_type": q_type,
            "q_subtype": q_subtype,
            "domain": domain,
            "is_audited": int(bool(is_audited)),
        },
    }


def _option_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _stable_hex(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        encoded = part.encode()
        digest.update(len(encoded).to_bytes(4, "big") + encoded)
    return digest.hexdigest()


def fgqa_test_rows(
    *,
    qa_uid: str,
    video: str,
    question: str,
    answer: str,
    distractors: Iterable[str],
    source_video_id: str,
    source_dataset: str,
    source_start_time: float,
    source_end_time: float,
    question_type: str,
    source_domain: str,
) -> list[dict[str, Any]]:
    """PLM-VideoBench ``fgqa`` rows: one binary question per distractor, sharing ``qa_uid``.

    Where the correct answer goes (option_0 or option_1) and each row's ``uid`` depend only on
    ``qa_uid`` and that distractor's text, so re-exports are identical, editing one distractor
    changes only its row, and the answer is not always first (about half the rows each way).
    Distractors equal to the answer, or to each other, after case/whitespace folding are refused:
    such a binary question has no single right option.
    """
    start = _seconds(source_start_time, "source_start_time")
    end = _seconds(source_end_time, "source_end_time")
    if not answer.strip():
        raise ExportDataError(f"{qa_uid}: empty answer")
    seen = {_option_key(answer)}
    rows = []
    for distractor in distractors:
        key = _option_key(distractor)
        if not key:
            raise ExportDataError(f"{qa_uid}: empty distractor")
        if key in seen:
            raise ExportDataError(
                f"{qa_uid}: distractor {distractor!r} repeats the answer or another distractor"
            )
        seen.add(key)
        digest = _stable_hex(qa_uid, distractor)
        answer_index = int(digest[-1], 16) & 1
        options = [distractor, distractor]
        options[answer_index] = answer
        rows.append(
            {
                "uid": f"{qa_uid}_{digest[:12]}",
                "qa_uid": qa_uid,
                "video": video,
                "question": question,
                "answer": answer,
                "options": {"option_0": options[0], "option_1": options[1]},
                "answer_index": answer_index,
                "metadata": {
                    "source_video_id": source_video_id,
                    "source_dataset": source_dataset,
                    "source_start_time": start,
                    "source_end_time": end,
                    "question_type": question_type,
                    "source_domain": source_domain,
                },
            }
        )
    if not rows:
        raise ExportDataError(f"{qa_uid}: a benchmark question needs at least one distractor")
    return rows
