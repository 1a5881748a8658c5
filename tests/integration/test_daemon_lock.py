"""One daemon per store."""

from __future__ import annotations

from collections.abc import Callable

from tests.integration.conftest import DaemonProcess, Project

#: Every test of this suite that uses a project runs on SQLite and on PostgreSQL.
RUN_ON_EVERY_BACKEND = True


def test_second_daemon_refuses_to_start(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    first = start_daemon("--interval", "3600")
    second = project.swarm("daemon", "--interval", "3600")
    assert second.code == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"pid {first.proc.pid}" in lines[0]
    assert "already running" in lines[0]
    assert first.proc.poll() is None


def test_sigterm_stops_the_daemon_cleanly(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    daemon = start_daemon("--interval", "3600")
    assert daemon.stop() == 0
    assert daemon.logged("stopping")
    # The lock is released: a new daemon starts.
    start_daemon("--interval", "3600")
