"""Django admin for the raw records (/admin/, site administrators): search, filters, and
read-only views of what must never be edited by hand (revisions, reviews, events, answers).

Big JSON (frame indexes, submissions) stays off the list pages; foreign keys to big tables are
raw id inputs so a change page never renders a select of every video or task.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from annotation.models import (
    CaptionRevision,
    Draft,
    ExportJob,
    ExportUid,
    FgqaAnswer,
    FgqaQuestion,
    GoldItem,
    Membership,
    Project,
    Review,
    SplitRun,
    Task,
    TaskEvent,
    TaskExclusion,
    Video,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Immutable history: visible to site administrators, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "annotation_fps",
        "gold_rate",
        "double_annotation_rate",
        "lease_minutes",
        "created_at",
    ]
    list_filter = ["kind"]
    search_fields = ["name"]
    raw_id_fields = ["created_by"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__name"]
    raw_id_fields = ["user"]
    list_select_related = ["user", "project"]


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "project",
        "status",
        "split",
        "width",
        "height",
        "source_fps",
        "annotation_frame_count",
        "created_at",
    ]
    list_filter = ["status", "split", "project", "codec"]
    search_fields = ["name", "original_name", "sha256", "source_video_id", "split_group"]
    raw_id_fields = ["uploaded_by"]
    readonly_fields = ["sha256", "frame_index", "storage_prefix", "source_key", "created_at"]
    list_select_related = ["project"]
    date_hierarchy = "created_at"


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "status",
        "project",
        "video_id",
        "masklet_id",
        "lease_owner",
        "submitted_by",
        "is_gold",
        "is_duplicate",
        "rework_of_id",
        "score",
        "active_seconds",
        "created_at",
    ]
    list_filter = ["kind", "status", "is_gold", "is_duplicate", "project"]
    search_fields = [
        "=id",
        "video__name",
        "notes",
        "lease_owner__username",
        "submitted_by__username",
    ]
    raw_id_fields = [
        "video",
        "masklet",
        "fgqa_question",
        "assignee",
        "lease_owner",
        "duplicate_of",
        "rework_of",
        "gold_item",
        "submitted_by",
    ]
    readonly_fields = ["version", "submission", "gold_reference", "created_at"]
    list_select_related = ["project", "lease_owner", "submitted_by"]
    date_hierarchy = "created_at"


@admin.register(TaskExclusion)
class TaskExclusionAdmin(admin.ModelAdmin):
    list_display = ["task", "user"]
    search_fields = ["=task__id", "user__username"]
    raw_id_fields = ["task", "user"]
    list_select_related = ["task", "user"]


@admin.register(TaskEvent)
class TaskEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "at", "kind", "task_id", "user"]
    list_filter = ["kind", "task__project"]
    search_fields = ["=task__id", "user__username"]
    raw_id_fields = ["task", "user"]
    list_select_related = ["user"]
    date_hierarchy = "at"


@admin.register(CaptionRevision)
class CaptionRevisionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "masklet_id",
        "number",
        "author",
        "needs_recheck",
        "task_id",
        "created_at",
    ]
    list_filter = ["needs_recheck", "masklet__video__project"]
    search_fields = ["=masklet__id", "author__username", "masklet__video__name"]
    raw_id_fields = ["masklet", "masklet_revision", "author", "task"]
    list_select_related = ["author"]
    date_hierarchy = "created_at"


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    list_display = ["task", "user", "version", "updated_at"]
    search_fields = ["=task__id", "user__username"]
    raw_id_fields = ["task", "user"]
    list_select_related = ["task", "user"]


@admin.register(FgqaQuestion)
class FgqaQuestionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "external_id",
        "question",
        "project",
        "video_id",
        "status",
        "q_type",
        "is_benchmark",
        "distractors_verified",
    ]
    list_filter = ["status", "is_benchmark", "distractors_verified", "q_type", "project"]
    search_fields = ["=id", "external_id", "segment_id", "question", "answer", "video__name"]
    raw_id_fields = ["video"]
    readonly_fields = ["version", "created_at"]
    list_select_related = ["project"]


@admin.register(FgqaAnswer)
class FgqaAnswerAdmin(ReadOnlyAdmin):
    list_display = ["id", "question_id", "author", "answer", "rejected", "task_id", "created_at"]
    list_filter = ["rejected", "used_model_answer", "question__project"]
    search_fields = ["=question__id", "author__username", "answer"]
    raw_id_fields = ["question", "task", "author"]
    list_select_related = ["author"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "decision",
        "reviewer",
        "task_id",
        "masklet_id",
        "fgqa_question_id",
        "reasons",
    ]
    list_filter = ["decision", "task__kind", "task__project"]
    search_fields = ["=task__id", "=masklet__id", "reviewer__username", "comment"]
    raw_id_fields = [
        "task",
        "reviewer",
        "masklet",
        "masklet_revision",
        "caption_revision",
        "fgqa_question",
    ]
    list_select_related = ["reviewer"]
    date_hierarchy = "created_at"


@admin.register(GoldItem)
class GoldItemAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "project",
        "masklet_id",
        "fgqa_question_id",
        "active",
        "created_at",
    ]
    list_filter = ["kind", "active", "project"]
    search_fields = ["=id", "=masklet__id", "=fgqa_question__id"]
    raw_id_fields = ["masklet", "fgqa_question", "created_by"]
    # the reference answer is a snapshot taken when the item was marked
    readonly_fields = ["kind", "masklet", "fgqa_question", "reference", "authors", "created_at"]
    list_select_related = ["project"]


@admin.register(SplitRun)
class SplitRunAdmin(ReadOnlyAdmin):
    list_display = ["project", "version", "seed", "val_fraction", "test_fraction", "created_at"]
    list_filter = ["project"]
    raw_id_fields = ["created_by"]


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "dataset",
        "split",
        "task_filter",
        "file_format",
        "status",
        "rows_done",
        "rows_total",
        "attempts",
        "created_at",
    ]
    list_filter = ["status", "dataset", "split", "project"]
    search_fields = ["=id", "error", "archive_key"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["manifest", "report", "archive_key", "created_at", "started_at"]
    list_select_related = ["project"]
    date_hierarchy = "created_at"


@admin.register(ExportUid)
class ExportUidAdmin(ReadOnlyAdmin):
    list_display = ["id", "masklet_id", "start_frame", "end_frame"]
    search_fields = ["=id", "=masklet__id"]
    raw_id_fields = ["masklet"]
