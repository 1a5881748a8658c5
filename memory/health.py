"""The store's health as SQLite sees it: identity, schema version, page integrity, and
whether every stored value decodes. `swarm doctor` reports it; the daemon refuses to
start on a store that fails the quick check.

The file (or the PostgreSQL schema) is only read, never migrated, so that a broken,
foreign or older store can be examined without being changed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from memory import sql
from memory.errors import NoStore, ReadOnlyStore
from memory.locator import pg_url, redact
from memory.schema import corrupt, on_read_only_fs, open_uri


class StoreHealth(NamedTuple):
    """What a check found: the identity read, and a line per problem (none when sound)."""

    path: Path
    application_id: int | None
    schema_version: int | None
    problems: tuple[str, ...]

    @property
    def sound(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


def check_store(path: Path, *, quick: bool = False) -> StoreHealth:
    """Examine the store at `path`: its application id and schema version, SQLite's
    integrity check (`quick`: the faster quick_check, which skips index contents), and
    (unless `quick`) that every stored value decodes as JSON.

    A PostgreSQL store has no page checks to run here (the server keeps its own): it is
    sound when its schema holds a swarm store of a version this swarm knows and, unless
    `quick`, every value decodes."""
    url = pg_url(path)
    if url is not None:
        return _check_postgres(path, url, quick)
    if not path.is_file():
        raise NoStore(f"no swarm store at {path}; run `swarm init` first")
    uri = open_uri(path).replace("?mode=rw", "?mode=ro")
    app_id: int | None = None
    version: int | None = None
    problems: list[str] = []
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as err:
        return StoreHealth(path, None, None, (f"cannot open: {err}",))
    try:
        row = conn.execute(sql.READ_IDENTITY).fetchone()
        app_id, version = int(row[0]), int(row[1])
        if app_id != sql.APPLICATION_ID:
            problems.append(
                f"application_id is {app_id:#x}, not {sql.APPLICATION_ID:#x}: not a swarm store"
            )
        if version > sql.SCHEMA_VERSION:
            # An older version is no problem: opening the store migrates it.
            problems.append(
                f"schema version {version} is newer than this swarm's {sql.SCHEMA_VERSION}"
            )
        check = sql.QUICK_CHECK if quick else sql.INTEGRITY_CHECK
        verdict = [str(r[0]) for r in conn.execute(check).fetchall()]
        if verdict != ["ok"]:
            problems += [f"integrity: {line}" for line in verdict[:20]]
        if not quick and not problems:
            conn.text_factory = bytes
            problems += _undecodable(conn.execute(sql.ALL_VALUES))
    except sqlite3.Error as err:
        problems.append(f"unreadable: {err}")
    finally:
        conn.close()
    return StoreHealth(path, app_id, version, tuple(problems))


def _check_postgres(path: Path, url: str, quick: bool) -> StoreHealth:
    """The PostgreSQL form of the check, on one connection of its own that only reads:
    the store's identity and version as opening it checks them (never migrated, never
    created) and, unless `quick`, every value."""
    from memory.errors import SwarmError
    from memory.libpq import Connection, PqError
    from memory.pg import connect_settings, drive, setup, translate

    shown = Path(redact(url))
    try:
        conn = Connection(url, connect_settings(url, "swarm-doctor"))
    except PqError as err:
        return StoreHealth(shown, None, None, (translate(err, url).message,))
    try:
        drive(conn, setup(url, 0.0, create=False, migrate_older=False))
        version = int(conn.execute(sql.PG_SCHEMA_VERSION).fetchall()[0][0])
        problems: list[str] = []
        if not quick:
            rows = conn.execute(sql.postgres(sql.ALL_VALUES)).fetchall()
            problems += _undecodable((str(k), str(v).encode("utf-8")) for k, v in rows)
        return StoreHealth(shown, None, version, tuple(problems))
    except PqError as err:
        return StoreHealth(shown, None, None, (translate(err, url).message,))
    except SwarmError as err:  # no store, not a swarm store, a newer schema
        return StoreHealth(shown, None, None, (err.message,))
    finally:
        conn.close()


def _undecodable(rows: Iterable[tuple[str | bytes, bytes]]) -> list[str]:
    """A line for each (key, value) whose value is not JSON in UTF-8."""
    found = []
    for key, value in rows:
        try:
            json.loads(value.decode("utf-8"))
        except (ValueError, RecursionError):
            name = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
            found.append(f"the value of {name!r} does not decode")
    return found


def require_sound(path: Path) -> None:
    """CorruptStore (one line naming the store and `swarm doctor`) unless the store passes
    the quick check. The daemon runs this once as it starts."""
    if pg_url(path) is None and path.is_file() and on_read_only_fs(path):
        # Not damage: SQLite cannot open a WAL store where it cannot write its -shm file.
        raise ReadOnlyStore(
            f"{path} is on a read-only file system; the daemon needs to write the store"
        )
    health = check_store(path, quick=True)
    if not health.sound:
        raise corrupt(path, health.problems[0])
