"""Edits and the conflicts they reveal: post-edit records, conflict records, resolution.

A conflict is recorded when an agent edits a file it does not hold, when two agents edit
one file within the edit window, and (from the daemon's work-tree watcher) when a file
changes on disk with no post-edit announcing it. Each conflict is a record under
`swarm/conflicts/`, an event, and a notification to every agent involved; its id is a
number of its own (`commit_conflicts`), unique even among the conflicts one post-edit
records. Resolution is explicit: `swarm conflicts resolve ID --keep A`.
"""

from __future__ import annotations

import json
import os

from coordinator import layout
from coordinator.agents.liveness import renew_agent
from coordinator.claims.digests import sha256_hex
from coordinator.claims.grants import (
    DEFAULT_EDIT_WINDOW,
    claim_key,
    claim_ttl,
    covering_claim,
    holders_of,
    list_claims,
    path_hash,
)
from coordinator.state import encode, event_op, notify_ops
from memory.errors import Refused, SwarmError
from memory.keys import prefix_upper_bound
from memory.records import Compare, Put, Record, Touch, WriteOp
from memory.settings import env_seconds
from memory.store import Store
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from typing import Any

    from memory.locator import StrPath


def edit_window() -> float:
    """`SWARM_EDIT_WINDOW` seconds, default 10 minutes."""
    return env_seconds("SWARM_EDIT_WINDOW", DEFAULT_EDIT_WINDOW)


def content_hash(path: StrPath) -> str | None:
    """sha256 of a file's bytes, or None when it does not exist (deleted)."""
    try:
        with open(path, "rb") as file:
            return sha256_hex(file.read())
    except (FileNotFoundError, IsADirectoryError):
        return None


def edits_prefix(path: str) -> str:
    """Where the edit records of one file live."""
    return f"{layout.EDITS}{path_hash(path)}/"


def last_edits_prefix(path: str) -> str:
    """Where each agent's latest edit of one file lives (one record per agent)."""
    return f"{layout.LAST_EDITS}{path_hash(path)}/"


def recent_edits(store: Store, path: str, since: float) -> list[dict[str, Any]]:
    """Edit records of `path` at or after `since`, oldest first (their keys sort by time,
    so only that range is read)."""
    prefix = edits_prefix(path)
    records = store.list_range(layout.time_cutoff_key(prefix, since), prefix_upper_bound(prefix))
    edits = [r.value for r in records if isinstance(r.value, dict)]
    return [e for e in edits if float(e.get("ts", 0)) >= since and e.get("path") == path]


def recent_editors(store: Store, path: str, since: float) -> list[str]:
    """The agents whose latest edit of `path` is at or after `since`: one record per agent
    read, however many edits the file has had."""
    return sorted(
        str(r.value["agent"])
        for r in store.list_prefix(last_edits_prefix(path))
        if isinstance(r.value, dict)
        and r.value.get("path") == path
        and float(r.value.get("ts", 0)) >= since
        and r.value.get("agent")
    )


def conflict_ops(
    kind: str,
    path: str,
    agents: list[str],
    description: str,
    now: float,
    **extra: Any,
) -> list[WriteOp]:
    """Record a conflict, log a `conflict` event and notify every agent involved."""
    record = {
        "kind": kind,
        "path": path,
        "agents": agents,
        "description": description,
        "detected_at": now,
        "resolved": False,
        "resolution": None,
        **extra,
    }
    ops: list[WriteOp] = [
        Put(f"{layout.CONFLICTS}{layout.unique_suffix(now)}", encode(record)),
        event_op("conflict", now, message=description, path=path, kind=kind, agents=agents),
    ]
    for agent in sorted(set(agents)):
        ops.extend(notify_ops(agent, f"conflict: {description}", now, level="warn"))
    return ops


#: The last conflict id handed out (ids are unique, also between conflicts one
#: transaction records; conflicts recorded before this counter existed keep the
#: revision that recorded them as their id).
CONFLICT_IDS = f"{layout.ROOT}/conflict-ids"


def commit_conflicts(store: Store, ops: list[WriteOp]) -> None:
    """Commit `ops`, giving each conflict record among them an id of its own."""
    for _ in range(20):
        counter = store.get(CONFLICT_IDS)
        last = counter.value if counter is not None and isinstance(counter.value, int) else None
        if last is None:
            # Above every id given so far: the revisions that recorded earlier conflicts.
            last = store.revision()
        numbered: list[WriteOp] = []
        for op in ops:
            if isinstance(op, Put) and op.key.startswith(layout.CONFLICTS):
                last += 1
                value = {**json.loads(op.value_json), "id": last}
                numbered.append(op._replace(value_json=encode(value)))
            else:
                numbered.append(op)
        numbered.append(Put(CONFLICT_IDS, encode(last)))
        guard = Compare.unchanged(CONFLICT_IDS, counter)
        if store.txn([guard], numbered).succeeded:
            return
    raise Refused("conflict ids kept changing; try again")


class EditResult(NamedTuple):
    """What post-edit recorded."""

    record: dict[str, Any]
    conflicts: list[str]


