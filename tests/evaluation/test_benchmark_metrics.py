import pytest

from annotation.evaluation.metrics import (
    NO_JUDGE_REASON,
    CaptionSegment,
    FgqaRow,
    FrameSpace,
    RdcapItem,
    SimilarityUnavailableError,
    fgqa_mbacc,
    rcap_evaluate,
    rdcap_agreement,
    rdcap_evaluate,
    rdcap_sample,
    rescale_frame,
    rtloc_aggregate,
    rtloc_agreement,
    rtloc_sample,
    soda_c,
    soda_match,
    temporal_iou,
)

SAMPLED = FrameSpace.SAMPLED

# --- frames and IoU ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "total", "expected"),
    [
        (0, 121, 0),
        (60, 121, 15),  # 60 / 3.78125 = 15.87
        (64, 121, 16),  # 16.93
        (120, 121, 31),  # 31.74: the last annotation frame lands on the last sampled frame
        (10, 100, 3),  # 100 is not divisible by 32: 10 / 3.125 = 3.2
        (50, 100, 16),  # 16.0 exactly
        (7, 16, 14),  # shorter than 32 frames: the scale stretches
        (5, 32, 5),
    ],
)
def test_rescale_frame_uses_int_of_frame_over_total_over_32(frame, total, expected):
    assert rescale_frame(frame, total) == expected


def test_rescale_frame_rejects_a_video_without_frames():
    with pytest.raises(ValueError, match="total_frames"):
        rescale_frame(3, 0)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((10, 20), (15, 20), 0.5),  # 5 / min(10, 15)
        ((0, 10), (2, 4), 0.2),  # contained: 2 / 10
        ((0, 10), (20, 30), 0.0),  # disjoint
        ((0, 10), (10, 20), 0.0),  # touching at one frame: no extent in common
        ((0, 10), (0, 10), 1.0),
        ((20, 10), (10, 20), 1.0),  # reversed pair read as (10, 20)
        ((10, 10), (5, 15), 0.0),  # zero-length never overlaps anything
        ((10, 10), (10, 10), 0.0),  # both zero-length: the 0/0 case is defined as 0
    ],
)
def test_temporal_iou(a, b, expected):
    assert temporal_iou(a, b) == pytest.approx(expected)


# --- RTLoc -------------------------------------------------------------------------------------


def test_rtloc_iou_exactly_at_a_threshold_is_not_recalled_there():
    # total_frames 32 → the scale is the identity. GT (10, 20), prediction (15, 20): IoU 0.5.
    sample = rtloc_sample((15, 20), (10, 20), total_frames=32, pred_space=SAMPLED)

    assert sample.iou == 0.5
    assert sample.recall_at == {0.3: 1.0, 0.5: 0.0, 0.7: 0.0, 0.9: 0.0}
    assert sample.mean_recall == 0.25
    assert sample.parse_error is False


@pytest.mark.parametrize(("pred_start", "threshold"), [(7, 0.3), (3, 0.7), (1, 0.9)])
def test_rtloc_every_threshold_is_strict(pred_start, threshold):
    # GT (0, 10), prediction (s, 10): IoU = (10 - s) / 10 lands exactly on the threshold.
    sample = rtloc_sample((pred_start, 10), (0, 10), total_frames=32, pred_space=SAMPLED)

    assert sample.iou == threshold
    assert sample.recall_at[threshold] == 0.0


def test_rtloc_rescales_ground_truth_only_for_model_answers():
    # total 100: GT (10, 50) → (int(3.2), int(16.0)) = (3, 16). The model answered [3, 16].
    model = rtloc_sample((3, 16), (10, 50), total_frames=100, pred_space=SAMPLED)
    # The same numbers read as annotation frames would be rescaled to (0, 5).
    annotated = rtloc_sample((3, 16), (10, 50), total_frames=100, pred_space=FrameSpace.ANNOTATION)

    assert model.iou == 1.0
    assert model.mean_recall == 1.0
    assert annotated.iou == pytest.approx(2 / 16)  # (0, 5) vs (3, 16): 2 / min(16, 5 + 13)
    assert annotated.mean_recall == 0.0


def test_rtloc_zero_length_ground_truth_is_never_recalled():
    # total 121: GT (57, 60) → (int(15.07), int(15.87)) = (15, 15), a zero-length segment that
    # even a prediction of exactly (15, 15) cannot overlap.
    sample = rtloc_sample((15, 15), (57, 60), total_frames=121, pred_space=SAMPLED)

    assert sample.iou == 0.0
    assert sample.mean_recall == 0.0


