"""Operators' commands on tasks: retry, reset, cancel and skip (`swarm task ...`).

Each reads the task, refuses (exit 3, nothing written) when its status does not allow
the command, and otherwise commits the change in one guarded transaction together with
an event naming the operator. Attempt records are never removed: history is kept.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

from coordinator import layout
from coordinator.claims.grants import release_ops
from coordinator.errors import TaskNotReady, UnknownTask
from coordinator.plans.readiness import (
    BLOCKED,
    COMPLETE,
    FAILED,
    IN_PROGRESS,
    PENDING,
    READY,
    assess,
)
from coordinator.plans.spec import TaskSpec
from coordinator.state import TaskRun, encode, event_op, run_op, status_op
from coordinator.tasks import attempts
from coordinator.tasks.load import load_specs
from coordinator.tasks.start import (
    MAX_ATTEMPTS,
    TaskState,
    drop_current_task,
    read_state,
    status_guard,
)
from memory.errors import Refused
from memory.records import Compare, Delete, Put, WriteOp
from memory.store import Store

#: How long `cancel` waits after SIGTERM before SIGKILL (seconds).
CANCEL_GRACE = 5.0


class Changed(NamedTuple):
    """What an operator's command did to a task."""

    task_id: str
    before: str | None
    after: str
    message: str


def _spec(store: Store, ref: str) -> TaskSpec:
    task_id = layout.qualify_task(store, ref)
    record = store.get(layout.spec_key(task_id))
    if record is None:
        raise UnknownTask(f"no task {task_id}; see `swarm plan show`")
    return TaskSpec.from_json(record.value)


def _fresh(run: TaskRun, now: float) -> TaskRun:
    """The run record of a task given back to the daemon: no attempt running, nothing
    held or due, escalations cleared, a fresh retry budget; the attempt count is kept."""
    return run._replace(
        live=False,
        pid=None,
        token=None,
        exit_code=None,
        retry_at=None,
        held=None,
        reason=None,
        blocked_kind=None,
        stalled=False,
        escalated_at=None,
        start_escalated_at=None,
        skipped=False,
        started_at=None,
        ended_at=None,
        ready_at=now,
        retry_base=run.attempt,
        gate_failures=(),
        retry_reason=None,
    )


def _forget_escalations(task_id: str) -> list[WriteOp]:
    """The task's escalation records belong to the readiness that was late: a task given
    back to the daemon may escalate again (each record is written only where absent)."""
    return [Delete(layout.escalation_key(task_id)), Delete(layout.start_escalation_key(task_id))]


def _running(state: TaskState) -> bool:
    """Whether an agent is at work on the task: in progress, or spawned and starting."""
    return state.status == IN_PROGRESS or (state.status == READY and state.run.live)


class Built(NamedTuple):
    """What an operator's change of one task writes: the task's new status, the writes,
    the message, and guards on other records the writes were decided from."""

    new: str
    ops: list[WriteOp]
    message: str
    guards: Sequence[Compare] = ()


def _commit(
    store: Store,
    spec: TaskSpec,
    build: Callable[[TaskState, dict[str, object], float], Built],
) -> Changed:
    """Read the task, let `build` check it and return what to write, and commit under a
    guard on the status read (and on every other record the writes were decided from);
    retried if any of them changed meanwhile."""
    for _ in range(MAX_ATTEMPTS):
        now = store.clock()
        state, values = read_state(store, spec)
        new, ops, message, guards = build(state, values, now)
        if store.txn([status_guard(spec.id, state.status_record), *guards], ops).succeeded:
            return Changed(spec.id, state.status, new, message)
    raise Refused(f"task {spec.id} kept changing; try again")


def retry_task(store: Store, ref: str, operator: str) -> Changed:
    """A failed or blocked task goes back to ready (pending while a requirement is
    unmet), with a fresh retry budget; the daemon starts a `run:` task's agent again (and
    tells it how the last attempt ended), and dependents it blocked go back to pending."""
    spec = _spec(store, ref)

    def build(state: TaskState, values: dict[str, object], now: float) -> Built:
        if state.status not in (FAILED, BLOCKED):
            raise TaskNotReady(
                f"task {spec.id} is {state.status or 'without status'}: only a failed or "
                "blocked task can be retried"
            )
        new = READY if assess(spec, values).verdict == "ready" else PENDING
        message = f"retried by {operator}"
        run = _fresh(state.run, now)
        if state.run.attempt and state.run.blocked_kind != "dependency" and state.run.reason:
            # The next attempt is told how the last one ended.
            run = run._replace(retry_reason=f"{state.run.reason} ({message})")
        ops: list[WriteOp] = [
            status_op(spec.id, new),
            run_op(spec.id, run),
            *_forget_escalations(spec.id),
            event_op(
                "task_retried",
                now,
                task=spec.id,
                agent=operator,
                message=message,
                before=state.status,
                after=new,
            ),
        ]
        unblock_guards, unblock = _unblock_dependents(store, spec)
        return Built(new, [*ops, *unblock], message, unblock_guards)

    return _commit(store, spec, build)


