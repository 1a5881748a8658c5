"""When the daemon renders its dashboards (pure): at a bounded rate, never on a pass's
path, and always once more after the last change (a trailing write), so that a dashboard
at rest shows the store at rest.

A render costs time in proportion to the plan (every task is shown), so the gap between
renders grows with what the last one cost: rendering takes at most 1 / (1 + `DUTY`) of
one core, however large the plan, and at least `dashboard_interval()` separates two.
"""

from __future__ import annotations

from memory.settings import env_seconds

#: Seconds between the end of one render and the start of the next, by default.
DEFAULT_DASHBOARD_INTERVAL = 0.5
#: The gap after a render is at least this many times as long as the render took.
DUTY = 3.0


def dashboard_interval() -> float:
    """`SWARM_DASHBOARD_INTERVAL`: the least seconds between two dashboard renders."""
    return env_seconds("SWARM_DASHBOARD_INTERVAL", DEFAULT_DASHBOARD_INTERVAL)


def render_gap(interval: float, last_render_seconds: float) -> float:
    """How long to wait after a render that took `last_render_seconds`."""
    return max(interval, DUTY * last_render_seconds)


def render_due(
    last_render_end: float | None, pending: bool, now: float, gap: float
) -> float | None:
    """When to render next: a moment at or before `now` means at once, a later one means
    wake then, None means nothing is pending (sleep until a change).

    `last_render_end` is when the last render finished (None: never rendered)."""
    if not pending:
        return None
    if last_render_end is None:
        return now
    return max(now, last_render_end + gap)
