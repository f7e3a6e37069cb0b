"""The QA dashboard: exact numbers over a project, as tables (columns + rows).

Filters: a date range (``start``..``end``, whole UTC days, inclusive) and an annotator. What
each applies to is stated per table; current-state tables (queues, jobs, workers) ignore both.

Counts and sums are SQL aggregates. Three things are computed in Python because SQL has no
portable form of them (the embedded default runs on SQLite): medians, reason counts inside a
JSON list, and agreement (the benchmark metric code, annotation.services.agreement).

Definitions:
- a *real* task is not a gold copy and not a second annotation;
- pass 1 done: the video's real, first (non-rework) pass-1 task was submitted;
- masklets (selected): masklets that got a real pass-2 task (pass 1 accepted them);
- active seconds: annotation.services.analytics (heartbeats capped at the beat period).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Avg,
    Count,
    Exists,
    FloatField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from annotation.models import (
    CaptionRevision,
    ExportJob,
    FgqaAnswer,
    FgqaQuestion,
    FgqaStatus,
    GoldItem,
    Project,
    Review,
    ReviewDecision,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskKind,
    TaskStatus,
    Video,
    VideoStatus,
)
from annotation.selectors.tasks import QUEUES
from annotation.services.agreement import (
    fgqa_agreement,
    fgqa_rows,
    segment_pairs,
    segments_recall,
)
from tracking.models import Masklet, MaskletStatus, Prompt, TrackingJob, TrackingJobStatus

# A worker that reported on a job within this window counts as alive.
WORKER_RECENT = timedelta(minutes=5)
# Workers listed at all: those seen within this window.
WORKER_LISTED = timedelta(hours=24)
# A running tracking job whose heartbeat is older than this is reported as stale.
JOB_STALE = timedelta(minutes=2)


@dataclass(frozen=True)
class Filters:
    project: Project
    start: date | None = None
    end: date | None = None
    annotator: int | None = None
    now: datetime = field(default_factory=timezone.now)

    def span(self, prefix: str) -> Q:
        """``prefix`` (a datetime field) within the date range."""
        q = Q()
        if self.start is not None:
            q &= Q(**{f"{prefix}__gte": datetime.combine(self.start, time.min, tzinfo=UTC)})
        if self.end is not None:
            after = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)
            q &= Q(**{f"{prefix}__lt": after})
        return q

    def by(self, user_field: str) -> Q:
        return Q(**{user_field: self.annotator}) if self.annotator is not None else Q()

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project.pk,
            "from": self.start,
            "to": self.end,
            "annotator": self.annotator,
        }


@dataclass
class Table:
    columns: list[str]
    rows: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "rows": self.rows}


def _real(qs: QuerySet[Task]) -> QuerySet[Task]:
    return qs.filter(is_gold=False, is_duplicate=False)


def _seconds(value: timedelta) -> float:
    return value.total_seconds()


# --- funnels -------------------------------------------------------------------------------------


def _selected_masklets(f: Filters) -> QuerySet[Masklet]:
    caption_task = _real(Task.objects.filter(kind=TaskKind.CAPTION, masklet_id=OuterRef("pk")))
    return Masklet.objects.filter(
        f.span("video__created_at"), video__project=f.project, video__status=VideoStatus.READY
    ).filter(Exists(caption_task))


def stc_funnel(f: Filters) -> Table:
    """Videos ingested (READY, created in the range) and how far their work got. Annotator
    filter: not applied."""
    videos = Video.objects.filter(f.span("created_at"), project=f.project, status=VideoStatus.READY)
    first_pass = _real(
        Task.objects.filter(kind=TaskKind.SELECT, video_id=OuterRef("pk"), rework_of__isnull=True)
    )
    video_counts = videos.aggregate(
        ingested=Count("id"),
        pass1_done=Count("id", filter=Q(Exists(first_pass.filter(status=TaskStatus.SUBMITTED)))),
        pass1_skipped=Count("id", filter=Q(Exists(first_pass.filter(status=TaskStatus.SKIPPED)))),
    )
    has_captions = CaptionRevision.objects.filter(masklet_id=OuterRef("pk"))
    masklet_counts = _selected_masklets(f).aggregate(
        masklets=Count("id"),
        captioned=Count("id", filter=Q(Exists(has_captions))),
        accepted=Count("id", filter=Q(status=MaskletStatus.ACCEPTED)),
    )
    stages = [
        ("videos_ingested", video_counts["ingested"]),
        ("pass1_done", video_counts["pass1_done"]),
        ("pass1_skipped", video_counts["pass1_skipped"]),
        ("masklets", masklet_counts["masklets"]),
        ("captioned", masklet_counts["captioned"]),
        ("accepted", masklet_counts["accepted"]),
    ]
    return Table(["stage", "count"], [{"stage": s, "count": n} for s, n in stages])


def fgqa_funnel(f: Filters) -> Table:
    """Questions imported in the range and how far they got. Annotator filter: not applied."""
    answered = FgqaAnswer.objects.filter(
        question_id=OuterRef("pk"), task__kind=TaskKind.FGQA_ANSWER, rejected=False
    )
    counts = FgqaQuestion.objects.filter(f.span("created_at"), project=f.project).aggregate(
        imported=Count("id"),
        answered=Count("id", filter=Q(Exists(answered))),
        distractors_verified=Count("id", filter=Q(distractors_verified=True)),
        accepted=Count("id", filter=Q(status=FgqaStatus.ACCEPTED)),
        rejected=Count("id", filter=Q(status=FgqaStatus.REJECTED)),
        benchmark=Count("id", filter=Q(is_benchmark=True)),
        benchmark_accepted=Count("id", filter=Q(is_benchmark=True, status=FgqaStatus.ACCEPTED)),
    )
    return Table(["stage", "count"], [{"stage": s, "count": n} for s, n in counts.items()])


# --- people --------------------------------------------------------------------------------------


def _submitted(f: Filters) -> QuerySet[Task]:
    return Task.objects.filter(
        f.span("submitted_at"),
        f.by("submitted_by_id"),
        project=f.project,
        status=TaskStatus.SUBMITTED,
    )


def throughput(f: Filters) -> Table:
    """Tasks submitted per annotator per UTC day and kind (gold copies included, and counted
    apart in ``gold``)."""
    rows = (
        _submitted(f)
        .annotate(day=TruncDate("submitted_at"))
        .values("day", "submitted_by__username", "kind")
        .annotate(tasks=Count("id"), gold=Count("id", filter=Q(is_gold=True)))
        .order_by("day", "submitted_by__username", "kind")
    )
    return Table(
        ["date", "annotator", "kind", "tasks", "gold"],
        [
            {
                "date": r["day"],
                "annotator": r["submitted_by__username"],
                "kind": r["kind"],
                "tasks": r["tasks"],
                "gold": r["gold"],
            }
            for r in rows
        ],
    )


def active_time(f: Filters) -> Table:
    """Active seconds of the tasks submitted in the range (all leases of each task), per kind."""
    submitted = _submitted(f)
    sums = {
        r["kind"]: r
        for r in submitted.values("kind").annotate(
            tasks=Count("id"), total=Sum("active_seconds"), mean=Avg("active_seconds")
        )
    }
    values: dict[str, list[float]] = {}
    for kind, seconds in submitted.order_by("kind", "active_seconds").values_list(
        "kind", "active_seconds"
    ):
        values.setdefault(kind, []).append(seconds)
    return Table(
        ["kind", "tasks", "median_active_seconds", "mean_active_seconds", "total_active_seconds"],
        [
            {
                "kind": kind,
                "tasks": sums[kind]["tasks"],
                "median_active_seconds": statistics.median(values[kind]),
                "mean_active_seconds": sums[kind]["mean"],
                "total_active_seconds": sums[kind]["total"],
            }
            for kind in sorted(sums)
        ],
    )


def _reviews(f: Filters) -> QuerySet[Review]:
    reviews = Review.objects.filter(f.span("created_at"), task__project=f.project)
    if f.annotator is None:
        return reviews
    built = _real(
        Task.objects.filter(
            Q(masklet_id=OuterRef("masklet_id"), kind__in=[TaskKind.SELECT, TaskKind.CAPTION])
            | Q(pk=OuterRef("masklet__select_task_id")),
            status=TaskStatus.SUBMITTED,
            submitted_by_id=f.annotator,
        )
    )
    answered = FgqaAnswer.objects.filter(
        question_id=OuterRef("fgqa_question_id"), author_id=f.annotator
    ).exclude(task__kind=TaskKind.FGQA_REVIEW)
    return reviews.filter(Q(Exists(built)) | Q(Exists(answered)))


def rejections(f: Filters) -> Table:
    """Review outcomes per stage for reviews made in the range. Annotator filter: reviews of
    work the annotator did (built or captioned the masklet, answered the question)."""
    rows = (
        _reviews(f)
        .values("task__kind")
        .annotate(
            reviews=Count("id"),
            accepted=Count("id", filter=Q(decision=ReviewDecision.ACCEPT)),
            rejected=Count("id", filter=Q(decision=ReviewDecision.REJECT)),
        )
        .order_by("task__kind")
    )
    return Table(
        ["stage", "reviews", "accepted", "rejected", "rejection_rate"],
        [
            {
                "stage": r["task__kind"],
                "reviews": r["reviews"],
                "accepted": r["accepted"],
                "rejected": r["rejected"],
                "rejection_rate": r["rejected"] / r["reviews"],
            }
            for r in rows
        ],
    )


def rejection_reasons(f: Filters) -> Table:
    """How often each reason was given in rejections (a rejection may give several)."""
    counts: Counter[tuple[str, str]] = Counter()
    for kind, reasons in (
        _reviews(f).filter(decision=ReviewDecision.REJECT).values_list("task__kind", "reasons")
    ):
        counts.update((kind, reason) for reason in reasons)
    return Table(
        ["stage", "reason", "count"],
        [{"stage": s, "reason": r, "count": n} for (s, r), n in sorted(counts.items())],
    )


def gold_accuracy(f: Filters) -> Table:
    """Gold copies submitted in the range: their scores (0..1) per annotator and kind."""
    rows = (
        _submitted(f)
        .filter(is_gold=True)
        .values("submitted_by__username", "kind")
        .annotate(gold_tasks=Count("id"), mean_score=Avg("score"), min_score=Min("score"))
        .order_by("submitted_by__username", "kind")
    )
    return Table(
        ["annotator", "kind", "gold_tasks", "mean_score", "min_score"],
        [
            {
                "annotator": r["submitted_by__username"],
                "kind": r["kind"],
                "gold_tasks": r["gold_tasks"],
                "mean_score": r["mean_score"],
                "min_score": r["min_score"],
            }
            for r in rows
        ],
    )


def agreement(f: Filters) -> Table:
    """The human baseline: second annotations submitted in the range scored against the
    verified item with the benchmark metric code. Items not yet verified are ``pending``.
    Annotator filter: second annotations by the annotator."""
    seconds = _submitted(f).filter(is_duplicate=True)
    pairs: list[Any] = []
    used = pending = 0
    captions = seconds.filter(kind=TaskKind.CAPTION).select_related("masklet", "video")
    for task in captions.order_by("id"):
        masklet = task.masklet
        latest = (
            CaptionRevision.objects.filter(masklet=masklet).order_by("-number").first()
            if masklet is not None
            else None
        )
        if (
            masklet is None
            or latest is None
            or masklet.status != MaskletStatus.ACCEPTED
            or latest.needs_recheck
        ):
            pending += 1
            continue
        used += 1
        pairs += segment_pairs(
            reference=latest.segments,
            other=(task.submission or {}).get("segments", []),
            total_frames=task.video.annotation_frame_count if task.video else 0,
        )
    rtloc = segments_recall(pairs)
    qa_rows: list[tuple[str, int, int | None]] = []
    questions = {
        q.pk: q
        for q in FgqaQuestion.objects.filter(
            pk__in=[
                entry["question_id"]
                for sub in seconds.filter(kind=TaskKind.FGQA_ANSWER).values_list(
                    "submission", flat=True
                )
                for entry in (sub or {}).get("answers", [])
            ]
        )
    }
    fgqa_used = fgqa_pending = 0
    for sub in (
        seconds.filter(kind=TaskKind.FGQA_ANSWER)
        .order_by("id")
        .values_list("submission", flat=True)
    ):
        for entry in (sub or {}).get("answers", []):
            question = questions.get(entry["question_id"])
            if question is None or question.status != FgqaStatus.ACCEPTED:
                fgqa_pending += 1
                continue
            fgqa_used += 1
            qa_rows += fgqa_rows(
                qa_uid=f"{entry['question_id']}",
                answer=question.answer,
                distractors=question.distractors,
                given=None if entry.get("rejected") else entry.get("answer", ""),
            )
    mbacc = fgqa_agreement(qa_rows)
    columns = ["metric", "value", "items", "samples", "pending", "note"]
    return Table(
        columns,
        [
            {
                "metric": "rtloc_mean_recall",
                "value": rtloc.value,
                "items": used,
                "samples": rtloc.num_samples,
                "pending": pending,
                "note": "second pass-2 captions vs the accepted captions; 32-frame scale",
            },
            {
                "metric": "fgqa_mbacc",
                "value": mbacc.value,
                "items": fgqa_used,
                "samples": mbacc.num_samples,
                "pending": fgqa_pending,
                "note": "second answers vs the accepted answer and distractors",
            },
            {
                "metric": "rdcap_soda_c",
                "value": None,
                "items": used,
                "samples": 0,
                "pending": pending,
                "note": "needs the LLM judge: not computed in the dashboard",
            },
        ],
    )


def effort(f: Filters) -> Table:
    """Per person, in the range: tasks submitted, active seconds (their own heartbeats and
    submits), clicks (tracking prompts), propagation runs, rework submitted, edits made while
    reviewing (edited captions or answers, and mask propagations under a review task)."""
    people: dict[str, dict[str, Any]] = {}
    columns = [
        "annotator",
        "tasks_submitted",
        "active_seconds",
        "clicks",
        "propagation_runs",
        "reworks_submitted",
        "review_edits",
    ]

    def add(rows: Any, column: str) -> None:
        for username, value in rows:
            if username is None:
                continue
            row = people.setdefault(
                username, dict.fromkeys(columns, 0) | {"annotator": username, "active_seconds": 0.0}
            )
            if value is not None:
                row[column] = value

    submitted = _submitted(f)
    add(
        submitted.values_list("submitted_by__username").annotate(n=Count("id")),
        "tasks_submitted",
    )
    add(
        submitted.filter(rework_of__isnull=False)
        .values_list("submitted_by__username")
        .annotate(n=Count("id")),
        "reworks_submitted",
    )
    events = TaskEvent.objects.filter(f.span("at"), f.by("user_id"), task__project=f.project)
    add(
        events.filter(kind__in=[TaskEventKind.HEARTBEAT, TaskEventKind.SUBMIT])
        .values_list("user__username")
        .annotate(n=Sum(Cast(KT("data__active_seconds"), FloatField()))),
        "active_seconds",
    )
    add(
        events.filter(
            Q(kind=TaskEventKind.EDIT)
            | Q(
                kind=TaskEventKind.PROPAGATE, task__kind__in=[TaskKind.REVIEW, TaskKind.FGQA_REVIEW]
            )
        )
        .values_list("user__username")
        .annotate(n=Count("id")),
        "review_edits",
    )
    add(
        Prompt.objects.filter(
            f.span("created_at"), f.by("author_id"), masklet__video__project=f.project
        )
        .values_list("author__username")
        .annotate(n=Count("id")),
        "clicks",
    )
    add(
        TrackingJob.objects.filter(
            f.span("created_at"), f.by("created_by_id"), video__project=f.project
        )
        .values_list("created_by__username")
        .annotate(n=Count("id")),
        "propagation_runs",
    )
    return Table(columns, [people[name] for name in sorted(people)])


def masklet_effort(f: Filters) -> Table:
    """Clicks and propagation runs per selected masklet (videos ingested in the range), per
    subject category. Annotator filter: not applied."""
    selected = _selected_masklets(f)
    masklets = dict(selected.values_list("category").annotate(n=Count("id")))
    accepted = dict(
        selected.filter(status=MaskletStatus.ACCEPTED)
        .values_list("category")
        .annotate(n=Count("id"))
    )
    clicks = dict(
        Prompt.objects.filter(masklet__in=selected)
        .values_list("masklet__category")
        .annotate(n=Count("id"))
    )
    runs = dict(
        TrackingJob.masklets.through.objects.filter(masklet__in=selected)
        .values_list("masklet__category")
        .annotate(n=Count("id"))
    )
    return Table(
        [
            "category",
            "masklets",
            "accepted",
            "clicks",
            "clicks_per_masklet",
            "propagation_runs",
            "runs_per_masklet",
        ],
        [
            {
                "category": category,
                "masklets": n,
                "accepted": accepted.get(category, 0),
                "clicks": clicks.get(category, 0),
                "clicks_per_masklet": clicks.get(category, 0) / n,
                "propagation_runs": runs.get(category, 0),
                "runs_per_masklet": runs.get(category, 0) / n,
            }
            for category, n in sorted(masklets.items())
        ],
    )


# --- operations (current state; filters do not apply) -------------------------------------------


def queues(f: Filters) -> Table:
    """Real tasks waiting per queue, and the oldest one's age at ``generated_at``."""
    rows = []
    for name, kinds in QUEUES.items():
        counts = _real(Task.objects.filter(project=f.project, kind__in=kinds)).aggregate(
            open=Count("id", filter=Q(status=TaskStatus.OPEN)),
            leased=Count("id", filter=Q(status=TaskStatus.LEASED)),
            rework_open=Count("id", filter=Q(status=TaskStatus.OPEN, rework_of__isnull=False)),
            oldest=Min("created_at", filter=Q(status=TaskStatus.OPEN)),
        )
        rows.append(
            {
                "queue": name,
                "open": counts["open"],
                "leased": counts["leased"],
                "rework_open": counts["rework_open"],
                "oldest_open_at": counts["oldest"],
                "oldest_open_age_seconds": _seconds(f.now - counts["oldest"])
                if counts["oldest"]
                else None,
            }
        )
    return Table(
        ["queue", "open", "leased", "rework_open", "oldest_open_at", "oldest_open_age_seconds"],
        rows,
    )


