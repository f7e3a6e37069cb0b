from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from tests.workers.clips import clip, iou
from workers import synthetic
from workers.cpu_engine import CpuTrackingEngine
from workers.engine import Direction, FrameSource, Prompt
from workers.sessions import SessionBusy, SessionRegistry, prompts_fingerprint


class FakeSession:
    """Records what the registry and entries do to a session; masks are a stand-in."""

    def __init__(self, name: str = "s") -> None:
        self.name = name
        self.source = FrameSource.__new__(FrameSource)
        self.calls: list[tuple[str, object]] = []
        self.closed = False

    def add_prompt(self, prompt: Prompt) -> np.ndarray:
        self.calls.append(("add", (prompt.frame, prompt.object_id)))
        return np.zeros((2, 2), dtype=bool)

    def propagate(
        self,
        *,
        start_frame: int,
        direction: Direction = "both",
        object_ids: Sequence[int] | None = None,
    ) -> Iterator[tuple[int, dict[int, np.ndarray]]]:
        return iter(())

    def remove_object(self, object_id: int) -> None:
        self.calls.append(("remove", object_id))

    def reset(self) -> None:
        self.calls.append(("reset", None))

    def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _prompt(frame: int, object_id: int = 1, x: float = 5.0) -> Prompt:
    return Prompt(frame=frame, object_id=object_id, points=[[x, 5.0]], labels=[1])


def test_use_opens_a_session_once_and_reuses_it() -> None:
    registry = SessionRegistry()
    opened: list[FakeSession] = []

    def open_session() -> FakeSession:
        opened.append(FakeSession())
        return opened[-1]

    with registry.use("v1", open_session=open_session) as first:
        pass
    with registry.use("v1", open_session=open_session) as second:
        pass
    assert len(opened) == 1
    assert first is second
    assert first.session is opened[0]
    assert registry.keys() == ["v1"]


def test_least_recently_used_session_is_closed_beyond_the_bound() -> None:
    registry = SessionRegistry(max_sessions=2)
    sessions = {key: FakeSession(key) for key in ("a", "b", "c")}
    with registry.use("a", open_session=lambda: sessions["a"]):
        pass
    with registry.use("b", open_session=lambda: sessions["b"]):
        pass
    with registry.use("a", open_session=lambda: sessions["a"]):
        pass
    with registry.use("c", open_session=lambda: sessions["c"]):
        pass
    assert set(registry.keys()) == {"a", "c"}
    assert sessions["b"].closed
    assert not sessions["a"].closed
    assert not sessions["c"].closed


def test_a_session_in_use_is_not_evicted() -> None:
    registry = SessionRegistry(max_sessions=1)
    a, b = FakeSession("a"), FakeSession("b")
    with registry.use("a", open_session=lambda: a):
        with registry.use("b", open_session=lambda: b):
            assert set(registry.keys()) == {"a", "b"}
        assert not a.closed
    assert registry.keys() == ["a"]
    assert b.closed


def test_sweep_closes_sessions_idle_longer_than_the_limit() -> None:
    clock = Clock()
    registry = SessionRegistry(idle_seconds=60, clock=clock)
    old, fresh = FakeSession("old"), FakeSession("fresh")
    with registry.use("old", open_session=lambda: old):
        pass
    clock.now += 50
    with registry.use("fresh", open_session=lambda: fresh):
        pass
    clock.now += 20
    assert registry.sweep() == ["old"]
    assert old.closed
    assert not fresh.closed
    assert registry.keys() == ["fresh"]


def test_an_idle_session_expires_lazily_when_asked_for_again() -> None:
    clock = Clock()
    registry = SessionRegistry(idle_seconds=60, clock=clock)
    first, second = FakeSession("1"), FakeSession("2")
    with registry.use("v", open_session=lambda: first):
        pass
    clock.now += 61
    assert registry.get("v") is None
    assert first.closed
    with registry.use("v", open_session=lambda: second) as entry:
        assert entry.session is second


def test_a_session_from_another_engine_or_model_is_replaced() -> None:
    registry = SessionRegistry()
    cpu, sam = FakeSession("cpu"), FakeSession("sam")
    with registry.use("v", open_session=lambda: cpu, engine_name="cpu", model_version="1"):
        pass
    with registry.use("v", open_session=lambda: sam, engine_name="sam2", model_version="x") as e:
        assert e.session is sam
    assert cpu.closed


def test_failure_to_open_leaves_no_entry_behind() -> None:
    registry = SessionRegistry()

    def broken() -> FakeSession:
        raise RuntimeError("no frames")

    with pytest.raises(RuntimeError, match="no frames"), registry.use("v", open_session=broken):
        pass
    assert "v" not in registry
    assert len(registry) == 0


