"""`swarm doctor`'s check of a PostgreSQL store reads it and changes nothing: an older
schema is reported, not migrated; a value that does not decode is named."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from memory import sql
from memory.backends import open_async_store, open_store
from memory.errors import CorruptStore
from memory.health import check_store
from memory.locator import url_path
from tests.pg import Schemas, admin


def _schema(url: str) -> str:
    return url.rsplit("%3D", 1)[1]


def test_an_older_postgres_store_is_checked_without_being_migrated(
    tmp_path: Path, pg_schemas: Schemas
) -> None:
    url = pg_schemas.new()
    open_store(url_path(url, tmp_path), create=True).close()
    schema = _schema(url)
    with admin() as conn:
        conn.execute(f"DELETE FROM {schema}.migrations WHERE version = {sql.SCHEMA_VERSION}")

    health = check_store(url_path(url, tmp_path))

    assert health.problems == ()
    assert health.schema_version == sql.SCHEMA_VERSION - 1
    with admin() as conn:
        cur = conn.execute(f"SELECT max(version) FROM {schema}.migrations")
        assert cur.fetchone() == (sql.SCHEMA_VERSION - 1,)


def test_an_undecodable_postgres_value_and_a_missing_store_are_named(
    tmp_path: Path, pg_schemas: Schemas
) -> None:
    url = pg_schemas.new()
    assert check_store(url_path(url, tmp_path)).problems == (
        f"no swarm store at {url}; run `swarm init --db URL` first",
    )
    with open_store(url_path(url, tmp_path), create=True) as store:
        store.put("ok", 1)
        store.put("bad", 2)
    with admin() as conn:
        conn.execute(f"UPDATE {_schema(url)}.kv SET value = '{{oops' WHERE key = 'bad'")

    assert check_store(url_path(url, tmp_path)).problems == ("the value of 'bad' does not decode",)
    assert check_store(url_path(url, tmp_path), quick=True).problems == ()


def test_reading_an_undecodable_postgres_value_is_one_line_naming_the_store_and_doctor(
    tmp_path: Path, pg_schemas: Schemas
) -> None:
    url = pg_schemas.new()
    with open_store(url_path(url, tmp_path), create=True) as store:
        store.put("bad", 2)
    with admin() as conn:
        conn.execute(f"UPDATE {_schema(url)}.kv SET value = '{{oops' WHERE key = 'bad'")

    with open_store(url_path(url, tmp_path)) as store, pytest.raises(CorruptStore) as caught:
        store.get("bad")
    assert caught.value.message.startswith(f"{url} is corrupt (")
    assert caught.value.message.endswith(f"run `swarm doctor` --db {url}")

    async def read_async() -> None:
        store = await open_async_store(url_path(url, tmp_path))
        try:
            await store.get("bad")
        finally:
            await store.close()

    with pytest.raises(CorruptStore) as caught:
        anyio.run(read_async)
    assert f"run `swarm doctor` --db {url}" in caught.value.message
