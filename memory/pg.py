"""The PostgreSQL store: the same engine and statements as the SQLite store, on a server.

`PgStore` is the synchronous twin for hook processes: one connection, no pool, through
`memory.libpq` (importing psycopg would cost a hook more than its work).
`memory.pg_aio.AsyncPgStore` serves the daemon from a psycopg connection pool, and
`memory.pg_listen` has the LISTEN/NOTIFY wake-ups and the daemon lock. All drive
`memory.engine` steps, each statement put in PostgreSQL's dialect by `sql.postgres`.

Writers take the store header's row lock first (`FOR UPDATE`), as SQLite writers take
`BEGIN IMMEDIATE`: write transactions run one at a time under READ COMMITTED and see
each other's commits, so the revision counter, CAS and the change log keep SQLite's
semantics exactly. Reads run in REPEATABLE READ READ ONLY snapshots. A serialization
failure or deadlock can only arise while a writer waits for that lock; it is retried
there, inside the store. Every committed write bumps the revision once, and a trigger
sends one NOTIFY carrying it (see `sql.PG_NOTIFY_SETUP`), which `pg_listen` listens for.
"""

from __future__ import annotations

import os
import sys
import time

from memory import sql
from memory.errors import (
    CorruptStore,
    NoStore,
    NotASwarmStore,
    SchemaTooNew,
    StoreError,
    StoreLocked,
    StoreUnreachable,
    SwarmError,
)
from memory.libpq import Connection, PqError
from memory.locator import redact
from memory.schema import migrate, naming_store
from memory.settings import env_seconds, resolve_timeout
from memory.store import Store

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any, TypeVar

    from memory.engine import Steps

    T = TypeVar("T")
    Clock = Callable[[], float]


#: How often a writer retries taking the write lock after a serialization failure or
#: deadlock before the error is reported.
LOCK_RETRIES = 10
#: Seconds a connection attempt may take (SWARM_CONNECT_TIMEOUT; libpq's minimum is 2).
DEFAULT_CONNECT_TIMEOUT = 5.0
#: The longest a wake-up source waits before looking at its stop event again.
STOP_CHECK = 0.5
#: Seconds between reconnection attempts of a wake-up source that lost its connection.
RECONNECT_DELAY = 0.5

#: SQLSTATEs of a serialization failure and a deadlock: retried by the store.
RETRYABLE = frozenset({"40001", "40P01"})
#: SQLSTATEs of a lock wait that ran out (lock_timeout) or was cancelled.
_LOCKED = frozenset({"55P03", "57014"})
#: SQLSTATEs of a server that went away (shutdown, crash, terminated backend).
_GONE = frozenset({"57P01", "57P02", "57P03"})


def retryable(err: Exception) -> bool:
    """Whether a driver error is a serialization failure or deadlock, worth a retry."""
    return getattr(err, "sqlstate", None) in RETRYABLE


def _connection_lost(err: Exception, sqlstate: str | None) -> bool:
    if sqlstate is not None:
        return sqlstate.startswith("08") or sqlstate in _GONE
    if isinstance(err, PqError):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(err, psycopg.OperationalError)


def glob_to_regex(glob: str) -> str:
    """An anchored regular expression (PostgreSQL's `~`) matching what SQLite's GLOB does:
    `*`, `?`, and `[...]` classes (`^` negates, a leading `]` is literal)."""
    out = ["^"]
    i = 0
    while i < len(glob):
        char = glob[i]
        close = -1
        if char == "[":
            start = i + 1 + (glob[i + 1 : i + 2] == "^")
            close = glob.find("]", start + 1)
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif close > 0:
            out.append("[" + glob[i + 1 : close].replace("\\", "\\\\") + "]")
            i = close
        else:
            out.append(char if char.isalnum() else "\\" + char)
        i += 1
    out.append("$")
    return "".join(out)


def translate(err: Exception, url: str) -> SwarmError:
    """The project's error for a driver error (libpq's or psycopg's), naming the store
    without its password."""
    where = redact(url)
    lines = str(err).strip().splitlines()
    first = lines[0] if lines else type(err).__name__
    sqlstate = getattr(err, "sqlstate", None)
    if sqlstate in _LOCKED:
        return StoreLocked(f"{where} is locked by another writer (lock timeout ran out); retry")
    if sqlstate == "42501":
        return StoreError(f"the role lacks a privilege on {where}: {first}")
    if _connection_lost(err, sqlstate):
        return StoreUnreachable(f"cannot reach the PostgreSQL store at {where}: {first}")
    return StoreError(f"store error on {where}: {first}")


