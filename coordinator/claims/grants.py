"""File claims over the sync store: grant, renew, release.

A claim is a key `swarm/claims/<path-hash>/<agent>` whose value says which path (or glob)
an agent holds, in which mode, for which task; the key carries a TTL lease that the
holder's pre-edit and post-edit renew. Every grant is checked against all live claims
(`coordinator.claims.globs.claims_conflict`) and committed only if no claim was granted or
released in between: grants and releases bump `swarm/claims-epoch`, and a grant compares
it. The fencing token of a grant is the revision that created the claim key.

A new grant also yields to the conflicting requests queued before it (`Request`,
`queued_requests`, `blockers`); joining the queue and waiting in it is
`coordinator.claims.queue`, which builds on this module. Edits and conflicts are
`coordinator.claims.edits`.
"""

from __future__ import annotations

import os

from coordinator import layout
from coordinator.agents.liveness import renew_agent
from coordinator.claims.digests import sha1_hex
from coordinator.claims.globs import ClaimSpec, claims_conflict, glob_matches
from coordinator.claims.paths import shown_path
from coordinator.errors import ClaimHeld
from coordinator.state import encode, event_op, notify_ops
from memory.errors import Refused, SwarmError
from memory.keys import validate_key
from memory.records import Compare, Delete, Put, Record, Touch, WriteOp
from memory.store import Store
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, Literal

    from memory.locator import StrPath

    Mode = Literal["exclusive", "shared"]

#: How long a claim lives without a pre-edit or post-edit from its holder (seconds).
DEFAULT_CLAIM_TTL = 900.0
#: Two agents editing one file within this many seconds is a conflict.
DEFAULT_EDIT_WINDOW = 600.0
EPOCH_KEY = f"{layout.ROOT}/claims-epoch"
MAX_ATTEMPTS = 50


def claim_ttl() -> float:
    """`SWARM_CLAIM_TTL` seconds, default 15 minutes."""
    try:
        return float(os.environ.get("SWARM_CLAIM_TTL", DEFAULT_CLAIM_TTL))
    except ValueError:
        return DEFAULT_CLAIM_TTL


def path_hash(path: str) -> str:
    """A key segment standing for a path (paths may hold characters keys may not)."""
    return sha1_hex(path.encode())[:16]


def claim_key(path: str, agent: str) -> str:
    """The key of `agent`'s claim on `path`."""
    return f"{layout.CLAIMS}{path_hash(path)}/{agent}"


def check_agent_name(agent: str) -> str:
    """Agent names become key segments: letters, digits, `.`, `_`, `-`."""
    if "/" in agent:
        raise SwarmError(f"invalid agent name {agent!r}: it may not contain '/'")
    validate_key(agent)
    return agent


# --- paths -------------------------------------------------------------------------------


def normalize_path(repo_root: StrPath, path: str, cwd: StrPath | None = None) -> str:
    """A path or glob given to a command that takes a pattern (`pre-edit --file`, `swarm
    claims release`), relative to the repository root (`coordinator.claims.paths.pattern_path`)."""
    from coordinator.claims.paths import pattern_path

    return pattern_path(repo_root, path, cwd)


# --- claims ------------------------------------------------------------------------------


class Claim(NamedTuple):
    """A live claim: who holds which path or glob, how, for which task, since when."""

    path: str
    agent: str
    mode: Mode
    task: str | None
    granted_at: float
    token: int = 0
    expires_at: float | None = None
    renewed_at: float | None = None

    @classmethod
    def from_record(cls, record: Record) -> Claim:
        """Build a claim from its key's record; the token is the creating revision."""
        data = record.value if isinstance(record.value, dict) else {}
        return cls(
            path=str(data.get("path", "")),
            agent=str(data.get("agent", "")),
            mode="shared" if data.get("mode") == "shared" else "exclusive",
            task=data.get("task"),
            granted_at=float(data.get("granted_at", 0.0)),
            token=record.create_rev,
            expires_at=record.expires_at,
            renewed_at=data.get("renewed_at"),
        )

    def spec(self) -> ClaimSpec:
        """The claim as the pure conflict rule sees it."""
        return ClaimSpec(self.path, self.agent, self.mode)

    def to_json(self) -> dict[str, Any]:
        """The claim as `swarm claims --json` prints it."""
        return self._asdict()

    def stored(self) -> str:
        """The JSON stored under the claim key (token and expiry live in the record)."""
        data = self.to_json()
        for derived in ("token", "expires_at"):
            data.pop(derived)
        return encode(data)


