"""The work queue: claiming the next task under a lease, heartbeats, skip, release, expiry.

A task is leased to at most one person at a time, on PostgreSQL and SQLite alike:
- PostgreSQL: the candidate row is locked with SELECT ... FOR UPDATE SKIP LOCKED, so concurrent
  claimers each get a different row without waiting on each other;
- SQLite: transactions begin IMMEDIATE (settings), so claimers are serialised by the write lock;
- both: the lease is taken with a conditional UPDATE on the version read, so even a broken lock
  could not hand one task to two people.

Gold: with probability ``project.gold_rate`` a claim hands out a fresh copy of a gold item
instead (annotation.services.gold). The copy is created already leased to the claimer and
assigned to them, so it is never contended and the locking above is untouched.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from annotation.access import project_role
from annotation.errors import ConflictError, ForbiddenError, NotFoundError, ServiceError
from annotation.models import (
    Project,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskExclusion,
    TaskKind,
    TaskStatus,
)
from annotation.services.analytics import active_increment

CLAIM_ATTEMPTS = 5


def _lease_window(project: Project) -> timedelta:
    return timedelta(minutes=project.lease_minutes)


def _claimable(*, user: Any, project: Project, kinds: list[str], now: Any) -> QuerySet[Task]:
    excluded = TaskExclusion.objects.filter(task_id=OuterRef("pk"), user_id=user.pk)
    return (
        Task.objects.filter(project=project, kind__in=kinds)
        .filter(Q(status=TaskStatus.OPEN) | Q(status=TaskStatus.LEASED, lease_expires_at__lt=now))
        .filter(Q(assignee__isnull=True) | Q(assignee_id=user.pk))
        .filter(~Exists(excluded))
        .annotate(
            mine=Case(
                When(assignee_id=user.pk, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("mine", "-priority", "id")
    )


def task_current_lease(*, user: Any, project: Project, kinds: list[str]) -> Task | None:
    now = timezone.now()
    return (
        Task.objects.filter(
            project=project,
            kind__in=kinds,
            status=TaskStatus.LEASED,
            lease_owner_id=user.pk,
            lease_expires_at__gte=now,
        )
        .order_by("leased_at")
        .first()
    )


def task_claim_next(*, user: Any, project: Project, kinds: list[str]) -> Task | None:
    """Lease the next task of these kinds to ``user``; None when the queue is empty for them.

    A user who already holds a live lease of these kinds gets that task back, so pressing
    "start working" twice never takes two tasks.
    """
    held = task_current_lease(user=user, project=project, kinds=kinds)
    if held is not None:
        return held
    if project.gold_rate > 0 and random.random() < project.gold_rate:
        gold = _gold_copy(user=user, project=project, kinds=kinds)
        if gold is not None:
            return gold
    for _ in range(CLAIM_ATTEMPTS):
        now = timezone.now()
        with transaction.atomic():
            candidates = _claimable(user=user, project=project, kinds=kinds, now=now)
            if connection.features.has_select_for_update_skip_locked:
                candidates = candidates.select_for_update(skip_locked=True, of=("self",))
            task = candidates.only("pk", "version", "status").first()
            if task is None:
                return None
            taken = Task.objects.filter(pk=task.pk, version=task.version).update(
                status=TaskStatus.LEASED,
                lease_owner_id=user.pk,
                leased_at=now,
                lease_expires_at=now + _lease_window(project),
                last_seen_at=now,
                version=F("version") + 1,
            )
            if taken:
                TaskEvent.objects.create(task_id=task.pk, user_id=user.pk, kind=TaskEventKind.CLAIM)
                return Task.objects.select_related("video__project", "project").get(pk=task.pk)
    raise ConflictError("The queue is busy; try again.", code="claim_contention")


def _gold_copy(*, user: Any, project: Project, kinds: list[str]) -> Task | None:
    """A gold copy stands in for real work only: with nothing else to do, an annotator is not
    handed known items (an empty queue that still serves tasks would give gold away)."""
    from annotation.services.gold import GOLD_KINDS, gold_copy_lease  # gold builds on this

    if not set(kinds) & set(GOLD_KINDS):
        return None
    now = timezone.now()
    if not _claimable(user=user, project=project, kinds=kinds, now=now).exists():
        return None
    return gold_copy_lease(
        user=user, project=project, kinds=kinds, now=now, lease=_lease_window(project)
    )


def task_leased(*, task_id: int, user: Any, lock: bool = False) -> Task:
    """The task if ``user`` holds its live lease; otherwise a clear refusal.

    With ``lock`` (inside a transaction) the row is locked for the caller's write.
    """
    qs = Task.objects.select_related("project", "video")
    if lock and connection.features.has_select_for_update:
        qs = qs.select_for_update(of=("self",))
    task = qs.filter(pk=task_id).first()
    if task is None:
        raise NotFoundError("Task not found.")
    if task.lease_owner_id != user.pk or task.status != TaskStatus.LEASED:
        if project_role(user=user, project=task.project_id) is None:
            # a non-member learns nothing, not even that the task exists
            raise NotFoundError("Task not found.")
        if task.status in (TaskStatus.SUBMITTED, TaskStatus.SKIPPED, TaskStatus.CANCELLED):
            raise ConflictError(
                f"This task is already {task.status}.",
                current=_task_state(task),
                code="task_closed",
            )
        raise ForbiddenError("This task is not leased to you.", code="not_leased")
    if task.lease_expires_at is not None and task.lease_expires_at < timezone.now():
        raise ConflictError(
            "Your lease on this task expired; it went back to the queue.",
            current=_task_state(task),
            code="lease_expired",
        )
    return task


def task_check_version(task: Task, base_version: int) -> None:
    """Refuse a write based on an old copy of the task (a second tab, a replayed request)."""
    if task.version != base_version:
        raise ConflictError(
            "This task changed since you opened it (another tab?). Reload to continue.",
            current=_task_state(task),
            code="stale_task",
        )


def _task_state(task: Task) -> dict[str, Any]:
    return {"id": task.pk, "status": task.status, "version": task.version}


def task_heartbeat(*, task_id: int, user: Any, active: bool = True) -> Task:
    """Extend the lease; ``active`` says the person interacted since the last beat (analytics)."""
    task = task_leased(task_id=task_id, user=user)
    now = timezone.now()
    credit = active_increment(since=task.last_seen_at or task.leased_at, now=now, active=active)
    Task.objects.filter(pk=task.pk, lease_owner_id=user.pk, status=TaskStatus.LEASED).update(
        lease_expires_at=now + _lease_window(task.project),
        last_seen_at=now,
        active_seconds=F("active_seconds") + credit,
    )
    TaskEvent.objects.create(
        task_id=task.pk,
        user_id=user.pk,
        kind=TaskEventKind.HEARTBEAT,
        data={"active": active, "active_seconds": credit},
    )
    task.lease_expires_at = now + _lease_window(task.project)
    return task


def task_release(*, task_id: int, user: Any) -> None:
    """Give a leased task back to the queue untouched (a gold copy is dropped instead: it was
    made for this person only)."""
    with transaction.atomic():
        task = task_leased(task_id=task_id, user=user, lock=True)
        Task.objects.filter(pk=task.pk).update(
            status=TaskStatus.CANCELLED if task.is_gold else TaskStatus.OPEN,
            lease_owner=None,
            leased_at=None,
            lease_expires_at=None,
            version=F("version") + 1,
        )
        TaskEvent.objects.create(task_id=task.pk, user_id=user.pk, kind=TaskEventKind.RELEASE)


def task_skip(*, task_id: int, user: Any, reason: str) -> Task:
    """Skip with a reason. A skipped pass-1 video leaves the pipeline ("nothing moves here");
    other kinds go back to the queue for someone else."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Say why you skip this task.", errors={"reason": ["Required."]})
    if len(reason) > 1000:
        raise ServiceError("The reason is too long (1000 characters at most).")
    with transaction.atomic():
        task = task_leased(task_id=task_id, user=user, lock=True)
        TaskEvent.objects.create(
            task_id=task.pk, user_id=user.pk, kind=TaskEventKind.SKIP, data={"reason": reason}
        )
        if task.kind == TaskKind.SELECT:
            Task.objects.filter(pk=task.pk).update(
                status=TaskStatus.SKIPPED,
                skip_reason=reason,
                submitted_by_id=user.pk,
                submitted_at=timezone.now(),
                lease_expires_at=None,
                version=F("version") + 1,
            )
        else:
            TaskExclusion.objects.get_or_create(task_id=task.pk, user_id=user.pk)
            Task.objects.filter(pk=task.pk).update(
                status=TaskStatus.CANCELLED if task.is_gold else TaskStatus.OPEN,
                skip_reason=reason,
                lease_owner=None,
                leased_at=None,
                lease_expires_at=None,
                version=F("version") + 1,
            )
    task.refresh_from_db()
    return task


