"""The store's logic, written once for both drivers.

Each operation is a generator that yields `(sql, params)` queries and receives the rows
they return; it never touches a connection. The sync store drives these generators with
`sqlite3`, the async store with aiosqlite, inside the transaction each one opens. This
keeps every statement and every row mapping in one place (here and `memory.sql`).

Here are the reads and the write transaction on keys; the steps on the store as a whole
(range deletes, compaction, export and import) are in `memory.maintenance`.
"""

from __future__ import annotations

from memory import sql
from memory.errors import CompactedRevision, ValueTooLarge, VersionMismatch
from memory.keys import check_finite_seconds, prefix_upper_bound
from memory.records import (
    Change,
    Compare,
    Delete,
    Meta,
    Put,
    Record,
    Touch,
    TxnResult,
    WriteOp,
    change_from_row,
    meta_from_row,
    record_from_row,
)

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Sequence
    from typing import Any, TypeVar

    from memory.records import Row

    T = TypeVar("T")
    Query = tuple[str, Sequence[Any]]
    Steps = Generator[Query, list[Row], T]


def read_meta() -> Steps[Meta]:
    """The store's header: revision, compaction point, value size limit."""
    rows = yield (sql.READ_META, ())
    return meta_from_row(rows[0])


def get(key: str, now: float) -> Steps[Record | None]:
    """The live record of `key`, or None."""
    rows = yield (sql.GET, (key, now))
    return record_from_row(rows[0]) if rows else None


def get_many(keys: Sequence[str], now: float) -> Steps[dict[str, Record]]:
    """The live records of `keys` that exist, by key (in chunks, under SQLite's limits)."""
    found: dict[str, Record] = {}
    unique = sorted(set(keys))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = yield (sql.get_many(len(chunk)), (*chunk, now))
        for row in rows:
            record = record_from_row(row)
            found[record.key] = record
    return found


def list_prefix(prefix: str, now: float, limit: int | None = None) -> Steps[list[Record]]:
    """Live records whose key starts with `prefix`, in key order."""
    if limit is None:
        rows = yield (sql.RANGE, (prefix, prefix_upper_bound(prefix), now))
    else:
        rows = yield (sql.RANGE_LIMIT, (prefix, prefix_upper_bound(prefix), now, limit))
    return [record_from_row(row) for row in rows]


def list_range(start: str, end: str, now: float, limit: int | None) -> Steps[list[Record]]:
    """Live records with `start <= key < end` (at most `limit`), in key order."""
    if limit is None:
        rows = yield (sql.RANGE, (start, end, now))
    else:
        rows = yield (sql.RANGE_LIMIT, (start, end, now, limit))
    return [record_from_row(row) for row in rows]


def last_in_prefix(prefix: str, now: float, limit: int) -> Steps[list[Record]]:
    """The `limit` live records with the greatest keys under `prefix`, in key order."""
    rows = yield (sql.RANGE_NEWEST, (prefix, prefix_upper_bound(prefix), now, limit))
    return [record_from_row(row) for row in reversed(rows)]


def search_keys(glob: str, now: float) -> Steps[list[Record]]:
    """Live records whose key matches the glob (`*`, `?`, `[...]`)."""
    rows = yield (sql.SEARCH_KEYS, (glob, now))
    return [record_from_row(row) for row in rows]


def search_values(text: str, now: float) -> Steps[list[Record]]:
    """Live records whose JSON-encoded value contains `text`."""
    rows = yield (sql.SEARCH_VALUES, (text, now))
    return [record_from_row(row) for row in rows]


def count_keys(now: float) -> Steps[int]:
    """How many live keys the store holds."""
    rows = yield (sql.COUNT_KEYS, (now,))
    return int(rows[0][0])


def _check_not_compacted(from_rev: int, meta: Meta) -> None:
    if meta.compacted_rev and from_rev <= meta.compacted_rev:
        raise CompactedRevision(
            f"revision {from_rev} has been compacted; the change log starts at "
            f"revision {meta.compacted_rev + 1}"
        )


def history(key: str, from_rev: int | None) -> Steps[list[Change]]:
    """The changes of `key` in order; `from_rev` inside the compacted range is an error."""
    meta = yield from read_meta()
    if from_rev is not None:
        _check_not_compacted(from_rev, meta)
    rows = yield (sql.HISTORY, (key, from_rev or 0))
    return [change_from_row(row) for row in rows]


def changes_since(
    from_rev: int, prefix: str, limit: int, after_seq: int = 0
) -> Steps[tuple[list[Change], int]]:
    """Up to `limit` changes under `prefix` after the position (`from_rev`, `after_seq`),
    in (rev, seq) order, and the store revision.

    With `after_seq` 0 that is every change at or after `from_rev`; a reader whose page
    ended inside a revision resumes with the last change's (rev, seq), so one revision
    larger than a page is read whole, once.
    """
    meta = yield from read_meta()
    _check_not_compacted(from_rev, meta)
    upper = prefix_upper_bound(prefix)
    rows = yield (sql.CHANGES_SINCE, (from_rev, from_rev, after_seq, prefix, upper, limit))
    return [change_from_row(row) for row in rows], meta.revision


def change_count() -> Steps[int]:
    """How many changes the log holds (a scan: for rare checks, not every pass)."""
    rows = yield (sql.CHANGE_COUNT, ())
    return int(rows[0][0])


def next_expiry() -> Steps[float | None]:
    """When the next lease runs out, or None if no key has one."""
    rows = yield (sql.NEXT_EXPIRY, ())
    return None if rows[0][0] is None else float(rows[0][0])


