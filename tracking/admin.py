"""Django admin for masklets, prompts, revisions and tracking jobs (/admin/).

Revisions are immutable (every revision is kept): read-only here, and their per-frame masks are
summarised instead of rendered (a long video's masks are megabytes of RLE).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tracking.models import Masklet, MaskletRevision, Prompt, TrackingJob


@admin.register(Masklet)
class MaskletAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "video",
        "object_id",
        "category",
        "source",
        "status",
        "current_revision_id",
        "version",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "category", "source", "video__project"]
    search_fields = ["=id", "video__name", "created_by__username"]
    raw_id_fields = ["video", "current_revision", "select_task", "created_by"]
    readonly_fields = ["version", "source_metadata", "created_at"]
    list_select_related = ["video", "created_by"]
    date_hierarchy = "created_at"


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["id", "masklet_id", "frame", "points", "labels", "box", "author", "created_at"]
    list_filter = ["masklet__video__project"]
    search_fields = ["=masklet__id", "author__username"]
    raw_id_fields = ["masklet", "author"]
    exclude = ["mask"]
    list_select_related = ["author"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # prompts are the source of truth of the masks already built from them
        return False


@admin.register(MaskletRevision)
class MaskletRevisionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "masklet_id",
        "number",
        "engine",
        "model_version",
        "first_visible_frame",
        "last_visible_frame",
        "job_id",
        "author",
        "created_at",
    ]
    list_filter = ["engine", "masklet__video__project"]
    search_fields = ["=masklet__id", "=job__id", "note", "author__username"]
    raw_id_fields = ["masklet", "job", "parent", "author"]
    exclude = ["masks", "bboxes", "areas"]
    readonly_fields = ["frames", "visible_frames", "prompts"]
    list_select_related = ["author"]
    date_hierarchy = "created_at"

    @admin.display(description="frames")
    def frames(self, obj: MaskletRevision) -> int:
        return len(obj.areas)

    @admin.display(description="frames with the subject visible")
    def visible_frames(self, obj: MaskletRevision) -> int:
        return sum(1 for a in obj.areas if a)

    def get_queryset(self, request: HttpRequest) -> Any:
        # the list never needs the masks
        return super().get_queryset(request).defer("masks", "bboxes")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TrackingJob)
class TrackingJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "video",
        "kind",
        "status",
        "engine",
        "frames_done",
        "frames_total",
        "attempts",
        "worker",
        "created_at",
        "heartbeat_at",
    ]
    list_filter = ["status", "engine", "kind", "video__project"]
    search_fields = ["=id", "worker", "error", "video__name"]
    raw_id_fields = ["video", "masklets", "created_by"]
    readonly_fields = ["created_at", "started_at", "heartbeat_at", "finished_at"]
    list_select_related = ["video"]
    date_hierarchy = "created_at"
