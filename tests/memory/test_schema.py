"""The store file: a fresh schema equals the migrated one, old stores migrate, and files
that are not (or no longer) ours are refused without being touched.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from memory import schema, sql
from memory.backends import open_async_store, open_store
from memory.errors import CorruptStore, NoStore, NotASwarmStore, SchemaTooNew
from memory.records import Record
from tests.memory.conftest import CLOCK_START, FakeClock

if TYPE_CHECKING:
    from memory.engine import Steps

Opener = Callable[[Path], None]


def _open_sync(path: Path) -> None:
    open_store(path).close()


def _open_async(path: Path) -> None:
    async def go() -> None:
        store = await open_async_store(path)
        await store.close()

    asyncio.run(go())


def _create_sync(path: Path) -> None:
    open_store(path, create=True).close()


@pytest.fixture(
    params=[_open_sync, _open_async, _create_sync], ids=["open_store", "open_async_store", "create"]
)
def way_in(request: pytest.FixtureRequest) -> Opener:
    """Each way in that must refuse a file that is not a usable swarm store."""
    opener: Opener = request.param
    return opener


def _drive(conn: sqlite3.Connection, steps: Steps[Any]) -> Any:
    """Run engine steps on a raw connection, the way the stores do."""
    try:
        query = next(steps)
        while True:
            query = steps.send(conn.execute(*query).fetchall())
    except StopIteration as stop:
        return stop.value


@pytest.fixture
def raw() -> Iterator[Callable[[Path], sqlite3.Connection]]:
    """Open plain sqlite3 connections (autocommit), closed at the end of the test."""
    conns: list[sqlite3.Connection] = []

    def connect(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None)
        conns.append(conn)
        return conn

    yield connect
    for conn in conns:
        conn.close()


def _schema_of(conn: sqlite3.Connection) -> list[tuple[str, str, str, str | None]]:
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).fetchall()
    return [
        (kind, name, table, None if text is None else re.sub(r"\s+", " ", text).strip())
        for kind, name, table, text in rows
    ]


def _identity(conn: sqlite3.Connection) -> tuple[int, int]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    return app_id, version


def _migrations(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    return conn.execute("SELECT version, name FROM migrations ORDER BY version").fetchall()


def _build_version_1(conn: sqlite3.Connection, now: float) -> None:
    """A store as the first release wrote it: only migration 1, recorded, user_version 1."""
    number, name, statements = sql.MIGRATIONS[0]
    assert number == 1
    conn.execute(f"PRAGMA application_id = {sql.APPLICATION_ID}")
    conn.execute("BEGIN")
    for statement in statements:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)", (1, name, now)
    )
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")


# --- fresh schema == migrated schema -----------------------------------------------------


def test_a_fresh_schema_equals_the_migrated_schema(
    tmp_path: Path, raw: Callable[[Path], sqlite3.Connection]
) -> None:
    open_store(tmp_path / "fresh.db", create=True).close()
    fresh = raw(tmp_path / "fresh.db")

    migrated = raw(tmp_path / "migrated.db")
    migrated.execute(sql.set_application_id())
    migrated.execute("BEGIN")
    assert _drive(migrated, schema.migrate(0, CLOCK_START)) == sql.SCHEMA_VERSION
    migrated.execute("COMMIT")

    assert _schema_of(fresh) == _schema_of(migrated)
    assert {row[1] for row in _schema_of(fresh)} >= {
        "store_meta",
        "kv",
        "changes",
        "migrations",
        "kv_expires_at",
    }
    assert "changes_key_rev" not in {row[1] for row in _schema_of(fresh)}
    assert _migrations(fresh) == _migrations(migrated)
    assert [row[0] for row in _migrations(fresh)] == [m[0] for m in sql.MIGRATIONS]
    assert _identity(fresh) == _identity(migrated) == (sql.APPLICATION_ID, sql.SCHEMA_VERSION)
    meta = "SELECT * FROM store_meta"
    assert fresh.execute(meta).fetchall() == migrated.execute(meta).fetchall()
    assert fresh.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    # The migrated file is a store like any other.
    with open_store(tmp_path / "migrated.db") as store:
        assert store.put("k", 1).mod_rev == 1


def test_migrations_are_numbered_one_by_one() -> None:
    assert [m[0] for m in sql.MIGRATIONS] == list(range(1, len(sql.MIGRATIONS) + 1))
    assert len(sql.MIGRATIONS) == sql.SCHEMA_VERSION


# --- migrating an older store ------------------------------------------------------------


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_a_version_1_store_is_migrated_on_open_and_keeps_its_data(
    tmp_path: Path, raw: Callable[[Path], sqlite3.Connection], driver: str
) -> None:
    path = tmp_path / "old.db"
    old = raw(path)
    _build_version_1(old, CLOCK_START - 100)
    old.execute("UPDATE store_meta SET revision = 2")
    old.execute(
        "INSERT INTO kv (key, value, version, create_rev, mod_rev, expires_at) "
        "VALUES ('phase1/task/status', '\"complete\"', 2, 1, 2, NULL)"
    )
    for rev, value in [(1, '"pending"'), (2, '"complete"')]:
        old.execute(
            "INSERT INTO changes (rev, seq, key, op, value, version, actor, ts) "
            "VALUES (?, 1, 'phase1/task/status', 'put', ?, ?, 'old-agent', ?)",
            (rev, value, rev, CLOCK_START - 100 + rev),
        )
    old.close()

    clock = FakeClock()
    if driver == "sync":
        with open_store(path, clock=clock) as store:
            assert store.require("phase1/task/status") == Record(
                "phase1/task/status", "complete", 2, 1, 2
            )
            assert [c.value for c in store.history("phase1/task/status")] == [
                "pending",
                "complete",
            ]
            assert store.put("phase1/task/status", "failed").mod_rev == 3
    else:

        async def go() -> None:
            store = await open_async_store(path, clock=clock)
            try:
                record = await store.require("phase1/task/status")
                assert record == Record("phase1/task/status", "complete", 2, 1, 2)
                history = await store.history("phase1/task/status")
                assert [c.value for c in history] == ["pending", "complete"]
                assert (await store.put("phase1/task/status", "failed")).mod_rev == 3
            finally:
                await store.close()

        asyncio.run(go())

    migrated = raw(path)
    assert _identity(migrated) == (sql.APPLICATION_ID, sql.SCHEMA_VERSION)
    rows = migrated.execute(
        "SELECT version, name, applied_at FROM migrations ORDER BY version"
    ).fetchall()
    assert rows == [
        (number, name, CLOCK_START - 100 if number == 1 else CLOCK_START)
        for number, name, _ in sql.MIGRATIONS
    ]
    open_store(tmp_path / "fresh.db", create=True).close()
    assert _schema_of(migrated) == _schema_of(raw(tmp_path / "fresh.db"))


def test_opening_a_current_store_runs_no_migration(
    tmp_path: Path, raw: Callable[[Path], sqlite3.Connection]
) -> None:
    path = tmp_path / "memory.db"
    with open_store(path, create=True, clock=FakeClock(100.0)) as store:
        store.put("k", 1)
    with open_store(path, clock=FakeClock(200.0)) as store:
        assert store.require("k").value == 1
    # Creating again is idempotent: it opens the existing store and keeps its data.
    with open_store(path, create=True, clock=FakeClock(300.0)) as store:
        assert store.require("k").value == 1
    applied = raw(path).execute("SELECT DISTINCT applied_at FROM migrations").fetchall()
    assert applied == [(100.0,)]


# --- files that are not ours ---------------------------------------------------------------


def _listing(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_a_file_with_another_application_id_is_refused_untouched(
    tmp_path: Path, way_in: Opener
) -> None:
    path = tmp_path / "memory.db"
    with closing(sqlite3.connect(path)) as other:
        other.execute("PRAGMA application_id = 305419896")  # 0x12345678
        other.execute("PRAGMA user_version = 1")
        other.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT)")
        other.execute("INSERT INTO kv VALUES ('theirs', 'keep me')")
        other.commit()
    before = _listing(tmp_path)

    with pytest.raises(NotASwarmStore) as refused:
        way_in(path)
    assert "0x12345678" in str(refused.value)
    assert _listing(tmp_path) == before


def test_a_sqlite_file_without_an_application_id_is_refused_untouched(
    tmp_path: Path, way_in: Opener
) -> None:
    path = tmp_path / "memory.db"
    with closing(sqlite3.connect(path)) as other:
        other.execute("PRAGMA journal_mode = WAL")
        other.execute("CREATE TABLE notes (body TEXT)")
        other.execute("INSERT INTO notes VALUES ('another tool')")
        other.commit()
    before = path.read_bytes()

    with pytest.raises(NotASwarmStore):
        way_in(path)
    assert path.read_bytes() == before


def test_a_garbage_file_is_corrupt(tmp_path: Path, way_in: Opener) -> None:
    path = tmp_path / "memory.db"
    path.write_bytes(b"this is not an SQLite database at all\n" * 200)
    before = _listing(tmp_path)
    with pytest.raises(CorruptStore):
        way_in(path)
    assert _listing(tmp_path) == before


def test_a_store_with_a_damaged_header_is_corrupt(tmp_path: Path, way_in: Opener) -> None:
    path = tmp_path / "memory.db"
    with open_store(path, create=True) as store:
        store.put("k", 1)
    # A valid SQLite file whose first page was overwritten no longer reads as a database.
    data = bytearray(path.read_bytes())
    data[:16] = b"garbage garbage!"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptStore):
        way_in(path)


def test_values_edited_around_the_store_read_as_json_reads_them(tmp_path: Path) -> None:
    # The store writes compact JSON and reads it with raw_decode; anything else (here
    # blanks around a value, or text after it) goes the way json.loads goes.
    path = tmp_path / "memory.db"
    with open_store(path, create=True) as store:
        store.put("spaced", 1)
        store.put("trailing", 1)
    with closing(sqlite3.connect(path)) as raw:
        raw.execute("UPDATE kv SET value = ? WHERE key = 'spaced'", (' {"a": [1, 2]}\n',))
        raw.execute("UPDATE kv SET value = ? WHERE key = 'trailing'", ('{"a": 1} and more',))
        raw.commit()
    with open_store(path) as store:
        spaced = store.get("spaced")
        assert spaced is not None and spaced.value == {"a": [1, 2]}
        with pytest.raises(CorruptStore, match="'trailing'"):
            store.get("trailing")


@pytest.mark.parametrize("opener", [_open_sync, _open_async], ids=["sync", "async"])
def test_a_missing_file_is_no_store_and_is_not_created(tmp_path: Path, opener: Opener) -> None:
    path = tmp_path / "nowhere" / "memory.db"
    with pytest.raises(NoStore):
        opener(path)
    with pytest.raises(NoStore):
        opener(tmp_path)  # a directory is not a store either
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_store_from_a_newer_release_is_refused(
    tmp_path: Path, raw: Callable[[Path], sqlite3.Connection], way_in: Opener
) -> None:
    path = tmp_path / "memory.db"
    with open_store(path, create=True) as store:
        store.put("k", 1)
    raw(path).execute(f"PRAGMA user_version = {sql.SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew):
        way_in(path)
    assert path.read_bytes() == before


# --- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize("directory", ["with space", "a?b", "c#d", "e%41f", "[g]"])
def test_a_path_with_uri_characters_opens_that_very_file(tmp_path: Path, directory: str) -> None:
    path = tmp_path / directory / "memory.db"
    with open_store(path, create=True) as store:
        store.put("k", directory)

    with open_store(path) as store:
        assert store.require("k").value == directory

    async def go() -> str:
        async with await open_async_store(path) as store:
            return str((await store.require("k")).value)

    assert asyncio.run(go()) == directory
    # Nothing was opened or created beside it under a mangled name.
    assert [p.name for p in tmp_path.iterdir()] == [directory]
    assert {p.name for p in path.parent.iterdir()} <= {
        "memory.db",
        "memory.db-wal",
        "memory.db-shm",
    }


# --- where the revision lives ------------------------------------------------------------


def test_a_sqlite_write_leaves_the_header_alone_and_compaction_hands_it_the_revision(
    tmp_path: Path, raw: Callable[[Path], sqlite3.Connection]
) -> None:
    """On SQLite the revision is the change log's newest: a put writes the key, the log and
    its index, not the header row (a fourth page per commit). Compaction, which can empty
    the log, first stores the revision in the header."""
    path = tmp_path / "s.db"
    with open_store(path, create=True, clock=FakeClock()) as store:
        for n in range(3):
            store.put("k", n)
        assert store.revision() == 3
        header = raw(path).execute("SELECT revision FROM store_meta").fetchone()[0]
        assert header == 0
        store.compact(3)
        assert raw(path).execute("SELECT revision FROM store_meta").fetchone()[0] == 3
        assert store.change_count() == 0
        assert store.revision() == 3
        assert store.put("k", 9).mod_rev == 4
