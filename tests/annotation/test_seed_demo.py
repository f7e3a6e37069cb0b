"""seed_demo --complete: a complete, verified demo dataset that the dashboard and the exports
can show right after setup, made once (a second run changes nothing)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from annotation.models import (
    CaptionRevision,
    FgqaQuestion,
    FgqaStatus,
    GoldItem,
    Project,
    Review,
    SplitRun,
    Task,
    TaskExclusion,
    TaskKind,
    TaskStatus,
    Video,
)
from annotation.selectors.dashboard import (
    Filters,
    agreement,
    effort,
    fgqa_funnel,
    gold_accuracy,
    rejection_reasons,
    stc_funnel,
    throughput,
)
from tests.factories import TaskFactory
from tracking.models import Masklet, MaskletStatus, Prompt, TrackingJob


def _counts() -> dict[str, int]:
    return {
        "videos": Video.objects.count(),
        "tasks": Task.objects.count(),
        "masklets": Masklet.objects.count(),
        "prompts": Prompt.objects.count(),
        "jobs": TrackingJob.objects.count(),
        "captions": CaptionRevision.objects.count(),
        "reviews": Review.objects.count(),
        "questions": FgqaQuestion.objects.count(),
        "gold": GoldItem.objects.count(),
        "split_runs": SplitRun.objects.count(),
    }


def _rows(table) -> dict[str, int]:
    return {r["stage"]: r["count"] for r in table.rows}


@pytest.mark.django_db(transaction=True)
def test_complete_demo_feeds_the_dashboard_and_the_test_export(tmp_path: Path) -> None:
    # someone tried the app first and ingested a video of their own, first in the pass-1 line
    call_command("seed_demo", stdout=io.StringIO())
    theirs = TaskFactory(
        project=Project.objects.get(name="Demo STC"), kind=TaskKind.SELECT, priority=100
    )
    out = io.StringIO()
    call_command("seed_demo", "--complete", stdout=out)
    assert "complete demo dataset" in out.getvalue()
    stc = Project.objects.get(name="Demo STC")
    fgqa = Project.objects.get(name="Demo FGQA")
    theirs.refresh_from_db()
    assert theirs.status == TaskStatus.OPEN  # left alone, and nobody kept off it afterwards
    assert not TaskExclusion.objects.filter(task=theirs).exists()

    # every stage of the STC pipeline happened, through the services
    funnel = _rows(stc_funnel(Filters(project=stc)))
    # the plain demo video, four complete ones, and the video someone else added
    assert funnel["videos_ingested"] == 6
    assert funnel["pass1_done"] == 4
    assert funnel["masklets"] == funnel["captioned"] == funnel["accepted"] == 8
    assert (
        Masklet.objects.filter(
            video__project=stc, status=MaskletStatus.ACCEPTED, current_revision__engine="cpu"
        ).count()
        == 8
    )
    rejected = Review.objects.filter(task__project=stc, decision="reject")
    assert sorted(r for review in rejected for r in review.reasons) == [
        "inaccurate_caption",
        "mask_quality",
        "missing_action",
    ]
    reworks = Task.objects.filter(project=stc, rework_of__isnull=False)
    assert sorted(reworks.values_list("kind", "status")) == [
        (TaskKind.CAPTION, TaskStatus.SUBMITTED),
        (TaskKind.SELECT, TaskStatus.SUBMITTED),
    ]
    # the plain demo video is still open for whoever tries pass 1
    demo = Task.objects.get(video__name="demo_shapes.mp4", kind=TaskKind.SELECT, is_gold=False)
    assert demo.status == TaskStatus.OPEN
    assert not Task.objects.filter(status=TaskStatus.LEASED).exists()

    reasons = {r["reason"] for r in rejection_reasons(Filters(project=stc)).rows}
    assert reasons == {"inaccurate_caption", "mask_quality", "missing_action"}
    gold_rows = gold_accuracy(Filters(project=stc)).rows
    assert gold_rows
    assert all(0.0 <= r["mean_score"] <= 1.0 for r in gold_rows)
    rtloc = agreement(Filters(project=stc)).rows[0]
    assert rtloc["metric"] == "rtloc_mean_recall"
    assert rtloc["items"] == 8
    assert 0.0 < rtloc["value"] <= 1.0
    people = {r["annotator"]: r for r in effort(Filters(project=stc)).rows}
    assert people["annotator1"]["clicks"] > 0
    assert people["annotator1"]["propagation_runs"] > 0
    assert people["annotator1"]["active_seconds"] > 0
    assert sum(r["review_edits"] for r in people.values()) >= 1
    assert sum(r["reworks_submitted"] for r in people.values()) == 2
    assert len({r["date"] for r in throughput(Filters(project=stc)).rows}) >= 3

    # FGQA: answers, verified distractors, a rejection and its rework, gold, second answers
    fgqa_stages = _rows(fgqa_funnel(Filters(project=fgqa)))
    assert fgqa_stages["imported"] == 6
    assert fgqa_stages["benchmark_accepted"] == fgqa_stages["benchmark"] == 2
    assert fgqa_stages["distractors_verified"] == 2
    assert fgqa_stages["rejected"] == 1
    benchmark = FgqaQuestion.objects.filter(project=fgqa, is_benchmark=True)
    assert all(q.status == FgqaStatus.ACCEPTED and q.distractors for q in benchmark)
    assert gold_accuracy(Filters(project=fgqa)).rows
    mbacc = agreement(Filters(project=fgqa)).rows[1]
    assert (mbacc["metric"], mbacc["items"]) == ("fgqa_mbacc", 3)
    assert mbacc["value"] is not None

    # splits were assigned, and the test split exports rows
    assert set(Video.objects.filter(project=stc).values_list("split", flat=True)) >= {
        "train",
        "test",
    }
    call_command(
        "export_stc", "--split", "test", "--out", str(tmp_path / "stc"), "--project", stc.name
    )
    rows = [
        line
        for path in sorted((tmp_path / "stc").rglob("*.jsonl"))
        if "metadata" not in path.parts
        for line in path.read_text().splitlines()
    ]
    assert rows, sorted(str(p) for p in (tmp_path / "stc").rglob("*"))
    assert all(json.loads(line) for line in rows)

    # a second run finds everything and makes nothing new
    before = _counts()
    again = io.StringIO()
    call_command("seed_demo", "--complete", stdout=again)
    assert "nothing new" in again.getvalue()
    assert _counts() == before
