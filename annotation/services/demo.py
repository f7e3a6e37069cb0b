"""Demo data for a fresh install: projects, one user per role, a synthetic video with its truth;
with ``complete``, also a complete, verified dataset (see demo_seed_complete).

Safe to run twice: everything is looked up by name first and only what is missing is made.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from annotation import storage
from annotation.models import (
    CaptionRevision,
    FgqaQuestion,
    FgqaStatus,
    Project,
    ProjectKind,
    Review,
    Role,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskExclusion,
    TaskKind,
    TaskStatus,
    Video,
)
from annotation.selectors.tasks import QUEUES
from annotation.services import captions, gold, queue, reviews
from annotation.services.analytics import HEARTBEAT_SECONDS
from annotation.services.fgqa import (
    fgqa_answer_submit,
    fgqa_distractors_submit,
    fgqa_import,
    fgqa_pending_questions,
)
from annotation.services.gold import gold_items_mark
from annotation.services.ingest import video_ingest_file
from annotation.services.projects import membership_set, project_create
from annotation.services.reviews import captions_flag_for_recheck
from annotation.services.select import select_submit
from annotation.services.splits import split_assign
from tracking.models import (
    Masklet,
    MaskletRevision,
    MaskletStatus,
    Prompt,
    TrackingJob,
    TrackingJobStatus,
)
from tracking.services.jobs import revision_create
from workers import rle

User = get_user_model()

DEMO_PASSWORD = "tubelet-demo"
DEMO_STC_PROJECT = "Demo STC"
DEMO_FGQA_PROJECT = "Demo FGQA"
DEMO_VIDEO = "demo_shapes.mp4"
DEMO_GUIDELINES = (
    "Pass 1: pick subjects that move in an interesting way (enter, turn, leave, come back); "
    "click inside the subject, add negative clicks where the mask spills over, then Track.\n"
    "Pass 2: describe what the highlighted subject does, one segment per action, in the "
    "present tense. Out-of-frame segments are added for you."
)

# username, role in the demo projects, site administrator?
DEMO_USERS: list[tuple[str, str, bool]] = [
    ("admin", Role.ADMIN, True),
    ("annotator1", Role.ANNOTATOR, False),
    ("annotator2", Role.ANNOTATOR, False),
    ("reviewer", Role.REVIEWER, False),
]


@dataclass
class DemoSummary:
    projects: list[Project] = field(default_factory=list)
    users: list[tuple[str, str, bool]] = field(default_factory=list)
    videos: list[Video] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def demo_seed(
    *,
    progress: Callable[[float], None] | None = None,
    complete: bool = False,
    step: Callable[[str], None] | None = None,
) -> DemoSummary:
    """The demo projects, users and video; with ``complete`` also the complete dataset.
    ``progress`` gets the demo video's ingest share, ``step`` a line per unit of seeding."""
    summary = DemoSummary()
    stc = _project(summary, DEMO_STC_PROJECT, ProjectKind.STC)
    fgqa = _project(summary, DEMO_FGQA_PROJECT, ProjectKind.FGQA)
    for username, role, superuser in DEMO_USERS:
        user = _demo_user(summary, username, superuser)
        for project in (stc, fgqa):
            membership_set(project=project, user=user, role=role)
        summary.users.append((username, role, superuser))
    summary.videos.append(_demo_video(summary, stc, progress))
    if complete:
        demo_seed_complete(summary=summary, stc=stc, fgqa=fgqa, step=step)
    return summary


def _project(summary: DemoSummary, name: str, kind: str) -> Project:
    project = Project.objects.filter(name=name).first()
    if project is None:
        project = project_create(name=name, kind=kind, guidelines=DEMO_GUIDELINES)
        summary.created.append(f"project {name}")
    summary.projects.append(project)
    return project


def demo_video_path() -> Path:
    return Path(settings.DATA_DIR) / "demo" / DEMO_VIDEO


def _demo_video(
    summary: DemoSummary, project: Project, progress: Callable[[float], None] | None
) -> Video:
    existing = Video.objects.filter(project=project, name=DEMO_VIDEO).first()
    if existing is not None:
        return existing
    from workers import synthetic

    path = demo_video_path()
    clip = synthetic.generate(path, width=640, height=360, fps=24.0, frames=240, seed=7)
    clip.save_truth(annotation_fps=project.annotation_fps)
    outcome = video_ingest_file(
        project=project, path=path, original_name=DEMO_VIDEO, progress=progress
    )[0]
    if outcome.video is None:
        raise RuntimeError(f"demo video could not be ingested: {outcome.error}")
    summary.created.append(f"video {DEMO_VIDEO}")
    return outcome.video


# --- the complete, verified demo dataset (seed_demo --complete) ---------------------------------
#
# Every step goes through the same services the web app calls (claim, heartbeat, submit, review,
# gold, splits), as the demo users, so the data obeys every rule real work obeys. Masks come from
# the CPU tracker engine (workers.cpu_engine) run on each video's stored annotation frames:
# one click where the subject is most visible, propagation, and one correction click where the
# result is worst against the synthetic video's true masks. The work is replayed on a simulated
# clock over the past days, so the dashboard has days, active time and queue ages to show.

