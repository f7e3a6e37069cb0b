"""The Django admin for the raw records: every list, search and change page loads for a site
administrator; immutable history cannot be changed there; others cannot get in."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from annotation.models import CaptionRevision, Review, TaskEvent
from annotation.services.queue import task_heartbeat
from tests.test_permission_matrix import build_world, upload_file  # noqa: F401 (fixture)
from tracking.models import MaskletRevision

pytestmark = pytest.mark.django_db

APPS = ("annotation", "tracking")


def _admins() -> list[tuple[type, admin.ModelAdmin]]:
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in APPS
    ]


def test_every_record_type_has_an_admin() -> None:
    from django.apps import apps

    registered = {model for model, _ in _admins()}
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            if model._meta.auto_created:
                continue
            assert model in registered, f"{model.__name__} has no admin"


def test_lists_searches_filters_and_change_pages_load(upload_file: Path) -> None:  # noqa: F811
    world = build_world(upload_file)
    client = Client()
    client.force_login(world.users["site_admin"])
    for model, model_admin in _admins():
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        if model_admin.search_fields:
            assert client.get(url, {"q": "1"}).status_code == 200, url
        for name in model_admin.list_filter:
            field = str(name)
            value = model.objects.values_list(field, flat=True).first()
            if value is not None:
                response = client.get(url, {field: value if not isinstance(value, bool) else 1})
                assert response.status_code == 200, (url, field)
        first = model.objects.order_by("pk").first()
        if first is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            assert client.get(change).status_code == 200, change


@pytest.mark.parametrize("model", [MaskletRevision, CaptionRevision, Review, TaskEvent])
def test_immutable_history_is_read_only(upload_file: Path, model: type) -> None:  # noqa: F811
    world = build_world(upload_file)
    task_heartbeat(task_id=world.select_task.pk, user=world.users["annotator"])
    client = Client()
    client.force_login(world.users["site_admin"])
    record = model.objects.order_by("pk").first()
    assert record is not None
    meta = model._meta
    change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(change, {}).status_code == 403
    assert client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add")).status_code == 403
    delete = reverse(f"admin:{meta.app_label}_{meta.model_name}_delete", args=[record.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=record.pk).exists()


def test_project_admins_and_annotators_cannot_open_the_django_admin(upload_file: Path) -> None:  # noqa: F811
    world = build_world(upload_file)
    for role in ("annotator", "reviewer", "admin"):
        client = Client()
        client.force_login(world.users[role])
        response = client.get(reverse("admin:annotation_task_changelist"))
        assert response.status_code == 302, role
        assert "/admin/login/" in response["Location"]