def jobs(f: Filters) -> Table:
    """Background work of the project by queue and status: media (video processing), gpu
    (tracking jobs; ``running_stale`` = running with no heartbeat for JOB_STALE), export."""
    rows: list[dict[str, Any]] = []

    def add(queue: str, counts: dict[str, tuple[int, Any]], statuses: list[str]) -> None:
        for status in statuses:
            n, oldest = counts.get(status, (0, None))
            rows.append({"queue": queue, "status": status, "count": n, "oldest_at": oldest})

    def grouped(qs: QuerySet[Any]) -> dict[str, tuple[int, Any]]:
        return {
            r["status"]: (r["n"], r["oldest"])
            for r in qs.values("status").annotate(n=Count("id"), oldest=Min("created_at"))
        }

    add(
        "media",
        grouped(Video.objects.filter(project=f.project)),
        [VideoStatus.PENDING, VideoStatus.PROCESSING, VideoStatus.FAILED],
    )
    tracking = TrackingJob.objects.filter(video__project=f.project)
    counts = grouped(tracking)
    stale = tracking.filter(status=TrackingJobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=f.now - JOB_STALE)
        | Q(heartbeat_at__isnull=True, started_at__lt=f.now - JOB_STALE)
    )
    counts["running_stale"] = (stale.count(), stale.aggregate(m=Min("created_at"))["m"])
    add(
        "gpu",
        counts,
        [
            TrackingJobStatus.QUEUED,
            TrackingJobStatus.RUNNING,
            "running_stale",
            TrackingJobStatus.FAILED,
            TrackingJobStatus.SUCCEEDED,
        ],
    )
    add(
        "export",
        grouped(ExportJob.objects.filter(project=f.project)),
        ["queued", "running", "failed", "succeeded"],
    )
    return Table(["queue", "status", "count", "oldest_at"], rows)