COMPLETE_STC_VIDEOS: list[tuple[str, int, tuple[int, ...]]] = [
    # name, generator seed, synthetic object ids to annotate
    ("demo_street_1.mp4", 11, (3, 1)),
    ("demo_street_2.mp4", 12, (5, 2)),
    ("demo_street_3.mp4", 13, (3, 5)),
    ("demo_street_4.mp4", 14, (1, 5)),
]
# The video whose masklets the test split (the benchmark export) is guaranteed to hold.
COMPLETE_HELD_OUT = "demo_street_3.mp4"
COMPLETE_FGQA_CLIPS: list[tuple[str, int, float]] = [
    ("demo_clip_a.mp4", 21, 0.0),
    ("demo_clip_b.mp4", 22, 4.0),
]
COMPLETE_USERS: list[tuple[str, str, bool]] = [
    ("annotator3", Role.ANNOTATOR, False),
    ("annotator4", Role.ANNOTATOR, False),
    ("reviewer2", Role.REVIEWER, False),
]
# Rates left on the demo projects afterwards (what an admin would configure).
COMPLETE_GOLD_RATE = 0.1
COMPLETE_DOUBLE_RATE = 0.25
CLIP_SIZE = (320, 192)  # width, height: small and fast
CLIP_FPS = 12.0
CLIP_FRAMES = 36  # 3 s: 18 annotation frames at 6 fps

FGQA_QUESTIONS: list[dict[str, Any]] = [
    {
        "qa_id": "demo-a1",
        "clip": "demo_clip_a.mp4",
        "question": "Which way does the walking figure move?",
        "model_answer": "From left to right.",
        "q_type": "Movement Direction",
        "benchmark": True,
        "distractors": ["From right to left.", "Towards the camera.", "It stays in place."],
    },
    {
        "qa_id": "demo-a2",
        "clip": "demo_clip_a.mp4",
        "question": "What does the ball do when it reaches the edge?",
        "model_answer": "It stops.",
    },
    {
        "qa_id": "demo-a3",
        "clip": "demo_clip_a.mp4",
        "question": "How many objects spin?",
        "model_answer": "Two.",
    },
    {
        "qa_id": "demo-b1",
        "clip": "demo_clip_b.mp4",
        "question": "What colour is the running animal?",
        "model_answer": "Green.",
        "q_type": "Object Attributes",
        "benchmark": True,
        "distractors": ["Blue.", "Red.", "Green."],
    },
    {
        "qa_id": "demo-b2",
        "clip": "demo_clip_b.mp4",
        "question": "Where is the pillar relative to the ball at the start?",
    },
    {
        "qa_id": "demo-b3",
        "clip": "demo_clip_b.mp4",
        "question": "Does the walker pick anything up?",
        "model_answer": "No.",
    },
]
# What the answerers do with each question: accept the model answer, correct it, or reject it.
FGQA_ANSWERS: dict[str, dict[str, Any]] = {
    "demo-a1": {"action": "accept", "q_type": "Movement Direction"},
    "demo-a2": {"action": "correct", "answer": "It bounces back.", "q_type": "Action Sequence"},
    "demo-a3": {"action": "correct", "answer": "One.", "q_type": "Counting Problems"},
    "demo-b1": {"action": "accept", "q_type": "Object Attributes"},
    "demo-b2": {"action": "correct", "answer": "To its left.", "q_type": "Spatial Relations"},
    "demo-b3": {"action": "reject", "reason": "Nothing can be picked up in this clip."},
}
DIRECTION = "Movement Direction"
# Second, independent answers (double annotation) and gold attempts.
FGQA_SECOND: dict[str, dict[str, Any]] = {
    "demo-a1": {"action": "correct", "answer": "from left to right", "q_type": DIRECTION},
    "demo-a2": {"action": "correct", "answer": "It rolls away.", "q_type": "Action Sequence"},
    "demo-a3": {"action": "correct", "answer": "Two.", "q_type": "Counting Problems"},
}


@dataclass
class _SimClock:
    now: datetime

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@contextmanager
def _simulated_clock(start: datetime) -> Iterator[_SimClock]:
    """``django.utils.timezone.now`` (services and auto_now fields read it) under the demo's
    control for the duration of the replay; the real clock again afterwards."""
    clock = _SimClock(start)
    real = timezone.now
    timezone.now = lambda: clock.now  # type: ignore[assignment]
    try:
        yield clock
    finally:
        timezone.now = real  # type: ignore[assignment]


@dataclass
class _Crew:
    project: Project
    clock: _SimClock
    users: dict[str, Any]
    truth: dict[int, list[dict[int, np.ndarray]]]  # video pk -> per annotation frame masks
    frames: dict[int, Path]  # video pk -> local folder of its annotation JPEGs
    engine: Any
    objects: dict[int, Any]  # synthetic object id -> SyntheticObject (name, category)
    done: Counter[str] = field(default_factory=Counter)
    step: Callable[[str], None] = lambda _: None


