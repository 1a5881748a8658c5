"""Escalation: a task not complete by its `deadline`, or ready and not started within
its `start_within`, is escalated once (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from coordinator import layout
from coordinator.daemon.reconcile import Write
from coordinator.daemon.reconcile.notices import OPERATOR, tell
from coordinator.plans.readiness import READY, is_overdue
from coordinator.plans.spec import TaskSpec
from coordinator.state import TaskRun, encode, event_op, run_op
from memory.records import Compare, Put, WriteOp


def hours(seconds: float) -> str:
    """`48h`, `30m` or `90s`."""
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    if seconds >= 60:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def _late_to_start(spec: TaskSpec, status: str | None, run: TaskRun) -> float | None:
    """When a ready task falls due for its start deadline (None: no such deadline due)."""
    if spec.start_within is None or status != READY or run.ready_at is None:
        return None
    if run.start_escalated_at is not None:
        return None
    return run.ready_at + spec.start_within


def next_due(
    specs: Mapping[str, TaskSpec],
    statuses: Mapping[str, str | None],
    runs: Mapping[str, TaskRun],
) -> float | None:
    """When the next escalation falls due (O(tasks); recomputed only after changes)."""
    moments = []
    for task_id, run in runs.items():
        spec = specs.get(task_id)
        if spec is None or run.ready_at is None:
            continue
        status = statuses.get(task_id)
        if spec.deadline is not None and run.escalated_at is None and status != "complete":
            moments.append(run.ready_at + spec.deadline)
        start = _late_to_start(spec, status, run)
        if start is not None:
            moments.append(start)
    return min(moments, default=None)


def escalations(
    specs: Mapping[str, TaskSpec],
    statuses: Mapping[str, str | None],
    runs: Mapping[str, TaskRun],
    now: float,
) -> list[Write]:
    """One write per escalation due now: past its deadline, or ready too long unstarted.
    A task the daemon holds back names the hold instead of reading as merely ready."""
    writes = []
    for task_id, current in sorted(runs.items()):
        run = current
        spec = specs.get(task_id)
        if spec is None:
            continue
        status = statuses.get(task_id)
        held = f"held: {run.held}" if status == READY and run.held else None
        if is_overdue(spec, status, run.ready_at, now, run.escalated_at is not None):
            assert run.ready_at is not None and spec.deadline is not None
            message = (
                f"task {task_id} is past its deadline ({hours(spec.deadline)} since ready) "
                f"and is {held or status}"
            )
            due = run.ready_at + spec.deadline
            run = run._replace(escalated_at=now)
            writes.append(_write(spec, status, run, message, now, "deadline", due))
        start = _late_to_start(spec, status, run)
        if start is not None and start <= now:
            assert spec.start_within is not None
            message = (
                f"task {task_id} not operational within {hours(spec.start_within)}: "
                f"ready since then and {held or 'not started'}"
            )
            run = run._replace(start_escalated_at=now)
            writes.append(_write(spec, status, run, message, now, "start", start))
    return writes


def _write(
    spec: TaskSpec,
    status: str | None,
    run: TaskRun,
    message: str,
    now: float,
    kind: str,
    due: float,
) -> Write:
    task_id = spec.id
    agent = run.agent or spec.agent
    key = (
        layout.escalation_key(task_id)
        if kind == "deadline"
        else layout.start_escalation_key(task_id)
    )
    record = {
        "task": task_id,
        "agent": agent,
        "status": status,
        "kind": kind,
        "held": run.held,
        "ready_at": run.ready_at,
        "due_at": due,
        "escalated_at": now,
        "message": message,
    }
    ops: list[WriteOp] = [
        Put(key, encode(record)),
        run_op(task_id, run),
        event_op("escalated", now, task=task_id, agent=agent, message=message, kind=kind),
        *tell(OPERATOR, message, now, task_id, "warn"),
        *tell(agent, message, now, task_id, "warn"),
    ]
    guards = (
        Compare(key, "version", "==", 0),
        # A post-task that lands meanwhile changes the status: no escalation then, and
        # its run record is not overwritten with ours.
        Compare(layout.status_key(task_id), "value", "==", status),
    )
    return Write(guards, tuple(ops), runs={task_id: run}, log=("escalated", {"task": task_id}))
