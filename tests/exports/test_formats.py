import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pycocotools import mask as coco_mask

from annotation.exports.formats import (
    FGQA_TEST_SCHEMA,
    FGQA_TRAIN_SCHEMA,
    RCAP_SCHEMA,
    RDCAP_SCHEMA,
    RTLOC_SCHEMA,
    ExportDataError,
    bbox_from_rle,
    caption_key,
    fgqa_relpath,
    fgqa_test_rows,
    fgqa_train_row,
    masklet_relpath,
    metadata_relpath,
    metadata_row,
    rcap_rows,
    rdcap_row,
    rtloc_rows,
    sav_masklet_file,
    stable_uid,
    stc_relpath,
)

SAV_EXAMPLE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sav_example"


def schema_fields(schema: pa.Schema) -> list[tuple[str, str]]:
    return [(f.name, str(f.type)) for f in schema]


# --- schemas (field names, types and order as on the dataset cards) ----------------------------


def test_rcap_and_rtloc_schema():
    expected = [
        ("uid", "int32"),
        ("video", "string"),
        ("masklet_id", "int32"),
        ("total_frames", "int32"),
        ("caption", "string"),
        ("start_frame", "int32"),
        ("end_frame", "int32"),
    ]
    assert schema_fields(RCAP_SCHEMA) == expected
    assert schema_fields(RTLOC_SCHEMA) == expected


def test_rdcap_schema():
    assert schema_fields(RDCAP_SCHEMA) == [
        ("uid", "int32"),
        ("video", "string"),
        ("masklet_id", "int32"),
        ("total_frames", "int32"),
        (
            "dense_captions",
            "list<item: struct<start_frame: int32, end_frame: int32, caption: string>>",
        ),
    ]


def test_fgqa_train_schema():
    assert schema_fields(FGQA_TRAIN_SCHEMA) == [
        ("qa_id", "string"),
        ("segment_id", "string"),
        ("question", "string"),
        ("answer", "string"),
        (
            "metadata",
            "struct<source_video_id: string, source_dataset: string, "
            "source_start_time: double, source_end_time: double, what_description: string, "
            "q_type: string, q_subtype: string, domain: string, is_audited: int32>",
        ),
    ]


def test_fgqa_test_schema():
    assert schema_fields(FGQA_TEST_SCHEMA) == [
        ("uid", "string"),
        ("qa_uid", "string"),
        ("video", "string"),
        ("question", "string"),
        ("answer", "string"),
        ("options", "struct<option_0: string, option_1: string>"),
        ("answer_index", "int32"),
        (
            "metadata",
            "struct<source_video_id: string, source_dataset: string, "
            "source_start_time: double, source_end_time: double, question_type: string, "
            "source_domain: string>",
        ),
    ]


def test_file_names_follow_the_released_layout():
    assert stc_relpath("rdcap", "test", "parquet") == "rdcap/plm_rdcap_test.parquet"
    assert stc_relpath("rtloc", "val", "jsonl") == "rtloc/plm_rtloc_val.jsonl"
    assert fgqa_relpath("train", "parquet") == "fgqa/plm_fgqa_train.parquet"
    assert metadata_relpath("test") == "metadata/metadata_test.jsonl"
    assert masklet_relpath("sav_000123") == "masklets/sav_000123.json"


