"""Conflict and observation records: raising a conflict once, listing, resolving.

A conflict is a record under `swarm/conflicts/` with an id of its own (`swarm/conflict-ids`
holds the last one given, so ids are unique even among the conflicts one transaction
raises). Raising is idempotent while the conflict is open: `swarm/open-conflicts/<digest>`
points from a conflict's identity (`conflict_rules.conflict_identity`) to its open record,
and raising it again adds a sighting to that record, with no event and no notice (an open
record from before the pointers is found by reading the open conflicts, and pointed to
from then on); only a new conflict logs a `conflict` event and notifies every agent
involved. Resolution (`swarm conflicts resolve ID --keep A`) closes the record, so that
the same conflict raised later is new. An observation (a write with no second writer) is
one record per path under `swarm/observations/`, counted the same way, with one
`observation` event.
"""

from __future__ import annotations

from coordinator import layout
from coordinator.claims.conflict_rules import (
    conflict_identity,
    identity_digest,
    new_conflict,
    observed,
    seen_again,
)
from coordinator.claims.grants import path_hash
from coordinator.state import encode, event_op, notify_ops
from memory.errors import Refused, SwarmError
from memory.records import Compare, Delete, Put, Record, WriteOp
from memory.store import Store
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

#: The last conflict id handed out (ids are unique, also between conflicts one
#: transaction records; conflicts recorded before this counter existed keep the
#: revision that recorded them as their id).
CONFLICT_IDS = f"{layout.ROOT}/conflict-ids"

#: Attempts at a conflict transaction before giving up (each one lost to a rival writer).
ATTEMPTS = 20


class RaisedConflict(NamedTuple):
    """A conflict to record: what kind, on which file, between whom, in one line."""

    kind: str
    path: str
    agents: tuple[str, ...]
    description: str
    #: More fields of the record (a merge's `files` and `branches`).
    extra: dict[str, Any] | None = None

    def record(self, now: float) -> dict[str, Any]:
        """The record of this conflict seen first at `now`."""
        extra = self.extra or {}
        return new_conflict(self.kind, self.path, self.agents, self.description, now, **extra)


class Conflict(NamedTuple):
    """A recorded conflict and its id (the revision that recorded it)."""

    id: int
    key: str
    data: dict[str, Any]

    @classmethod
    def from_record(cls, record: Record) -> Conflict:
        """Build from the stored record."""
        data = record.value if isinstance(record.value, dict) else {}
        given = data.get("id")
        return cls(given if isinstance(given, int) else record.create_rev, record.key, data)

    def to_json(self) -> dict[str, Any]:
        """The conflict as `swarm conflicts --json` prints it."""
        return {"id": self.id, **self.data}


class Raised(NamedTuple):
    """A raised conflict as recorded: new (with an event and notices) or seen again."""

    conflict: Conflict
    new: bool


def open_conflict_key(identity: tuple[str, ...]) -> str:
    """Where the pointer to the open conflict of one identity lives."""
    return f"{layout.OPEN_CONFLICTS}{identity_digest(identity)}"


def _open_record(store: Store, pointer: Record | None, identity: tuple[str, ...]) -> Record | None:
    """The open conflict `pointer` leads to, if it is still open and still that conflict
    (a record resolved, deleted or rewritten by hand is not)."""
    if pointer is None or not isinstance(pointer.value, dict):
        return None
    record = store.get(str(pointer.value.get("key")))
    if record is None or not isinstance(record.value, dict) or record.value.get("resolved"):
        return None
    return record if conflict_identity(record.value) == identity else None


def raise_conflicts(
    store: Store, raised: Iterable[RaisedConflict], now: float, ops: Iterable[WriteOp] = ()
) -> list[Raised]:
    """Commit `ops` and record each of `raised` in one transaction: a conflict already open
    gets one more sighting; a new one an id, a `conflict` event and a notice to each agent
    involved. One outcome per conflict raised, in order; the same conflict twice in
    `raised` is one sighting (the second is not new)."""
    wanted = [(conflict_identity(c.record(now)), c) for c in raised]
    for _ in range(ATTEMPTS):
        counter = store.get(CONFLICT_IDS)
        last = counter.value if counter is not None and isinstance(counter.value, int) else None
        if last is None:
            # Above every id given so far: the revisions that recorded earlier conflicts.
            last = store.revision()
        first = last
        guards = [Compare.unchanged(CONFLICT_IDS, counter)]
        writes: list[WriteOp] = list(ops)
        done: dict[tuple[str, ...], Conflict] = {}
        unindexed: dict[tuple[str, ...], Record] | None = None
        outcomes: list[Raised] = []
        for identity, conflict in wanted:
            if identity in done:
                outcomes.append(Raised(done[identity], False))
                continue
            index = open_conflict_key(identity)
            pointer = store.get(index)
            guards.append(Compare.unchanged(index, pointer))
            current = _open_record(store, pointer, identity)
            if current is None and pointer is None:
                if unindexed is None:
                    unindexed = _unindexed_open_conflicts(store)
                current = unindexed.get(identity)
                if current is not None:  # from before the pointers: point to it from now on
                    pointer_value = {"key": current.key, "id": Conflict.from_record(current).id}
                    writes.append(Put(index, encode(pointer_value)))
            if current is not None:
                guards.append(Compare.unchanged(current.key, current))
                data = seen_again(current.value, now)
                writes.append(Put(current.key, encode(data)))
                done[identity] = Conflict.from_record(current)._replace(data=data)
                outcomes.append(Raised(done[identity], False))
                continue
            last += 1
            key = f"{layout.CONFLICTS}{layout.unique_suffix(now)}"
            data = {**conflict.record(now), "id": last}
            writes += _new_conflict_ops(key, data, index, now)
            done[identity] = Conflict(last, key, data)
            outcomes.append(Raised(done[identity], True))
        if last != first:
            writes.append(Put(CONFLICT_IDS, encode(last)))
        if store.txn(guards, writes).succeeded:
            return outcomes
    raise Refused("conflict records kept changing; try again")


