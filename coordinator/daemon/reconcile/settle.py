"""Task settlement: a task's status follows its readiness, and a task reported complete
has its gates checked (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coordinator import layout
from coordinator.daemon.reconcile import Write
from coordinator.daemon.reconcile.notices import tell
from coordinator.plans.readiness import (
    BLOCKED,
    COMPLETE,
    READY,
    assess,
    describe_wait,
    evaluate_gates,
    gate_failures_of,
    gates_pass,
    next_status,
)
from coordinator.plans.spec import TaskSpec
from coordinator.state import TaskRun, event_op, gate_block_ops, run_op, status_op
from memory.records import Compare, Record, WriteOp


def settle(
    spec: TaskSpec,
    status_record: Record | None,
    run: TaskRun,
    values: Mapping[str, Any],
    now: float,
    *,
    gate_check: bool,
) -> Write | None:
    """The write that brings one task's status in line with its readiness, or None.

    `values` holds the current value of every key the task's rules read; `gate_check`
    asks for the gates of a task whose status just became `complete` to be checked.
    """
    task_id = spec.id
    status = None if status_record is None else str(status_record.value)
    ops: list[WriteOp] = []
    if gate_check and status == COMPLETE:
        results = evaluate_gates(spec, values)
        if gates_pass(results) or run.skipped:
            return None
        failures = gate_failures_of(results)
        reason, blocked = gate_block_ops(task_id, run.agent or spec.agent, failures, now)
        run = run._replace(reason=reason, blocked_kind="gates", gate_failures=failures)
        ops += [status_op(task_id, BLOCKED), *blocked]
        new = BLOCKED
    else:
        readiness = assess(spec, values)
        kind = run.blocked_kind if run.blocked_kind in ("dependency", "gates") else None
        target = next_status(status, readiness, kind)  # type: ignore[arg-type]
        if target is None or target == status:
            return None
        new = target
        if new == READY:
            run = run._replace(ready_at=now, reason=None, blocked_kind=None, held=None)
            ops += [
                event_op("task_ready", now, task=task_id, agent=spec.agent),
                *tell(spec.agent, f"task {task_id} is now ready", now, task_id),
            ]
        elif new == BLOCKED:
            reason = "dependency failed: " + ", ".join(readiness.blocked_by)
            run = run._replace(reason=reason, blocked_kind="dependency", held=None)
            ops += [
                event_op("task_blocked", now, task=task_id, message=reason),
                *tell(spec.agent, f"task {task_id} is blocked: {reason}", now, task_id, "warn"),
            ]
        else:
            run = run._replace(
                reason="; ".join(describe_wait(w) for w in readiness.waits) or None, held=None
            )
            ops.append(event_op("task_pending", now, task=task_id, message=run.reason or ""))
        ops.append(status_op(task_id, new))
    ops.append(run_op(task_id, run))
    return Write(
        (Compare.unchanged(layout.status_key(task_id), status_record),),
        tuple(ops),
        statuses={task_id: new},
        runs={task_id: run},
        log=("task", {"task": task_id, "status": new, "reason": run.reason}),
    )