@pytest.mark.parametrize("name", ["../etc", "a/b", "", ".hidden", "x\\y"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(ExportDataError, match="not a safe file name"):
        masklet_relpath(name)


# --- uids --------------------------------------------------------------------------------------


def test_stable_uid_is_pinned_so_reexports_keep_their_ids():
    # Pinned values: changing the derivation would silently renumber every published dataset.
    assert stable_uid("caption-segment", 42) == 1011980120
    assert stable_uid(1) == 953527733
    assert stable_uid("1") == 2017016051


def test_stable_uid_separates_keys_and_types():
    assert stable_uid("a|b") != stable_uid("a", "b")
    assert stable_uid("ab", "c") != stable_uid("a", "bc")
    assert 0 <= stable_uid("x") < 2**31
    with pytest.raises(TypeError):
        stable_uid(1.5)


# --- PLM-STC rows ------------------------------------------------------------------------------


def record(segments, total_frames=30, **extra):
    return {
        "video": "sav_000123.mp4",
        "masklet_id": 2,
        "total_frames": total_frames,
        "uid": 77,
        "segments": segments,
        **extra,
    }


def seg(start, end, caption="", uid=0, out_of_frame=False):
    return {
        "start_frame": start,
        "end_frame": end,
        "caption": caption,
        "uid": uid,
        "out_of_frame": out_of_frame,
    }


SEGMENTS = [
    seg(10, 19, "The dog sits down.", uid=2),
    seg(0, 9, "The dog runs in.", uid=1),  # out of order on purpose
    seg(20, 24, "", uid=3, out_of_frame=True),
    seg(25, 29, "the dog  SITS down", uid=4),  # same caption as uid 2 once normalised
]


def test_rdcap_row_keeps_every_segment_in_order_with_the_out_of_frame_caption():
    row = rdcap_row(record(SEGMENTS), out_of_frame_caption="Out of frame.")

    assert list(row) == ["uid", "video", "masklet_id", "total_frames", "dense_captions"]
    assert row["uid"] == 77
    assert row["dense_captions"] == [
        {"start_frame": 0, "end_frame": 9, "caption": "The dog runs in."},
        {"start_frame": 10, "end_frame": 19, "caption": "The dog sits down."},
        {"start_frame": 20, "end_frame": 24, "caption": "Out of frame."},
        {"start_frame": 25, "end_frame": 29, "caption": "the dog  SITS down"},
    ]


@pytest.mark.parametrize(
    ("segments", "message"),
    [
        ([seg(0, 9, "a"), seg(11, 29, "b")], r"frames 10\.\.10 have no segment"),
        ([seg(0, 9, "a"), seg(9, 29, "b")], r"\[9, 29\] overlaps the one ending at 9"),
        ([seg(1, 29, "a")], r"frames 0\.\.0 have no segment"),
        ([seg(0, 27, "a")], r"frames 28\.\.29 have no segment"),
        ([seg(0, 30, "a")], r"outside 0\.\.29"),
        ([seg(5, 4, "a")], "ends before it starts"),
        ([], r"frames 0\.\.29 have no segment"),
    ],
)
def test_rdcap_row_refuses_gaps_and_overlaps(segments, message):
    with pytest.raises(ExportDataError, match=message):
        rdcap_row(record(segments))


def test_rdcap_row_refuses_an_empty_written_caption():
    with pytest.raises(ExportDataError, match="empty caption"):
        rdcap_row(record([seg(0, 29, "  ")]))


def test_rcap_rows_drop_out_of_frame_segments():
    rows = rcap_rows(record(SEGMENTS))

    assert [r["uid"] for r in rows] == [1, 2, 4]
    assert rows[0] == {
        "uid": 1,
        "video": "sav_000123.mp4",
        "masklet_id": 2,
        "total_frames": 30,
        "caption": "The dog runs in.",
        "start_frame": 0,
        "end_frame": 9,
    }


def test_rtloc_rows_drop_every_copy_of_a_repeated_caption():
    rows = rtloc_rows(record(SEGMENTS))

    # uid 2 and uid 4 say the same thing; uid 3 is out of frame.
    assert [r["uid"] for r in rows] == [1]


def test_rtloc_keeps_captions_that_differ_in_words():
    segments = [seg(0, 14, "The dog sits.", uid=1), seg(15, 29, "The dog sits up.", uid=2)]

    assert [r["uid"] for r in rtloc_rows(record(segments))] == [1, 2]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The man sits.", "the man sits"),
        ("The man  sits", "The man\tsits!"),
        ("Caf\u00e9", "Cafe\u0301"),  # composed and decomposed accent
        ("\uff34he man", "The man"),  # full-width T
    ],
)
def test_caption_key_folds_case_space_and_final_punctuation(a, b):
    assert caption_key(a) == caption_key(b)


def test_builders_refuse_values_outside_int32():
    with pytest.raises(ExportDataError, match="int32"):
        rdcap_row(record([seg(0, 29, "a")], uid=2**31))


# --- metadata and SA-V masklet files -----------------------------------------------------------


def rle_of(mask: np.ndarray) -> dict:
    encoded = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": list(encoded["size"]), "counts": encoded["counts"].decode()}


def test_bbox_from_rle_is_pixel_xyxy():
    mask = np.zeros((20, 30), dtype=bool)
    mask[4:9, 10:16] = True  # rows 4..8, columns 10..15

    assert bbox_from_rle(rle_of(mask)) == [10, 4, 16, 9]
    assert bbox_from_rle(rle_of(np.zeros((20, 30), dtype=bool))) is None
    assert bbox_from_rle(None) is None


