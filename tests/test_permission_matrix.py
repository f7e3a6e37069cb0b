"""Every API endpoint x every role -> the expected HTTP status.

The endpoints are read from the URL resolver (annotation/urls.py, tracking/urls.py and the media
view) when the test runs, so a new endpoint without a row in ``MATRIX`` fails
``test_every_endpoint_has_a_row``. The expected statuses are written out by hand from the access
rules of DESIGN.md and annotation/access.py, never computed from the code under test:

- anonymous callers: 403 everywhere (session auth answers 403, not 401), except the public
  auth endpoints;
- non-members (signed in, admin of another project): 404 on anything of the project (its
  existence is not revealed);
- annotator: holds the lease on the pass-1 task of the video everything below points at; may
  work on that task, its video and its masks, and nothing of the project's review, gold,
  dashboard, export or member administration;
- idle annotator: a member with no lease: 404 where the object is hidden from annotators
  (videos, tasks), 403 where the endpoint says why (no lease on this task or video);
- reviewer: holds a review lease on another masklet; reads everything of the project, writes
  nothing of pass 1 and nothing of the admin's;
- project admin: everything in the project; mask edits need no lease;
- site admin (superuser, not a member): acts as a project admin everywhere, and alone may create
  projects.

Each case runs against a freshly built world, so a write by one role cannot change what the
next one sees. Clicks are answered by a tracking worker, so the cases where a click is allowed
run with the real Celery worker (``test_permission_matrix_clicks``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from annotation import storage
from annotation.models import (
    CaptionRevision,
    ExportJob,
    FgqaQuestion,
    FgqaStatus,
    GoldItem,
    JobStatus,
    Project,
    Review,
    ReviewDecision,
    Role,
    Task,
    TaskKind,
    TaskStatus,
    Video,
)
from tests.conftest import client_for
from tests.factories import (
    ProjectFactory,
    TaskFactory,
    UserFactory,
    VideoFactory,
    member,
    tracked_masklet,
)
from tracking.models import Masklet, MaskletStatus, Prompt, TrackingJob, TrackingJobStatus

ROLES = (
    "anonymous",
    "non_member",
    "annotator",
    "idle_annotator",
    "reviewer",
    "admin",
    "site_admin",
)
# Resolver prefixes whose endpoints the matrix must cover (config/urls.py includes).
COVERED_PREFIXES = ("api/", "media/")
PASSWORD = "correct-horse-1"


# --- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    project: Project
    users: dict[str, Any]
    spare: Any  # a member the admin may remove; also the credentials for login/token
    newcomer: Any  # not a member; the admin may add them
    video: Video  # pass 1 in progress: its select task is leased to the annotator
    select_task: Task
    draft: Masklet  # built in that task: a prompt and one revision
    job: TrackingJob  # a finished propagation of the draft
    open_video: Video  # an open pass-1 task anyone in the select queue can claim
    reviewed_video: Video
    accepted: Masklet  # verified (pass 3 accepted), a select gold item of it exists
    gold: GoldItem
    in_review: Masklet
    review_task: Task  # leased to the reviewer
    question: FgqaQuestion
    export: ExportJob  # a finished export with its archive in storage
    upload: Path


def _frames(video: Video, *, count: int, width: int, height: int) -> None:
    """Real annotation-frame JPEGs (a bright square moving right on grey) and a thumbnail."""
    for k in range(count):
        image = np.full((height, width, 3), 90, dtype=np.uint8)
        image[20:44, 10 + 4 * k : 34 + 4 * k] = 230
        out = io.BytesIO()
        Image.fromarray(image).save(out, format="JPEG", quality=90)
        storage.write_bytes(video.frame_key(k), out.getvalue())
    storage.write_bytes(video.thumbnail_key, out.getvalue())


def build_world(upload: Path) -> World:
    project = ProjectFactory(name="matrix", min_caption_chars=5)
    elsewhere = ProjectFactory(name="elsewhere")
    users = {
        "anonymous": None,
        "non_member": member(elsewhere, Role.ADMIN, "outsider"),
        "annotator": member(project, Role.ANNOTATOR, "annotator"),
        "idle_annotator": member(project, Role.ANNOTATOR, "idle"),
        "reviewer": member(project, Role.REVIEWER, "reviewer"),
        "admin": member(project, Role.ADMIN, "boss"),
        "site_admin": UserFactory(username="root", is_superuser=True, is_staff=True),
    }
    spare = member(project, Role.ANNOTATOR, "spare")
    newcomer = UserFactory(username="newcomer")
    now = timezone.now()
    lease = {"lease_expires_at": now + timedelta(minutes=30), "leased_at": now}

    video = VideoFactory(
        project=project,
        name="pass1.mp4",
        width=96,
        height=64,
        annotation_frame_count=6,
        frame_index=list(range(6)),
    )
    _frames(video, count=6, width=96, height=64)
    select_task = TaskFactory(
        project=project,
        video=video,
        kind=TaskKind.SELECT,
        status=TaskStatus.LEASED,
        lease_owner=users["annotator"],
        assignee=users["annotator"],
        **lease,
    )
    draft = tracked_masklet(
        video, object_id=1, created_by=users["annotator"], select_task=select_task
    )
    Prompt.objects.create(
        masklet=draft, frame=0, points=[[20.0, 30.0]], labels=[1], author=users["annotator"]
    )
    job = TrackingJob.objects.create(
        video=video,
        engine="cpu",
        status=TrackingJobStatus.SUCCEEDED,
        frames_total=6,
        frames_done=6,
        created_by=users["annotator"],
        finished_at=now,
    )
    job.masklets.set([draft])

    open_video = VideoFactory(project=project, name="open.mp4")
    TaskFactory(project=project, video=open_video, kind=TaskKind.SELECT)

    reviewed = VideoFactory(
        project=project, name="reviewed.mp4", annotation_frame_count=10, frame_index=list(range(10))
    )
    segments = [
        {"start_frame": 0, "end_frame": 4, "caption": "The dog sits.", "out_of_frame": False},
        {"start_frame": 5, "end_frame": 9, "caption": "The dog runs.", "out_of_frame": False},
    ]
    accepted = tracked_masklet(reviewed, object_id=1, status=MaskletStatus.ACCEPTED)
    accepted_captions = CaptionRevision.objects.create(
        masklet=accepted,
        number=1,
        masklet_revision=accepted.current_revision,
        segments=segments,
        author=spare,
    )
    accept_task = TaskFactory(
        project=project,
        video=reviewed,
        masklet=accepted,
        kind=TaskKind.REVIEW,
        status=TaskStatus.SUBMITTED,
        submitted_by=users["reviewer"],
        submitted_at=now,
    )
    Review.objects.create(
        task=accept_task,
        reviewer=users["reviewer"],
        masklet=accepted,
        masklet_revision=accepted.current_revision,
        caption_revision=accepted_captions,
        decision=ReviewDecision.ACCEPT,
    )
    gold = GoldItem.objects.create(
        project=project,
        kind=TaskKind.SELECT,
        masklet=accepted,
        reference={"masklet_revision": accepted.current_revision_id},
        authors=[spare.pk, users["reviewer"].pk],
        created_by=users["admin"],
    )
    in_review = tracked_masklet(reviewed, object_id=2, status=MaskletStatus.CAPTIONED)
    CaptionRevision.objects.create(
        masklet=in_review,
        number=1,
        masklet_revision=in_review.current_revision,
        segments=segments,
        author=spare,
    )
    review_task = TaskFactory(
        project=project,
        video=reviewed,
        masklet=in_review,
        kind=TaskKind.REVIEW,
        status=TaskStatus.LEASED,
        lease_owner=users["reviewer"],
        assignee=users["reviewer"],
        **lease,
    )
    question = FgqaQuestion.objects.create(
        project=project,
        video=reviewed,
        question="What does the dog do?",
        answer="It sits.",
        status=FgqaStatus.ACCEPTED,
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("manifest.json", "{}")
    storage.write_bytes("exports/matrix/test.zip", archive.getvalue())
    export = ExportJob.objects.create(
        project=project,
        dataset="stc",
        split="test",
        status=JobStatus.SUCCEEDED,
        archive_key="exports/matrix/test.zip",
        manifest={"total_rows": 0},
        created_by=users["admin"],
        finished_at=now,
    )
    return World(
        project=project,
        users=users,
        spare=spare,
        newcomer=newcomer,
        video=video,
        select_task=select_task,
        draft=draft,
        job=job,
        open_video=open_video,
        reviewed_video=reviewed,
        accepted=accepted,
        gold=gold,
        in_review=in_review,
        review_task=review_task,
        question=question,
        export=export,
        upload=upload,
    )


# --- the matrix ---------------------------------------------------------------------------------

Expect = dict[str, int]


def statuses(
    anonymous: int,
    non_member: int,
    annotator: int,
    idle_annotator: int,
    reviewer: int,
    admin: int,
    site_admin: int,
) -> Expect:
    return {
        "anonymous": anonymous,
        "non_member": non_member,
        "annotator": annotator,
        "idle_annotator": idle_annotator,
        "reviewer": reviewer,
        "admin": admin,
        "site_admin": site_admin,
    }


@dataclass
class Case:
    url: Callable[[World], str]
    expect: Expect
    body: Callable[[World], Any] = field(default=lambda w: None)
    multipart: bool = False
    # Roles whose allowed call is answered by a tracking worker (run with the Celery worker).
    worker: tuple[str, ...] = ()


PUBLIC = statuses(403, 200, 200, 200, 200, 200, 200)  # any signed-in user
STAFF_READ = statuses(403, 404, 403, 403, 200, 200, 200)  # reviewers and admins
ADMIN_ONLY = statuses(403, 404, 403, 403, 403, 200, 200)
LEASE_WRITE = statuses(403, 404, 200, 403, 403, 403, 403)  # the lease holder only
MASK_READ = statuses(403, 404, 200, 403, 200, 200, 200)  # lease holder, reviewers, admins
MASK_WRITE = statuses(403, 404, 200, 403, 403, 200, 200)  # lease holder and admins


def _credentials(w: World) -> dict[str, str]:
    return {"username": w.spare.username, "password": PASSWORD}


def _click(w: World) -> dict[str, Any]:
    return {"task_id": w.select_task.pk, "frame": 2, "points": [[30.0, 32.0]], "labels": [1]}


def _upload(w: World) -> dict[str, Any]:
    return {"file": w.upload.open("rb")}


MATRIX: dict[str, Case] = {
    # auth: public (login and tokens need credentials, not a session)
    "GET api/auth/csrf": Case(
        lambda w: "/api/auth/csrf", statuses(204, 204, 204, 204, 204, 204, 204)
    ),
    "POST api/auth/login": Case(
        lambda w: "/api/auth/login", statuses(200, 200, 200, 200, 200, 200, 200), _credentials
    ),
    "POST api/auth/logout": Case(
        lambda w: "/api/auth/logout", statuses(204, 204, 204, 204, 204, 204, 204)
    ),
    "POST api/auth/token": Case(
        lambda w: "/api/auth/token", statuses(200, 200, 200, 200, 200, 200, 200), _credentials
    ),
    "GET api/me": Case(lambda w: "/api/me", PUBLIC),
    # projects and members
    "GET api/projects": Case(lambda w: "/api/projects", PUBLIC),
    "POST api/projects": Case(
        lambda w: "/api/projects",
        statuses(403, 403, 403, 403, 403, 403, 201),
        lambda w: {"name": "brand new", "kind": "stc"},
    ),
    "GET api/projects/<int:project_id>": Case(
        lambda w: f"/api/projects/{w.project.pk}", statuses(403, 404, 200, 200, 200, 200, 200)
    ),
    "PATCH api/projects/<int:project_id>": Case(
        lambda w: f"/api/projects/{w.project.pk}", ADMIN_ONLY, lambda w: {"gold_rate": 0.1}
    ),
    "GET api/projects/<int:project_id>/members": Case(
        lambda w: f"/api/projects/{w.project.pk}/members", STAFF_READ
    ),
    "POST api/projects/<int:project_id>/members": Case(
        lambda w: f"/api/projects/{w.project.pk}/members",
        statuses(403, 404, 403, 403, 403, 201, 201),
        lambda w: {"username": w.newcomer.username, "role": "annotator"},
    ),
    "DELETE api/projects/<int:project_id>/members/<int:user_id>": Case(
        lambda w: f"/api/projects/{w.project.pk}/members/{w.spare.pk}",
        statuses(403, 404, 403, 403, 403, 204, 204),
    ),
    # videos and media
    "GET api/projects/<int:project_id>/videos": Case(
        lambda w: f"/api/projects/{w.project.pk}/videos", STAFF_READ
    ),
    "POST api/projects/<int:project_id>/videos": Case(
        lambda w: f"/api/projects/{w.project.pk}/videos",
        statuses(403, 404, 403, 403, 403, 201, 201),
        _upload,
        multipart=True,
    ),
    "GET api/videos/<int:video_id>": Case(
        lambda w: f"/api/videos/{w.video.pk}", statuses(403, 404, 200, 404, 200, 200, 200)
    ),
    "DELETE api/videos/<int:video_id>": Case(
        lambda w: f"/api/videos/{w.video.pk}", statuses(403, 404, 403, 404, 403, 204, 204)
    ),
    "GET media/videos/<int:video_id>/<path:path>": Case(
        lambda w: f"/media/videos/{w.video.pk}/thumb.jpg",
        statuses(403, 404, 200, 404, 200, 200, 200),
    ),
    # queues and the annotator's loop (on the annotator's leased pass-1 task)
    "GET api/projects/<int:project_id>/queues": Case(
        lambda w: f"/api/projects/{w.project.pk}/queues",
        statuses(403, 404, 200, 200, 200, 200, 200),
    ),
    "POST api/projects/<int:project_id>/queues/<str:queue_name>/next": Case(
        lambda w: f"/api/projects/{w.project.pk}/queues/select/next",
        statuses(403, 404, 200, 200, 403, 200, 200),
    ),
    "GET api/tasks/<int:task_id>": Case(
        lambda w: f"/api/tasks/{w.select_task.pk}", statuses(403, 404, 200, 404, 200, 200, 200)
    ),
    "POST api/tasks/<int:task_id>/heartbeat": Case(
        lambda w: f"/api/tasks/{w.select_task.pk}/heartbeat", LEASE_WRITE, lambda w: {}
    ),
    "POST api/tasks/<int:task_id>/release": Case(
        lambda w: f"/api/tasks/{w.select_task.pk}/release",
        statuses(403, 404, 204, 403, 403, 403, 403),
    ),
    "POST api/tasks/<int:task_id>/skip": Case(
        lambda w: f"/api/tasks/{w.select_task.pk}/skip",
        LEASE_WRITE,
        lambda w: {"reason": "Nothing moves."},
    ),
    "GET api/tasks/<int:task_id>/draft": Case(
        lambda w: f"/api/tasks/{w.select_task.pk}/draft", LEASE_WRITE
    ),
    "PUT api/tasks/<int:task_id>/draft": Case(
        lambda w: f"/api/tasks/{w.select_task.pk}/draft",
        LEASE_WRITE,
        lambda w: {"data": {"note": "half done"}, "version": 0},
    ),
    "POST api/tasks/<int:task_id>/submit": Case(
        lambda w: f"/api/tasks/{w.select_task.pk}/submit",
        LEASE_WRITE,
        lambda w: {
            "base_version": w.select_task.version,
            "masklets": [{"id": w.draft.pk, "category": "animal"}],
        },
    ),
    # review reads, gold
    "GET api/masklets/<int:masklet_id>/history": Case(
        lambda w: f"/api/masklets/{w.accepted.pk}/history", STAFF_READ
    ),
    "GET api/masklets/<int:masklet_id>/diff/masks": Case(
        lambda w: f"/api/masklets/{w.accepted.pk}/diff/masks?from=1&to=1", STAFF_READ
    ),
    "GET api/masklets/<int:masklet_id>/diff/captions": Case(
        lambda w: f"/api/masklets/{w.accepted.pk}/diff/captions?from=1&to=1", STAFF_READ
    ),
    "GET api/fgqa/questions/<int:question_id>/history": Case(
        lambda w: f"/api/fgqa/questions/{w.question.pk}/history", STAFF_READ
    ),
    "GET api/projects/<int:project_id>/gold": Case(
        lambda w: f"/api/projects/{w.project.pk}/gold", STAFF_READ
    ),
    "POST api/projects/<int:project_id>/gold": Case(
        lambda w: f"/api/projects/{w.project.pk}/gold",
        statuses(403, 404, 403, 403, 403, 201, 201),
        lambda w: {"masklet_id": w.accepted.pk, "kinds": ["caption"]},
    ),
    "DELETE api/gold/<int:gold_id>": Case(
        lambda w: f"/api/gold/{w.gold.pk}", statuses(403, 404, 403, 403, 403, 204, 204)
    ),
    # dashboard
    "GET api/projects/<int:project_id>/dashboard": Case(
        lambda w: f"/api/projects/{w.project.pk}/dashboard", STAFF_READ
    ),
    "GET api/projects/<int:project_id>/dashboard/<str:table>": Case(
        lambda w: f"/api/projects/{w.project.pk}/dashboard/funnel", STAFF_READ
    ),
    # releases
    "GET api/projects/<int:project_id>/exports": Case(
        lambda w: f"/api/projects/{w.project.pk}/exports", ADMIN_ONLY
    ),
    "POST api/projects/<int:project_id>/exports": Case(
        lambda w: f"/api/projects/{w.project.pk}/exports",
        statuses(403, 404, 403, 403, 403, 201, 201),
        lambda w: {"split": "test"},
    ),
    "GET api/projects/<int:project_id>/splits": Case(
        lambda w: f"/api/projects/{w.project.pk}/splits", STAFF_READ
    ),
    "GET api/exports/<int:job_id>": Case(lambda w: f"/api/exports/{w.export.pk}", ADMIN_ONLY),
    "GET api/exports/<int:job_id>/download": Case(
        lambda w: f"/api/exports/{w.export.pk}/download", ADMIN_ONLY
    ),
    # tracking (on the annotator's video and draft masklet, under the leased pass-1 task)
    "POST api/tracking/videos/<int:video_id>/masklets": Case(
        lambda w: f"/api/tracking/videos/{w.video.pk}/masklets",
        statuses(403, 404, 201, 403, 403, 201, 201),
        lambda w: {**_click(w), "category": "animal"},
        worker=("annotator", "admin", "site_admin"),
    ),
    "POST api/tracking/masklets/<int:masklet_id>/prompts": Case(
        lambda w: f"/api/tracking/masklets/{w.draft.pk}/prompts",
        MASK_WRITE,
        _click,
        worker=("annotator", "admin", "site_admin"),
    ),
    "PATCH api/tracking/masklets/<int:masklet_id>": Case(
        lambda w: f"/api/tracking/masklets/{w.draft.pk}",
        MASK_WRITE,
        lambda w: {"task_id": w.select_task.pk, "category": "person"},
    ),
    "DELETE api/tracking/masklets/<int:masklet_id>": Case(
        lambda w: f"/api/tracking/masklets/{w.draft.pk}?task_id={w.select_task.pk}",
        statuses(403, 404, 204, 403, 403, 204, 204),
    ),
    "POST api/tracking/videos/<int:video_id>/propagate": Case(
        lambda w: f"/api/tracking/videos/{w.video.pk}/propagate",
        statuses(403, 404, 202, 403, 403, 202, 202),
        lambda w: {"task_id": w.select_task.pk, "masklet_ids": [w.draft.pk]},
    ),
    "GET api/tracking/videos/<int:video_id>/masks": Case(
        lambda w: f"/api/tracking/videos/{w.video.pk}/masks?start=0&end=2", MASK_READ
    ),
    "GET api/tracking/videos/<int:video_id>/jobs": Case(
        lambda w: f"/api/tracking/videos/{w.video.pk}/jobs", MASK_READ
    ),
    "GET api/tracking/masklets/<int:masklet_id>/revisions": Case(
        lambda w: f"/api/tracking/masklets/{w.draft.pk}/revisions", MASK_READ
    ),
    "GET api/tracking/masklets/<int:masklet_id>/compare": Case(
        lambda w: f"/api/tracking/masklets/{w.draft.pk}/compare?a=1&b=1", MASK_READ
    ),
    "GET api/tracking/jobs/<int:job_id>": Case(
        lambda w: f"/api/tracking/jobs/{w.job.pk}?wait=0", MASK_READ
    ),
    "POST api/tracking/jobs/<int:job_id>/cancel": Case(
        lambda w: f"/api/tracking/jobs/{w.job.pk}/cancel",
        MASK_WRITE,
        lambda w: {"task_id": w.select_task.pk},
    ),
}


# --- the endpoints, as the resolver has them ----------------------------------------------------


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            out += _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            out.append((route, pattern.callback))
    return out


def endpoints() -> list[str]:
    """'METHOD route' for every method of every view under the covered prefixes."""
    found = []
    for route, callback in _walk(get_resolver().url_patterns):
        if not route.startswith(COVERED_PREFIXES):
            continue
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        assert view is not None, f"{route}: not a class-based view; the matrix cannot see it"
        for method in view.http_method_names:
            if method not in ("options", "head", "trace") and hasattr(view, method):
                found.append(f"{method.upper()} {route}")
    return found


def test_every_endpoint_has_a_row() -> None:
    have = set(endpoints())
    assert len(have) > 40
    missing = sorted(have - set(MATRIX))
    stale = sorted(set(MATRIX) - have)
    assert not missing, f"endpoints with no row in MATRIX (add the expected statuses): {missing}"
    assert not stale, f"rows in MATRIX for endpoints that no longer exist: {stale}"
    for key, case in MATRIX.items():
        assert set(case.expect) == set(ROLES), key


# --- running a case -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def upload_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workers import synthetic

    path = tmp_path_factory.mktemp("matrix-upload") / "upload.mp4"
    synthetic.generate(path, width=96, height=64, fps=6.0, frames=6, seed=3)
    return path


def _client(world: World, role: str) -> APIClient:
    user = world.users[role]
    return APIClient() if user is None else client_for(user)


def run_case(world: World, key: str, role: str) -> Any:
    method, _ = key.split(" ", 1)
    case = MATRIX[key]
    client = _client(world, role)
    url = case.url(world)
    body = case.body(world)
    if method == "GET":
        return client.get(url)
    if case.multipart:
        return client.generic(method, url) if body is None else client.post(url, body)
    return getattr(client, method.lower())(url, body, format="json")


def _check(world: World, key: str, roles: tuple[str, ...]) -> None:
    """Call ``key`` as each role, each call in a savepoint rolled back afterwards (so a write by
    one role does not change the world of the next), and report every mismatch at once."""
    wrong = []
    for role in roles:
        expected = MATRIX[key].expect[role]
        with transaction.atomic():
            response = run_case(world, key, role)
            transaction.set_rollback(True)
        if response.status_code != expected:
            body = b"".join(response.streaming_content) if response.streaming else response.content
            wrong.append(f"{role}: expected {expected}, got {response.status_code} {body[:200]!r}")
        elif expected in (403, 404):
            assert set(response.json()) >= {"detail", "code", "errors"}, (key, role)
    assert not wrong, f"{key}\n  " + "\n  ".join(wrong)


@pytest.mark.parametrize("key", list(MATRIX))
def test_permission_matrix(db: None, upload_file: Path, key: str) -> None:
    roles = tuple(role for role in ROLES if role not in MATRIX[key].worker)
    _check(build_world(upload_file), key, roles)


@pytest.mark.parametrize(
    ("key", "role"), [(key, role) for key, case in MATRIX.items() for role in case.worker]
)
def test_permission_matrix_clicks(
    transactional_db: None, celery_worker: Any, upload_file: Path, key: str, role: str
) -> None:
    """The allowed clicks, answered by the real tracking worker (it must see committed rows,
    so these run on a committed world of their own)."""
    world = build_world(upload_file)
    response = run_case(world, key, role)
    assert response.status_code == MATRIX[key].expect[role], response.content[:300]
    assert response.json()["mask"]["size"] == [world.video.height, world.video.width]


def test_refusals_change_nothing(db: None, upload_file: Path) -> None:
    """Every refused write (anonymous, non-member, idle annotator) leaves the world as it was."""
    world = build_world(upload_file)

    def snapshot() -> tuple[Any, ...]:
        return (
            list(Task.objects.order_by("pk").values_list("pk", "status", "version", "lease_owner")),
            list(Masklet.objects.order_by("pk").values_list("pk", "status", "category")),
            Prompt.objects.count(),
            TrackingJob.objects.count(),
            list(GoldItem.objects.values_list("pk", "active")),
            ExportJob.objects.count(),
            Video.objects.count(),
            list(Project.objects.order_by("pk").values_list("pk", "gold_rate")),
            sorted(world.project.memberships.values_list("user_id", "role")),
        )

    before = snapshot()
    for key, case in MATRIX.items():
        if key.startswith("GET") or key.startswith("POST api/auth"):
            continue
        for role in ("anonymous", "non_member", "idle_annotator"):
            if role in case.worker or case.expect[role] < 400:
                continue
            response = run_case(world, key, role)
            assert response.status_code == case.expect[role], (key, role)
    assert snapshot() == before
