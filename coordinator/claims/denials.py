"""Refused edits: how often each agent was refused each path, and the `edit_refused` events.

An edit refused because another agent holds the file (`pre-edit`, an adapter's edit or
shell command, the MCP tool claim_files) is counted on one record per (agent, path),
`swarm/denials/<path-hash>/<agent>`: how many refusals, the first and the last, who was
in the way. The event log gets one `edit_refused` per (agent, path) per
`SWARM_DENIAL_WINDOW` seconds, carrying the count, so that an agent retrying a held file
does not flood it while the count stays exact. `next_denial` (the rate limit) and
`denial_summary` (what the views show) are pure; `record_denial` is the small write made
after a refusal, which can never turn the refusal into another error.

A refused commit (the git guard) is not counted here: the edit it carries was made already.
Only a refusal pays for any of this: a granted claim neither imports this module nor reads
or writes a record of it.
"""

from __future__ import annotations

from coordinator import layout
from coordinator.claims.grants import path_hash
from coordinator.claims.paths import shown_path
from coordinator.state import encode, event_op
from memory.errors import SwarmError
from memory.records import Compare, Put, Record
from memory.settings import env_seconds
from memory.store import Store
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Collection, Iterable
    from typing import Any

    from coordinator.errors import ClaimHeld

#: At most one `edit_refused` event per (agent, path) in this many seconds, by default.
DEFAULT_DENIAL_WINDOW = 300.0
#: Tries of the compare-and-set that counts a refusal, when other refusals race it.
RECORD_ATTEMPTS = 20


def denial_window() -> float:
    """`SWARM_DENIAL_WINDOW` seconds, default 5 minutes (0: an event for every refusal)."""
    return env_seconds("SWARM_DENIAL_WINDOW", DEFAULT_DENIAL_WINDOW)


def denial_key(path: str, agent: str) -> str:
    """The key of the record of `agent`'s refusals on `path`."""
    return f"{layout.DENIALS}{path_hash(path)}/{agent}"


class Refusal(NamedTuple):
    """One refused claim: who wanted which path for which task, and who was in the way."""

    path: str
    agent: str
    task: str | None = None
    holder: str | None = None
    holder_task: str | None = None


class Denial(NamedTuple):
    """The refusals of one agent's claims on one path: how many, when, who was in the way
    the last time, and which of them the event log has seen."""

    path: str
    agent: str
    refusals: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    #: The refused agent's task, the agent in the way and its task, at the last refusal.
    task: str | None = None
    holder: str | None = None
    holder_task: str | None = None
    #: When the last `edit_refused` event was written, and the refusals counted by then.
    logged_at: float | None = None
    logged_refusals: int = 0

    @classmethod
    def from_record(cls, record: Record) -> Denial:
        """Parse a stored record; a field missing or of the wrong type takes its default,
        so that a record written by hand cannot break the next refusal."""
        data = record.value if isinstance(record.value, dict) else {}

        def number(name: str, default: Any) -> Any:
            value = data.get(name)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return value if ok else default

        def text(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) else None

        return cls(
            path=text("path") or "",
            agent=text("agent") or "",
            refusals=int(number("refusals", 0)),
            first_at=float(number("first_at", 0.0)),
            last_at=float(number("last_at", 0.0)),
            task=text("task"),
            holder=text("holder"),
            holder_task=text("holder_task"),
            logged_at=number("logged_at", None),
            logged_refusals=int(number("logged_refusals", 0)),
        )

    def to_json(self) -> dict[str, Any]:
        """The record as stored."""
        return self._asdict()


def next_denial(
    previous: Denial | None, refusal: Refusal, now: float, window: float
) -> tuple[Denial, bool]:
    """The record after one more refusal, and whether that refusal is logged as an event:
    the first one is, then the first one `window` seconds or more after the last logged
    (or before it: a clock that went back). Pure."""
    base = previous or Denial(refusal.path, refusal.agent, first_at=now)
    logged_at = base.logged_at
    due = logged_at is None or not logged_at <= now < logged_at + window
    denial = base._replace(
        refusals=base.refusals + 1,
        last_at=now,
        task=refusal.task,
        holder=refusal.holder,
        holder_task=refusal.holder_task,
    )
    if due:
        denial = denial._replace(logged_at=now, logged_refusals=denial.refusals)
    return denial, due


def denial_event(denial: Denial, previous: Denial | None) -> Put:
    """The `edit_refused` event of a logged refusal: the total count so far, and how many
    refusals since the event before it went unlogged."""
    unlogged = denial.refusals - 1 - (previous.logged_refusals if previous else 0)
    holder = f" held by {denial.holder}" if denial.holder else ""
    return event_op(
        "edit_refused",
        denial.last_at,
        task=denial.task,
        agent=denial.agent,
        message=f"{shown_path(denial.path)}{holder}",
        path=denial.path,
        holder=denial.holder,
        holder_task=denial.holder_task,
        count=denial.refusals,
        unlogged=unlogged,
    )


def record_denial(
    store: Store, path: str, agent: str, task: str | None, refused: ClaimHeld
) -> bool:
    """Count `agent`'s refused claim on `path` (logging it once per window) in one
    transaction of its own, after the refusal. True when recorded; a failure to record
    is ignored (False), so that the refusal is answered exactly as it would be without."""
    refusal = Refusal(path, agent, task, refused.holder, refused.holder_task)
    try:
        window = denial_window()
        key = denial_key(path, agent)
        for _ in range(RECORD_ATTEMPTS):
            record = store.get(key)
            previous = None if record is None else Denial.from_record(record)
            denial, logged = next_denial(previous, refusal, store.clock(), window)
            ops = [Put(key, encode(denial.to_json()))]
            if logged:
                ops.append(denial_event(denial, previous))
            if store.txn([Compare.unchanged(key, record)], ops).succeeded:
                return True
    # Not recording must not change the answer: a store that cannot be written (read-only,
    # locked past its timeout) or a bad SWARM_DENIAL_WINDOW leaves the refusal as it is.
    except (SwarmError, OSError):
        return False
    return False


def read_denials(store: Store) -> list[Denial]:
    """Every record of refused claims."""
    return [Denial.from_record(r) for r in store.list_prefix(layout.DENIALS)]


def denial_summary(
    denials: Iterable[Denial], phases: Collection[str] | None = None
) -> dict[str, Any]:
    """The refused edits as the views show them (pure): the total, and per path (most
    refused first) the count, the agents refused with their counts, and who was in the
    way. With `phases`, only refusals whose task (the refused agent's, else the holder's)
    is in one of them, or that have no task."""
    by_path: dict[str, dict[str, Any]] = {}
    for denial in denials:
        task = denial.task or denial.holder_task
        if phases is not None and task and "/" in task and task.split("/")[0] not in phases:
            continue
        entry = by_path.setdefault(
            denial.path,
            {"path": shown_path(denial.path), "count": 0, "agents": {}, "holders": set()},
        )
        entry["count"] += denial.refusals
        entry["agents"][denial.agent] = entry["agents"].get(denial.agent, 0) + denial.refusals
        if denial.holder:
            entry["holders"].add(denial.holder)
    rows = sorted(by_path.values(), key=lambda e: (-e["count"], e["path"]))
    for row in rows:
        row["agents"] = dict(sorted(row["agents"].items()))
        row["holders"] = sorted(row["holders"])
    return {"total": sum(row["count"] for row in rows), "by_path": rows}
