"""3. Store throughput, in-process: put, get and CAS through the sync and the async API,
beside a plain single-row upsert in WAL mode and raw sqlite3 running the store's own
statements."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from memory.aio import AsyncStore
from memory.backends import open_async_store, open_store
from memory.store import Store

from . import check, pct


def raw_connection(path: Path) -> sqlite3.Connection:
    """Raw sqlite3 on the store's schema with its durability settings (WAL, NORMAL)."""
    from memory import sql

    fresh = not path.exists()
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    conn.execute(sql.SET_WAL)
    conn.execute(sql.SET_SYNCHRONOUS)
    if fresh:
        for statement in sql.FRESH_SCHEMA:
            conn.execute(statement)
    return conn


def raw_put(conn: sqlite3.Connection, key: str, value: str) -> None:
    """The statements a store put runs on SQLite, straight from memory/sql.py, with no
    Python layer: read the header (and the revision), upsert, log the change."""
    from memory import sql

    conn.execute(sql.BEGIN_WRITE)
    rev = conn.execute(sql.READ_META).fetchone()[0] + 1
    version = conn.execute(sql.UPSERT_RETURNING, (key, value, rev, rev, None)).fetchone()[0]
    conn.execute(sql.INSERT_CHANGE, (rev, 1, key, "put", value, version, None, time.time()))
    conn.execute(sql.COMMIT)


