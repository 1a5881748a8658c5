"""5. Scale: plan load, the first catch-up, a one-change pass, unblock with the dashboard
on, session-restore, status and report at 100, 1k and 10k tasks, and their growth."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memory.backends import open_store

from . import (
    SWARM,
    BenchFailure,
    DaemonProcess,
    check,
    commit_ts,
    env_for,
    pct,
    run_checked,
    timed_run,
    wait_for,
)
from .unblock import unblock_trial

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