def test_metadata_row_has_one_box_or_null_per_annotation_frame():
    mask = np.zeros((20, 30), dtype=bool)
    mask[0:2, 0:3] = True
    rles = [rle_of(mask), rle_of(np.zeros((20, 30), dtype=bool)), None]

    row = metadata_row({"video": "v.mp4", "masklet_id": 4, "total_frames": 3, "rles": rles})

    assert json.loads(json.dumps(row)) == {
        "video": "v.mp4",
        "masklet_id": 4,
        "bbox": {"0": [0, 0, 3, 2], "1": None, "2": None},
    }


def test_metadata_row_refuses_a_mask_count_that_is_not_total_frames():
    with pytest.raises(ExportDataError, match="2 masks for 3 frames"):
        metadata_row({"video": "v.mp4", "masklet_id": 4, "total_frames": 3, "rles": [None, None]})


def synthetic_masklets():
    empty = np.zeros((100, 120), dtype=bool)
    small = empty.copy()
    small[0:10, 0:10] = True  # area 100
    big = empty.copy()
    big[0:100, 0:100] = True  # area 10000
    # masklet 7: absent, visible, visible, absent, visible → first 1, changes 2, mean area 100
    # masklet 9: visible everywhere, areas 10000, 10000, 100, 100, 100 → mean 4060 (medium)
    return [
        {"masklet_id": 7, "rles": [rle_of(m) for m in (empty, small, small, empty, small)]},
        {"masklet_id": 9, "rles": [rle_of(m) for m in (big, big, small, small, small)]},
    ]


def test_sav_masklet_file_layout_and_derived_fields():
    doc = sav_masklet_file(
        video_id="vid_1",
        video_duration=3.0,
        video_frame_count=20,
        video_height=100,
        video_width=120,
        masklets=synthetic_masklets(),
    )

    assert list(doc) == [
        "video_id",
        "video_duration",
        "video_frame_count",
        "video_height",
        "video_width",
        "video_resolution",
        "masklet",
        "masklet_id",
        "masklet_size_rel",
        "masklet_size_abs",
        "masklet_size_bucket",
        "masklet_visibility_changes",
        "masklet_first_appeared_frame",
        "masklet_frame_count",
        "masklet_type",
        "masklet_num",
    ]
    assert len(doc["masklet"]) == 5
    assert all(len(frame) == 2 for frame in doc["masklet"])
    assert doc["video_frame_count"] == 20.0
    assert doc["video_height"] == 100.0
    assert doc["video_resolution"] == 12000.0
    assert doc["masklet_id"] == [7, 9]
    assert doc["masklet_size_abs"] == [100.0, 4060.0]
    assert doc["masklet_size_rel"] == pytest.approx([100 / 12000, 4060 / 12000])
    assert doc["masklet_size_bucket"] == ["small", "medium"]
    assert doc["masklet_first_appeared_frame"] == [1, 0]
    assert doc["masklet_visibility_changes"] == [2, 0]
    assert doc["masklet_frame_count"] == [5, 5]
    assert doc["masklet_num"] == 2


def test_sav_masklet_file_refuses_a_masklet_never_visible():
    empty = rle_of(np.zeros((4, 5), dtype=bool))

    with pytest.raises(ExportDataError, match="empty in every frame"):
        sav_masklet_file(
            video_id="v",
            video_duration=1.0,
            video_frame_count=4,
            video_height=4,
            video_width=5,
            masklets=[{"masklet_id": 0, "rles": [empty, empty]}],
        )


def test_sav_masklet_file_refuses_masks_of_another_size():
    with pytest.raises(ExportDataError, match=r"mask size \[100, 120\] is not \[100, 60\]"):
        sav_masklet_file(
            video_id="v",
            video_duration=1.0,
            video_frame_count=4,
            video_height=100,
            video_width=60,
            masklets=synthetic_masklets(),
        )


