"""The STC export streams: its peak Python memory does not grow with the number of records."""

import tracemalloc

import pytest

from annotation.exports.writers import LocalDirectory
from annotation.models import CaptionRevision, Video, VideoStatus
from annotation.services.exports import stc_export
from tests.export_data import stc_project
from tracking.models import Masklet, MaskletRevision, MaskletStatus

pytestmark = pytest.mark.django_db

PER_VIDEO = 4


def bulk_records(project, count):
    videos = Video.objects.bulk_create(
        Video(project=project, name=f"{project.name}_{i:06d}.mp4", original_name="x.mp4",
              sha256=f"{i:064x}", annotation_frame_count=24, status=VideoStatus.READY,
              split="test", width=848, height=480)
        for i in range(count // PER_VIDEO)
    )  # fmt: skip
    masklets = Masklet.objects.bulk_create(
        Masklet(video=videos[i // PER_VIDEO], object_id=i % PER_VIDEO,
                status=MaskletStatus.ACCEPTED)
        for i in range(count)
    )  # fmt: skip
    revisions = MaskletRevision.objects.bulk_create(
        MaskletRevision(masklet=m, number=1, engine="test") for m in masklets
    )
    CaptionRevision.objects.bulk_create(
        CaptionRevision(masklet=m, number=1, masklet_revision=r, segments=[
            {"start_frame": 0, "end_frame": 9, "caption": f"Person {i} walks in.",
             "out_of_frame": False},
            {"start_frame": 10, "end_frame": 13, "caption": "Out of frame.", "out_of_frame": True},
            {"start_frame": 14, "end_frame": 23, "caption": "Then sits down.",
             "out_of_frame": False},
        ])
        for i, (m, r) in enumerate(zip(masklets, revisions, strict=True))
    )  # fmt: skip


def peak_during_export(project, out, file_format):
    tracemalloc.start()
    try:
        result = stc_export(
            project=project,
            split="test",
            destination=LocalDirectory(out),
            masks=False,
            file_format=file_format,
        )
        return result.total_rows, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
def test_peak_memory_is_flat_from_2k_to_8k_records(tmp_path, monkeypatch, file_format):
    # Small buffers (database chunks, writer hand-offs, Parquet row groups), so that both sizes
    # fill many of each and what is compared is the streaming itself.
    monkeypatch.setattr("annotation.services.exports.CHUNK_SIZE", 250)
    monkeypatch.setattr("annotation.services.exports.FANOUT_BATCH", 64)
    monkeypatch.setattr("annotation.services.exports.PARQUET_ROW_GROUP", 512)
    small, large = stc_project(name="small"), stc_project(name="large")
    bulk_records(small, 2_000)
    bulk_records(large, 8_000)

    small_rows, small_peak = peak_during_export(small, tmp_path / "small", file_format)
    large_rows, large_peak = peak_during_export(large, tmp_path / "large", file_format)

    assert (small_rows, large_rows) == (2_000 * 5, 8_000 * 5)
    assert large_peak < small_peak * 1.15
