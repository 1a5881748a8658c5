"""The PostgreSQL store: the same engine and statements as the SQLite store, over psycopg 3.

`PgStore` is the synchronous twin for hook processes (one connection, no pool);
`memory.pg_aio.AsyncPgStore` serves the daemon from a connection pool. Both drive `memory.engine`
steps, with each statement put in PostgreSQL's dialect by `memory.sql.postgres`.

Writers take the store header's row lock first (`FOR UPDATE`), as SQLite writers take
`BEGIN IMMEDIATE`: write transactions run one at a time under READ COMMITTED and see
each other's commits, so the revision counter, CAS and the change log keep SQLite's
semantics exactly. Reads run in REPEATABLE READ READ ONLY snapshots. A serialization
failure or deadlock can only arise while a writer waits for that lock; it is retried
there, inside the store. Every committed write bumps the revision once, and a trigger
sends one NOTIFY carrying it (see `sql.PG_NOTIFY_SETUP`), which `wakeups` listens for.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors

from memory import sql
from memory.engine import Steps
from memory.errors import (
    NoStore,
    NotASwarmStore,
    SchemaTooNew,
    StoreError,
    StoreLocked,
    StoreUnreachable,
    SwarmError,
)
from memory.locator import redact
from memory.settings import env_seconds
from memory.store import Store, resolve_timeout

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

RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)


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


def translate(err: psycopg.Error, url: str) -> SwarmError:
    """The project's error for a driver error, naming the store without its password."""
    where = redact(url)
    lines = str(err).strip().splitlines()
    first = lines[0] if lines else type(err).__name__
    if isinstance(err, pg_errors.LockNotAvailable | pg_errors.QueryCanceled):
        return StoreLocked(f"{where} is locked by another writer (lock timeout ran out); retry")
    if isinstance(err, pg_errors.InsufficientPrivilege):
        return StoreError(f"the role lacks a privilege on {where}: {first}")
    if isinstance(err, psycopg.OperationalError):
        return StoreUnreachable(f"cannot reach the PostgreSQL store at {where}: {first}")
    return StoreError(f"store error on {where}: {first}")


def connect_kwargs(url: str, application: str) -> dict[str, Any]:
    """Connection settings: autocommit (we send BEGIN/COMMIT), a connect timeout unless
    the URL sets one, and an application name that shows in `pg_stat_activity`."""
    kwargs: dict[str, Any] = {"autocommit": True, "application_name": application}
    if "connect_timeout" not in url:
        timeout = env_seconds("SWARM_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT, positive=True)
        kwargs["connect_timeout"] = max(2, round(timeout))
    return kwargs


def pg_statement(query: tuple[str, Any]) -> tuple[str, Any]:
    """One engine query in PostgreSQL's dialect (a key glob becomes a regular expression)."""
    statement, params = query
    if statement == sql.SEARCH_KEYS:
        params = (glob_to_regex(params[0]), *params[1:])
    # Every statement is a constant of memory/sql.py (or built there from constants).
    return sql.postgres(statement), (params or None)


def drive(conn: psycopg.Connection[Any], steps: Steps[T]) -> T:
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
    for number, name, statements in sql.MIGRATIONS:
        if number <= from_version:
            continue
        for statement in statements:
            yield (statement, ())
        yield (sql.RECORD_MIGRATION, (number, name, now))
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


def setup(url: str, now: float, *, create: bool, fresh: bool = True) -> Steps[tuple[str, bool]]:
    """Check that the schema holds a swarm store (creating it with `create`), migrate it if
    it is older than ours; return the schema's name and whether the store was created now.
    Runs its own transactions."""
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
    if version < sql.SCHEMA_VERSION:
        yield (sql.PG_BEGIN_WRITE, ())
        yield (sql.PG_LOCK_SCHEMA, ())
        rows = yield (sql.PG_SCHEMA_VERSION, ())
        yield from _migration_steps(int(rows[0][0]), now)
        yield (sql.COMMIT, ())
    return str(schema), created


def _rollback(conn: psycopg.Connection[Any]) -> None:
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE and not conn.closed:
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
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
        conn: psycopg.Connection[Any],
        url: str,
        path: Path,
        schema: str,
        *,
        clock: Clock = time.time,
        actor: str | None = None,
    ) -> None:
        self._pg = conn
        self.url = url
        self.schema = schema
        self.path = path
        self.clock = clock
        self.actor = actor
        #: Whether opening this store created it (`swarm init` says so).
        self.created = False

    @classmethod
    def connect(
        cls,
        url: str,
        path: Path,
        *,
        create: bool = False,
        clock: Clock = time.time,
        actor: str | None = None,
        busy_timeout: float | None = None,
    ) -> PgStore:
        """Connect to the store at `url` (creating its schema with `create`)."""
        try:
            conn = psycopg.connect(url, **connect_kwargs(url, "swarm"))
        except psycopg.Error as err:
            raise translate(err, url) from None
        try:
            conn.execute(lock_timeout_statement(busy_timeout))
            schema, created = drive(conn, setup(url, clock(), create=create))
        except psycopg.Error as err:
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

    def _read(self, steps: Steps[T]) -> T:
        try:
            self._pg.execute(sql.PG_BEGIN_READ)
            try:
                return drive(self._pg, steps)
            finally:
                _rollback(self._pg)
        except psycopg.Error as err:
            raise translate(err, self.url) from None

    def _begin_write(self) -> None:
        for attempt in range(LOCK_RETRIES):
            try:
                self._pg.execute(sql.PG_BEGIN_WRITE)
                self._pg.execute(sql.PG_LOCK_WRITERS)
                return
            except RETRYABLE:
                _rollback(self._pg)
                if attempt == LOCK_RETRIES - 1:
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
        except psycopg.Error as err:
            raise translate(err, self.url) from None

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


