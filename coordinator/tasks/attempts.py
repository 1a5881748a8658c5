"""Attempts and retries: every try at a task is a record, and a failed `run:` task is
tried again as its plan says. Pure: these take a run record and `now` and return records
and writes; the hooks, the daemon and the operator commands commit them.
"""

from __future__ import annotations

from coordinator import layout
from coordinator.plans.spec import TaskSpec
from coordinator.state import TaskRun, encode, event_op
from memory.records import Put
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from typing import Any, Final

#: How an attempt ended.
OUTCOMES: Final = frozenset(
    {"complete", "failed", "blocked", "cancelled", "agent_died", "stale", "skipped"}
)


class Attempt(NamedTuple):
    """One try at a task: who, when, how it ended and with what."""

    number: int
    agent: str | None = None
    pid: int | None = None
    started: float | None = None
    ended: float | None = None
    #: None while the attempt runs.
    outcome: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    gates: tuple[str, ...] = ()
    metrics: dict[str, Any] | None = None
    #: The operator who forced the outcome (post-task --force, swarm task ...), if any.
    forced_by: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Attempt:
        """Parse a stored attempt record (malformed: attempt 0 with nothing known)."""
        if not isinstance(data, dict) or not isinstance(data.get("number"), int):
            return cls(0)
        values = {k: v for k, v in data.items() if k in cls._fields}
        values["gates"] = tuple(values.get("gates") or ())
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """The record as stored and as `swarm report --format json` prints it."""
        data = self._asdict()
        data["gates"] = list(self.gates)
        return data


def begin(run: TaskRun, now: float, *, agent: str | None, token: str | None = None) -> TaskRun:
    """The run record of a new attempt: numbered one past the last, live, nothing ended
    (it keeps `retry_reason`: how the attempt before it ended)."""
    return run._replace(
        attempt=run.attempt + 1,
        live=True,
        agent=agent,
        token=token,
        pid=None,
        exit_code=None,
        started_at=None,
        ended_at=None,
        reason=None,
        retry_at=None,
        held=None,
        stalled=False,
        metrics=None,
        gate_failures=(),
    )


def record(
    run: TaskRun,
    *,
    outcome: str | None = None,
    ended: float | None = None,
    exit_code: int | None = None,
    reason: str | None = None,
    gates: tuple[str, ...] | None = None,
    metrics: dict[str, Any] | None = None,
    forced_by: str | None = None,
) -> Attempt:
    """The record of the run's current attempt, as it stands (or as it ended). Its gates
    and metrics are the run's (those of its last post-task) unless given."""
    return Attempt(
        number=run.attempt,
        agent=run.agent,
        pid=run.pid if run.pid else None,
        started=run.started_at,
        ended=ended,
        outcome=outcome,
        exit_code=exit_code if exit_code is not None else run.exit_code,
        reason=reason,
        gates=run.gate_failures if gates is None else gates,
        metrics=run.metrics if metrics is None else metrics,
        forced_by=forced_by,
    )


def attempt_op(task_id: str, attempt: Attempt) -> Put:
    """Write one attempt record."""
    return Put(layout.attempt_key(task_id, attempt.number), encode(attempt.to_json()))


def retry_at(spec: TaskSpec, run: TaskRun, now: float) -> float | None:
    """When a `run:` task whose current attempt just failed is to be tried again, or None
    when its retries are spent (or it has no `run:` command to start again).

    The delay doubles per attempt: `retry_delay`, then twice that, and so on.
    """
    used = run.attempt - run.retry_base
    if not spec.run or used < 1 or used > spec.retries:
        return None
    return now + spec.retry_delay * float(2 ** (used - 1))


def retry_run(run: TaskRun, at: float, now: float, reason: str) -> TaskRun:
    """The run record of a task made ready again for a retry at `at`, because its attempt
    ended with `reason` (which the next attempt is told)."""
    return run._replace(
        live=False,
        pid=None,
        token=None,
        ended_at=now,
        retry_at=at,
        reason=f"retry at {at:.0f} after: {reason}",
        blocked_kind=None,
        retry_reason=reason,
    )


def schedule_retry(
    spec: TaskSpec, run: TaskRun, agent: str | None, reason: str, now: float
) -> tuple[TaskRun, Put] | None:
    """A failed (or gate-refused) attempt's retry, when the plan has one left: the run
    record made ready again and its `task_retry_scheduled` event. None when the retries
    are spent. Build the attempt's record from `run` first: the retry clears its pid."""
    due = retry_at(spec, run, now)
    if due is None:
        return None
    run = retry_run(run, due, now, reason)
    event = event_op(
        "task_retry_scheduled",
        now,
        task=spec.id,
        agent=agent,
        message=f"attempt {run.attempt} failed ({reason}); retry in {due - now:g}s",
        attempt=run.attempt,
        retry_at=due,
        retries_left=retries_left(spec, run),
    )
    return run, event


def retries_left(spec: TaskSpec, run: TaskRun) -> int:
    """How many more attempts the plan allows after the current one."""
    return max(0, spec.retries - (run.attempt - run.retry_base))
