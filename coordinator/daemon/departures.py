"""Agents that are gone: one that died before its post-task, or whose liveness lease
ran out, lets go of everything it held at once, in the transaction that records why."""

from __future__ import annotations

from collections.abc import Sequence

from coordinator import layout
from coordinator.claims.grants import EPOCH_KEY, MAX_ATTEMPTS, release_ops
from coordinator.state import encode, event_op
from memory.errors import Refused
from memory.records import Compare, Delete, Put, WriteOp
from memory.store import Store


def let_go_ops(store: Store, agent: str, reason: str, now: float) -> list[WriteOp]:
    """The writes that release every claim and queued request of `agent` (queued requests
    of others are then granted by the daemon, in order), drop its registration (no more
    broadcasts) and record it as gone with an `agent_gone` event."""
    return [
        *release_ops(store, agent, "", now),
        Delete(layout.agent_key(agent)),
        Delete(layout.agent_task_key(agent)),
        Put(layout.gone_key(agent), encode({"agent": agent, "reason": reason, "at": now})),
        event_op("agent_gone", now, agent=agent, message=reason),
    ]


def commit_letting_go(
    store: Store,
    *,
    agent: str,
    reason: str,
    guards: Sequence[Compare],
    ops: Sequence[WriteOp],
    now: float,
) -> bool:
    """Commit `ops` under `guards` together with `agent` letting go of what it held, in
    one transaction. False when a guard failed (the task moved on meanwhile)."""
    for _ in range(MAX_ATTEMPTS):
        epoch = store.get(EPOCH_KEY)
        epoch_guard = Compare.unchanged(EPOCH_KEY, epoch)
        letting_go = let_go_ops(store, agent, reason, now)
        if store.txn([*guards, epoch_guard], [*ops, *letting_go]).succeeded:
            return True
        if not all(_holds(store, guard) for guard in guards):
            return False
    raise Refused(f"claims kept changing while releasing those of agent {agent}")


def _holds(store: Store, guard: Compare) -> bool:
    """Whether one guard still holds (an empty transaction tests it)."""
    return store.txn([guard], []).succeeded
