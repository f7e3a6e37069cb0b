"""The QA dashboard on a constructed dataset: every number equals the hand-computed value.

One 10-frame video goes through pass 1, pass 2 (annotated twice), a rejection, the rework and an
accepting review with an edit, on a controlled clock (seconds after 09:00 on 2 March 2026):

    t=0    builder claims pass 1; beats at 30 (active), 60 (active), 90 (idle); submits at 100
           -> 30 + 30 + 0 + min(10, 30) = 70 s active; two clicks, one propagation run
    t=200  writer claims pass 2; beat at 230; submits at 300 -> 30 + min(70, 30) = 60 s
           (double annotation at rate 1: a second caption task is queued)
    t=400  reviewer claims; rejects at 420 (inaccurate caption, other) -> 20 s
    t=450  third claims the second annotation; submits (0-2, 3-9) at 480 -> 30 s
    t=500  writer claims the rework; submits at 520 -> 20 s
    t=600  reviewer claims; refines the mask (a propagation) at 610; accepts with an edited
           caption at 615 -> 15 s
    t=700  a second video's pass-1 task is queued; the dashboard is read at t=800
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from annotation.models import Role, TaskEvent, TaskEventKind, TaskKind
from annotation.selectors.dashboard import TABLES, Filters, dashboard
from tests.conftest import client_for
from tests.factories import TaskFactory, VideoFactory, member, tracked_masklet
from tests.review.conftest import SEGMENTS, Stc, claim, submit
from tracking.models import Prompt, TrackingJob, TrackingJobStatus

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 2)


def ok(response) -> None:
    assert response.status_code == 200, response.json()


def beat(user, task, active: bool = True) -> None:
    response = client_for(user).post(
        f"/api/tasks/{task['id']}/heartbeat", {"active": active}, format="json"
    )
    assert response.status_code == 200, response.content


def job(video, masklet, user, clock, worker: str = "gpu-1"):
    made = TrackingJob.objects.create(
        video=video,
        engine="cpu",
        status=TrackingJobStatus.SUCCEEDED,
        created_by=user,
        worker=worker,
        heartbeat_at=clock.now,
        frames_total=10,
        frames_done=10,
    )
    made.masklets.set([masklet])
    return made


@pytest.fixture
def world(clock):
    stc = Stc(double_annotation_rate=1.0)
    third = member(stc.project, Role.ANNOTATOR, "third")
    task = claim(stc.builder, stc.project, "select")
    clock.advance(30)
    beat(stc.builder, task)
    clock.advance(30)
    beat(stc.builder, task)
    clock.advance(30)
    beat(stc.builder, task, active=False)
    clock.advance(5)
    masklet = tracked_masklet(stc.video, created_by=stc.builder)
    for frame in (0, 6):
        Prompt.objects.create(
            masklet=masklet, frame=frame, points=[[30, 20]], labels=[1], author=stc.builder
        )
    job(stc.video, masklet, stc.builder, clock)
    clock.advance(5)
    ok(submit(stc.builder, task, masklets=[{"id": masklet.pk, "category": "animal"}]))

    clock.advance(100)
    task = claim(stc.writer, stc.project, "caption")
    clock.advance(30)
    beat(stc.writer, task)
    clock.advance(70)
    ok(submit(stc.writer, task, segments=SEGMENTS))

    clock.advance(100)
    review = claim(stc.reviewer, stc.project, "review")
    clock.advance(20)
    rejected = submit(
        stc.reviewer,
        review,
        decision="reject",
        reasons=["inaccurate_caption", "other"],
        comment="It walks.",
    )
    ok(rejected)

    clock.advance(30)
    second = claim(third, stc.project, "caption")
    clock.advance(30)
    typed = [
        {"start_frame": 0, "end_frame": 2, "caption": "The dog sits."},
        {"start_frame": 3, "end_frame": 9, "caption": "The dog runs off."},
    ]
    ok(submit(third, second, segments=typed))

    clock.advance(20)
    rework = claim(stc.writer, stc.project, "caption")
    assert rework["is_rework"]
    clock.advance(20)
    fixed = [SEGMENTS[0], {"start_frame": 5, "end_frame": 9, "caption": "The dog walks off."}]
    ok(submit(stc.writer, rework, segments=fixed))

    clock.advance(80)
    review = claim(stc.reviewer, stc.project, "review")
    clock.advance(10)
    # what the tracking API records when the reviewer refines the mask and tracks it again
    job(stc.video, masklet, stc.reviewer, clock)
    TaskEvent.objects.create(
        task_id=review["id"], user=stc.reviewer, kind=TaskEventKind.PROPAGATE, data={}
    )
    clock.advance(5)
    edited = [SEGMENTS[0], {"start_frame": 5, "end_frame": 9, "caption": "The dog walks away."}]
    ok(submit(stc.reviewer, review, decision="accept", segments=edited))

    clock.advance(85)  # t=700
    other = VideoFactory(project=stc.project, name="later.mp4")
    waiting = TaskFactory(project=stc.project, video=other, kind=TaskKind.SELECT)
    clock.advance(100)  # t=800
    return stc, masklet, waiting


def rows(name: str, **filters):
    return TABLES[name](Filters(**filters)).rows


def test_funnel_throughput_and_active_time_are_exact(world, clock):
    stc, _, _ = world
    assert rows("funnel", project=stc.project) == [
        {"stage": "videos_ingested", "count": 2},
        {"stage": "pass1_done", "count": 1},
        {"stage": "pass1_skipped", "count": 0},
        {"stage": "masklets", "count": 1},
        {"stage": "captioned", "count": 1},
        {"stage": "accepted", "count": 1},
    ]
    assert rows("throughput", project=stc.project) == [
        {"date": DAY, "annotator": "builder", "kind": "select", "tasks": 1, "gold": 0},
        {"date": DAY, "annotator": "reviewer", "kind": "review", "tasks": 2, "gold": 0},
        {"date": DAY, "annotator": "third", "kind": "caption", "tasks": 1, "gold": 0},
        {"date": DAY, "annotator": "writer", "kind": "caption", "tasks": 2, "gold": 0},
    ]
    assert rows("active_time", project=stc.project) == [
        {
            "kind": "caption",
            "tasks": 3,
            "median_active_seconds": 30.0,
            "mean_active_seconds": pytest.approx(110 / 3),
            "total_active_seconds": 110.0,
        },
        {
            "kind": "review",
            "tasks": 2,
            "median_active_seconds": 17.5,
            "mean_active_seconds": 17.5,
            "total_active_seconds": 35.0,
        },
        {
            "kind": "select",
            "tasks": 1,
            "median_active_seconds": 70.0,
            "mean_active_seconds": 70.0,
            "total_active_seconds": 70.0,
        },
    ]


def test_reviews_agreement_and_effort_are_exact(world):
    stc, _, _ = world
    assert rows("rejections", project=stc.project) == [
        {"stage": "review", "reviews": 2, "accepted": 1, "rejected": 1, "rejection_rate": 0.5}
    ]
    assert rows("rejection_reasons", project=stc.project) == [
        {"stage": "review", "reason": "inaccurate_caption", "count": 1},
        {"stage": "review", "reason": "other", "count": 1},
    ]
    # accepted (0,4),(5,9) vs the second annotation (0,2),(3,9) on the 32-frame scale of 10
    # frames: (0,12),(16,28) vs (0,6),(9,28); best IoUs 6/12 and 12/19; recalled (IoU > t) at
    # t in {.3,.5,.7,.9}: 1 and 2 of 4; mean 0.375
    rtloc, mbacc, soda = rows("agreement", project=stc.project)
    assert (rtloc["metric"], rtloc["value"], rtloc["items"], rtloc["pending"]) == (
        "rtloc_mean_recall",
        0.375,
        1,
        0,
    )
    assert (mbacc["value"], mbacc["items"], soda["value"], soda["items"]) == (None, 0, None, 1)
    zero = {"clicks": 0, "propagation_runs": 0, "reworks_submitted": 0, "review_edits": 0}
    assert rows("effort", project=stc.project) == [
        {
            **zero,
            "annotator": "builder",
            "tasks_submitted": 1,
            "active_seconds": 70.0,
            "clicks": 2,
            "propagation_runs": 1,
        },
        {
            **zero,
            "annotator": "reviewer",
            "tasks_submitted": 2,
            "active_seconds": 35.0,
            "propagation_runs": 1,
            "review_edits": 2,
        },
        {**zero, "annotator": "third", "tasks_submitted": 1, "active_seconds": 30.0},
        {
            **zero,
            "annotator": "writer",
            "tasks_submitted": 2,
            "active_seconds": 80.0,
            "reworks_submitted": 1,
        },
    ]
    assert rows("masklet_effort", project=stc.project) == [
        {
            "category": "animal",
            "masklets": 1,
            "accepted": 1,
            "clicks": 2,
            "clicks_per_masklet": 2.0,
            "propagation_runs": 2,
            "runs_per_masklet": 2.0,
        }
    ]


def test_operations_tables_are_exact(world, clock):
    stc, _, waiting = world
    queues = {r["queue"]: r for r in rows("queues", project=stc.project, now=clock.now)}
    assert queues["select"] == {
        "queue": "select",
        "open": 1,
        "leased": 0,
        "rework_open": 0,
        "oldest_open_at": waiting.created_at,
        "oldest_open_age_seconds": 100.0,
    }
    assert [(q["open"], q["leased"]) for name, q in queues.items() if name != "select"] == [
        (0, 0)
    ] * 3
    jobs = {(r["queue"], r["status"]): r["count"] for r in rows("jobs", project=stc.project)}
    assert jobs[("gpu", "succeeded")] == 2
    assert sum(jobs.values()) == 2
    assert rows("workers", project=stc.project, now=clock.now) == [
        {
            "worker": "gpu-1",
            "last_seen_at": clock.now - timedelta(seconds=190),
            "seconds_since": 190.0,
            "running_jobs": 0,
            "alive": True,
        }
    ]


def test_filters_by_date_and_annotator(world):
    stc, _, _ = world
    assert rows("throughput", project=stc.project, start=DAY + timedelta(days=1)) == []
    assert rows("throughput", project=stc.project, end=DAY - timedelta(days=1)) == []
    mine = rows("throughput", project=stc.project, annotator=stc.writer.pk)
    assert [(r["annotator"], r["tasks"]) for r in mine] == [("writer", 2)]
    # reviews of the writer's work: both reviews of the masklet they captioned
    assert rows("rejections", project=stc.project, annotator=stc.writer.pk)[0]["reviews"] == 2
    assert [
        r["annotator"] for r in rows("effort", project=stc.project, annotator=stc.writer.pk)
    ] == ["writer"]


def test_dashboard_api_and_csv(world):
    stc, _, _ = world
    body = client_for(stc.reviewer).get(f"/api/projects/{stc.project.pk}/dashboard").json()
    assert set(body["tables"]) == set(TABLES)
    assert body["tables"]["funnel"] == dashboard(Filters(project=stc.project))["tables"]["funnel"]
    csv = client_for(stc.admin).get(
        f"/api/projects/{stc.project.pk}/dashboard/throughput", {"format": "csv"}
    )
    assert csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines() == [
        "date,annotator,kind,tasks,gold",
        "2026-03-02,builder,select,1,0",
        "2026-03-02,reviewer,review,2,0",
        "2026-03-02,third,caption,1,0",
        "2026-03-02,writer,caption,2,0",
    ]
    refused = client_for(stc.project.memberships.get(user=stc.writer).user).get(
        f"/api/projects/{stc.project.pk}/dashboard"
    )
    assert refused.status_code == 403
    bad = client_for(stc.admin).get(
        f"/api/projects/{stc.project.pk}/dashboard", {"from": "2026-03-05", "to": "2026-03-01"}
    )
    assert (bad.status_code, bad.json()["errors"]) == (400, {"to": ["Must not be before from."]})
