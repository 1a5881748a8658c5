"""When a conflict is the same conflict again, and when a write is no conflict at all.

Pure rules, no I/O, taking records and `now` and returning records. A conflict is two
writers on one file (or two branches that would not merge): while it is open, raising it
again is one more sighting of the same record (`count`, `last_seen`), never a new record,
event or notice. A write to a file that nobody holds and no agent edited recently has no
second writer: it is an observation, one record per path with its own count and last
sighting, shown apart from the open conflicts.
"""

from __future__ import annotations

import json

from coordinator.claims.digests import sha1_hex

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

#: The kind of a conflict the daemon's work-tree watcher found: a file someone holds, or
#: edited recently, changed on disk with no post-edit announcing it.
UNANNOUNCED_EDIT = "unannounced_edit"
#: The kind of an observation: a file nobody holds and no agent edited recently changed
#: on disk with no post-edit announcing it (one writer, so no conflict).
UNANNOUNCED_WRITE = "unannounced_write"


def conflict_identity(record: Mapping[str, Any]) -> tuple[str, ...]:
    """What makes two conflict records the same conflict while it is open: the kind and,
    for a predicted merge, its two branches and its files, else its path and the agents
    involved (each set in any order)."""
    kind = str(record.get("kind"))
    if kind == "merge":
        branches = sorted({str(b) for b in record.get("branches") or ()})
        files = sorted({str(f) for f in record.get("files") or ()})
        return kind, json.dumps(branches), json.dumps(files)
    agents = sorted({str(a) for a in record.get("agents") or ()})
    return kind, str(record.get("path")), json.dumps(agents)


def identity_digest(identity: tuple[str, ...]) -> str:
    """A key segment standing for a conflict identity."""
    return sha1_hex(json.dumps(identity).encode())[:20]


def sightings(record: Mapping[str, Any]) -> int:
    """How many times a conflict or observation was seen (1 for records from before
    they were counted)."""
    count = record.get("count")
    return count if isinstance(count, int) and count > 0 else 1


def last_seen(record: Mapping[str, Any]) -> float | None:
    """When a conflict or observation was seen last (its detection, for older records)."""
    seen = record.get("last_seen", record.get("detected_at", record.get("first_seen")))
    return float(seen) if isinstance(seen, int | float) else None


def new_conflict(
    kind: str, path: str, agents: Iterable[str], description: str, now: float, **extra: Any
) -> dict[str, Any]:
    """The record of a conflict seen for the first time at `now`."""
    return {
        "kind": kind,
        "path": path,
        "agents": list(agents),
        "description": description,
        "detected_at": now,
        "resolved": False,
        "resolution": None,
        **extra,
        "count": 1,
        "last_seen": now,
    }


def seen_again(record: Mapping[str, Any], now: float) -> dict[str, Any]:
    """An open conflict raised again at `now`: the same record, one more sighting."""
    return {
        **record,
        "count": sightings(record) + 1,
        "last_seen": max(now, last_seen(record) or now),
    }


def unannounced_agents(holders: Iterable[str], editors: Iterable[str]) -> list[str]:
    """The other writers of a file changed on disk with no post-edit: the agents that hold
    it and those that edited it recently. None means the change is an observation."""
    return sorted({*holders, *editors})


def unannounced_description(path: str, holders: Iterable[str], editors: Iterable[str]) -> str:
    """One line on a file changed on disk with no post-edit: who else writes it, if anyone."""
    held, edited = sorted(set(holders)), sorted(set(editors))
    others = []
    if held:
        others.append(f"held by {', '.join(held)}")
    if edited:
        others.append(f"edited recently by {', '.join(edited)}")
    if not others:
        others.append("nobody holds it and no agent edited it recently")
    return f"{path} changed on disk with no post-edit announcing it; {'; '.join(others)}"


def observed(
    record: Mapping[str, Any] | None, path: str, now: float, *, sha256: str | None
) -> dict[str, Any]:
    """The observation of `path` after one more unannounced write at `now` (`record`: the
    observation so far, None the first time)."""
    if record is None or record.get("path") != path:
        return {
            "kind": UNANNOUNCED_WRITE,
            "path": path,
            "description": unannounced_description(path, (), ()),
            "first_seen": now,
            "last_seen": now,
            "count": 1,
            "sha256": sha256,
        }
    later = max(now, last_seen(record) or now)
    return {**record, "count": sightings(record) + 1, "last_seen": later, "sha256": sha256}


def repeats_text(record: Mapping[str, Any], when: str) -> str:
    """` (seen 6 times, last 12:03)` for a record seen more than once, else empty; `when`
    is its last sighting as the view shows times."""
    count = sightings(record)
    return f" (seen {count} times, last {when})" if count > 1 else ""
