"""export_stc on real PostgreSQL: files, fields and types of DESIGN.md §6, verified-only, the
out-of-frame and uniqueness rules, persistent uids, byte-identical re-exports, S3 via moto."""

import hashlib
import json

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from annotation.exports.writers import LocalDirectory
from annotation.models import ExportUid, SplitRun
from annotation.services.exports import stc_export
from tests.export_data import OUT, captioned_masklet, clip, recaption, stc_project
from tracking.models import MaskletStatus

pytestmark = pytest.mark.django_db

CAPTION_FIELDS = [
    ("uid", pa.int32()),
    ("video", pa.string()),
    ("masklet_id", pa.int32()),
    ("total_frames", pa.int32()),
    ("caption", pa.string()),
    ("start_frame", pa.int32()),
    ("end_frame", pa.int32()),
]
# Written out here, not imported, so a change to the schema module cannot pass unnoticed.
EXPECTED_SCHEMAS = {
    "rcap": pa.schema(CAPTION_FIELDS),
    "rtloc": pa.schema(CAPTION_FIELDS),
    "rdcap": pa.schema(
        [
            ("uid", pa.int32()),
            ("video", pa.string()),
            ("masklet_id", pa.int32()),
            ("total_frames", pa.int32()),
            (
                "dense_captions",
                pa.list_(
                    pa.struct(
                        [
                            ("start_frame", pa.int32()),
                            ("end_frame", pa.int32()),
                            ("caption", pa.string()),
                        ]
                    )
                ),
            ),
        ]
    ),
}
BOX = [20, 10, 60, 40]  # the factory's square mask, pixel xyxy


@pytest.fixture
def release():
    """Two test videos, three accepted masklets (one with an out-of-frame stretch, one whose
    two captions are the same sentence), and what must stay out."""
    project = stc_project()
    first = clip(project, "sav_000001.mp4", "test")
    second = clip(project, "sav_000002.mp4", "test")
    walker = captioned_masklet(
        first,
        [(0, 3, "A man walks in."), (4, 5, None), (6, 11, "He sits down on the sofa.")],
        object_id=0,
    )
    dog = captioned_masklet(
        first,
        [(0, 5, "The dog runs to the door."), (6, 11, "the dog runs to the door")],
        object_id=3,
        category="animal",
    )
    cup = captioned_masklet(second, [(0, 11, "A cup slides across the table.")], object_id=1)
    # Not verified: captioned but not accepted; accepted with flagged captions.
    captioned_masklet(second, [(0, 11, "A hand waves at the camera.")], object_id=2,
                      status=MaskletStatus.CAPTIONED)  # fmt: skip
    flagged = captioned_masklet(
        second, [(0, 11, "A cat jumps off the sofa.")], object_id=4, needs_recheck=True
    )
    # Other splits.
    captioned_masklet(clip(project, "sav_000003.mp4", "train"), [(0, 11, "A bird lands.")])
    captioned_masklet(clip(project, "sav_000004.mp4", ""), [(0, 11, "A car drives by.")])
    return {"project": project, "walker": walker, "dog": dog, "cup": cup, "flagged": flagged}


def uid(masklet, start, end):
    return ExportUid.objects.get(masklet=masklet, start_frame=start, end_frame=end).pk