def list_claims(store: Store) -> list[Claim]:
    """Every live claim."""
    return [Claim.from_record(r) for r in store.list_prefix(layout.CLAIMS)]


def holders_of(claims: Iterable[Claim], path: str) -> list[Claim]:
    """The claims whose path or glob covers the literal repository path `path`."""
    return [c for c in claims if c.path == path or glob_matches(c.path, path)]


def covering_claim(claims: Iterable[Claim], agent: str, path: str) -> Claim | None:
    """`agent`'s claim that covers `path` (equal, or a glob that matches it), if any."""
    for claim in claims:
        if claim.agent == agent and (claim.path == path or glob_matches(claim.path, path)):
            return claim
    return None


def renewable_claim(claims: Iterable[Claim], agent: str, path: str, mode: Mode) -> Claim | None:
    """The claim a pre-edit of `path` in `mode` by `agent` renews instead of a new grant:
    its claim on exactly `path` in that mode, else one of its globs covering `path` in it."""
    own = [c for c in claims if c.agent == agent and c.mode == mode]
    exact = next((c for c in own if c.path == path), None)
    return exact or next((c for c in own if glob_matches(c.path, path)), None)


class Grant(NamedTuple):
    """The outcome of a granted pre-edit."""

    claim: Claim
    renewed: bool


def _describe(claim: Claim) -> str:
    import time

    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(claim.granted_at))
    task = f" for task {claim.task}" if claim.task else ""
    return f"{shown_path(claim.path)} is held {claim.mode} by {claim.agent}{task} since {since}"


def _bump_epoch(record: Record | None) -> Put:
    return Put(EPOCH_KEY, encode((record.value if record else 0) + 1))


class Request(NamedTuple):
    """A queued pre-edit --wait: granted in order when what blocks it goes away."""

    path: str
    agent: str
    mode: Mode
    task: str | None
    requested_at: float
    key: str = ""

    @classmethod
    def from_record(cls, record: Record) -> Request:
        """Build a request from its queue record."""
        data = record.value if isinstance(record.value, dict) else {}
        return cls(
            str(data.get("path", "")),
            str(data.get("agent", "")),
            "shared" if data.get("mode") == "shared" else "exclusive",
            data.get("task"),
            float(data.get("requested_at", 0.0)),
            record.key,
        )

    def spec(self) -> ClaimSpec:
        """The request as the pure conflict rule sees it."""
        return ClaimSpec(self.path, self.agent, self.mode)


def queued_requests(store: Store) -> list[Request]:
    """Every queued claim request, oldest first."""
    requests = [Request.from_record(r) for r in store.list_prefix(layout.CLAIM_QUEUE)]
    return sorted(requests, key=lambda r: (r.requested_at, r.key))


def blockers(
    claims: Iterable[Claim], queue: Iterable[Request], want: ClaimSpec, key: str | None
) -> tuple[list[Claim], list[Request]]:
    """What stands in the way of `want`: conflicting claims, and conflicting requests
    queued before it (fair order: `key` is `want`'s own queue key when it is queued;
    a request that is not queued comes after every queued one)."""
    held = [c for c in claims if claims_conflict(c.spec(), want)]
    ahead: list[Request] = []
    for request in queue:
        if request.key == key:
            break
        if claims_conflict(request.spec(), want):
            ahead.append(request)
    return held, ahead


