"""Operator changes of a task (`swarm task retry|reset|cancel|skip`) against concurrent
writers: what they write about other tasks is guarded like the task's own status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coordinator.plans.validate import parse_plan
from coordinator.state import TaskRun, run_op, status_op
from coordinator.tasks import control as task_control
from coordinator.tasks.finish import finish_task
from coordinator.tasks.load import load_plan
from coordinator.tasks.start import TaskState, start_task
from memory.backends import open_store
from memory.store import Store

PLAN = """
phase: p
tasks:
  a:
    agent: alice
  b:
    requires: [a]
"""


def test_retry_does_not_overwrite_a_dependent_that_changed_after_it_was_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(tmp_path / "memory.db", create=True)
    load_plan(store, parse_plan(PLAN), "plan.yaml")
    start_task(store, "p/a", "alice", None)
    finish_task(store, "p/a", "failed", "alice", "broke", None)
    blocked = TaskRun.from_json(None)._replace(blocked_kind="dependency", reason="a failed")
    store.txn([], [status_op("p/b", "blocked"), run_op("p/b", blocked)])

    read_state = task_control.read_state
    raced = []

    def racing_read(store_: Store, spec: Any) -> tuple[TaskState, dict[str, Any]]:
        result = read_state(store_, spec)
        if spec.id == "p/b" and not raced:
            # Another operator fails the dependent between the retry's read and its commit.
            raced.append(True)
            store.txn([], [status_op("p/b", "failed")])
        return result

    monkeypatch.setattr(task_control, "read_state", racing_read)
    changed = task_control.retry_task(store, "p/a", "olga")

    assert (changed.before, changed.after) == ("failed", "ready")
    assert raced
    assert store.require("p/b/status").value == "failed"
