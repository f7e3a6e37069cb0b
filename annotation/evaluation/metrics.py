"""PLM-VideoBench metrics (RTLoc, RDCap SODA_c, RCap, FGQA MBAcc), as the released evaluation
(lmms-eval ``plm_videobench``) computes them.

Frame spaces. Ground truth is always in *annotation frames* (``0 … total_frames-1``). Scoring
happens on the *sampled* scale of ``NUM_SAMPLED_FRAMES`` (32) frames, the frames the model was
shown: an annotation frame ``f`` maps to ``int(f / (total_frames / 32))``. A model's answer is
already on the sampled scale (its prompt asks for frame numbers 0 … 31), so the released
evaluation rescales only the ground truth; a second annotator's segments are in annotation
frames and are rescaled like ground truth. Every scoring function therefore takes an explicit
``pred_space``.

Judge-based metrics take ``similarity(reference, prediction) -> float | None`` in 0 … 1 (the
judge's 0 … 10 score divided by 10; ``None`` when the judge answered but the answer could not be
read, which the released evaluation scores as 0 and counts). With no similarity function, or
when it raises ``SimilarityUnavailableError``, the metric is reported unavailable (value
``None`` with a reason), never approximated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

NUM_SAMPLED_FRAMES = 32
RTLOC_IOU_THRESHOLDS: tuple[float, ...] = (0.3, 0.5, 0.7, 0.9)
# PLM runs SODA_c at a single tIoU threshold of 0.0 (Fujita et al. also define 0.3/0.5/0.7/0.9).
SODA_IOU_THRESHOLD = 0.0

Similarity = Callable[[str, str], float | None]


class SimilarityUnavailableError(RuntimeError):
    """The similarity source (the LLM judge) cannot answer at all: the metric is unavailable."""


class FrameSpace(StrEnum):
    ANNOTATION = "annotation"  # 0 … total_frames-1, rescaled before scoring
    SAMPLED = "sampled"  # 0 … NUM_SAMPLED_FRAMES-1, used as is


class CaptionSegment(NamedTuple):
    start_frame: float
    end_frame: float
    caption: str


Segment = tuple[float, float]


@dataclass(frozen=True)
class MetricResult:
    """An aggregate value. ``value is None`` means unavailable; ``unavailable_reason`` says why."""

    metric: str
    value: float | None
    num_samples: int
    counts: Mapping[str, int] = field(default_factory=dict)
    details: Mapping[str, float] = field(default_factory=dict)
    unavailable_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "num_samples": self.num_samples,
            "counts": dict(self.counts),
            "details": dict(self.details),
            "unavailable_reason": self.unavailable_reason,
        }


def _unavailable(metric: str, reason: str, num_samples: int = 0) -> MetricResult:
    return MetricResult(
        metric=metric, value=None, num_samples=num_samples, unavailable_reason=reason
    )


NO_JUDGE_REASON = "no LLM judge endpoint is configured"


# --- frames and temporal IoU -------------------------------------------------------------------


def rescale_frame(frame: float, total_frames: int, num_frames: int = NUM_SAMPLED_FRAMES) -> int:
    """Annotation frame → sampled frame, with the released evaluation's exact float expression."""
    if total_frames <= 0:
        raise ValueError(f"total_frames must be positive, got {total_frames}")
    # Kept as f / (total / n), not f * n // total: the two can differ by float rounding, and
    # scores must match the released evaluation bit for bit.
    return int(frame / (total_frames / num_frames))


def rescale_segment(
    segment: Segment, total_frames: int, num_frames: int = NUM_SAMPLED_FRAMES
) -> tuple[int, int]:
    return (
        rescale_frame(segment[0], total_frames, num_frames),
        rescale_frame(segment[1], total_frames, num_frames),
    )


def _to_sampled(segment: Segment, space: FrameSpace, total_frames: int, num_frames: int) -> Segment:
    if space is FrameSpace.ANNOTATION:
        return rescale_segment(segment, total_frames, num_frames)
    return segment


def temporal_iou(a: Segment, b: Segment) -> float:
    """max(0, min(e1,e2) - max(s1,s2)) / min(max(e1,e2) - min(s1,s2), (e1-s1) + (e2-s2)).

    No +1: frames are points, so a zero-length segment (start == end) has no extent and its
    IoU with anything — itself included — is 0.0. That is also the only case where the
    denominator is 0 (both segments zero-length), and we return 0.0 there explicitly; the
    released evaluation gets the same 0.0 by adding 1e-8 to the denominator. The epsilon is left
    out on purpose: on integer frames it never moves a value across a threshold, and exact
    division keeps an IoU of exactly 0.5 exactly 0.5. Reversed pairs (end < start) are read as
    (end, start), as the released evaluation does.
    """
    s1, e1 = min(a), max(a)
    s2, e2 = min(b), max(b)
    intersection = max(0.0, min(e1, e2) - max(s1, s2))
    denominator = min(max(e1, e2) - min(s1, s2), (e1 - s1) + (e2 - s2))
    if denominator <= 0:
        return 0.0
    return float(intersection) / float(denominator)


