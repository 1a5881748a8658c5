"""The coordinator's records (task runs, events, notifications, agents) and the store
operations that write them. Pure: they take `now` and return values or operations."""

from __future__ import annotations

import json

from coordinator import layout
from memory.records import Put
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from typing import Any, Literal

    Level = Literal["info", "warn", "error"]

EVENT_TYPES = frozenset(
    {
        "task_ready",
        "task_started",
        "task_completed",
        "task_failed",
        "task_blocked",
        "task_pending",
        "task_stalled",
        "gate_failed",
        "escalated",
        "agent_started",
        "agent_ended",
        "agent_stale",
        "agent_spawned",
        "agent_gone",
        "agent_adopted",
        "task_retry_scheduled",
        "task_retried",
        "task_reset",
        "task_cancelled",
        "task_skipped",
        "progress",
        "notification",
        "plan_loaded",
        "claim_granted",
        "claim_released",
        "claim_queued",
        "edit_refused",
        "conflict",
        "conflict_resolved",
        "observation",
        "worktree_created",
        "worktree_removed",
    }
)


def encode(value: Any) -> str:
    """Compact JSON, the way the store keeps values."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# These records are NamedTuples rather than dataclasses: every hook process builds them,
# and defining a dataclass costs more at start-up than a hook's own work (./scripts/bench).


def _from_dict(cls: Any, data: Any) -> Any:
    """Build record `cls` from a JSON object, ignoring unknown fields (forward-compatible)."""
    if not isinstance(data, dict):
        return cls()
    return cls(**{k: v for k, v in data.items() if k in cls._fields})


class TaskRun(NamedTuple):
    """What happened to a task so far: who runs it, when it became ready, started, ended."""

    agent: str | None = None
    session: str | None = None
    ready_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    reason: str | None = None
    blocked_kind: str | None = None
    escalated_at: float | None = None
    stalled: bool = False
    pid: int | None = None
    exit_code: int | None = None
    #: The metrics of this attempt's post-task (also in the receipt and under the task's keys).
    metrics: dict[str, Any] | None = None
    #: The number of the current (or last) attempt; 0 before the first.
    attempt: int = 0
    #: The current attempt has begun (spawned or pre-task) and not ended.
    live: bool = False
    #: When the process `pid` started (ticks since boot): a reused pid is told apart.
    pid_start: int | None = None
    #: The start token the daemon gave the agent it spawned for this attempt.
    token: str | None = None
    #: A retry is due at this time (the task is `ready` and waits for it).
    retry_at: float | None = None
    #: The attempt number from which the plan's `retries` are counted (an operator's
    #: `swarm task retry` gives the task a fresh budget).
    retry_base: int = 0
    #: Why the daemon holds a ready task back (files overlap, --max-agents, a retry).
    held: str | None = None
    #: The start-within escalation was made for this readiness.
    start_escalated_at: float | None = None
    #: An operator skipped the task: complete for its dependents, shown as skipped.
    skipped: bool = False
    #: The gates that refused this attempt's post-task, each with what was found.
    gate_failures: tuple[str, ...] = ()
    #: Why this attempt is a retry: how the one before it ended (the daemon gives it to
    #: the agent it starts as SWARM_RETRY_REASON and in its inbox).
    retry_reason: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> TaskRun:
        """Parse a stored run record (missing or malformed: an empty one)."""
        run: TaskRun = _from_dict(cls, data)
        return run._replace(gate_failures=tuple(run.gate_failures)) if run.gate_failures else run

    def to_json(self) -> dict[str, Any]:
        """The record as stored."""
        return {**self._asdict(), "gate_failures": list(self.gate_failures)}


class Progress(NamedTuple):
    """An agent's latest progress report on a task."""

    done: int = 0
    total: int = 0
    blocker: str | None = None
    milestone: str | None = None
    ts: float = 0.0
    agent: str | None = None
    #: The plan's deliverables ticked so far (`progress --done ITEM`), in plan order.
    ticked: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Any) -> Progress:
        """Parse a stored progress record."""
        progress: Progress = _from_dict(cls, data)
        return progress._replace(ticked=tuple(progress.ticked or ()))

    def to_json(self) -> dict[str, Any]:
        """The record as stored."""
        return {**self._asdict(), "ticked": list(self.ticked)}

    @property
    def percent(self) -> int:
        """Done as a whole percentage of total (0 when total is 0)."""
        return int(100 * self.done / self.total) if self.total else 0


