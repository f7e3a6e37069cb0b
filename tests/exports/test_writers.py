import hashlib
import json
import shutil
import tracemalloc
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from annotation.exports.formats import (
    FGQA_TEST_SCHEMA,
    FGQA_TRAIN_SCHEMA,
    METADATA_FIELDS,
    RCAP_SCHEMA,
    RDCAP_SCHEMA,
    RTLOC_SCHEMA,
    fgqa_test_rows,
    fgqa_train_row,
    rcap_rows,
    rdcap_row,
    rtloc_rows,
)
from annotation.exports.writers import (
    MANIFEST_NAME,
    Destination,
    DuplicateKeyError,
    FileEntry,
    LocalDirectory,
    RowSchemaError,
    write_json,
    write_jsonl,
    write_manifest,
    write_parquet,
)

# --- rows from the real builders ---------------------------------------------------------------


def stc_records(n: int = 3):
    for i in range(n):
        yield {
            "video": f"sav_{i:06d}.mp4",
            "masklet_id": i % 4,
            "total_frames": 121,
            "uid": 1000 + i,
            "segments": [
                {"start_frame": 0, "end_frame": 40, "caption": f"Dog {i} runs — «vite».",
                 "out_of_frame": False, "uid": 10 * i},
                {"start_frame": 41, "end_frame": 80, "caption": "", "out_of_frame": True,
                 "uid": 10 * i + 1},
                {"start_frame": 81, "end_frame": 120, "caption": "狗坐下。",
                 "out_of_frame": False, "uid": 10 * i + 2},
            ],
        }  # fmt: skip


SOURCE = {
    "source_video_id": "ego4d_abc",
    "source_dataset": "ego4d",
    "source_start_time": 12.123456789,
    "source_end_time": 3601.000001,
}


def fgqa_train_rows():
    return [
        fgqa_train_row(
            qa_id=f"qa{i}",
            segment_id=f"seg{i}",
            question="How is the knife held?",
            answer="Blade down.",
            what_description="cutting",
            q_type="Pose",
            q_subtype="hand",
            domain="cooking",
            is_audited=i % 2,
            **SOURCE,
        )
        for i in range(3)
    ]


def fgqa_binary_rows():
    return [
        row
        for i in range(3)
        for row in fgqa_test_rows(
            qa_uid=f"q{i}",
            video=f"clip{i}.mp4",
            question="What happens?",
            answer="Slices the onion.",
            distractors=["Cuts the onion.", "Peels the onion."],
            question_type="Action Recognition",
            source_domain="cooking",
            **SOURCE,
        )
    ]


CASES = {
    "rcap": (RCAP_SCHEMA, lambda: [r for rec in stc_records() for r in rcap_rows(rec)]),
    "rtloc": (RTLOC_SCHEMA, lambda: [r for rec in stc_records() for r in rtloc_rows(rec)]),
    "rdcap": (RDCAP_SCHEMA, lambda: [rdcap_row(rec) for rec in stc_records()]),
    "fgqa_train": (FGQA_TRAIN_SCHEMA, fgqa_train_rows),
    "fgqa_test": (FGQA_TEST_SCHEMA, fgqa_binary_rows),
}


def no_temp_files(root: Path) -> bool:
    return not [p for p in root.rglob("*") if p.name.startswith(".")]


@pytest.mark.parametrize("name", sorted(CASES))
def test_parquet_reads_back_with_the_exact_schema_and_values(tmp_path, name):
    schema, make_rows = CASES[name]
    rows = make_rows()

    entry = write_parquet(iter(rows), tmp_path, f"{name}/file.parquet", schema=schema)

    table = pq.read_table(tmp_path / name / "file.parquet")
    assert table.schema.equals(schema)
    assert table.to_pylist() == rows
    assert entry.rows == len(rows)
    assert no_temp_files(tmp_path)


@pytest.mark.parametrize("name", sorted(CASES))
def test_jsonl_reads_back_equal_to_the_rows(tmp_path, name):
    schema, make_rows = CASES[name]
    rows = make_rows()

    entry = write_jsonl(iter(rows), tmp_path, f"{name}/file.jsonl", fields=schema)

    text = (tmp_path / name / "file.jsonl").read_text(encoding="utf-8")
    assert [json.loads(line) for line in text.splitlines()] == rows
    assert entry.rows == len(rows)


def test_jsonl_bytes_are_compact_utf8_in_schema_order(tmp_path):
    row = {
        "caption": "狗 — «vite»",
        "uid": 1,
        "video": "v.mp4",
        "masklet_id": 2,
        "total_frames": 3,
        "start_frame": 0,
        "end_frame": 2,
    }

    write_jsonl([row], tmp_path, "x.jsonl", fields=RCAP_SCHEMA)

    assert (tmp_path / "x.jsonl").read_bytes() == (
        '{"uid":1,"video":"v.mp4","masklet_id":2,"total_frames":3,'
        '"caption":"狗 — «vite»","start_frame":0,"end_frame":2}\n'
    ).encode()