def demo_complete_seeded() -> bool:
    """True once --complete has run (its first STC video has submitted work)."""
    return Task.objects.filter(
        video__project__name=DEMO_STC_PROJECT,
        video__name=COMPLETE_STC_VIDEOS[0][0],
        status=TaskStatus.SUBMITTED,
    ).exists()


def demo_seed_complete(
    *,
    summary: DemoSummary,
    stc: Project,
    fgqa: Project,
    step: Callable[[str], None] | None = None,
) -> None:
    """Seed the complete dataset once (a second run finds it and changes nothing)."""
    step = step or (lambda _: None)
    users = {username: User.objects.get(username=username) for username, *_ in DEMO_USERS}
    for username, role, superuser in COMPLETE_USERS:
        users[username] = _demo_user(summary, username, superuser)
        for project in (stc, fgqa):
            membership_set(project=project, user=users[username], role=role)
        summary.users.append((username, role, superuser))
    if demo_complete_seeded():
        summary.videos += list(
            Video.objects.filter(
                project__in=[stc, fgqa],
                name__in=[n for n, *_ in COMPLETE_STC_VIDEOS + COMPLETE_FGQA_CLIPS],
            )
        )
        step("already seeded")
        return
    start = (timezone.now() - timedelta(days=12)).replace(hour=8, minute=0, second=0, microsecond=0)
    with _simulated_clock(start) as clock, tempfile.TemporaryDirectory() as tmp:
        videos, truth, objects = _complete_videos(stc, COMPLETE_STC_VIDEOS, summary, tmp, step)
        clips, _, _ = _complete_videos(fgqa, COMPLETE_FGQA_CLIPS, summary, tmp, step)
        from workers.engine import get_engine

        crew = _Crew(
            project=stc,
            clock=clock,
            users=users,
            truth=truth,
            frames={v.pk: _frames_folder(v, Path(tmp)) for v in videos},
            engine=get_engine("cpu", work_size=settings.TRACKER_CPU_WORK_SIZE),
            objects=objects,
            step=step,
        )
        with transaction.atomic():
            _stc_work(crew, videos)
            crew.project = fgqa
            _fgqa_work(crew, clips)
        for project in (stc, fgqa):
            Project.objects.filter(pk=project.pk).update(
                gold_rate=COMPLETE_GOLD_RATE, double_annotation_rate=COMPLETE_DOUBLE_RATE
            )
        clock.advance(3600)
        split_assign(
            project=stc,
            val_fraction=0.2,
            test_fraction=0.2,
            seed=0,
            hold_out=[COMPLETE_HELD_OUT],
            user=users["admin"],
        )
        split_assign(
            project=fgqa,
            val_fraction=0.0,
            test_fraction=0.5,
            seed=0,
            hold_out=[COMPLETE_FGQA_CLIPS[0][0]],  # the clip with the benchmark questions
            user=users["admin"],
        )
        step("splits assigned")
    summary.created.append(
        "complete demo dataset ("
        + ", ".join(f"{n} {what}" for what, n in sorted(crew.done.items()))
        + ")"
    )


def _demo_user(summary: DemoSummary, username: str, superuser: bool) -> Any:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, is_superuser=superuser, is_staff=superuser)
        user.set_password(DEMO_PASSWORD)
        user.save()
        summary.created.append(f"user {username}")
    return user


def _complete_videos(
    project: Project,
    specs: Sequence[tuple[str, int, Any]],
    summary: DemoSummary,
    tmp: str,
    step: Callable[[str], None],
) -> tuple[list[Video], dict[int, list[dict[int, np.ndarray]]], dict[int, Any]]:
    from workers import synthetic

    videos: list[Video] = []
    truth: dict[int, list[dict[int, np.ndarray]]] = {}
    objects: dict[int, Any] = {}
    for index, (name, seed, extra) in enumerate(specs):
        path = Path(tmp) / name
        width, height = CLIP_SIZE
        clip = synthetic.generate(
            path, width=width, height=height, fps=CLIP_FPS, frames=CLIP_FRAMES, seed=seed
        )
        video = Video.objects.filter(project=project, name=name).first()
        if video is None:
            outcome = video_ingest_file(project=project, path=path, original_name=name)[0]
            if outcome.video is None:
                raise RuntimeError(f"demo video {name} could not be ingested: {outcome.error}")
            video = outcome.video
            summary.created.append(f"video {name}")
        if project.kind == ProjectKind.FGQA:
            # a segment cut from a longer source video, as PLM-FGQA's clips are
            Video.objects.filter(pk=video.pk).update(
                source_video_id=f"demo_source_{index + 1}",
                source_start_time=float(extra),
                source_end_time=float(extra) + CLIP_FRAMES / CLIP_FPS,
                split_group=f"demo_source_{index + 1}",
            )
        else:
            # pass 1 of these videos comes before the plain demo video's
            Task.objects.filter(video=video, kind=TaskKind.SELECT).update(priority=1)
        video.refresh_from_db()
        videos.append(video)
        truth[video.pk] = clip.annotation_truth(project.annotation_fps)
        objects.update((o.object_id, o) for o in clip.objects)
        summary.videos.append(video)
        step(f"video {index + 1}/{len(specs)} of {project.name}")
    return videos, truth, objects