def files_of(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def caption_row(masklet, video, object_id, caption, start, end):
    return {
        "uid": uid(masklet, start, end),
        "video": video,
        "masklet_id": object_id,
        "total_frames": 12,
        "caption": caption,
        "start_frame": start,
        "end_frame": end,
    }


def expected_rcap(r):
    return [
        caption_row(r["walker"], "sav_000001.mp4", 0, "A man walks in.", 0, 3),
        caption_row(r["walker"], "sav_000001.mp4", 0, "He sits down on the sofa.", 6, 11),
        caption_row(r["dog"], "sav_000001.mp4", 3, "The dog runs to the door.", 0, 5),
        caption_row(r["dog"], "sav_000001.mp4", 3, "the dog runs to the door", 6, 11),
        caption_row(r["cup"], "sav_000002.mp4", 1, "A cup slides across the table.", 0, 11),
    ]


def expected_rdcap(r):
    def dense(*spans):
        return [{"start_frame": s, "end_frame": e, "caption": c} for s, e, c in spans]

    return [
        {
            "uid": r["walker"].pk,
            "video": "sav_000001.mp4",
            "masklet_id": 0,
            "total_frames": 12,
            "dense_captions": dense(
                (0, 3, "A man walks in."), (4, 5, OUT), (6, 11, "He sits down on the sofa.")
            ),
        },
        {
            "uid": r["dog"].pk,
            "video": "sav_000001.mp4",
            "masklet_id": 3,
            "total_frames": 12,
            "dense_captions": dense(
                (0, 5, "The dog runs to the door."), (6, 11, "the dog runs to the door")
            ),
        },
        {
            "uid": r["cup"].pk,
            "video": "sav_000002.mp4",
            "masklet_id": 1,
            "total_frames": 12,
            "dense_captions": dense((0, 11, "A cup slides across the table.")),
        },
    ]


def test_jsonl_release_has_exactly_the_verified_rows(release, tmp_path):
    call_command("export_stc", "--split", "test", "--out", str(tmp_path))

    rcap = read_jsonl(tmp_path / "rcap" / "plm_rcap_test.jsonl")
    assert rcap == expected_rcap(release)
    assert [list(row) for row in rcap] == [[name for name, _ in CAPTION_FIELDS]] * 5
    # RTLoc: like RCap minus the dog's repeated sentence (both copies).
    rtloc = read_jsonl(tmp_path / "rtloc" / "plm_rtloc_test.jsonl")
    assert rtloc == [expected_rcap(release)[i] for i in (0, 1, 4)]
    # RDCap: every frame 0..11 covered, out-of-frame included with the fixed caption.
    rdcap = read_jsonl(tmp_path / "rdcap" / "plm_rdcap_test.jsonl")
    assert rdcap == expected_rdcap(release)
    for row in rdcap:
        frames = [
            f for d in row["dense_captions"] for f in range(d["start_frame"], d["end_frame"] + 1)
        ]
        assert frames == list(range(row["total_frames"]))


def test_same_segment_has_the_same_uid_in_rcap_and_rtloc_and_uids_fit_int32(release, tmp_path):
    call_command("export_stc", "--split", "test", "--out", str(tmp_path))

    rcap = {(r["video"], r["masklet_id"], r["start_frame"]): r["uid"]
            for r in read_jsonl(tmp_path / "rcap" / "plm_rcap_test.jsonl")}  # fmt: skip
    for row in read_jsonl(tmp_path / "rtloc" / "plm_rtloc_test.jsonl"):
        assert rcap[(row["video"], row["masklet_id"], row["start_frame"])] == row["uid"]
    assert len(set(rcap.values())) == 5
    assert all(0 < value < 2**31 for value in rcap.values())


@pytest.mark.parametrize("task", ["rcap", "rtloc", "rdcap"])
def test_parquet_files_have_the_exact_arrow_schema_and_the_jsonl_values(release, tmp_path, task):
    call_command("export_stc", "--split", "test", "--task", task, "--format", "parquet",
                 "--out", str(tmp_path / "pq"))  # fmt: skip
    call_command("export_stc", "--split", "test", "--task", task, "--out", str(tmp_path / "js"))

    table = pq.read_table(tmp_path / "pq" / task / f"plm_{task}_test.parquet")
    assert table.schema.equals(EXPECTED_SCHEMAS[task])
    assert table.to_pylist() == read_jsonl(tmp_path / "js" / task / f"plm_{task}_test.jsonl")


def test_task_option_writes_only_that_file_plus_masks(release, tmp_path):
    call_command("export_stc", "--split", "test", "--task", "rtloc", "--out", str(tmp_path))

    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == [
        "manifest.json",
        "masklets/sav_000001.json",
        "masklets/sav_000002.json",
        "metadata/metadata_test.jsonl",
        "rtloc/plm_rtloc_test.jsonl",
    ]


def test_metadata_has_a_box_or_null_for_every_frame_of_each_record(release, tmp_path):
    call_command("export_stc", "--split", "test", "--out", str(tmp_path))

    rows = read_jsonl(tmp_path / "metadata" / "metadata_test.jsonl")
    visible = {str(f): BOX for f in range(12)}
    walker = {**visible, "4": None, "5": None}
    assert rows == [
        {"video": "sav_000001.mp4", "masklet_id": 0, "bbox": walker},
        {"video": "sav_000001.mp4", "masklet_id": 3, "bbox": visible},
        {"video": "sav_000002.mp4", "masklet_id": 1, "bbox": visible},
    ]
    assert list(rows[0]["bbox"]) == [str(f) for f in range(12)]


def test_masklet_files_hold_every_accepted_masklet_of_the_video_in_sav_layout(release, tmp_path):
    call_command("export_stc", "--split", "test", "--out", str(tmp_path))

    first = json.loads((tmp_path / "masklets" / "sav_000001.json").read_text())
    second = json.loads((tmp_path / "masklets" / "sav_000002.json").read_text())
    assert list(first)[:8] == [
        "video_id",
        "video_duration",
        "video_frame_count",
        "video_height",
        "video_width",
        "video_resolution",
        "masklet",
        "masklet_id",
    ]
    assert first["video_id"] == "sav_000001"
    assert (first["video_frame_count"], first["video_height"], first["video_width"]) == (
        60.0,
        360.0,
        640.0,
    )
    assert first["masklet_id"] == [0, 3]
    assert len(first["masklet"]) == 12
    assert all(len(frame) == 2 for frame in first["masklet"])
    assert first["masklet"][4][0] == release["walker"].current_revision.masks[4]
    assert first["masklet_first_appeared_frame"] == [0, 0]
    assert first["masklet_visibility_changes"] == [2, 0]
    # Accepted masks are released even while their captions wait for a recheck; the
    # masklet still in pass 3 (captioned, not accepted) is not.
    assert second["masklet_id"] == [1, 4]


def test_unverified_masklets_and_flagged_captions_are_not_exported(release, tmp_path):
    call_command("export_stc", "--split", "test", "--out", str(tmp_path))

    text = "".join(p.read_text() for p in tmp_path.rglob("*.jsonl"))
    for caption in ("A hand waves", "A cat jumps", "A bird lands", "A car drives"):
        assert caption not in text
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["filters"]["verified_only"] == {
        "masklet_status": "accepted",
        "captions": "latest revision, not flagged for recheck",
        "video_split": "test",
    }


def test_only_the_latest_caption_revision_counts(release, tmp_path):
    recaption(release["cup"], [(0, 11, "A cup is pushed across the table.")])
    recaption(release["flagged"], [(0, 11, "A cat jumps off the sofa and leaves.")])

    call_command("export_stc", "--split", "test", "--task", "rcap", "--out", str(tmp_path))

    rows = read_jsonl(tmp_path / "rcap" / "plm_rcap_test.jsonl")
    assert [(r["masklet_id"], r["caption"]) for r in rows[4:]] == [
        (1, "A cup is pushed across the table."),
        (4, "A cat jumps off the sofa and leaves."),
    ]
    recaption(release["cup"], [(0, 11, "A cup slides.")], needs_recheck=True)
    call_command("export_stc", "--split", "test", "--task", "rcap", "--out", str(tmp_path))
    rows = read_jsonl(tmp_path / "rcap" / "plm_rcap_test.jsonl")
    assert [r["masklet_id"] for r in rows] == [0, 0, 3, 3, 4]


@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
def test_reexport_is_byte_identical_and_keeps_uids(release, tmp_path, file_format):
    call_command(
        "export_stc", "--split", "test", "--format", file_format, "--out", str(tmp_path / "a")
    )
    uids = sorted(ExportUid.objects.values_list("pk", flat=True))
    call_command(
        "export_stc", "--split", "test", "--format", file_format, "--out", str(tmp_path / "b")
    )

    first, second = files_of(tmp_path / "a"), files_of(tmp_path / "b")
    assert len(first) == 7
    assert first == second
    assert sorted(ExportUid.objects.values_list("pk", flat=True)) == uids


def test_editing_a_caption_keeps_its_uid_and_moving_a_boundary_makes_a_new_one(release, tmp_path):
    call_command("export_stc", "--split", "test", "--task", "rcap", "--out", str(tmp_path))
    before = {r["caption"]: r["uid"] for r in read_jsonl(tmp_path / "rcap" / "plm_rcap_test.jsonl")}
    spans = [(0, 3, "A tall man walks in."), (4, 5, None)]
    recaption(release["walker"], [*spans, (6, 9, "He sits down on the sofa."), (10, 11, "Waves.")])

    call_command("export_stc", "--split", "test", "--task", "rcap", "--out", str(tmp_path))

    after = {r["caption"]: r["uid"] for r in read_jsonl(tmp_path / "rcap" / "plm_rcap_test.jsonl")}
    assert after["A tall man walks in."] == before["A man walks in."]
    assert after["He sits down on the sofa."] not in before.values()
    assert after["Waves."] not in before.values()
    assert after["A cup slides across the table."] == before["A cup slides across the table."]


def test_manifest_lists_every_file_with_rows_and_sha256_split_version_and_code(release, tmp_path):
    SplitRun.objects.create(project=release["project"], version=3, seed=0, val_fraction=0,
                            test_fraction=0.5)  # fmt: skip
    call_command("export_stc", "--split", "test", "--out", str(tmp_path))

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    assert sorted(listed) == [
        "masklets/sav_000001.json",
        "masklets/sav_000002.json",
        "metadata/metadata_test.jsonl",
        "rcap/plm_rcap_test.jsonl",
        "rdcap/plm_rdcap_test.jsonl",
        "rtloc/plm_rtloc_test.jsonl",
    ]
    for path, entry in listed.items():
        data = (tmp_path / path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
    assert {p: f["rows"] for p, f in listed.items() if p.endswith(".jsonl")} == {
        "metadata/metadata_test.jsonl": 3,
        "rcap/plm_rcap_test.jsonl": 5,
        "rdcap/plm_rdcap_test.jsonl": 3,
        "rtloc/plm_rtloc_test.jsonl": 3,
    }
    assert manifest["split_version"] == 3
    assert manifest["total_rows"] == 16
    assert f"pyarrow:{pa.__version__}" in manifest["code_version"]
    assert "git:" in manifest["code_version"]
    assert manifest["filters"]["split"] == "test"
    assert manifest["filters"]["tasks"] == ["rcap", "rtloc", "rdcap"]
    assert manifest["filters"]["out_of_frame_caption"] == OUT


def test_report_counts_what_was_left_out_and_progress_reaches_the_total(release, tmp_path):
    calls = []

    result = stc_export(
        project=release["project"],
        split="test",
        destination=LocalDirectory(tmp_path),
        progress=lambda done, total: calls.append((done, total)),
    )

    assert result.report["records"] == 3
    assert result.report["excluded"] == {
        "captioned_not_accepted": 1,
        "accepted_captions_need_recheck": 1,
        "accepted_without_captions": 0,
    }
    assert calls[-1] == (6, 6)  # 3 records x (one caption pass + the masks pass)


def test_no_video_is_in_two_splits_of_an_export(release, tmp_path):
    call_command("export_stc", "--split", "test", "--out", str(tmp_path / "test"))
    call_command("export_stc", "--split", "train", "--out", str(tmp_path / "train"))

    test_rows = read_jsonl(tmp_path / "test" / "rdcap" / "plm_rdcap_test.jsonl")
    train_rows = read_jsonl(tmp_path / "train" / "rdcap" / "plm_rdcap_train.jsonl")
    test_videos = {r["video"] for r in test_rows}
    train_videos = {r["video"] for r in train_rows}
    assert test_videos == {"sav_000001.mp4", "sav_000002.mp4"}
    assert train_videos == {"sav_000003.mp4"}


def test_empty_split_still_writes_valid_empty_files(release, tmp_path):
    call_command("export_stc", "--split", "val", "--format", "parquet", "--out", str(tmp_path))

    table = pq.read_table(tmp_path / "rcap" / "plm_rcap_val.parquet")
    assert table.num_rows == 0
    assert table.schema.equals(EXPECTED_SCHEMAS["rcap"])
    assert (tmp_path / "metadata" / "metadata_val.jsonl").read_bytes() == b""


def test_a_record_that_does_not_cover_its_video_refuses_the_export_and_publishes_nothing(
    release, tmp_path
):
    recaption(release["cup"], [(0, 9, "A cup slides across the table.")])

    with pytest.raises(CommandError, match=r"nothing was published.*sav_000002.mp4.*10\.\.11"):
        call_command("export_stc", "--split", "test", "--out", str(tmp_path))

    assert list(tmp_path.iterdir()) == []


def test_export_to_s3_uploads_the_same_bytes_through_boto3(release, tmp_path, s3_storage):
    call_command("export_stc", "--split", "test", "--format", "parquet",
                 "--out", f"s3://{s3_storage['bucket']}/releases/v1")  # fmt: skip
    call_command("export_stc", "--split", "test", "--format", "parquet", "--out", str(tmp_path))

    client = boto3.client("s3", endpoint_url=s3_storage["endpoint"], region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    listed = client.list_objects_v2(Bucket=s3_storage["bucket"], Prefix="releases/v1/")
    keys = sorted(obj["Key"] for obj in listed["Contents"])
    local = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert keys == [f"releases/v1/{path}" for path in local]
    for path in local:
        body = client.get_object(Bucket=s3_storage["bucket"], Key=f"releases/v1/{path}")["Body"]
        assert body.read() == (tmp_path / path).read_bytes()


def test_project_is_optional_only_when_exactly_one_stc_project_exists(release, tmp_path):
    stc_project(name="second")

    with pytest.raises(CommandError, match=r"several PLM-STC projects.*'second'.*'stc'"):
        call_command("export_stc", "--split", "test", "--out", str(tmp_path))
    call_command("export_stc", "--split", "test", "--project", "second", "--out", str(tmp_path))
    assert (tmp_path / "rcap" / "plm_rcap_test.jsonl").read_bytes() == b""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "nope"], "project 'nope' does not exist"),
        (["--out", "ftp://host/x"], "--out must be a folder or s3://bucket/prefix"),
        (["--out", "s3://"], "not an s3://bucket/prefix URL"),
    ],
)
def test_bad_arguments_are_cli_errors(release, tmp_path, args, message):
    options = {
        "--split": "test",
        "--out": str(tmp_path),
        **dict(zip(args[::2], args[1::2], strict=True)),
    }
    with pytest.raises(CommandError, match=message):
        call_command("export_stc", *[x for pair in options.items() for x in pair])


def test_fgqa_project_is_refused_by_export_stc(tmp_path):
    from tests.export_data import fgqa_project

    fgqa_project(name="qa")
    with pytest.raises(CommandError, match="'qa' is a fgqa project, not stc"):
        call_command("export_stc", "--split", "test", "--project", "qa", "--out", str(tmp_path))
