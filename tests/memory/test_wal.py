"""The WAL of a store: bounded, and left to the next checkpoint when a hook closes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memory.backends import open_store


def test_a_store_connection_bounds_the_wal_it_truncates(tmp_path: Path) -> None:
    with open_store(tmp_path / "memory.db", create=True) as store:
        limit = store._conn.execute("PRAGMA journal_size_limit").fetchone()[0]
        autocheckpoint = store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    assert limit == 4 * 1024 * 1024
    assert autocheckpoint == 1000


@pytest.mark.skipif(
    not hasattr(sqlite3, "SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE"),
    reason="this Python's sqlite3 cannot skip the checkpoint on close (Python < 3.12)",
)
def test_closing_the_last_connection_leaves_the_wal(tmp_path: Path) -> None:
    db = tmp_path / "memory.db"
    open_store(db, create=True).close()
    with open_store(db) as store:
        store.put("a/b", 1)
    assert db.with_name("memory.db-wal").stat().st_size > 0
    with open_store(db) as store:
        assert store.require("a/b").value == 1