@pytest.mark.skipif(not SAV_EXAMPLE.is_dir(), reason="../shared/data/sav_example is not here")
@pytest.mark.parametrize("kind", ["manual", "auto"])
def test_sav_masklet_file_reproduces_real_sav_annotations(kind):
    sav = json.loads((SAV_EXAMPLE / f"sav_000001_{kind}.json").read_text())
    masklets = [
        {"masklet_id": masklet_id, "rles": [frame[i] for frame in sav["masklet"]]}
        for i, masklet_id in enumerate(sav["masklet_id"])
    ]

    doc = sav_masklet_file(
        video_id=sav["video_id"],
        video_duration=sav["video_duration"],
        video_frame_count=int(sav["video_frame_count"]),
        video_height=int(sav["video_height"]),
        video_width=int(sav["video_width"]),
        masklets=masklets,
        masklet_type=kind,
    )

    for key in doc:
        if key in ("masklet_size_rel", "masklet_size_abs"):
            # SA-V's manual file rounds these to 10 digits
            assert doc[key] == pytest.approx(sav[key], rel=1e-8), key
        else:
            assert doc[key] == sav[key], key


# --- FGQA rows ---------------------------------------------------------------------------------

SOURCE = {
    "source_video_id": "ego4d_abc",
    "source_dataset": "ego4d",
    "source_start_time": 12.5,
    "source_end_time": 17.25,
}


def test_fgqa_train_row_nests_metadata_in_card_order():
    row = fgqa_train_row(
        qa_id="qa1",
        segment_id="seg1",
        question="How does the person hold the knife?",
        answer="With the blade facing down.",
        what_description="cutting onions",
        q_type="Pose",
        q_subtype="hand pose",
        domain="cooking",
        is_audited=True,
        **SOURCE,
    )

    assert list(row) == ["qa_id", "segment_id", "question", "answer", "metadata"]
    assert list(row["metadata"]) == [f.name for f in FGQA_TRAIN_SCHEMA.field("metadata").type]
    assert row["metadata"]["is_audited"] == 1
    assert row["metadata"]["source_start_time"] == 12.5


def test_fgqa_train_row_refuses_a_time_range_that_runs_backwards():
    with pytest.raises(ExportDataError, match="before"):
        fgqa_train_row(
            qa_id="q",
            segment_id="s",
            question="?",
            answer="a",
            source_video_id="v",
            source_dataset="d",
            source_start_time=5.0,
            source_end_time=4.0,
            what_description="",
            q_type="Other",
            q_subtype="",
            domain="",
            is_audited=0,
        )


def binary_rows(qa_uid="q-1", distractors=("Cuts the onion.", "Peels the onion.")):
    return fgqa_test_rows(
        qa_uid=qa_uid,
        video="clip_1.mp4",
        question="What does the person do?",
        answer="Slices the onion.",
        distractors=distractors,
        question_type="Action Recognition",
        source_domain="cooking",
        **SOURCE,
    )


def test_fgqa_test_rows_one_binary_row_per_distractor():
    rows = binary_rows()

    assert len(rows) == 2
    assert {r["qa_uid"] for r in rows} == {"q-1"}
    assert len({r["uid"] for r in rows}) == 2
    for row, distractor in zip(rows, ["Cuts the onion.", "Peels the onion."], strict=True):
        options = [row["options"]["option_0"], row["options"]["option_1"]]
        assert options[row["answer_index"]] == "Slices the onion."
        assert options[1 - row["answer_index"]] == distractor
        assert list(row["metadata"]) == [f.name for f in FGQA_TEST_SCHEMA.field("metadata").type]


def test_fgqa_test_rows_are_stable_and_per_distractor():
    both = binary_rows()
    again = binary_rows()
    only_second = binary_rows(distractors=("Peels the onion.",))

    assert both == again
    assert only_second == [both[1]]  # removing one distractor leaves the other row untouched


def test_fgqa_answer_position_is_not_always_the_same():
    positions = Counter(
        row["answer_index"] for i in range(200) for row in binary_rows(qa_uid=f"q-{i}")
    )

    assert set(positions) == {0, 1}
    assert 120 <= positions[0] <= 280  # 400 rows, about half each way


@pytest.mark.parametrize(
    ("distractors", "message"),
    [
        ((), "at least one distractor"),
        (("slices  the onion.",), "repeats the answer"),
        (("Cuts it.", "cuts it."), "repeats the answer or another distractor"),
        (("  ",), "empty distractor"),
    ],
)
def test_fgqa_test_rows_refuse_ambiguous_binary_questions(distractors, message):
    with pytest.raises(ExportDataError, match=message):
        binary_rows(distractors=distractors)
