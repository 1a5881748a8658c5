"""The synchronous store over `sqlite3`, for hook processes that live for milliseconds.

`Store` is the interface of every synchronous store: `memory.pg.PgStore` runs the same
reads and writes on PostgreSQL. `memory.backends.open_store` opens a store of either.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time

from memory import engine, schema, sql
from memory.errors import KeyNotFound, NoStore, StoreError
from memory.keys import (
    encode_value,
    validate_encoded,
    validate_key,
    validate_lease,
    validate_prefix,
    validate_ttl,
)
from memory.locator import file_mode, normal_path
from memory.records import Change, Compare, Put, Record, TxnResult, WriteOp
from memory.schema import drive, open_uri, prepare
from memory.settings import resolve_timeout

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from contextlib import AbstractContextManager
    from pathlib import Path
    from typing import IO, Any, TypeVar

    from memory.engine import Steps

    T = TypeVar("T")
    Clock = Callable[[], float]

#: How many changes one `changes_since` call returns at most by default.
DEFAULT_BATCH = 1000


class Store:
    """A swarm store opened synchronously. Use `memory.backends.open_store`."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: str | os.PathLike[str],
        *,
        clock: Clock = time.time,
        actor: str | None = None,
    ) -> None:
        self._conn = conn
        #: The store's file as text (see `path`).
        self.location = normal_path(os.fspath(path))
        self.clock = clock
        self.actor = actor

    @property
    def path(self) -> Path:
        """The store's file (a PostgreSQL store: the path that stands for its URL). The
        hooks use `location`, the same as text: they do not import pathlib."""
        from pathlib import Path

        return Path(self.location)

    # --- opening ---------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        clock: Clock = time.time,
        actor: str | None = None,
        busy_timeout: float | None = None,
    ) -> Store:
        """Open an existing SQLite store, migrating its schema if it is older than ours
        (`memory.backends.open_store` opens a store of either backend)."""
        db = normal_path(os.fspath(path))
        if not stat.S_ISREG(file_mode(db)):
            raise NoStore(f"no swarm store at {db}; run `swarm init` first")
        with schema.translated(db):
            conn = sqlite3.connect(
                open_uri(db), uri=True, timeout=resolve_timeout(busy_timeout), isolation_level=None
            )
            try:
                prepare(conn, db, clock())
            except BaseException:
                conn.close()
                raise
        return cls(conn, db, clock=clock, actor=actor)

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        clock: Clock = time.time,
        actor: str | None = None,
        busy_timeout: float | None = None,
    ) -> Store:
        """Create a SQLite store at `path` (idempotent: an existing one is just opened)."""
        from pathlib import Path

        db = Path(path)
        if db.exists() and db.stat().st_size > 0:
            return cls.open(db, clock=clock, actor=actor, busy_timeout=busy_timeout)
        db.parent.mkdir(parents=True, exist_ok=True)
        with schema.translated(db):
            conn = sqlite3.connect(db, timeout=resolve_timeout(busy_timeout), isolation_level=None)
            try:
                conn.execute(sql.SET_WAL)
                conn.execute(sql.BEGIN_WRITE)
                app_id, _ = drive(conn, schema.read_identity())
                if app_id == 0:
                    drive(conn, schema.create_fresh(clock()))
                conn.execute(sql.COMMIT)
            finally:
                conn.close()
        return cls.open(db, clock=clock, actor=actor, busy_timeout=busy_timeout)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- running engine steps ----------------------------------------------------------

    def reading(self) -> AbstractContextManager[Store]:
        """Run every read inside the block in one read transaction, so that together they
        see one state (a view of many tasks reads each kind of record once, consistently).
        No writes inside the block; nested blocks join the outer one."""
        return _Reading(self)

    def _begin_reading(self) -> bool:
        """Open the read transaction of a `reading()` block; False when one is open."""
        if self._conn.in_transaction:
            return False
        with schema.translated(self.location):
            self._conn.execute(sql.BEGIN_READ)
        return True

    def _end_reading(self) -> None:
        with schema.translated(self.location):
            self._conn.execute(sql.COMMIT)

    def _read(self, steps: Steps[T]) -> T:
        """Run read steps in one read transaction, so that they see one state."""
        with schema.translated(self.location):
            if self._conn.in_transaction:  # inside `reading()`
                return drive(self._conn, steps)
            self._conn.execute(sql.BEGIN_READ)
            try:
                return drive(self._conn, steps)
            finally:
                self._conn.execute(sql.COMMIT)

    def _write(self, steps: Steps[T]) -> T:
        """Run write steps inside `BEGIN IMMEDIATE`; roll back on any error."""
        with schema.translated(self.location):
            self._conn.execute(sql.BEGIN_WRITE)
            try:
                result = drive(self._conn, steps)
                self._conn.execute(sql.COMMIT)
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute(sql.ROLLBACK)
                raise
            return result

    # --- reads ---------------------------------------------------------------------------

    def revision(self) -> int:
        """The store's current revision."""
        return self._read(engine.read_meta()).revision

    def get(self, key: str) -> Record | None:
        """The live record of `key`, or None."""
        return self._read(engine.get(validate_key(key), self.clock()))

    def get_many(self, keys: Iterable[str]) -> dict[str, Record]:
        """The live records of those `keys` that exist, by key."""
        wanted = [validate_key(key) for key in keys]
        return self._read(engine.get_many(wanted, self.clock()))

    def require(self, key: str) -> Record:
        """The live record of `key`; `KeyNotFound` when it is absent."""
        record = self.get(key)
        if record is None:
            raise KeyNotFound(f"no such key: {key}")
        return record

    def list_prefix(self, prefix: str = "", limit: int | None = None) -> list[Record]:
        """Live records whose key starts with `prefix`, in key order."""
        return self._read(engine.list_prefix(validate_prefix(prefix), self.clock(), limit))

    def list_range(self, start: str, end: str, limit: int | None = None) -> list[Record]:
        """Up to `limit` live records with `start <= key < end`, in key order (a bounded
        read of keys that sort by time, such as events after a moment)."""
        return self._read(engine.list_range(start, end, self.clock(), limit))

    def last_in_prefix(self, prefix: str, limit: int) -> list[Record]:
        """The `limit` records with the greatest keys under `prefix` (newest events)."""
        steps = engine.last_in_prefix(validate_prefix(prefix), self.clock(), limit)
        return self._read(steps)

    def search_keys(self, glob: str) -> list[Record]:
        """Live records whose key matches the glob."""
        return self._read(engine.search_keys(glob, self.clock()))

    def search_values(self, text: str) -> list[Record]:
        """Live records whose JSON value contains `text`."""
        return self._read(engine.search_values(text, self.clock()))

    def count(self) -> int:
        """How many live keys the store holds."""
        return self._read(engine.count_keys(self.clock()))

    def history(self, key: str, from_rev: int | None = None) -> list[Change]:
        """Every logged change of `key` (from `from_rev`), oldest first."""
        return self._read(engine.history(validate_key(key), from_rev))

    def changes_since(
        self, from_rev: int, prefix: str = "", limit: int = DEFAULT_BATCH, *, after_seq: int = 0
    ) -> tuple[list[Change], int]:
        """Changes under `prefix` at or after `from_rev` (past `after_seq` within it: page on
        from the last change's rev and seq), and the current revision."""
        steps = engine.changes_since(from_rev, validate_prefix(prefix), limit, after_seq)
        return self._read(steps)

    def change_count(self) -> int:
        """How many changes the log holds (it scans the log: call it rarely)."""
        return self._read(engine.change_count())

    def next_expiry(self) -> float | None:
        """When the next lease runs out, or None."""
        return self._read(engine.next_expiry())

    def integrity_check(self) -> str:
        """SQLite's `PRAGMA integrity_check` verdict ("ok" when sound)."""
        with schema.translated(self.location):
            return str(self._conn.execute(sql.INTEGRITY_CHECK).fetchone()[0])

    # --- writes --------------------------------------------------------------------------

    def put(
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
        return self._write(steps)

    def delete(self, key: str, *, if_version: int | None = None) -> Record | None:
        """Remove `key`; return the removed record, or None if it was absent."""
        return self._write(engine.delete(validate_key(key), if_version, self.clock(), self.actor))

    def touch(self, key: str, ttl: float) -> Record | None:
        """Renew the lease of `key` to `ttl` seconds from now (no new revision)."""
        return self._write(engine.touch(validate_key(key), validate_lease(ttl), self.clock()))

    def txn(
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
        return self._write(engine.txn(compares, success, failure, self.clock(), self.actor))

    def delete_range(self, start: str, end: str, limit: int = DEFAULT_BATCH) -> int:
        """Delete up to `limit` live keys with `start <= key < end` in one revision (each
        logged as a delete); return how many. Call again while it returns `limit`."""
        from memory import maintenance  # not imported by a hook

        return self._write(maintenance.delete_range(start, end, limit, self.clock(), self.actor))

    def expire_due(self) -> list[str]:
        """Sweep keys whose lease ran out, logging an `expire` change for each."""
        return self._write(engine.expire_due(self.clock(), self.actor))

    def compact(self, through_rev: int) -> int:
        """Drop the change log up to `through_rev`; return the compaction point."""
        from memory import maintenance

        return self._write(maintenance.compact(through_rev))

    def compact_keeping(self, keep: int, *, max_rev: int | None = None) -> int:
        """Drop all but the newest `keep` changes, never past `max_rev`; return the
        compaction point."""
        from memory import maintenance

        return self._write(maintenance.compact_keeping(keep, max_rev))

    def set_max_value_bytes(self, limit: int) -> None:
        """Set the store-wide limit on one encoded value."""
        if limit < 1:
            raise StoreError("the value size limit must be at least 1 byte")
        from memory import maintenance

        self._write(maintenance.set_max_value_bytes(limit))

    # --- export, import, backup ------------------------------------------------------

    def export(self, out: IO[str]) -> int:
        """Write every live record as JSON Lines; return how many."""
        from memory import exchange, maintenance  # not imported by a hook

        now = self.clock()
        revision, records = self._read(maintenance.snapshot(now))
        out.writelines(exchange.dump_lines(revision, records, now))
        return len(records)

    def import_(
        self, lines: Iterable[str] | Iterable[bytes], *, merge: bool = False, force: bool = False
    ) -> int:
        """Load an export. Into an empty store it is exact (a restore); `merge` writes into a
        used one, and refuses keys under the reserved root unless `force`."""
        from memory import exchange, maintenance

        revision, records = exchange.parse_lines(lines)
        if merge and not force:
            exchange.refuse_reserved(records)
        return self._write(
            maintenance.import_records(records, revision, merge, self.clock(), self.actor)
        )

    def backup(self, target: str | os.PathLike[str]) -> Path:
        """Copy the store, while it is in use, through SQLite's online backup API."""
        from pathlib import Path

        dest = Path(target)
        if dest.exists():
            raise StoreError(f"{dest} already exists; refusing to overwrite it")
        with schema.translated(dest):
            out = sqlite3.connect(dest)
            try:
                self._conn.backup(out)
            finally:
                out.close()
        return dest


class _Reading:
    """The block of `Store.reading()` (a class rather than a contextmanager generator: the
    hook path does not import contextlib)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._began = False

    def __enter__(self) -> Store:
        self._began = self._store._begin_reading()
        return self._store

    def __exit__(self, *exc: object) -> None:
        if self._began:
            self._store._end_reading()
