"""Browser tests: the built SPA served by a live gunicorn on the pytest test database, the real
Celery worker of tests/conftest.py, and a real Chromium driven by Python Playwright.

Every test in this folder is marked ``e2e``. Screenshots go to test-artifacts/e2e/<test>/ (the
folder is printed at the end of the run); a console error or an uncaught page error fails the
test unless the test declared it with ``ui.allow_console(pattern)``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import ARTIFACTS, ROOT, WorkerProcess, _free_port, wait_for, worker_env

# Playwright's sync API keeps an asyncio loop in this thread; Django's ORM calls made by the test
# (seeding, assertions) would otherwise be refused as "async unsafe". Only this process is affected.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

FRONTEND = ROOT / "frontend"
DIST_INDEX = FRONTEND / "dist" / "index.html"
SCREENSHOTS = ARTIFACTS / "e2e"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
VIEWPORT = {"width": 1440, "height": 900}
# Default wait for UI state (a worker-backed step such as tracking passes its own, longer one).
UI_TIMEOUT_MS = 15_000
BUILD_INPUTS = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"_e2e_report_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.rglob("*.png")):
        terminalreporter.write_line(f"e2e screenshots: {SCREENSHOTS}")


# --- the SPA build ------------------------------------------------------------------------------


def _newest_input_mtime() -> float:
    newest = 0.0
    for name in (*BUILD_INPUTS, *(p.name for p in FRONTEND.glob("tsconfig*.json"))):
        path = FRONTEND / name
        files = path.rglob("*") if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                newest = max(newest, file.stat().st_mtime)
    return newest


def _run(cmd: list[str], *, cwd: Path, log: Path, env: dict[str, str] | None = None) -> None:
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        done = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-4000:]
        pytest.fail(f"{' '.join(cmd)} failed (exit {done.returncode}); log {log}:\n{tail}")


def _snapshot(dist: Path) -> Path:
    """Copy dist/ for this session; retry if a concurrent build swapped files mid-copy."""
    target = Path(settings.DATA_DIR) / "e2e-dist"
    for _ in range(5):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(dist, target)
        index = (target / "index.html").read_text()
        wanted = re.findall(r'(?:src|href)="/static/([^"]+)"', index)
        if all((target / name).is_file() for name in wanted):
            return target
    pytest.fail(f"{dist} keeps changing while it is copied (a build running?)")


@pytest.fixture(scope="session")
def spa_dist() -> Path:
    """The built SPA, copied for this session (see server_settings.py). TUBELET_E2E_DIST names
    another build to serve instead of frontend/dist (e.g. one built with --outDir elsewhere)."""
    other = os.environ.get("TUBELET_E2E_DIST")
    return _snapshot(Path(other) if other else _spa_built())


def _spa_built() -> Path:
    """frontend/dist, built with ``npm run build`` unless it is newer than every input (the CI
    test script builds before pytest, so there it is reused as is). TUBELET_E2E_BUILD=skip uses
    dist/ as it is, =always rebuilds."""
    mode = os.environ.get("TUBELET_E2E_BUILD", "auto")
    if mode == "skip":
        if not DIST_INDEX.exists():
            pytest.fail("TUBELET_E2E_BUILD=skip but frontend/dist/index.html does not exist")
        return DIST_INDEX.parent
    fresh = DIST_INDEX.exists() and DIST_INDEX.stat().st_mtime >= _newest_input_mtime()
    if fresh and mode != "always":
        return DIST_INDEX.parent
    if shutil.which("npm") is None:
        pytest.fail("frontend/dist is missing or stale and npm is not installed to build it")
    log = Path(settings.DATA_DIR) / "logs" / "e2e-spa-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    if not (FRONTEND / "node_modules").exists():
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FRONTEND, log=log)
    _run(["npm", "run", "build"], cwd=FRONTEND, log=log)
    return DIST_INDEX.parent


# --- the live server ----------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    log: Path
    proc: subprocess.Popen[bytes]

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def _server_env(dist: Path) -> dict[str, str]:
    env = worker_env(
        DJANGO_SETTINGS_MODULE="tests.e2e.server_settings",
        E2E_FRONTEND_DIST=str(dist),
        DEBUG="false",
        LOG_LEVEL="INFO",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def web_server(
    django_db_setup: None, spa_dist: Path, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    """gunicorn on a free port, on the same test database, data folder and Redis as the test
    and the Celery worker (started while gunicorn boots). Static files (the SPA's assets) are
    collected first, as in deploys."""
    env = _server_env(spa_dist)
    logs = Path(settings.DATA_DIR) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    _run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--clear", "-v0"],
        cwd=ROOT,
        log=logs / "e2e-collectstatic.log",
        env=env,
    )
    port = _free_port()
    log = logs / "e2e-server.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "8",
                "--timeout",
                "120",
                "--access-logfile",
                "-",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LiveServer(url=f"http://127.0.0.1:{port}", log=log, proc=proc)
    worker: WorkerProcess = request.getfixturevalue("celery_worker")
    assert worker.proc is not None

    def up() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited early:\n{server.log_tail()}")
        return _healthy(server.url)

    wait_for(up, timeout=60)
    yield server
    os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait(timeout=10)


# --- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshot_root() -> Path:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@dataclass
class ConsoleEntry:
    who: str
    text: str
    url: str


@dataclass
class Ui:
    """One test's browser side: pages (each in its own context, i.e. its own login), numbered
    screenshots, and the console errors seen so far."""

    server: LiveServer
    browser: Any
    shots: Path
    contexts: list[Any] = field(default_factory=list)
    errors: list[ConsoleEntry] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)
    pages: dict[str, Any] = field(default_factory=dict)
    _shot_no: int = 0

    @property
    def url(self) -> str:
        return self.server.url

    def allow_console(self, pattern: str) -> None:
        """Declare a console error this test expects (e.g. the browser's own line for a 409).
        The pattern is searched in "<message> <url of the resource or script>"."""
        self.allowed.append(re.compile(pattern))

    def new_page(self, who: str = "anonymous") -> Any:
        context = self.browser.new_context(viewport=VIEWPORT, base_url=self.url)
        context.set_default_timeout(UI_TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()

        def on_console(message: Any) -> None:
            if message.type == "error":
                location = message.location or {}
                self.errors.append(ConsoleEntry(who, message.text, location.get("url", "")))

        def on_page_error(error: Any) -> None:
            self.errors.append(ConsoleEntry(who, f"uncaught: {error}", page.url))

        page.on("console", on_console)
        page.on("pageerror", on_page_error)
        name, n = who, 2
        while name in self.pages:
            name, n = f"{who}-{n}", n + 1
        self.pages[name] = page
        return page

    def page_as(self, username: str, password: str | None = None) -> Any:
        """A fresh browser context logged in as ``username`` through the login screen."""
        from playwright.sync_api import expect

        from annotation.services.demo import DEMO_PASSWORD

        page = self.new_page(username)
        # Signed out, the SPA asks /api/me first; the browser logs its 403 as an error.
        self.allow_console(r"status of 403 .*/api/me$")
        page.goto("/login")
        page.get_by_test_id("login-username").fill(username)
        page.get_by_test_id("login-password").fill(password or DEMO_PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("current-user")).to_have_text(username)
        return page

    def shot(self, page: Any, name: str, *, full_page: bool = True) -> Path:
        self._shot_no += 1
        path = self.shots / f"{self._shot_no:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def unexpected_errors(self) -> list[ConsoleEntry]:
        return [
            e for e in self.errors if not any(p.search(f"{e.text} {e.url}") for p in self.allowed)
        ]

    def close(self) -> None:
        for context in self.contexts:
            # A context that died with its test has nothing left to close.
            with contextlib.suppress(Exception):
                context.close()
        self.contexts.clear()


@pytest.fixture
def ui(
    transactional_db: None,
    web_server: LiveServer,
    browser: Any,
    screenshot_root: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Ui]:
    """Depends on ``transactional_db`` first, so the browser is closed before the tables are
    flushed and what the test seeds is committed where the server can read it."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shots = screenshot_root / name
    shots.mkdir(parents=True, exist_ok=True)
    session = Ui(server=web_server, browser=browser, shots=shots)
    yield session
    call = getattr(request.node, "_e2e_report_call", None)
    if call is not None and call.failed:
        for who, page in session.pages.items():
            # The page may be gone with the failure itself.
            with contextlib.suppress(Exception):
                page.screenshot(path=str(shots / f"FAILED-{who}.png"), full_page=True)
    session.close()
    unexpected = session.unexpected_errors()
    if unexpected and not (call is not None and call.failed):
        lines = "\n".join(f"  [{e.who}] {e.text} ({e.url})" for e in unexpected)
        pytest.fail(f"browser console errors:\n{lines}\nserver log tail:\n{web_server.log_tail()}")


# --- demo data ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _synthetic_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Clips rendered once per session, by their generation arguments (rendering is seconds of
    CPU per clip; every test seeds the same deterministic demo video)."""
    return {"dir": tmp_path_factory.mktemp("synthetic-clips"), "clips": {}}


@dataclass
class Demo:
    """What ``annotation.services.demo.demo_seed`` made, plus the demo video's ground truth."""

    stc: Any
    fgqa: Any
    video: Any
    truth: Any
    users: dict[str, Any]


def _demo_seed(clips: dict[str, Any], monkeypatch: pytest.MonkeyPatch, complete: bool) -> Demo:
    from django.contrib.auth import get_user_model

    from annotation.services.demo import demo_seed, demo_video_path
    from workers import synthetic

    real_generate = synthetic.generate

    def generate_once(path: Any, **options: Any) -> Any:
        key = json.dumps(options, sort_keys=True)
        made = clips["clips"]
        if key not in made:
            made[key] = real_generate(clips["dir"] / f"{len(made)}.mp4", **options)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made[key].path, path)
        return dataclasses.replace(made[key], path=Path(path))

    monkeypatch.setattr(synthetic, "generate", generate_once)
    summary = demo_seed(complete=complete, step=lambda _: None)
    monkeypatch.setattr(synthetic, "generate", real_generate)
    stc, fgqa = summary.projects
    users = {u.username: u for u in get_user_model().objects.all()}
    truth = synthetic.SyntheticVideo.load(synthetic.truth_path_for(demo_video_path()))
    return Demo(stc=stc, fgqa=fgqa, video=summary.videos[0], truth=truth, users=users)


@pytest.fixture
def demo(
    transactional_db: None, _synthetic_clips: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Demo:
    """The demo data of a fresh install, seeded by its service (projects, one user per role, the
    synthetic demo video ingested with its pass-1 task), committed for the live server. The
    clips are rendered once per session (same arguments, same bytes)."""
    return _demo_seed(_synthetic_clips, monkeypatch, complete=False)


@pytest.fixture
def demo_complete(
    transactional_db: None, _synthetic_clips: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Demo:
    """``seed_demo --complete``: the demo plus a verified dataset worked through all passes."""
    return _demo_seed(_synthetic_clips, monkeypatch, complete=True)
