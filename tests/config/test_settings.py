import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "S3_", "SECRET_KEY", "TRACKER", "CELERY_"))
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="config.settings.base", TUBELET_DATA_DIR=str(tmp_path), **env
    )
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, "
        "s.STORAGES['default']['BACKEND'], s.TRACKER, s.CACHES['default']['BACKEND'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_nothing_set_gives_the_embedded_default(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.files.storage.FileSystemStorage",
        "cpu",
        "django.core.cache.backends.filebased.FileBasedCache",
    ]
    assert (tmp_path / "secret_key").exists()


def test_production_variables_select_postgres_redis_s3_and_sam2(tmp_path):
    result = load_settings(
        tmp_path,
        DATABASE_URL="postgres://u:p@db:5432/tubelet",
        REDIS_URL="redis://cache:6379/0",
        S3_BUCKET="media",
        TRACKER="sam2",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://cache:6379/0",
        "storages.backends.s3.S3Storage",
        "sam2",
        "django.core.cache.backends.redis.RedisCache",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"TRACKER": "gpu"}, "TRACKER='gpu' must be one of: cpu, sam2"),
        ({"SIGNED_URL_TTL": "soon"}, "SIGNED_URL_TTL='soon' is not an integer"),
        ({"SIGNED_URL_TTL": "5"}, "SIGNED_URL_TTL=5 must be at least 60"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL must be a postgres:// or sqlite:// URL"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL must start with redis://"),
        ({"DEFAULT_ANNOTATION_FPS": "0"}, "DEFAULT_ANNOTATION_FPS=0.0 must be at least 0.1"),
    ],
)
def test_bad_values_stop_startup_with_a_message_naming_the_variable(tmp_path, env, message):
    result = load_settings(tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.django_db
def test_new_projects_take_the_default_annotation_fps_setting(settings):
    from django.core.management import call_command

    from annotation.models import Project

    settings.DEFAULT_ANNOTATION_FPS = 3.0
    call_command("create_project", "Default fps", "--kind", "stc")
    call_command("create_project", "Explicit fps", "--kind", "stc", "--fps", "10")
    assert Project.objects.get(name="Default fps").annotation_fps == 3.0
    assert Project.objects.get(name="Explicit fps").annotation_fps == 10.0
