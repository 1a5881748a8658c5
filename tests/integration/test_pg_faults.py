"""A daemon on PostgreSQL survives losing its connections: it reconnects, takes its lock
again, catches up from its cursor and misses nothing written meanwhile."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

import psycopg
import pytest

from tests.integration.conftest import DaemonProcess, Project, wait_until
from tests.pg import PG_URL, admin

RUN_ON_EVERY_BACKEND = False

PLAN = """\
phase: f
tasks:
  first:
    agent: ann
  second:
    agent: bob
    requires: [first]
  third:
    agent: cy
    requires: [second]
"""


@pytest.fixture
def backend() -> str:
    return "postgresql"


def _daemon_backends(pid: int) -> list[int]:
    """Server pids of every connection the daemon process `pid` holds."""
    with admin() as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'swarm%%' "
            "AND (application_name LIKE %s OR application_name IN ('swarm', 'swarm-watch', "
            "'swarm-daemon')) AND backend_type = 'client backend'",
            (f"swarm-daemon pid {pid} %",),
        ).fetchall()
    return [int(row[0]) for row in rows]


def _holds_daemon_lock(pid: int) -> bool:
    with admin() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE %s",
            (f"swarm-daemon pid {pid} %",),
        ).fetchone()
    return bool(row and row[0])


def _terminate(backends: list[int]) -> None:
    with admin() as conn:
        for backend in backends:
            conn.execute("SELECT pg_terminate_backend(%s)", (backend,))


def _status(project: Project, task: str) -> object:
    return project.value(f"f/{task}/status")


def test_the_daemon_survives_killed_connections_and_misses_nothing(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    project.ok("plan", "load", str(project.write_plan(PLAN)))
    daemon = start_daemon("--interval", "3600", "--no-watch-worktree")
    wait_until(lambda: _status(project, "first") == "ready", what="first ready")

    killed = _daemon_backends(daemon.proc.pid)
    assert killed, "the daemon holds connections (lock, LISTEN, pool)"
    _terminate(_daemon_backends(daemon.proc.pid) + killed)
    # Written while the daemon's connections are gone: it must catch up on it.
    project.ok("hooks", "pre-task", "--task-id", "first", "--agent", "ann")
    project.ok("hooks", "post-task", "--task-id", "first", "--agent", "ann")
    wait_until(lambda: _status(project, "second") == "ready", what="second ready after the kill")

    # It takes its lock again, and a second daemon is refused, naming the first.
    wait_until(lambda: _holds_daemon_lock(daemon.proc.pid), what="the lock to be held again")
    second = project.swarm("daemon", "--interval", "3600", timeout=30)
    assert second.code == 1
    assert f"pid {daemon.proc.pid}" in second.stderr

    # And wake-ups flow again.
    project.ok("hooks", "pre-task", "--task-id", "second", "--agent", "bob")
    project.ok("hooks", "post-task", "--task-id", "second", "--agent", "bob")
    wait_until(lambda: _status(project, "third") == "ready", what="third ready")
    assert daemon.proc.poll() is None


def _reachable() -> bool:
    try:
        psycopg.connect(PG_URL, connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


def _restart_server() -> None:
    """Restart the test server (root runs `pg_ctlcluster` on Debian's cluster layout)."""
    with admin() as conn:
        row = conn.execute("SHOW cluster_name").fetchone()
    assert row is not None and "/" in str(row[0]), f"cannot tell the cluster from {row}"
    version, name = str(row[0]).split("/", 1)
    subprocess.run(["pg_ctlcluster", version, name, "restart"], check=True, timeout=120)


def test_the_daemon_survives_a_server_restart(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    project.ok("plan", "load", str(project.write_plan(PLAN)))
    daemon = start_daemon("--interval", "3600", "--no-watch-worktree")
    wait_until(lambda: _status(project, "first") == "ready", what="first ready")
    _restart_server()
    wait_until(_reachable, what="the server back", interval=0.2)

    project.ok("hooks", "pre-task", "--task-id", "first", "--agent", "ann")
    project.ok("hooks", "post-task", "--task-id", "first", "--agent", "ann")
    wait_until(lambda: _status(project, "second") == "ready", what="second ready after restart")
    wait_until(lambda: _holds_daemon_lock(daemon.proc.pid), what="the lock to be held again")
    assert daemon.proc.poll() is None


DEAD_URL = "postgresql://swarm:hunter2@127.0.0.1:9/test"


def _server_away(project: Project) -> None:
    """The repository's recorded store now names a server that does not answer (the store
    is found from the edited file's repository first, so SWARM_DB would not be asked)."""
    (project.root / ".swarm" / "memory.url").write_text(DEAD_URL + "\n")


def test_a_hook_that_cannot_reach_the_server_fails_in_one_line(project: Project) -> None:
    _server_away(project)
    result = project.swarm("hooks", "pre-edit", "--file", "a.py", "--agent", "ann")
    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "postgresql://swarm:***@127.0.0.1:9/test" in lines[0]
    assert "hunter2" not in result.stderr + result.stdout


def test_the_adapters_follow_fail_open_or_closed_when_the_server_is_away(
    project: Project,
) -> None:
    payload = json.dumps(
        {
            "hook_event_name": "PreToolUse",
            "session_id": "s1",
            "tool_name": "Edit",
            "cwd": str(project.root),
            "tool_input": {"file_path": str(project.root / "a.py")},
        }
    )
    _server_away(project)
    away = {"SWARM_AGENT_ID": "ann"}
    # Fail open (the default): one line and exit 1, which the agent treats as non-blocking.
    opened = project.swarm("hooks", "claude", input=payload, env=away)
    assert opened.code == 1
    assert opened.stdout == ""
    assert opened.stderr.count("\n") == 1
    assert "cannot reach the PostgreSQL store at postgresql://swarm:***@" in opened.stderr
    # Fail closed: the edit is denied, saying why.
    closed = project.swarm("hooks", "claude", input=payload, env={**away, "SWARM_FAIL_CLOSED": "1"})
    answer = json.loads(closed.stdout)["hookSpecificOutput"]
    assert answer["permissionDecision"] == "deny"
    assert "cannot reach the PostgreSQL store" in answer["permissionDecisionReason"]
    for result in (opened, closed):
        assert "hunter2" not in result.stdout + result.stderr