def test_one_video_is_used_by_one_thread_at_a_time_and_others_in_parallel() -> None:
    registry = SessionRegistry()
    inside: dict[str, int] = {"v1": 0, "v2": 0}
    most: dict[str, int] = {"v1": 0, "v2": 0}
    both_videos_at_once = threading.Event()
    guard = threading.Lock()

    def work(key: str) -> None:
        with registry.use(key, open_session=FakeSession):
            with guard:
                inside[key] += 1
                most[key] = max(most[key], inside[key])
                if inside["v1"] and inside["v2"]:
                    both_videos_at_once.set()
            time.sleep(0.02)
            with guard:
                inside[key] -= 1

    threads = [threading.Thread(target=work, args=(k,)) for k in ("v1", "v2") * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == {"v1": 1, "v2": 1}
    assert both_videos_at_once.is_set()


def test_waiting_for_a_busy_video_times_out_with_session_busy() -> None:
    registry = SessionRegistry()
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with registry.use("v", open_session=FakeSession):
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    with pytest.raises(SessionBusy), registry.use("v", open_session=FakeSession, timeout=0.05):
        pass
    release.set()
    holder.join()
    with registry.use("v", open_session=FakeSession, timeout=1):
        pass


def test_sync_applies_all_prompts_to_a_new_session() -> None:
    registry = SessionRegistry()
    stored = [_prompt(0), _prompt(3), _prompt(3, object_id=2)]
    with registry.use("v", open_session=FakeSession) as entry:
        assert entry.sync_prompts(stored) == 3
        assert entry.fingerprint == prompts_fingerprint(stored)
        assert entry.session.calls == [("add", (0, 1)), ("add", (3, 1)), ("add", (3, 2))]  # type: ignore[union-attr]


def test_sync_applies_only_the_new_tail_when_the_session_has_the_rest() -> None:
    registry = SessionRegistry()
    stored = [_prompt(0), _prompt(3)]
    with registry.use("v", open_session=FakeSession) as entry:
        entry.sync_prompts(stored)
        entry.session.calls.clear()  # type: ignore[union-attr]
        assert entry.sync_prompts([*stored, _prompt(7)]) == 1
        assert entry.session.calls == [("add", (7, 1))]  # type: ignore[union-attr]
        assert entry.sync_prompts([*stored, _prompt(7)]) == 0


def test_sync_resets_and_rebuilds_when_stored_prompts_diverge() -> None:
    registry = SessionRegistry()
    with registry.use("v", open_session=FakeSession) as entry:
        entry.sync_prompts([_prompt(0), _prompt(3)])
        entry.session.calls.clear()  # type: ignore[union-attr]
        edited = [_prompt(0), _prompt(3, x=9.0)]
        assert entry.sync_prompts(edited) == 2
        assert entry.session.calls == [("reset", None), ("add", (0, 1)), ("add", (3, 1))]  # type: ignore[union-attr]
        assert entry.fingerprint == prompts_fingerprint(edited)


def test_fingerprint_depends_on_prompt_content_and_order() -> None:
    a, b = _prompt(0), _prompt(1)
    assert prompts_fingerprint([a, b]) == prompts_fingerprint([_prompt(0), _prompt(1)])
    assert prompts_fingerprint([a, b]) != prompts_fingerprint([b, a])
    assert prompts_fingerprint([a]) != prompts_fingerprint([_prompt(0, x=6.0)])
    with SessionRegistry().use("v", open_session=FakeSession) as entry:
        assert entry.fingerprint == prompts_fingerprint([])


def test_removing_an_object_leaves_the_fingerprint_of_the_other_prompts() -> None:
    registry = SessionRegistry()
    stored = [_prompt(0, object_id=1), _prompt(2, object_id=2), _prompt(4, object_id=1)]
    with registry.use("v", open_session=FakeSession) as entry:
        entry.sync_prompts(stored)
        entry.remove_object(1)
        assert entry.fingerprint == prompts_fingerprint([stored[1]])
        assert entry.applied == [stored[1]]


def test_closed_session_is_reopened_empty_for_the_next_user() -> None:
    registry = SessionRegistry()
    first, second = FakeSession("1"), FakeSession("2")
    with registry.use("v", open_session=lambda: first) as entry:
        entry.sync_prompts([_prompt(0)])
    assert registry.close("v")
    assert first.closed
    assert not registry.close("v")
    with registry.use("v", open_session=lambda: second) as entry:
        assert entry.session is second
        assert entry.applied == []
        assert entry.sync_prompts([_prompt(0)]) == 1


def test_a_rebuilt_cpu_session_gives_the_same_masks_as_the_lost_one() -> None:
    c = clip(24, 480, 270, 24.0, 4.0)
    ball, spinner = synthetic.interior_point(c.truth[0][1]), synthetic.interior_point(c.truth[5][2])
    assert ball is not None
    assert spinner is not None
    stored = [
        Prompt(frame=0, object_id=1, points=[ball], labels=[1]),
        Prompt(frame=5, object_id=2, points=[spinner], labels=[1]),
    ]
    registry = SessionRegistry()
    engine = CpuTrackingEngine()
    with registry.use("v", open_session=lambda: engine.open_session(c.frames)) as entry:
        entry.sync_prompts(stored)
        before = dict(entry.session.propagate(start_frame=0, direction="forward"))  # type: ignore[union-attr]
    registry.close("v")
    with registry.use("v", open_session=lambda: engine.open_session(c.frames)) as entry:
        assert entry.sync_prompts(stored) == 2
        after = dict(entry.session.propagate(start_frame=0, direction="forward"))  # type: ignore[union-attr]
    assert sorted(before) == sorted(after) == list(range(c.frames.count))
    for frame in before:
        for object_id in (1, 2):
            assert iou(before[frame][object_id], after[frame][object_id]) == 1.0
