"""Projects, members, videos and the work that flows over them (tasks, captions, FGQA, reviews,
splits, exports).

Frame fields everywhere are annotation-frame indices (see Video.frame_index).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ProjectKind(models.TextChoices):
    STC = "stc", "Spatio-temporal captions"
    FGQA = "fgqa", "Fine-grained QA"


class Role(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    REVIEWER = "reviewer", "Reviewer"
    ADMIN = "admin", "Project admin"


class Project(models.Model):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=8, choices=ProjectKind.choices, default=ProjectKind.STC)
    annotation_fps = models.FloatField(default=6.0)
    guidelines = models.TextField(blank=True)
    out_of_frame_caption = models.CharField(max_length=200, default="Out of frame.")
    lease_minutes = models.PositiveIntegerField(default=30)
    min_caption_chars = models.PositiveIntegerField(default=8)
    max_caption_chars = models.PositiveIntegerField(default=1000)
    gold_rate = models.FloatField(default=0.0)
    double_annotation_rate = models.FloatField(default=0.0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(annotation_fps__gt=0), name="project_fps_positive"),
            models.CheckConstraint(
                condition=Q(lease_minutes__gte=1), name="project_lease_positive"
            ),
            models.CheckConstraint(
                condition=Q(gold_rate__gte=0, gold_rate__lte=1), name="project_gold_rate_unit"
            ),
            models.CheckConstraint(
                condition=Q(double_annotation_rate__gte=0, double_annotation_rate__lte=1),
                name="project_double_rate_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.project}"


class VideoStatus(models.TextChoices):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Split(models.TextChoices):
    TRAIN = "train"
    VAL = "val"
    TEST = "test"


class Video(models.Model):
    """One annotatable video (a whole source file, or one clip cut from it).

    ``frame_index[k]`` is the source frame shown as annotation frame k: the source frame nearest
    to t = k / project.annotation_fps. Everything downstream speaks annotation frames.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="videos")
    name = models.CharField(max_length=255)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    clip_index = models.PositiveIntegerField(default=0)
    storage_prefix = models.CharField(max_length=255, blank=True)
    source_key = models.CharField(max_length=500, blank=True)
    codec = models.CharField(max_length=32, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    rotation = models.IntegerField(default=0)
    source_fps = models.FloatField(null=True, blank=True)
    source_frame_count = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    annotation_frame_count = models.PositiveIntegerField(default=0)
    frame_index = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=12, choices=VideoStatus.choices, default=VideoStatus.PENDING
    )
    error = models.TextField(blank=True)
    progress = models.FloatField(default=0.0)
    source_video_id = models.CharField(max_length=255, blank=True)
    source_dataset = models.CharField(max_length=100, blank=True)
    source_start_time = models.FloatField(null=True, blank=True)
    source_end_time = models.FloatField(null=True, blank=True)
    split_group = models.CharField(max_length=255, blank=True)
    split = models.CharField(max_length=8, choices=Split.choices, blank=True, default="")
    split_assigned_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    ingest_options = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "sha256", "clip_index"], name="video_unique_content"
            ),
            models.UniqueConstraint(fields=["project", "name"], name="video_unique_name"),
            models.CheckConstraint(
                condition=Q(source_start_time__isnull=True)
                | Q(source_end_time__isnull=True)
                | Q(source_end_time__gte=models.F("source_start_time")),
                name="video_source_range_ordered",
            ),
        ]
        indexes = [models.Index(fields=["project", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def frames_prefix(self) -> str:
        return f"{self.storage_prefix}frames/"

    @property
    def proxy_key(self) -> str:
        return f"{self.storage_prefix}proxy.mp4"

    @property
    def thumbnail_key(self) -> str:
        return f"{self.storage_prefix}thumb.jpg"

    def frame_key(self, frame: int) -> str:
        return f"{self.frames_prefix}{frame:06d}.jpg"


class TaskKind(models.TextChoices):
    SELECT = "select", "Pass 1: select and track objects"
    CAPTION = "caption", "Pass 2: temporal captions"
    REVIEW = "review", "Pass 3: verify"
    FGQA_ANSWER = "fgqa_answer", "FGQA: answer"
    FGQA_DISTRACTORS = "fgqa_distractors", "FGQA: verify distractors"
    FGQA_REVIEW = "fgqa_review", "FGQA: verify"


class TaskStatus(models.TextChoices):
    OPEN = "open"
    LEASED = "leased"
    SUBMITTED = "submitted"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class Task(models.Model):
    """One unit of human work in a queue. At most one lease at a time (see task_claim_next)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=20, choices=TaskKind.choices)
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    priority = models.IntegerField(default=0)
    video = models.ForeignKey(Video, null=True, blank=True, on_delete=models.CASCADE)
    masklet = models.ForeignKey(
        "tracking.Masklet", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    fgqa_question = models.ForeignKey(
        "FgqaQuestion", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lease_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    leased_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    is_gold = models.BooleanField(default=False)
    gold_reference = models.JSONField(null=True, blank=True)
    is_duplicate = models.BooleanField(default=False)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    rework_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reworks"
    )
    notes = models.TextField(blank=True)
    skip_reason = models.TextField(blank=True)
    score = models.FloatField(null=True, blank=True)
    # Gold copies (is_gold) and second annotations (is_duplicate) are "shadow" tasks: what was
    # submitted is kept here and scored, and never applied to the real item.
    gold_item = models.ForeignKey(
        "GoldItem", null=True, blank=True, on_delete=models.PROTECT, related_name="copies"
    )
    submission = models.JSONField(null=True, blank=True)
    # Analytics (annotation.services.analytics): seconds of active work over all leases, and the
    # last claim/heartbeat/submit, which closes the next interval.
    active_seconds = models.FloatField(default=0.0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="leased")
                | Q(lease_owner__isnull=False, lease_expires_at__isnull=False),
                name="task_lease_has_owner",
            ),
            models.CheckConstraint(
                condition=Q(is_gold=False) | Q(gold_item__isnull=False), name="task_gold_has_item"
            ),
            models.UniqueConstraint(
                fields=["gold_item", "assignee"],
                condition=Q(gold_item__isnull=False),
                name="task_gold_copy_once_per_user",
            ),
            models.CheckConstraint(
                condition=Q(active_seconds__gte=0), name="task_active_seconds_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "kind", "status", "-priority", "id"]),
            models.Index(fields=["status", "lease_expires_at"]),
            models.Index(fields=["lease_owner", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} task #{self.pk}"


class TaskExclusion(models.Model):
    """A user who must never take this task (e.g. the pass-1 author of a pass-2 task)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="exclusions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="task_exclusion_unique"),
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} may not take task {self.task_id}"


class TaskEventKind(models.TextChoices):
    CLAIM = "claim"
    HEARTBEAT = "heartbeat"
    SUBMIT = "submit"
    SKIP = "skip"
    RELEASE = "release"
    EXPIRE = "expire"
    CLICK = "click"
    PROPAGATE = "propagate"
    EDIT = "edit"


class TaskEvent(models.Model):
    """What happened on a task, when and by whom: the source of the annotator analytics."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=TaskEventKind.choices)
    at = models.DateTimeField(auto_now_add=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["task", "at"]), models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} on task {self.task_id} at {self.at:%Y-%m-%d %H:%M}"


class CaptionRevision(models.Model):
    """Immutable time segments with captions for one masklet, written against one mask revision.

    ``segments``: [{"start_frame", "end_frame", "caption", "out_of_frame"}], inclusive annotation
    frames, sorted, covering 0 .. total_frames - 1.
    """

    masklet = models.ForeignKey(
        "tracking.Masklet", on_delete=models.CASCADE, related_name="caption_revisions"
    )
    number = models.PositiveIntegerField()
    masklet_revision = models.ForeignKey(
        "tracking.MaskletRevision", on_delete=models.PROTECT, related_name="caption_revisions"
    )
    segments = models.JSONField(default=list)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL)
    needs_recheck = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["masklet_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["masklet", "number"], name="caption_revision_unique"),
        ]

    def __str__(self) -> str:
        return f"captions r{self.number} of masklet {self.masklet_id}"


class Draft(models.Model):
    """Autosaved editor state of a leased task; a reload restores it."""

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="draft")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"draft of task {self.task_id}"


class FgqaStatus(models.TextChoices):
    PENDING = "pending"
    ANSWERED = "answered"
    REJECTED = "rejected"
    ACCEPTED = "accepted"


class FgqaQuestion(models.Model):
    """A question about one clip (a Video with source_video_id and a source time range)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="fgqa_questions")
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="fgqa_questions")
    external_id = models.CharField(max_length=255, blank=True)
    segment_id = models.CharField(max_length=255, blank=True)
    question = models.TextField()
    model_answer = models.TextField(blank=True)
    imported_distractors = models.JSONField(default=list, blank=True)
    answer = models.TextField(blank=True)
    distractors = models.JSONField(default=list, blank=True)
    distractors_verified = models.BooleanField(default=False)
    q_type = models.CharField(max_length=40, blank=True)
    q_subtype = models.CharField(max_length=100, blank=True)
    what_description = models.TextField(blank=True)
    domain = models.CharField(max_length=100, blank=True)
    is_benchmark = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=FgqaStatus.choices, default=FgqaStatus.PENDING)
    reject_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=~Q(external_id=""),
                name="fgqa_question_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.question[:80]


