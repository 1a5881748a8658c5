"""What every section of the benchmark suite shares: the paths, the targets checked in a
run (`TARGETS`, `check`), `BenchFailure`, the statistics (`pct`, `summary`), running and
timing the commands that must succeed, a real daemon and an observer of the store, and
printing the results as tables.
"""

from __future__ import annotations

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
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from memory.backends import open_store
from memory.store import Store

ROOT = Path(__file__).resolve().parent.parent.parent
SWARM = str(Path(sys.executable).with_name("swarm"))
RESULTS = ROOT / "bench" / "results.json"

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