def _frames_folder(video: Video, tmp: Path) -> Path:
    if not storage.is_s3():
        return storage.local_path(video.frames_prefix.rstrip("/"))
    folder = tmp / f"frames-{video.pk}"
    folder.mkdir()
    for key in storage.list_keys(video.frames_prefix):
        if key.endswith(".jpg"):
            (folder / Path(key).name).write_bytes(storage.read_bytes(key))
    return folder


# --- doing the work ----------------------------------------------------------------------------


def _id(value: int | None) -> int:
    assert value is not None
    return value


def _area(masks: dict[int, np.ndarray], object_id: int) -> int:
    mask = masks.get(object_id)
    return 0 if mask is None else int(mask.sum())


def _claim(crew: _Crew, username: str, queue_name: str) -> Task | None:
    crew.clock.advance(20)
    return queue.task_claim_next(
        user=crew.users[username], project=crew.project, kinds=QUEUES[queue_name]
    )


def _work_for(crew: _Crew, task: Task, username: str, minutes: float) -> None:
    """Heartbeats every period while the person works (what the editor sends)."""
    beats = max(1, int(minutes * 60 / HEARTBEAT_SECONDS))
    for beat in range(beats):
        crew.clock.advance(HEARTBEAT_SECONDS)
        # a pause now and then: that beat reports no interaction
        queue.task_heartbeat(task_id=task.pk, user=crew.users[username], active=beat % 7 != 6)
    crew.clock.advance(HEARTBEAT_SECONDS / 2)


def _complete_set_names() -> set[str]:
    return {name for name, *_ in COMPLETE_STC_VIDEOS + COMPLETE_FGQA_CLIPS}


@contextmanager
def _kept_off_other_work(crew: _Crew, queue_name: str, people: Sequence[str]) -> Iterator[None]:
    """Keep the demo crew off the queue's open tasks that are neither the complete set's nor the
    plain demo video's (videos someone ingested into a demo project) while it works, with
    exclusions that are removed afterwards: otherwise such a task, first in line, would stop
    the drain. The plain demo video's task stays claimable: it is the real work waiting that
    lets the claim path hand out gold copies (the drain releases it when it comes up)."""
    users = [crew.users[name] for name in people]
    others = list(
        Task.objects.filter(
            project=crew.project, kind__in=QUEUES[queue_name], status=TaskStatus.OPEN
        )
        .exclude(video__name__in=_complete_set_names() | {DEMO_VIDEO})
        .values_list("pk", flat=True)
    )
    existing = set(
        TaskExclusion.objects.filter(task_id__in=others, user__in=users).values_list(
            "task_id", "user_id"
        )
    )
    added = [(t, u.pk) for t in others for u in users if (t, u.pk) not in existing]
    TaskExclusion.objects.bulk_create([TaskExclusion(task_id=t, user_id=u) for t, u in added])
    try:
        yield
    finally:
        for task_id, user_id in added:
            TaskExclusion.objects.filter(task_id=task_id, user_id=user_id).delete()


def _drain(crew: _Crew, queue_name: str, people: Sequence[str], act: Callable[..., None]) -> int:
    """Let ``people`` take turns on the queue until none of them gets a task."""
    with _kept_off_other_work(crew, queue_name, people):
        return _drain_queue(crew, queue_name, people, act)


def _drain_queue(
    crew: _Crew, queue_name: str, people: Sequence[str], act: Callable[..., None]
) -> int:
    ours = _complete_set_names()
    handled = 0
    idle: set[str] = set()
    while len(idle) < len(people):
        for username in people:
            if username in idle:
                continue
            held = queue.task_current_lease(
                user=crew.users[username], project=crew.project, kinds=QUEUES[queue_name]
            )
            if held is not None and (held.video is None or held.video.name not in ours):
                idle.add(username)  # someone trying the app holds it: leave their lease alone
                continue
            task = _claim(crew, username, queue_name)
            if task is None:
                idle.add(username)
                continue
            if task.video is None or task.video.name not in ours:
                # the plain demo video (and anything else) stays open for whoever tries the app
                queue.task_release(task_id=task.pk, user=crew.users[username])
                idle.add(username)
                continue
            act(crew, task, username)
            handled += 1
            crew.step(f"{crew.project.name}: {queue_name} task {task.pk} by {username}")
    return handled


def _next_day(crew: _Crew) -> None:
    crew.clock.now = (crew.clock.now + timedelta(days=1)).replace(hour=9, minute=0)


# --- masks -------------------------------------------------------------------------------------


def _engine_prompt(prompt: Prompt) -> Any:
    from workers.engine import Prompt as EnginePrompt

    return EnginePrompt(
        frame=prompt.frame,
        object_id=prompt.masklet_id,
        points=[tuple(p) for p in prompt.points],
        labels=list(prompt.labels),
    )


