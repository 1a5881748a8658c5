"""Fixtures for the end-to-end suite: the real agent CLIs (installed once into a cache),
the fake model server, a git repository set up by `swarm init --<client>`, and sessions run
as the CLIs' own processes.

This directory is collected only when asked for by path (`scripts/e2e` runs
`pytest tests/e2e`) or with SWARM_E2E=1: `./scripts/test` stays offline and fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.clients import CLIENTS, SWARM_BIN, Client, cache_dir, install_clients
from tests.e2e.fake_model import FakeModel, FakeModelServer

HERE = Path(__file__).resolve().parent
#: How long one client session may take (they take seconds; npm is not involved here).
SESSION_TIMEOUT = 180.0


def _asked_for(config: pytest.Config) -> bool:
    if os.environ.get("SWARM_E2E", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    for arg in config.args:
        target = Path(config.invocation_params.dir, arg.split("::", 1)[0]).resolve()
        if target == HERE or HERE in target.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave the end-to-end tests out of a run that did not ask for them."""
    if collection_path.name.startswith("test_") and not _asked_for(config):
        return True
    return None


@pytest.fixture(scope="session")
def binaries() -> dict[str, Path]:
    """The pinned agent CLIs, installed from the npm registry into the shared cache."""
    return install_clients(cache_dir())


@pytest.fixture
def model() -> Iterator[FakeModelServer]:
    """The fake model server on 127.0.0.1, one per test."""
    server = FakeModelServer(FakeModel()).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Session:
    """One client session running as its own process."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def wait(self, timeout: float = SESSION_TIMEOUT) -> int:
        """Wait for the session to end; fail the test (with its output) if it does not."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"session {self.name} did not end within {timeout}s:\n{self.output()}")

    def kill(self) -> None:
        """Kill the session and whatever it started and left behind (its process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def output(self) -> str:
        """The session's stdout and stderr (the last 4,000 characters)."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]


@dataclass
class Workspace:
    """A git repository configured by `swarm init --<client>`, and the client to run in it."""

    client: Client
    binary: Path
    repo: Path
    home: Path
    server: FakeModelServer
    sessions: list[Session] = field(default_factory=list)

    def start(self, name: str, prompt: str, *extra: str) -> Session:
        """Start a session of the client in the repository, with `prompt` (and `extra`
        command-line options)."""
        home = self.home / name
        home.mkdir(parents=True)
        log = self.home / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                self.client.argv(self.binary, prompt, extra),
                cwd=self.repo,
                env=self.client.env(home, self.server.url, self.repo),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        session = Session(name, proc, log)
        self.sessions.append(session)
        return session

    def swarm(self, *args: str) -> str:
        """Run `swarm ARGS` in the repository as an operator would; its stdout."""
        proc = subprocess.run(
            [str(SWARM_BIN / "swarm"), *args],
            cwd=self.repo,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith("SWARM_")},
        )
        assert proc.returncode == 0, f"swarm {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    def claims(self) -> list[dict[str, Any]]:
        """The claims in the store (`swarm claims --json`)."""
        return list(json.loads(self.swarm("claims", "--json"))["claims"])

    def events(self, kind: str) -> list[dict[str, Any]]:
        """The store's events of type `kind` (`swarm events --json --type KIND`)."""
        out = self.swarm("events", "--json", "--type", kind, "--limit", "1000")
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def edits(self) -> set[tuple[str, str]]:
        """(agent, path) of every edit the post-edit hooks recorded (`swarm/edits/`)."""
        records = json.loads(self.swarm("memory", "list", "swarm/edits/", "--json"))
        return {(r["value"]["agent"], r["value"]["path"]) for r in records}

    def read(self, path: str) -> str:
        """A file of the repository."""
        return (self.repo / path).read_text(encoding="utf-8")


def git(repo: Path, *args: str) -> None:
    """Run git in `repo` with a fixed identity."""
    subprocess.run(
        ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def workspace_for(
    binaries: dict[str, Path], model: FakeModelServer, tmp_path: Path
) -> Iterator[Callable[[str], Workspace]]:
    """Make a repository with `src/app.py` committed and `swarm init --<client>` run in it
    (one per test); sessions still running at the end are killed."""
    made: list[Workspace] = []

    def make(name: str) -> Workspace:
        client = next(c for c in CLIENTS if c.name == name)
        repo = tmp_path / "repo"
        (repo / "src").mkdir(parents=True)
        (repo / "src" / "app.py").write_text("first = 0\nsecond = 0\n", encoding="utf-8")
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "initial")
        space = Workspace(client, binaries[name], repo, tmp_path / "homes", model)
        space.swarm("init", f"--{name}")
        made.append(space)
        return space

    yield make
    for space in made:
        for session in space.sessions:
            session.kill()