def test_metadata_jsonl_keeps_frame_keys_in_order(tmp_path):
    row = {"video": "v.mp4", "masklet_id": 1, "bbox": {"0": [1, 2, 3, 4], "1": None}}

    write_jsonl([row], tmp_path, "metadata/metadata_test.jsonl", fields=METADATA_FIELDS)

    assert (tmp_path / "metadata/metadata_test.jsonl").read_text() == (
        '{"video":"v.mp4","masklet_id":1,"bbox":{"0":[1,2,3,4],"1":null}}\n'
    )


@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
def test_same_rows_give_byte_identical_files(tmp_path, file_format):
    schema, make_rows = CASES["rdcap"]
    entries = []
    for attempt in ("a", "b"):
        if file_format == "jsonl":
            entry = write_jsonl(make_rows(), tmp_path / attempt, "f", fields=schema)
        else:
            entry = write_parquet(make_rows(), tmp_path / attempt, "f", schema=schema)
        entries.append(entry)

    first, second = ((tmp_path / d / "f").read_bytes() for d in ("a", "b"))
    assert first == second
    assert entries[0] == entries[1]
    assert entries[0].sha256 == hashlib.sha256(first).hexdigest()
    assert entries[0].bytes == len(first)


def test_parquet_batches_rows_into_row_groups(tmp_path):
    rows = ({**r, "uid": i} for i, r in enumerate(generate_rcap_rows(25)))

    write_parquet(rows, tmp_path, "f.parquet", schema=RCAP_SCHEMA, batch_rows=10)

    metadata = pq.ParquetFile(tmp_path / "f.parquet").metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [10, 10, 5]


def test_empty_input_still_writes_a_valid_file(tmp_path):
    parquet = write_parquet(iter([]), tmp_path, "e.parquet", schema=RDCAP_SCHEMA)
    jsonl = write_jsonl(iter([]), tmp_path, "e.jsonl", fields=RDCAP_SCHEMA)

    assert pq.read_table(tmp_path / "e.parquet").schema.equals(RDCAP_SCHEMA)
    assert parquet.rows == 0
    assert jsonl.rows == 0
    assert jsonl.bytes == 0
    assert jsonl.sha256 == hashlib.sha256(b"").hexdigest()


# --- refusals leave nothing behind -------------------------------------------------------------


def write_rcap(writer: str, rows, root: Path, **kwargs) -> FileEntry:
    if writer == "jsonl":
        return write_jsonl(rows, root, "f", fields=RCAP_SCHEMA, **kwargs)
    return write_parquet(rows, root, "f", schema=RCAP_SCHEMA, **kwargs)


