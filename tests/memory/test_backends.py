"""memory.backends chooses the backend from the target: a file opens the SQLite store, a
URL (or a path standing for one) the PostgreSQL store, and a SQLite store never loads
the PostgreSQL modules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from memory.aio import AsyncStore
from memory.backends import open_async_store, open_store
from memory.locator import url_location, url_path
from memory.pg import PgStore
from memory.pg_aio import AsyncPgStore
from memory.store import Store
from tests.memory.conftest import subprocess_env
from tests.pg import Schemas


def test_a_file_opens_the_sqlite_store_without_the_postgresql_modules(tmp_path: Path) -> None:
    db = tmp_path / "memory.db"
    code = (
        "import sys\n"
        "from memory.backends import open_store\n"
        "with open_store(sys.argv[1], create=True) as s:\n"
        "    s.put('k', 1)\n"
        "with open_store(sys.argv[1]) as s:\n"
        "    assert type(s).__name__ == 'Store', type(s)\n"
        "    assert s.require('k').value == 1\n"
        "loaded = {'memory.pg', 'memory.libpq', 'memory.pg_aio', 'memory.aio', 'psycopg'}\n"
        "assert not loaded & set(sys.modules), sorted(loaded & set(sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(db)],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_a_url_opens_the_postgresql_store_standing_for_the_working_directory(
    pg_schemas: Schemas, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_schemas.new()
    monkeypatch.chdir(tmp_path)
    with open_store(url, create=True) as store:
        assert isinstance(store, PgStore)
        assert store.location == url_location(url, os.getcwd())
    # A path standing for the URL is kept as it is.
    with open_store(url_path(url, tmp_path / ".swarm")) as store:
        assert isinstance(store, PgStore)
        assert store.path == url_path(url, tmp_path / ".swarm")


async def test_the_async_store_is_chosen_the_same_way(pg_schemas: Schemas, tmp_path: Path) -> None:
    db = tmp_path / "memory.db"
    url = pg_schemas.new()
    for target in (db, url):
        open_store(target, create=True).close()
    lite = await open_async_store(db)
    server = await open_async_store(url_path(url, tmp_path))
    try:
        assert type(lite) is AsyncStore
        assert isinstance(server, AsyncPgStore)
        assert server.path == url_path(url, tmp_path)
    finally:
        await lite.close()
        await server.close()
    with open_store(db) as store:
        assert type(store) is Store