def test_rtloc_parse_failure_scores_zero_and_is_counted():
    good = rtloc_sample((15, 20), (10, 20), total_frames=32, pred_space=SAMPLED)  # meanR 0.25
    perfect = rtloc_sample((3, 16), (10, 50), total_frames=100, pred_space=SAMPLED)  # 1.0
    failed = rtloc_sample(None, (10, 20), total_frames=32, pred_space=SAMPLED)

    result = rtloc_aggregate([good, perfect, failed])

    assert failed.iou == 0.0
    assert failed.mean_recall == 0.0
    assert failed.parse_error is True
    assert result.value == pytest.approx((0.25 + 1.0 + 0.0) / 3)
    assert result.num_samples == 3
    assert result.counts == {"parse_errors": 1}
    assert result.details["recall@0.3"] == pytest.approx(2 / 3)
    assert result.details["recall@0.5"] == pytest.approx(1 / 3)
    assert result.details["mean_iou"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)


def test_rtloc_aggregate_of_nothing_is_unavailable_not_zero():
    result = rtloc_aggregate([])

    assert result.value is None
    assert result.unavailable_reason == "no samples"


def test_rtloc_agreement_rescales_both_annotators():
    # total 121: reference (0, 60) → (0, 15); second annotator (0, 64) → (0, 16): IoU 15/16.
    # Second pair: (0, 60) vs (61, 120) → (0, 15) vs (16, 31): IoU 0.
    result = rtloc_agreement([((0, 60), (0, 64), 121), ((0, 60), (61, 120), 121)])

    assert result.value == pytest.approx(0.5)
    assert result.details["mean_iou"] == pytest.approx((15 / 16) / 2)
    assert result.counts == {"parse_errors": 0}


# --- SODA_c ------------------------------------------------------------------------------------

# Hand-worked RDCap example (total_frames 32, so ground truth is already on the sampled scale):
#   GT   g0 (0,10) "walks in"   g1 (10,20) "sits down"   g2 (20,30) "drinks"
#   pred p0 (0,12)              p1 (12,30)
# tIoU = inter / min(span of both, sum of lengths):
#   g0-p0 10/min(12,22) = 5/6     g0-p1 0
#   g1-p0  2/min(20,22) = 0.1     g1-p1 8/min(20,28) = 0.4
#   g2-p0 0                       g2-p1 10/min(18,28) = 5/9
# similarities (judge/10), asked only where tIoU > 0:
#   g0-p0 0.9, g1-p0 1.0, g1-p1 0.5, g2-p1 0.8                         → 4 judge calls
# pair scores S = tIoU x sim:
#   [[0.75, 0], [0.1, 0.2], [0, 4/9]]
# order-preserving matchings: {g0p0, g2p1} = 0.75 + 4/9 = 43/36 ≈ 1.1944 (best);
#   {g0p0, g1p1} = 0.95; {g1p0, g2p1} = 0.5444; crossing pairs are not allowed.
# precision = 43/36 / 2 = 43/72, recall = 43/36 / 3 = 43/108,
# F = 2PR/(P+R) = 2 * total / (n_pred + n_gt) = 43/90 ≈ 0.4778.

GT = [
    CaptionSegment(0, 10, "walks in"),
    CaptionSegment(10, 20, "sits down"),
    CaptionSegment(20, 30, "drinks"),
]
PRED = [CaptionSegment(0, 12, "p0"), CaptionSegment(12, 30, "p1")]
JUDGED = {
    ("walks in", "p0"): 0.9,
    ("sits down", "p0"): 1.0,
    ("sits down", "p1"): 0.5,
    ("drinks", "p1"): 0.8,
}


def judge_table(reference: str, prediction: str) -> float | None:
    return JUDGED[(reference, prediction)]


def test_soda_c_hand_worked_example():
    sample = rdcap_sample(PRED, GT, total_frames=32, pred_space=SAMPLED, similarity=judge_table)

    assert sample.judge_calls == 4
    assert sample.judge_failures == 0
    assert sample.soda.total == pytest.approx(43 / 36)
    assert sample.soda.precision == pytest.approx(43 / 72)
    assert sample.soda.recall == pytest.approx(43 / 108)
    assert sample.soda.f_measure == pytest.approx(43 / 90)
    assert sample.soda.pairs == ((0, 0), (2, 1))


def test_soda_matching_preserves_order():
    # A crossing assignment would total 2; the story order allows only one of the two pairs.
    total, pairs = soda_match([[0.0, 1.0], [1.0, 0.0]])

    assert total == 1.0
    assert len(pairs) == 1