# --- RTLoc -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RtlocSample:
    """One RTLoc item scored. ``parse_error`` items have ``iou == 0`` and recall 0 everywhere."""

    iou: float
    recall_at: Mapping[float, float]
    mean_recall: float
    parse_error: bool


def rtloc_sample(
    pred: Segment | None,
    gt: Segment,
    *,
    total_frames: int,
    pred_space: FrameSpace,
    num_frames: int = NUM_SAMPLED_FRAMES,
    thresholds: Sequence[float] = RTLOC_IOU_THRESHOLDS,
) -> RtlocSample:
    """Score one prediction against one ground-truth segment (annotation frames).

    ``pred is None`` is a parse failure and scores 0 at every threshold. (The released
    evaluation substitutes the segment [end+10, end+20] instead, which is also a miss except for
    videos shorter than 32 frames, where it can overlap by accident; we do not reproduce that.)
    A GT is recalled at threshold t only if IoU > t, strictly.
    """
    gt_sampled = rescale_segment(gt, total_frames, num_frames)
    if pred is None:
        iou = 0.0
    else:
        iou = temporal_iou(_to_sampled(pred, pred_space, total_frames, num_frames), gt_sampled)
    recall_at = {t: 1.0 if iou > t else 0.0 for t in thresholds}
    return RtlocSample(
        iou=iou,
        recall_at=recall_at,
        mean_recall=sum(recall_at.values()) / len(recall_at),
        parse_error=pred is None,
    )


def rtloc_aggregate(samples: Iterable[RtlocSample]) -> MetricResult:
    """meanR: per-sample mean recall over the thresholds, averaged over samples (macro)."""
    items = list(samples)
    if not items:
        return _unavailable("rtloc_mean_recall", "no samples")
    n = len(items)
    thresholds = list(items[0].recall_at)
    details = {f"recall@{t}": sum(s.recall_at[t] for s in items) / n for t in thresholds}
    details["mean_iou"] = sum(s.iou for s in items) / n
    return MetricResult(
        metric="rtloc_mean_recall",
        value=sum(s.mean_recall for s in items) / n,
        num_samples=n,
        counts={"parse_errors": sum(s.parse_error for s in items)},
        details=details,
    )


def rtloc_agreement(
    pairs: Iterable[tuple[Segment, Segment, int]], *, num_frames: int = NUM_SAMPLED_FRAMES
) -> MetricResult:
    """Human agreement: (reference segment, second annotator's segment, total_frames) in
    annotation frames, scored exactly like a model (the second annotator plays the model)."""
    return rtloc_aggregate(
        rtloc_sample(
            other,
            reference,
            total_frames=total_frames,
            pred_space=FrameSpace.ANNOTATION,
            num_frames=num_frames,
        )
        for reference, other, total_frames in pairs
    )


# --- RDCap: SODA_c -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SodaResult:
    total: float  # sum of matched pair scores
    precision: float  # total / #pred
    recall: float  # total / #gt
    f_measure: float
    pairs: tuple[tuple[int, int], ...]  # matched (gt index, pred index), both increasing


