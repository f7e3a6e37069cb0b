"""Masklets, their prompts, immutable revisions and the tracking jobs that produce them.

Masks are COCO RLE dicts ({"size": [h, w], "counts": "<compressed str>"}), one per annotation
frame; an absent subject is an empty-mask RLE, as in SA-V.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Category(models.TextChoices):
    PERSON = "person"
    ANIMAL = "animal"
    OBJECT = "object"


class MaskletSource(models.TextChoices):
    CLICKS = "clicks"
    SAV_MANUAL = "sav_manual"
    SAV_AUTO = "sav_auto"


class MaskletStatus(models.TextChoices):
    CANDIDATE = "candidate"  # imported, not yet looked at
    DRAFT = "draft"  # being built in pass 1
    SELECTED = "selected"  # pass 1 submitted it
    CAPTIONED = "captioned"  # pass 2 submitted captions
    ACCEPTED = "accepted"  # pass 3 verified: exportable
    REJECTED = "rejected"  # rejected in pass 1 (candidate) or pass 3 (until reworked)
    DISCARDED = "discarded"


class Masklet(models.Model):
    video = models.ForeignKey("annotation.Video", on_delete=models.CASCADE, related_name="masklets")
    object_id = models.PositiveIntegerField()
    category = models.CharField(max_length=8, choices=Category.choices, default=Category.OBJECT)
    source = models.CharField(
        max_length=12, choices=MaskletSource.choices, default=MaskletSource.CLICKS
    )
    status = models.CharField(
        max_length=12, choices=MaskletStatus.choices, default=MaskletStatus.DRAFT
    )
    motion_score = models.FloatField(null=True, blank=True)
    source_metadata = models.JSONField(default=dict, blank=True)
    current_revision = models.ForeignKey(
        "MaskletRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    select_task = models.ForeignKey(
        "annotation.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["video_id", "object_id"]
        constraints = [
            models.UniqueConstraint(fields=["video", "object_id"], name="masklet_object_unique"),
        ]

    def __str__(self) -> str:
        return f"masklet {self.object_id} of video {self.video_id}"


class Prompt(models.Model):
    """One interaction: points (pixel xy of the annotation frame) with labels 1/0 and/or a box.

    Prompts are the source of truth; masks are their product and can be rebuilt from them.
    """

    masklet = models.ForeignKey(Masklet, on_delete=models.CASCADE, related_name="prompts")
    frame = models.PositiveIntegerField()
    points = models.JSONField(default=list, blank=True)
    labels = models.JSONField(default=list, blank=True)
    box = models.JSONField(null=True, blank=True)
    mask = models.JSONField(null=True, blank=True)  # the engine's answer for this frame
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"prompt on frame {self.frame} of masklet {self.masklet_id}"


class MaskletRevision(models.Model):
    """An immutable, complete masklet: every prompt that made it and one mask per frame."""

    masklet = models.ForeignKey(Masklet, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    prompts = models.JSONField(default=list)
    engine = models.CharField(max_length=32)
    model_version = models.CharField(max_length=200, blank=True)
    masks = models.JSONField(default=list)
    bboxes = models.JSONField(default=list)
    areas = models.JSONField(default=list)
    first_visible_frame = models.IntegerField(null=True, blank=True)
    last_visible_frame = models.IntegerField(null=True, blank=True)
    job = models.ForeignKey(
        "TrackingJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="revisions"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["masklet_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["masklet", "number"], name="revision_number_unique"),
            models.UniqueConstraint(
                fields=["masklet", "job"], condition=Q(job__isnull=False), name="revision_per_job"
            ),
        ]

    def __str__(self) -> str:
        return f"masklet {self.masklet_id} r{self.number}"


class JobKind(models.TextChoices):
    PROPAGATE = "propagate"


class TrackingJobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Direction(models.TextChoices):
    BOTH = "both"
    FORWARD = "forward"
    BACKWARD = "backward"


class TrackingJob(models.Model):
    video = models.ForeignKey(
        "annotation.Video", on_delete=models.CASCADE, related_name="tracking_jobs"
    )
    kind = models.CharField(max_length=12, choices=JobKind.choices, default=JobKind.PROPAGATE)
    status = models.CharField(
        max_length=12, choices=TrackingJobStatus.choices, default=TrackingJobStatus.QUEUED
    )
    masklets = models.ManyToManyField(Masklet, related_name="jobs")
    engine = models.CharField(max_length=16)
    start_frame = models.PositiveIntegerField(default=0)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.BOTH)
    frames_done = models.PositiveIntegerField(default=0)
    frames_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.kind} job #{self.pk} ({self.status})"