def test_soda_c_threshold_zeroes_pairs_below_it_but_keeps_pairs_at_it():
    iou = [[0.5, 0.3]]
    sim = [[1.0, 1.0]]

    at = soda_c(iou, sim, iou_threshold=0.5)
    above = soda_c(iou, sim, iou_threshold=0.51)

    assert at.total == 0.5
    assert above.total == 0.0
    assert above.f_measure == 0.0


def test_soda_c_without_predictions_is_zero():
    assert soda_c([[]], [[]]).f_measure == 0.0


def test_rdcap_unparseable_answer_scores_zero_without_asking_the_judge():
    def never(reference: str, prediction: str) -> float:
        raise AssertionError("the judge must not be asked")

    sample = rdcap_sample(None, GT, total_frames=32, pred_space=SAMPLED, similarity=never)

    assert sample.parse_error is True
    assert sample.soda.f_measure == 0.0


def test_rdcap_evaluate_averages_per_video_and_counts_failures():
    def judge_with_a_failure(reference: str, prediction: str) -> float | None:
        return None if (reference, prediction) == ("walks in", "p0") else 1.0

    result = rdcap_evaluate(
        [RdcapItem(PRED, GT, 32), RdcapItem(None, GT, 32)],
        pred_space=SAMPLED,
        similarity=judge_with_a_failure,
    )

    # First video: S = [[0, 0], [0.1, 0.4], [0, 5/9]] → best 0.1 + 5/9 = 59/90,
    # F = 2 * 59/90 / 5 = 59/225. Second video: unparseable, 0.
    assert result.value == pytest.approx((59 / 225) / 2)
    assert result.counts == {"parse_errors": 1, "judge_calls": 4, "judge_failures": 1}


def test_rdcap_without_a_judge_is_unavailable():
    result = rdcap_evaluate([RdcapItem(PRED, GT, 32)], pred_space=SAMPLED, similarity=None)

    assert result.value is None
    assert result.unavailable_reason == NO_JUDGE_REASON


def test_rdcap_judge_going_down_makes_the_metric_unavailable():
    def down(reference: str, prediction: str) -> float:
        raise SimilarityUnavailableError("connection refused")

    result = rdcap_evaluate([RdcapItem(PRED, GT, 32)], pred_space=SAMPLED, similarity=down)

    assert result.value is None
    assert "connection refused" in result.unavailable_reason


def test_rdcap_rejects_similarity_outside_unit_range():
    with pytest.raises(ValueError, match=r"0\.\.1"):
        rdcap_sample(PRED, GT, total_frames=32, pred_space=SAMPLED, similarity=lambda r, p: 7.0)


def test_rdcap_agreement_rescales_the_second_annotator():
    # total 64: factor 2. Both annotators wrote identical segments in annotation frames.
    gt = [CaptionSegment(0, 31, "a"), CaptionSegment(32, 63, "b")]
    result = rdcap_agreement(
        [RdcapItem(gt, gt, 64)], similarity=lambda r, p: 1.0 if r == p else 0.0
    )

    # (0, 15) and (16, 31) on both sides: IoU 1 on the diagonal → total 2, P = R = F = 1.
    assert result.value == pytest.approx(1.0)


# --- RCap and FGQA -----------------------------------------------------------------------------


def test_rcap_is_the_mean_of_judge_scores_with_failures_as_zero():
    scores = iter([0.7, 1.0, None])

    result = rcap_evaluate(
        [("a", "x"), ("b", "y"), ("c", "z")], similarity=lambda r, p: next(scores)
    )

    assert result.value == pytest.approx((0.7 + 1.0 + 0.0) / 3)
    assert result.counts == {"judge_failures": 1}
    assert result.details["judge_success_rate"] == pytest.approx(2 / 3)


def test_rcap_without_a_judge_is_unavailable():
    result = rcap_evaluate([("a", "b")], similarity=None)

    assert result.value is None
    assert result.unavailable_reason == NO_JUDGE_REASON
    assert result.to_dict()["value"] is None


def test_fgqa_question_with_one_wrong_binary_row_is_wrong():
    rows = [
        FgqaRow("q1", 0, 0),
        FgqaRow("q1", 1, 0),  # one wrong row out of three
        FgqaRow("q1", 1, 1),
        FgqaRow("q2", 0, 0),
        FgqaRow("q2", 1, 1),
        FgqaRow("q3", 1, None),  # unparseable answer
    ]

    result = fgqa_mbacc(rows)

    assert result.value == pytest.approx(1 / 3)
    assert result.counts == {
        "questions": 3,
        "correct_questions": 1,
        "rows": 6,
        "parse_errors": 1,
    }


def test_fgqa_of_nothing_is_unavailable():
    assert fgqa_mbacc([]).value is None
