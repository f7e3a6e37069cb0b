"""Double annotation and the scores that compare two people's answers.

A share of items (``Project.double_annotation_rate``) gets a second, independent annotation:
after the first pass-2 captions of a masklet, or the first answers of an FGQA clip, a copy of
the task (``is_duplicate``, ``duplicate_of`` the first) goes to someone else. Its submission is
kept on the task and never applied to the item (annotation.services.gold.shadow_submit).

Which items is decided by a stable hash of the item, not a coin: the same data always doubles
the same items, and a rate of 0.25 doubles close to a quarter of them.

Scores use the benchmark's metric code (annotation.evaluation.metrics, which the evaluate
command and annotation.services.evaluate's human_* functions run), so agreement between two
people is the project's human baseline:
- segments: RTLoc meanR, each reference segment paired with the other person's segment of
  highest IoU on the 32-frame scale ("recalled at t if *some* segment has IoU > t"); out-of-frame
  segments are left out on both sides, as RTLoc leaves them out;
- FGQA: MBAcc, the other person's free-text answer mapped onto the binary options (correct
  answer vs each distractor) by normalised exact match (anything else reads as unparseable).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from annotation.evaluation.metrics import (
    FgqaRow,
    FrameSpace,
    MetricResult,
    fgqa_mbacc,
    rtloc_agreement,
    rtloc_sample,
)
from annotation.models import FgqaAnswer, Task, TaskExclusion, TaskKind

SegmentPair = tuple[tuple[int, int], tuple[int, int] | None, int]


def stable_fraction(key: str) -> float:
    """A number in [0, 1) fixed by ``key``."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def answer_normalise(text: str) -> str:
    """Casefold, punctuation to spaces, whitespace collapsed ("A red cup." == "a red cup")."""
    return " ".join(re.sub(r"[^\w\s]", " ", (text or "").casefold()).split())


def answers_agree(a: str, b: str) -> bool:
    return answer_normalise(a) == answer_normalise(b) != ""


def _typed(segments: Iterable[dict[str, Any]]) -> list[tuple[int, int]]:
    return [
        (int(s["start_frame"]), int(s["end_frame"])) for s in segments if not s.get("out_of_frame")
    ]


def segment_pairs(
    *, reference: Sequence[dict[str, Any]], other: Sequence[dict[str, Any]], total_frames: int
) -> list[SegmentPair]:
    """(reference segment, the other's best-matching segment or None, total_frames) for every
    reference segment, frames in annotation frames (inclusive ends, as exported)."""
    candidates = _typed(other)
    pairs: list[SegmentPair] = []
    for gt in _typed(reference):
        best: tuple[int, int] | None = None
        best_iou = -1.0
        for segment in candidates:
            iou = rtloc_sample(
                segment, gt, total_frames=total_frames, pred_space=FrameSpace.ANNOTATION
            ).iou
            if iou > best_iou:
                best, best_iou = segment, iou
        pairs.append((gt, best, total_frames))
    return pairs


def segments_recall(pairs: Iterable[SegmentPair]) -> MetricResult:
    """RTLoc meanR of the pairs (the benchmark's code; a missing segment scores 0)."""
    return rtloc_agreement(pairs)  # type: ignore[arg-type]


def fgqa_rows(
    *, qa_uid: str, answer: str, distractors: Sequence[str], given: str | None
) -> list[tuple[str, int, int | None]]:
    """Binary MBAcc rows of one question for a free-text ``given`` answer (None: rejected).

    Each row offers (correct answer, distractor) as options 0 and 1; a question without
    distractors has one row with the answer alone.
    """
    rows: list[tuple[str, int, int | None]] = []
    options: list[str | None] = [*distractors] if distractors else [None]
    for distractor in options:
        chosen: int | None = None
        if given is not None and answers_agree(given, answer):
            chosen = 0
        elif given is not None and distractor is not None and answers_agree(given, distractor):
            chosen = 1
        rows.append((qa_uid, 0, chosen))
    return rows


def fgqa_agreement(rows: Iterable[tuple[str, int, int | None]]) -> MetricResult:
    return fgqa_mbacc(FgqaRow(qa_uid, answer, chosen) for qa_uid, answer, chosen in rows)


def double_annotation_queue(*, task: Task, user: Any) -> Task | None:
    """Route the item of a just-submitted first pass-2 / FGQA answering task to a second
    annotator when it falls in the project's double-annotation share. Call inside the
    submitting transaction. Returns the second task, if one was made."""
    rate = task.project.double_annotation_rate
    if rate <= 0 or task.is_gold or task.is_duplicate or task.rework_of_id is not None:
        return None
    if task.kind == TaskKind.CAPTION and task.masklet_id is not None:
        key = f"caption:{task.masklet_id}"
        already = Task.objects.filter(
            kind=TaskKind.CAPTION, masklet_id=task.masklet_id, is_duplicate=True
        )
        masklet = task.masklet
        assert masklet is not None
        pass_one = masklet.select_task.submitted_by_id if masklet.select_task else None
        excluded = {user.pk, masklet.created_by_id, pass_one}
    elif task.kind == TaskKind.FGQA_ANSWER and task.video_id is not None:
        key = f"fgqa:{task.pk}"
        already = Task.objects.filter(duplicate_of=task)
        answered = FgqaAnswer.objects.filter(task=task, rejected=False)
        if not answered.exists():
            return None
        excluded = {user.pk}
    else:
        return None
    if stable_fraction(key) >= rate or already.exists():
        return None
    second = Task.objects.create(
        project=task.project,
        kind=task.kind,
        video=task.video,
        masklet=task.masklet,
        priority=task.priority,
        is_duplicate=True,
        duplicate_of=task,
    )
    TaskExclusion.objects.bulk_create(
        [TaskExclusion(task=second, user_id=uid) for uid in excluded if uid is not None]
    )
    return second
