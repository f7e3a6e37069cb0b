"""The embedded default end to end, as `make run` starts it: SQLite, local files, Celery's
filesystem broker (no Redis), the processes of deploy/Procfile.embedded under honcho."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.media_files import make_video

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "S3_", "SECRET_KEY", "TRACKER", "CELERY_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        TUBELET_DATA_DIR=str(data_dir),
        HOST="127.0.0.1",
        PORT=str(port),
        PATH=f"{Path(sys.executable).parent}:{env['PATH']}",
        PYTHONUNBUFFERED="1",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_make_run_stack_serves_demo_and_processes_uploads_without_redis(tmp_path):
    port = _free_port()
    env = _env(tmp_path / "data", port)
    _manage(env, "migrate", "--noinput", "-v0")
    seeded = _manage(env, "seed_demo")
    assert "annotator1" in seeded
    assert "demo_shapes.mp4 (ready, 60 annotation frames)" in seeded
    assert "nothing new" in _manage(env, "seed_demo")

    log = open(tmp_path / "honcho.log", "wb")  # noqa: SIM115 (kept open for the child)
    stack = subprocess.Popen(
        [sys.executable, "-m", "honcho", "-f", "deploy/Procfile.embedded", "start"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(lambda: _get(f"{base}/healthz") == 200, "web did not start", tmp_path)
        session = requests.Session()
        session.get(f"{base}/api/auth/csrf", timeout=10)
        login = session.post(
            f"{base}/api/auth/login",
            json={"username": "admin", "password": "tubelet-demo"},
            headers={"X-CSRFToken": session.cookies["csrftoken"]},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        project = next(p for p in session.get(f"{base}/api/projects").json() if p["kind"] == "stc")
        source = make_video(tmp_path / "upload.mp4", frames=48)
        with open(source, "rb") as fh:
            upload = session.post(
                f"{base}/api/projects/{project['id']}/videos",
                files={"file": ("upload.mp4", fh, "video/mp4")},
                headers={"X-CSRFToken": session.cookies["csrftoken"]},
                timeout=30,
            )
        assert upload.status_code == 201, upload.text
        assert upload.json()["status"] == "pending"
        video_url = f"{base}/api/videos/{upload.json()['id']}"
        _wait(
            lambda: session.get(video_url, timeout=10).json()["status"] == "ready",
            "the worker did not process the upload through the filesystem broker",
            tmp_path,
        )
        frame_url = session.get(video_url).json()["media"]["frame_urls"][0]
        frame = session.get(base + frame_url, timeout=10)
        assert frame.headers["Content-Type"] == "image/jpeg"
        assert requests.get(f"{base}/", timeout=10).status_code in (200, 503)
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        stack.wait(timeout=30)
        log.close()


def _get(url: str) -> int:
    try:
        return requests.get(url, timeout=2).status_code
    except requests.RequestException:  # refused, or workers still booting on a busy machine
        return 0


def _wait(predicate, message: str, tmp_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"{message}; log:\n{(tmp_path / 'honcho.log').read_text()[-3000:]}")
