"""The benchmark suite (run it with ./scripts/bench). Prints a table, writes bench/results.json.

Every figure is measured side by side with its reference in the same run and reported as
a ratio: hooks against `python -c "import sqlite3"`, the store against raw sqlite3 running
the same statements with the same durability settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SWARM = str(Path(sys.executable).with_name("swarm"))
RESULTS = ROOT / "bench" / "results.json"

sys.path.insert(0, str(ROOT))

from memory.aio import AsyncStore  # noqa: E402
from memory.store import Store  # noqa: E402


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values`."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    """Median and p95 in milliseconds."""
    return {
        "median_ms": round(statistics.median(values) * 1000, 3),
        "p95_ms": round(pct(values, 0.95) * 1000, 3),
        "n": len(values),
    }


def env_for(db: Path) -> dict[str, str]:
    """The environment of a hook process: the store, and nothing of the caller's swarm."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    env["SWARM_DB"] = str(db)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@contextmanager
def repo() -> Iterator[Path]:
    """A temporary git repository with an initialised store."""
    with tempfile.TemporaryDirectory(prefix="swarm-bench-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        subprocess.run([SWARM, "init"], cwd=root, check=True, capture_output=True)
        yield root


def timed_run(cmd: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> float:
    """Wall time of one whole process."""
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        raise SystemExit(f"benchmark command failed: {cmd}: {proc.stderr}")
    return elapsed


@contextmanager
def running_daemon(db: Path, cwd: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    """A real `swarm daemon` (hourly poll) on `db`, yielded once its watcher is live."""
    proc = subprocess.Popen(
        [
            SWARM,
            "--db",
            str(db),
            "daemon",
            "--interval",
            "3600",
            "--log-format",
            "json",
            "--no-watch-worktree",
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if '"watching"' in line:
                break
        # Keep draining its log so that it never blocks on a full pipe.
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


# --- 1. hook latency -----------------------------------------------------------------------


def bench_hooks(runs: int) -> dict[str, Any]:
    """Each hook as a whole process, interleaved with the reference so both see one machine."""
    with repo() as root:
        db = root / ".swarm" / "memory.db"
        env = env_for(db)
        (root / "src").mkdir()
        (root / "src" / "app.py").write_text("x = 1\n")
        plan = root / "plan.yaml"
        plan.write_text(
            "phase: bench\ntasks:\n"
            + "".join(f"  t{i}:\n    agent: bench\n" for i in range(runs + 1))
        )
        subprocess.run(
            [SWARM, "plan", "load", str(plan)], cwd=root, env=env, check=True, capture_output=True
        )
        payload = json.dumps(
            {
                "session_id": "bench-session-0001",
                "transcript_path": "/dev/null",
                "cwd": str(root),
                "hook_event_name": "PreToolUse",
                "tool_name": "Edit",
                "tool_input": {
                    "file_path": str(root / "src" / "app.py"),
                    "old_string": "x",
                    "new_string": "y",
                },
            }
        )
        reference = [sys.executable, "-c", "import sqlite3"]
        cases: dict[str, Callable[[int], tuple[list[str], str | None]]] = {
            "pre-edit": lambda i: (
                [
                    SWARM,
                    "hooks",
                    "pre-edit",
                    "--file",
                    "src/app.py",
                    "--agent",
                    "bench",
                    "--task",
                    "bench/t0",
                ],
                None,
            ),
            "post-edit": lambda i: (
                [
                    SWARM,
                    "hooks",
                    "post-edit",
                    "--file",
                    "src/app.py",
                    "--agent",
                    "bench",
                    "--task",
                    "bench/t0",
                ],
                None,
            ),
            "pre-task": lambda i: (
                [SWARM, "hooks", "pre-task", "--task-id", f"bench/t{i}", "--agent", "bench"],
                None,
            ),
            "post-task": lambda i: (
                [SWARM, "hooks", "post-task", "--task-id", f"bench/t{i}", "--agent", "bench"],
                None,
            ),
            "claude PreToolUse": lambda i: ([SWARM, "hooks", "claude"], payload),
        }
        timings: dict[str, list[float]] = {"reference": []}
        for name in cases:
            timings[name] = []
        for i in range(runs):
            timings["reference"].append(timed_run(reference, root, env))
            for name, make in cases.items():
                cmd, stdin = make(i)
                timings[name].append(timed_run(cmd, root, env, stdin))
    ref = statistics.median(timings["reference"])
    out: dict[str, Any] = {"reference": summary(timings["reference"])}
    for name in cases:
        stats = summary(timings[name])
        stats["ratio_median"] = round(statistics.median(timings[name]) / ref, 2)
        stats["target_ratio"] = 2.5
        stats["meets_target"] = stats["ratio_median"] <= 2.5
        out[name] = stats
    return out


# --- 2. unblock latency -----------------------------------------------------------------------


def bench_unblock(trials: int) -> dict[str, Any]:
    """From post-task returning to the dependent's status being `ready`, daemon polling hourly."""
    with repo() as root:
        db = root / ".swarm" / "memory.db"
        env = env_for(db)
        lines = ["phase: ub", "tasks:"]
        for i in range(trials):
            lines += [
                f"  req{i}:",
                "    agent: a",
                f"  dep{i}:",
                "    agent: b",
                f"    requires: [req{i}]",
            ]
        (root / "plan.yaml").write_text("\n".join(lines) + "\n")
        subprocess.run(
            [SWARM, "plan", "load", "plan.yaml"], cwd=root, env=env, check=True, capture_output=True
        )
        with running_daemon(db, root, env):
            from_return: list[float] = []
            from_commit: list[float] = []
            with Store.open(db) as store:
                for i in range(trials):
                    subprocess.run(
                        [SWARM, "hooks", "pre-task", "--task-id", f"ub/req{i}", "--agent", "a"],
                        cwd=root,
                        env=env,
                        check=True,
                        capture_output=True,
                    )
                    subprocess.run(
                        [SWARM, "hooks", "post-task", "--task-id", f"ub/req{i}", "--agent", "a"],
                        cwd=root,
                        env=env,
                        check=True,
                        capture_output=True,
                    )
                    returned = time.time()
                    key = f"ub/dep{i}/status"
                    deadline = time.monotonic() + 10
                    while (record := store.get(key)) is None or record.value != "ready":
                        if time.monotonic() > deadline:
                            raise SystemExit(f"unblock benchmark: {key} never became ready")
                        time.sleep(0.0005)
                    ready = next(c for c in store.history(key) if c.value == "ready")
                    done = next(
                        c for c in store.history(f"ub/req{i}/status") if c.value == "complete"
                    )
                    from_return.append(ready.ts - returned)
                    from_commit.append(ready.ts - done.ts)
    result: dict[str, Any] = {
        "from_post_task_return": summary(from_return),
        "from_post_task_commit": summary(from_commit),
        "target_p95_ms": 50,
    }
    result["meets_target"] = result["from_post_task_return"]["p95_ms"] <= 50
    return result


# --- 3. store throughput ----------------------------------------------------------------------


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
    """The statements a store put runs, straight from memory/sql.py, with no Python layer:
    read the header, upsert, log the change, bump the revision."""
    from memory import sql

    conn.execute(sql.BEGIN_WRITE)
    rev = conn.execute(sql.READ_META).fetchone()[0] + 1
    version = conn.execute(sql.UPSERT_RETURNING, (key, value, rev, rev, None)).fetchone()[0]
    conn.execute(sql.INSERT_CHANGE, (rev, 1, key, "put", value, version, None, time.time()))
    conn.execute(sql.SET_REVISION, (rev,))
    conn.execute(sql.COMMIT)


def raw_get(conn: sqlite3.Connection, key: str) -> None:
    """The statement a store get runs."""
    from memory import sql

    conn.execute(sql.GET, (key, time.time())).fetchone()


def measure_threads(
    connect: Callable[[], Any], op: Callable[[Any, int, int], None], writers: int, count: int
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


def row(ops: float, latencies: list[float], reference: float | None = None) -> dict[str, Any]:
    """One throughput line."""
    out: dict[str, Any] = {
        "ops_per_s": round(ops),
        "p50_ms": round(pct(latencies, 0.5) * 1000, 4),
        "p95_ms": round(pct(latencies, 0.95) * 1000, 4),
    }
    if reference:
        out["ratio_to_raw"] = round(ops / reference, 2)
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
    raw sqlite3 running the same statements. The single-connection raw put is the
    reference for every write, raw get for reads. Each CAS writer increments a counter of
    its own; contention on one key is what the tests check."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="swarm-bench-store-") as tmp:
        base = Path(tmp)
        raw_db, sync_db, async_db = base / "raw.db", base / "sync.db", base / "async.db"
        raw_connection(raw_db).close()
        Store.create(sync_db).close()
        Store.create(async_db).close()

        def raw_conn() -> sqlite3.Connection:
            return raw_connection(raw_db)

        def sync_conn() -> Store:
            return Store.open(sync_db)

        def key(w: int, i: int) -> str:
            return f"bench/w{w}/k{i % 100}"

        for writers in (1, 16):
            n = count // writers
            ops, lat = measure_threads(
                raw_conn, lambda c, w, i: raw_put(c, key(w, i), '"v"'), writers, n
            )
            results[f"raw put {writers_label(writers)}"] = row(ops, lat)
        ops, lat = measure_threads(raw_conn, lambda c, w, i: raw_get(c, key(w, i)), 1, count)
        results["raw get (1 writer)"] = row(ops, lat)
        raw_put_ops = results["raw put (1 writer)"]["ops_per_s"]
        raw_get_ops = results["raw get (1 writer)"]["ops_per_s"]

        for writers in (1, 16):
            n, label = count // writers, writers_label(writers)
            ops, lat = measure_threads(sync_conn, lambda c, w, i: c.put(key(w, i), "v"), writers, n)
            results[f"sync put {label}"] = row(ops, lat, raw_put_ops)
            ops, lat = measure_threads(sync_conn, lambda c, w, i: c.get(key(w, i)), writers, n)
            results[f"sync get {label}"] = row(ops, lat, raw_get_ops)
            ops, lat = measure_threads(
                sync_conn, lambda c, w, i: sync_cas(c, f"bench/w{w}/counter"), writers, n
            )
            results[f"sync CAS {label}"] = row(ops, lat, raw_put_ops)
        results["sync put (1 writer)"]["target_ratio"] = 0.6

        async def run_async() -> None:
            async with await AsyncStore.open(async_db) as store:
                for writers in (1, 16):
                    n, label = count // writers, writers_label(writers)
                    ops, lat = await measure_tasks(
                        lambda w, i: store.put(key(w, i), "v"), writers, n
                    )
                    results[f"async put {label}"] = row(ops, lat, raw_put_ops)
                    ops, lat = await measure_tasks(lambda w, i: store.get(key(w, i)), writers, n)
                    results[f"async get {label}"] = row(ops, lat, raw_get_ops)
                    ops, lat = await measure_tasks(
                        lambda w, i: async_cas(store, f"bench/w{w}/counter"), writers, n
                    )
                    results[f"async CAS {label}"] = row(ops, lat, raw_put_ops)

        asyncio.run(run_async())
        results["async put (16 writers)"]["target_ratio"] = 0.5
    return results


# --- 4. contention ----------------------------------------------------------------------------


def bench_contention(workers: int, calls: int) -> dict[str, Any]:
    """`workers` parallel agents, `calls` hook processes each: pre-edit, post-edit, memory put."""
    with repo() as root:
        db = root / ".swarm" / "memory.db"
        env = env_for(db)
        errors: list[str] = []
        lock = threading.Lock()

        def agent(w: int) -> None:
            for i in range(calls):
                kind = i % 3
                if kind == 0:
                    cmd = [
                        SWARM,
                        "hooks",
                        "pre-edit",
                        "--file",
                        f"src/f{i % 7}.py",
                        "--agent",
                        f"a{w}",
                    ]
                elif kind == 1:
                    cmd = [
                        SWARM,
                        "hooks",
                        "post-edit",
                        "--file",
                        f"src/f{i % 7}.py",
                        "--agent",
                        f"a{w}",
                    ]
                else:
                    cmd = [SWARM, "memory", "put", f"bench/a{w}/n{i}", str(i)]
                proc = subprocess.run(
                    cmd, cwd=root, env=env, capture_output=True, text=True, check=False
                )
                if proc.returncode not in (0, 3) or "Traceback" in proc.stderr:
                    with lock:
                        errors.append(
                            f"{' '.join(cmd[1:])}: exit {proc.returncode}: {proc.stderr.strip()}"
                        )

        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(agent, range(workers)))
        wall = time.perf_counter() - start
        expected = {f"bench/a{w}/n{i}" for w in range(workers) for i in range(calls) if i % 3 == 2}
        with Store.open(db) as store:
            present = {r.key for r in store.list_prefix("bench/")}
            integrity = store.integrity_check()
    return {
        "processes": workers,
        "calls_each": calls,
        "wall_s": round(wall, 2),
        "errors": len(errors),
        "error_samples": errors[:5],
        "lost_writes": len(expected - present),
        "integrity": integrity,
    }


# --- 5. scale ---------------------------------------------------------------------------------


def build_store(path: Path, keys: int, tasks: int) -> None:
    """A store holding `keys` keys, `tasks` of which belong to tasks of a loaded plan."""
    from coordinator.plan import plan_from_data
    from coordinator.tasks import load_plan

    with Store.create(path) as store:
        plan = plan_from_data(
            {
                "phase": "scale",
                "tasks": {
                    f"t{i}": {
                        "agent": f"a{i % 16}",
                        **({"requires": [f"t{i - 1}"]} if i % 10 else {}),
                    }
                    for i in range(tasks)
                },
            },
            "scale",
        )
        load_plan(store, plan, "bench")
        from memory.records import Put

        filler = max(0, keys - store.count())
        batch: list[Put] = []
        for i in range(filler):
            batch.append(Put(f"data/k{i:07d}", '{"n": 1}'))
            if len(batch) == 5000:
                store.txn([], batch)
                batch = []
        if batch:
            store.txn([], batch)


async def daemon_passes(path: Path, repeats: int) -> dict[str, float]:
    """An idle pass and a pass with one change, on a loaded daemon (in-process)."""
    import logging

    import structlog

    from coordinator.daemon import Daemon

    # A real daemon logs each transition; here the passes alone are measured.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    daemon = Daemon(path, repo_root=path.parent, interval=3600, watch_worktree=False)
    daemon._store = await AsyncStore.open(path, actor="bench")
    try:
        await daemon._load()
        await daemon.run_pass(time.time(), full=True)
        idle = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            await daemon.run_pass(time.time())
            idle.append(time.perf_counter() - t0)
        one = []
        with Store.open(path) as writer:
            for i in range(repeats):
                writer.put("scale/t0/status", "complete" if i % 2 == 0 else "in_progress")
                t0 = time.perf_counter()
                await daemon.run_pass(time.time())
                one.append(time.perf_counter() - t0)
                await daemon.run_pass(time.time())  # absorb the daemon's own writes
    finally:
        await daemon.store.close()
        daemon._store = None
    return {
        "idle_pass_ms": round(statistics.median(idle) * 1000, 3),
        "one_change_pass_ms": round(statistics.median(one) * 1000, 3),
    }


def daemon_rss(path: Path) -> float:
    """Resident memory (MB) of a real daemon process watching the store."""
    with running_daemon(path, path.parent) as pid:
        status = Path(f"/proc/{pid}/status").read_text()
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return round(kb / 1024, 1)


def bench_scale(sizes: list[tuple[int, int]], repeats: int) -> dict[str, Any]:
    """Idle pass, one-change pass, session-restore and daemon RSS at growing sizes."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="swarm-bench-scale-") as tmp:
        for keys, tasks in sizes:
            path = Path(tmp) / f"s{keys}" / ".swarm" / "memory.db"
            build_store(path, keys, tasks)
            line: dict[str, Any] = asyncio.run(daemon_passes(path, repeats))
            t0 = time.perf_counter()
            subprocess.run(
                [SWARM, "--db", str(path), "session-restore", "--session-id", "scale", "--json"],
                check=True,
                capture_output=True,
            )
            line["session_restore_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            line["daemon_rss_mb"] = daemon_rss(path)
            results[f"{keys} keys / {tasks} tasks"] = line
    return results


# --- main -------------------------------------------------------------------------------------


# --- 6. PostgreSQL ------------------------------------------------------------------------
# Kept in one function of its own, beside the SQLite figures above: the same hooks, unblock
# and contention measurements on a PostgreSQL store (SWARM_BENCH_PG_URL, default the
# development server), each in a fresh schema dropped afterwards.

PG_BENCH_URL = os.environ.get("SWARM_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def pg_repo() -> Iterator[tuple[Path, Path]]:
    """A temporary git repository whose store is a fresh PostgreSQL schema: (root, db)."""
    import uuid

    import psycopg

    from memory.locator import url_path

    schema = f"swarm_bench_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in PG_BENCH_URL else "?"
    url = f"{PG_BENCH_URL}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(PG_BENCH_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        with tempfile.TemporaryDirectory(prefix="swarm-bench-pg-") as tmp:
            root = Path(tmp) / "repo"
            root.mkdir()
            subprocess.run(["git", "init", "-q", str(root)], check=True)
            subprocess.run([SWARM, "init", "--db", url], cwd=root, check=True, capture_output=True)
            yield root, url_path(url, root / ".swarm")
    finally:
        with psycopg.connect(PG_BENCH_URL, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def bench_postgres(runs: int, trials: int, workers: int, calls: int) -> dict[str, Any]:
    """Hook latency (and the connect cost in it), unblock latency through NOTIFY, and
    contention, on a PostgreSQL store."""
    results: dict[str, Any] = {}
    results.update(_pg_hooks_and_unblock(runs, trials))
    results["contention"] = _pg_contention(workers, calls)
    return results


def _pg_hooks_and_unblock(runs: int, trials: int) -> dict[str, Any]:
    import psycopg

    from memory.locator import pg_url

    results: dict[str, Any] = {}
    with pg_repo() as (root, db):
        url = pg_url(db) or ""
        env = env_for(db)
        (root / "src").mkdir()
        reference_cmd = [sys.executable, "-c", "import sqlite3"]
        hook_cmd = [SWARM, "hooks", "pre-edit", "--file", "src/app.py", "--agent", "bench"]
        import_cmd = [sys.executable, "-c", "import psycopg"]
        reference, hook, imports, connect = [], [], [], []
        for _ in range(runs):
            reference.append(timed_run(reference_cmd, root, env))
            hook.append(timed_run(hook_cmd, root, env))
            imports.append(timed_run(import_cmd, root, env))
            start = time.perf_counter()
            psycopg.connect(url).close()
            connect.append(time.perf_counter() - start)
        ratio = statistics.median(hook) / statistics.median(reference)
        results["import sqlite3 (reference)"] = summary(reference)
        results["hooks pre-edit"] = {**summary(hook), "ratio": round(ratio, 2), "target": 2.5}
        results["python -c import psycopg"] = summary(imports)
        results["psycopg.connect, in-process"] = summary(connect)

        lines = ["phase: ub", "tasks:"]
        for i in range(trials):
            lines += [f"  req{i}:", "    agent: a", f"  dep{i}:", "    agent: b"]
            lines.append(f"    requires: [req{i}]")
        (root / "plan.yaml").write_text("\n".join(lines) + "\n")
        subprocess.run(
            [SWARM, "plan", "load", "plan.yaml"], cwd=root, env=env, check=True, capture_output=True
        )
        from_commit: list[float] = []
        with running_daemon(db, root, env), Store.open(db) as store:
            for i in range(trials):
                for hook_name in ("pre-task", "post-task"):
                    subprocess.run(
                        [SWARM, "hooks", hook_name, "--task-id", f"ub/req{i}", "--agent", "a"],
                        cwd=root,
                        env=env,
                        check=True,
                        capture_output=True,
                    )
                key = f"ub/dep{i}/status"
                deadline = time.monotonic() + 10
                while (record := store.get(key)) is None or record.value != "ready":
                    if time.monotonic() > deadline:
                        raise SystemExit(f"postgres unblock benchmark: {key} never became ready")
                    time.sleep(0.0005)
                ready = next(c for c in store.history(key) if c.value == "ready")
                done = next(c for c in store.history(f"ub/req{i}/status") if c.value == "complete")
                from_commit.append(ready.ts - done.ts)
        results["unblock from post-task commit"] = {**summary(from_commit), "target_p95_ms": 20}
    return results


def _pg_contention(workers: int, calls: int) -> dict[str, Any]:
    with pg_repo() as (root, db):
        env = env_for(db)
        errors: list[str] = []
        lock = threading.Lock()

        def agent(w: int) -> None:
            for i in range(calls):
                path = f"src/f{i % 7}.py"
                cmd = [
                    [SWARM, "hooks", "pre-edit", "--file", path, "--agent", f"a{w}"],
                    [SWARM, "hooks", "post-edit", "--file", path, "--agent", f"a{w}"],
                    [SWARM, "memory", "put", f"bench/a{w}/n{i}", str(i)],
                ][i % 3]
                proc = subprocess.run(
                    cmd, cwd=root, env=env, capture_output=True, text=True, check=False
                )
                if proc.returncode not in (0, 3) or "Traceback" in proc.stderr:
                    with lock:
                        errors.append(f"{' '.join(cmd[1:])}: {proc.stderr.strip()}")

        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(agent, range(workers)))
        wall = time.perf_counter() - start
        expected = {f"bench/a{w}/n{i}" for w in range(workers) for i in range(calls) if i % 3 == 2}
        with Store.open(db) as store:
            present = {r.key for r in store.list_prefix("bench/")}
    return {
        "processes": workers,
        "calls_each": calls,
        "wall_s": round(wall, 2),
        "errors": len(errors),
        "error_samples": errors[:3],
        "lost_writes": len(expected - present),
    }


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def print_table(results: dict[str, Any]) -> None:
    """The results as a readable table."""
    for section, body in results.items():
        if section == "machine":
            continue
        print(f"\n== {section}")
        if not isinstance(body, dict):
            print(f"  {body}")
            continue
        for name, value in body.items():
            text = (
                ", ".join(f"{k}={v}" for k, v in value.items())
                if isinstance(value, dict)
                else value
            )
            print(f"  {name:<28} {text}")


def main() -> None:
    """Run the suite (or the parts named) and write bench/results.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs, smaller stores")
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["hooks", "unblock", "store", "contention", "scale", "postgres"],
    )
    args = parser.parse_args()
    quick = args.quick
    parts = set(args.only or ["hooks", "unblock", "store", "contention", "scale", "postgres"])
    results: dict[str, Any] = {"machine": machine()}
    if "hooks" in parts:
        results["hook latency (whole process)"] = bench_hooks(10 if quick else 30)
    if "unblock" in parts:
        results["unblock latency"] = bench_unblock(10 if quick else 50)
    if "store" in parts:
        results["store throughput (in-process)"] = bench_store(2000 if quick else 10000)
    if "contention" in parts:
        results["contention"] = bench_contention(8 if quick else 32, 10 if quick else 50)
    if "scale" in parts:
        sizes = (
            [(1000, 100), (10000, 1000)] if quick else [(1000, 100), (10000, 1000), (100000, 10000)]
        )
        results["scale"] = bench_scale(sizes, 20)
    if "postgres" in parts:
        results["postgresql"] = (
            bench_postgres(10, 10, 8, 10) if quick else bench_postgres(30, 50, 32, 50)
        )
    print_table(results)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
