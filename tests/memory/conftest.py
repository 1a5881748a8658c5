"""Fixtures for the store's tests: an injected clock, and one store API over both drivers.

The contract suite is written once against `StoreUnderTest`; the `store` fixture hands it
a synchronous `Store` or an `AsyncStore` whose coroutines run on a private event loop.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from memory.aio import AsyncStore
from memory.backends import open_async_store, open_store
from tests.pg import Schemas

#: The repository root, so that subprocesses import this checkout's `memory`.
REPO_ROOT = Path(__file__).resolve().parents[2]

#: Where every fake clock starts: an arbitrary, recognisable epoch time.
CLOCK_START = 1_700_000_000.0


class FakeClock:
    """A clock the test moves by hand; pass it as `clock=` to a store."""

    def __init__(self, now: float = CLOCK_START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move time forward by `seconds`; return the new time."""
        self.now += seconds
        return self.now


class AsyncStoreOnLoop:
    """An `AsyncStore` with the sync store's call style: each coroutine runs to completion.

    Attribute access goes through to the wrapped store; a call whose result is awaitable
    is run on the private loop the store was opened on.
    """

    def __init__(self, store: AsyncStore, loop: asyncio.AbstractEventLoop) -> None:
        self._store = store
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if inspect.isawaitable(result):
                return self._loop.run_until_complete(result)
            return result

        return call

    def export(self, out: IO[str]) -> int:
        """`Store.export` in terms of `AsyncStore.export_lines` (header line first)."""
        lines = self._loop.run_until_complete(self._store.export_lines())
        out.writelines(lines)
        return len(lines) - 1


#: What the contract tests talk to: a `Store`, or an `AsyncStore` behind `AsyncStoreOnLoop`.
StoreUnderTest = Any
StoreFactory = Callable[[str], StoreUnderTest]


def subprocess_env() -> dict[str, str]:
    """The environment for a Python subprocess that imports `memory` from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture
def clock() -> FakeClock:
    """The time every store of the test sees."""
    return FakeClock()


@pytest.fixture(params=["sync", "async", "pg-sync", "pg-async"])
def make_store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, pg_schemas: Schemas
) -> Iterator[StoreFactory]:
    """A factory of fresh stores, all of one backend and driver: SQLite files in
    `tmp_path`, or PostgreSQL stores each in a fresh schema; sync or async."""
    opened: list[Any] = []
    loop = asyncio.new_event_loop() if request.param.endswith("async") else None
    postgres = request.param.startswith("pg")

    def make(name: str) -> StoreUnderTest:
        path: Any = pg_schemas.new() if postgres else tmp_path / name
        created = open_store(path, create=True, clock=clock, actor="tester")
        if loop is None:
            opened.append(created)
            return created
        created.close()
        store = loop.run_until_complete(open_async_store(path, clock=clock, actor="tester"))
        opened.append(store)
        return AsyncStoreOnLoop(store, loop)

    make.backend = "postgresql" if postgres else "sqlite"  # type: ignore[attr-defined]
    yield make

    for store in opened:
        if loop is None:
            store.close()
        else:
            loop.run_until_complete(store.close())
    if loop is not None:
        loop.close()


@pytest.fixture
def store(make_store: StoreFactory) -> StoreUnderTest:
    """A fresh, empty store at revision 0, with the fake clock and actor "tester"."""
    return make_store("memory.db")
