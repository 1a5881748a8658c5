"""Which tasks an agent may start now, best first: what the MCP tool `task_next` answers.

A task qualifies when its readiness verdict is `ready` and nobody has started it (the same
rule `pre-task` applies), and it is planned for this agent or for nobody. Order: the plan's
`priority` (P0 first) where the spec has one, then the order of the plans and their tasks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from coordinator import layout
from coordinator.plans.readiness import PENDING, READY, assess
from coordinator.plans.spec import TaskSpec
from coordinator.tasks.start import plan_phases, read_state
from memory.store import Store

#: The rank of a task without a priority (or with one this module does not know): last.
UNRANKED = 4


class ReadyTask(NamedTuple):
    """A task an agent may start now."""

    task: str
    title: str
    agent: str | None
    priority: str | None
    description: str | None
    files: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The task as the MCP tool returns it."""
        return {**self._asdict(), "files": list(self.files)}


def priority_rank(priority: object) -> int:
    """`P0` -> 0 ... `P3` -> 3 (case-insensitive); anything else ranks after them."""
    text = priority.upper() if isinstance(priority, str) else ""
    return int(text[1]) if text in ("P0", "P1", "P2", "P3") else UNRANKED


def plan_positions(headers: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """(plan, task) position of every planned task id: plans by phase name, tasks as written."""
    positions = {}
    for plan_index, phase in enumerate(sorted(headers)):
        tasks = headers[phase].get("tasks")
        for task_index, name in enumerate(tasks if isinstance(tasks, list) else []):
            positions[f"{phase}/{name}"] = (plan_index, task_index)
    return positions


def order_ready(
    tasks: Iterable[ReadyTask], positions: Mapping[str, tuple[int, int]]
) -> list[ReadyTask]:
    """`tasks` by priority, then plan position, then id (pure)."""
    unplanned = (len(positions) + 1, 0)
    return sorted(
        tasks,
        key=lambda t: (priority_rank(t.priority), positions.get(t.task, unplanned), t.task),
    )


def startable_now(status: str | None, verdict: str) -> bool:
    """Whether a task with this status and readiness verdict is free to start (pure)."""
    return status in (None, PENDING, READY) and verdict == "ready"


def ready_tasks(
    store: Store, agent: str | None, *, include_others: bool = False
) -> list[ReadyTask]:
    """The tasks `agent` may start now, best first; `include_others` adds those planned for
    other agents."""
    found = []
    for record in store.list_prefix(layout.TASKS):
        if not record.key.endswith("/spec") or not isinstance(record.value, dict):
            continue
        spec = TaskSpec.from_json(record.value)
        if spec.agent and spec.agent != agent and not include_others:
            continue
        state, values = read_state(store, spec)
        if not startable_now(state.status, assess(spec, values).verdict):
            continue
        # `priority` is read from the stored spec, so that plans carrying it are ordered
        # by it whether or not this version's TaskSpec knows the field.
        priority = record.value.get("priority")
        found.append(
            ReadyTask(
                spec.id,
                spec.title,
                spec.agent,
                priority if isinstance(priority, str) else None,
                spec.description,
                spec.files,
            )
        )
    return order_ready(found, plan_positions(plan_phases(store)))