class FgqaAnswer(models.Model):
    """One person's answer to a question (history; the question holds the current answer)."""

    question = models.ForeignKey(FgqaQuestion, on_delete=models.CASCADE, related_name="answers")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer = models.TextField(blank=True)
    q_type = models.CharField(max_length=40, blank=True)
    used_model_answer = models.BooleanField(default=False)
    rejected = models.BooleanField(default=False)
    reject_reason = models.TextField(blank=True)
    distractors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"answer to question {self.question_id} by {self.author_id}"


class ReviewDecision(models.TextChoices):
    ACCEPT = "accept"
    REJECT = "reject"


class ReviewReason(models.TextChoices):
    """Why a reviewer rejects a masklet with its captions (pass 3)."""

    MASK_QUALITY = "mask_quality", "Mask quality"
    MISSING_ACTION = "missing_action", "Missing action"
    INACCURATE_CAPTION = "inaccurate_caption", "Inaccurate caption"
    REDUNDANT_CAPTION = "redundant_caption", "Redundant caption"
    WRONG_OBJECT = "wrong_object", "Wrong object"
    OTHER = "other", "Other"


class FgqaReviewReason(models.TextChoices):
    """Why a reviewer rejects an FGQA answer (q_type and distractors are fixed in place)."""

    WRONG_ANSWER = "wrong_answer", "Wrong answer"
    AMBIGUOUS_ANSWER = "ambiguous_answer", "Ambiguous or incomplete answer"
    UNANSWERABLE = "unanswerable", "Not answerable from the clip"
    OTHER = "other", "Other"