def soda_match(scores: Sequence[Sequence[float]]) -> tuple[float, tuple[tuple[int, int], ...]]:
    """Best order-preserving one-to-one matching of GT rows to predicted columns.

    Fujita et al.'s dynamic programme (an LCS with weights): with ``D[i][j]`` the best total
    using the first i GT segments and the first j predictions,
        D[i][j] = max(D[i-1][j], D[i][j-1], D[i-1][j-1] + S[i-1][j-1]),   D[0][·] = D[·][0] = 0.
    Matches keep temporal order on both sides (a story is told in order), unlike the Hungarian
    assignment of per-pair metrics. Scores must be ≥ 0. Returns (max total, matched pairs).
    """
    m = len(scores)
    n = len(scores[0]) if m else 0
    table = [[0.0] * (n + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        row, prev, s_row = table[i], table[i - 1], scores[i - 1]
        for j in range(1, n + 1):
            row[j] = max(prev[j], row[j - 1], prev[j - 1] + s_row[j - 1])
    pairs: list[tuple[int, int]] = []
    i, j = m, n
    while i > 0 and j > 0:
        if table[i][j] == table[i - 1][j]:
            i -= 1
        elif table[i][j] == table[i][j - 1]:
            j -= 1
        else:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    pairs.reverse()
    return table[m][n], tuple(pairs)


def soda_c(
    iou_matrix: Sequence[Sequence[float]],
    similarity_matrix: Sequence[Sequence[float]],
    *,
    iou_threshold: float = SODA_IOU_THRESHOLD,
) -> SodaResult:
    """SODA_c for one video from a (GT x pred) tIoU matrix and a caption-similarity matrix.

    Pair score = tIoU x similarity, with pairs whose tIoU < threshold scored 0 (the reference
    implementation zeroes ``iou < tiou``; at PLM's threshold 0.0 this is the same as zeroing
    tIoU ≤ 0, since a pair with tIoU 0 scores 0 anyway). Then
        precision = best total / #pred,  recall = best total / #GT,
        F = 2PR / (P + R)  (0 when P + R = 0).
    """
    n_gt = len(iou_matrix)
    n_pred = len(iou_matrix[0]) if n_gt else 0
    if n_gt == 0:
        raise ValueError("SODA_c needs at least one ground-truth segment")
    if n_pred == 0:
        return SodaResult(total=0.0, precision=0.0, recall=0.0, f_measure=0.0, pairs=())
    scores = [
        [
            (iou if iou >= iou_threshold else 0.0) * similarity_matrix[g][p]
            for p, iou in enumerate(iou_row)
        ]
        for g, iou_row in enumerate(iou_matrix)
    ]
    total, pairs = soda_match(scores)
    precision = total / n_pred
    recall = total / n_gt
    f_measure = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return SodaResult(total, precision, recall, f_measure, pairs)


@dataclass(frozen=True)
class RdcapSample:
    soda: SodaResult
    parse_error: bool
    judge_calls: int
    judge_failures: int


def rdcap_sample(
    pred: Sequence[CaptionSegment] | None,
    gt: Sequence[CaptionSegment],
    *,
    total_frames: int,
    pred_space: FrameSpace,
    similarity: Similarity,
    num_frames: int = NUM_SAMPLED_FRAMES,
    iou_threshold: float = SODA_IOU_THRESHOLD,
    sort_by_start: bool = False,
) -> RdcapSample:
    """SODA_c of one dense-caption answer. GT segments are in annotation frames.

    ``pred`` None or empty (nothing parseable) scores 0, as in the released evaluation.
    The judge is asked only about pairs that overlap (tIoU > 0 and ≥ threshold): any other pair
    scores 0 whatever the judge says, so the result equals the released evaluation's, which
    asks about every pair. ``sort_by_start``: Fujita's reference sorts both sides by start time
    before matching; PLM's evaluation keeps the model's order (the default here).
    """
    if not gt:
        raise ValueError("RDCap ground truth has no segments")
    if not pred:
        empty = SodaResult(total=0.0, precision=0.0, recall=0.0, f_measure=0.0, pairs=())
        return RdcapSample(soda=empty, parse_error=True, judge_calls=0, judge_failures=0)
    if sort_by_start:
        gt = sorted(gt, key=lambda s: s.start_frame)
        pred = sorted(pred, key=lambda s: s.start_frame)
    gt_segments = [rescale_segment((s[0], s[1]), total_frames, num_frames) for s in gt]
    pred_segments = [_to_sampled((s[0], s[1]), pred_space, total_frames, num_frames) for s in pred]
    iou_matrix = [[temporal_iou(p, g) for p in pred_segments] for g in gt_segments]
    calls = failures = 0
    similarity_matrix: list[list[float]] = []
    for g, iou_row in enumerate(iou_matrix):
        sim_row = []
        for p, iou in enumerate(iou_row):
            value = 0.0
            if iou > 0 and iou >= iou_threshold:
                calls += 1
                judged = similarity(gt[g].caption, pred[p].caption)
                if judged is None:
                    failures += 1
                else:
                    value = _check_unit(judged)
            sim_row.append(value)
        similarity_matrix.append(sim_row)
    soda = soda_c(iou_matrix, similarity_matrix, iou_threshold=iou_threshold)
    return RdcapSample(soda=soda, parse_error=False, judge_calls=calls, judge_failures=failures)


def _check_unit(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"caption similarity must be within 0..1, got {value}")
    return float(value)


@dataclass(frozen=True)
class RdcapItem:
    """One RDCap benchmark item: the parsed answer (None = unparseable) and its ground truth."""

    pred: Sequence[CaptionSegment] | None
    gt: Sequence[CaptionSegment]
    total_frames: int


def rdcap_evaluate(
    items: Iterable[RdcapItem],
    *,
    pred_space: FrameSpace,
    similarity: Similarity | None,
    num_frames: int = NUM_SAMPLED_FRAMES,
    iou_threshold: float = SODA_IOU_THRESHOLD,
    sort_by_start: bool = False,
) -> MetricResult:
    """Mean per-item SODA_c F-measure (PLM averages per video; Fujita's script instead pools
    totals over all videos before computing P/R/F)."""
    if similarity is None:
        return _unavailable("rdcap_soda_c", NO_JUDGE_REASON)
    samples: list[RdcapSample] = []
    try:
        for item in items:
            samples.append(
                rdcap_sample(
                    item.pred,
                    item.gt,
                    total_frames=item.total_frames,
                    pred_space=pred_space,
                    similarity=similarity,
                    num_frames=num_frames,
                    iou_threshold=iou_threshold,
                    sort_by_start=sort_by_start,
                )
            )
    except SimilarityUnavailableError as exc:
        return _unavailable("rdcap_soda_c", f"LLM judge unavailable: {exc}", len(samples))
    if not samples:
        return _unavailable("rdcap_soda_c", "no samples")
    n = len(samples)
    return MetricResult(
        metric="rdcap_soda_c",
        value=sum(s.soda.f_measure for s in samples) / n,
        num_samples=n,
        counts={
            "parse_errors": sum(s.parse_error for s in samples),
            "judge_calls": sum(s.judge_calls for s in samples),
            "judge_failures": sum(s.judge_failures for s in samples),
        },
        details={
            "precision": sum(s.soda.precision for s in samples) / n,
            "recall": sum(s.soda.recall for s in samples) / n,
        },
    )


def rdcap_agreement(items: Iterable[RdcapItem], *, similarity: Similarity | None) -> MetricResult:
    """Human agreement: ``pred`` holds the second annotator's segments in annotation frames."""
    return rdcap_evaluate(items, pred_space=FrameSpace.ANNOTATION, similarity=similarity)


# --- RCap --------------------------------------------------------------------------------------


def rcap_evaluate(
    pairs: Iterable[tuple[str, str]], *, similarity: Similarity | None
) -> MetricResult:
    """Mean judge score / 10 over (reference caption, predicted caption) pairs.

    A judgement that could not be read (``None``) scores 0 and is counted, as the released
    evaluation does (it reports the success rate beside the score).
    """
    if similarity is None:
        return _unavailable("rcap_judge_score", NO_JUDGE_REASON)
    total = 0.0
    n = failures = 0
    try:
        for reference, prediction in pairs:
            judged = similarity(reference, prediction)
            n += 1
            if judged is None:
                failures += 1
            else:
                total += _check_unit(judged)
    except SimilarityUnavailableError as exc:
        return _unavailable("rcap_judge_score", f"LLM judge unavailable: {exc}", n)
    if n == 0:
        return _unavailable("rcap_judge_score", "no samples")
    return MetricResult(
        metric="rcap_judge_score",
        value=total / n,
        num_samples=n,
        counts={"judge_failures": failures},
        details={"judge_success_rate": (n - failures) / n},
    )


# --- FGQA --------------------------------------------------------------------------------------


class FgqaRow(NamedTuple):
    """One binary row: ``predicted_index`` None means the answer could not be parsed."""

    qa_uid: str
    answer_index: int
    predicted_index: int | None


def fgqa_mbacc(rows: Iterable[FgqaRow]) -> MetricResult:
    """Multi-binary accuracy: a question (``qa_uid``) is correct only if all its rows are."""
    question_ok: dict[str, bool] = {}
    n_rows = parse_errors = 0
    for row in rows:
        n_rows += 1
        parse_errors += row.predicted_index is None
        correct = row.predicted_index is not None and row.predicted_index == row.answer_index
        question_ok[row.qa_uid] = question_ok.get(row.qa_uid, True) and correct
    if not question_ok:
        return _unavailable("fgqa_mbacc", "no samples")
    correct_questions = sum(question_ok.values())
    return MetricResult(
        metric="fgqa_mbacc",
        value=correct_questions / len(question_ok),
        num_samples=len(question_ok),
        counts={
            "questions": len(question_ok),
            "correct_questions": correct_questions,
            "rows": n_rows,
            "parse_errors": parse_errors,
        },
    )