def plain_connection(path: Path) -> sqlite3.Connection:
    """A plain key-value table in WAL mode with the store's durability (synchronous NORMAL)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    return conn


def plain_upsert(conn: sqlite3.Connection, key: str, value: str) -> None:
    """The plainest durable put: one single-row upsert, its own transaction. Callers pass
    a new value each time: SQLite does not write a page that an update leaves unchanged,
    so rewriting the same value would time commits that write nothing."""
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


#: Rounds the one-writer figures of the store target are measured in.
ROUNDS = 5
#: The least a store with a change log writes per put (no target; for comparison): the
#: upsert and one appended log row (an integer key, no per-key index, no header).
LOGGED = "upsert + log row (comparison)"
LOG_TABLE = "CREATE TABLE log (rev INTEGER PRIMARY KEY, key TEXT NOT NULL, value TEXT)"


def logged_upsert(conn: sqlite3.Connection, key: str, value: str) -> None:
    """The plain upsert and a change-log row, in one write transaction."""
    conn.execute("BEGIN IMMEDIATE")
    plain_upsert(conn, key, value)
    conn.execute("INSERT INTO log (key, value) VALUES (?, ?)", (key, value))
    conn.execute("COMMIT")


def alternating(
    cases: dict[str, tuple[Callable[[], Any], Callable[[Any, int, int], object]]], count: int
) -> dict[str, tuple[float, list[float]]]:
    """One writer per case, `count` ops each, measured in ROUNDS alternating rounds (a
    burst of load on the machine falls on every case alike); each case's median round."""
    rounds: dict[str, list[tuple[float, list[float]]]] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, (connect, op) in cases.items():
            rounds[name].append(measure_threads(connect, op, 1, count // ROUNDS))
    return {name: median_round(runs) for name, runs in rounds.items()}


def median_round(runs: list[tuple[float, list[float]]]) -> tuple[float, list[float]]:
    """The round with the median throughput, and every round's latencies."""
    ordered = sorted(runs, key=lambda run: run[0])
    return ordered[len(ordered) // 2][0], [t for _, lat in runs for t in lat]


def raw_get(conn: sqlite3.Connection, key: str) -> None:
    """The statement a store get runs."""
    from memory import sql

    conn.execute(sql.GET, (key, time.time())).fetchone()


def measure_threads(
    connect: Callable[[], Any], op: Callable[[Any, int, int], object], writers: int, count: int
) -> tuple[float, list[float]]:
    """Throughput and latencies of `writers` threads, each with its own connection from
    `connect()` (sqlite3 connections belong to one thread), doing `count` ops each."""
    latencies: list[float] = []
    lock = threading.Lock()
    ready = threading.Barrier(writers + 1)

    def work(w: int) -> None:
        conn = connect()
        ready.wait()
        mine = []
        for i in range(count):
            t0 = time.perf_counter()
            op(conn, w, i)
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    with ThreadPoolExecutor(writers) as pool:
        futures = [pool.submit(work, w) for w in range(writers)]
        ready.wait()
        start = time.perf_counter()
        for future in futures:
            future.result()
    return writers * count / (time.perf_counter() - start), latencies


def row(
    ops: float, latencies: list[float], reference: float | None = None, plain: float | None = None
) -> dict[str, Any]:
    """One throughput line, with its ratios to the raw statements and to a plain upsert."""
    out: dict[str, Any] = {
        "ops_per_s": round(ops),
        "p50_ms": round(pct(latencies, 0.5) * 1000, 4),
        "p95_ms": round(pct(latencies, 0.95) * 1000, 4),
    }
    if reference:
        out["ratio_to_raw"] = round(ops / reference, 2)
    if plain:
        out["ratio_to_plain_upsert"] = round(ops / plain, 2)
    return out


def sync_cas(store: Store, key: str) -> int:
    """Read-increment-compare-and-set `key` until it succeeds; return the retries."""
    from memory.errors import VersionMismatch

    retries = 0
    while True:
        record = store.get(key)
        value, version = (record.value, record.version) if record else (0, 0)
        try:
            store.put(key, value + 1, if_version=version)
            return retries
        except VersionMismatch:
            retries += 1


async def async_cas(store: AsyncStore, key: str) -> int:
    """The async twin of `sync_cas`."""
    from memory.errors import VersionMismatch

    retries = 0
    while True:
        record = await store.get(key)
        value, version = (record.value, record.version) if record else (0, 0)
        try:
            await store.put(key, value + 1, if_version=version)
            return retries
        except VersionMismatch:
            retries += 1


async def measure_tasks(
    op: Callable[[int, int], Any], writers: int, count: int
) -> tuple[float, list[float]]:
    """Throughput and latencies of `writers` coroutines doing `count` awaited ops each."""
    latencies: list[float] = []

    async def work(w: int) -> None:
        for i in range(count):
            t0 = time.perf_counter()
            await op(w, i)
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(work(w) for w in range(writers)))
    return writers * count / (time.perf_counter() - start), latencies


def writers_label(writers: int) -> str:
    """`(1 writer)` or `(16 writers)`."""
    return f"({writers} writer{'s' if writers > 1 else ''})"


def bench_store(count: int) -> dict[str, Any]:
    """put, get and CAS through the sync and the async API, with 1 and 16 writers, beside
    a plain single-row upsert in WAL mode and raw sqlite3 running the store's own
    statements (both single-connection: the references for every write; raw get for
    reads). Each CAS writer increments a counter of its own; contention on one key is what
    the tests check."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="swarm-bench-store-") as tmp:
        base = Path(tmp)
        raw_db, sync_db, async_db = base / "raw.db", base / "sync.db", base / "async.db"
        plain_db = base / "plain.db"
        raw_connection(raw_db).close()
        plain_connection(plain_db).close()
        open_store(sync_db, create=True).close()
        open_store(async_db, create=True).close()

        def raw_conn() -> sqlite3.Connection:
            return raw_connection(raw_db)

        def sync_conn() -> Store:
            return open_store(sync_db)

        def key(w: int, i: int) -> str:
            return f"bench/w{w}/k{i % 100}"

        logged_db = base / "logged.db"
        plain_connection(logged_db).execute(LOG_TABLE)
        single: dict[str, tuple[Callable[[], Any], Callable[[Any, int, int], object]]] = {
            "plain upsert (1 writer)": (
                lambda: plain_connection(plain_db),
                lambda c, w, i: plain_upsert(c, key(w, i), f'"v{i}"'),
            ),
            LOGGED: (
                lambda: plain_connection(logged_db),
                lambda c, w, i: logged_upsert(c, key(w, i), f'"v{i}"'),
            ),
            "raw put (1 writer)": (raw_conn, lambda c, w, i: raw_put(c, key(w, i), '"v"')),
            "sync put (1 writer)": (sync_conn, lambda c, w, i: c.put(key(w, i), "v")),
        }
        medians = alternating(single, count)
        plain_ops = medians["plain upsert (1 writer)"][0]
        results["plain upsert (1 writer)"] = row(*medians["plain upsert (1 writer)"])
        results[LOGGED] = row(*medians[LOGGED], None, plain_ops)
        results["raw put (1 writer)"] = row(*medians["raw put (1 writer)"], None, plain_ops)
        ops, lat = measure_threads(
            raw_conn, lambda c, w, i: raw_put(c, key(w, i), '"v"'), 16, count // 16
        )
        results["raw put (16 writers)"] = row(ops, lat, None, plain_ops)
        ops, lat = measure_threads(raw_conn, lambda c, w, i: raw_get(c, key(w, i)), 1, count)
        results["raw get (1 writer)"] = row(ops, lat)
        raw_put_ops = results["raw put (1 writer)"]["ops_per_s"]
        raw_get_ops = results["raw get (1 writer)"]["ops_per_s"]

        for writers in (1, 16):
            n, label = count // writers, writers_label(writers)
            if writers == 1:
                results[f"sync put {label}"] = row(
                    *medians[f"sync put {label}"], raw_put_ops, plain_ops
                )
            else:
                ops, lat = measure_threads(
                    sync_conn, lambda c, w, i: c.put(key(w, i), "v"), writers, n
                )
                results[f"sync put {label}"] = row(ops, lat, raw_put_ops, plain_ops)
            ops, lat = measure_threads(sync_conn, lambda c, w, i: c.get(key(w, i)), writers, n)
            results[f"sync get {label}"] = row(ops, lat, raw_get_ops)
            ops, lat = measure_threads(
                sync_conn, lambda c, w, i: sync_cas(c, f"bench/w{w}/counter"), writers, n
            )
            results[f"sync CAS {label}"] = row(ops, lat, raw_put_ops, plain_ops)
        put = results["sync put (1 writer)"]
        put["target"] = check(
            "store",
            "sync put (1 writer) / plain upsert",
            put["ratio_to_plain_upsert"],
            ">= 0.4x",
            put["ratio_to_plain_upsert"] >= 0.4,
        )

        async def run_async() -> None:
            async with await open_async_store(async_db) as store:
                for writers in (1, 16):
                    n, label = count // writers, writers_label(writers)
                    ops, lat = await measure_tasks(
                        lambda w, i: store.put(key(w, i), "v"), writers, n
                    )
                    results[f"async put {label}"] = row(ops, lat, raw_put_ops, plain_ops)
                    ops, lat = await measure_tasks(lambda w, i: store.get(key(w, i)), writers, n)
                    results[f"async get {label}"] = row(ops, lat, raw_get_ops)
                    ops, lat = await measure_tasks(
                        lambda w, i: async_cas(store, f"bench/w{w}/counter"), writers, n
                    )
                    results[f"async CAS {label}"] = row(ops, lat, raw_put_ops, plain_ops)

        asyncio.run(run_async())
    return results
