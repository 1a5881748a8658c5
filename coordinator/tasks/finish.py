"""Finishing a task (post-task): check who may report the outcome, evaluate the gates,
record the receipt and attempt, and schedule a retry of a failed `run:` task.

Like the rest of the task workflow (`coordinator.tasks.start`), each outcome is committed in one
compare-and-set transaction, retried if another process changed the task in between.
"""

from __future__ import annotations

from coordinator import layout
from coordinator.agents.liveness import renew_agent
from coordinator.errors import TaskNotReady, UnknownTask
from coordinator.plans.readiness import (
    BLOCKED,
    COMPLETE,
    FAILED,
    IN_PROGRESS,
    READY,
    evaluate_gates,
    gate_failures_of,
)
from coordinator.plans.spec import TaskSpec
from coordinator.state import TaskRun, encode, event_op, gate_block_ops, run_op, status_op
from coordinator.tasks import attempts
from coordinator.tasks.start import (
    MAX_ATTEMPTS,
    TaskState,
    drop_current_task,
    metric_values,
    read_state,
    spec_for,
    status_guard,
)
from memory.errors import Refused
from memory.records import Put, WriteOp
from memory.store import Store
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from coordinator.agents.sessions import ReleaseOps


class Finished(NamedTuple):
    """The outcome of `finish_task`: the receipt and the status the task ended in."""

    task_id: str
    status: str
    receipt: dict[str, Any]
    already: bool
    gate_failures: tuple[str, ...]


def check_finishable(state: TaskState, status: str, agent: str | None, force: bool) -> None:
    """Raise TaskNotReady unless `agent` may report this outcome: the task is in progress
    (or blocked by its own gates) and `agent` started it. `force` (an operator) may always."""
    if force:
        return
    spec, current, holder = state.spec, state.status, state.run.agent
    held_by = f" (held by {holder})" if holder else ""
    gate_blocked = current == BLOCKED and state.run.blocked_kind == "gates"
    if current != IN_PROGRESS and not gate_blocked:
        raise TaskNotReady(
            f"task {spec.id} is {current or 'not started'}{held_by}: post-task is accepted only "
            "for a task in progress, from the agent that started it (operators: --force)"
        )
    if not agent:
        raise TaskNotReady(
            f"task {spec.id} is {current}{held_by}: name the agent that started it "
            "(--agent or $SWARM_AGENT_ID), or --force"
        )
    if agent != holder:
        raise TaskNotReady(
            f"task {spec.id} is {current}{held_by}, not by {agent}: only its agent may "
            "finish it (operators: --force)"
        )


def _already_finished(
    store: Store, state: TaskState, status: str, agent: str | None
) -> Finished | None:
    """The outcome of an earlier post-task by the same agent with this status, if it
    still stands (a repeated hook call changes nothing)."""
    spec = state.spec
    if state.status != status or (agent and agent != state.run.agent):
        return None
    record = store.get(layout.receipt_key(spec.id))
    if record is None or not isinstance(record.value, dict):
        return None
    receipt = record.value
    if receipt.get("status") == status:
        return Finished(spec.id, status, receipt, True, ())
    return None


def _repeated_refusal(
    store: Store,
    state: TaskState,
    values: Mapping[str, Any],
    status: str,
    measured: Mapping[str, Any],
) -> Finished | None:
    """The standing gate refusal, when a task blocked by its gates is reported complete
    again with nothing new (the same metric values, the same failing gates): the same
    report twice changes nothing. A new value or a changed verdict is recorded."""
    if status != COMPLETE or state.status != BLOCKED or state.run.blocked_kind != "gates":
        return None
    stored = store.get_many(list(measured)) if measured else {}
    if any(key not in stored or stored[key].value != v for key, v in measured.items()):
        return None
    failures = gate_failures_of(evaluate_gates(state.spec, dict(values)))
    record = store.get(layout.receipt_key(state.spec.id))
    if not failures or record is None or not isinstance(record.value, dict):
        return None
    if record.value.get("gate_failures") != list(failures):
        return None
    return Finished(state.spec.id, BLOCKED, record.value, True, failures)


def finish_task(
    store: Store,
    ref: str,
    status: str,
    agent: str | None,
    summary: str | None,
    metrics: dict[str, Any] | None,
    claim_release_ops: ReleaseOps | None = None,
    *,
    force: bool = False,
    operator: str | None = None,
) -> Finished:
    """post-task: record the outcome, timing and receipt; evaluate gates on completion.

    Accepted only for a task in progress (or blocked by its gates) and from the agent
    that started it, unless `force` (recorded with `operator`). A gate refusal leaves the
    task `blocked`, recoverable by the same agent once the gates pass (the daemon retries
    a `run:` agent that ends refused). A failed `run:` task with retries left is made
    ready again for a retry, told why (after a refusal: the refusal). Idempotent.
    """
    if status not in (COMPLETE, FAILED):
        raise UnknownTask(f"post-task status must be complete or failed, not {status!r}")
    spec, is_new = spec_for(store, ref, agent)
    if is_new and not force:
        raise TaskNotReady(
            f"task {spec.id} has not been started: post-task is accepted only for a task in "
            "progress (operators: --force)"
        )
    measured = metric_values(spec.id, metrics)
    for _ in range(MAX_ATTEMPTS):
        now = store.clock()
        state, values = read_state(store, spec)
        # The metrics are written in this transaction, so the gates judge them as written.
        values.update(measured)
        earlier = _already_finished(store, state, status, agent)
        if earlier is not None:
            return earlier
        check_finishable(state, status, agent, force)
        repeated = _repeated_refusal(store, state, values, status, measured)
        if repeated is not None:
            return repeated
        ops, receipt, final, gate_failures = _finish_ops(
            store, state, values, status, agent, summary, metrics, now, force, operator
        )
        ops.extend(Put(key, encode(value)) for key, value in measured.items())
        holder = agent or state.run.agent
        if claim_release_ops is not None and holder:
            ops.extend(claim_release_ops(store, holder, spec.id, now))
        if is_new:
            ops.insert(0, Put(layout.spec_key(spec.id), encode(spec.to_json())))
        result = store.txn([status_guard(spec.id, state.status_record)], ops)
        if result.succeeded:
            return Finished(spec.id, final, receipt, False, gate_failures)
    raise Refused(f"task {spec.id} kept changing; try again")


