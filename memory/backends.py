"""Where a backend is chosen: every store is opened through `open_store` (synchronous)
or `open_async_store` (asynchronous), from a path or a PostgreSQL URL.

A target is a SQLite file, a `postgresql://` URL, or a path standing for one (see
`memory.locator`): the SQLite stores (`memory.store`, `memory.aio`) know nothing of
PostgreSQL, and the PostgreSQL ones (`memory.pg`, `memory.pg_aio`) are imported here only
for a URL, so that a hook on a SQLite store never loads psycopg or libpq; nor does a
hook import `memory.aio` (asyncio, anyio, aiosqlite).
"""

from __future__ import annotations

import os
import time

from memory.locator import is_url, pg_url, url_location
from memory.store import Store

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Callable

    from memory.aio import AsyncStore

    Clock = Callable[[], float]


def _where(url: str, target: str | os.PathLike[str]) -> str:
    """The path that stands for the store at `url`: `target` itself, unless it is the
    bare URL, which stands for a store of the working directory's project."""
    text = os.fspath(target)
    return url_location(url, os.getcwd()) if is_url(text) else text


def open_store(
    target: str | os.PathLike[str],
    *,
    create: bool = False,
    clock: Clock = time.time,
    actor: str | None = None,
    busy_timeout: float | None = None,
) -> Store:
    """Open the store at `target`, migrating its schema if it is older than ours; with
    `create`, make it first where there is none (idempotent: an existing one is opened).

    A SQLite file opens `memory.store.Store`; a PostgreSQL URL, or a path standing for
    one, `memory.pg.PgStore`, the same store on a server."""
    url = pg_url(target)
    if url is None:
        opener = Store.create if create else Store.open
        return opener(target, clock=clock, actor=actor, busy_timeout=busy_timeout)
    from memory.pg import PgStore

    return PgStore.connect(
        url,
        _where(url, target),
        create=create,
        clock=clock,
        actor=actor,
        busy_timeout=busy_timeout,
    )


async def open_async_store(
    target: str | os.PathLike[str],
    *,
    clock: Clock = time.time,
    actor: str | None = None,
    busy_timeout: float | None = None,
) -> AsyncStore:
    """Open the existing store at `target` for async use (the daemon); it must be at the
    current schema or migratable.

    A SQLite file opens `memory.aio.AsyncStore`; a PostgreSQL URL, or a path standing
    for one, `memory.pg_aio.AsyncPgStore` over a connection pool."""
    url = pg_url(target)
    if url is None:
        from memory.aio import AsyncStore

        return await AsyncStore.open(target, clock=clock, actor=actor, busy_timeout=busy_timeout)
    from pathlib import Path

    from memory.pg_aio import AsyncPgStore

    return await AsyncPgStore.connect(
        url, Path(_where(url, target)), clock=clock, actor=actor, busy_timeout=busy_timeout
    )