def _unindexed_open_conflicts(store: Store) -> dict[tuple[str, ...], Record]:
    """The open conflicts by identity (the oldest of each), for those no pointer leads to:
    recorded before `swarm/open-conflicts/` existed. Read only when a conflict has no
    pointer, that is when it is about to be recorded anew."""
    found: dict[tuple[str, ...], Record] = {}
    records = store.list_prefix(layout.CONFLICTS)
    for record in sorted(records, key=lambda r: Conflict.from_record(r).id):
        value = record.value
        if isinstance(value, dict) and not value.get("resolved"):
            found.setdefault(conflict_identity(value), record)
    return found


def _new_conflict_ops(key: str, data: dict[str, Any], index: str, now: float) -> list[WriteOp]:
    """Record a new conflict and its pointer, log a `conflict` event, notify its agents."""
    description, kind, path = data["description"], data["kind"], data["path"]
    agents = list(data["agents"])
    ops: list[WriteOp] = [
        Put(key, encode(data)),
        Put(index, encode({"key": key, "id": data["id"]})),
        event_op("conflict", now, message=description, path=path, kind=kind, agents=agents),
    ]
    for agent in sorted(set(agents)):
        ops.extend(notify_ops(agent, f"conflict: {description}", now, level="warn"))
    return ops


def list_conflicts(store: Store, *, open_only: bool = False) -> list[Conflict]:
    """Every recorded conflict (only unresolved ones with `open_only`), oldest first."""
    conflicts = [Conflict.from_record(r) for r in store.list_prefix(layout.CONFLICTS)]
    conflicts.sort(key=lambda c: c.id)
    return [c for c in conflicts if not (open_only and c.data.get("resolved"))]


def resolve_conflict(store: Store, conflict_id: int, keep: str, by: str | None) -> Conflict:
    """Record the decision on a conflict and notify the agents involved; the conflict is
    closed, so raising it again records a new one."""
    for _ in range(ATTEMPTS):
        match = [c for c in list_conflicts(store) if c.id == conflict_id]
        if not match:
            raise SwarmError(f"no conflict #{conflict_id}; see `swarm conflicts`")
        conflict = match[0]
        if conflict.data.get("resolved"):
            raise SwarmError(f"conflict #{conflict_id} is already resolved")
        now = store.clock()
        data = {
            **conflict.data,
            "resolved": True,
            "resolution": {"keep": keep, "by": by, "at": now},
        }
        message = f"conflict #{conflict_id} on {data.get('path')} resolved: keep {keep}'s work"
        ops: list[WriteOp] = [
            Put(conflict.key, encode(data)),
            event_op("conflict_resolved", now, agent=keep, message=message, conflict=conflict_id),
        ]
        index = open_conflict_key(conflict_identity(conflict.data))
        pointer = store.get(index)
        if (
            pointer is not None
            and isinstance(pointer.value, dict)
            and (pointer.value.get("key") == conflict.key)
        ):
            ops.append(Delete(index))
        for agent in sorted(set(data.get("agents") or [])):
            ops.extend(notify_ops(agent, message, now, sender=by))
        # A sighting recorded meanwhile is kept: the resolution is written over this record.
        guards = [Compare.unchanged(conflict.key, store.get(conflict.key))]
        if store.txn(guards, ops).succeeded:
            return Conflict(conflict.id, conflict.key, data)
    raise Refused("conflict records kept changing; try again")


def observation_key(path: str) -> str:
    """Where the observation of one file lives."""
    return f"{layout.OBSERVATIONS}{path_hash(path)}"


def record_observation(
    store: Store, path: str, now: float, *, sha256: str | None
) -> dict[str, Any]:
    """One more unannounced write to `path`, which has no other writer: count it on the
    path's observation (logging an `observation` event the first time only)."""
    key = observation_key(path)
    for _ in range(ATTEMPTS):
        current = store.get(key)
        before = current.value if current is not None and isinstance(current.value, dict) else None
        data = observed(before, path, now, sha256=sha256)
        ops: list[WriteOp] = [Put(key, encode(data))]
        if data["count"] == 1:
            ops.append(
                event_op(
                    "observation", now, message=data["description"], path=path, kind=data["kind"]
                )
            )
        if store.txn([Compare.unchanged(key, current)], ops).succeeded:
            return data
    raise Refused("observation records kept changing; try again")


def list_observations(store: Store) -> list[dict[str, Any]]:
    """Every observation, by path."""
    found = [r.value for r in store.list_prefix(layout.OBSERVATIONS) if isinstance(r.value, dict)]
    return sorted(found, key=lambda o: str(o.get("path")))
