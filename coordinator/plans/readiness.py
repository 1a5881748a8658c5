"""Readiness, gates and deadlines: pure functions of a task's spec, current values and `now`.

The daemon, the hooks and `swarm status` all call `assess`, so a task is shown as waiting
for exactly the reasons that keep the daemon from marking it ready.
"""

from __future__ import annotations

from coordinator.plans.conditions import (
    Condition,
    ConditionResult,
    evaluate_condition,
    format_value,
)
from coordinator.plans.spec import TaskSpec, status_key, task_id
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any, Final, Literal

    Verdict = Literal["ready", "waiting", "blocked"]
    WaitKind = Literal["requires", "when"]
    BlockedReason = Literal["dependency", "gates"]

PENDING: Final = "pending"
READY: Final = "ready"
IN_PROGRESS: Final = "in_progress"
COMPLETE: Final = "complete"
FAILED: Final = "failed"
BLOCKED: Final = "blocked"
#: Every status a task may hold.
STATUSES: Final = frozenset({PENDING, READY, IN_PROGRESS, COMPLETE, FAILED, BLOCKED})
#: Statuses the daemon never moves a task out of.
TERMINAL: Final = frozenset({COMPLETE, FAILED})


_STATUS_FOR_VERDICT: Final[Mapping[Verdict, str]] = {
    "ready": READY,
    "waiting": PENDING,
    "blocked": BLOCKED,
}


class Wait(NamedTuple):
    """One unmet requirement of a task.

    For `requires`: `key` is the dependency's status key, `expected` is `complete` and
    `current` its status (None when it has none). For `when`: `key` is the condition's key,
    `expected` the condition as written and `current` the key's value (None when absent).
    `reason` is what was found, in a few words (`status is in_progress`, `is 600`, `missing`).
    """

    kind: WaitKind
    key: str
    expected: str
    current: Any
    reason: str


class Readiness(NamedTuple):
    """The verdict on a task: ready, waiting (with what it waits for) or blocked.

    `blocked_by` holds the ids of hard dependencies whose status is failed; `waits` lists
    every unmet requirement, including those failed dependencies.
    """

    verdict: Verdict
    waits: tuple[Wait, ...]
    blocked_by: tuple[str, ...]


def keys_of(spec: TaskSpec) -> set[str]:
    """Every key `assess` and `evaluate_gates` read: dependency statuses and condition keys."""
    keys = {status_key(spec.phase, dep) for dep in spec.requires}
    for cond in (*spec.when, *spec.gates):
        keys.add(cond.key)
    return keys


def assess(spec: TaskSpec, values: Mapping[str, Any]) -> Readiness:
    """Judge whether `spec` may start, given the current value of every key in `keys_of(spec)`.

    A key missing from `values` is absent from the store. A failed hard dependency blocks the
    task; `optional` dependencies are never consulted.
    """
    waits: list[Wait] = []
    blocked_by: list[str] = []
    for dep in spec.requires:
        key = status_key(spec.phase, dep)
        current = values.get(key)
        if current == COMPLETE:
            continue
        if current == FAILED:
            blocked_by.append(task_id(spec.phase, dep))
        reason = "status missing" if key not in values else f"status is {_status_text(current)}"
        waits.append(Wait("requires", key, COMPLETE, current, reason))
    for result in _evaluate(spec.when, values):
        if not result.holds:
            cond = result.condition
            waits.append(Wait("when", cond.key, cond.text, result.current, result.observed))
    verdict: Verdict = "blocked" if blocked_by else "waiting" if waits else "ready"
    return Readiness(verdict, tuple(waits), tuple(blocked_by))


def evaluate_gates(spec: TaskSpec, values: Mapping[str, Any]) -> tuple[ConditionResult, ...]:
    """Evaluate the task's gates against current values (a missing key is absent)."""
    return tuple(_evaluate(spec.gates, values))


def gates_pass(results: Iterable[ConditionResult]) -> bool:
    """True when every gate holds (a task without gates passes)."""
    return all(result.holds for result in results)


def gate_failures_of(results: Iterable[ConditionResult]) -> tuple[str, ...]:
    """One line per failed gate: the gate as written and what was found."""
    return tuple(f"{r.condition.text}: {r.observed}" for r in results if not r.holds)


def next_status(
    current_status: str | None,
    readiness: Readiness,
    blocked_reason_kind: BlockedReason | None = None,
) -> str | None:
    """The status the daemon should write for a task, or None to leave it as it is.

    - no status or `pending`: ready -> `ready`, blocked -> `blocked`; no status and waiting
      -> `pending` (every task gets a status); `pending` and waiting -> no change;
    - `ready`: blocked -> `blocked`; waiting -> `pending` (a requirement was reopened);
    - `blocked`: moved only when `blocked_reason_kind` is `"dependency"` (the daemon blocked
      it for a failed dependency) and no dependency has failed any more: ready -> `ready`,
      waiting -> `pending` (the dependency is being retried). A task blocked by its gates
      (`"gates"`) or for an unknown reason (None) is left to the operator;
    - `in_progress`, `complete`, `failed` and any status this module does not know: no change.
    """
    movable = current_status in {None, PENDING, READY} or (
        current_status == BLOCKED and blocked_reason_kind == "dependency"
    )
    if not movable:
        return None
    # Once a status may move at all, the verdict alone decides where it goes.
    target = _STATUS_FOR_VERDICT[readiness.verdict]
    return None if target == current_status else target


def deadline_at(ready_at: float, spec: TaskSpec) -> float | None:
    """When the task is due: `ready_at` plus its deadline, or None when it has no deadline."""
    return None if spec.deadline is None else ready_at + spec.deadline


def is_overdue(
    spec: TaskSpec, status: str | None, ready_at: float | None, now: float, escalated: bool
) -> bool:
    """True when the task should be escalated now: due, not complete, not yet escalated.

    Passing `escalated` makes this fire once per task rather than on every check.
    """
    if escalated or status == COMPLETE or ready_at is None:
        return False
    due = deadline_at(ready_at, spec)
    return due is not None and now >= due


def describe_wait(w: Wait) -> str:
    """One line for a person about a wait.

    E.g. `requires code_quality: status is in_progress (needs complete)`.
    """
    if w.kind == "requires":
        # A status key is `<phase>/<task>/status`, and phase and task are single segments.
        name = w.key.split("/")[1]
        return f"requires {name}: {w.reason} (needs {w.expected})"
    return f"when {w.expected}: {w.reason}"


def _evaluate(conditions: Iterable[Condition], values: Mapping[str, Any]) -> list[ConditionResult]:
    return [evaluate_condition(c, c.key in values, values.get(c.key)) for c in conditions]


def _status_text(status: Any) -> str:
    # Statuses are plain words; anything else (a number, an object) is shown as a value.
    return status if isinstance(status, str) and status in STATUSES else format_value(status)
