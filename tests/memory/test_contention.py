"""Compare-and-set under contention: separate processes incrementing one counter."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from memory.backends import open_async_store, open_store
from memory.errors import Refused, StoreLocked
from tests.memory.conftest import subprocess_env

PROCESSES = 8
INCREMENTS = 200

#: One contender: open the store, say "ready", wait for "go" on stdin, then run
#: read-increment-CAS loops, retrying a lost race (VersionMismatch) or a busy store
#: (StoreLocked) until it has made its increments. Prints how many retries it needed.
INCREMENTER = """
import sys
from memory.backends import open_store
from memory.errors import StoreLocked, VersionMismatch

path, increments = sys.argv[1], int(sys.argv[2])
store = open_store(path, actor=f"incrementer-{sys.argv[3]}")
print("ready", flush=True)
if sys.stdin.readline().strip() != "go":
    sys.exit("expected 'go' on stdin")
done = retries = 0
while done < increments:
    try:
        record = store.require("counter")
        store.put("counter", record.value + 1, if_version=record.version)
    except (VersionMismatch, StoreLocked):
        retries += 1
        continue
    done += 1
store.close()
print(retries, flush=True)
"""


def test_compare_and_set_loses_no_update_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    with open_store(path, create=True) as store:
        store.put("counter", 0)

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", INCREMENTER, str(path), str(INCREMENTS), str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )
        for n in range(PROCESSES)
    ]
    try:
        # Start them all at once, so that they really contend.
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n", proc.communicate()[1]
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outcomes = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    for proc, (out, err) in zip(procs, outcomes, strict=True):
        assert proc.returncode == 0, err
        assert err == ""
        assert out.strip().isdigit(), out

    total = PROCESSES * INCREMENTS
    with open_store(path) as store:
        counter = store.require("counter")
        assert counter.value == total
        assert counter.version == total + 1
        assert store.revision() == total + 1
        # Every increment is in the log exactly once, in order: no lost or doubled write.
        history = store.history("counter")
        assert [c.value for c in history] == list(range(total + 1))
        assert [c.rev for c in history] == list(range(1, total + 2))
        actors = {c.actor for c in history[1:]}
        assert actors == {f"incrementer-{n}" for n in range(PROCESSES)}
        assert store.integrity_check() == "ok"


def _put_while_locked_sync(path: Path, holder: sqlite3.Connection) -> StoreLocked:
    with open_store(path, busy_timeout=0) as store:
        with pytest.raises(StoreLocked) as locked:
            store.put("k", "during")
        assert store.require("k").value == "before"  # WAL: readers go on
        holder.execute("ROLLBACK")
        assert store.put("k", "after").mod_rev == 2
    return locked.value


def _put_while_locked_async(path: Path, holder: sqlite3.Connection) -> StoreLocked:
    async def go() -> StoreLocked:
        async with await open_async_store(path, busy_timeout=0) as store:
            with pytest.raises(StoreLocked) as locked:
                await store.put("k", "during")
            assert (await store.require("k")).value == "before"
            holder.execute("ROLLBACK")
            assert (await store.put("k", "after")).mod_rev == 2
        return locked.value

    return asyncio.run(go())


@pytest.mark.parametrize(
    "put_while_locked", [_put_while_locked_sync, _put_while_locked_async], ids=["sync", "async"]
)
def test_a_write_lock_held_past_the_busy_timeout_is_store_locked(
    tmp_path: Path, put_while_locked: Callable[[Path, sqlite3.Connection], StoreLocked]
) -> None:
    path = tmp_path / "memory.db"
    with open_store(path, create=True) as store:
        store.put("k", "before")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
        locked = put_while_locked(path, holder)
    finally:
        holder.close()
    # A refusal the caller may retry, and the refused write left no trace.
    assert isinstance(locked, Refused)
    assert locked.exit_code == 3
    with open_store(path) as store:
        assert [c.value for c in store.history("k")] == ["before", "after"]
        assert store.revision() == 2