def _click(
    crew: _Crew, *, task: Task, user: Any, masklet: Masklet, frame: int, point: Any, label: int
) -> Prompt:
    crew.clock.advance(12)
    prompt = Prompt.objects.create(
        masklet=masklet,
        frame=frame,
        points=[[float(point[0]), float(point[1])]],
        labels=[label],
        author=user,
    )
    TaskEvent.objects.create(
        task=task,
        user=user,
        kind=TaskEventKind.CLICK,
        data={"masklet": masklet.pk, "prompt": prompt.pk, "frame": frame, "created": False},
    )
    crew.done["clicks"] += 1
    return prompt


def _track(crew: _Crew, *, task: Task, user: Any, masklet: Masklet, frame: int) -> MaskletRevision:
    """Run the CPU tracker over the whole video from every prompt of the masklet (what a
    propagation job does) and store the result as the masklet's next revision (through
    tracking's revision_create, which also flags captions written against the old mask)."""
    from workers.engine import FrameSource

    video = masklet.video
    session = crew.engine.open_session(FrameSource.from_directory(crew.frames[video.pk]))
    try:
        for prompt in Prompt.objects.filter(masklet=masklet).order_by("pk"):
            answer = session.add_prompt(_engine_prompt(prompt))
            if prompt.mask is None:
                Prompt.objects.filter(pk=prompt.pk).update(mask=rle.encode(answer))
        total = video.annotation_frame_count
        masks: list[Any] = [None] * total
        for k, by_object in session.propagate(
            start_frame=frame, direction="both", object_ids=[masklet.pk]
        ):
            masks[k] = rle.encode(by_object[masklet.pk])
    finally:
        session.close()
    masks = [m if m is not None else rle.empty(video.height or 0, video.width or 0) for m in masks]
    crew.clock.advance(2 + total * 0.05)
    now = timezone.now()
    job = TrackingJob.objects.create(
        video=video,
        engine=crew.engine.name,
        status=TrackingJobStatus.SUCCEEDED,
        start_frame=frame,
        frames_done=total,
        frames_total=total,
        attempts=1,
        worker="seed_demo",
        created_by=user,
        started_at=now,
        heartbeat_at=now,
        finished_at=now,
    )
    job.masklets.set([masklet])
    TaskEvent.objects.create(
        task=task,
        user=user,
        kind=TaskEventKind.PROPAGATE,
        data={"job": job.pk, "masklets": [masklet.pk], "frame": frame},
    )
    crew.done["propagations"] += 1
    revision = revision_create(
        masklet=masklet,
        masks=masks,
        engine=crew.engine.name,
        model_version=crew.engine.model_version,
        job=job,
        parent=masklet.current_revision,
        author=user,
    )
    masklet.refresh_from_db()
    masklet.current_revision = revision
    return revision


def interior_point(mask: np.ndarray) -> tuple[int, int] | None:
    from workers.synthetic import interior_point as deepest

    return deepest(mask)


def _correction(crew: _Crew, masklet: Masklet, object_id: int) -> tuple[int, Any, int] | None:
    """The frame where the tracked mask is worst against the truth, and the click that fixes
    the biggest error there: positive inside what was missed, negative on what spilled over."""
    truth = crew.truth[masklet.video_id]
    revision = masklet.current_revision
    assert revision is not None
    worst: tuple[float, int] | None = None
    for k, masks in enumerate(truth):
        want = masks.get(object_id)
        if want is None or not want.any():
            continue
        got = rle.decode(revision.masks[k])
        score = float((want & got).sum()) / float((want | got).sum())
        if worst is None or score < worst[0]:
            worst = (score, k)
    if worst is None or worst[0] > 0.8:
        return None
    k = worst[1]
    want, got = truth[k][object_id], rle.decode(revision.masks[k])
    missed, spilled = want & ~got, got & ~want
    if missed.sum() >= spilled.sum():
        point, label = interior_point(missed), 1
    else:
        point, label = interior_point(spilled), 0
    return None if point is None else (k, point, label)


def _build_masklet(crew: _Crew, task: Task, username: str, object_id: int) -> Masklet:
    user = crew.users[username]
    video = task.video
    assert video is not None
    truth = crew.truth[video.pk]
    areas = [int(m[object_id].sum()) if object_id in m else 0 for m in truth]
    frame = max(range(len(areas)), key=lambda k: areas[k])
    next_id = (Masklet.objects.filter(video=video).aggregate(n=Max("object_id"))["n"] or 0) + 1
    masklet = Masklet.objects.create(
        video=video, object_id=next_id, created_by=user, select_task=task
    )
    _click(
        crew,
        task=task,
        user=user,
        masklet=masklet,
        frame=frame,
        point=interior_point(truth[frame][object_id]),
        label=1,
    )
    _track(crew, task=task, user=user, masklet=masklet, frame=frame)
    fix = _correction(crew, masklet, object_id)
    if fix is not None:
        k, point, label = fix
        _click(crew, task=task, user=user, masklet=masklet, frame=k, point=point, label=label)
        _track(crew, task=task, user=user, masklet=masklet, frame=k)
    masklet.source_metadata = {"demo_truth_object": object_id}
    masklet.save(update_fields=["source_metadata"])
    crew.done["masklets"] += 1
    return masklet


