"""Engine steps on the store as a whole rather than on a few keys: range deletes,
compaction, the value size limit, and the snapshots and loads of export and import.

Written like `memory.engine` (generators yielding queries, no connection), on top of its
transaction. Neither a hook nor the engine needs them: the sync store imports this module
only when one of them is called.
"""

from __future__ import annotations

from memory import sql
from memory.engine import list_prefix, read_meta, txn
from memory.errors import StoreError
from memory.records import Delete, Put

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from memory.engine import Steps
    from memory.records import Record


def delete_range(start: str, end: str, limit: int, now: float, actor: str | None) -> Steps[int]:
    """Delete up to `limit` live keys with `start <= key < end`, in key order, in one
    revision (each logged); return how many."""
    rows = yield (sql.RANGE_LIMIT, (start, end, now, limit))
    if rows:
        yield from txn([], [Delete(row[0]) for row in rows], [], now, actor)
    return len(rows)


def compact(through_rev: int) -> Steps[int]:
    """Drop the change log up to and including `through_rev`; return the compaction point."""
    meta = yield from read_meta()
    through_rev = min(through_rev, meta.revision)
    if through_rev <= meta.compacted_rev:
        return meta.compacted_rev
    # The header keeps the revision: on SQLite it is read from the log being cut.
    yield (sql.SET_REVISION_AND_COMPACTED, (meta.revision, through_rev))
    yield (sql.COMPACT, (through_rev,))
    return through_rev


def compact_keeping(keep: int, max_rev: int | None = None) -> Steps[int]:
    """Compact so that at most the newest `keep` changes remain, but never past `max_rev`
    (a reader's cursor whose later changes must stay readable)."""
    rows = yield (sql.NTH_NEWEST_REV, (keep,))
    if not rows:
        meta = yield from read_meta()
        return meta.compacted_rev
    # rows[0] is the newest change outside the kept window: compact through its revision.
    # That keeps whole revisions; a revision straddling the window is dropped entirely.
    through = int(rows[0][0])
    if max_rev is not None:
        through = min(through, max_rev)
    return (yield from compact(through))


def is_empty() -> Steps[bool]:
    """Whether the store holds no keys and no change log."""
    rows = yield (sql.IS_EMPTY, ())
    return bool(rows[0][0])


def load_records(records: Iterable[Record], revision: int) -> Steps[int]:
    """Insert exported records as they were into an empty store; return the new revision.

    The change log before `revision` is not part of an export, so the store is marked
    compacted through it: asking for that history is an explicit error, not a silent gap.
    """
    import json

    # A store emptied by deletes and compaction may already be past `revision`; the
    # revision never goes back, or a watcher's cursor would skip the imported writes.
    meta = yield from read_meta()
    top = max(revision, meta.revision)
    for record in records:
        value_json = json.dumps(record.value, separators=(",", ":"), ensure_ascii=False)
        yield (
            sql.INSERT_RECORD,
            (
                record.key,
                value_json,
                record.version,
                record.create_rev,
                record.mod_rev,
                record.expires_at,
            ),
        )
        top = max(top, record.mod_rev)
    yield (sql.SET_REVISION_AND_COMPACTED, (top, top))
    return top


def set_max_value_bytes(limit: int) -> Steps[None]:
    """Change the store-wide limit on one encoded value."""
    yield (sql.SET_MAX_VALUE_BYTES, (limit,))


def snapshot(now: float) -> Steps[tuple[int, list[Record]]]:
    """The current revision and every live record, read in one state (for export)."""
    meta = yield from read_meta()
    records = yield from list_prefix("", now)
    return meta.revision, records


def import_records(
    records: Sequence[Record], revision: int, merge: bool, now: float, actor: str | None
) -> Steps[int]:
    """Load exported records: exactly into an empty store, or as new writes with `merge`."""
    import json

    if merge:
        # A leased key keeps what is left of its lease; one already run out is skipped.
        ops = [
            Put(
                r.key,
                json.dumps(r.value, separators=(",", ":"), ensure_ascii=False),
                None if r.expires_at is None else r.expires_at - now,
            )
            for r in records
            if r.expires_at is None or r.expires_at > now
        ]
        yield from txn([], ops, [], now, actor)
        return len(ops)
    if not (yield from is_empty()):
        raise StoreError("the store is not empty; import with --merge to add to it")
    yield from load_records(records, revision)
    return len(records)
