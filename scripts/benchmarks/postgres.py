"""6. PostgreSQL: the same hooks, unblock and contention measurements on a PostgreSQL
store (SWARM_BENCH_PG_URL, default the development server), each in a fresh schema
dropped afterwards."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from memory.backends import open_store

from . import SWARM, check, env_for, running_daemon, summary, timed_run
from .contention import contend

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
