"""Edits and the conflicts they reveal: post-edit records, and the judgement of a file that
changed on disk with no post-edit.

A conflict is raised when an agent edits a file it does not hold, when two agents edit
one file within the edit window, and (from the daemon's work-tree watcher) when a file
someone holds or edited recently changes on disk with no post-edit announcing it. A file
nobody holds and no agent edited recently that changes so is an observation, not a
conflict. Both are recorded, once each and counted after that, by
`coordinator.claims.conflicts`, which this module imports only when there is one to record.
"""

from __future__ import annotations

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
from coordinator.state import encode
from memory.keys import prefix_upper_bound
from memory.records import Put, Touch, WriteOp
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


class EditResult(NamedTuple):
    """What post-edit recorded: the edit, the conflicts it raised first (each told once),
    and those it raised again (`#ID again, seen N times: ...`)."""

    record: dict[str, Any]
    conflicts: list[str]
    repeats: tuple[str, ...] = ()


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
    raised: list[tuple[str, tuple[str, ...], str]] = []
    if own is not None:
        ops.append(Touch(claim_key(own.path, agent), claim_ttl()))
    else:
        holder = f"; held by {others[0].agent}" if others else ""
        description = f"{agent} edited {path} without holding a claim{holder}"
        involved = tuple(dict.fromkeys([agent, *(c.agent for c in others)]))
        raised.append(("unclaimed_edit", involved, description))
    rivals = [a for a in recent_editors(store, path, now - window) if a != agent]
    if rivals:
        minutes = f"{window / 60:g} min"
        description = f"{agent} and {', '.join(rivals)} edited {path} within {minutes}"
        raised.append(("concurrent_edit", (agent, *rivals), description))
    if memory_key:
        ops.append(Put(memory_key, encode(record)))
    ops.extend(renew_agent(store, agent))
    if not raised:
        store.txn([], ops)
        return EditResult(record, [])
    from coordinator.claims.conflicts import RaisedConflict, raise_conflicts

    wanted = [RaisedConflict(kind, path, agents, text) for kind, agents, text in raised]
    outcomes = raise_conflicts(store, wanted, now, ops)
    new = [o.conflict.data["description"] for o in outcomes if o.new]
    again = tuple(_again(o.conflict.id, o.conflict.data) for o in outcomes if not o.new)
    return EditResult(record, new, again)


def _again(conflict_id: int, data: dict[str, Any]) -> str:
    """One line on a conflict raised again: its id, how often it was seen, what it is."""
    from coordinator.claims.conflict_rules import sightings

    return f"#{conflict_id} again, seen {sightings(data)} times: {data.get('description')}"


def edit_grace() -> float:
    """`SWARM_EDIT_GRACE`: seconds a disk change may wait for its post-edit, default 5."""
    return env_seconds("SWARM_EDIT_GRACE", 5.0)


class Unannounced(NamedTuple):
    """What a disk change no post-edit announced was recorded as: a conflict (another
    writer holds the file or edited it recently) or an observation, and how often seen."""

    conflict: bool
    description: str
    #: How many times it was seen so far (1: just now, for the first time).
    seen: int


def check_unannounced(
    store: Store, repo_root: StrPath, path: str, seen_at: float
) -> Unannounced | None:
    """A file changed on disk at `seen_at`: unless a post-edit announced it (an edit record
    from shortly before or after, or one with the file's current content hash), raise an
    `unannounced_edit` conflict with the agents that hold the file or edited it within the
    edit window, or, when there are none, count an observation of the path. Returns what
    was recorded, or None."""
    from coordinator.claims.conflict_rules import (
        UNANNOUNCED_EDIT,
        sightings,
        unannounced_agents,
        unannounced_description,
    )
    from coordinator.claims.conflicts import RaisedConflict, raise_conflicts, record_observation

    grace, window = edit_grace(), edit_window()
    digest = content_hash(os.path.join(repo_root, path))
    # An edit announced around the change, or one that left the file as it is now (an
    # agent's post-edit may come before its editor's last write reaches the disk).
    edits = recent_edits(store, path, seen_at - max(grace, window))
    if any(e.get("sha256") == digest or float(e.get("ts", 0)) >= seen_at - grace for e in edits):
        return None
    now = store.clock()
    holders = [c.agent for c in holders_of(list_claims(store), path)]
    since = seen_at - window
    editors = [str(e["agent"]) for e in edits if e.get("agent") and float(e["ts"]) >= since]
    agents = unannounced_agents(holders, editors)
    if not agents:
        observation = record_observation(store, path, now, sha256=digest)
        return Unannounced(False, observation["description"], sightings(observation))
    description = unannounced_description(path, holders, editors)
    extra = {"sha256": digest}
    wanted = RaisedConflict(UNANNOUNCED_EDIT, path, tuple(agents), description, extra)
    [outcome] = raise_conflicts(store, [wanted], now)
    data = outcome.conflict.data
    return Unannounced(True, str(data.get("description")), sightings(data))
