from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotation import storage
from annotation.models import Membership, Project, Role, Video, VideoStatus
from tests.conftest import client_for, wait_for
from tests.factories import ProjectFactory, TaskFactory, UserFactory, member
from tests.media_files import bad_inputs, make_video

pytestmark = pytest.mark.django_db


def ingest_small(project: Project, tmp_path, name: str = "clip.mp4") -> Video:
    source = make_video(tmp_path / name)
    call_command("ingest_videos", "--project", project.name, str(source), stdout=None)
    return Video.objects.get(project=project, name=name)


def test_login_needs_the_csrf_token_and_sets_a_session():
    UserFactory(username="ann")
    client = APIClient(enforce_csrf_checks=True)
    refused = client.post(
        "/api/auth/login", {"username": "ann", "password": "correct-horse-1"}, format="json"
    )
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert client.get("/api/auth/csrf").status_code == 204
    token = client.cookies["csrftoken"].value
    ok = client.post(
        "/api/auth/login",
        {"username": "ann", "password": "correct-horse-1"},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert ok.status_code == 200
    assert ok.json()["username"] == "ann"
    assert client.get("/api/me").json()["username"] == "ann"


def test_wrong_password_is_a_clear_400():
    UserFactory(username="ann")
    response = APIClient().post(
        "/api/auth/login", {"username": "ann", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid username or password.",
        "code": "bad_credentials",
        "errors": {},
    }


def test_token_auth_for_scripts():
    UserFactory(username="bot")
    token = (
        APIClient()
        .post("/api/auth/token", {"username": "bot", "password": "correct-horse-1"}, format="json")
        .json()["token"]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/me").json()["username"] == "bot"


def test_anonymous_gets_401_or_403_everywhere():
    project = ProjectFactory()
    client = APIClient()
    for url in ["/api/me", "/api/projects", f"/api/projects/{project.pk}", "/api/videos/1"]:
        assert client.get(url).status_code in (401, 403), url


def test_create_user_command_gives_roles_and_a_token():
    project = ProjectFactory(name="birds")
    call_command(
        "create_user",
        "rev",
        "--password",
        "long-enough-pw",
        "--role",
        "reviewer",
        "--project",
        "birds",
        "--token",
        stdout=None,
    )
    membership = Membership.objects.get(user__username="rev")
    assert (membership.project, membership.role) == (project, Role.REVIEWER)
    assert Token.objects.filter(user__username="rev").exists()


def test_create_user_command_refuses_unknown_project_and_short_password():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="project 'nope' does not exist"):
        call_command(
            "create_user",
            "x",
            "--password",
            "long-enough-pw",
            "--role",
            "annotator",
            "--project",
            "nope",
        )
    with pytest.raises(CommandError, match="at least 8 characters"):
        call_command("create_user", "x", "--password", "short")


def test_project_list_shows_only_my_projects_and_only_superusers_create():
    mine, _other = ProjectFactory(name="mine"), ProjectFactory(name="other")
    ann = member(mine, Role.ANNOTATOR)
    client = client_for(ann)
    assert [p["name"] for p in client.get("/api/projects").json()] == ["mine"]
    refused = client.post("/api/projects", {"name": "new"}, format="json")
    assert refused.status_code == 403
    assert not Project.objects.filter(name="new").exists()
    admin = UserFactory(is_superuser=True)
    created = client_for(admin).post(
        "/api/projects", {"name": "new", "kind": "fgqa"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["annotation_fps"] == 6.0


def test_non_member_gets_404_and_annotator_403_on_admin_actions():
    project = ProjectFactory()
    outsider = UserFactory()
    ann = member(project, Role.ANNOTATOR)
    assert client_for(outsider).get(f"/api/projects/{project.pk}").status_code == 404
    response = client_for(ann).patch(
        f"/api/projects/{project.pk}", {"guidelines": "x"}, format="json"
    )
    assert response.status_code == 403
    assert (
        response.json()["detail"] == "This needs the admin role in this project; you are annotator."
    )
    project.refresh_from_db()
    assert project.guidelines == ""


def test_admin_updates_guidelines_and_members():
    project = ProjectFactory()
    admin = member(project, Role.ADMIN)
    UserFactory(username="newbie")
    client = client_for(admin)
    assert (
        client.patch(
            f"/api/projects/{project.pk}", {"guidelines": "Pick movers."}, format="json"
        ).json()["guidelines"]
        == "Pick movers."
    )
    added = client.post(
        f"/api/projects/{project.pk}/members",
        {"username": "newbie", "role": "annotator"},
        format="json",
    )
    assert added.status_code == 201
    missing = client.post(
        f"/api/projects/{project.pk}/members",
        {"username": "ghost", "role": "annotator"},
        format="json",
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No user named 'ghost'."


def test_upload_is_processed_on_the_media_queue(celery_worker, tmp_path, transactional_db):
    project = ProjectFactory()
    admin = member(project, Role.ADMIN)
    source = make_video(tmp_path / "upload.mp4", frames=48)
    with open(source, "rb") as fh:
        response = client_for(admin).post(
            f"/api/projects/{project.pk}/videos", {"file": fh}, format="multipart"
        )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    video = wait_for(
        lambda: Video.objects.filter(pk=response.json()["id"], status=VideoStatus.READY).first(),
        timeout=90,
    )
    assert video.annotation_frame_count == 12
    detail = client_for(admin).get(f"/api/videos/{video.pk}").json()
    assert len(detail["media"]["frame_urls"]) == 12


@pytest.mark.parametrize("kind", ["empty", "text", "png", "audio", "truncated"])
def test_upload_of_bad_input_is_a_400_and_stores_nothing(kind, tmp_path):
    project = ProjectFactory()
    admin = member(project, Role.ADMIN)
    path = bad_inputs(tmp_path)[kind]
    with open(path, "rb") as fh:
        response = client_for(admin).post(
            f"/api/projects/{project.pk}/videos", {"file": fh}, format="multipart"
        )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_video"
    assert response.json()["errors"]["file"] == [response.json()["detail"]]
    assert not Video.objects.exists()
    assert storage.list_keys("sources/") == []


def test_upload_with_a_path_traversal_name_is_refused(tmp_path):
    project = ProjectFactory()
    admin = member(project, Role.ADMIN)
    # Django's test client strips folders from file names, so build the request by hand.
    boundary = "----tubelet-test-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="../../etc/evil.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        + make_video(tmp_path / "v.mp4").read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client_for(admin).generic(
        "POST",
        f"/api/projects/{project.pk}/videos",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400
    assert "path traversal refused" in response.json()["detail"]
    assert not Video.objects.exists()


def test_annotator_cannot_upload():
    project = ProjectFactory()
    ann = member(project, Role.ANNOTATOR)
    response = client_for(ann).post(f"/api/projects/{project.pk}/videos", {}, format="multipart")
    assert response.status_code == 403


def test_media_view_checks_membership_and_task_ownership(tmp_path):
    project = ProjectFactory()
    video = ingest_small(project, tmp_path)
    url = f"/media/videos/{video.pk}/frames/000000.jpg"
    reviewer = member(project, Role.REVIEWER)
    annotator = member(project, Role.ANNOTATOR)
    outsider = member(ProjectFactory(), Role.ADMIN)
    assert client_for(reviewer).get(url).status_code == 200
    assert client_for(outsider).get(url).status_code == 404
    assert APIClient().get(url).status_code in (401, 403)
    # an annotator sees a video only through their own task
    assert client_for(annotator).get(url).status_code == 404
    TaskFactory(
        project=project,
        video=video,
        status="leased",
        lease_owner=annotator,
        lease_expires_at="2100-01-01T00:00:00Z",
    )
    assert client_for(annotator).get(url).status_code == 200


def test_media_view_serves_byte_ranges(tmp_path):
    project = ProjectFactory()
    video = ingest_small(project, tmp_path)
    reviewer = member(project, Role.REVIEWER)
    url = f"/media/videos/{video.pk}/proxy.mp4"
    whole = b"".join(client_for(reviewer).get(url).streaming_content)
    part = client_for(reviewer).get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert b"".join(part.streaming_content) == whole[100:200]
    tail = client_for(reviewer).get(url, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == whole[-10:]
    beyond = client_for(reviewer).get(url, HTTP_RANGE=f"bytes={len(whole)}-")
    assert beyond.status_code == 416
    assert client_for(reviewer).get(f"/media/videos/{video.pk}/../secret").status_code == 404


def test_s3_mode_gives_expiring_signed_urls_that_work(s3_storage, tmp_path):
    import requests

    project = ProjectFactory()
    video = ingest_small(project, tmp_path)
    reviewer = member(project, Role.REVIEWER)
    media = client_for(reviewer).get(f"/api/videos/{video.pk}").json()["media"]
    assert media["frame_url_template"] is None
    assert media["expires_in"] == 600
    url = media["frame_urls"][3]
    query = parse_qs(urlparse(url).query)
    assert query.get("X-Amz-Expires") == ["600"] or "Expires" in query
    body = requests.get(url, timeout=10).content
    assert body == storage.read_bytes(video.frame_key(3))
    unsigned = url.split("?")[0]
    assert requests.get(unsigned, timeout=10).status_code == 403
    # the local media view does not serve S3 media
    assert client_for(reviewer).get(f"/media/videos/{video.pk}/thumb.jpg").status_code == 404