class Event(NamedTuple):
    """A typed entry of the event log."""

    type: str
    ts: float
    task: str | None
    agent: str | None
    message: str
    data: dict[str, Any]

    @classmethod
    def from_json(cls, data: Any) -> Event:
        """Parse a stored event (a malformed one reads as type `unknown`)."""
        if not isinstance(data, dict) or "type" not in data:
            return Event("unknown", 0.0, None, None, "", {})
        values: dict[str, Any] = {"task": None, "agent": None, "message": "", "data": {}}
        values.update({k: v for k, v in data.items() if k in cls._fields})
        values.setdefault("ts", 0.0)
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """The event as stored and as `swarm events --json` prints it."""
        return self._asdict()


class Notification(NamedTuple):
    """A message in an agent's inbox."""

    message: str
    ts: float
    level: str = "info"
    sender: str | None = None
    task: str | None = None
    read: bool = False

    @classmethod
    def from_json(cls, data: Any) -> Notification:
        """Parse a stored notification."""
        if not isinstance(data, dict) or "message" not in data:
            return Notification("(malformed notification)", 0.0)
        return _from_dict(cls, data)  # type: ignore[no-any-return]

    def to_json(self) -> dict[str, Any]:
        """The notification as stored."""
        return self._asdict()


class Agent(NamedTuple):
    """A registered agent; its key is a lease renewed by every hook call it makes."""

    name: str
    session: str | None = None
    started_at: float = 0.0
    branch: str | None = None
    worktree: str | None = None
    pid: int | None = None
    #: The agent's client process (pid and start time), recorded by its hooks: the MCP
    #: server that client started finds its agent by it (coordinator.agents.identity).
    client_pid: int | None = None
    client_started: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> Agent:
        """Parse a stored agent record."""
        return _from_dict(cls, data)  # type: ignore[no-any-return]

    def to_json(self) -> dict[str, Any]:
        """The record as stored."""
        return self._asdict()


def event_op(
    type_: str,
    now: float,
    *,
    task: str | None = None,
    agent: str | None = None,
    message: str = "",
    **data: Any,
) -> Put:
    """The write that appends one typed event to the event log."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_}")
    event = Event(type_, now, task, agent, message, data)
    return Put(layout.event_key(now), encode(event.to_json()))


def notify_ops(
    to: str,
    message: str,
    now: float,
    *,
    level: str = "info",
    sender: str | None = None,
    task: str | None = None,
) -> list[Put]:
    """Deliver `message` to `to`'s inbox, and log a `notification` event."""
    note = Notification(message, now, level, sender, task)
    return [
        Put(layout.inbox_key(to, now), encode(note.to_json())),
        event_op("notification", now, task=task, agent=to, message=message, level=level),
    ]


def status_op(task_id: str, status: str) -> Put:
    """Set a task's status key."""
    return Put(layout.status_key(task_id), encode(status))


def run_op(task_id: str, run: TaskRun) -> Put:
    """Write a task's run record."""
    return Put(layout.run_key(task_id), encode(run.to_json()))


def gate_block_ops(
    task_id: str, agent: str | None, failures: tuple[str, ...], now: float
) -> tuple[str, list[Put]]:
    """A task reported complete whose gates failed: the block reason, and the events and
    notification that say so (the caller writes the status and run record)."""
    reason = "gate failed: " + "; ".join(failures)
    ops = [
        event_op(
            "gate_failed", now, task=task_id, agent=agent, message=reason, gates=list(failures)
        ),
        event_op("task_blocked", now, task=task_id, message=reason),
    ]
    if agent:
        ops += notify_ops(
            agent, f"task {task_id} is blocked: {reason}", now, level="warn", task=task_id
        )
    return reason, ops