def task_finish(*, task: Task, user: Any) -> None:
    """Mark a leased task submitted. Call inside the submitting service's transaction, after
    task_leased(lock=True); the conditional update refuses a second submit."""
    now = timezone.now()
    credit = active_increment(since=task.last_seen_at or task.leased_at, now=now, active=True)
    done = Task.objects.filter(pk=task.pk, status=TaskStatus.LEASED, lease_owner_id=user.pk).update(
        status=TaskStatus.SUBMITTED,
        submitted_by_id=user.pk,
        submitted_at=now,
        lease_expires_at=None,
        last_seen_at=now,
        active_seconds=F("active_seconds") + credit,
        version=F("version") + 1,
    )
    if not done:
        raise ConflictError("This task was already submitted.", current=_task_state(task))
    TaskEvent.objects.create(
        task_id=task.pk,
        user_id=user.pk,
        kind=TaskEventKind.SUBMIT,
        data={"active_seconds": credit},
    )


def task_leases_expire() -> int:
    """Return tasks whose lease ran out to the queue (claims also treat them as open)."""
    now = timezone.now()
    expired = list(
        Task.objects.filter(status=TaskStatus.LEASED, lease_expires_at__lt=now).values_list(
            "pk", "lease_owner_id"
        )
    )
    count = 0
    for task_id, owner_id in expired:
        with transaction.atomic():
            if Task.objects.filter(
                pk=task_id, status=TaskStatus.LEASED, lease_expires_at__lt=now
            ).update(
                status=TaskStatus.OPEN,
                lease_owner=None,
                leased_at=None,
                lease_expires_at=None,
                version=F("version") + 1,
            ):
                TaskEvent.objects.create(
                    task_id=task_id, user_id=owner_id, kind=TaskEventKind.EXPIRE
                )
                count += 1
    return count