def _unblock_dependents(store: Store, spec: TaskSpec) -> tuple[list[Compare], list[WriteOp]]:
    """Dependents the task's failure blocked go back to pending: the writes, and guards on
    the statuses they were decided from (a dependent reset or cancelled meanwhile is not
    overwritten)."""
    guards: list[Compare] = []
    ops: list[WriteOp] = []
    for other in load_specs(store, spec.phase).values():
        if spec.name not in other.requires:
            continue
        state, _ = read_state(store, other)
        if state.status == BLOCKED and state.run.blocked_kind == "dependency":
            run = state.run._replace(reason=None, blocked_kind=None)
            guards.append(status_guard(other.id, state.status_record))
            ops += [status_op(other.id, PENDING), run_op(other.id, run)]
    return guards, ops


def reset_task(store: Store, ref: str, operator: str) -> Changed:
    """Any task not in progress goes back to pending; its attempts stay on record."""
    spec = _spec(store, ref)

    def build(state: TaskState, values: dict[str, object], now: float) -> Built:
        if _running(state):
            raise TaskNotReady(
                f"task {spec.id} is {state.status} with agent {state.run.agent or '?'} "
                "running: cancel it first"
            )
        message = f"reset by {operator}"
        run = _fresh(state.run, now)._replace(ready_at=None)
        ops: list[WriteOp] = [
            status_op(spec.id, PENDING),
            run_op(spec.id, run),
            *_forget_escalations(spec.id),
            event_op(
                "task_reset",
                now,
                task=spec.id,
                agent=operator,
                message=message,
                before=state.status,
            ),
        ]
        return Built(PENDING, ops, message)

    return _commit(store, spec, build)


def skip_task(store: Store, ref: str, operator: str, reason: str) -> Changed:
    """The task counts as complete for its dependents, and is shown as skipped."""
    spec = _spec(store, ref)

    def build(state: TaskState, values: dict[str, object], now: float) -> Built:
        if state.status == COMPLETE or _running(state):
            what = "nothing to skip" if state.status == COMPLETE else "cancel it first"
            raise TaskNotReady(f"task {spec.id} is {state.status}: {what}")
        message = f"skipped by {operator}: {reason}"
        run = state.run._replace(
            skipped=True, live=False, reason=message, held=None, retry_at=None, ended_at=now
        )
        receipt: dict[str, object] = {
            "task": spec.id,
            "agent": None,
            "status": "skipped",
            "reported": "skipped",
            "summary": reason,
            "end": now,
            "forced_by": operator,
            "metrics": {},
            "gates": [],
            "gate_failures": [],
        }
        ops: list[WriteOp] = [
            status_op(spec.id, COMPLETE),
            run_op(spec.id, run),
            Put(layout.receipt_key(spec.id), encode(receipt)),
            event_op("task_skipped", now, task=spec.id, agent=operator, message=message),
        ]
        return Built(COMPLETE, ops, message)

    return _commit(store, spec, build)


def cancel_task(store: Store, ref: str, operator: str, grace: float = CANCEL_GRACE) -> Changed:
    """Fail a running task with reason `cancelled by NAME`, release its agent's claims
    on it, then stop its agent process (SIGTERM, and SIGKILL after `grace` seconds)."""
    spec = _spec(store, ref)

    def build(state: TaskState, values: dict[str, object], now: float) -> Built:
        if not _running(state):
            raise TaskNotReady(
                f"task {spec.id} is {state.status or 'without status'}: only a running task "
                "can be cancelled"
            )
        message = f"cancelled by {operator}"
        run = state.run._replace(live=False, reason=message, ended_at=now, held=None)
        attempt = attempts.record(
            run, outcome="cancelled", ended=now, reason=message, forced_by=operator
        )
        ops: list[WriteOp] = [
            status_op(spec.id, FAILED),
            run_op(spec.id, run),
            attempts.attempt_op(spec.id, attempt),
            event_op("task_cancelled", now, task=spec.id, agent=operator, message=message),
        ]
        if run.agent:
            ops += release_ops(store, run.agent, spec.id, now)
            ops += drop_current_task(store, run.agent, spec.id)
        return Built(FAILED, ops, message)

    changed = _commit(store, spec, build)
    pid = read_state(store, spec)[0].run.pid or 0
    if pid > 0:
        stop_process(pid, grace)
    return changed


def stop_process(pid: int, grace: float) -> None:
    """SIGTERM the agent's process group (the daemon starts each agent in a session of
    its own), then SIGKILL it if it still runs after `grace` seconds."""
    from coordinator.agents.processes import process_alive

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not process_alive(pid):
                return
            time.sleep(0.05)  # waiting for a process to end, against a deadline