def _finish_ops(
    store: Store,
    state: TaskState,
    values: dict[str, Any],
    status: str,
    agent: str | None,
    summary: str | None,
    metrics: dict[str, Any] | None,
    now: float,
    force: bool,
    operator: str | None,
) -> tuple[list[WriteOp], dict[str, Any], str, tuple[str, ...]]:
    """The writes of one accepted post-task, its receipt, final status and gate failures."""
    spec = state.spec
    run = state.run
    if not run.live or run.attempt == 0:
        # Forced on a task with no attempt running (or one from before attempts were
        # recorded): the outcome is an attempt of its own.
        run = attempts.begin(run, now, agent=agent or run.agent)
        run = run._replace(started_at=run.started_at or now)
    run = run._replace(
        agent=agent or run.agent, ended_at=now, metrics=dict(metrics) if metrics else run.metrics
    )
    forced_by = (operator or agent or "operator") if force else None
    final = status
    gate_failures: tuple[str, ...] = ()
    events: list[WriteOp] = []
    outcome = status
    reason: str | None = None
    #: Why a failed attempt failed (what its retry is told).
    failure: str | None = None
    gate_results = evaluate_gates(spec, values) if status == COMPLETE else ()
    if status == COMPLETE:
        gate_failures = gate_failures_of(gate_results)
    duration = None if run.started_at is None else round(now - run.started_at, 3)
    if gate_failures:
        final = outcome = BLOCKED
        reason, blocked = gate_block_ops(spec.id, run.agent, gate_failures, now)
        if state.status != BLOCKED:
            # One refusal, one task_blocked event: a repeated refusal updates the receipt.
            events += blocked
        run = run._replace(
            reason=reason, blocked_kind="gates", ended_at=None, gate_failures=gate_failures
        )
    elif status == FAILED:
        failure = summary or "reported failed"
        if state.status == BLOCKED and state.run.blocked_kind == "gates":
            # Giving up after a refusal: the refusal is why, and the next attempt is told.
            failure = f"{failure} after {state.run.reason or 'a gate refusal'}"
        reason = failure
        run = run._replace(reason=failure, live=False, blocked_kind=None)
    else:
        run = run._replace(reason=None, blocked_kind=None, live=False, gate_failures=())
    # The attempt as it ended, before a retry makes the run record ready for the next one.
    attempt = attempts.record(
        run, outcome=outcome, ended=now, reason=reason or summary, forced_by=forced_by
    )
    if failure is not None:
        retry = attempts.schedule_retry(spec, run, run.agent, failure, now)
        if retry is not None:
            final = READY
            run, scheduled = retry
            events.append(scheduled)
        else:
            events.append(_ended_event("task_failed", spec, run, summary, duration, forced_by, now))
    elif not gate_failures:
        events.append(_ended_event("task_completed", spec, run, summary, duration, forced_by, now))
    receipt = {
        "task": spec.id,
        "agent": run.agent,
        "session": run.session,
        "start": run.started_at,
        "end": now,
        "duration": duration,
        "status": final,
        "reported": status,
        "summary": summary,
        "metrics": metrics or {},
        "gates": [c.text for c in spec.gates],
        "gate_failures": list(gate_failures),
        "attempt": run.attempt,
        "forced_by": forced_by,
    }
    ops: list[WriteOp] = [
        status_op(spec.id, final),
        run_op(spec.id, run),
        Put(layout.receipt_key(spec.id), encode(receipt)),
        attempts.attempt_op(spec.id, attempt),
        *events,
        *renew_agent(store, run.agent),
    ]
    ops += drop_current_task(store, run.agent, spec.id)
    return ops, receipt, final, gate_failures


def _ended_event(
    kind: str,
    spec: TaskSpec,
    run: TaskRun,
    summary: str | None,
    duration: float | None,
    forced_by: str | None,
    now: float,
) -> Put:
    """The `task_completed` or `task_failed` event of an attempt that ended."""
    return event_op(
        kind,
        now,
        task=spec.id,
        agent=run.agent,
        message=summary or "",
        duration=duration,
        attempt=run.attempt,
        forced_by=forced_by,
    )


def refuse_gate_failures(done: Finished) -> Finished:
    """`done`, unless its gates failed: then a refusal naming each failed gate (post-task
    exits 3 with it; an MCP tool reports it as its error)."""
    if done.gate_failures:
        raise Refused(
            f"task {done.task_id} is blocked: its gates failed",
            details=tuple(f"gate failed: {failure}" for failure in done.gate_failures),
        )
    return done
