"""Pruning by age: old events, inbox notifications and edit records leave the store.

Their keys end in a time-ordered segment (`layout.unique_suffix`), so "older than the
cutoff" is a key range: `[prefix, prefix + cutoff digits)`. Events have one prefix;
inboxes and edit records have one per agent or per file, found by stepping from one
prefix to the next, so a pass reads what it deletes and one key per prefix, never the
records it keeps. `SWARM_RETENTION` (seconds, default 30 days) is how long they stay.

`prune_old_records` runs the whole prune on a sync store; `swarm memory prune` calls it,
and the daemon runs it when it starts and then every `PRUNE_PERIOD` (`next_prune`), in a
worker thread with a sync store of its own, with `retention()` as the age. It is
idempotent: a prune that finds nothing old deletes nothing.
"""

from __future__ import annotations

from typing import NamedTuple

from coordinator import layout
from memory.keys import prefix_upper_bound
from memory.settings import env_seconds
from memory.store import Store

#: How long events, notifications and edit records are kept by default: 30 days.
DEFAULT_RETENTION = 30 * 24 * 3600.0
#: Keys deleted per write transaction, so that hooks never wait long on a prune.
PRUNE_BATCH = 1000
#: How often the daemon prunes (it also prunes when it starts): hourly.
PRUNE_PERIOD = 3600.0


def retention() -> float:
    """`SWARM_RETENTION`: seconds events, notifications and edit records are kept."""
    return env_seconds("SWARM_RETENTION", DEFAULT_RETENTION, positive=True)


def next_prune(last: float | None, now: float, period: float = PRUNE_PERIOD) -> float:
    """When the daemon prunes next: at once if it never has, else `period` after the last."""
    return now if last is None else last + period


class Pruned(NamedTuple):
    """How many records a prune deleted, by kind."""

    events: int
    notifications: int
    edits: int

    @property
    def total(self) -> int:
        """All records deleted."""
        return self.events + self.notifications + self.edits


def _sub_prefixes(store: Store, root: str) -> list[str]:
    """The distinct `root<segment>/` prefixes that hold keys, one bounded read each."""
    found = []
    start, end = root, prefix_upper_bound(root)
    while records := store.list_range(start, end, 1):
        segment = records[0].key[len(root) :].split("/")[0]
        prefix = f"{root}{segment}/"
        found.append(prefix)
        start = prefix_upper_bound(prefix)
    return found


def _prune_range(store: Store, prefix: str, cutoff: float, batch: int) -> int:
    deleted = 0
    while True:
        count = store.delete_range(prefix, layout.time_cutoff_key(prefix, cutoff), batch)
        deleted += count
        if count < batch:
            return deleted


def prune_old_records(
    store: Store, older_than: float, *, now: float | None = None, batch: int = PRUNE_BATCH
) -> Pruned:
    """Delete events, inbox notifications and edit records older than `older_than`
    seconds, in batches of `batch` keys per transaction."""
    cutoff = (store.clock() if now is None else now) - older_than
    events = _prune_range(store, layout.EVENTS, cutoff, batch)
    notes = sum(
        _prune_range(store, prefix, cutoff, batch) for prefix in _sub_prefixes(store, layout.INBOX)
    )
    edits = sum(
        _prune_range(store, prefix, cutoff, batch) for prefix in _sub_prefixes(store, layout.EDITS)
    )
    return Pruned(events, notes, edits)
