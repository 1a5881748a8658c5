"""Durability: a writer killed with SIGKILL loses no committed write and corrupts nothing."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from memory.backends import open_store
from tests.memory.conftest import subprocess_env

#: How many committed writes to see reported before killing the writer. Enough for the
#: WAL to pass SQLite's automatic checkpoint (1000 pages) at least once.
REPORTED = 400

#: The writer: one committed write per loop, then the key on stdout, flushed. In "txn"
#: mode each loop is a three-key transaction, to show that a kill never tears one.
WRITER = """
import json, sys
from memory.backends import open_store
from memory.records import Put

path, mode = sys.argv[1], sys.argv[2]
store = open_store(path, actor="writer")
pad = "x" * 3000
n = 0
while True:
    key = f"crash/{n:06d}"
    if mode == "put":
        store.put(key, {"n": n, "pad": pad})
    else:
        store.txn([], [
            Put(f"{key}/{part}", json.dumps({"n": n, "part": part, "pad": pad}))
            for part in ("a", "b", "c")
        ])
    print(key, flush=True)
    n += 1
"""


def _run_and_kill(path: Path, mode: str) -> list[str]:
    """Start the writer, read REPORTED keys off its stdout, SIGKILL it; return the keys."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    assert proc.stdout is not None
    reported: list[str] = []
    try:
        while len(reported) < REPORTED:
            line = proc.stdout.readline()
            if not line:  # the writer died on its own: show why
                break
            reported.append(line.rstrip("\n"))
    finally:
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
    assert len(reported) == REPORTED, err
    assert proc.returncode == -signal.SIGKILL, err
    assert err == ""
    return reported


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "memory.db"
    open_store(path, create=True).close()
    return path


def _raw_integrity(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def test_a_killed_writer_loses_no_committed_put(store_path: Path) -> None:
    reported = _run_and_kill(store_path, "put")

    assert _raw_integrity(store_path) == "ok"
    with open_store(store_path) as store:
        assert store.integrity_check() == "ok"
        for n, key in enumerate(reported):
            assert key == f"crash/{n:06d}"
            record = store.require(key)
            assert record.value == {"n": n, "pad": "x" * 3000}
            assert record.mod_rev == n + 1
        # The writer may have committed a little more than it reported, never a gap.
        keys = [r.key for r in store.list_prefix("crash/")]
        assert keys == [f"crash/{n:06d}" for n in range(len(keys))]
        assert store.revision() == len(keys)
        changes, _ = store.changes_since(1, limit=len(keys) + 10)
        assert [c.key for c in changes] == keys
        # And the store takes writes again.
        assert store.put("after/crash", True).mod_rev == len(keys) + 1


def test_a_killed_writer_never_leaves_half_a_transaction(store_path: Path) -> None:
    reported = _run_and_kill(store_path, "txn")

    assert _raw_integrity(store_path) == "ok"
    with open_store(store_path) as store:
        assert store.integrity_check() == "ok"
        for n, key in enumerate(reported):
            for part in ("a", "b", "c"):
                record = store.require(f"{key}/{part}")
                assert record.value == {"n": n, "part": part, "pad": "x" * 3000}
                assert record.mod_rev == n + 1
        records = store.list_prefix("crash/")
        assert len(records) == 3 * store.revision()
        for rev in range(1, store.revision() + 1):
            changes, _ = store.changes_since(rev, limit=3)
            assert [(c.rev, c.seq) for c in changes] == [(rev, 1), (rev, 2), (rev, 3)]
