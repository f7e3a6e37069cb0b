"""Autosaved editor state of a leased task. A reload (or another device) restores it; a save
from a stale copy is refused with the current version instead of overwriting newer work."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.db.models import F

from annotation.errors import ConflictError, ServiceError
from annotation.models import Draft
from annotation.services.queue import task_leased

MAX_DRAFT_BYTES = 512 * 1024


def draft_get(*, task_id: int, user: Any) -> Draft | None:
    task_leased(task_id=task_id, user=user)
    return Draft.objects.filter(task_id=task_id).first()


def draft_save(*, task_id: int, user: Any, data: dict[str, Any], base_version: int) -> Draft:
    """Save ``data`` if ``base_version`` is the stored version (0 when there is none yet)."""
    if len(json.dumps(data)) > MAX_DRAFT_BYTES:
        raise ServiceError("The draft is too large to save.")
    with transaction.atomic():
        task = task_leased(task_id=task_id, user=user, lock=True)
        draft = Draft.objects.select_for_update().filter(task=task).first()
        if draft is None:
            if base_version != 0:
                raise ConflictError("The draft was discarded.", current={"version": 0, "data": {}})
            return Draft.objects.create(task=task, user=user, data=data, version=1)
        if draft.version != base_version:
            raise ConflictError(
                "This draft was changed elsewhere (another tab?).",
                current={"version": draft.version, "data": draft.data},
            )
        Draft.objects.filter(pk=draft.pk).update(data=data, user=user, version=F("version") + 1)
        draft.refresh_from_db()
        return draft
