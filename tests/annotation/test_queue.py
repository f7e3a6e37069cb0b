import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from annotation.errors import ConflictError, ForbiddenError
from annotation.models import Role, Task, TaskEvent, TaskExclusion, TaskKind, TaskStatus
from annotation.services import queue
from tests.conftest import client_for
from tests.factories import ProjectFactory, TaskFactory, member

pytestmark = [pytest.mark.sqlite]

SELECT = [TaskKind.SELECT]


@pytest.mark.django_db
def test_claim_leases_the_highest_priority_oldest_open_task():
    project = ProjectFactory()
    ann = member(project, Role.ANNOTATOR)
    low = TaskFactory(project=project, priority=0)
    high = TaskFactory(project=project, priority=5)
    TaskFactory(project=project, priority=5)
    task = queue.task_claim_next(user=ann, project=project, kinds=SELECT)
    assert task.pk == high.pk
    assert (task.status, task.lease_owner_id) == (TaskStatus.LEASED, ann.pk)
    assert task.lease_expires_at - task.leased_at == timedelta(minutes=30)
    low.refresh_from_db()
    assert low.status == TaskStatus.OPEN


@pytest.mark.django_db
def test_claiming_twice_returns_the_task_already_held():
    project = ProjectFactory()
    ann = member(project, Role.ANNOTATOR)
    TaskFactory.create_batch(2, project=project)
    first = queue.task_claim_next(user=ann, project=project, kinds=SELECT)
    again = queue.task_claim_next(user=ann, project=project, kinds=SELECT)
    assert again.pk == first.pk
    assert Task.objects.filter(status=TaskStatus.LEASED).count() == 1


@pytest.mark.django_db
def test_claim_skips_task_leased_to_someone_else_and_excluded_users():
    project = ProjectFactory()
    a, b = member(project, Role.ANNOTATOR), member(project, Role.ANNOTATOR)
    leased = TaskFactory(project=project)
    queue.task_claim_next(user=a, project=project, kinds=SELECT)
    excluded = TaskFactory(project=project)
    TaskExclusion.objects.create(task=excluded, user=b)
    assert queue.task_claim_next(user=b, project=project, kinds=SELECT) is None
    leased.refresh_from_db()
    assert leased.lease_owner_id == a.pk


@pytest.mark.django_db
def test_rework_assigned_to_me_comes_first_and_is_invisible_to_others():
    project = ProjectFactory()
    author, other = member(project, Role.ANNOTATOR), member(project, Role.ANNOTATOR)
    TaskFactory(project=project, priority=10)
    mine = TaskFactory(project=project, assignee=author)
    assert queue.task_claim_next(user=author, project=project, kinds=SELECT).pk == mine.pk
    got = queue.task_claim_next(user=other, project=project, kinds=SELECT)
    assert got.pk != mine.pk


@pytest.mark.django_db
def test_expired_lease_returns_the_task_to_the_queue():
    project = ProjectFactory(lease_minutes=1)
    a, b = member(project, Role.ANNOTATOR), member(project, Role.ANNOTATOR)
    task = TaskFactory(project=project)
    queue.task_claim_next(user=a, project=project, kinds=SELECT)
    Task.objects.filter(pk=task.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ConflictError, match="lease on this task expired"):
        queue.task_heartbeat(task_id=task.pk, user=a)
    assert queue.task_leases_expire() == 1
    assert queue.task_claim_next(user=b, project=project, kinds=SELECT).pk == task.pk
    assert list(TaskEvent.objects.filter(task=task).values_list("kind", flat=True)) == [
        "claim",
        "expire",
        "claim",
    ]


@pytest.mark.django_db
def test_heartbeat_extends_the_lease_and_only_for_the_owner():
    project = ProjectFactory()
    a, b = member(project, Role.ANNOTATOR), member(project, Role.ANNOTATOR)
    task = TaskFactory(project=project)
    queue.task_claim_next(user=a, project=project, kinds=SELECT)
    Task.objects.filter(pk=task.pk).update(lease_expires_at=timezone.now() + timedelta(minutes=1))
    beat = queue.task_heartbeat(task_id=task.pk, user=a)
    assert beat.lease_expires_at > timezone.now() + timedelta(minutes=29)
    with pytest.raises(ForbiddenError):
        queue.task_heartbeat(task_id=task.pk, user=b)


@pytest.mark.django_db
def test_skip_needs_a_reason_and_a_skipped_select_task_leaves_the_queue():
    project = ProjectFactory()
    a = member(project, Role.ANNOTATOR)
    task = TaskFactory(project=project)
    queue.task_claim_next(user=a, project=project, kinds=SELECT)
    with pytest.raises(Exception, match="Say why"):
        queue.task_skip(task_id=task.pk, user=a, reason="  ")
    skipped = queue.task_skip(task_id=task.pk, user=a, reason="Nothing moves in this video.")
    assert (skipped.status, skipped.skip_reason) == (
        TaskStatus.SKIPPED,
        "Nothing moves in this video.",
    )
    assert queue.task_claim_next(user=a, project=project, kinds=SELECT) is None


