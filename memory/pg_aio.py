"""The PostgreSQL store for the daemon: `AsyncPgStore` over a psycopg connection pool, and
the async LISTEN/NOTIFY wake-ups. Kept apart from `memory.pg` so that hooks never import
asyncio, anyio or the pool."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg

from memory import sql
from memory.aio import AsyncStore
from memory.errors import CorruptStore, NoStore, StoreError
from memory.locator import redact
from memory.pg import (
    DEFAULT_CONNECT_TIMEOUT,
    LOCK_RETRIES,
    RECONNECT_DELAY,
    STOP_CHECK,
    connect_kwargs,
    lock_timeout_statement,
    pg_statement,
    ping,
    retryable,
    setup,
    translate,
)
from memory.pg_listen import listen_statement
from memory.schema import naming_store

if TYPE_CHECKING:
    import anyio
    from psycopg_pool import AsyncConnectionPool

    from memory.engine import Steps

T = TypeVar("T")
Clock = Callable[[], float]


async def _adrive(conn: psycopg.AsyncConnection[Any], steps: Steps[T]) -> T:
    """`memory.pg.drive` on an async connection."""
    try:
        query = next(steps)
        while True:
            cur = await conn.execute(*pg_statement(query))
            rows = await cur.fetchall() if cur.description is not None else []
            query = steps.send(rows)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def _arollback(conn: psycopg.AsyncConnection[Any]) -> None:
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE and not conn.closed:
        try:
            await conn.execute("ROLLBACK")
        except psycopg.Error:
            await conn.close()


# --- the asynchronous store ------------------------------------------------------------------


class AsyncPgStore(AsyncStore):
    """A swarm store on PostgreSQL for the daemon: a small pool of async connections."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        url: str,
        path: Path,
        schema: str,
        *,
        clock: Clock = time.time,
        actor: str | None = None,
    ) -> None:
        self._pool = pool
        self.url = url
        self.schema = schema
        self.path = path
        self.clock = clock
        self.actor = actor

    @classmethod
    async def connect(
        cls,
        url: str,
        path: Path,
        *,
        clock: Clock = time.time,
        actor: str | None = None,
        busy_timeout: float | None = None,
        max_size: int = 4,
    ) -> AsyncPgStore:
        """Connect a pool to the existing store at `url`."""
        from psycopg_pool import AsyncConnectionPool

        lock_timeout = lock_timeout_statement(busy_timeout)
        kwargs = connect_kwargs(url, "swarm-daemon")
        try:
            conn = await psycopg.AsyncConnection.connect(url, **kwargs)
            try:
                schema, _ = await _adrive(conn, setup(url, clock(), create=False))
            finally:
                await conn.close()
        except psycopg.Error as err:
            raise translate(err, url) from None

        async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
            await conn.execute(lock_timeout)

        pool: AsyncConnectionPool = AsyncConnectionPool(
            url,
            kwargs=kwargs,
            min_size=1,
            max_size=max_size,
            open=False,
            configure=configure,
            check=AsyncConnectionPool.check_connection,
            timeout=float(kwargs.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT)),
            reconnect_timeout=float("inf"),
            name="swarm",
        )
        try:
            await pool.open(wait=True, timeout=float(kwargs.get("connect_timeout", 5)))
        except psycopg.Error as err:
            await pool.close()
            raise translate(err, url) from None
        return cls(pool, url, path, schema, clock=clock, actor=actor)

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()

    async def _run(self, steps: Steps[T], *, write: bool) -> T:
        try:
            async with self._pool.connection() as conn:
                if write:
                    return await self._write_on(conn, steps)
                await conn.execute(sql.PG_BEGIN_READ)
                try:
                    return await _adrive(conn, steps)
                finally:
                    await _arollback(conn)
        except psycopg.Error as err:
            raise translate(err, self.url) from None
        except CorruptStore as err:
            raise naming_store(err, redact(self.url)) from None

    async def _write_on(self, conn: psycopg.AsyncConnection[Any], steps: Steps[T]) -> T:
        import anyio

        for attempt in range(LOCK_RETRIES):
            try:
                await conn.execute(sql.PG_BEGIN_WRITE)
                await conn.execute(sql.PG_LOCK_WRITERS)
                break
            except psycopg.Error as err:
                await _arollback(conn)
                if not retryable(err) or attempt == LOCK_RETRIES - 1:
                    raise
                await anyio.sleep(0.001 * 2**attempt)
        try:
            result = await _adrive(conn, steps)
            await conn.execute(sql.COMMIT)
        except BaseException:
            await _arollback(conn)
            raise
        return result

    async def _write(self, steps: Steps[T]) -> T:
        return await self._run(steps, write=True)

    async def integrity_check(self) -> str:
        """PostgreSQL checks its own pages; "ok" when the server answers."""
        return "ok" if await self._read(ping()) else "no answer"

    async def backup(self, target: str | os.PathLike[str]) -> Path:
        """Online backup is SQLite's; a PostgreSQL store moves with export and import."""
        raise StoreError(
            "backup copies a SQLite store; for PostgreSQL use `swarm memory export` or pg_dump"
        )


async def awakeups(url: str, poll: float, stop: anyio.Event | None = None) -> AsyncIterator[None]:
    """The async twin of `wakeups`, for the daemon."""
    import anyio

    conn: psycopg.AsyncConnection[Any] | None = None
    last = time.monotonic()
    try:
        while stop is None or not stop.is_set():
            try:
                if conn is None:
                    conn = await _alisten(url)
                    last = time.monotonic()
                    yield None
                    continue
                step = max(0.0, min(STOP_CHECK, poll - (time.monotonic() - last)))
                notified = False
                async for _ in conn.notifies(timeout=step, stop_after=1):
                    notified = True
                if notified or time.monotonic() - last >= poll:
                    last = time.monotonic()
                    yield None
            except psycopg.Error:
                if conn is not None:
                    await conn.close()
                    conn = None
                await anyio.sleep(RECONNECT_DELAY)
                last = time.monotonic()
                yield None
    finally:
        if conn is not None:
            await conn.close()


async def _alisten(url: str) -> psycopg.AsyncConnection[Any]:
    conn = await psycopg.AsyncConnection.connect(url, **connect_kwargs(url, "swarm-watch"))
    try:
        cur = await conn.execute("SELECT current_schema()")
        row = await cur.fetchone()
        if row is None or row[0] is None:
            raise NoStore(f"{redact(url)}: the search_path names no existing schema")
        await conn.execute(listen_statement(str(row[0])))
    except BaseException:
        await conn.close()
        raise
    return conn