def workers(f: Filters) -> Table:
    """Tracking workers seen through their job heartbeats (``TrackingJob.worker`` /
    ``heartbeat_at``) in the last WORKER_LISTED, all projects: workers are shared."""
    rows = (
        TrackingJob.objects.exclude(worker="")
        .filter(heartbeat_at__gte=f.now - WORKER_LISTED)
        .values("worker")
        .annotate(
            last_seen=Max("heartbeat_at"),
            running=Count("id", filter=Q(status=TrackingJobStatus.RUNNING)),
        )
        .order_by("worker")
    )
    return Table(
        ["worker", "last_seen_at", "seconds_since", "running_jobs", "alive"],
        [
            {
                "worker": r["worker"],
                "last_seen_at": r["last_seen"],
                "seconds_since": _seconds(f.now - r["last_seen"]),
                "running_jobs": r["running"],
                "alive": f.now - r["last_seen"] <= WORKER_RECENT,
            }
            for r in rows
        ],
    )


TABLES = {
    "funnel": stc_funnel,
    "fgqa_funnel": fgqa_funnel,
    "throughput": throughput,
    "active_time": active_time,
    "rejections": rejections,
    "rejection_reasons": rejection_reasons,
    "gold_accuracy": gold_accuracy,
    "agreement": agreement,
    "effort": effort,
    "masklet_effort": masklet_effort,
    "queues": queues,
    "jobs": jobs,
    "workers": workers,
}