@pytest.mark.django_db
def test_skipping_a_caption_task_returns_it_to_others_only():
    project = ProjectFactory()
    a, b = member(project, Role.ANNOTATOR), member(project, Role.ANNOTATOR)
    task = TaskFactory(project=project, kind=TaskKind.CAPTION)
    queue.task_claim_next(user=a, project=project, kinds=[TaskKind.CAPTION])
    queue.task_skip(task_id=task.pk, user=a, reason="I cannot tell what it does.")
    assert queue.task_claim_next(user=a, project=project, kinds=[TaskKind.CAPTION]) is None
    assert queue.task_claim_next(user=b, project=project, kinds=[TaskKind.CAPTION]).pk == task.pk


@pytest.mark.django_db
def test_release_gives_the_task_back():
    project = ProjectFactory()
    a = member(project, Role.ANNOTATOR)
    task = TaskFactory(project=project)
    queue.task_claim_next(user=a, project=project, kinds=SELECT)
    queue.task_release(task_id=task.pk, user=a)
    task.refresh_from_db()
    assert (task.status, task.lease_owner_id) == (TaskStatus.OPEN, None)


@pytest.mark.django_db
def test_queue_api_roles_and_empty_queue():
    project = ProjectFactory()
    ann, rev = member(project, Role.ANNOTATOR), member(project, Role.REVIEWER)
    url = f"/api/projects/{project.pk}/queues/select/next"
    assert client_for(ann).post(url).status_code == 204
    assert client_for(rev).post(url).status_code == 403
    assert client_for(ann).post(f"/api/projects/{project.pk}/queues/review/next").status_code == 403
    assert client_for(ann).post(f"/api/projects/{project.pk}/queues/nope/next").status_code == 404
    TaskFactory(project=project)
    body = client_for(ann).post(url).json()
    assert body["kind"] == "select"
    assert body["project"]["guidelines"] == ""
    assert "is_gold" not in body
    counts = client_for(ann).get(f"/api/projects/{project.pk}/queues").json()
    assert counts["select"] == {"open": 0, "leased": 1, "mine": 1}


@pytest.mark.django_db
def test_task_detail_is_hidden_from_other_annotators():
    project = ProjectFactory()
    a, b = member(project, Role.ANNOTATOR), member(project, Role.ANNOTATOR)
    rev = member(project, Role.REVIEWER)
    task = TaskFactory(project=project)
    queue.task_claim_next(user=a, project=project, kinds=SELECT)
    assert client_for(a).get(f"/api/tasks/{task.pk}").status_code == 200
    assert client_for(b).get(f"/api/tasks/{task.pk}").status_code == 404
    assert client_for(rev).get(f"/api/tasks/{task.pk}").status_code == 200


@pytest.mark.django_db
def test_draft_autosave_refuses_a_stale_copy_with_the_current_version():
    project = ProjectFactory()
    a = member(project, Role.ANNOTATOR)
    task = TaskFactory(project=project)
    queue.task_claim_next(user=a, project=project, kinds=SELECT)
    client = client_for(a)
    url = f"/api/tasks/{task.pk}/draft"
    assert client.get(url).json() == {"version": 0, "data": None, "updated_at": None}
    first = client.put(url, {"data": {"segments": [1]}, "version": 0}, format="json").json()
    assert first["version"] == 1
    second = client.put(url, {"data": {"segments": [1, 2]}, "version": 1}, format="json")
    assert second.json()["version"] == 2
    stale = client.put(url, {"data": {"segments": []}, "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current"] == {"version": 2, "data": {"segments": [1, 2]}}
    assert client.get(url).json()["data"] == {"segments": [1, 2]}


def _claim_all(project, users, kinds, results, errors, barrier):
    def run(user):
        try:
            barrier.wait()
            while True:
                task = queue.task_claim_next(user=user, project=project, kinds=kinds)
                if task is None:
                    return
                results.append((task.pk, user.pk))
                # finish it so this claimer goes on to the next task
                Task.objects.filter(pk=task.pk, lease_owner_id=user.pk).update(
                    status=TaskStatus.SUBMITTED
                )
        except Exception as exc:  # surfaced by the assertion below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_claimers_never_share_a_task():
    project = ProjectFactory()
    users = [member(project, Role.ANNOTATOR) for _ in range(50)]
    tasks = TaskFactory.create_batch(120, project=project)
    results: list[tuple[int, int]] = []
    errors: list[str] = []
    _claim_all(project, users, SELECT, results, errors, threading.Barrier(len(users)))
    assert errors == []
    claimed = Counter(task_id for task_id, _ in results)
    assert claimed.most_common(1)[0][1] == 1
    assert set(claimed) == {t.pk for t in tasks}
    claims = TaskEvent.objects.filter(kind="claim").values_list("task_id", flat=True)
    assert Counter(claims).most_common(1)[0][1] == 1
