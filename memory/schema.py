"""Store identity and schema: refuse foreign files, create fresh stores, run migrations.

Written as engine steps so that both drivers run the same checks.
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

    from memory.engine import Steps
    from memory.locator import StrPath


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
