"""The order `task_next` offers tasks in, and which tasks it offers (pure)."""

from __future__ import annotations

import pytest

from coordinator.tasks.next_up import (
    UNRANKED,
    ReadyTask,
    order_ready,
    plan_positions,
    priority_rank,
    startable_now,
)


def task(task_id: str, priority: str | None = None) -> ReadyTask:
    return ReadyTask(task_id, task_id, None, priority, None, ())


@pytest.mark.parametrize(
    ("priority", "rank"),
    [("P0", 0), ("p1", 1), ("P3", 3), ("P4", UNRANKED), ("high", UNRANKED), (None, UNRANKED)],
)
def test_priority_rank(priority: object, rank: int) -> None:
    assert priority_rank(priority) == rank


def test_plan_positions_follow_plan_then_written_order() -> None:
    headers = {"b": {"tasks": ["z", "a"]}, "a": {"tasks": ["m"]}, "c": {"tasks": "bad"}}
    assert plan_positions(headers) == {"a/m": (0, 0), "b/z": (1, 0), "b/a": (1, 1)}


def test_priority_first_then_plan_order_then_unplanned() -> None:
    positions = {"p/late": (0, 2), "p/early": (0, 0), "p/middle": (0, 1)}
    tasks = [
        task("adhoc/x"),
        task("p/late"),
        task("p/middle", "P2"),
        task("p/early"),
        task("p/urgent", "P0"),
    ]
    assert [t.task for t in order_ready(tasks, positions)] == [
        "p/urgent",
        "p/middle",
        "p/early",
        "p/late",
        "adhoc/x",
    ]


@pytest.mark.parametrize(
    ("status", "verdict", "startable"),
    [
        (None, "ready", True),
        ("pending", "ready", True),
        ("ready", "ready", True),
        ("pending", "waiting", False),
        ("ready", "blocked", False),
        ("in_progress", "ready", False),
        ("complete", "ready", False),
        ("failed", "ready", False),
    ],
)
def test_startable_now(status: str | None, verdict: str, startable: bool) -> None:
    assert startable_now(status, verdict) is startable