# --- STC ---------------------------------------------------------------------------------------


def _truth_object(masklet: Masklet) -> int:
    return int(masklet.source_metadata["demo_truth_object"])


def _object_spec(video: Video) -> tuple[int, ...]:
    return next(objs for name, _, objs in COMPLETE_STC_VIDEOS if name == video.name)


def _act_select(crew: _Crew, task: Task, username: str) -> None:
    user = crew.users[username]
    if task.rework_of_id is not None:
        # a mask rejected in review: one more correction click on the author's masklet
        assert task.masklet is not None
        masklet = Masklet.objects.select_related("current_revision", "video").get(
            pk=_id(task.masklet_id)
        )
        _work_for(crew, task, username, 2)
        object_id = _truth_object(masklet)
        fix = _correction(crew, masklet, object_id)
        truth = crew.truth[masklet.video_id]
        if fix is None:  # nothing left to fix: confirm on the best frame
            k = max(range(len(truth)), key=lambda f: _area(truth[f], object_id))
            fix = (k, interior_point(truth[k][object_id]), 1)
        k, point, label = fix
        _click(crew, task=task, user=user, masklet=masklet, frame=k, point=point, label=label)
        _track(crew, task=task, user=user, masklet=masklet, frame=k)
        captions_flag_for_recheck(masklet=masklet)
        task.refresh_from_db()
        reviews.mask_rework_submit(task_id=task.pk, user=user, base_version=task.version)
        crew.done["mask reworks"] += 1
        return
    if task.is_gold:
        # a gold pass-1 copy: the person tracks what they think matters; scored by IoU
        _work_for(crew, task, username, 3)
        masklet = _build_masklet(crew, task, username, object_id=3)
        task.refresh_from_db()
        gold.shadow_submit(
            task_id=task.pk,
            user=user,
            base_version=task.version,
            masklets=[{"id": masklet.pk, "category": "person"}],
            rejected=[],
        )
        crew.done["gold copies"] += 1
        return
    assert task.video is not None
    _work_for(crew, task, username, 4)
    built = [_build_masklet(crew, task, username, oid) for oid in _object_spec(task.video)]
    task.refresh_from_db()
    select_submit(
        task_id=task.pk,
        user=user,
        masklets=[{"id": m.pk, "category": crew.objects[_truth_object(m)].category} for m in built],
        rejected=[],
        base_version=task.version,
    )


_DIRECTIONS = {
    (1, 0): "to the right",
    (-1, 0): "to the left",
    (0, 1): "down",
    (0, -1): "up",
}


def _motion(masks: list[np.ndarray], start: int, end: int) -> str:
    def centre(mask: np.ndarray) -> tuple[float, float] | None:
        ys, xs = np.nonzero(mask)
        return (float(xs.mean()), float(ys.mean())) if len(xs) else None

    a, b = centre(masks[start]), centre(masks[end])
    if a is None or b is None:
        return "moves"
    dx, dy = b[0] - a[0], b[1] - a[1]
    if max(abs(dx), abs(dy)) < 6:
        return "stays almost still"
    key = (int(np.sign(dx)), 0) if abs(dx) >= abs(dy) else (0, int(np.sign(dy)))
    return f"moves {_DIRECTIONS[key]}"


def _captions(crew: _Crew, masklet: Masklet, *, variant: int = 0) -> list[dict[str, Any]]:
    """One segment per half of each visible stretch, describing the tracked motion."""
    revision = masklet.current_revision
    assert revision is not None
    masks = [rle.decode(m) for m in revision.masks]
    visible = [bool(a) for a in revision.areas]
    name = crew.objects[_truth_object(masklet)].name
    subject = {"walker": "The person", "runner": "The animal"}.get(name, f"The {name}")
    segments = []
    for a, b in _runs(visible):
        halves = [(a, b)]
        if b - a >= 5:
            cut = (a + b + 1) // 2 + variant % 2
            halves = [(a, cut - 1), (cut, b)]
        for start, end in halves:
            verb = _motion(masks, start, end)
            text = f"{subject} {verb}." if not variant else f"{subject} {verb} steadily."
            segments.append({"start_frame": start, "end_frame": end, "caption": text})
    return segments


