"""Two "hosts" on one PostgreSQL store: agents in two network namespaces of this machine.

Each host is a network namespace joined by a veth pair to a third namespace, the hub,
where a small TCP forward (opened inside the hub, relaying to the server on 127.0.0.1)
makes PostgreSQL reachable on the veth address. Every address lives in a namespace the
test creates, and the test removes them all. The hosts contend for one file, and one
host's post-task unblocks the other host's task through the daemon and NOTIFY.

Needs root and `ip` (iproute2), as on the development machines and CI.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.conftest import SWARM, DaemonProcess, Project, Result, wait_until
from tests.pg import admin

CLONE_NEWNET = 0x40000000
FORWARD_PORT = 15432


@pytest.fixture
def backend() -> str:
    return "postgresql"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def _in_namespace(name: str, make: Callable[[], socket.socket]) -> socket.socket:
    """Run `make` in a thread that has joined network namespace `name`: the socket it makes
    belongs to that namespace (setns changes only the calling thread)."""
    result: queue.Queue[socket.socket | BaseException] = queue.Queue()

    def run() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns failed")
            finally:
                os.close(fd)
            result.put(make())
        except BaseException as err:  # noqa: BLE001 - handed to the waiting test
            result.put(err)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    made = result.get()
    if isinstance(made, BaseException):
        raise made
    return made


class Forward:
    """Relays every connection accepted on `listener` to `target` (a TCP forward)."""

    def __init__(self, listener: socket.socket, target: tuple[str, int]) -> None:
        self.listener = listener
        self.target = target
        self._threads: list[threading.Thread] = []
        self._open: list[socket.socket] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                thread = threading.Thread(target=self._pump, args=(a, b), daemon=True)
                thread.start()
                self._threads.append(thread)

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()
        for sock in self._open:
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)


@dataclass
class Host:
    """A network namespace with a checkout of the project, as another machine would be."""

    namespace: str
    root: Path
    env: dict[str, str]

    def swarm(self, *args: str, timeout: float = 60) -> Result:
        proc = subprocess.run(
            ["ip", "netns", "exec", self.namespace, SWARM, *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["ip", "netns", "exec", self.namespace, SWARM, *args],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def hosts(project: Project, tmp_path: Path) -> Iterator[tuple[Host, Host]]:
    """Two hosts, each in its own namespace, reaching the project's PostgreSQL store only
    through its veth link to the hub."""
    assert project.url is not None
    tag = uuid.uuid4().hex[:6]
    hub = f"swarm-{tag}-hub"
    made: list[str] = []
    forwards: list[Forward] = []
    server = urlsplit(project.url)
    target = (server.hostname or "127.0.0.1", server.port or 5432)
    try:
        ip("netns", "add", hub)
        made.append(hub)
        found: list[Host] = []
        for n, side in enumerate(("a", "b"), start=1):
            name = f"swarm-{tag}-{side}"
            ip("netns", "add", name)
            made.append(name)
            hub_end, host_end = f"sw{tag}{side}0", f"sw{tag}{side}1"
            hub_addr, host_addr = f"10.231.{n}.1", f"10.231.{n}.2"
            ip("link", "add", hub_end, "type", "veth", "peer", "name", host_end)
            ip("link", "set", hub_end, "netns", hub)
            ip("link", "set", host_end, "netns", name)
            ip("-n", hub, "addr", "add", f"{hub_addr}/30", "dev", hub_end)
            ip("-n", hub, "link", "set", hub_end, "up")
            ip("-n", name, "addr", "add", f"{host_addr}/30", "dev", host_end)
            ip("-n", name, "link", "set", host_end, "up")
            ip("-n", name, "link", "set", "lo", "up")

            def listen(address: str = hub_addr) -> socket.socket:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((address, FORWARD_PORT))
                sock.listen(64)
                return sock

            forwards.append(Forward(_in_namespace(hub, listen), target))
            root = tmp_path / f"host-{side}"
            subprocess.run(
                ["git", "clone", "-q", str(project.root), str(root)],
                check=True,
                env=project.env,
            )
            url = project.url.replace(f"{target[0]}:{target[1]}", f"{hub_addr}:{FORWARD_PORT}")
            assert hub_addr in url
            host = Host(name, root, dict(project.env))
            init = host.swarm("init", "--db", url)
            assert init.code == 0, init.stderr
            found.append(host)
        yield found[0], found[1]
    finally:
        for forward in forwards:
            forward.close()
        for name in reversed(made):
            subprocess.run(["ip", "netns", "del", name], check=False, timeout=30)
    listed = subprocess.run(["ip", "netns", "list"], check=True, capture_output=True, text=True)
    leftover = listed.stdout
    assert f"swarm-{tag}" not in leftover


PLAN = """\
phase: n
tasks:
  one:
    agent: ann
  two:
    agent: bob
    requires: [one]
"""


def test_two_hosts_contend_for_a_file_and_one_unblocks_the_other(
    project: Project,
    hosts: tuple[Host, Host],
    start_daemon: Callable[..., DaemonProcess],
) -> None:
    a, b = hosts
    project.ok("plan", "load", str(project.write_plan(PLAN)))
    start_daemon("--interval", "3600", "--no-watch-worktree")
    # Neither host can reach the server directly: only through its link to the hub.
    direct = a.swarm("--db", project.url or "", "memory", "list", timeout=30)
    assert direct.code == 1 and "cannot reach" in direct.stderr

    started = a.swarm("hooks", "pre-task", "--task-id", "one", "--agent", "ann")
    assert started.code == 0, started.stderr
    held = a.swarm("hooks", "pre-edit", "--file", "src/app.py", "--agent", "ann")
    assert held.code == 0, held.stderr
    refused = b.swarm("hooks", "pre-edit", "--file", "src/app.py", "--agent", "bob")
    assert refused.code == 3, refused.stderr
    assert "held exclusive by ann" in refused.stderr

    before = _listeners()
    waiting = b.start("hooks", "pre-task", "--task-id", "two", "--agent", "bob", "--wait", "60")
    try:
        # B's pre-task waits (for NOTIFY, over its own link): task two is not ready. Its
        # LISTEN is seen by the server before A finishes, so the wake-up is what ends it.
        wait_until(lambda: _listeners() > before, 30, what="B's pre-task to LISTEN")
        assert waiting.poll() is None
        done = a.swarm("hooks", "post-task", "--task-id", "one", "--agent", "ann")
        assert done.code == 0, done.stderr
        out, err = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()
    assert waiting.returncode == 0, err
    assert "task n/two started by bob" in out

    granted = b.swarm("hooks", "pre-edit", "--file", "src/app.py", "--agent", "bob")
    assert granted.code == 0, granted.stderr
    assert "to bob" in granted.stdout


def _listeners() -> int:
    """Connections to the test database whose last statement was a LISTEN."""
    with admin() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
        ).fetchone()
    return int(row[0]) if row else 0
