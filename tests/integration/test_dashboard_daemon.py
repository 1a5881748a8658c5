"""The dashboard file kept current by the real daemon: updated at once on a change, left
alone when nothing it shows changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from coordinator import layout
from tests.integration.conftest import DaemonProcess, Project, wait_until
from tests.unit.test_dashboard import parse_flowchart, parse_table, section

#: The renderer opens the store in a worker process of its own: on both backends.
RUN_ON_EVERY_BACKEND = True

PLAN = """\
phase: p1
session: s1
tasks:
  build:
    agent: builder
    gates: ["p1/build/warnings < 5"]
  test:
    agent: tester
    requires: [build]
"""


def statuses(path: Path) -> dict[str, str]:
    """Each task's status as the dashboard file shows it ({} while it does not exist)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    return {row["task"]: row["status"].split()[-1] for row in parse_table(section(text, "Tasks"))}


def caught_up(project: Project) -> bool:
    """Whether the daemon has processed every change: its cursor is the latest write, or has
    reached the latest revision."""
    with project.store() as store:
        revision = store.revision()
        cursor = store.get(layout.DAEMON_CURSOR)
    return cursor is not None and (cursor.value >= revision or cursor.mod_rev == revision)


def cursor_reached(project: Project, revision: int) -> bool:
    value = project.value(layout.DAEMON_CURSOR)
    return isinstance(value, int) and value >= revision


@pytest.fixture
def planned(project: Project) -> Project:
    project.ok("plan", "load", str(project.write_plan(PLAN)))
    project.ok("memory", "put", "p1/build/warnings", "2")
    return project


def test_completing_a_task_updates_the_dashboard_within_a_second(
    planned: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    board = planned.root / "docs" / "DASHBOARD.md"
    start_daemon("--interval", "3600", "--dashboard", str(board))
    wait_until(
        lambda: statuses(board) == {"p1/build": "ready", "p1/test": "pending"},
        what="the first dashboard",
    )
    planned.ok("hooks", "pre-task", "--task-id", "build", "--agent", "builder")
    wait_until(lambda: statuses(board).get("p1/build") == "in_progress", timeout=1.0)

    planned.ok("hooks", "post-task", "--task-id", "build", "--agent", "builder")
    wait_until(
        lambda: statuses(board).get("p1/build") == "complete",
        timeout=1.0,
        what="the dashboard to show build complete",
    )
    # The dependent's transition, made by the daemon itself, follows.
    wait_until(lambda: statuses(board).get("p1/test") == "ready", timeout=1.0)

    text = board.read_text()
    gates = parse_table(section(text, "Quality gates"))
    assert gates == [
        {"task": "p1/build", "gate": "p1/build/warnings < 5", "current": "2", "result": "✅ passes"}
    ]
    chart = parse_flowchart(text.split("```mermaid\n")[1].split("```")[0].splitlines())
    assert len(chart.nodes) == 2 and len(chart.edges) == 1
    assert "task_completed" in section(text, "Last")
    # Written atomically: no temporary file is left beside it.
    assert sorted(p.name for p in board.parent.iterdir()) == ["DASHBOARD.md"]


def test_an_idle_daemon_does_not_rewrite_the_dashboard(
    planned: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    board = planned.root / "DASHBOARD.md"
    daemon = start_daemon("--interval", "3600", "--dashboard", str(board))
    planned.ok("hooks", "pre-task", "--task-id", "build", "--agent", "builder")
    planned.ok("hooks", "post-task", "--task-id", "build", "--agent", "builder")
    wait_until(lambda: statuses(board).get("p1/test") == "ready", what="test to be ready")
    wait_until(lambda: caught_up(planned), what="the daemon to catch up")
    before = (board.stat().st_mtime_ns, board.read_text())
    writes = len(daemon.logged("dashboard written"))

    # Changes the dashboard does not show wake the daemon for passes that change nothing.
    for value in ("1", "2", '{"unrelated": true}'):
        put = planned.ok("memory", "put", "elsewhere/key", value, "--json").json()
        wait_until(lambda rev=put["mod_rev"]: cursor_reached(planned, rev))
    assert (board.stat().st_mtime_ns, board.read_text()) == before
    assert len(daemon.logged("dashboard written")) == writes

    # A change it does show is written at once.
    planned.ok("memory", "put", "p1/build/warnings", "3")
    wait_until(lambda: "| 3 |" in board.read_text(), timeout=1.0)


def test_a_plan_names_its_own_dashboard(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    project.ok(
        "plan",
        "load",
        str(project.write_plan("phase: p1\ndashboard: docs/p1/BOARD.md\ntasks:\n  a: {}\n")),
    )
    project.ok(
        "plan", "load", str(project.write_plan("phase: p2\ntasks:\n  b: {}\n", name="p2.yaml"))
    )
    assert json.loads(project.ok("memory", "get", "swarm/plans/p1").stdout)["dashboard"] == (
        "docs/p1/BOARD.md"
    )
    start_daemon("--interval", "3600")
    board = project.root / "docs" / "p1" / "BOARD.md"
    wait_until(lambda: statuses(board) == {"p1/a": "ready"}, what="the plan's dashboard")
    assert "p2/b" not in board.read_text()


def test_the_daemons_own_writes_are_not_unannounced_edits(
    planned: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    planned.env["SWARM_EDIT_GRACE"] = "0.05"
    board = planned.root / "DASHBOARD.md"
    start_daemon("--interval", "3600", "--dashboard", str(board))
    wait_until(lambda: statuses(board).get("p1/build") == "ready")
    # A rewrite while the work-tree watcher is live (the first one precedes it).
    planned.ok("hooks", "pre-task", "--task-id", "build", "--agent", "builder")
    wait_until(lambda: statuses(board).get("p1/build") == "in_progress")
    # An edit no hook announced is recorded once its grace has passed; by then the
    # dashboard written before it has been judged too.
    (planned.root / "notes.txt").write_text("by hand\n")

    def observed() -> list[dict[str, object]]:
        with planned.store() as store:
            return [r.value for r in store.list_prefix(layout.OBSERVATIONS)]

    wait_until(lambda: any(o["path"] == "notes.txt" for o in observed()))
    wait_until(lambda: "`notes.txt` (once" in section(board.read_text(), "Open conflicts"))
    wait_until(lambda: caught_up(planned))
    assert [o["path"] for o in observed()] == ["notes.txt"]
    with planned.store() as store:
        assert store.list_prefix(layout.CONFLICTS) == []


def test_a_burst_of_changes_is_rendered_at_a_bounded_rate_ending_with_the_last(
    planned: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    """Rendering is debounced (issue 14): a burst inside one render gap costs at most two
    renders, and the last render shows the last change (the trailing write)."""
    board = planned.root / "DASHBOARD.md"
    planned.env["SWARM_DASHBOARD_INTERVAL"] = "3"
    daemon = start_daemon("--interval", "3600", "--dashboard", str(board))
    wait_until(lambda: "| 2 |" in board.read_text() if board.exists() else False)
    wait_until(lambda: caught_up(planned), what="the daemon to catch up")
    writes = len(daemon.logged("dashboard written"))

    with planned.store() as store:
        for value in range(5, 10):
            store.put("p1/build/warnings", value)
    wait_until(lambda: "| 9 |" in board.read_text(), timeout=15, what="the last change shown")
    assert len(daemon.logged("dashboard written")) - writes <= 2
