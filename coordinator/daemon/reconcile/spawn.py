"""Spawning: which ready `run:` tasks to start now, and why each of the others waits
(pure). Starting is exactly-once: the intent, with a start token, is recorded before the
process starts, and a start already recorded is never made twice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from coordinator.claims.globs import globs_overlap
from coordinator.daemon.reconcile import Write
from coordinator.daemon.reconcile.notices import tell
from coordinator.plans.readiness import IN_PROGRESS, READY
from coordinator.plans.spec import TaskSpec, by_priority
from coordinator.state import TaskRun, run_op
from coordinator.tasks import attempts
from coordinator.timefmt import local_clock
from memory.records import Compare, Put

#: The pid a run record holds between the intent to start and the start itself.
STARTING = 0


class SpawnPlan(NamedTuple):
    """What the spawn reconciler decided: tasks to start, holds to record, next retry."""

    start: tuple[TaskSpec, ...]
    holds: tuple[Write, ...]
    #: When the earliest retry falls due (the daemon wakes then).
    next_retry: float | None


def unstarted(status: str | None, run: TaskRun) -> bool:
    """A ready task whose agent was never started, whose start a killed daemon left
    unfinished (its intent recorded, no process found for its token), or whose last
    attempt has ended (an operator set it back to ready)."""
    return status == READY and (run.pid is None or run.pid == STARTING or not run.live)


def files_overlap(spec: TaskSpec, busy: Iterable[TaskSpec]) -> str | None:
    """The id of a busy task whose declared files overlap this task's, or None."""
    if not spec.files:
        return None
    for other in busy:
        if other.id == spec.id or not other.files:
            continue
        if any(globs_overlap(a, b) for a in spec.files for b in other.files):
            return other.id
    return None


def plan_spawns(
    runnable: Iterable[TaskSpec],
    specs: Mapping[str, TaskSpec],
    statuses: Mapping[str, str | None],
    runs: Mapping[str, TaskRun],
    running: set[str],
    max_agents: int,
    now: float,
) -> SpawnPlan:
    """Choose the ready `run:` tasks to start (most urgent first, P0 to P3, then in id
    order; up to `max_agents` agents at
    once, none whose files overlap a running task's, none before its retry is due) and
    record why each ready one not chosen is held back."""
    # The running tasks' specs, gathered (one look at every status) only once a
    # candidate declares files: an idle pass stays as cheap as the runnable tasks.
    busy: list[TaskSpec] | None = None
    count = len(running)
    start: list[TaskSpec] = []
    holds: list[Write] = []
    next_retry: float | None = None
    for spec in by_priority(sorted(runnable, key=lambda s: s.id)):
        run = runs.get(spec.id) or TaskRun()
        if spec.id in running or not unstarted(statuses.get(spec.id), run):
            continue
        hold: str | None = None
        if run.retry_at is not None and run.retry_at > now:
            hold = f"retry at {local_clock(run.retry_at)}"
            next_retry = run.retry_at if next_retry is None else min(next_retry, run.retry_at)
        if hold is None and spec.files:
            if busy is None:
                busy_ids = set(running) | {t for t, s in statuses.items() if s == IN_PROGRESS}
                busy = [specs[t] for t in sorted(busy_ids) if t in specs] + start
            other = files_overlap(spec, busy)
            if other is not None:
                hold = f"files overlap {other}"
        if hold is None and count >= max_agents:
            hold = f"--max-agents reached ({max_agents} running)"
        if hold is None:
            start.append(spec)
            if busy is not None:
                busy.append(spec)
            count += 1
        elif hold != run.held:
            holds.append(hold_write(spec, run, hold))
    return SpawnPlan(tuple(start), tuple(holds), next_retry)


def hold_write(spec: TaskSpec, run: TaskRun, hold: str | None) -> Write:
    """Record why a ready task is not started (while it is still ready)."""
    run = run._replace(held=hold)
    return Write(
        (Compare(spec.status_key, "value", "==", READY),),
        (run_op(spec.id, run),),
        runs={spec.id: run},
        log=("task held", {"task": spec.id, "held": hold}),
    )


def intent_write(spec: TaskSpec, run: TaskRun, now: float, token: str) -> Write:
    """The intent to start the task's agent: a new attempt (or the unfinished one a
    killed daemon left) marked as starting with `token`, while the task is still ready.
    A new attempt that is a retry tells its agent how the one before ended."""
    agent = spec.agent or spec.name
    notes: list[Put] = []
    if run.live and run.pid == STARTING:
        run = run._replace(token=token)
    else:
        run = attempts.begin(run, now, agent=agent, token=token)
        if run.retry_reason:
            message = (
                f"task {spec.id}: attempt {run.attempt} is a retry; "
                f"the attempt before ended: {run.retry_reason}"
            )
            notes = tell(agent, message, now, spec.id, "warn")
    run = run._replace(pid=STARTING, held=None, retry_at=None, ended_at=None)
    return Write(
        (Compare(spec.status_key, "value", "==", READY),),
        (run_op(spec.id, run), attempts.attempt_op(spec.id, attempts.record(run)), *notes),
        runs={spec.id: run},
    )