def _runs(visible: list[bool]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start: int | None = None
    for k, seen in enumerate([*visible, False]):
        if seen and start is None:
            start = k
        elif not seen and start is not None:
            out.append((start, k - 1))
            start = None
    return out


def _act_caption(crew: _Crew, task: Task, username: str) -> None:
    user = crew.users[username]
    masklet = Masklet.objects.select_related("current_revision").get(pk=_id(task.masklet_id))
    _work_for(crew, task, username, 3)
    task.refresh_from_db()
    if task.is_gold or task.is_duplicate:
        gold.shadow_submit(
            task_id=task.pk,
            user=user,
            base_version=task.version,
            segments=_captions(crew, masklet, variant=1),
        )
        crew.done["gold copies" if task.is_gold else "second annotations"] += 1
        return
    segments = _captions(crew, masklet)
    if task.rework_of_id is not None:
        # the reviewer said a caption was inaccurate: say more precisely what happens
        segments = [{**s, "caption": s["caption"][:-1] + ", then slows down."} for s in segments]
        crew.done["caption reworks"] += 1
    captions.caption_submit(
        task_id=task.pk, user=user, segments=segments, base_version=task.version
    )


def _act_review(crew: _Crew, task: Task, username: str) -> None:
    user = crew.users[username]
    task.refresh_from_db()
    if task.kind == TaskKind.FGQA_REVIEW:
        _act_fgqa_review(crew, task, username)
        return
    masklet = Masklet.objects.select_related("video").get(pk=_id(task.masklet_id))
    _work_for(crew, task, username, 2)
    task.refresh_from_db()
    order = list(Masklet.objects.filter(video__project=crew.project).order_by("pk"))
    index = order.index(masklet)
    first_review = not Review.objects.filter(masklet=masklet).exists()
    if first_review and index == 1:
        reviews.review_submit(
            task_id=task.pk,
            user=user,
            base_version=task.version,
            decision="reject",
            reasons=["inaccurate_caption", "missing_action"],
            comment="The subject also slows down near the end; say so.",
        )
        crew.done["rejections"] += 1
        return
    if first_review and index == 4:
        reviews.review_submit(
            task_id=task.pk,
            user=user,
            base_version=task.version,
            decision="reject",
            reasons=["mask_quality"],
            comment="The mask loses the subject on a few frames; add a click there.",
        )
        crew.done["rejections"] += 1
        return
    latest = CaptionRevision.objects.filter(masklet=masklet).order_by("-number").first()
    assert latest is not None
    edit = None
    if latest.needs_recheck:
        # the mask changed after the captions were written: fit them to the new mask
        masklet.refresh_from_db()
        edit = _captions(crew, masklet)
    elif index % 3 == 2:
        # a reviewer's small fix: the first caption gets more precise
        edit = [
            {k: s[k] for k in ("start_frame", "end_frame", "caption")}
            for s in latest.segments
            if not s["out_of_frame"]
        ]
        edit[0]["caption"] = edit[0]["caption"][:-1] + " across the street."
    reviews.review_submit(
        task_id=task.pk,
        user=user,
        base_version=task.version,
        decision="accept",
        segments=edit,
        captions_rechecked=latest.needs_recheck,
    )
    crew.done["accepted masklets"] += 1


def _stc_work(crew: _Crew, videos: list[Video]) -> None:
    stc = crew.project
    annotators = ["annotator1", "annotator2", "annotator3"]
    reviewers = ["reviewer", "reviewer2"]
    # Day 1-2: pass 1 of all four videos
    _drain(crew, "select", annotators[:2], _act_select)
    _next_day(crew)
    # Day 2-3: pass 2. Every first caption of this round is annotated twice (the share is
    # lowered to the project's configured rate afterwards).
    Project.objects.filter(pk=stc.pk).update(double_annotation_rate=1.0)
    crew.project.refresh_from_db()
    _drain(crew, "caption", annotators, _act_caption)
    Project.objects.filter(pk=stc.pk).update(double_annotation_rate=0.0)
    crew.project.refresh_from_db()
    _next_day(crew)
    # Day 3-4: pass 3, with rejections and their rework, until everything is verified
    for _ in range(4):
        reviewed = _drain(crew, "review", reviewers, _act_review)
        reworked = _drain(crew, "select", annotators, _act_select)
        reworked += _drain(crew, "caption", annotators, _act_caption)
        if not reviewed and not reworked:
            break
        _next_day(crew)
    # Day 5: two verified masklets become gold; new real work comes with gold copies
    accepted = list(
        Masklet.objects.filter(video__in=videos, status=MaskletStatus.ACCEPTED).order_by("pk")
    )
    for masklet in accepted[:2]:
        gold_items_mark(project=stc, user=crew.users["admin"], masklet_id=masklet.pk)
        crew.done["gold items"] += 2
    _next_day(crew)
    Project.objects.filter(pk=stc.pk).update(gold_rate=1.0)
    crew.project.refresh_from_db()
    demo = Video.objects.filter(project=stc, name=DEMO_VIDEO).first()
    if demo is not None:
        # a gold pass-1 copy is handed out only while real pass-1 work waits (the plain demo
        # video): everyone who did not make a gold item gets one copy of it
        _drain(crew, "select", annotators, _act_select)
    Project.objects.filter(pk=stc.pk).update(gold_rate=0.0)
    crew.project.refresh_from_db()


# --- FGQA --------------------------------------------------------------------------------------


def _entry(question: FgqaQuestion, plan: dict[str, Any]) -> dict[str, Any]:
    return {"question_id": question.pk, **plan}


COUNTING = "Counting Problems"


def _act_fgqa(crew: _Crew, task: Task, username: str) -> None:
    user = crew.users[username]
    _work_for(crew, task, username, 3)
    task.refresh_from_db()
    if task.kind == TaskKind.FGQA_DISTRACTORS:
        question = FgqaQuestion.objects.get(pk=_id(task.fgqa_question_id))
        decisions: list[dict[str, Any]] = []
        for text in question.imported_distractors:
            if text.casefold() == question.answer.casefold():
                decisions.append({"action": "drop"})  # the "distractor" is the answer
            elif not decisions:
                decisions.append({"action": "edit", "text": text.rstrip(".") + " only."})
            else:
                decisions.append({"action": "keep"})
        fgqa_distractors_submit(
            task_id=task.pk, user=user, decisions=decisions, base_version=task.version
        )
        crew.done["distractor checks"] += 1
        return
    if task.rework_of_id is not None:
        question = FgqaQuestion.objects.get(pk=_id(task.fgqa_question_id))
        reviews.fgqa_rework_submit(
            task_id=task.pk,
            user=user,
            base_version=task.version,
            answers=[
                _entry(
                    question, {"action": "correct", "answer": "Two.", "q_type": "Counting Problems"}
                )
            ],
        )
        crew.done["answer reworks"] += 1
        return
    if task.is_gold or task.is_duplicate:
        questions = gold.shadow_questions(task=task)
        answers = [
            _entry(q, FGQA_SECOND.get(q.external_id, {"action": "accept", "q_type": "Other"}))
            for q in questions
        ]
        gold.shadow_submit(task_id=task.pk, user=user, base_version=task.version, answers=answers)
        crew.done["gold copies" if task.is_gold else "second annotations"] += 1
        return
    questions = fgqa_pending_questions(video_id=_id(task.video_id))
    fgqa_answer_submit(
        task_id=task.pk,
        user=user,
        answers=[_entry(q, FGQA_ANSWERS[q.external_id]) for q in questions],
        base_version=task.version,
    )
    crew.done["answered questions"] += len(questions)


def _act_fgqa_review(crew: _Crew, task: Task, username: str) -> None:
    user = crew.users[username]
    question = FgqaQuestion.objects.get(pk=_id(task.fgqa_question_id))
    _work_for(crew, task, username, 1.5)
    task.refresh_from_db()
    if question.external_id == "demo-a3" and not question.reviews.exists():
        reviews.fgqa_review_submit(
            task_id=task.pk,
            user=user,
            base_version=task.version,
            decision="reject",
            reasons=["wrong_answer"],
            comment="Count again: two shapes spin.",
        )
        crew.done["rejections"] += 1
        return
    distractors = list(question.distractors) if question.is_benchmark else None
    reviews.fgqa_review_submit(
        task_id=task.pk,
        user=user,
        base_version=task.version,
        decision="accept",
        distractors=distractors,
    )
    crew.done["accepted questions"] += 1


def _questions_arrive(project: Project, clip: str) -> None:
    fgqa_import(project=project, lines=[json.dumps(r) for r in FGQA_QUESTIONS if r["clip"] == clip])


def _fgqa_work(crew: _Crew, clips: list[Video]) -> None:
    fgqa = crew.project
    annotators = ["annotator1", "annotator2", "annotator3"]
    reviewers = ["reviewer", "reviewer2"]
    _next_day(crew)
    fgqa_import(
        project=fgqa, lines=[json.dumps(r) for r in FGQA_QUESTIONS if "clip_a" in r["clip"]]
    )
    Project.objects.filter(pk=fgqa.pk).update(double_annotation_rate=1.0)
    crew.project.refresh_from_db()
    _drain(crew, "fgqa", annotators, _act_fgqa)
    Project.objects.filter(pk=fgqa.pk).update(double_annotation_rate=0.0)
    crew.project.refresh_from_db()
    for _ in range(3):
        reviewed = _drain(crew, "review", reviewers, _act_review)
        reworked = _drain(crew, "fgqa", annotators, _act_fgqa)
        if not reviewed and not reworked:
            break
    benchmark = FgqaQuestion.objects.filter(
        project=fgqa, external_id="demo-a1", status=FgqaStatus.ACCEPTED
    ).first()
    if benchmark is not None:
        gold_items_mark(project=fgqa, user=crew.users["admin"], fgqa_question_id=benchmark.pk)
        crew.done["gold items"] += 1
    # the second clip's questions arrive; answering them comes with gold copies
    _next_day(crew)
    fgqa_import(
        project=fgqa, lines=[json.dumps(r) for r in FGQA_QUESTIONS if "clip_b" in r["clip"]]
    )
    Project.objects.filter(pk=fgqa.pk).update(gold_rate=1.0)
    crew.project.refresh_from_db()
    # everyone who answered clip A knows its gold answer: a newcomer joins and gets the copy
    _drain(crew, "fgqa", ["annotator4", *annotators], _act_fgqa)
    Project.objects.filter(pk=fgqa.pk).update(gold_rate=0.0)
    crew.project.refresh_from_db()
    for _ in range(3):
        reviewed = _drain(crew, "review", reviewers, _act_review)
        reworked = _drain(crew, "fgqa", annotators, _act_fgqa)
        if not reviewed and not reworked:
            break