@pytest.mark.parametrize("writer", ["jsonl", "parquet"])
def test_row_with_other_fields_is_refused_and_nothing_is_published(tmp_path, writer):
    rows = [*CASES["rcap"][1](), {"uid": 1, "video": "v.mp4", "extra": True}]

    with pytest.raises(RowSchemaError, match=r"missing \['caption'.*extra \['extra'\]"):
        write_rcap(writer, rows, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("writer", ["jsonl", "parquet"])
def test_repeated_uid_is_refused_and_nothing_is_published(tmp_path, writer):
    rows = [*generate_rcap_rows(5), *generate_rcap_rows(1)]  # uid 0 twice

    with pytest.raises(DuplicateKeyError, match=r"1 repeated value\(s\) of 'uid': \[0\]"):
        write_rcap(writer, rows, tmp_path, unique_field="uid")
    assert list(tmp_path.iterdir()) == []


def test_repeated_string_uid_is_refused(tmp_path):
    rows = fgqa_binary_rows()
    rows.append(rows[0])

    with pytest.raises(DuplicateKeyError, match="'uid'"):
        write_jsonl(rows, tmp_path, "f", fields=FGQA_TEST_SCHEMA, unique_field="uid")


def test_unique_uids_pass_the_check(tmp_path):
    entry = write_parquet(
        generate_rcap_rows(1000), tmp_path, "f", schema=RCAP_SCHEMA, unique_field="uid"
    )

    assert entry.rows == 1000


def test_value_outside_int32_is_refused_by_parquet(tmp_path):
    row = next(iter(generate_rcap_rows(1))) | {"uid": 2**31}

    with pytest.raises(RowSchemaError, match=r"rows 1\.\.1 have a value that does not fit"):
        write_parquet([row], tmp_path, "f", schema=RCAP_SCHEMA)
    assert list(tmp_path.iterdir()) == []


def test_relative_paths_cannot_escape_the_destination(tmp_path):
    for relpath in ("../x", "/abs", "a/../b", "a//b", ""):
        with pytest.raises(ValueError, match="not a safe relative path"):
            write_jsonl([], tmp_path / "out", relpath)
    assert not (tmp_path / "x").exists()


# --- progress, memory, destinations ------------------------------------------------------------


def generate_rcap_rows(n: int):
    for i in range(n):
        yield {
            "uid": i,
            "video": f"sav_{i % 5000:06d}.mp4",
            "masklet_id": i % 7,
            "total_frames": 121,
            "caption": f"The subject number {i} walks to the left and sits down.",
            "start_frame": i % 60,
            "end_frame": 60 + i % 60,
        }


@pytest.mark.parametrize("writer", ["jsonl", "parquet"])
def test_progress_is_reported_every_n_rows_and_at_the_end(tmp_path, writer):
    seen: list[int] = []

    write_rcap(writer, generate_rcap_rows(25), tmp_path, progress=seen.append, progress_every=10)

    assert seen == [10, 20, 25]


def peak_bytes(writer: str, n: int, root: Path) -> int:
    tracemalloc.start()
    try:
        if writer == "jsonl":
            write_jsonl(generate_rcap_rows(n), root, "f", fields=RCAP_SCHEMA)
        else:
            write_parquet(generate_rcap_rows(n), root, "f", schema=RCAP_SCHEMA, batch_rows=2000)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        shutil.rmtree(root)


@pytest.mark.parametrize("writer", ["jsonl", "parquet"])
def test_memory_stays_flat_as_rows_grow(tmp_path, writer):
    small = peak_bytes(writer, 10_000, tmp_path / "small")
    large = peak_bytes(writer, 100_000, tmp_path / "large")

    # Ten times the rows; a writer that kept rows would peak ~10x higher.
    assert large < 1.5 * small + 512 * 1024, (small, large)


class MemoryDestination:
    """What an object-store destination looks like: it only receives finished files."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, relpath: str, local_path: Path) -> None:
        self.files[relpath] = Path(local_path).read_bytes()


def test_any_destination_with_put_receives_finished_files(tmp_path):
    destination = MemoryDestination()

    entry = write_jsonl(generate_rcap_rows(3), destination, "rcap/plm_rcap_test.jsonl",
                        fields=RCAP_SCHEMA, tmp_dir=tmp_path)  # fmt: skip

    assert isinstance(destination, Destination)
    assert list(destination.files) == ["rcap/plm_rcap_test.jsonl"]
    content = destination.files["rcap/plm_rcap_test.jsonl"]
    assert hashlib.sha256(content).hexdigest() == entry.sha256
    assert list(tmp_path.iterdir()) == []  # the staging file is gone


def test_local_directory_replaces_a_previous_version(tmp_path):
    write_jsonl([{"a": 1}], LocalDirectory(tmp_path), "d/f.jsonl")
    write_jsonl([{"a": 2}], LocalDirectory(tmp_path), "d/f.jsonl")

    assert (tmp_path / "d" / "f.jsonl").read_text() == '{"a":2}\n'
    assert no_temp_files(tmp_path)


def test_write_json_keeps_document_order_compactly(tmp_path):
    document = {"video_id": "sav_1", "masklet": [[{"size": [2, 2], "counts": "04"}]], "n": 1.0}

    entry = write_json(document, tmp_path, "masklets/sav_1.json")

    content = (tmp_path / "masklets" / "sav_1.json").read_bytes()
    assert content == b'{"video_id":"sav_1","masklet":[[{"size":[2,2],"counts":"04"}]],"n":1.0}'
    assert entry == FileEntry(
        "masklets/sav_1.json", "json", 1, len(content), hashlib.sha256(content).hexdigest()
    )


# --- manifest ----------------------------------------------------------------------------------


def test_manifest_lists_files_sorted_and_is_deterministic(tmp_path):
    b = write_jsonl(generate_rcap_rows(4), tmp_path, "rtloc/plm_rtloc_test.jsonl")
    a = write_jsonl(generate_rcap_rows(2), tmp_path, "rcap/plm_rcap_test.jsonl")
    options = {
        "split_version": 3,
        "filters": {"task": "all", "format": "jsonl"},
        "code_version": "abc123",
    }

    write_manifest(tmp_path / "one", [b, a], **options)
    write_manifest(tmp_path / "two", [a, b], **options)

    first = (tmp_path / "one" / MANIFEST_NAME).read_bytes()
    assert first == (tmp_path / "two" / MANIFEST_NAME).read_bytes()
    manifest = json.loads(first)
    assert manifest == {
        "format_version": 1,
        "code_version": "abc123",
        "split_version": 3,
        "filters": {"format": "jsonl", "task": "all"},
        "files": [a.to_dict(), b.to_dict()],
        "total_rows": 6,
    }
    assert manifest["files"][0]["path"] == "rcap/plm_rcap_test.jsonl"


def test_manifest_refuses_a_file_listed_twice(tmp_path):
    entry = FileEntry("f.jsonl", "jsonl", 1, 2, "00")

    with pytest.raises(ValueError, match="listed twice"):
        write_manifest(tmp_path, [entry, entry], split_version=1, filters={}, code_version="x")
    assert not (tmp_path / MANIFEST_NAME).exists()
