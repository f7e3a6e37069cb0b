import io
import json

import av
import cv2
import pytest
from django.core.management import call_command

from annotation import storage
from annotation.models import Video, VideoStatus
from tests.conftest import wait_for
from tests.factories import ProjectFactory
from tests.media_files import bad_inputs, make_video


def ingest(*args: str) -> tuple[list[dict], int]:
    out = io.StringIO()
    code = 0
    try:
        call_command("ingest_videos", *args, "--json", stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        code = int(exc.code or 0)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()], code


def stored_keys() -> list[str]:
    return storage.list_keys("videos/") + storage.list_keys("sources/")


def assert_bedroom_media(video: Video) -> None:
    assert (video.width, video.height) == (960, 540)
    assert video.source_fps == 30.0
    assert video.source_frame_count == 200
    assert video.annotation_frame_count == 40
    assert video.frame_index[:3] == [0, 5, 10]
    frames = storage.list_keys(video.frames_prefix)
    assert len(frames) == 40
    with storage.fetched(video.frame_key(39), suffix=".jpg") as path:
        assert cv2.imread(str(path)).shape == (540, 960, 3)
    with storage.fetched(video.proxy_key, suffix=".mp4") as path, av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert sum(1 for _ in container.decode(stream)) == 200
    assert storage.exists(video.thumbnail_key)


@pytest.mark.django_db
def test_ingest_bedroom_inline_builds_frame_index_frames_and_proxy(shared_data):
    project = ProjectFactory()
    rows, code = ingest("--project", project.name, str(shared_data / "videos" / "bedroom.mp4"))
    assert code == 0
    assert rows == [
        {
            "id": rows[0]["id"],
            "name": "bedroom.mp4",
            "status": "ready",
            "width": 960,
            "height": 540,
            "fps": 30.0,
            "source_frames": 200,
            "annotation_frames": 40,
            "error": "",
        }
    ]
    assert_bedroom_media(Video.objects.get(pk=rows[0]["id"]))


@pytest.mark.django_db
def test_ingesting_the_same_file_twice_reports_a_duplicate(tmp_path):
    project = ProjectFactory()
    source = make_video(tmp_path / "clip.mp4")
    ingest("--project", project.name, str(source))
    copy = tmp_path / "renamed.mp4"
    copy.write_bytes(source.read_bytes())
    rows, code = ingest("--project", project.name, str(copy))
    assert code == 1
    assert rows[0]["status"] == "rejected"
    assert rows[0]["error"].startswith("duplicate: this file was already ingested as video #")
    assert Video.objects.filter(project=project).count() == 1


@pytest.mark.django_db
def test_every_bad_input_gets_its_error_and_leaves_nothing_behind(tmp_path):
    project = ProjectFactory()
    bad = bad_inputs(tmp_path)
    rows, code = ingest("--project", project.name, *(str(p) for p in bad.values()))
    assert code == 1
    errors = {row["name"]: (row["status"], row["error"]) for row in rows}
    assert errors == {
        "empty.mp4": ("rejected", "file is empty (0 bytes)"),
        "notes.mp4": (
            "rejected",
            "not a readable video file (Invalid data found when processing input)",
        ),
        "picture.mp4": ("rejected", "file is an image (png), not a video"),
        "song.mp4": ("rejected", "file has no video stream (audio only)"),
        "truncated.mp4": (
            "rejected",
            "corrupt or truncated MP4/MOV file (Invalid data found when processing input)",
        ),
        "cut-short.mp4": ("failed", "video is truncated: decoded 34 of 120 frames"),
    }
    failed = Video.objects.get(project=project)
    assert (failed.name, failed.status, failed.annotation_frame_count) == (
        "cut-short.mp4",
        VideoStatus.FAILED,
        0,
    )
    assert stored_keys() == []


@pytest.mark.django_db
def test_a_failed_file_can_be_ingested_again_once_fixed(tmp_path):
    project = ProjectFactory()
    bad = bad_inputs(tmp_path)
    ingest("--project", project.name, str(bad["truncated_data"]))
    rows, _ = ingest("--project", project.name, str(bad["truncated_data"]))
    assert rows[0]["status"] == "failed"
    assert Video.objects.filter(project=project).count() == 1


@pytest.mark.django_db
def test_cli_names_missing_paths_and_unknown_projects(tmp_path):
    project = ProjectFactory()
    rows, code = ingest(
        "--project", project.name, str(tmp_path / "nope.mp4"), str(tmp_path / "*.mkv")
    )
    assert code == 1
    assert [r["error"] for r in rows] == ["no such file or folder", "no files match this pattern"]
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="project 'missing' does not exist"):
        call_command("ingest_videos", "--project", "missing", str(tmp_path))


@pytest.mark.django_db
def test_split_scenes_makes_clips_that_remember_their_source_range(tmp_path):
    project = ProjectFactory()
    source = make_video(tmp_path / "long.mp4", fps=24, frames=240, cut_at=96)
    rows, code = ingest(
        "--project", project.name, "--split-scenes", "--max-clip-seconds", "4", str(source)
    )
    assert code == 0
    clips = list(Video.objects.filter(project=project).order_by("clip_index"))
    assert [c.name for c in clips] == ["long.mp4", "long_clip001.mp4", "long_clip002.mp4"]
    assert [(c.source_start_time, c.source_end_time) for c in clips] == [
        (0.0, 4.0),
        (4.0, 7.0),
        (7.0, 10.0),
    ]
    assert {c.source_video_id for c in clips} == {"long"}
    assert {c.split_group for c in clips} == {clips[0].sha256}
    assert [c.annotation_frame_count for c in clips] == [24, 18, 18]
    assert all(c.status == VideoStatus.READY for c in clips)
    assert len(rows) == 3


@pytest.mark.django_db(transaction=True)
def test_async_ingest_is_processed_by_the_media_worker(celery_worker, shared_data):
    project = ProjectFactory()
    rows, code = ingest(
        "--project", project.name, "--async", str(shared_data / "videos" / "bedroom.mp4")
    )
    assert code == 0
    assert rows[0]["status"] == "pending"
    video = wait_for(
        lambda: Video.objects.filter(pk=rows[0]["id"], status=VideoStatus.READY).first(),
        timeout=120,
    )
    assert_bedroom_media(video)


@pytest.mark.django_db
def test_ingest_from_s3_into_s3_storage(s3_storage, shared_data):
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_storage["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket="incoming")
    client.upload_file(str(shared_data / "videos" / "bedroom.mp4"), "incoming", "raw/bedroom.mp4")
    client.put_object(Bucket="incoming", Key="raw/notes.mp4", Body=b"not a video")
    project = ProjectFactory()
    rows, code = ingest("--project", project.name, "s3://incoming/raw/")
    assert code == 1
    assert [(r["name"], r["status"]) for r in rows] == [
        ("bedroom.mp4", "ready"),
        ("notes.mp4", "rejected"),
    ]
    video = Video.objects.get(pk=rows[0]["id"])
    listed = client.list_objects_v2(Bucket=s3_storage["bucket"], Prefix=video.frames_prefix)
    assert listed["KeyCount"] == 40
    assert_bedroom_media(video)


@pytest.mark.django_db
def test_deleting_a_video_removes_its_media(tmp_path):
    from annotation.services.ingest import video_delete

    project = ProjectFactory()
    rows, _ = ingest("--project", project.name, str(make_video(tmp_path / "a.mp4")))
    video = Video.objects.get(pk=rows[0]["id"])
    assert stored_keys()
    video_delete(video=video)
    assert stored_keys() == []
