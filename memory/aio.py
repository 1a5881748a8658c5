"""The asynchronous store over aiosqlite, for the daemon. Same engine, same SQL as `Store`.

`AsyncStore` is also the interface of every asynchronous store: `memory.pg_aio.AsyncPgStore`
runs the same reads and writes on PostgreSQL.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite
import anyio

from memory import engine, exchange, maintenance, schema, sql
from memory.errors import CorruptStore, KeyNotFound, NoStore, StoreError
from memory.keys import (
    encode_value,
    validate_encoded,
    validate_key,
    validate_lease,
    validate_prefix,
    validate_ttl,
)
from memory.records import Change, Compare, Put, Record, TxnResult, WriteOp
from memory.schema import drive, open_uri, prepare
from memory.settings import resolve_timeout
from memory.store import DEFAULT_BATCH

if TYPE_CHECKING:
    from memory.engine import Steps

T = TypeVar("T")
Clock = Callable[[], float]


@dataclass
class _Pending:
    """One write transaction waiting for the next group commit."""

    steps: Steps[Any]
    done: anyio.Event = field(default_factory=anyio.Event)
    result: Any = None
    error: BaseException | None = None


def _read_in_thread(conn: sqlite3.Connection, steps: Steps[T]) -> T:
    conn.execute(sql.BEGIN_READ)
    try:
        return drive(conn, steps)
    finally:
        conn.execute(sql.COMMIT)


def _commit_group(conn: sqlite3.Connection, batch: list[_Pending]) -> None:
    """Run several write transactions in one SQLite transaction (group commit).

    Each keeps its own revision and its own outcome: a savepoint per transaction rolls
    back only the one that failed (a compare-and-set mismatch, a value too large).
    """
    conn.execute(sql.BEGIN_WRITE)
    try:
        for item in batch:
            conn.execute(sql.SAVEPOINT)
            try:
                item.result = drive(conn, item.steps)
            except Exception as err:  # noqa: BLE001 - handed to the caller that owns it
                conn.execute(sql.ROLLBACK_TO_SAVEPOINT)
                item.error = err
            conn.execute(sql.RELEASE_SAVEPOINT)
        conn.execute(sql.COMMIT)
    except BaseException:
        if conn.in_transaction:
            conn.execute(sql.ROLLBACK)
        raise


class AsyncStore:
    """A swarm store opened for async use. Use `await memory.backends.open_async_store(path)`."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        path: Path,
        *,
        clock: Clock = time.time,
        actor: str | None = None,
    ) -> None:
        self._conn = conn
        self.path = path
        self.clock = clock
        self.actor = actor
        self._queue: list[_Pending] = []
        self._flushing = False

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        clock: Clock = time.time,
        actor: str | None = None,
        busy_timeout: float | None = None,
    ) -> AsyncStore:
        """Open an existing SQLite store; it must already be at the current schema or
        migratable (`memory.backends.open_async_store` opens a store of either backend)."""
        db = Path(path)
        if not db.is_file():
            raise NoStore(f"no swarm store at {db}; run `swarm init` first")
        try:
            conn = await aiosqlite.connect(
                open_uri(db), uri=True, timeout=resolve_timeout(busy_timeout), isolation_level=None
            )
        except sqlite3.Error as err:
            raise schema.translate(err, db) from None
        store = cls(conn, db, clock=clock, actor=actor)
        try:
            await store._in_thread(prepare, db, clock())
        except BaseException:
            await conn.close()
            raise
        return store

    async def close(self) -> None:
        """Close the connection."""
        await self._conn.close()

    async def __aenter__(self) -> AsyncStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # aiosqlite runs every call on the connection's own thread. Its public methods hop to
    # that thread once per statement; `_execute`, the primitive they are built on, runs a
    # whole transaction there in one hop, through the same driver as the sync store.

    async def _run(self, steps: Steps[T], *, write: bool) -> T:
        if write:
            return await self._write(steps)
        return await self._in_thread(_read_in_thread, steps)  # type: ignore[no-any-return]

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await self._conn._execute(fn, self._conn._conn, *args)  # type: ignore[no-untyped-call]
        except sqlite3.Error as err:
            raise schema.translate(err, self.path) from None
        except CorruptStore as err:
            raise schema.naming_store(err, self.path) from None

    async def _write(self, steps: Steps[T]) -> T:
        """Queue a write transaction; whoever finds no flush under way commits the queue,
        so concurrent writers share one COMMIT (each still gets its own revision)."""
        item = _Pending(steps)
        self._queue.append(item)
        if not self._flushing:
            self._flushing = True
            try:
                while self._queue:
                    batch, self._queue = self._queue, []
                    try:
                        await self._in_thread(_commit_group, batch)
                    except BaseException as err:
                        for pending in batch:
                            pending.error = pending.error or err
                        raise
                    finally:
                        for pending in batch:
                            pending.done.set()
            finally:
                self._flushing = False
        await item.done.wait()
        if item.error is not None:
            raise item.error
        return item.result  # type: ignore[no-any-return]

    async def _read(self, steps: Steps[T]) -> T:
        return await self._run(steps, write=False)

    # --- reads ---------------------------------------------------------------------------

    async def revision(self) -> int:
        """The store's current revision."""
        return (await self._read(engine.read_meta())).revision

    async def get(self, key: str) -> Record | None:
        """The live record of `key`, or None."""
        return await self._read(engine.get(validate_key(key), self.clock()))

    async def get_many(self, keys: Iterable[str]) -> dict[str, Record]:
        """The live records of those `keys` that exist, by key."""
        wanted = [validate_key(key) for key in keys]
        return await self._read(engine.get_many(wanted, self.clock()))

    async def require(self, key: str) -> Record:
        """The live record of `key`; `KeyNotFound` when it is absent."""
        record = await self.get(key)
        if record is None:
            raise KeyNotFound(f"no such key: {key}")
        return record

    async def list_prefix(self, prefix: str = "", limit: int | None = None) -> list[Record]:
        """Live records whose key starts with `prefix`, in key order."""
        return await self._read(engine.list_prefix(validate_prefix(prefix), self.clock(), limit))

    async def list_range(self, start: str, end: str, limit: int | None = None) -> list[Record]:
        """Up to `limit` live records with `start <= key < end`, in key order."""
        return await self._read(engine.list_range(start, end, self.clock(), limit))

    async def delete_range(self, start: str, end: str, limit: int = DEFAULT_BATCH) -> int:
        """Delete up to `limit` live keys with `start <= key < end` in one revision."""
        steps = maintenance.delete_range(start, end, limit, self.clock(), self.actor)
        return await self._write(steps)

    async def last_in_prefix(self, prefix: str, limit: int) -> list[Record]:
        """The `limit` records with the greatest keys under `prefix` (newest events)."""
        steps = engine.last_in_prefix(validate_prefix(prefix), self.clock(), limit)
        return await self._read(steps)

    async def search_keys(self, glob: str) -> list[Record]:
        """Live records whose key matches the glob."""
        return await self._read(engine.search_keys(glob, self.clock()))

    async def search_values(self, text: str) -> list[Record]:
        """Live records whose JSON value contains `text`."""
        return await self._read(engine.search_values(text, self.clock()))

    async def count(self) -> int:
        """How many live keys the store holds."""
        return await self._read(engine.count_keys(self.clock()))

    async def history(self, key: str, from_rev: int | None = None) -> list[Change]:
        """Every logged change of `key` (from `from_rev`), oldest first."""
        return await self._read(engine.history(validate_key(key), from_rev))

    async def changes_since(
        self, from_rev: int, prefix: str = "", limit: int = DEFAULT_BATCH, *, after_seq: int = 0
    ) -> tuple[list[Change], int]:
        """Changes under `prefix` at or after `from_rev` (past `after_seq` within it: page on
        from the last change's rev and seq), and the current revision."""
        steps = engine.changes_since(from_rev, validate_prefix(prefix), limit, after_seq)
        return await self._read(steps)

    async def change_count(self) -> int:
        """How many changes the log holds (it scans the log: call it rarely)."""
        return await self._read(engine.change_count())

    async def next_expiry(self) -> float | None:
        """When the next lease runs out, or None."""
        return await self._read(engine.next_expiry())

    async def integrity_check(self) -> str:
        """SQLite's `PRAGMA integrity_check` verdict ("ok" when sound)."""
        try:
            rows = await self._conn.execute_fetchall(sql.INTEGRITY_CHECK)
        except sqlite3.Error as err:
            raise schema.translate(err, self.path) from None
        return str(next(iter(rows))[0])

    # --- writes --------------------------------------------------------------------------

    async def put(
        self,
        key: str,
        value: Any,
        *,
        ttl: float | None = None,
        if_version: int | None = None,
        if_absent: bool = False,
    ) -> Record:
        """Write `value` (JSON) to `key`; with `if_version`/`if_absent`, compare-and-set."""
        validate_key(key)
        validate_ttl(ttl)
        steps = engine.put(
            key, encode_value(value), ttl, if_version, if_absent, self.clock(), self.actor
        )
        return await self._write(steps)

    async def delete(self, key: str, *, if_version: int | None = None) -> Record | None:
        """Remove `key`; return the removed record, or None if it was absent."""
        steps = engine.delete(validate_key(key), if_version, self.clock(), self.actor)
        return await self._write(steps)

    async def touch(self, key: str, ttl: float) -> Record | None:
        """Renew the lease of `key` to `ttl` seconds from now (no new revision)."""
        return await self._write(engine.touch(validate_key(key), validate_lease(ttl), self.clock()))

    async def txn(
        self,
        compares: Iterable[Compare],
        success: Sequence[WriteOp],
        failure: Sequence[WriteOp] = (),
    ) -> TxnResult:
        """Atomically apply `success` if every compare holds, else `failure`."""
        for op in (*success, *failure):
            validate_key(op.key)
            validate_ttl(getattr(op, "ttl", None))
            if isinstance(op, Put):
                validate_encoded(op.value_json)
        return await self._write(engine.txn(compares, success, failure, self.clock(), self.actor))

    async def expire_due(self) -> list[str]:
        """Sweep keys whose lease ran out, logging an `expire` change for each."""
        return await self._write(engine.expire_due(self.clock(), self.actor))

    async def compact(self, through_rev: int) -> int:
        """Drop the change log up to `through_rev`; return the compaction point."""
        return await self._write(maintenance.compact(through_rev))

    async def compact_keeping(self, keep: int, *, max_rev: int | None = None) -> int:
        """Drop all but the newest `keep` changes, never past `max_rev`; return the
        compaction point."""
        return await self._write(maintenance.compact_keeping(keep, max_rev))

    async def set_max_value_bytes(self, limit: int) -> None:
        """Set the store-wide limit on one encoded value."""
        if limit < 1:
            raise StoreError("the value size limit must be at least 1 byte")
        await self._write(maintenance.set_max_value_bytes(limit))

    # --- export, import, backup ------------------------------------------------------

    async def export_lines(self) -> list[str]:
        """Every live record as JSON Lines (header first)."""
        now = self.clock()
        revision, records = await self._read(maintenance.snapshot(now))
        return list(exchange.dump_lines(revision, records, now))

    async def import_(self, lines: Iterable[str], *, merge: bool = False) -> int:
        """Load an export. Into an empty store it is exact; `merge` writes into a used one."""
        revision, records = exchange.parse_lines(lines)
        return await self._write(
            maintenance.import_records(records, revision, merge, self.clock(), self.actor)
        )

    async def backup(self, target: str | os.PathLike[str]) -> Path:
        """Copy the store, while it is in use, through SQLite's online backup API."""
        dest = Path(target)
        if dest.exists():
            raise StoreError(f"{dest} already exists; refusing to overwrite it")
        try:
            async with aiosqlite.connect(dest) as out:
                await self._conn.backup(out)
        except sqlite3.Error as err:
            raise schema.translate(err, dest) from None
        return dest
