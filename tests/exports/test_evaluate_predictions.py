"""evaluate: scoring prediction files against the test split with hand-computed values (RTLoc
meanR with strict thresholds on the 32-frame scale, FGQA MBAcc, RDCap SODA_c and RCap through a
local chat-completions judge), bad prediction files, and the human-baseline functions."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from annotation.models import ExportUid
from annotation.services.evaluate import human_fgqa, human_rdcap, human_rtloc
from tests.evaluation.test_judge_client import Reply, chat_server  # noqa: F401
from tests.export_data import captioned_masklet, clip, fgqa_project, fgqa_question, stc_project

pytestmark = pytest.mark.django_db

FRAMES = 64  # annotation frame f is sampled frame int(f / 2)


@pytest.fixture
def benchmark():
    project = stc_project()
    video = clip(project, "sav_000001.mp4", "test", frames=FRAMES)
    walker = captioned_masklet(
        video,
        [(0, 19, "A man walks in."), (20, 39, "He sits down."), (40, 63, "He drinks tea.")],
        object_id=0,
    )
    dog = captioned_masklet(
        video, [(0, 31, "A dog runs in."), (32, 63, "The dog lies down.")], object_id=1
    )
    return {"project": project, "walker": walker, "dog": dog}


def uid(masklet, start, end):
    return ExportUid.objects.get(masklet=masklet, start_frame=start, end_frame=end).pk


def write(tmp_path, rows, name="predictions.jsonl"):
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return str(path)


def export(*args):
    call_command(*args, stdout=io.StringIO())


def evaluate(capsys, *args):
    call_command("evaluate", *args, "--json")
    return json.loads(capsys.readouterr().out)


def rtloc_uids(benchmark, tmp_path):
    # The export assigns the uids that predictions refer to.
    export("export_stc", "--split", "test", "--task", "rtloc", "--out", str(tmp_path / "x"))
    walker, dog = benchmark["walker"], benchmark["dog"]
    return [uid(walker, 0, 19), uid(walker, 20, 39), uid(walker, 40, 63), uid(dog, 0, 31)]


def test_rtloc_mean_recall_with_an_iou_exactly_at_a_threshold(benchmark, tmp_path, capsys):
    a, b, c, d = rtloc_uids(benchmark, tmp_path)
    predictions = write(
        tmp_path,
        [
            {"uid": a, "prediction": "The man walks in during [0, 9]."},  # GT [0, 9]: IoU 1
            {"uid": b, "prediction": "[10, 28]"},  # GT [10, 19]: IoU 9/18 = 0.5 exactly
            {"uid": c, "prediction": "I cannot tell."},  # unparseable
            {"uid": d, "prediction": "[5, 5]"},  # zero length: IoU 0
        ],  # the dog's second segment has no prediction
    )

    result = evaluate(capsys, "--task", "rtloc", "--split", "test", "--predictions", predictions)

    # Per item meanR: 1, (1+0+0+0)/4 (0.5 is not > 0.5), 0, 0, 0.
    assert result["value"] == 0.25
    assert result["details"] == {
        "recall@0.3": 0.4,
        "recall@0.5": 0.2,
        "recall@0.7": 0.2,
        "recall@0.9": 0.2,
        "mean_iou": 0.3,
    }
    assert (result["ground_truth"], result["predicted"], result["missing"]) == (5, 4, 1)
    assert result["unparseable"] == 1
    assert result["counts"] == {"parse_errors": 2}
    assert result["metric"] == "rtloc_mean_recall"


def test_rtloc_human_readable_output(benchmark, tmp_path, capsys):
    a, *_ = rtloc_uids(benchmark, tmp_path)
    predictions = write(tmp_path, [{"uid": str(a), "prediction": "[0, 9]"}])

    call_command("evaluate", "--task", "rtloc", "--predictions", predictions)

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "rtloc on stc test: rtloc_mean_recall = 20.00"
    assert lines[1] == "items 5, predicted 1, missing 4 (scored as wrong), unparseable 0"


@pytest.fixture
def fgqa_benchmark(tmp_path):
    project = fgqa_project()
    video = clip(project, "seg_0001.mp4", "test")
    fgqa_question(video, external_id="q1", distractors=["Peels the onion.", "Dices the onion."])
    fgqa_question(video, external_id="q2", question="How many cups?", answer="Two cups.",
                  distractors=["Three cups.", "One cup."])  # fmt: skip
    fgqa_question(video, external_id="q3", question="Where?", answer="On the left.",
                  distractors=["On the right."])  # fmt: skip
    export("export_fgqa", "--split", "test", "--out", str(tmp_path / "fgqa"))
    lines = (tmp_path / "fgqa" / "fgqa" / "plm_fgqa_test.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_fgqa_mbacc_counts_a_question_wrong_if_one_binary_row_is(fgqa_benchmark, tmp_path, capsys):
    letters = ["(A)", "(B)"]
    predictions = []
    for row in fgqa_benchmark:
        if row["qa_uid"] == "q3":
            continue  # missing: wrong
        right = letters[row["answer_index"]]
        wrong = letters[1 - row["answer_index"]]
        second_of_q2 = (
            row["qa_uid"] == "q2"
            and row["options"][f"option_{1 - row['answer_index']}"] == "One cup."
        )
        predictions.append({"uid": row["uid"], "prediction": wrong if second_of_q2 else right})

    result = evaluate(capsys, "--task", "fgqa", "--predictions", write(tmp_path, predictions))

    assert result["value"] == pytest.approx(1 / 3)
    assert result["counts"] == {"questions": 3, "correct_questions": 1, "rows": 5,
                                "parse_errors": 1}  # fmt: skip
    assert (result["ground_truth"], result["missing"], result["unparseable"]) == (5, 1, 0)


def test_fgqa_unparseable_answer_is_wrong_and_counted(fgqa_benchmark, tmp_path, capsys):
    rows = [{"uid": r["uid"], "prediction": "Neither option fits."} for r in fgqa_benchmark]

    result = evaluate(capsys, "--task", "fgqa", "--predictions", write(tmp_path, rows))

    assert result["value"] == 0.0
    assert result["unparseable"] == 5


def test_rdcap_soda_with_a_judge_over_chat_completions(benchmark, tmp_path, capsys, chat_server):  # noqa: F811
    chat_server.replies = [Reply(content='{"score": 8}'), Reply(content='{"score": 6}')]
    export("export_stc", "--split", "test", "--task", "rdcap", "--out", str(tmp_path / "x"))
    predictions = write(
        tmp_path,
        [{"uid": benchmark["dog"].pk, "prediction": "[0, 15] A dog runs in. [16, 31] It sleeps."}],
    )

    result = evaluate(capsys, "--task", "rdcap", "--predictions", predictions,
                      "--judge-url", chat_server.base_url, "--judge-model", "judge")  # fmt: skip

    # Dog: both pairs IoU 1, similarities 0.8 and 0.6 → P = R = F = 0.7; the walker is missing.
    assert result["value"] == pytest.approx(0.35)
    assert result["counts"] == {"parse_errors": 1, "judge_calls": 2, "judge_failures": 0}
    asked = [r["json"]["messages"][1]["content"] for r in chat_server.requests]
    assert "Reference caption: A dog runs in." in asked[0]
    assert "Predicted caption: It sleeps." in asked[1]


def test_rcap_judge_score_and_missing_predictions_score_zero_without_a_call(
    benchmark,
    tmp_path,
    capsys,
    chat_server,  # noqa: F811
):
    chat_server.replies = [Reply(content='{"score": 7}'), Reply(content='{"score": 3}')]
    export("export_stc", "--split", "test", "--task", "rcap", "--out", str(tmp_path / "x"))
    walker = benchmark["walker"]
    predictions = write(tmp_path, [
        {"uid": uid(walker, 0, 19), "prediction": "A man enters."},
        {"uid": uid(walker, 20, 39), "prediction": "He stands."},
    ])  # fmt: skip

    result = evaluate(capsys, "--task", "rcap", "--predictions", predictions,
                      "--judge-url", chat_server.base_url, "--judge-model", "judge")  # fmt: skip

    assert result["value"] == pytest.approx((0.7 + 0.3) / 5)
    assert result["missing"] == 3
    assert len(chat_server.requests) == 2


@pytest.mark.parametrize("task", ["rdcap", "rcap"])
def test_judge_metrics_without_a_judge_are_unavailable(benchmark, tmp_path, capsys, task):
    predictions = write(tmp_path, [])

    result = evaluate(capsys, "--task", task, "--predictions", predictions)

    assert result["value"] is None
    assert result["unavailable_reason"] == "no LLM judge endpoint is configured"
    call_command("evaluate", "--task", task, "--predictions", predictions)
    assert "unavailable (no LLM judge endpoint is configured)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"uid": 1, "prediction": "[0, 1]"}', "{not json"],
         r"line 2: not valid JSON \(Expecting property name .* at column 2\)"),
        (['{"uid": 999999, "prediction": "[0, 1]"}'],
         "line 1: uid 999999 is not a rtloc item of the test split"),
        (['{"uid": 1}', '["uid", 1]'],
         "line 1: missing prediction; line 2: must be a JSON object with uid and prediction"),
        (['{"uid": 1.5, "prediction": "x"}', '{"uid": 2, "prediction": 3}'],
         "line 1: uid 1.5 is not an integer; line 2: prediction must be the model's text output"),
    ],
)  # fmt: skip
def test_bad_prediction_files_are_cli_errors_naming_the_line(benchmark, tmp_path, lines, message):
    with pytest.raises(CommandError, match=message):
        call_command("evaluate", "--task", "rtloc", "--predictions", write(tmp_path, lines))


def test_duplicate_uid_names_both_lines(benchmark, tmp_path):
    a, *_ = rtloc_uids(benchmark, tmp_path)
    lines = [{"uid": a, "prediction": "[0, 9]"}, "", {"uid": str(a), "prediction": "[1, 9]"}]

    with pytest.raises(CommandError, match=f"line 3: uid {a} was already given on line 1"):
        call_command("evaluate", "--task", "rtloc", "--predictions", write(tmp_path, lines))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "rtloc", "--predictions", "/nonexistent.jsonl"],
         "cannot read /nonexistent.jsonl: No such file or directory"),
        (["--task", "rcap", "--predictions", "x", "--judge-url", "http://judge/v1"],
         "--judge-url and --judge-model go together"),
        (["--task", "fgqa", "--predictions", "x"], "there is no FGQA project"),
        (["--task", "rtloc", "--predictions", "x", "--project", "nope"],
         "project 'nope' does not exist"),
    ],
)  # fmt: skip
def test_bad_arguments_are_cli_errors(benchmark, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("evaluate", *args)


def test_human_rtloc_scores_a_second_annotator_in_annotation_frames():
    result = human_rtloc(pairs=[((0, 19), (0, 19), 64), ((20, 39), (20, 57), 64)])

    # Second pair on the sampled scale: [10, 19] vs [10, 28] → IoU 0.5 → recalled only at 0.3.
    assert result.value == 0.625
    assert result.num_samples == 2


def test_human_rdcap_uses_caption_revision_segments_and_the_judge():
    reference = [
        {"start_frame": 0, "end_frame": 31, "caption": "A dog runs in.", "out_of_frame": False},
        {"start_frame": 32, "end_frame": 63, "caption": "", "out_of_frame": True},
    ]
    other = [
        {"start_frame": 0, "end_frame": 31, "caption": "A dog enters.", "out_of_frame": False},
        {"start_frame": 32, "end_frame": 63, "caption": "", "out_of_frame": True},
    ]
    seen = []

    def similarity(ref, pred):
        seen.append((ref, pred))
        return 1.0 if ref == pred else 0.5

    result = human_rdcap(items=[(reference, other, 64)], similarity=similarity)

    assert result.value == pytest.approx(0.75)  # (0.5 + 1) / 2 for both P and R
    assert seen == [("A dog runs in.", "A dog enters."), ("Out of frame.", "Out of frame.")]
    assert human_rdcap(items=[(reference, other, 64)], similarity=None).value is None


def test_human_fgqa_is_mbacc():
    result = human_fgqa(rows=[("q1", 0, 0), ("q1", 1, 1), ("q2", 0, 0), ("q2", 1, 0)])

    assert result.value == 0.5
