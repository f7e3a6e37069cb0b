"""Shared fixtures: real PostgreSQL (pytest-django), real Redis, a real Celery worker process,
moto's S3 server, and the shared real videos."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "test-artifacts"


def wait_for(predicate: Callable[[], Any], *, timeout: float = 60.0, interval: float = 0.2) -> Any:
    """Poll until ``predicate()`` is truthy; fail the test with a clear message on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout:.0f}s: {predicate}")
        time.sleep(interval)


@pytest.fixture(autouse=True)
def _fresh_media_folder() -> None:
    """Each test starts with an empty local storage (files are not rolled back with the DB)."""
    import shutil

    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "videos" / "bedroom.mp4").exists():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (the shared data checkout)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_flush() -> None:
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def worker_env(**extra: str) -> dict[str, str]:
    """Environment for a subprocess that must see the test database and data folder."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=(
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        REDIS_URL=settings.REDIS_URL,
        TUBELET_DATA_DIR=str(settings.DATA_DIR),
        SECRET_KEY=settings.SECRET_KEY,
        SWEEP_INTERVAL_SECONDS="2",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class WorkerProcess:
    """A real ``celery worker`` process on the test database and Redis."""

    def __init__(self, *, queues: str, name: str, env: dict[str, str], log: Path) -> None:
        self.queues, self.name, self.env, self.log = queues, name, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "workers",
                    "worker",
                    "-Q",
                    self.queues,
                    "-n",
                    f"{self.name}@%h",
                    "-P",
                    "threads",
                    "-c",
                    "2",
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "info",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._ready, timeout=60)

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            pytest.fail(f"celery worker exited early; see {self.log}")
        return "ready." in self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group, as an OOM kill or a lost machine would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: None, django_db_blocker: Any) -> Iterator[WorkerProcess]:
    """One worker on every queue for the whole session. Tests using it need ``transactional_db``
    so that what they write is committed and visible to the worker."""
    _redis_flush()
    worker = WorkerProcess(
        queues="media,gpu,export",
        name="test-worker",
        env=worker_env(),
        log=Path(settings.DATA_DIR) / "logs" / "celery-worker.log",
    )
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def moto_server() -> Iterator[str]:
    """moto's S3 server (real HTTP, real boto3 calls), fresh per test."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


S3_CREDENTIALS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture
def s3_storage(moto_server: str) -> Iterator[dict[str, str]]:
    """Switch storage to S3 on the moto server with a fresh bucket."""
    import boto3

    bucket = "tubelet-test"
    boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    options = {
        "bucket_name": bucket,
        "region_name": "us-east-1",
        "endpoint_url": moto_server,
        "access_key": "testing",
        "secret_key": "testing",
        "querystring_auth": True,
        "querystring_expire": 600,
        "file_overwrite": True,
        "default_acl": None,
        "addressing_style": "path",
    }
    with override_settings(
        STORAGES={
            "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
            "staticfiles": settings.STORAGES["staticfiles"],
        },
        S3_BUCKET=bucket,
        S3_REGION="us-east-1",
        S3_ENDPOINT_URL=moto_server,
        S3_ACCESS_KEY_ID="testing",
        S3_SECRET_ACCESS_KEY="testing",
        SIGNED_URL_TTL=600,
    ):
        yield {"endpoint": moto_server, "bucket": bucket}


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client
