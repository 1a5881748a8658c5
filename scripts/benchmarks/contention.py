"""4. Contention: parallel agents running hook processes on one store, with no error and
no lost write."""

from __future__ import annotations

import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from memory.backends import open_store

from . import SWARM, check, env_for, repo


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