# --- wake-ups: LISTEN/NOTIFY with a periodic backstop ------------------------------------


def listen_statement(schema: str) -> psycopg.sql.Composed:
    from psycopg import sql as pgsql

    return pgsql.SQL("LISTEN {}").format(pgsql.Identifier(sql.PG_CHANNEL_PREFIX + schema))


def _listen(url: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, **connect_kwargs(url, "swarm-watch"))
    try:
        row = conn.execute("SELECT current_schema()").fetchone()
        if row is None or row[0] is None:
            raise NoStore(f"{redact(url)}: the search_path names no existing schema")
        conn.execute(listen_statement(str(row[0])))
    except BaseException:
        conn.close()
        raise
    return conn


def wakeups(url: str, poll: float, stop: threading.Event | None = None) -> Iterator[None]:
    """Yield once listening, then on every committed write (NOTIFY) or when `poll` seconds
    pass, until `stop` is set. A lost connection is re-made; each (re)connection and each
    failed attempt yields too, so that the caller catches up (or sees the error)."""
    conn: psycopg.Connection[Any] | None = None
    stopped = stop.is_set if stop is not None else (lambda: False)
    try:
        while not stopped():
            try:
                if conn is None:
                    conn = _listen(url)
                    last = time.monotonic()
                    yield None
                    continue
                step = max(0.0, min(STOP_CHECK, poll - (time.monotonic() - last)))
                notified = any(True for _ in conn.notifies(timeout=step, stop_after=1))
                if notified or time.monotonic() - last >= poll:
                    last = time.monotonic()
                    yield None
            except psycopg.Error:
                if conn is not None:
                    conn.close()
                    conn = None
                if stop is not None:
                    stop.wait(RECONNECT_DELAY)
                else:
                    time.sleep(RECONNECT_DELAY)
                last = time.monotonic()
                yield None
    finally:
        if conn is not None:
            conn.close()


# --- one daemon per store ------------------------------------------------------------------


def holder_name() -> str:
    """How this process shows in `pg_stat_activity` while it holds the daemon lock."""
    # application_name keeps 63 bytes: the pid first, so a long host name is what is cut.
    return f"swarm-daemon pid {os.getpid()} on {socket.gethostname()}"


class AdvisoryLock:
    """One daemon per store across machines: a session-level advisory lock on a connection
    of its own, released by the server when that connection ends.

    A keeper thread checks the connection every second; when it was lost (a server
    restart, a killed backend) it takes the lock again. If another daemon took it
    meanwhile, `on_lost` runs; by default it sends this process SIGTERM, the daemon's
    clean stop, since two daemons must not act on one store.
    """

    def __init__(self, url: str, refuse: Callable[[str], SwarmError]) -> None:
        self.url = url
        self._refuse = refuse
        self._conn: psycopg.Connection[Any] | None = None
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None
        self.on_lost: Callable[[], object] | None = None

    def _take(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.url, **connect_kwargs(self.url, holder_name()))
        try:
            row = conn.execute(sql.PG_TRY_DAEMON_LOCK).fetchone()
            if row is None or not row[0]:
                held = conn.execute(sql.PG_DAEMON_LOCK_HOLDER).fetchone()
                holder = str(held[0]) if held and held[0] else "another session"
                holder = holder.removeprefix("swarm-daemon ")
                raise self._refuse(
                    f"another swarm daemon ({holder}) is already running on this store"
                )
        except BaseException:
            conn.close()
            raise
        return conn

    def acquire(self) -> None:
        """Take the lock or raise the refusal naming the host and pid that hold it."""
        try:
            self._conn = self._take()
        except psycopg.Error as err:
            raise translate(err, self.url) from None
        self._keeper = threading.Thread(target=self._keep, name="swarm-lock-keeper", daemon=True)
        self._keeper.start()

    def _keep(self) -> None:
        while not self._stop.wait(1.0):
            conn = self._conn
            try:
                if conn is None or conn.closed:
                    raise psycopg.OperationalError("lock connection closed")
                conn.execute("SELECT 1")
            except psycopg.Error:
                if conn is not None:
                    conn.close()
                self._conn = None
                try:
                    self._conn = self._take()
                except psycopg.Error:
                    continue  # the server is still away: try again
                except SwarmError:
                    if self.on_lost is not None:
                        self.on_lost()
                    else:
                        os.kill(os.getpid(), signal.SIGTERM)
                    return

    def release(self) -> None:
        """Drop the lock (closing its connection)."""
        self._stop.set()
        if self._keeper is not None:
            self._keeper.join(timeout=5)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
