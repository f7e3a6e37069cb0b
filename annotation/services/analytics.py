"""Annotator analytics recorded as work happens.

Active time. The editor sends a heartbeat every ``HEARTBEAT_SECONDS`` while a task is open,
with ``active`` = "the person interacted since the previous beat". The interval that a beat
closes (since the claim or the previous beat of the lease) is active when the beat says so,
and counts for at most ``HEARTBEAT_SECONDS`` (a laptop that slept for an hour and then beat
once adds one period, not an hour). The submit closes the last interval and always counts: a
submit is an interaction. So, for one lease,

    active = sum over its active beats and its submit of min(gap to the previous event, period)

Each increment is written when it happens: on the heartbeat/submit event (``data.active_seconds``,
for per-person sums) and added to ``Task.active_seconds`` (all leases of the task, for
per-task figures), so the dashboard aggregates numbers instead of replaying event streams.

Clicks, propagation runs and edits after review are rows that already exist (tracking's
``Prompt`` and ``TrackingJob``, rework tasks, reviewer ``EDIT`` events); the dashboard counts
them (annotation.selectors.dashboard).
"""

from __future__ import annotations

from datetime import datetime

HEARTBEAT_SECONDS = 30


def active_increment(*, since: datetime | None, now: datetime, active: bool) -> float:
    """Seconds of active work credited for the interval (since, now]."""
    if not active or since is None:
        return 0.0
    gap = (now - since).total_seconds()
    return max(0.0, min(gap, float(HEARTBEAT_SECONDS)))
