"""Store identity and schema: refuse foreign files, create fresh stores, run migrations;
and a SQLite connection to a store: the URI that opens it, its set-up on connect, how
engine steps run on it, and its driver errors as the project's own.

The checks are written as engine steps so that both drivers run them; PostgreSQL reuses
the migrations (`memory.pg.setup`).
"""

from __future__ import annotations

import os
import sqlite3

from memory import sql
from memory.errors import (
    CorruptStore,
    NotASwarmStore,
    ReadOnlyStore,
    SchemaTooNew,
    StoreError,
    StoreLocked,
    SwarmError,
)

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from types import TracebackType
    from typing import TypeVar

    from memory.engine import Steps
    from memory.locator import StrPath

    T = TypeVar("T")


def read_identity() -> Steps[tuple[int, int]]:
    """(application_id, user_version) of the open database."""
    rows = yield (sql.READ_IDENTITY, ())
    return int(rows[0][0]), int(rows[0][1])


def check_identity(path: StrPath) -> Steps[int]:
    """Refuse a database that is not a swarm store; return its schema version."""
    app_id, version = yield from read_identity()
    if app_id != sql.APPLICATION_ID:
        raise NotASwarmStore(
            f"{path} is not a swarm store (application_id {app_id:#x}); refusing to touch it"
        )
    if version > sql.SCHEMA_VERSION:
        raise SchemaTooNew(
            f"{path} has schema version {version}, newer than this swarm's "
            f"{sql.SCHEMA_VERSION}; upgrade swarm-coordinator"
        )
    return version


def migrate(from_version: int, now: float, *, user_version: bool = True) -> Steps[int]:
    """Apply and record every migration after `from_version`; return the new version.
    `user_version` also sets SQLite's `PRAGMA user_version` (PostgreSQL has none: its
    version is the migrations table's newest)."""
    version = from_version
    for number, name, statements in sql.MIGRATIONS:
        if number <= from_version:
            continue
        for statement in statements:
            yield (statement, ())
        yield (sql.RECORD_MIGRATION, (number, name, now))
        if user_version:
            yield (sql.set_user_version(number), ())
        version = number
    return version


def create_fresh(now: float) -> Steps[None]:
    """Create the current schema in one step in an empty database, recording all migrations."""
    yield (sql.set_application_id(), ())
    for statement in sql.FRESH_SCHEMA:
        yield (statement, ())
    for number, name, _ in sql.MIGRATIONS:
        yield (sql.RECORD_MIGRATION, (number, name, now))
    yield (sql.set_user_version(sql.SCHEMA_VERSION), ())


def translate(err: sqlite3.Error, path: StrPath) -> SwarmError:
    """The project's error for a driver error; no driver exception leaves memory/."""
    text = str(err)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return StoreLocked(f"{path} is locked by another writer (busy timeout ran out); retry")
    if any(sign in lowered for sign in _CORRUPTION):
        return corrupt(path, text)
    if (
        "readonly" in lowered
        or "read-only" in lowered
        or on_read_only_fs(os.path.dirname(path) or ".")
    ):
        # A WAL store cannot even be opened where SQLite cannot write its -shm file.
        return ReadOnlyStore(f"{path} is on a read-only file system or read-only: {text}")
    return StoreError(f"store error on {path}: {text}")


def on_read_only_fs(path: StrPath) -> bool:
    """Whether the file system holding `path` is mounted read-only."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


#: What SQLite says when a file's pages or text cannot be read as what they should be.
_CORRUPTION = ("not a database", "malformed", "disk image", "could not decode", "corrupt")
_DOCTOR = "run `swarm doctor`"


def corrupt(path: StrPath, problem: str) -> CorruptStore:
    """The one line for a store that cannot be decoded: the store, the problem, the cure."""
    problem = " ".join(problem.split())
    problem = "".join(c for c in problem if c.isprintable())
    if len(problem) > 120:
        problem = problem[:117] + "..."
    return CorruptStore(f"{path} is corrupt ({problem}); {_DOCTOR} --db {path}")


class translated:  # named as the function it was: `with translated(path):`
    """Re-raise any sqlite3 error (and any stored value that does not decode) inside the
    block as the project's own error, naming the store. (A class rather than a
    contextmanager generator: the hook path does not import contextlib.)"""

    def __init__(self, path: StrPath) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(err, sqlite3.Error):
            raise translate(err, self.path) from None
        if isinstance(err, CorruptStore):
            raise naming_store(err, self.path) from None


def naming_store(err: CorruptStore, path: StrPath) -> CorruptStore:
    """`err` as the one line that names the store and `swarm doctor`."""
    return err if _DOCTOR in err.message else corrupt(path, err.message)


# --- a SQLite connection to a store ------------------------------------------------------


def drive(conn: sqlite3.Connection, steps: Steps[T]) -> T:
    """Run engine steps on a connection: execute each query, send back its rows.

    A SQLite store does not write the revision into its header: the revision is the change
    log's newest (see `sql.READ_META`), so `SET_REVISION` is skipped.
    """
    try:
        query = next(steps)
        while True:
            if query[0] is sql.SET_REVISION:
                rows = []
            else:
                rows = conn.execute(query[0], query[1]).fetchall()
            query = steps.send(rows)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


#: What `Path.as_uri()` leaves unquoted in a POSIX path (urllib.parse's safe characters).
_URI_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def open_uri(path: str | os.PathLike[str]) -> str:
    """The URI that opens an existing database read-write and never creates one.

    The path is percent-encoded: a raw `?`, `#` or `%` in it would otherwise be read as
    URI syntax and open (or create) a different file. The same URI as
    `Path(path).resolve().as_uri()`, without pathlib where no character needs quoting.
    """
    resolved = os.path.realpath(path)
    if not _URI_SAFE.issuperset(resolved):
        from urllib.parse import quote_from_bytes

        resolved = quote_from_bytes(os.fsencode(resolved))
    return f"file://{resolved}?mode=rw"


def skip_close_checkpoint(conn: sqlite3.Connection) -> bool:
    """Let closing `conn` leave the WAL to the next checkpoint, where the driver allows it.

    The last connection to close a WAL database checkpoints it (fsyncs included): without
    a daemon holding the store open, every hook would pay for that. SQLite's
    `SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE` skips it; the standard module exposes it from
    Python 3.12 (`Connection.setconfig`), and 3.11 has no way to reach it. The WAL stays
    bounded either way: every commit that grows it past `wal_autocheckpoint` (1000 pages)
    checkpoints it, and `journal_size_limit` truncates it afterwards. True when skipped.
    """
    conn.execute(sql.SET_JOURNAL_SIZE_LIMIT)
    option = getattr(sqlite3, "SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE", None)
    setconfig = getattr(conn, "setconfig", None)
    if option is None or setconfig is None:
        return False
    setconfig(option, True)
    return True


def prepare(conn: sqlite3.Connection, db: str | os.PathLike[str], now: float) -> None:
    """Set up a fresh connection: pragmas, refuse a foreign file, migrate an old schema.
    Both stores run this on the connection they open."""
    conn.execute(sql.SET_SYNCHRONOUS)
    skip_close_checkpoint(conn)
    version = drive(conn, check_identity(db))
    if version < sql.SCHEMA_VERSION:
        conn.execute(sql.BEGIN_WRITE)
        try:
            # Another process may have migrated while we waited for the write lock.
            version = drive(conn, check_identity(db))
            drive(conn, migrate(version, now))
            conn.execute(sql.COMMIT)
        except BaseException:
            conn.execute(sql.ROLLBACK)
            raise
