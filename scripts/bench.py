"""The benchmark suite (run it with ./scripts/bench). Prints a table, writes bench/results.json.

Every figure is measured side by side with its reference in the same run and reported as
a ratio: hooks against `python -c "import sqlite3"`, the store against a plain single-row
upsert in WAL mode (and against raw sqlite3 running the store's own statements). Every
timed command's exit code is checked: a failed or refused sample fails the benchmark, it
is never a fast one. Each target prints `ok` or `FAIL`; any FAIL makes the exit non-zero.
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

from memory.aio import AsyncStore
from memory.backends import open_async_store, open_store
from memory.store import Store

ROOT = Path(__file__).resolve().parent.parent
SWARM = str(Path(sys.executable).with_name("swarm"))
RESULTS = ROOT / "bench" / "results.json"

#: The least a hook process can do, run beside the hooks for comparison (no target): import
#: sqlite3 and json, open a WAL store with the store's durability, read one row and upsert
#: a JSON value in one write transaction, close. What a hook costs beyond this is ours.
MINIMAL_HOOK = """
import json, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("PRAGMA synchronous = NORMAL")
conn.execute("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
conn.execute("BEGIN IMMEDIATE")
conn.execute("SELECT value FROM kv WHERE key = ?", (sys.argv[2],)).fetchone()
conn.execute(
    "INSERT INTO kv (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    (sys.argv[2], json.dumps({"agent": "bench", "n": sys.argv[2]})),
)
conn.execute("COMMIT")
conn.close()
"""

#: Every target checked in this run: (section, what, figure, target text, met).
TARGETS: list[tuple[str, str, Any, str, bool]] = []


class BenchFailure(SystemExit):
    """A timed command failed: the benchmark stops and exits non-zero."""

    def __init__(self, message: str) -> None:
        super().__init__(f"FAIL: {message}")


def check(section: str, what: str, figure: Any, target: str, met: bool) -> dict[str, Any]:
    """Record a target and whether this run met it; return it for the results."""
    TARGETS.append((section, what, figure, target, met))
    return {"figure": figure, "target": target, "met": met}


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


def run_checked(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command that must succeed (exit 0); anything else fails the benchmark."""
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise BenchFailure(
            f"{' '.join(cmd[1:] if cmd[0] == SWARM else cmd)} exited {proc.returncode}: "
            f"{detail[-1] if detail else ''}"
        )
    return proc


def timed_run(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> float:
    """Wall time of one whole process, which must exit 0."""
    start = time.perf_counter()
    run_checked(cmd, cwd, env, stdin)
    return time.perf_counter() - start


class DaemonProcess:
    """A real `swarm daemon` (hourly poll, JSON logs) started on a store."""

    def __init__(self, db: Path, cwd: Path, dashboard: Path | None = None) -> None:
        cmd = [SWARM, "--db", str(db), "daemon", "--interval", "3600", "--log-format", "json"]
        cmd.append("--no-watch-worktree")
        if dashboard is not None:
            cmd += ["--dashboard", str(dashboard)]
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env_for(db),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.caught_up_s: float | None = None

    def wait_watching(self, timeout: float = 3600) -> None:
        """Read the log until the watcher is live, noting when the catch-up ended."""
        assert self.proc.stderr is not None
        deadline = time.monotonic() + timeout
        for line in self.proc.stderr:
            if '"caught up"' in line and self.caught_up_s is None:
                self.caught_up_s = time.perf_counter() - self.started
            if '"watching"' in line:
                break
            if time.monotonic() > deadline:
                raise BenchFailure("the daemon did not start watching in time")
        else:
            raise BenchFailure(f"the daemon exited with {self.proc.wait()} before watching")
        # Keep draining its log so that it never blocks on a full pipe.
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    def stop(self) -> None:
        """SIGTERM, and wait for it."""
        self.proc.terminate()
        self.proc.wait(30)


@contextmanager
def running_daemon(db: Path, cwd: Path, dashboard: Path | None = None) -> Iterator[DaemonProcess]:
    """A real daemon on `db`, yielded once its watcher is live."""
    daemon = DaemonProcess(db, cwd, dashboard)
    try:
        daemon.wait_watching()
        yield daemon
    finally:
        daemon.stop()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `predicate` (every 0.2 ms) until true; return the wall clock then."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise BenchFailure(f"timed out waiting for {what}")
        time.sleep(0.0002)
    return time.time()


class Observer:
    """A thread, with its own connection, that notes the wall clock at which `key` first
    reads `value`: it is started before the write that should lead there."""

    def __init__(self, db: Path, key: str, value: Any, timeout: float = 60) -> None:
        self.seen_at: float | None = None
        self.error: BaseException | None = None

        def watch() -> None:
            try:
                with open_store(db) as store:

                    def seen() -> bool:
                        record = store.get(key)
                        return record is not None and record.value == value

                    self.seen_at = wait_for(seen, timeout, f"{key} == {value!r}")
            except BaseException as err:  # noqa: BLE001 - reported by result()
                self.error = err

        self.thread = threading.Thread(target=watch, daemon=True)
        self.thread.start()

    def result(self) -> float:
        """When the value was seen (waits for the thread)."""
        self.thread.join()
        if self.error is not None or self.seen_at is None:
            raise BenchFailure(f"observer: {self.error}")
        return self.seen_at


def commit_ts(store: Store, key: str, value: Any) -> float:
    """The time of the last logged change that set `key` to `value`."""
    return float(next(c.ts for c in reversed(store.history(key)) if c.value == value))


# --- 1. hook latency -----------------------------------------------------------------------

#: A hook's median may be at most this many times `python -c "import sqlite3"`.
HOOK_TARGET = 1.6
#: The row of MINIMAL_HOOK in the hooks section.
MINIMAL = "minimal hook (comparison)"


def bench_hooks(runs: int) -> dict[str, Any]:
    """Each hook as a whole process, interleaved with the reference so both see one
    machine. Every sample must exit 0: each pre-edit claims a file nobody holds (a grant),
    each adapter call edits another fresh file, each pre-task starts a ready task."""
    with repo() as root:
        db = root / ".swarm" / "memory.db"
        env = env_for(db)
        (root / "src").mkdir()
        for i in range(runs):
            (root / "src" / f"f{i}.py").write_text("x = 1\n")
            (root / "src" / f"c{i}.py").write_text("x = 1\n")
        plan = root / "plan.yaml"
        plan.write_text(
            "phase: bench\ntasks:\n"
            + "".join(f"  t{i}:\n    agent: bench\n" for i in range(runs + 1))
        )
        run_checked([SWARM, "plan", "load", str(plan)], root, env)

        def payload(i: int) -> str:
            return json.dumps(
                {
                    "session_id": "bench-session-0001",
                    "transcript_path": "/dev/null",
                    "cwd": str(root),
                    "hook_event_name": "PreToolUse",
                    "tool_name": "Edit",
                    "tool_input": {
                        "file_path": str(root / "src" / f"c{i}.py"),
                        "old_string": "x",
                        "new_string": "y",
                    },
                }
            )

        reference = [sys.executable, "-c", "import sqlite3"]
        minimal_db = str(root / "minimal.db")
        edit = ["--agent", "bench", "--task", "bench/t0"]
        cases: dict[str, Callable[[int], tuple[list[str], str | None]]] = {
            "pre-task": lambda i: (
                [SWARM, "hooks", "pre-task", "--task-id", f"bench/t{i}", "--agent", "bench"],
                None,
            ),
            "pre-edit (granted)": lambda i: (
                [SWARM, "hooks", "pre-edit", "--file", f"src/f{i}.py", *edit],
                None,
            ),
            "post-edit": lambda i: (
                [SWARM, "hooks", "post-edit", "--file", f"src/f{i}.py", *edit],
                None,
            ),
            "post-task": lambda i: (
                [SWARM, "hooks", "post-task", "--task-id", f"bench/t{i}", "--agent", "bench"],
                None,
            ),
            "claude PreToolUse": lambda i: ([SWARM, "hooks", "claude"], payload(i)),
        }
        timings: dict[str, list[float]] = {"reference": [], MINIMAL: []}
        for name in cases:
            timings[name] = []
        for i in range(runs):
            timings["reference"].append(timed_run(reference, root, env))
            minimal = [sys.executable, "-c", MINIMAL_HOOK, minimal_db, f"k{i}"]
            timings[MINIMAL].append(timed_run(minimal, root, env))
            for name, make in cases.items():
                cmd, stdin = make(i)
                timings[name].append(timed_run(cmd, root, env, stdin))
        # The adapter answers in Claude's convention; a denial would be a refusal.
        with open_store(db) as store:
            claims = store.list_prefix("swarm/claims/")
            granted = [r for r in claims if str(r.value.get("path")).startswith("src/c")]
        if len(granted) < runs:
            raise BenchFailure(f"claude PreToolUse granted {len(granted)} of {runs} edits")
    ref = statistics.median(timings["reference"])
    out: dict[str, Any] = {"reference": summary(timings["reference"])}
    out[MINIMAL] = summary(timings[MINIMAL])
    out[MINIMAL]["ratio_median"] = round(statistics.median(timings[MINIMAL]) / ref, 2)
    for name in cases:
        stats: dict[str, Any] = summary(timings[name])
        ratio = round(statistics.median(timings[name]) / ref, 2)
        stats["ratio_median"] = ratio
        stats["target"] = check("hooks", name, ratio, f"<= {HOOK_TARGET}x", ratio <= HOOK_TARGET)
        out[name] = stats
    return out


# --- 2. unblock latency -----------------------------------------------------------------------


def unblock_trial(
    db: Path, root: Path, env: dict[str, str], req: str, dep: str, agent: str
) -> float:
    """Start and finish `req`; return the seconds from post-task's commit of `complete`
    to an observer (started before post-task) reading `dep` as `ready`."""
    run_checked([SWARM, "hooks", "pre-task", "--task-id", req, "--agent", agent], root, env)
    observer = Observer(db, f"{dep}/status", "ready")
    run_checked([SWARM, "hooks", "post-task", "--task-id", req, "--agent", agent], root, env)
    seen = observer.result()
    with open_store(db) as store:
        committed = commit_ts(store, f"{req}/status", "complete")
    return seen - committed


def bench_unblock(trials: int) -> dict[str, Any]:
    """Unblock latency on a small store without a dashboard (the scale section measures
    it at 100 / 1k / 10k tasks with one): post-task's commit to an observer seeing
    `ready`, daemon polling hourly (so the watcher is what wakes it)."""
    with repo() as root:
        db = root / ".swarm" / "memory.db"
        env = env_for(db)
        lines = ["phase: ub", "tasks:"]
        for i in range(trials):
            lines += [f"  req{i}:", "    agent: a", f"  dep{i}:", "    agent: b"]
            lines += [f"    requires: [req{i}]"]
        (root / "plan.yaml").write_text("\n".join(lines) + "\n")
        run_checked([SWARM, "plan", "load", "plan.yaml"], root, env)
        with running_daemon(db, root):
            latencies = [
                unblock_trial(db, root, env, f"ub/req{i}", f"ub/dep{i}", "a") for i in range(trials)
            ]
    return {"from_post_task_commit_to_observed_ready": summary(latencies)}


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


# --- 4. contention ----------------------------------------------------------------------------


def bench_contention(workers: int, calls: int) -> dict[str, Any]:
    """`workers` parallel agents, `calls` hook processes each, on a SQLite store."""
    with repo() as root:
        db = root / ".swarm" / "memory.db"
        results = contend("contention", root, db, workers, calls)
        with open_store(db) as store:
            results["integrity"] = store.integrity_check()
    return results


def contend(section: str, root: Path, db: Path, workers: int, calls: int) -> dict[str, Any]:
    """`workers` parallel agents, `calls` hook processes each (pre-edit, post-edit, memory
    put in turn) on the store `db`: every process must exit 0 or 3 (a refusal) without a
    traceback, and every acknowledged put must be there afterwards."""
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
                    errors.append(
                        f"{' '.join(cmd[1:])}: exit {proc.returncode}: {proc.stderr.strip()}"
                    )

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(agent, range(workers)))
    wall = time.perf_counter() - start
    expected = {f"bench/a{w}/n{i}" for w in range(workers) for i in range(calls) if i % 3 == 2}
    with open_store(db) as store:
        present = {r.key for r in store.list_prefix("bench/")}
    lost = len(expected - present)
    return {
        "processes": workers,
        "calls_each": calls,
        "wall_s": round(wall, 2),
        "errors": len(errors),
        "error_samples": errors[:5],
        "lost_writes": lost,
        "target": check(
            section,
            f"{workers} processes x {calls} hooks: errors, lost writes",
            f"{len(errors)}, {lost}",
            "0, 0",
            not errors and not lost,
        ),
    }


# --- 5. scale ---------------------------------------------------------------------------------

#: At 10,000 tasks: seconds for plan load and the first catch-up, for each view.
SCALE_TARGETS_S = {
    "plan_load": 1.0,
    "first_catch_up": 3.0,
    "session_restore": 0.3,
    "status": 0.3,
    "report": 0.3,
}
#: Unblock p95 at 10,000 tasks with the dashboard on, in seconds.
UNBLOCK_TARGET_S = 0.020
#: How much any of them may grow from 1k to 10k tasks.
GROWTH_TARGET = 12.0
#: The figures whose growth 10k/1k is checked.
GROWTH_FIGURES = (
    "plan_load",
    "first_catch_up",
    "one_change_pass",
    "session_restore",
    "status",
    "report",
)


def scale_plan(tasks: int) -> str:
    """Chains of 10 with a fan-in at every 100th task (it requires the nine chain ends
    before it), agents round-robin over 16."""
    lines = ["phase: scale", "session: scale", "tasks:"]
    for i in range(tasks):
        lines += [f"  t{i}:", f"    agent: a{i % 16}"]
        if i and i % 100 == 0:
            lines.append(f"    requires: [{', '.join(f't{j}' for j in range(i - 91, i, 10))}]")
        elif i % 10:
            lines.append(f"    requires: [t{i - 1}]")
    return "\n".join(lines) + "\n"


def chain_starts(tasks: int) -> list[int]:
    """Tasks with no requirement past the first tenth (which is complete): ready once the
    daemon has caught up; completing one makes the next task of its chain ready."""
    return [i for i in range(tasks // 10, tasks, 10) if i % 100 and i + 1 < tasks]


def median_run(cmd: list[str], cwd: Path, repeats: int) -> float:
    """The median wall time of `repeats` runs of a command that must exit 0."""
    return statistics.median(timed_run(cmd, cwd) for _ in range(repeats))


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return round(kb / 1024, 1)


def scale_one(base: Path, tasks: int, repeats: int) -> dict[str, Any]:
    """Every scale figure at one size, on a fresh repository and store."""
    root = base / f"t{tasks}"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    run_checked([SWARM, "init"], root)
    db = root / ".swarm" / "memory.db"
    env = env_for(db)
    (root / "plan.yaml").write_text(scale_plan(tasks))
    line: dict[str, Any] = {}
    line["plan_load"] = timed_run([SWARM, "plan", "load", "plan.yaml"], root, env)
    with open_store(db) as store:  # a tenth of the plan is done
        from coordinator.state import status_op

        store.txn([], [status_op(f"scale/t{i}", "complete") for i in range(tasks // 10)])
    dashboard = root / "DASHBOARD.md"
    starts = chain_starts(tasks)
    # A small plan has few chain starts: they are shared between the two measurements.
    count = min(repeats, len(starts) // 2)
    passes = starts[:count]
    trials = starts[count : 2 * count]
    daemon = DaemonProcess(db, root, dashboard)
    try:
        daemon.wait_watching()
        assert daemon.caught_up_s is not None
        line["first_catch_up"] = daemon.caught_up_s
        with open_store(db) as store:

            def cursor_reached(rev: int) -> Callable[[], bool]:
                def reached() -> bool:
                    record = store.get("swarm/daemon/cursor")
                    return record is not None and int(record.value) >= rev

                return reached

            def ready(task: int) -> Callable[[], bool]:
                def is_ready() -> bool:
                    record = store.get(f"scale/t{task}/status")
                    return record is not None and record.value == "ready"

                return is_ready

            wait_for(ready(starts[-1]), 600, "the catch-up's ready tasks")
            # One change (a status), until the daemon's cursor says its pass is done (the
            # dashboard is rendered beside the passes, debounced).
            one = []
            for task in passes:
                record = store.put(f"scale/t{task}/status", "complete")
                seen = wait_for(cursor_reached(record.mod_rev), 600, "the daemon's pass")
                one.append(seen - commit_ts(store, record.key, "complete"))
                wait_for(ready(task + 1), 600, "the dependent's ready")
            line["one_change_pass"] = statistics.median(one)
        unblock = [
            unblock_trial(db, root, env, f"scale/t{t}", f"scale/t{t + 1}", f"a{t % 16}")
            for t in trials
        ]
        line["unblock_p50"] = statistics.median(unblock)
        line["unblock_p95"] = pct(unblock, 0.95)
        line["unblock_n"] = len(unblock)
        line["daemon_rss_mb"] = rss_mb(daemon.proc.pid)
    finally:
        daemon.stop()
    if not dashboard.is_file():
        raise BenchFailure("the daemon wrote no dashboard")
    line["session_restore"] = median_run(
        [SWARM, "--db", str(db), "session-restore", "--session-id", "scale"], root, 3
    )
    line["status"] = median_run([SWARM, "--db", str(db), "status"], root, 3)
    line["report"] = median_run(
        [SWARM, "--db", str(db), "report", "--session-id", "scale"], root, 3
    )
    return line


def bench_scale(sizes: list[int], repeats: int) -> dict[str, Any]:
    """Plan load, first catch-up, a one-change pass and unblock with a dashboard on,
    session-restore, status and report at each size, and the growth from 1k to 10k."""
    lines: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="swarm-bench-scale-") as tmp:
        for tasks in sizes:
            lines[tasks] = scale_one(Path(tmp), tasks, repeats)
    results: dict[str, Any] = {}
    for tasks, line in lines.items():
        shown = {
            k: (round(v * 1000, 1) if k not in ("unblock_n", "daemon_rss_mb") else v)
            for k, v in line.items()
        }
        results[f"{tasks} tasks (ms)"] = shown
    top = max(sizes)
    if top >= 10_000:
        line = lines[top]
        for name, limit in SCALE_TARGETS_S.items():
            figure = round(line[name] * 1000, 1)
            results[f"target {name} at {top}"] = check(
                "scale",
                f"{name} at {top} tasks",
                f"{figure} ms",
                f"<= {limit * 1000:g} ms",
                line[name] <= limit,
            )
        p95 = round(line["unblock_p95"] * 1000, 1)
        results[f"target unblock p95 at {top}"] = check(
            "scale",
            f"unblock p95 at {top} tasks, dashboard on",
            f"{p95} ms",
            f"<= {UNBLOCK_TARGET_S * 1000:g} ms",
            line["unblock_p95"] <= UNBLOCK_TARGET_S,
        )
    if 1000 in lines and 10_000 in lines:
        for name in GROWTH_FIGURES:
            growth = round(lines[10_000][name] / lines[1000][name], 1)
            results[f"growth 10k/1k {name}"] = check(
                "scale",
                f"growth 10k/1k {name}",
                growth,
                f"<= {GROWTH_TARGET:g}",
                growth <= GROWTH_TARGET,
            )
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
        results["hooks pre-edit"] = {
            **summary(hook),
            "ratio": round(ratio, 2),
            "target": check("postgres", "pre-edit hook", round(ratio, 2), "<= 2.5x", ratio <= 2.5),
        }
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
        with running_daemon(db, root), open_store(db) as store:
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
        unblock = summary(from_commit)
        results["unblock from post-task commit"] = {
            **unblock,
            "target": check(
                "postgres",
                "unblock p95 (ms) through NOTIFY",
                unblock["p95_ms"],
                "<= 20 ms",
                unblock["p95_ms"] <= 20,
            ),
        }
    return results


def _pg_contention(workers: int, calls: int) -> dict[str, Any]:
    with pg_repo() as (root, db):
        return contend("postgres", root, db, workers, calls)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def print_section(section: str, body: Any) -> None:
    """One section of results as a readable table, printed as soon as it is measured."""
    print(f"\n== {section}")
    if not isinstance(body, dict):
        print(f"  {body}")
        return
    for name, value in body.items():
        text = ", ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else value
        print(f"  {name:<34} {text}")
    sys.stdout.flush()


def print_targets() -> None:
    """Every target checked, with `ok` or `FAIL`."""
    print("\n== targets")
    for section, what, figure, target, met in TARGETS:
        print(f"  {'ok  ' if met else 'FAIL'} {section:<6} {what:<44} {figure} (target {target})")


def main() -> None:
    """Run the suite (or the parts named), write bench/results.json; exit 1 on any FAIL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs, smaller stores")
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["hooks", "unblock", "store", "contention", "scale", "postgres"],
    )
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        help="task counts of the scale section (default 100,1000,10000; --quick 100,1000)",
    )
    args = parser.parse_args()
    quick = args.quick
    parts = set(args.only or ["hooks", "unblock", "store", "contention", "scale", "postgres"])
    results: dict[str, Any] = {"machine": machine()}
    sections: list[tuple[str, str, Callable[[], dict[str, Any]]]] = [
        ("hooks", "hook latency (whole process)", lambda: bench_hooks(10 if quick else 30)),
        (
            "unblock",
            "unblock latency (no dashboard, small store)",
            lambda: bench_unblock(10 if quick else 50),
        ),
        (
            "store",
            "store throughput (in-process)",
            lambda: bench_store(2000 if quick else 10000),
        ),
        (
            "contention",
            "contention",
            lambda: bench_contention(8 if quick else 32, 10 if quick else 50),
        ),
        (
            "scale",
            "scale",
            lambda: bench_scale(
                args.sizes or ([100, 1000] if quick else [100, 1000, 10_000]), 5 if quick else 20
            ),
        ),
    ]
    if "postgres" in parts:
        sections.append(
            (
                "postgres",
                "postgresql",
                lambda: bench_postgres(10, 10, 8, 10) if quick else bench_postgres(30, 50, 32, 50),
            )
        )
    for part, title, measure in sections:
        if part in parts:
            results[title] = measure()
            print_section(title, results[title])
    results["targets"] = [
        {"section": s, "what": w, "figure": f, "target": t, "met": m} for s, w, f, t, m in TARGETS
    ]
    print_targets()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    failed = [t for t in TARGETS if not t[4]]
    if failed:
        print(f"FAIL: {len(failed)} of {len(TARGETS)} targets not met")
        sys.exit(1)


if __name__ == "__main__":
    main()
