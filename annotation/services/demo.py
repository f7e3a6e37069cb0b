"""Demo data for a fresh install: projects, one user per role, a synthetic video with its truth.

Safe to run twice: everything is looked up by name first and only what is missing is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

from annotation.models import Project, ProjectKind, Role, Video
from annotation.services.ingest import video_ingest_file
from annotation.services.projects import membership_set, project_create

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


def demo_seed(*, progress: Callable[[float], None] | None = None) -> DemoSummary:
    summary = DemoSummary()
    stc = _project(summary, DEMO_STC_PROJECT, ProjectKind.STC)
    fgqa = _project(summary, DEMO_FGQA_PROJECT, ProjectKind.FGQA)
    for username, role, superuser in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, is_superuser=superuser, is_staff=superuser)
            user.set_password(DEMO_PASSWORD)
            user.save()
            summary.created.append(f"user {username}")
        for project in (stc, fgqa):
            membership_set(project=project, user=user, role=role)
        summary.users.append((username, role, superuser))
    summary.videos.append(_demo_video(summary, stc, progress))
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
