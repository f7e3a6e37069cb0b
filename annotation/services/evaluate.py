"""Scoring model predictions against a benchmark split, and the human baseline.

Ground truth is read from the database through the same row generators as the export, so a
prediction's ``uid`` is the ``uid`` of the exported row it answers. Metrics are the pure
``annotation.evaluation`` code (PLM-VideoBench's released evaluation):

- rtloc: meanR, strict ``IoU > t`` at t in {0.3, 0.5, 0.7, 0.9}, on the 32-frame scale (model
  answers are already on it; ground truth is rescaled);
- rdcap: SODA_c with IoU x judge similarity (judge needed);
- rcap: judge score / 10 (judge needed);
- fgqa: MBAcc over binary rows grouped by ``qa_uid``.

A ground-truth item without a prediction counts as wrong (and is reported as missing). Judge
metrics without a judge are reported unavailable, never approximated.

Human baseline (for the review/agreement code): ``human_rtloc``, ``human_rdcap`` and
``human_fgqa`` score a second annotator exactly like a model, in annotation frames.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from annotation.evaluation.judge import JudgeClient, judge_from_config
from annotation.evaluation.metrics import (
    CaptionSegment,
    FgqaRow,
    FrameSpace,
    MetricResult,
    RdcapItem,
    Similarity,
    fgqa_mbacc,
    rcap_evaluate,
    rdcap_agreement,
    rdcap_evaluate,
    rtloc_aggregate,
    rtloc_agreement,
    rtloc_sample,
)
from annotation.evaluation.parsing import parse_fgqa, parse_rdcap, parse_rtloc
from annotation.exports.formats import DEFAULT_OUT_OF_FRAME_CAPTION
from annotation.models import Project, ProjectKind
from annotation.services.exports import fgqa_rows, stc_rows

EVAL_TASKS: tuple[str, ...] = ("rtloc", "rdcap", "rcap", "fgqa")
MAX_REPORTED_ERRORS = 20


class PredictionsError(ValueError):
    """The predictions file cannot be scored; ``errors`` name the lines."""

    def __init__(self, errors: list[str]) -> None:
        shown = errors[:MAX_REPORTED_ERRORS]
        more = len(errors) - len(shown)
        super().__init__("; ".join(shown) + (f"; and {more} more" if more else ""))
        self.errors = errors


@dataclass(frozen=True)
class Prediction:
    line: int
    text: str


@dataclass
class EvaluationReport:
    task: str
    split: str
    project: str
    result: MetricResult
    ground_truth: int  # items (rows) in the split
    predicted: int  # items with a prediction
    missing: int  # items without one (scored as wrong)
    unparseable: int  # predictions the parser could not read (scored as wrong)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "split": self.split,
            "project": self.project,
            **self.result.to_dict(),
            "ground_truth": self.ground_truth,
            "predicted": self.predicted,
            "missing": self.missing,
            "unparseable": self.unparseable,
            **self.extra,
        }


def _uid_key(value: Any, *, numeric: bool) -> str | None:
    if isinstance(value, bool):
        return None
    if numeric:
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str) and value.strip().isdigit():
            return str(int(value.strip()))
        return None
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int):
        return str(value)
    return None


def predictions_read(lines: Iterable[str], *, numeric_uids: bool) -> dict[str, Prediction]:
    """``{"uid": …, "prediction": "<model text>"}`` per line → {uid: Prediction}.

    Blank lines are skipped. Malformed JSON, rows without a usable uid or a text prediction,
    and repeated uids raise PredictionsError naming every bad line (1-based).
    """
    found: dict[str, Prediction] = {}
    errors: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(row, dict):
            errors.append(f"line {number}: must be a JSON object with uid and prediction")
            continue
        if "uid" not in row or "prediction" not in row:
            missing = [k for k in ("uid", "prediction") if k not in row]
            errors.append(f"line {number}: missing {' and '.join(missing)}")
            continue
        uid = _uid_key(row["uid"], numeric=numeric_uids)
        if uid is None:
            kind = "an integer" if numeric_uids else "a string"
            errors.append(f"line {number}: uid {row['uid']!r} is not {kind}")
            continue
        if not isinstance(row["prediction"], str):
            errors.append(f"line {number}: prediction must be the model's text output")
            continue
        if uid in found:
            errors.append(f"line {number}: uid {uid} was already given on line {found[uid].line}")
            continue
        found[uid] = Prediction(line=number, text=row["prediction"])
    if errors:
        raise PredictionsError(errors)
    return found


def ground_truth_rows(*, project: Project, task: str, split: str) -> dict[str, dict[str, Any]]:
    """The split's rows of ``task`` keyed by ``str(uid)``, exactly as the export writes them."""
    if task == "fgqa":
        if project.kind != ProjectKind.FGQA:
            raise ValueError(f"project {project.name!r} is not an FGQA project")
        if split != "test":
            raise ValueError("FGQA is scored on the test split (train rows have no options)")
        rows = fgqa_rows(project=project, split=split)
    else:
        if project.kind != ProjectKind.STC:
            raise ValueError(f"project {project.name!r} is not a PLM-STC project")
        rows = stc_rows(project=project, split=split, task=task)
    return {str(row["uid"]): row for row in rows}


def _judge_similarity(judge: JudgeClient | None) -> Similarity | None:
    if judge is None:
        return None
    client = judge

    def similarity(reference: str, prediction: str | None) -> float | None:
        # A missing prediction scores 0 without asking the judge.
        return 0.0 if prediction is None else client.caption_similarity(reference, prediction)

    return similarity  # type: ignore[return-value]


