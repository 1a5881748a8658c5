"""Agent supervision: what the end of a spawned agent's process means for its task, and
what an agent that went silent leaves behind (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from coordinator import layout
from coordinator.daemon.reconcile import Write
from coordinator.daemon.reconcile.notices import OPERATOR, tell
from coordinator.plans.readiness import BLOCKED, FAILED, IN_PROGRESS, READY
from coordinator.plans.spec import TaskSpec
from coordinator.state import TaskRun, event_op, run_op, status_op
from coordinator.tasks import attempts
from memory.records import Compare, Record, WriteOp


class Ended(NamedTuple):
    """The outcome of an agent's end: the write, and why the agent is gone (when it died
    before its post-task: the daemon then releases everything it held, in the same
    transaction)."""

    write: Write | None
    gone: str | None


def agent_ended(
    spec: TaskSpec,
    status_record: Record | None,
    run_record: Record | None,
    attempt_record: Record | None,
    *,
    token: str | None,
    agent: str,
    code: int | None,
    pid: int,
    now: float,
) -> Ended:
    """Judge an agent's end. Before its post-task (its attempt still live, the task ready
    or in progress): the attempt ends `agent_died`, and the task is retried if its plan
    allows, else failed. While its gates refuse the task: the attempt ends `blocked`, and
    the task is retried if its plan allows, else stays blocked. After its post-task: only
    the exit code (and the pid, if unknown) is noted, in the run record and the attempt's.
    An attempt that moved on meanwhile (an operator's retry or reset) is left alone.

    `attempt_record` is the stored record of the run record's current attempt, if any.
    """
    run = TaskRun.from_json(None if run_record is None else run_record.value)
    status = None if status_record is None else str(status_record.value)
    if token is not None and run.token not in (None, token):
        return Ended(None, None)
    attempt_key = layout.attempt_key(spec.id, run.attempt)
    guards = (
        Compare.unchanged(spec.status_key, status_record),
        Compare.unchanged(layout.run_key(spec.id), run_record),
        Compare.unchanged(attempt_key, attempt_record),
    )
    if run.live and status == BLOCKED and run.blocked_kind == "gates":
        return Ended(_refused_and_ended(spec, run, guards, agent, code, pid, now), None)
    if not (run.live and status in (READY, IN_PROGRESS)):
        return Ended(_exit_noted(spec, run, attempt_record, guards, code, pid), None)
    if code is None:
        reason = f"agent process {pid} ended before post-task (started by an earlier daemon)"
    else:
        reason = f"agent {agent} exited with code {code} before post-task"
    run = run._replace(exit_code=code, pid=run.pid or pid)
    died = attempts.record(run, outcome="agent_died", ended=now, exit_code=code, reason=reason)
    ops: list[WriteOp] = [attempts.attempt_op(spec.id, died)]
    retry = attempts.schedule_retry(spec, run, agent, reason, now)
    if retry is not None:
        new = READY
        run, scheduled = retry
        ops.append(scheduled)
    else:
        new = FAILED
        run = run._replace(reason=reason, ended_at=now, live=False)
        ops += [
            event_op(
                "task_failed", now, task=spec.id, agent=agent, message=reason, attempt=run.attempt
            ),
            *tell(OPERATOR, reason, now, spec.id, "error"),
        ]
    ops += [status_op(spec.id, new), run_op(spec.id, run)]
    write = Write(
        guards,
        tuple(ops),
        statuses={spec.id: new},
        runs={spec.id: run},
        log=("agent died", {"task": spec.id, "agent": agent, "status": new, "reason": reason}),
    )
    return Ended(write, reason)


def _refused_and_ended(
    spec: TaskSpec,
    run: TaskRun,
    guards: tuple[Compare, ...],
    agent: str,
    code: int | None,
    pid: int,
    now: float,
) -> Write:
    """An agent that ended while its gates refuse its task: its attempt ends `blocked`
    with the gate results and metrics of the refusal; the task is retried if its plan
    allows (the refusal is the retry's reason), else it stays blocked for the operator.
    Not a death: the agent made its post-task and let go of its claims then."""
    reason = run.reason or "gate failed"
    run = run._replace(exit_code=code, pid=run.pid or pid or None, ended_at=now, live=False)
    refused = attempts.record(run, outcome=BLOCKED, ended=now, reason=reason)
    ops: list[WriteOp] = [attempts.attempt_op(spec.id, refused)]
    retry = attempts.schedule_retry(spec, run, agent, reason, now)
    new = BLOCKED
    if retry is not None:
        new = READY
        run, scheduled = retry
        ops += [scheduled, status_op(spec.id, READY)]
    ops.append(run_op(spec.id, run))
    return Write(
        guards,
        tuple(ops),
        statuses={spec.id: new},
        runs={spec.id: run},
        log=("agent ended refused", {"task": spec.id, "agent": agent, "status": new}),
    )


def _exit_noted(
    spec: TaskSpec,
    run: TaskRun,
    attempt_record: Record | None,
    guards: tuple[Compare, ...],
    code: int | None,
    pid: int,
) -> Write | None:
    """The exit code of an agent that ended after its post-task, noted in the run record
    and in its attempt's record (once: None when both already say so)."""
    if code is None:
        return None
    ops: list[WriteOp] = []
    runs: dict[str, TaskRun] = {}
    if run.exit_code != code:
        run = run._replace(exit_code=code)
        runs[spec.id] = run
        ops.append(run_op(spec.id, run))
    if attempt_record is not None:
        attempt = attempts.Attempt.from_json(attempt_record.value)
        if attempt.number == run.attempt and attempt.exit_code != code:
            attempt = attempt._replace(exit_code=code, pid=attempt.pid or run.pid or pid or None)
            ops.append(attempts.attempt_op(spec.id, attempt))
    return Write(guards, tuple(ops), runs=runs) if ops else None


def agent_went_silent(
    agent: str,
    statuses: Mapping[str, str | None],
    runs: Mapping[str, TaskRun],
    now: float,
) -> Write:
    """An agent's liveness lease ran out: its running tasks are flagged stalled, and the
    operator told. Guarded on the agent still being unregistered (one that came back is
    live); the daemon adds its letting go of everything it held."""
    stalled = {
        task_id: current._replace(stalled=True, reason=f"agent {agent} is stale")
        for task_id, current in sorted(runs.items())
        if current.agent == agent and not current.stalled and statuses.get(task_id) == IN_PROGRESS
    }
    ops: list[WriteOp] = [
        event_op("agent_stale", now, agent=agent, message=f"agent {agent} went silent")
    ]
    for task_id, run in stalled.items():
        # The attempt's outcome so far: should the agent come back and finish, its
        # post-task records the outcome it reaches instead (one outcome per attempt).
        silent = attempts.record(run, outcome="stale", ended=now, reason=run.reason)
        ops += [
            run_op(task_id, run),
            attempts.attempt_op(task_id, silent),
            event_op("task_stalled", now, task=task_id, agent=agent),
        ]
    message = f"agent {agent} is stale" + (f"; stalled: {', '.join(stalled)}" if stalled else "")
    ops += tell(OPERATOR, message, now, next(iter(stalled), ""), "warn")
    absent = Compare(layout.agent_key(agent), "version", "==", 0)
    return Write((absent,), tuple(ops), runs=stalled)