def record_edit(
    store: Store,
    repo_root: StrPath,
    path: str,
    agent: str,
    *,
    task: str | None = None,
    memory_key: str | None = None,
) -> EditResult:
    """post-edit: record who edited what (with a content hash), renew the agent's claim,
    and record a conflict for an unclaimed edit or two agents editing within the window."""
    now = store.clock()
    window = edit_window()
    digest = content_hash(os.path.join(repo_root, path))
    claims = list_claims(store)
    own = covering_claim(claims, agent, path)
    others = [c for c in holders_of(claims, path) if c.agent != agent]
    record = {
        "path": path,
        "agent": agent,
        "task": task or (own.task if own else None),
        "ts": now,
        "sha256": digest,
        "claimed": own is not None,
    }
    ops: list[WriteOp] = [
        Put(f"{edits_prefix(path)}{layout.unique_suffix(now)}-{agent}", encode(record), window * 6),
        Put(f"{last_edits_prefix(path)}{agent}", encode(record), window * 6),
    ]
    descriptions = []
    if own is not None:
        ops.append(Touch(claim_key(own.path, agent), claim_ttl()))
    else:
        holder = f"; held by {others[0].agent}" if others else ""
        description = f"{agent} edited {path} without holding a claim{holder}"
        descriptions.append(description)
        ops.extend(
            conflict_ops(
                "unclaimed_edit", path, [agent, *(c.agent for c in others)], description, now
            )
        )
    rivals = [a for a in recent_editors(store, path, now - window) if a != agent]
    if rivals:
        minutes = f"{window / 60:g} min"
        description = f"{agent} and {', '.join(rivals)} edited {path} within {minutes}"
        descriptions.append(description)
        ops.extend(conflict_ops("concurrent_edit", path, [agent, *rivals], description, now))
    if memory_key:
        ops.append(Put(memory_key, encode(record)))
    ops.extend(renew_agent(store, agent))
    if descriptions:
        commit_conflicts(store, ops)
    else:
        store.txn([], ops)
    return EditResult(record, descriptions)


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


def list_conflicts(store: Store, *, open_only: bool = False) -> list[Conflict]:
    """Every recorded conflict (only unresolved ones with `open_only`), oldest first."""
    conflicts = [Conflict.from_record(r) for r in store.list_prefix(layout.CONFLICTS)]
    conflicts.sort(key=lambda c: c.id)
    return [c for c in conflicts if not (open_only and c.data.get("resolved"))]


def resolve_conflict(store: Store, conflict_id: int, keep: str, by: str | None) -> Conflict:
    """Record the decision on a conflict and notify the agents involved."""
    match = [c for c in list_conflicts(store) if c.id == conflict_id]
    if not match:
        raise SwarmError(f"no conflict #{conflict_id}; see `swarm conflicts`")
    conflict = match[0]
    if conflict.data.get("resolved"):
        raise SwarmError(f"conflict #{conflict_id} is already resolved")
    now = store.clock()
    data = {**conflict.data, "resolved": True, "resolution": {"keep": keep, "by": by, "at": now}}
    message = f"conflict #{conflict_id} on {data.get('path')} resolved: keep {keep}'s work"
    ops: list[WriteOp] = [
        Put(conflict.key, encode(data)),
        event_op("conflict_resolved", now, agent=keep, message=message, conflict=conflict_id),
    ]
    for agent in sorted(set(data.get("agents") or [])):
        ops.extend(notify_ops(agent, message, now, sender=by))
    store.txn([], ops)
    return Conflict(conflict.id, conflict.key, data)


def edit_grace() -> float:
    """`SWARM_EDIT_GRACE`: seconds a disk change may wait for its post-edit, default 5."""
    return env_seconds("SWARM_EDIT_GRACE", 5.0)


def check_unannounced(store: Store, repo_root: StrPath, path: str, seen_at: float) -> str | None:
    """A file changed on disk at `seen_at`: unless a post-edit announced it (an edit record
    from shortly before or after, or one with the file's current content hash), record an
    `unannounced_edit` conflict. Returns its description, or None."""
    grace = edit_grace()
    digest = content_hash(os.path.join(repo_root, path))
    # An edit announced around the change, or one that left the file as it is now (an
    # agent's post-edit may come before its editor's last write reaches the disk).
    edits = recent_edits(store, path, seen_at - max(grace, edit_window()))
    if any(e.get("sha256") == digest or float(e.get("ts", 0)) >= seen_at - grace for e in edits):
        return None
    now = store.clock()
    for conflict in list_conflicts(store, open_only=True):
        data = conflict.data
        same = (data.get("kind"), data.get("path"), data.get("sha256"))
        if same == ("unannounced_edit", path, digest):
            return None  # already recorded for this content
    holders = [c.agent for c in holders_of(list_claims(store), path)]
    held = f"; held by {', '.join(holders)}" if holders else "; nobody holds it"
    description = f"{path} changed on disk with no post-edit announcing it{held}"
    commit_conflicts(
        store, conflict_ops("unannounced_edit", path, holders, description, now, sha256=digest)
    )
    return description
