"""A git repository configured by `swarm init --<client>`, the client's sessions run in it
as processes of their own, and the store read back through the `swarm` CLI, as an operator
would."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.clients import SWARM_BIN, Client
from tests.e2e.fake_model import FakeModelServer
from tests.integration.conftest import DaemonProcess, Project, wait_until

#: How long one client session may take (they take seconds; npm is not involved here).
SESSION_TIMEOUT = 180.0


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

    def wait_at_gate(self, server: FakeModelServer, gate: str) -> None:
        """Wait until the session's model request is held at `gate`; fail if the session
        ends first or the deadline passes."""
        deadline = time.monotonic() + SESSION_TIMEOUT
        while not server.model.wait_reached(gate, timeout=0.05):
            if self.proc.poll() is not None:
                pytest.fail(
                    f"session {self.name} ended (exit {self.proc.returncode}) before "
                    f"reaching {gate}:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"session {self.name} did not reach {gate}:\n{self.output()}")


@dataclass
class Workspace:
    """A git repository configured by `swarm init --<client>`, and the client to run in it."""

    client: Client
    binary: Path
    repo: Path
    home: Path
    server: FakeModelServer
    sessions: list[Session] = field(default_factory=list)
    daemons: list[DaemonProcess] = field(default_factory=list)

    def start(
        self,
        name: str,
        prompt: str,
        *extra: str,
        home: Path | None = None,
        bypass_hook_trust: bool = True,
    ) -> Session:
        """Start a session of the client in the repository, with `prompt` (and `extra`
        command-line options), in a home of its own unless given `home` (a user's, kept
        between sessions)."""
        if home is None:
            home = self.home / name
            home.mkdir(parents=True)
        log = self.home / f"{name}.log"
        argv = self.client.argv(self.binary, prompt, extra, bypass_hook_trust=bypass_hook_trust)
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv,
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

    def operator_env(self) -> dict[str, str]:
        """The environment an operator runs `swarm` with: this one, without SWARM_*."""
        return {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}

    def daemon(self) -> DaemonProcess:
        """Start `swarm daemon` in the repository and wait until it watches the store (it
        is stopped when the test ends)."""
        daemon = DaemonProcess(Project(self.repo, self.operator_env()))
        self.daemons.append(daemon)
        return daemon.wait_watching()

    def status(self, task: str) -> str:
        """A task's status (`swarm memory get PHASE/TASK/status`)."""
        return self.swarm("memory", "get", f"{task}/status").strip()

    def wait_status(self, task: str, status: str, timeout: float = 30.0) -> None:
        """Wait until `task` has `status`."""
        wait_until(lambda: self.status(task) == status, timeout, 0.05, f"{task} to be {status}")

    def swarm(self, *args: str, env: dict[str, str] | None = None, code: int = 0) -> str:
        """Run `swarm ARGS` in the repository as an operator would (with `env` added to
        the environment); its stdout, once it has exited with `code`."""
        proc = subprocess.run(
            [str(SWARM_BIN / "swarm"), *args],
            cwd=self.repo,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**self.operator_env(), **(env or {})},
        )
        assert proc.returncode == code, f"swarm {' '.join(args)}: {proc.stdout}{proc.stderr}"
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


def make_workspace(client: Client, binary: Path, server: FakeModelServer, root: Path) -> Workspace:
    """A repository under `root` with `src/app.py` committed and `swarm init --<client>`
    run in it."""
    repo = root / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "app.py").write_text("first = 0\nsecond = 0\n", encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "initial")
    space = Workspace(client, binary, repo, root / "homes", server)
    space.swarm("init", f"--{client.name}")
    return space
