"""PostgreSQL for the tests: a fresh schema per store, so that tests never see each other.

The server is `SWARM_TEST_PG_URL` (default: the development and CI server on
127.0.0.1:5432, database `test`, trust authentication). When it cannot be reached the
PostgreSQL tests fail, naming it: they never skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

#: The server and database the PostgreSQL tests use.
PG_URL = os.environ.get("SWARM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def admin() -> psycopg.Connection[tuple[object, ...]]:
    """A connection to the test database, or a test failure naming it."""
    try:
        return psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as err:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} (SWARM_TEST_PG_URL): {err}")


def schema_url(schema: str, base: str = PG_URL) -> str:
    """`base` with its search_path set to `schema`."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


class Schemas:
    """Creates fresh schemas and drops them all at the end of a test."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def new(self, base: str = PG_URL) -> str:
        """A fresh, empty schema: the URL of a store in it."""
        name = f"swarm_t_{uuid.uuid4().hex[:16]}"
        with admin() as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        self.made.append(name)
        return schema_url(name, base)

    def drop_all(self) -> None:
        """Drop every schema made, ending any session still in one."""
        if not self.made:
            return
        with admin() as conn:
            for name in self.made:
                conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture
def pg_schemas() -> Iterator[Schemas]:
    """Fresh PostgreSQL schemas for this test, dropped afterwards."""
    schemas = Schemas()
    yield schemas
    schemas.drop_all()
