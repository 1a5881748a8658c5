"""The async store under concurrent callers on one connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from memory.aio import AsyncStore
from memory.backends import open_async_store, open_store
from memory.errors import VersionMismatch
from memory.records import Record
from tests.memory.conftest import FakeClock

CALLERS = 50


@pytest.fixture
async def astore(tmp_path: Path) -> AsyncIterator[AsyncStore]:
    """A fresh store opened with the async driver."""
    path = tmp_path / "memory.db"
    open_store(path, create=True).close()
    store = await open_async_store(path, clock=FakeClock(), actor="daemon")
    yield store
    await store.close()


async def test_concurrent_puts_all_commit_with_distinct_revisions(astore: AsyncStore) -> None:
    records = await asyncio.gather(*(astore.put(f"k/{n:02d}", n) for n in range(CALLERS)))

    assert sorted(r.mod_rev for r in records) == list(range(1, CALLERS + 1))
    assert await astore.revision() == CALLERS
    assert await astore.list_prefix("k/") == sorted(records, key=lambda r: r.key)
    changes, _ = await astore.changes_since(1)
    assert [c.rev for c in changes] == list(range(1, CALLERS + 1))


async def test_concurrent_puts_in_a_task_group_on_one_key(astore: AsyncStore) -> None:
    results: list[Record] = []

    async def write(n: int) -> None:
        results.append(await astore.put("shared", n))

    async with anyio.create_task_group() as tg:
        for n in range(CALLERS):
            tg.start_soon(write, n)

    assert sorted(r.mod_rev for r in results) == list(range(1, CALLERS + 1))
    assert sorted(r.version for r in results) == list(range(1, CALLERS + 1))
    last = max(results, key=lambda r: r.mod_rev)
    assert await astore.require("shared") == last
    assert [c.version for c in await astore.history("shared")] == list(range(1, CALLERS + 1))


async def test_concurrent_compare_and_set_lets_exactly_one_caller_win(
    astore: AsyncStore,
) -> None:
    await astore.put("lock", "free")

    async def claim(n: int) -> bool:
        try:
            await astore.put("lock", f"agent-{n}", if_version=1)
        except VersionMismatch:
            return False
        return True

    wins = await asyncio.gather(*(claim(n) for n in range(CALLERS)))
    assert wins.count(True) == 1
    assert await astore.revision() == 2
    assert (await astore.require("lock")).value == f"agent-{wins.index(True)}"


async def test_a_failed_write_does_not_wedge_the_connection(astore: AsyncStore) -> None:
    # A refused write rolls back; the callers queued behind it still commit.
    async def refused() -> None:
        with pytest.raises(VersionMismatch):
            await astore.put("k/0", "x", if_version=9)

    await asyncio.gather(refused(), *(astore.put(f"k/{n}", n) for n in range(10)), refused())
    assert await astore.revision() == 10
    assert await astore.count() == 10