def evaluate_predictions(
    *,
    project: Project,
    task: str,
    split: str,
    lines: Iterable[str],
    judge: JudgeClient | None = None,
    lenient: bool = False,
) -> EvaluationReport:
    """Score a predictions file. Raises PredictionsError for bad lines and unknown uids,
    ValueError for a task/split/project that cannot be scored."""
    if task not in EVAL_TASKS:
        raise ValueError(f"task must be one of {', '.join(EVAL_TASKS)}")
    predictions = predictions_read(lines, numeric_uids=task != "fgqa")
    truth = ground_truth_rows(project=project, task=task, split=split)
    unknown = sorted((p.line, uid) for uid, p in predictions.items() if uid not in truth)
    if unknown:
        raise PredictionsError(
            [
                f"line {line}: uid {uid} is not a {task} item of the {split} split"
                for line, uid in unknown
            ]
        )
    order = list(truth)  # release order
    texts = [predictions[uid].text if uid in predictions else None for uid in order]
    rows = [truth[uid] for uid in order]
    missing = sum(t is None for t in texts)
    unparseable = 0

    if task == "rtloc":
        samples = []
        for row, text in zip(rows, texts, strict=True):
            pred = parse_rtloc(text, lenient=lenient) if text is not None else None
            unparseable += text is not None and pred is None
            samples.append(
                rtloc_sample(
                    pred,
                    (row["start_frame"], row["end_frame"]),
                    total_frames=row["total_frames"],
                    pred_space=FrameSpace.SAMPLED,
                )
            )
        result = rtloc_aggregate(samples)
    elif task == "rdcap":
        items = []
        for row, text in zip(rows, texts, strict=True):
            parsed = parse_rdcap(text, lenient=lenient) if text is not None else None
            unparseable += text is not None and parsed is None
            gt = [
                CaptionSegment(d["start_frame"], d["end_frame"], d["caption"])
                for d in row["dense_captions"]
            ]
            items.append(RdcapItem(pred=parsed, gt=gt, total_frames=row["total_frames"]))
        result = rdcap_evaluate(
            items, pred_space=FrameSpace.SAMPLED, similarity=_judge_similarity(judge)
        )
    elif task == "rcap":
        pairs = [(row["caption"], text) for row, text in zip(rows, texts, strict=True)]
        result = rcap_evaluate(pairs, similarity=_judge_similarity(judge))  # type: ignore[arg-type]
    else:
        binary = []
        for row, text in zip(rows, texts, strict=True):
            options = [row["options"]["option_0"], row["options"]["option_1"]]
            chosen = parse_fgqa(text, options, lenient=lenient) if text is not None else None
            unparseable += text is not None and chosen is None
            binary.append(FgqaRow(row["qa_uid"], row["answer_index"], chosen))
        result = fgqa_mbacc(binary)
    return EvaluationReport(
        task=task,
        split=split,
        project=project.name,
        result=result,
        ground_truth=len(rows),
        predicted=len(rows) - missing,
        missing=missing,
        unparseable=unparseable,
        extra={"judge": repr(judge) if judge is not None else None, "lenient": lenient},
    )


def judge_from_settings(
    *, base_url: str | None = None, model: str | None = None
) -> JudgeClient | None:
    """The LLM judge from arguments, else settings/environment ``JUDGE_URL``, ``JUDGE_MODEL``
    (key: ``JUDGE_API_KEY``); None when no endpoint is configured."""

    def setting(name: str) -> str | None:
        return getattr(settings, name, None) or os.environ.get(name) or None

    return judge_from_config(
        base_url or setting("JUDGE_URL"),
        model or setting("JUDGE_MODEL"),
        api_key=setting("JUDGE_API_KEY"),
    )


# --- human baseline (agreement between two annotators) ---------------------------------------

FrameSegment = tuple[int, int]


def human_rtloc(*, pairs: Iterable[tuple[FrameSegment, FrameSegment, int]]) -> MetricResult:
    """RTLoc meanR of a second annotator: ``(reference (start, end), second annotator's
    (start, end), total_frames)`` per item, both in annotation frames (inclusive ends), scored
    with the model metric (rescaled to 32 frames, strict ``IoU > t``)."""
    return rtloc_agreement(pairs)


def _caption_segments(
    segments: Sequence[dict[str, Any]], out_of_frame_caption: str
) -> list[CaptionSegment]:
    return [
        CaptionSegment(
            s["start_frame"],
            s["end_frame"],
            out_of_frame_caption if s.get("out_of_frame") else s["caption"],
        )
        for s in sorted(segments, key=lambda s: (s["start_frame"], s["end_frame"]))
    ]


def human_rdcap(
    *,
    items: Iterable[tuple[Sequence[dict[str, Any]], Sequence[dict[str, Any]], int]],
    similarity: Similarity | Callable[[str, str], float | None] | None,
    out_of_frame_caption: str = DEFAULT_OUT_OF_FRAME_CAPTION,
) -> MetricResult:
    """RDCap SODA_c of a second annotator: ``(reference segments, second annotator's segments,
    total_frames)`` per masklet, segments as ``CaptionRevision.segments`` (out-of-frame ones
    included, with the fixed caption, as in the export). ``similarity`` is the judge's
    (``judge.caption_similarity``); None → unavailable."""
    return rdcap_agreement(
        (
            RdcapItem(
                pred=_caption_segments(other, out_of_frame_caption),
                gt=_caption_segments(reference, out_of_frame_caption),
                total_frames=total,
            )
            for reference, other, total in items
        ),
        similarity=similarity,
    )


def human_fgqa(*, rows: Iterable[tuple[str, int, int | None]]) -> MetricResult:
    """FGQA MBAcc of a second annotator: ``(qa_uid, answer_index, chosen index or None)`` per
    binary row."""
    return fgqa_mbacc(FgqaRow(qa_uid, answer, chosen) for qa_uid, answer, chosen in rows)
