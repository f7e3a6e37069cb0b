"""Per-process registry of open tracking sessions, keyed by video.

A tracking session (a SAM 2 inference state, or the CPU tracker's) is expensive to build and
lives in one worker process. This registry keeps at most ``max_sessions`` of them (least
recently used go first), closes those idle for ``idle_seconds`` (on :meth:`sweep`, and
lazily whenever a video is asked for again), and serialises work on one video: a click and a
propagation on the same video never run at the same time in this process, while different
videos proceed in parallel.

Each entry remembers which prompts its session has seen, as a chain of fingerprints, so the
caller can tell whether the session already reflects the stored prompts, only lacks the
newest ones, or must be reset and rebuilt from them (a lost or diverged session is rebuilt
from stored prompts, which are the source of truth). No Django and no Redis here: the
cross-worker view of who holds which video is the Django side's.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from workers.engine import EngineSession, Prompt

_CHAIN_START = hashlib.sha256(b"tubelet-prompts-v1").hexdigest()


class SessionBusy(TimeoutError):
    """The video's session stayed in use by another thread for longer than the timeout."""


def prompt_digest(previous: str, prompt: Prompt) -> str:
    canonical = json.dumps(prompt.as_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{previous}|{canonical}".encode()).hexdigest()


def prompts_fingerprint(prompts: Iterable[Prompt]) -> str:
    """Fingerprint of prompts applied in this order (the order matters: a later prompt on
    the same frame and object replaces an earlier one). Equal lists give equal strings."""
    digest = _CHAIN_START
    for prompt in prompts:
        digest = prompt_digest(digest, prompt)
    return digest


@dataclass(eq=False)
class SessionEntry:
    """One video's session. Use it only inside :meth:`SessionRegistry.use`, which holds
    ``lock``; consume a propagation's iterator inside that block too."""

    key: Hashable
    engine_name: str
    model_version: str
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    session: EngineSession | None = field(default=None, repr=False)
    created_at: float = 0.0
    last_used: float = 0.0
    users: int = 0  # threads inside use() for this entry, running or waiting
    _applied: list[Prompt] = field(default_factory=list, repr=False)
    _chain: list[str] = field(default_factory=list, repr=False)

    @property
    def fingerprint(self) -> str:
        """:func:`prompts_fingerprint` of the prompts this session has applied."""
        return self._chain[-1] if self._chain else _CHAIN_START

    @property
    def applied(self) -> list[Prompt]:
        return list(self._applied)

    def add_prompt(self, prompt: Prompt) -> np.ndarray:
        """Apply one prompt and remember it; returns that frame's mask of that object."""
        mask = self._live().add_prompt(prompt)
        self._record(prompt)
        return mask

    def sync_prompts(self, prompts: Sequence[Prompt]) -> int:
        """Make the session reflect exactly ``prompts`` (the stored ones, in the order they
        were made): apply only the missing tail when the session has seen a prefix of them,
        otherwise reset and apply them all. Returns how many prompts were applied."""
        session = self._live()
        target: list[str] = []
        digest = _CHAIN_START
        for prompt in prompts:
            digest = prompt_digest(digest, prompt)
            target.append(digest)
        have = len(self._chain)
        if have <= len(target) and self._chain == target[:have]:
            start = have
        else:
            session.reset()
            self._applied.clear()
            self._chain.clear()
            start = 0
        for prompt in prompts[start:]:
            self.add_prompt(prompt)
        return len(prompts) - start

    def remove_object(self, object_id: int) -> None:
        self._live().remove_object(object_id)
        # The session now holds what applying the other objects' prompts alone gives.
        kept = [p for p in self._applied if p.object_id != object_id]
        self._applied.clear()
        self._chain.clear()
        for prompt in kept:
            self._record(prompt)

    def reset(self) -> None:
        self._live().reset()
        self._applied.clear()
        self._chain.clear()

    def _record(self, prompt: Prompt) -> None:
        self._chain.append(prompt_digest(self.fingerprint, prompt))
        self._applied.append(prompt)

    def _live(self) -> EngineSession:
        if self.session is None:
            raise RuntimeError(f"the session of {self.key!r} is closed")
        return self.session


class SessionRegistry:
    def __init__(
        self,
        *,
        max_sessions: int = 4,
        idle_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._entries: OrderedDict[Hashable, SessionEntry] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def use(
        self,
        key: Hashable,
        *,
        open_session: Callable[[], EngineSession],
        engine_name: str = "",
        model_version: str = "",
        timeout: float | None = None,
    ) -> Iterator[SessionEntry]:
        """Hold ``key``'s session for the block, opening it with ``open_session()`` if there
        is none (or the one there is idle-expired, or made by another engine or model).

        Blocks while another thread holds the same video (:class:`SessionBusy` after
        ``timeout`` seconds); other videos are not blocked. A new session starts with no
        prompts: call :meth:`SessionEntry.sync_prompts` with the stored ones.
        """
        to_close: list[SessionEntry] = []
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.users == 0:
                stale = self._is_idle(entry) or (entry.engine_name, entry.model_version) != (
                    engine_name,
                    model_version,
                )
                if stale:
                    to_close.append(self._entries.pop(key))
                    entry = None
            if entry is None:
                now = self._clock()
                entry = SessionEntry(key, engine_name, model_version, created_at=now, last_used=now)
                self._entries[key] = entry
            self._entries.move_to_end(key)
            entry.users += 1
        _close_all(to_close)
        acquired = entry.lock.acquire(timeout=-1 if timeout is None else timeout)
        if not acquired:
            self._release(entry)
            raise SessionBusy(f"the tracking session of {key!r} is busy")
        try:
            if entry.session is None:
                try:
                    entry.session = open_session()
                except BaseException:
                    with self._lock:
                        if self._entries.get(key) is entry and entry.users == 1:
                            del self._entries[key]
                    raise
            yield entry
        finally:
            entry.last_used = self._clock()
            entry.lock.release()
            self._release(entry)

    def get(self, key: Hashable) -> SessionEntry | None:
        """The entry for ``key`` if one is open and not idle-expired (for inspection: to do
        anything with its session, go through :meth:`use`)."""
        to_close: list[SessionEntry] = []
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.users == 0 and self._is_idle(entry):
                to_close.append(self._entries.pop(key))
                entry = None
        _close_all(to_close)
        return entry

    def close(self, key: Hashable) -> bool:
        """Close ``key``'s session now, after a thread using it finishes. Threads already
        waiting for it get a fresh session (and must sync their prompts, as always)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False
            entry.users += 1
        with entry.lock:
            _close_all([entry])
            with self._lock:
                entry.users -= 1
                if entry.users == 0 and self._entries.get(key) is entry:
                    del self._entries[key]
        return True

    def sweep(self) -> list[Hashable]:
        """Close every session idle for ``idle_seconds``; returns their keys."""
        with self._lock:
            idle = [e for e in self._entries.values() if e.users == 0 and self._is_idle(e)]
            for entry in idle:
                del self._entries[entry.key]
        _close_all(idle)
        return [e.key for e in idle]

    def close_all(self) -> None:
        for key in self.keys():
            self.close(key)

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def _release(self, entry: SessionEntry) -> None:
        with self._lock:
            entry.users -= 1
            evicted = self._evict()
        _close_all(evicted)

    def _evict(self) -> list[SessionEntry]:
        """Least recently used entries beyond the bound that nobody is using. (In use ones
        are never evicted: the bound can be exceeded while every session is busy.)"""
        evicted: list[SessionEntry] = []
        for key in list(self._entries):
            if len(self._entries) <= self.max_sessions:
                break
            entry = self._entries[key]
            if entry.users == 0:
                evicted.append(self._entries.pop(key))
        return evicted

    def _is_idle(self, entry: SessionEntry) -> bool:
        return self._clock() - entry.last_used > self.idle_seconds


def _close_all(entries: Iterable[SessionEntry]) -> None:
    for entry in entries:
        session, entry.session = entry.session, None
        entry._applied.clear()
        entry._chain.clear()
        if session is not None:
            session.close()