def connect_settings(url: str, application: str) -> dict[str, str]:
    """libpq settings beside the URL: an application name that shows in
    `pg_stat_activity`, and a connect timeout unless the URL sets one."""
    settings = {"application_name": application}
    if "connect_timeout" not in url:
        timeout = env_seconds("SWARM_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT, positive=True)
        settings["connect_timeout"] = str(max(2, round(timeout)))
    return settings


def connect_kwargs(url: str, application: str) -> dict[str, Any]:
    """psycopg's connection arguments: autocommit (we send BEGIN/COMMIT) and the settings."""
    return {"autocommit": True, **connect_settings(url, application)}


def pg_statement(query: tuple[str, Any]) -> tuple[str, Any]:
    """One engine query in PostgreSQL's dialect (a key glob becomes a regular expression)."""
    statement, params = query
    if statement == sql.SEARCH_KEYS:
        params = (glob_to_regex(params[0]), *params[1:])
    # Every statement is a constant of memory/sql.py (or built there from constants).
    return sql.postgres(statement), (params or None)


def drive(conn: Any, steps: Steps[T]) -> T:
    """Run engine steps on a connection: execute each query, send back its rows."""
    try:
        query = next(steps)
        while True:
            cur = conn.execute(*pg_statement(query))
            rows = cur.fetchall() if cur.description is not None else []
            query = steps.send(rows)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


# --- schema --------------------------------------------------------------------------------


def _migration_steps(from_version: int, now: float) -> Steps[None]:
    yield from migrate(from_version, now, user_version=False)
    if from_version == 0:
        for statement in sql.PG_NOTIFY_SETUP:
            yield (statement, ())


def _fresh_steps(now: float) -> Steps[None]:
    for statement in sql.FRESH_SCHEMA:
        yield (statement, ())
    for statement in sql.PG_NOTIFY_SETUP:
        yield (statement, ())
    for number, name, _ in sql.MIGRATIONS:
        yield (sql.RECORD_MIGRATION, (number, name, now))


def setup(
    url: str, now: float, *, create: bool, fresh: bool = True, migrate_older: bool = True
) -> Steps[tuple[str, bool]]:
    """Check that the schema holds a swarm store (creating it with `create`), migrate it if
    it is older than ours (unless not `migrate_older`: `swarm doctor` only reads); return
    the schema's name and whether the store was created now. Runs its own transactions."""
    where = redact(url)
    created = False
    for attempt in range(2):
        rows = yield (sql.PG_IDENTITY, ())
        schema, has_meta, has_migrations, tables = rows[0]
        if schema is None:
            raise NoStore(f"{where}: the search_path names no existing schema; create it first")
        if has_meta and has_migrations:
            break
        if has_meta or has_migrations or (tables and not create):
            raise NotASwarmStore(
                f"schema {schema} at {where} holds tables that are not a swarm store; "
                "refusing to touch it"
            )
        if not create:
            raise NoStore(f"no swarm store at {where}; run `swarm init --db URL` first")
        if attempt:
            raise StoreError(f"could not create the swarm store at {where}")
        yield (sql.PG_BEGIN_WRITE, ())
        yield (sql.PG_LOCK_SCHEMA, ())
        rows = yield (sql.PG_IDENTITY, ())
        if not rows[0][1]:
            if rows[0][3]:
                yield (sql.ROLLBACK, ())
                raise NotASwarmStore(
                    f"schema {schema} at {where} holds tables that are not a swarm store; "
                    "refusing to touch it"
                )
            yield from _fresh_steps(now) if fresh else _migration_steps(0, now)
            created = True
        yield (sql.COMMIT, ())
    rows = yield (sql.PG_SCHEMA_VERSION, ())
    version = int(rows[0][0])
    if version > sql.SCHEMA_VERSION:
        raise SchemaTooNew(
            f"{where} has schema version {version}, newer than this swarm's "
            f"{sql.SCHEMA_VERSION}; upgrade swarm-coordinator"
        )
    if version < sql.SCHEMA_VERSION and migrate_older:
        yield (sql.PG_BEGIN_WRITE, ())
        yield (sql.PG_LOCK_SCHEMA, ())
        rows = yield (sql.PG_SCHEMA_VERSION, ())
        yield from _migration_steps(int(rows[0][0]), now)
        yield (sql.COMMIT, ())
    return str(schema), created


def _rollback(conn: Connection) -> None:
    if not conn.idle:
        try:
            conn.execute("ROLLBACK")
        except PqError:
            # The connection is gone; the server rolled the transaction back with it.
            conn.close()


def lock_timeout_statement(busy_timeout: float | None) -> str:
    """`SET lock_timeout` to the busy timeout: a writer waits that long for the write lock."""
    millis = int(resolve_timeout(busy_timeout) * 1000)
    # lock_timeout takes no placeholder in SET; the value is an int of ours.
    return f"SET lock_timeout = {millis:d}"


# --- the synchronous store -------------------------------------------------------------------


class PgStore(Store):
    """A swarm store on PostgreSQL, opened synchronously with one connection."""

    def __init__(
        self,
        conn: Connection,
        url: str,
        path: str | os.PathLike[str],
        schema: str,
        *,
        clock: Clock = time.time,
        actor: str | None = None,
    ) -> None:
        self._pg = conn
        self.url = url
        self.schema = schema
        self.location = os.fspath(path)
        self.clock = clock
        self.actor = actor
        #: Whether opening this store created it (`swarm init` says so).
        self.created = False

    @classmethod
    def connect(
        cls,
        url: str,
        path: str | os.PathLike[str],
        *,
        create: bool = False,
        clock: Clock = time.time,
        actor: str | None = None,
        busy_timeout: float | None = None,
    ) -> PgStore:
        """Connect to the store at `url` (creating its schema with `create`)."""
        try:
            conn = Connection(url, connect_settings(url, "swarm"))
        except PqError as err:
            raise translate(err, url) from None
        try:
            conn.execute(lock_timeout_statement(busy_timeout))
            schema, created = drive(conn, setup(url, clock(), create=create))
        except PqError as err:
            conn.close()
            raise translate(err, url) from None
        except BaseException:
            conn.close()
            raise
        store = cls(conn, url, path, schema, clock=clock, actor=actor)
        store.created = created
        return store

    def close(self) -> None:
        """Close the connection."""
        self._pg.close()

    def _begin_reading(self) -> bool:
        """The read transaction of a `reading()` block: one snapshot, as on SQLite."""
        if not self._pg.idle:
            return False
        try:
            self._pg.execute(sql.PG_BEGIN_READ)
        except PqError as err:
            raise translate(err, self.url) from None
        return True

    def _end_reading(self) -> None:
        _rollback(self._pg)

    def _read(self, steps: Steps[T]) -> T:
        if not self._pg.idle:  # inside `reading()`
            try:
                return drive(self._pg, steps)
            except PqError as err:
                raise translate(err, self.url) from None
            except CorruptStore as err:
                raise naming_store(err, redact(self.url)) from None
        try:
            self._pg.execute(sql.PG_BEGIN_READ)
            try:
                return drive(self._pg, steps)
            finally:
                _rollback(self._pg)
        except PqError as err:
            raise translate(err, self.url) from None
        except CorruptStore as err:
            raise naming_store(err, redact(self.url)) from None

    def _begin_write(self) -> None:
        for attempt in range(LOCK_RETRIES):
            try:
                self._pg.execute(sql.PG_BEGIN_WRITE)
                self._pg.execute(sql.PG_LOCK_WRITERS)
                return
            except PqError as err:
                _rollback(self._pg)
                if not retryable(err) or attempt == LOCK_RETRIES - 1:
                    raise
                time.sleep(0.001 * 2**attempt)

    def _write(self, steps: Steps[T]) -> T:
        try:
            self._begin_write()
            try:
                result = drive(self._pg, steps)
                self._pg.execute(sql.COMMIT)
            except BaseException:
                _rollback(self._pg)
                raise
            return result
        except PqError as err:
            raise translate(err, self.url) from None
        except CorruptStore as err:
            raise naming_store(err, redact(self.url)) from None

    def integrity_check(self) -> str:
        """PostgreSQL checks its own pages; "ok" when the server answers."""
        return "ok" if self._read(ping()) else "no answer"

    def backup(self, target: str | os.PathLike[str]) -> Path:
        """Online backup is SQLite's; a PostgreSQL store moves with export and import."""
        raise StoreError(
            "backup copies a SQLite store; for PostgreSQL use `swarm memory export` or pg_dump"
        )


def ping() -> Steps[bool]:
    rows = yield ("SELECT true", ())
    return bool(rows[0][0])
