"""Annotation UI speed in a real Chromium: opening a task until its first frame is drawn with
masks, and playback frame rate with masks for 5 objects at 1280x720.

    python -m bench.ui [--runs 5] [--seconds 5] [--db sqlite|postgres]

Bootstraps a throwaway platform: a temporary data folder, a fresh database (a SQLite file, the
embedded default, or a PostgreSQL database dropped afterwards), migrations, a 1280x720 synthetic
clip (workers/synthetic.py, cached in bench/out/) ingested into a project annotated at 30 fps,
its 5 shapes as 5 tracked pass-1 objects (their exact masks), the pass-1 task leased to a bench
user, the built SPA (``npm run build`` when frontend/dist is older than its sources), gunicorn.
Then Chromium (/usr/bin/chromium, headless) measures:

- open task, cold: a new browser context (empty cache) loads /tasks/<id>; the time from the
  start of navigation to the first draw of frame 0 with all 5 masks (target < 1 s);
- open task, in app: from the click on "Resume" on the home screen (the SPA already loaded) to
  that draw (target < 1 s);
- playback: Play at 1x (30 fps, 1280x720, 5 masks); frames drawn per second over ``--seconds``
  of playback, with the frames that were drawn without all 5 masks counted (target >= 25 fps).

The hook is the player's canvas (src/components/player/FramePlayer.tsx): after each draw it sets
data-drawn-frame, data-draw-count and data-mask-layers; a MutationObserver in the page records
performance.now() at each draw.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend"
CACHE = ROOT / "bench" / "out" / "ui-clip"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
CLIP = {"width": 1280, "height": 720, "fps": 30.0, "frames": 240, "seed": 5}
ANNOTATION_FPS = 30.0
USERNAME, PASSWORD = "bench-annotator", "bench-password-1"
TARGET_OPEN_S = 1.0
TARGET_FPS = 25.0

# Records every draw of the player's canvas: [t (ms since navigation start), frame, mask layers].
RECORDER = """
window.__draws = [];
const watch = () => {
  const canvas = document.querySelector('[data-testid="player-canvas"]');
  if (!canvas || canvas.__benchWatched) return;
  canvas.__benchWatched = true;
  new MutationObserver(() => {
    window.__draws.push([performance.now(), Number(canvas.dataset.drawnFrame),
                         Number(canvas.dataset.maskLayers)]);
  }).observe(canvas, {attributes: true, attributeFilter: ["data-draw-count"]});
};
new MutationObserver(watch).observe(document, {childList: true, subtree: true});
"""


# --- child: database, data, server --------------------------------------------------------------


def _env(database_url: str, data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "S3_", "CELERY_"))}
    env.update(
        DATABASE_URL=database_url,
        TUBELET_DATA_DIR=data_dir,
        STATIC_ROOT=str(Path(data_dir) / "static"),
        DJANGO_SETTINGS_MODULE="config.settings.base",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghij"),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def _clip() -> Any:
    """The 1280x720 synthetic clip, rendered once into bench/out/ and reused."""
    from workers import synthetic

    path = CACHE / f"shapes_{CLIP['width']}x{CLIP['height']}_{CLIP['seed']}.mp4"
    truth = synthetic.truth_path_for(path)
    if path.exists() and truth.exists():
        return synthetic.SyntheticVideo.load(truth)
    CACHE.mkdir(parents=True, exist_ok=True)
    clip = synthetic.generate(path, **CLIP)  # type: ignore[arg-type]
    clip.save_truth(annotation_fps=ANNOTATION_FPS)
    return synthetic.SyntheticVideo.load(truth)


def seed() -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    from annotation.models import ProjectKind, Role, TaskKind
    from annotation.services.ingest import video_ingest_file
    from annotation.services.projects import membership_set, project_create
    from annotation.services.queue import task_claim_next
    from tracking.models import Masklet, MaskletSource, MaskletStatus
    from tracking.services.jobs import revision_create
    from workers import rle

    call_command("migrate", verbosity=0)
    clip = _clip()
    project = project_create(name="bench ui", kind=ProjectKind.STC, guidelines="")
    project.annotation_fps = ANNOTATION_FPS
    project.save(update_fields=["annotation_fps"])
    user = get_user_model().objects.create_user(username=USERNAME, password=PASSWORD)
    membership_set(project=project, user=user, role=Role.ANNOTATOR)
    outcome = video_ingest_file(project=project, path=clip.path, original_name="shapes_720p.mp4")
    video = outcome[0].video
    if video is None:
        raise SystemExit(f"ingest failed: {outcome[0].error}")
    frames = clip.annotation_truth(ANNOTATION_FPS)
    if len(frames) != video.annotation_frame_count:
        raise SystemExit(f"{len(frames)} truth frames for {video.annotation_frame_count}")
    with transaction.atomic():
        for shape in clip.objects:
            masklet = Masklet.objects.create(
                video=video,
                object_id=shape.object_id,
                category=shape.category,
                source=MaskletSource.CLICKS,
                status=MaskletStatus.DRAFT,
                created_by=user,
            )
            masks = [rle.encode(frame[shape.object_id]) for frame in frames]
            revision_create(masklet=masklet, masks=masks, engine="truth", author=user)
    task = task_claim_next(user=user, project=project, kinds=[TaskKind.SELECT])
    assert task is not None
    return {
        "task": task.pk,
        "objects": len(clip.objects),
        "frames": video.annotation_frame_count,
        "size": [video.width, video.height],
    }


def child(args: argparse.Namespace) -> None:
    print(json.dumps(seed()))


# --- parent -------------------------------------------------------------------------------------


def _database(kind: str, base_dir: str, pg_url: str) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite:///{base_dir}/bench_ui.sqlite3", None
    from bench.throwaway import postgres_database

    return postgres_database(pg_url, "ui")


def spa_build_if_stale() -> None:
    """``npm run build`` unless frontend/dist/index.html is newer than every source."""
    index = FRONTEND / "dist" / "index.html"
    inputs = [FRONTEND / "index.html", FRONTEND / "package.json", FRONTEND / "vite.config.ts"]
    inputs += [p for p in (FRONTEND / "src").rglob("*") if p.is_file()]
    newest = max((p.stat().st_mtime for p in inputs if p.exists()), default=0.0)
    if index.exists() and index.stat().st_mtime >= newest:
        return
    print("building the web app (npm run build)…", flush=True)
    if not (FRONTEND / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
    subprocess.run(["npm", "run", "build"], cwd=FRONTEND, check=True, stdout=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer {url}; see {log}")


def _first_full_draw(page: Any, objects: int, since: float, timeout_ms: int = 30_000) -> float:
    """performance.now() of the first draw of frame 0 with every mask, after ``since``."""
    page.wait_for_function(
        "([n, since]) => window.__draws.some(d => d[0] >= since && d[1] === 0 && d[2] === n)",
        arg=[objects, since],
        timeout=timeout_ms,
    )
    draws = page.evaluate("window.__draws")
    return float(next(d[0] for d in draws if d[0] >= since and d[1] == 0 and d[2] == objects))


def _timeline(page: Any) -> list[tuple[str, int, float, float]]:
    """What the first cold open waited for: requests grouped by kind, with their count, first
    start and last end (ms since navigation start), then the first full draw."""
    entries = page.evaluate(
        "performance.getEntriesByType('resource').map(e => [e.name, e.startTime, e.responseEnd])"
    )
    groups: dict[str, list[tuple[float, float]]] = {}
    for name, start, end in entries:
        path = name.split("?")[0].split("//", 1)[-1].split("/", 1)[-1]
        kind = (
            "static: app code" if path.startswith("static/")
            else "media: frame pictures" if path.startswith("media/")
            else "api: masks" if "/masks" in path
            else f"api: {'/'.join(p for p in path.split('/')[1:3] if not p.isdigit())}"
        )  # fmt: skip
        groups.setdefault(kind, []).append((start, end))
    rows = [(k, len(v), min(a for a, _ in v), max(b for _, b in v)) for k, v in groups.items()]
    return sorted(rows, key=lambda r: r[2])


def _playback(draws: list[list[float]], objects: int) -> dict[str, Any]:
    """Frames per second over the draws of a playback (a redraw of a frame is not a frame)."""
    frames = [d for i, d in enumerate(draws) if i == 0 or d[1] != draws[i - 1][1]]
    span = (frames[-1][0] - frames[0][0]) / 1000 if len(frames) > 1 else 0.0
    return {
        "fps": (len(frames) - 1) / span if span > 0 else 0.0,
        "frames": len(frames),
        "span": span,
        "without_masks": sum(1 for d in frames if d[2] != objects),
        "skipped": sum(1 for a, b in itertools.pairwise(frames) if b[1] - a[1] != 1),
    }


def measure(base: str, seeded: dict[str, Any], runs: int, seconds: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    task, objects = seeded["task"], seeded["objects"]
    viewport = {"width": 1600, "height": 1000}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        login = browser.new_context(base_url=base, viewport=viewport)
        page = login.new_page()
        page.goto("/login")
        page.get_by_test_id("login-username").fill(USERNAME)
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("current-user").wait_for()
        state = login.storage_state()
        login.close()

        cold: list[float] = []
        timeline: list[tuple[str, int, float, float]] = []
        for _ in range(runs):
            context = browser.new_context(base_url=base, viewport=viewport, storage_state=state)
            context.add_init_script(RECORDER)
            page = context.new_page()
            page.goto(f"/tasks/{task}")
            cold.append(_first_full_draw(page, objects, 0.0) / 1000)
            if not timeline:
                timeline = _timeline(page)
            context.close()

        # In app: the home screen is loaded, the annotator clicks Resume (a new context per run,
        # so pictures and masks are not in the HTTP cache; the task stays leased between runs).
        warm: list[float] = []
        for _ in range(runs):
            context = browser.new_context(base_url=base, viewport=viewport, storage_state=state)
            context.add_init_script(RECORDER)
            page = context.new_page()
            page.goto("/")
            button = page.get_by_test_id("start-working").first
            button.wait_for()
            started = float(page.evaluate("performance.now()"))
            button.click()
            warm.append((_first_full_draw(page, objects, started) - started) / 1000)
            if len(warm) < runs:
                context.close()

        # Playback: from frame 0, with every mask loaded (the task is open in `page`).
        page.get_by_test_id("select-editor").wait_for()
        page.wait_for_function(
            "document.querySelector('[data-testid=select-editor]').dataset.masksLoaded === '1'"
        )
        page.get_by_test_id("playback-rate").select_option("1")
        plays = []
        # Twice from frame 0: the second time the frames played are already in the player.
        for _ in range(2):
            page.get_by_label("First frame").click()
            page.wait_for_function("window.__draws.length > 0 && window.__draws.at(-1)[1] === 0")
            page.evaluate("window.__draws = []")
            page.get_by_test_id("play-pause").click()
            page.wait_for_timeout(seconds * 1000)
            page.get_by_test_id("play-pause").click()
            plays.append(_playback(page.evaluate("window.__draws"), objects))
        browser.close()

    first, again = plays
    return {
        "cold": cold,
        "warm": warm,
        **first,
        "fps_again": again["fps"],
        "seeded": seeded,
        "timeline": timeline,
    }


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="task openings measured (each way)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of playback")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    spa_build_if_stale()
    with tempfile.TemporaryDirectory(prefix="tubelet-bench-ui-") as base_dir:
        url, drop = _database(args.db, base_dir, args.postgres_url)
        env = _env(url, str(Path(base_dir) / "data"))
        server: subprocess.Popen[bytes] | None = None
        try:
            print("seeding (migrate, 1280x720 clip, ingest, 5 tracked objects)…", flush=True)
            done = subprocess.run(
                [sys.executable, "-m", "bench.ui", "--child"],
                cwd=ROOT, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                sys.stderr.write(done.stderr)
                raise SystemExit("seeding failed")
            seeded = json.loads(done.stdout.strip().splitlines()[-1])
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                cwd=ROOT, env=env, check=True,
            )  # fmt: skip
            port = _free_port()
            log = Path(base_dir) / "server.log"
            with open(log, "wb") as out:
                server = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind",
                     f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            _wait_http(f"{base}/healthz", server, log)
            result = measure(base, seeded, args.runs, args.seconds)
        finally:
            if server is not None and server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=20)
            if drop is not None:
                drop()

    cold, warm = result["cold"], result["warm"]
    w, h = result["seeded"]["size"]
    n = result["seeded"]["objects"]
    print(f"\nTubelet annotation UI in Chromium {args.db}, {w}x{h}, {n} objects, "
          f"{result['seeded']['frames']} frames at {ANNOTATION_FPS:g} fps")  # fmt: skip
    print(f"{'measure':<44} {'measured':>10} {'target':>9}  {'':6}")
    print("-" * 74)
    rows = [
        ("open task, cold load: first frame with masks",
         f"{statistics.median(cold):.2f} s", f"< {TARGET_OPEN_S:g} s",
         statistics.median(cold) < TARGET_OPEN_S),
        ("  (worst of the runs)", f"{max(cold):.2f} s", "", None),
        ("open task, in app: first frame with masks",
         f"{statistics.median(warm):.2f} s", f"< {TARGET_OPEN_S:g} s",
         statistics.median(warm) < TARGET_OPEN_S),
        ("  (worst of the runs)", f"{max(warm):.2f} s", "", None),
        (f"playback at 1x, {n} masks",
         f"{result['fps']:.1f} fps", f">= {TARGET_FPS:g} fps", result["fps"] >= TARGET_FPS),
        ("  (again, frames already loaded)", f"{result['fps_again']:.1f} fps", "", None),
    ]  # fmt: skip
    for label, measured, target, ok in rows:
        print(f"{label:<44} {measured:>10} {target:>9}  {'' if ok is None else _verdict(ok)}")
    print("\nfirst cold open, what it waited for (ms since navigation start):")
    for kind, count, start, end in result["timeline"]:
        print(f"  {kind:<28} {count:>4} requests  {start:>7.0f} .. {end:>7.0f}")
    print(f"  first frame drawn with all masks: {cold[0] * 1000:.0f}")
    print(f"\nopen: median of {args.runs} runs each; playback: {result['frames']} frames drawn in "
          f"{result['span']:.1f} s, {result['without_masks']} without all {n} masks, "
          f"{result['skipped']} steps that were not +1 frame.")  # fmt: skip


if __name__ == "__main__":
    main()