def dashboard(f: Filters, *, names: list[str] | None = None) -> dict[str, Any]:
    return {
        "generated_at": f.now,
        "filters": f.as_dict(),
        "tables": {name: TABLES[name](f).as_dict() for name in names or TABLES},
    }


# --- gold items ---------------------------------------------------------------------------------


def gold_item_rows(*, project: Project) -> list[dict[str, Any]]:
    items = (
        GoldItem.objects.filter(project=project)
        .select_related("created_by", "masklet", "fgqa_question")
        .annotate(
            submitted_copies=Count("copies", filter=Q(copies__status=TaskStatus.SUBMITTED)),
            mean_score=Avg("copies__score", filter=Q(copies__status=TaskStatus.SUBMITTED)),
        )
        .order_by("id")
    )
    return [
        {
            "id": g.pk,
            "kind": g.kind,
            "masklet_id": g.masklet_id,
            "fgqa_question_id": g.fgqa_question_id,
            "video_id": g.masklet.video_id if g.masklet else g.fgqa_question.video_id,  # type: ignore[union-attr]
            "active": g.active,
            "copies_submitted": g.submitted_copies,
            "mean_score": g.mean_score,
            "created_by": g.created_by.username if g.created_by else None,
            "created_at": g.created_at,
        }
        for g in items
    ]
