"""export_fgqa: PLM-Video-Human fgqa (train) and PLM-VideoBench fgqa (test) layouts, accepted
questions only, verified distractors for the benchmark, determinism."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from annotation.models import FgqaStatus
from tests.export_data import clip, fgqa_project, fgqa_question

pytestmark = pytest.mark.django_db

TRAIN_SCHEMA = pa.schema(
    [
        ("qa_id", pa.string()),
        ("segment_id", pa.string()),
        ("question", pa.string()),
        ("answer", pa.string()),
        (
            "metadata",
            pa.struct(
                [
                    ("source_video_id", pa.string()),
                    ("source_dataset", pa.string()),
                    ("source_start_time", pa.float64()),
                    ("source_end_time", pa.float64()),
                    ("what_description", pa.string()),
                    ("q_type", pa.string()),
                    ("q_subtype", pa.string()),
                    ("domain", pa.string()),
                    ("is_audited", pa.int32()),
                ]
            ),
        ),
    ]
)
TEST_SCHEMA = pa.schema(
    [
        ("uid", pa.string()),
        ("qa_uid", pa.string()),
        ("video", pa.string()),
        ("question", pa.string()),
        ("answer", pa.string()),
        ("options", pa.struct([("option_0", pa.string()), ("option_1", pa.string())])),
        ("answer_index", pa.int32()),
        (
            "metadata",
            pa.struct(
                [
                    ("source_video_id", pa.string()),
                    ("source_dataset", pa.string()),
                    ("source_start_time", pa.float64()),
                    ("source_end_time", pa.float64()),
                    ("question_type", pa.string()),
                    ("source_domain", pa.string()),
                ]
            ),
        ),
    ]
)
SOURCE = {
    "source_video_id": "ego4d_0f3a",
    "source_dataset": "ego4d",
    "source_start_time": 12.5,
    "source_end_time": 18.25,
}


@pytest.fixture
def questions():
    project = fgqa_project()
    train = clip(project, "seg_train_01.mp4", "train", **SOURCE)
    test = clip(project, "seg_test_01.mp4", "test", **SOURCE)
    fgqa_question(train, external_id="qa-1", segment_id="seg-1", q_subtype="hand",
                  what_description="cutting an onion")  # fmt: skip
    fgqa_question(train, question="Which hand holds the knife?", answer="The right hand.")
    fgqa_question(train, question="Pending?", status=FgqaStatus.ANSWERED)
    fgqa_question(
        test,
        external_id="bench-7",
        distractors=["Peels the onion.", "Chops the carrot.", "Washes the onion."],
        is_benchmark=True,
    )
    fgqa_question(test, question="Unverified distractors?", verified=False, is_benchmark=True)
    fgqa_question(test, question="Rejected?", status=FgqaStatus.REJECTED, is_benchmark=True)
    return project


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_train_rows_follow_plm_video_human(questions, tmp_path):
    call_command("export_fgqa", "--split", "train", "--out", str(tmp_path))

    rows = read_jsonl(tmp_path / "fgqa" / "plm_fgqa_train.jsonl")
    second = questions.fgqa_questions.get(question="Which hand holds the knife?")
    metadata = {**SOURCE, "what_description": "cutting an onion", "q_type": "Action Recognition",
                "q_subtype": "hand", "domain": "cooking", "is_audited": 1}  # fmt: skip
    assert rows == [
        {
            "qa_id": "qa-1",
            "segment_id": "seg-1",
            "question": "What does the person do with the knife?",
            "answer": "Slices the onion.",
            "metadata": metadata,
        },
        {
            "qa_id": f"tubelet_{second.pk}",
            "segment_id": "seg_train_01",
            "question": "Which hand holds the knife?",
            "answer": "The right hand.",
            "metadata": {**metadata, "what_description": "", "q_subtype": ""},
        },
    ]


def test_test_rows_are_one_binary_question_per_verified_distractor(questions, tmp_path):
    call_command("export_fgqa", "--split", "test", "--out", str(tmp_path))

    rows = read_jsonl(tmp_path / "fgqa" / "plm_fgqa_test.jsonl")
    assert len(rows) == 3
    assert {r["qa_uid"] for r in rows} == {"bench-7"}
    assert len({r["uid"] for r in rows}) == 3
    for row, distractor in zip(
        rows, ["Peels the onion.", "Chops the carrot.", "Washes the onion."], strict=True
    ):
        options = [row["options"]["option_0"], row["options"]["option_1"]]
        assert options[row["answer_index"]] == "Slices the onion."
        assert options[1 - row["answer_index"]] == distractor
        assert row["answer"] == "Slices the onion."
        assert row["video"] == "seg_test_01.mp4"
        assert row["metadata"] == {
            **SOURCE,
            "question_type": "Action Recognition",
            "source_domain": "cooking",
        }
    assert list(rows[0]) == TEST_SCHEMA.names


@pytest.mark.parametrize(("split", "schema"), [("train", TRAIN_SCHEMA), ("test", TEST_SCHEMA)])
def test_parquet_has_the_exact_schema_and_the_jsonl_values(questions, tmp_path, split, schema):
    call_command("export_fgqa", "--split", split, "--format", "parquet", "--out", str(tmp_path))
    call_command("export_fgqa", "--split", split, "--out", str(tmp_path))

    table = pq.read_table(tmp_path / "fgqa" / f"plm_fgqa_{split}.parquet")
    assert table.schema.equals(schema)
    assert table.to_pylist() == read_jsonl(tmp_path / "fgqa" / f"plm_fgqa_{split}.jsonl")


@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
def test_reexport_is_byte_identical(questions, tmp_path, file_format):
    for out in ("a", "b"):
        call_command("export_fgqa", "--split", "test", "--format", file_format,
                     "--out", str(tmp_path / out))  # fmt: skip

    for name in ("manifest.json", f"fgqa/plm_fgqa_test.{file_format}"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_manifest_and_report_count_what_was_left_out(questions, tmp_path, capsys):
    call_command("export_fgqa", "--split", "test", "--out", str(tmp_path))

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [(f["path"], f["rows"]) for f in manifest["files"]] == [("fgqa/plm_fgqa_test.jsonl", 3)]
    assert manifest["filters"]["verified_only"]["distractors"] == "human-verified"
    out = capsys.readouterr().out
    assert "1 not accepted, 1 accepted without verified distractors" in out


def test_missing_source_times_fall_back_to_the_clip(tmp_path):
    project = fgqa_project()
    fgqa_question(clip(project, "clip_9.mp4", "train", frames=30))

    call_command("export_fgqa", "--split", "train", "--out", str(tmp_path))

    [row] = read_jsonl(tmp_path / "fgqa" / "plm_fgqa_train.jsonl")
    assert row["metadata"]["source_video_id"] == "clip_9"
    assert (row["metadata"]["source_start_time"], row["metadata"]["source_end_time"]) == (0.0, 5.0)


def test_a_distractor_equal_to_the_answer_refuses_the_export(questions, tmp_path):
    questions.fgqa_questions.filter(external_id="bench-7").update(
        distractors=["slices  the onion.", "Peels the onion."]
    )

    with pytest.raises(CommandError, match=r"nothing was published.*bench-7.*repeats the answer"):
        call_command("export_fgqa", "--split", "test", "--out", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_val_is_not_an_fgqa_split(questions, tmp_path):
    with pytest.raises(CommandError, match="invalid choice: 'val'"):
        call_command("export_fgqa", "--split", "val", "--out", str(tmp_path))