class Review(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    masklet = models.ForeignKey(
        "tracking.Masklet", null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    masklet_revision = models.ForeignKey(
        "tracking.MaskletRevision", null=True, blank=True, on_delete=models.PROTECT
    )
    caption_revision = models.ForeignKey(
        CaptionRevision, null=True, blank=True, on_delete=models.PROTECT
    )
    fgqa_question = models.ForeignKey(
        FgqaQuestion, null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    decision = models.CharField(max_length=8, choices=ReviewDecision.choices)
    reasons = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=ReviewDecision.values), name="review_decision_valid"
            ),
            models.CheckConstraint(
                condition=Q(decision=ReviewDecision.ACCEPT) | ~Q(reasons=[]),
                name="review_reject_has_reasons",
            ),
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.decision} by {self.reviewer_id} on task {self.task_id}"


class GoldItem(models.Model):
    """A verified item whose answer is known. Copies of it are mixed into annotators' queues at
    the project's ``gold_rate`` and scored on submit (annotation.services.gold).

    ``reference`` is a snapshot taken when it was marked: select {"masklet_revision": id},
    caption {"caption_revision": id, "masklet_revision": id, "segments": [...]}, fgqa_answer
    {"answer": str, "q_type": str}. ``authors`` made the item and never get a copy of it.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="gold_items")
    kind = models.CharField(max_length=20, choices=TaskKind.choices)
    masklet = models.ForeignKey(
        "tracking.Masklet", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    fgqa_question = models.ForeignKey(
        FgqaQuestion, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    reference = models.JSONField(default=dict)
    authors = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[TaskKind.SELECT, TaskKind.CAPTION],
                    masklet__isnull=False,
                    fgqa_question__isnull=True,
                )
                | Q(kind=TaskKind.FGQA_ANSWER, masklet__isnull=True, fgqa_question__isnull=False),
                name="gold_item_kind_matches_target",
            ),
            models.UniqueConstraint(
                fields=["kind", "masklet"],
                condition=Q(masklet__isnull=False),
                name="gold_item_masklet_unique",
            ),
            models.UniqueConstraint(
                fields=["kind", "fgqa_question"],
                condition=Q(fgqa_question__isnull=False),
                name="gold_item_question_unique",
            ),
        ]

    def __str__(self) -> str:
        target = (
            f"masklet {self.masklet_id}" if self.masklet_id else f"question {self.fgqa_question_id}"
        )
        return f"gold {self.kind} of {target}"


class SplitRun(models.Model):
    """One run of assign_splits: what it was asked and what it assigned."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="split_runs")
    version = models.PositiveIntegerField()
    seed = models.IntegerField()
    val_fraction = models.FloatField()
    test_fraction = models.FloatField()
    deny_list = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="split_run_unique"),
        ]

    def __str__(self) -> str:
        return f"split v{self.version} of project {self.project_id}"


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ExportJob(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="export_jobs")
    dataset = models.CharField(max_length=8, choices=ProjectKind.choices)
    split = models.CharField(max_length=8, choices=Split.choices)
    task_filter = models.CharField(max_length=8, default="all")
    file_format = models.CharField(max_length=8, default="jsonl")
    destination = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    manifest = models.JSONField(null=True, blank=True)
    archive_key = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What the export left out and why (e.g. masklets whose captions need a recheck).
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["project", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.dataset} {self.split} export #{self.pk}"


class ExportUid(models.Model):
    """The persistent ``uid`` of one exported RCap/RTLoc row: a temporal segment of a masklet.

    The id is the uid, so it is an int32 (the schemas' type) from a database sequence: never
    reused, stable across re-exports while the segment keeps its frames (editing the caption
    keeps the uid, moving a boundary makes a new item with a new uid).
    """

    id = models.AutoField(primary_key=True)
    masklet = models.ForeignKey(
        "tracking.Masklet", on_delete=models.CASCADE, related_name="export_uids"
    )
    start_frame = models.IntegerField()
    end_frame = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["masklet", "start_frame", "end_frame"], name="export_uid_segment_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"uid {self.pk}: masklet {self.masklet_id} [{self.start_frame}, {self.end_frame}]"