class _Writer:
    """The bookkeeping of one write transaction: its revision and change sequence."""

    def __init__(self, meta: Meta, now: float, actor: str | None) -> None:
        self.meta = meta
        self.rev = meta.revision + 1
        self.now = now
        self.actor = actor
        self.seq = 0

    def log(self, key: str, op: str, value_json: str | None, version: int) -> Query:
        self.seq += 1
        return (
            sql.INSERT_CHANGE,
            (self.rev, self.seq, key, op, value_json, version, self.actor, self.now),
        )


def _sweep(writer: _Writer) -> Steps[list[str]]:
    """Remove every key whose lease has run out, logging an `expire` change for each."""
    due = yield (sql.DUE, (writer.now,))
    for key, value_json, version in due:
        yield (sql.DELETE, (key,))
        yield writer.log(key, "expire", value_json, version)
    return [row[0] for row in due]


def _apply(op: WriteOp, writer: _Writer) -> Steps[Record | None]:
    if isinstance(op, Put):
        expires_at = None if op.ttl is None else writer.now + op.ttl
        rows = yield (
            sql.UPSERT_RETURNING,
            (op.key, op.value_json, writer.rev, writer.rev, expires_at),
        )
        version, create_rev = rows[0]
        yield writer.log(op.key, "put", op.value_json, version)
        return record_from_row((op.key, op.value_json, version, create_rev, writer.rev, expires_at))
    if isinstance(op, Delete):
        rows = yield (sql.DELETE_RETURNING, (op.key, writer.now))
        if not rows:
            return None
        removed = record_from_row(rows[0])
        yield writer.log(op.key, "delete", None, removed.version)
        return removed
    current = yield from get(op.key, writer.now)
    if current is None:
        return None
    renewed_until = writer.now + op.ttl
    yield (sql.TOUCH, (renewed_until, op.key, writer.now))
    return Record(
        current.key,
        current.value,
        current.version,
        current.create_rev,
        current.mod_rev,
        renewed_until,
    )


def txn(
    compares: Iterable[Compare],
    success: Sequence[WriteOp],
    failure: Sequence[WriteOp],
    now: float,
    actor: str | None,
) -> Steps[TxnResult]:
    """Evaluate `compares` on live records, then apply `success` or `failure` atomically.

    The store revision rises by exactly one when the branch changed anything (expired
    leases swept on the way are logged at that same revision), and not at all otherwise.
    Run inside `BEGIN IMMEDIATE` so that the reads and writes see one state.
    """
    meta = yield from read_meta()
    succeeded = True
    for compare in compares:
        record = yield from get(compare.key, now)
        if not compare.holds(record):
            succeeded = False
            break
    ops = success if succeeded else failure
    for op in ops:
        if isinstance(op, Put) and len(op.value_json.encode()) > meta.max_value_bytes:
            raise ValueTooLarge(
                f"value for {op.key} is {len(op.value_json.encode())} bytes, over the limit "
                f"of {meta.max_value_bytes} bytes"
            )
    writer = _Writer(meta, now, actor)
    due = meta.next_expiry is not None and meta.next_expiry <= now
    if due and any(not isinstance(op, Touch) for op in ops):
        yield from _sweep(writer)
    results = []
    for op in ops:
        results.append((yield from _apply(op, writer)))
    if writer.seq:
        yield (sql.SET_REVISION, (writer.rev,))
        return TxnResult(succeeded, writer.rev, results)
    return TxnResult(succeeded, meta.revision, results)


def _mismatch(key: str, expected: str, current: Record | None) -> VersionMismatch:
    found = "absent" if current is None else f"version {current.version}"
    return VersionMismatch(f"version mismatch on {key}: expected {expected}, found {found}")


def put(
    key: str,
    value_json: str,
    ttl: float | None,
    if_version: int | None,
    if_absent: bool,
    now: float,
    actor: str | None,
) -> Steps[Record]:
    """Write one key, optionally only if it is absent or at version `if_version`."""
    if ttl is not None:
        check_finite_seconds(ttl, "ttl")
    compares = []
    if if_absent:
        compares.append(Compare(key, "version", "==", 0))
    elif if_version is not None:
        compares.append(Compare(key, "version", "==", if_version))
    result = yield from txn(compares, [Put(key, value_json, ttl)], [], now, actor)
    if not result.succeeded:
        current = yield from get(key, now)
        expected = "absent" if if_absent else f"version {if_version}"
        raise _mismatch(key, expected, current)
    record = result.results[0]
    if record is None:  # pragma: no cover - a Put always yields its record
        raise AssertionError("put produced no record")
    return record


def delete(key: str, if_version: int | None, now: float, actor: str | None) -> Steps[Record | None]:
    """Remove one key (optionally only at version `if_version`); return what was removed."""
    compares = [] if if_version is None else [Compare(key, "version", "==", if_version)]
    result = yield from txn(compares, [Delete(key)], [], now, actor)
    if not result.succeeded:
        current = yield from get(key, now)
        raise _mismatch(key, f"version {if_version}", current)
    return result.results[0]


def touch(key: str, ttl: float, now: float) -> Steps[Record | None]:
    """Renew the lease on `key`; None when the key is absent."""
    check_finite_seconds(ttl, "ttl")
    result = yield from txn([], [Touch(key, ttl)], [], now, None)
    return result.results[0]


def expire_due(now: float, actor: str | None) -> Steps[list[str]]:
    """Sweep every key whose lease ran out by `now`; one revision if any did."""
    meta = yield from read_meta()
    writer = _Writer(meta, now, actor)
    expired = yield from _sweep(writer)
    if expired:
        yield (sql.SET_REVISION, (writer.rev,))
    return expired