def grant_claim(
    store: Store,
    path: str,
    agent: str,
    *,
    task: str | None = None,
    mode: Mode = "exclusive",
    queue_key: str | None = None,
) -> Grant:
    """pre-edit: grant `agent` a claim on `path` (idempotent for the holder, renewing it),
    or raise ClaimHeld naming the holder, its task and since when.

    The holder renews regardless of the queue; only a new grant waits for the requests
    queued before it. `queue_key`, the caller's own queued request, is consumed by either.
    """
    check_agent_name(agent)
    want = ClaimSpec(path, agent, mode)
    ttl = claim_ttl()
    for _ in range(MAX_ATTEMPTS):
        now = store.clock()
        epoch = store.get(EPOCH_KEY)
        records = {r.key: r for r in store.list_prefix(layout.CLAIMS)}
        claims = [Claim.from_record(r) for r in records.values()]
        held = [c for c in claims if claims_conflict(c.spec(), want)]
        if held:
            raise ClaimHeld(
                _describe(held[0]),
                details=tuple(_describe(c) for c in held[1:]),
                holder=held[0].agent,
                holder_task=held[0].task,
            )
        renewable = renewable_claim(claims, agent, path, mode)
        if renewable is not None:
            key = claim_key(renewable.path, agent)
            ops: list[WriteOp] = [Touch(key, ttl), *renew_agent(store, agent)]
            if queue_key is not None:
                ops.append(Delete(queue_key))
            # The claim may have expired or been released (and granted anew) since the read.
            renewal = store.txn([Compare(key, "mod_rev", "==", records[key].mod_rev)], ops)
            if not renewal.succeeded or renewal.results[0] is None:
                continue  # gone: the next attempt is a new grant, with a new fencing token
            renewed = Claim.from_record(renewal.results[0])
            return Grant(renewed._replace(renewed_at=now), True)
        # A mode change on the agent's own path does not queue behind the path's waiters.
        if not any(c.agent == agent and c.path == path for c in claims):
            _, ahead = blockers(claims, queued_requests(store), want, queue_key)
            if ahead:
                raise ClaimHeld(
                    f"{path}: {ahead[0].agent} is queued first for it",
                    holder=ahead[0].agent,
                    holder_task=ahead[0].task,
                )
        claim = Claim(path, agent, mode, task, now)
        ops = [
            Put(claim_key(path, agent), claim.stored(), ttl),
            _bump_epoch(epoch),
            event_op("claim_granted", now, task=task, agent=agent, message=path, mode=mode),
            *renew_agent(store, agent),
        ]
        if queue_key is not None:
            ops.append(Delete(queue_key))
        result = store.txn([Compare.unchanged(EPOCH_KEY, epoch)], ops)
        if result.succeeded:
            record = result.results[0]
            assert record is not None
            return Grant(Claim.from_record(record), False)
    raise Refused(f"claims on {path} kept changing; try again")


def release_ops(store: Store, agent: str, task: str, now: float) -> list[WriteOp]:
    """The writes that release `agent`'s claims (only those for `task`, when given) and
    its queued requests; used by post-task and session-end inside their transactions."""
    ops: list[WriteOp] = []
    released = []
    for record in store.list_prefix(layout.CLAIMS):
        claim = Claim.from_record(record)
        if claim.agent == agent and (not task or claim.task in (task, None)):
            ops.append(Delete(record.key))
            released.append(claim.path)
    if not task:
        ops.extend(Delete(r.key) for r in queued_requests(store) if r.agent == agent and r.key)
    if released:
        epoch = store.get(EPOCH_KEY)
        ops.append(_bump_epoch(epoch))
        ops.append(
            event_op(
                "claim_released",
                now,
                task=task or None,
                agent=agent,
                message=", ".join(released),
            )
        )
    return ops


def release_claims(
    store: Store,
    *,
    path: str | None,
    agent: str | None,
    actor: str | None,
    force: bool,
) -> list[Claim]:
    """`swarm claims release`: release claims on `path` or held by `agent`. Releasing
    another agent's claim needs `force`, and its holder is notified."""
    now = store.clock()
    chosen = [
        c
        for c in list_claims(store)
        if (path is None or path in (c.path, shown_path(c.path)))
        and (agent is None or c.agent == agent)
    ]
    if not chosen:
        raise SwarmError(f"no claim on {path}" if path else f"{agent} holds no claims")
    foreign = [c for c in chosen if c.agent != actor]
    if foreign and not force:
        raise Refused(f"{foreign[0].path} is held by {foreign[0].agent}; use --force to release it")
    epoch = store.get(EPOCH_KEY)
    ops: list[WriteOp] = [_bump_epoch(epoch)]
    for claim in chosen:
        ops.append(Delete(claim_key(claim.path, claim.agent)))
        ops.append(
            event_op(
                "claim_released",
                now,
                task=claim.task,
                agent=claim.agent,
                message=claim.path,
                forced=claim.agent != actor,
                by=actor,
            )
        )
        if claim.agent != actor:
            ops.extend(
                notify_ops(
                    claim.agent,
                    f"your claim on {claim.path} was released by {actor or 'an operator'}",
                    now,
                    level="warn",
                    sender=actor,
                    task=claim.task,
                )
            )
    store.txn([], ops)
    return chosen
