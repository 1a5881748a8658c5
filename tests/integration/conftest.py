"""Fixtures for integration tests: real git repositories, `swarm` run as a subprocess the way
agents run it, and the real daemon process.

Nothing here sleeps to let things settle: `wait_until` polls a condition against a
deadline, and the daemon fixture waits for the daemon's own "watching" log line.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from coordinator import layout
from memory.backends import open_store
from memory.locator import url_path
from memory.store import Store
from tests.pg import Schemas

#: The `swarm` console script of the environment running the tests.
SWARM = str(Path(sys.executable).with_name("swarm"))


#: Modules a hook call must not import: each costs a hook more than its own work (typing,
#: argparse with gettext and locale, pathlib with urllib.parse: see hooks.run.parse_fast,
#: memory.tuples and memory.locator), or far more (click, asyncio, structlog).
HEAVY = {"typing", "argparse", "gettext", "locale", "click", "asyncio", "structlog"}
#: On a SQLite store. A PostgreSQL store's path is a Path standing for its URL
#: (memory.locator.url_path), and its hooks load libpq through ctypes anyway.
HEAVY_ON_SQLITE = {"pathlib", "urllib.parse", "importlib", "contextlib"}


def heavy_modules(backend: str) -> list[str]:
    """The modules a hook on a `backend` store must not import."""
    return sorted(HEAVY | (HEAVY_ON_SQLITE if backend == "sqlite" else set()))


def import_probe(project: Project, backend: str, code: str, *args: str) -> str:
    """The last line `code` (run with `args`) writes on stderr, in a fresh interpreter in
    the project. On SQLite without site-packages (`-S`, the package on PYTHONPATH): an
    editable install's import finder imports pathlib and importlib at start-up, which
    would hide a hook's own imports of them."""
    command = [sys.executable, "-c", code, *args]
    env = dict(project.env)
    if backend == "sqlite":
        command.insert(1, "-S")
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run(
        command, cwd=project.root, env=env, capture_output=True, text=True, check=False
    )
    lines = proc.stderr.strip().splitlines()
    return lines[-1] if lines else proc.stderr


def load(project: Project, text: str) -> None:
    """Load a plan given as YAML text."""
    project.ok("plan", "load", str(project.write_plan(text)))


def status(project: Project, task: str) -> Any:
    """A task's status as stored."""
    return project.value(f"{task}/status")


def run_record(project: Project, task: str) -> dict[str, Any]:
    """A task's run record (empty when there is none)."""
    return project.value(layout.run_key(task)) or {}


def wait_until(
    predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01, what: str = ""
) -> Any:
    """Poll `predicate` until it returns something truthy; fail the test at `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)  # polling a condition against a deadline, not settling


@contextmanager
def hold_write_lock(project: Project) -> Iterator[None]:
    """Hold the store's write lock, as another writer would, for the block."""
    if project.url is None:
        holder = sqlite3.connect(project.db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder = psycopg.connect(project.url, autocommit=True)  # type: ignore[assignment]
        holder.execute("BEGIN")
        holder.execute("SELECT 1 FROM store_meta WHERE id = 1 FOR UPDATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@dataclass
class Result:
    """A finished `swarm` invocation."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.stdout)


@dataclass
class Project:
    """A git repository with a swarm store, and a way to run `swarm` in it."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    #: The PostgreSQL store's URL, or None for a SQLite store in `.swarm/memory.db`.
    url: str | None = None

    @property
    def db(self) -> Path:
        """The store: its file, or the path in `.swarm/` that stands for its URL."""
        if self.url is not None:
            return url_path(self.url, self.root / ".swarm")
        return self.root / ".swarm" / "memory.db"

    def swarm(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        timeout: float = 60,
        cwd: Path | None = None,
    ) -> Result:
        """Run `swarm ARGS...` as a subprocess in the repository."""
        proc = subprocess.run(
            [SWARM, *args],
            cwd=cwd or self.root,
            env={**self.env, **(env or {})},
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, **kwargs: Any) -> Result:
        """Run `swarm` and fail the test unless it exits 0."""
        result = self.swarm(*args, **kwargs)
        assert result.code == 0, f"swarm {' '.join(args)} exited {result.code}: {result.stderr}"
        return result

    def store(self) -> Store:
        """Open the store in-process, for assertions."""
        return open_store(self.db)

    def value(self, key: str) -> Any:
        """The current value of `key`, or None."""
        with self.store() as store:
            record = store.get(key)
        return None if record is None else record.value

    def write_plan(self, text: str, name: str = "plan.yaml") -> Path:
        """Write a plan file into the repository."""
        path = self.root / name
        path.write_text(text)
        return path

    def git(self, *args: str) -> str:
        """Run git in the repository and return its stdout."""
        return subprocess.run(
            ["git", *args], cwd=self.root, check=True, capture_output=True, text=True
        ).stdout


def git_env() -> dict[str, str]:
    """An environment for subprocesses: isolated from the user's git config and store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWARM_", "GIT_"))}
    env.update(
        {
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.invalid",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.invalid",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


#: The store backends. A suite that sets `RUN_ON_EVERY_BACKEND = True` runs each of its
#: tests that uses a project (through the `backend` fixture) once on each.
BACKENDS = ["sqlite", "postgresql"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise `backend` for the suites that run on every backend."""
    on_every = getattr(metafunc.module, "RUN_ON_EVERY_BACKEND", False)
    if on_every and "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The store backend of this test's project: SQLite unless a suite parametrises it."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def project(tmp_path: Path, backend: str, pg_schemas: Schemas) -> Project:
    """A fresh git repository with `swarm init` run in it (on PostgreSQL, `swarm init --db
    URL` with a fresh schema)."""
    root = tmp_path / "repo"
    root.mkdir()
    env = git_env()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=env)
    proj = Project(root, env)
    if backend == "postgresql":
        proj.url = pg_schemas.new()
        proj.ok("init", "--db", proj.url)
    else:
        proj.ok("init")
    return proj


class DaemonProcess:
    """A running `swarm daemon`, with its JSON log lines collected as they arrive."""

    def __init__(self, project: Project, *args: str) -> None:
        self.project = project
        self.args = args
        self.lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [SWARM, "daemon", "--log-format", "json", *args],
            cwd=project.root,
            env=project.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"event": "raw", "line": line.rstrip()}
            with self._lock:
                self.lines.append(entry)

    def logged(self, event: str) -> list[dict[str, Any]]:
        """Log entries whose event is `event`."""
        with self._lock:
            return [entry for entry in self.lines if entry.get("event") == event]

    def wait_watching(self, timeout: float = 15.0) -> DaemonProcess:
        """Wait until the daemon's watcher is live (or fail if it exited)."""
        wait_until(
            lambda: self.logged("watching") or self.proc.poll() is not None,
            timeout,
            what="the daemon to start watching",
        )
        if self.proc.poll() is not None:
            pytest.fail(f"daemon exited with {self.proc.returncode}: {self.lines}")
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send `sig` and wait for the daemon to exit; return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


@pytest.fixture
def start_daemon(project: Project) -> Iterator[Callable[..., DaemonProcess]]:
    """Start real daemon processes in the project; all are stopped at the end of the test."""
    started: list[DaemonProcess] = []

    def start(*args: str, wait: bool = True) -> DaemonProcess:
        daemon = DaemonProcess(project, *args)
        started.append(daemon)
        return daemon.wait_watching() if wait else daemon

    yield start
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.stop(signal.SIGKILL)
