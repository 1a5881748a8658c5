"""What is particular to the PostgreSQL store: its schema and migrations, refusing what is
not ours, URLs without passwords in messages, GLOB as SQLite reads it, retried lock
conflicts, and moving a store between backends exactly."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from memory import pg, sql
from memory.backends import open_store
from memory.errors import NoStore, NotASwarmStore, StoreError, StoreUnreachable
from memory.libpq import PqError
from memory.locator import pg_url, redact, url_path
from memory.records import Put
from tests.memory.conftest import FakeClock, subprocess_env
from tests.pg import Schemas, admin


def _columns(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql.PG_TABLES).fetchall()


def _triggers(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT event_object_table, trigger_name FROM information_schema.triggers "
            "WHERE trigger_schema = current_schema() ORDER BY 1, 2"
        ).fetchall()


def test_a_fresh_schema_equals_the_migrated_one(pg_schemas: Schemas, clock: FakeClock) -> None:
    fresh, migrated = pg_schemas.new(), pg_schemas.new()
    open_store(fresh, create=True, clock=clock).close()
    with psycopg.connect(migrated, autocommit=True) as conn:
        pg.drive(conn, pg.setup(migrated, clock(), create=True, fresh=False))
    assert _columns(fresh) == _columns(migrated)
    assert _triggers(fresh) == _triggers(migrated) == [("store_meta", "store_meta_notify")]
    with psycopg.connect(migrated, autocommit=True) as conn:
        recorded = conn.execute("SELECT version, name FROM migrations ORDER BY 1").fetchall()
    assert recorded == [(number, name) for number, name, _ in sql.MIGRATIONS]
    # Keys compare byte-wise, as SQLite's BINARY collation does.
    assert ("kv", "key", "text", "NO", "C") in _columns(fresh)


def test_a_schema_holding_other_tables_is_refused_and_left_alone(pg_schemas: Schemas) -> None:
    url = pg_schemas.new()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(NotASwarmStore, match="refusing"):
        open_store(url, create=True)
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()
    assert tables == [("invoices",)]


def test_opening_an_empty_schema_says_to_run_init(pg_schemas: Schemas) -> None:
    with pytest.raises(NoStore, match="swarm init --db"):
        open_store(pg_schemas.new())


def test_an_unreachable_server_is_one_error_naming_the_url_without_its_password() -> None:
    url = "postgresql://swarm:s3cret@127.0.0.1:9/test"
    with pytest.raises(StoreUnreachable) as caught:
        open_store(url)
    message = caught.value.message
    assert "postgresql://swarm:***@127.0.0.1:9/test" in message
    assert "s3cret" not in str(caught.value)


def test_a_url_is_carried_by_a_path_and_redacted() -> None:
    url = "postgresql://u:p%40ss@db.example:5433/swarm?sslmode=require"
    path = url_path(url, Path("/repo/.swarm"))
    assert path.parent == Path("/repo/.swarm")
    assert pg_url(path) == pg_url(str(path)) == url
    assert pg_url(Path("/repo/.swarm/memory.db")) is None
    assert redact(url) == "postgresql://u:***@db.example:5433/swarm?sslmode=require"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact("postgresql:///db?host=/run/pg") == "postgresql:///db?host=/run/pg"
    assert redact("postgresql://u:pw@[::1]:5432/db") == "postgresql://u:***@[::1]:5432/db"


GLOBS = ["a/*", "a/?", "*c*", "[ab]/*", "[^a]/*", "[]]x", "a.b", "*[0-9]", "a\\b", "x/y*z"]
KEYS = ["a/b", "a/bc", "b/c", "c/d", "]x", "a.b", "axb", "k9", "a\\b", "x/y-z", "x/yz"]


def test_globs_match_on_postgresql_what_they_match_on_sqlite() -> None:
    lite = sqlite3.connect(":memory:")
    with admin() as conn:
        for glob in GLOBS:
            regex = pg.glob_to_regex(glob)
            for key in KEYS:
                expected = lite.execute("SELECT ? GLOB ?", (key, glob)).fetchone()[0]
                row = conn.execute("SELECT %s ~ %s", (key, regex)).fetchone()
                assert row is not None
                assert bool(row[0]) == bool(expected), (glob, key)


def test_a_serialization_failure_taking_the_write_lock_is_retried(
    pg_schemas: Schemas, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(pg_schemas.new(), create=True)
    assert isinstance(store, pg.PgStore)
    failures = iter(["40001", "40P01"])  # a serialization failure, then a deadlock
    real = store._pg.execute

    def flaky(query: Any, params: Any = None) -> Any:
        if query == sql.PG_LOCK_WRITERS:
            state = next(failures, None)
            if state is not None:
                real("SELECT 1")
                raise PqError("injected", state)
        return real(query, params)

    monkeypatch.setattr(store._pg, "execute", flaky)
    assert store.put("k", 1).mod_rev == 1
    assert next(failures, None) is None
    monkeypatch.undo()
    # Any other error is not retried: it is the project's own, once.
    monkeypatch.setattr(store._pg, "execute", _raising(PqError("boom", "XX000"), real))
    with pytest.raises(StoreError, match="boom"):
        store.put("k", 2)
    store.close()


def _raising(error: Exception, real: Any) -> Any:
    def execute(query: Any, params: Any = None) -> Any:
        if query == sql.PG_LOCK_WRITERS:
            raise error
        return real(query, params)

    return execute


def test_the_hook_path_never_imports_psycopg(pg_schemas: Schemas) -> None:
    url = pg_schemas.new()
    open_store(url, create=True).close()
    code = (
        "import sys\n"
        "from memory.backends import open_store\n"
        f"with open_store({url!r}) as s:\n"
        "    s.put('k', {'v': [1.5, None, True]})\n"
        "    assert s.get('k').value == {'v': [1.5, None, True]}\n"
        "assert 'psycopg' not in sys.modules, 'psycopg imported'\n"
        "assert 'asyncio' not in sys.modules, 'asyncio imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_moving_a_store_between_backends_is_exact(
    pg_schemas: Schemas, tmp_path: Path, clock: FakeClock
) -> None:
    with open_store(tmp_path / "first.db", create=True, clock=clock) as lite:
        lite.put("a/one", {"n": 1})
        lite.put("a/one", {"n": 2})
        lite.txn([], [Put("b/two", "[2]"), Put("lease/x", '"held"', ttl=60)])
        lite.delete("b/two")
        lite.put("c/three", "drei ✓")
        exported = io.StringIO()
        lite.export(exported)
        records, revision = lite.list_prefix(), lite.revision()

    with open_store(pg_schemas.new(), create=True, clock=clock) as server:
        server.import_(io.StringIO(exported.getvalue()))
        assert server.list_prefix() == records
        assert server.revision() == revision
        again = io.StringIO()
        server.export(again)

    with open_store(tmp_path / "back.db", create=True, clock=clock) as back:
        back.import_(io.StringIO(again.getvalue()))
        assert back.list_prefix() == records
        assert back.revision() == revision
    assert again.getvalue() == exported.getvalue()


def test_an_older_schema_is_migrated_on_open_and_the_migration_recorded(
    pg_schemas: Schemas, clock: FakeClock
) -> None:
    url = pg_schemas.new()
    number, name, statements = sql.MIGRATIONS[0]
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in (*statements, *sql.PG_NOTIFY_SETUP):
            conn.execute(sql.postgres(statement))
        conn.execute(sql.postgres(sql.RECORD_MIGRATION), (number, name, clock()))
    with open_store(url, clock=clock) as store:
        store.put("k", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM migrations ORDER BY 1")]
        indexes = {
            row[0]
            for row in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
            )
        }
    assert versions == [n for n, _, _ in sql.MIGRATIONS]
    # Migration 2 made both indexes, migration 3 dropped the per-key history index.
    assert "kv_expires_at" in indexes
    assert "changes_key_rev" not in indexes
