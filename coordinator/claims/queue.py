"""Waiting for a claim: the queue of `pre-edit --wait` requests, and claiming many paths.

A waiting request is a key under `swarm/claim-queue/` with a lease a little longer than the
wait, so that the request of a waiter that died lapses instead of blocking the file.
`grant_claim` (`coordinator.claims.grants`) grants in queue order; `acquire_claim` queues
and waits (and counts a refusal, `coordinator.claims.denials`), `grant_queued` is the
daemon's pass over the queue and `claim_paths` claims several paths all or nothing. This
module builds on `coordinator.claims.grants`, never the other way round.
"""

from __future__ import annotations

from coordinator import layout
from coordinator.claims.grants import Grant, Request, grant_claim, queued_requests, release_claims
from coordinator.errors import ClaimHeld
from coordinator.state import encode, event_op, notify_ops
from memory.errors import SwarmError
from memory.records import Delete, Put
from memory.store import Store

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable

    from coordinator.claims.grants import Mode

#: A queued request outlives the wait it was made for by this many seconds, then lapses.
QUEUE_LEASE_MARGIN = 5.0


def queue_lease(wait: float) -> float:
    """The lease of the queue entry of a `pre-edit --wait` of `wait` seconds: the wait and a
    margin, so that the request of a waiter that died lapses instead of blocking the file."""
    return max(wait, 0.0) + QUEUE_LEASE_MARGIN


def enqueue(
    store: Store, path: str, agent: str, task: str | None, mode: Mode, *, lease: float
) -> str:
    """Queue a claim request (pre-edit --wait) that lapses after `lease` seconds unless
    granted or withdrawn first; return its queue key."""
    if not lease > 0:
        raise SwarmError(f"a queued claim request needs a positive lease, not {lease}")
    now = store.clock()
    key = f"{layout.CLAIM_QUEUE}{layout.unique_suffix(now)}-{agent}"
    request = Request(path, agent, mode, task, now)
    data = request._asdict()
    data.pop("key")
    store.txn(
        [],
        [
            Put(key, encode(data), lease),
            event_op("claim_queued", now, task=task, agent=agent, message=path, mode=mode),
        ],
    )
    return key


def withdraw(store: Store, queue_key: str) -> bool:
    """Drop a queued request (a --wait that ended ungranted). False when it was no longer
    queued: a grant consumed it (or its lease ran out)."""
    return store.txn([], [Delete(queue_key)]).results[0] is not None


def grant_queued(store: Store) -> list[Grant]:
    """Grant queued requests, oldest first, as far as their blockers allow; notify each
    agent granted. The daemon runs this whenever claims or the queue change."""
    granted = []
    for request in queued_requests(store):
        try:
            grant = grant_claim(
                store,
                request.path,
                request.agent,
                task=request.task,
                mode=request.mode,
                queue_key=request.key,
            )
        except ClaimHeld:
            continue
        now = store.clock()
        store.txn(
            [],
            notify_ops(
                request.agent,
                f"your queued claim on {request.path} was granted "
                f"(fencing token {grant.claim.token})",
                now,
                sender="swarm-daemon",
                task=request.task,
            ),
        )
        granted.append(grant)
    return granted


def acquire_claim(
    store: Store,
    path: str,
    agent: str,
    *,
    task: str | None = None,
    mode: Mode = "exclusive",
    wait: float | None = None,
) -> Grant:
    """`grant_claim`, or with `wait` seconds, queue fairly for the claim and wait for it
    (woken by every change to the store); ClaimHeld when the wait runs out. The grant's
    `renewed` is True only when the agent already held the claim before asking. A
    refusal is counted (`coordinator.claims.denials`) before it is raised."""
    try:
        return _acquire(store, path, agent, task, mode, wait)
    except ClaimHeld as refused:
        # Only a refusal pays: a grant imports, reads and writes nothing more.
        from coordinator.claims.denials import record_denial

        record_denial(store, path, agent, task, refused)
        raise


def _acquire(
    store: Store, path: str, agent: str, task: str | None, mode: Mode, wait: float | None
) -> Grant:
    if wait is None:
        return grant_claim(store, path, agent, task=task, mode=mode)
    from memory.watch import retry_until

    before = store.revision()
    queue_key = enqueue(store, path, agent, task, mode, lease=queue_lease(wait))
    settled = False  # granted (a grant consumes the queue entry), or withdrawn
    try:
        grant = retry_until(
            store.path,
            wait,
            lambda: grant_claim(store, path, agent, task=task, mode=mode, queue_key=queue_key),
            ClaimHeld,
        )
        settled = True
    except ClaimHeld:
        settled = True
        # A grant deletes the entry in its own transaction, so an entry this withdrawal
        # finds gone was granted (by the daemon) as the wait ran out: report that grant.
        if withdraw(store, queue_key):
            raise
        grant = grant_claim(store, path, agent, task=task, mode=mode)
    finally:
        if not settled:
            withdraw(store, queue_key)
    # A claim created after the request was queued was granted to this wait, even when
    # the daemon made it and this call only renewed it.
    return grant._replace(renewed=grant.renewed and grant.claim.token <= before)


def claim_paths(
    store: Store,
    paths: Iterable[str],
    agent: str,
    *,
    task: str | None = None,
    mode: Mode = "exclusive",
    wait: float | None = None,
) -> list[Grant]:
    """Claim every path (normalised paths or globs) for `agent`, in order, all or nothing:
    when one is refused, the claims this call newly granted are released again and the
    refusal is raised. `wait` is the time to wait for each path in turn."""
    grants: list[Grant] = []
    try:
        for path in paths:
            grants.append(acquire_claim(store, path, agent, task=task, mode=mode, wait=wait))
    except SwarmError:
        for grant in grants:
            if not grant.renewed:
                release_claims(store, path=grant.claim.path, agent=agent, actor=agent, force=False)
        raise
    return grants
