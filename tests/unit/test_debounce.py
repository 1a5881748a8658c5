"""The dashboard render decision: a bounded rate, and always a trailing render."""

from __future__ import annotations

from itertools import pairwise

import pytest

from coordinator.daemon.debounce import DUTY, dashboard_interval, render_due, render_gap
from memory.errors import SwarmError


def test_nothing_pending_means_sleep_until_a_change() -> None:
    assert render_due(None, False, 100.0, 0.5) is None
    assert render_due(99.0, False, 100.0, 0.5) is None


def test_the_first_change_renders_at_once() -> None:
    assert render_due(None, True, 100.0, 0.5) == 100.0


def test_a_change_soon_after_a_render_waits_out_the_gap() -> None:
    assert render_due(99.9, True, 100.0, 0.5) == pytest.approx(100.4)


def test_a_change_long_after_a_render_renders_at_once() -> None:
    assert render_due(90.0, True, 100.0, 0.5) == 100.0


def test_a_burst_of_changes_renders_twice_the_last_one_included() -> None:
    """Changes every 10 ms for a second: one render at once, then one per gap, and the
    last render comes after the last change (the trailing write)."""
    gap, took = 0.5, 0.0
    last_end: float | None = None
    pending = False
    renders: list[float] = []
    changes = [100.0 + i / 100 for i in range(100)]
    moments = sorted({*changes, *(c + gap for c in changes)})
    for now in [*moments, 102.0]:
        if now in changes:
            pending = True
        due = render_due(last_end, pending, now, render_gap(gap, took))
        if due is not None and due <= now:
            renders.append(now)
            last_end, pending = now, False
    assert len(renders) <= 1 + (changes[-1] - changes[0]) / gap + 1
    assert renders[0] == changes[0] and renders[-1] >= changes[-1]
    assert all(b - a >= gap for a, b in pairwise(renders))


def test_the_gap_grows_with_what_a_render_costs() -> None:
    assert render_gap(0.5, 0.01) == 0.5
    assert render_gap(0.5, 1.0) == DUTY * 1.0


def test_the_interval_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARM_DASHBOARD_INTERVAL", "2")
    assert dashboard_interval() == 2.0
    monkeypatch.setenv("SWARM_DASHBOARD_INTERVAL", "soon")
    with pytest.raises(SwarmError, match="SWARM_DASHBOARD_INTERVAL"):
        dashboard_interval()
