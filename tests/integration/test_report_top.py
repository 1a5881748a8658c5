"""`swarm report`, `swarm status` and `swarm top` on a real store, run as subprocesses."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time

import pytest

from tests.integration.conftest import SWARM, Project
from tests.unit.test_dashboard import parse_table, section

PLAN = """\
phase: p7
session: s7
baseline: p7/baseline
final: p7/final
tasks:
  lint:
    agent: reviewer
    gates: ["p7/lint/warnings < 20"]
  docs:
    agent: writer
  release:
    agent: planner
    requires: [lint]
    optional: [docs]
"""


@pytest.fixture
def completed(project: Project) -> Project:
    """PLAN run to completion by three agents, with baseline and final metrics."""
    project.ok("plan", "load", str(project.write_plan(PLAN)))
    project.ok("memory", "put", "p7/baseline", '{"warnings": 12, "tests": 626, "build_s": 400}')
    for task, agent, metrics in (
        ("lint", "reviewer", '{"warnings": 9}'),
        ("docs", "writer", '{"pages": 4}'),
        ("release", "planner", "{}"),
    ):
        if task == "lint":
            project.ok("memory", "put", "p7/lint/warnings", "9")
        project.ok("hooks", "pre-task", "--task-id", task, "--agent", agent)
        project.ok(
            "hooks",
            "post-task",
            "--task-id",
            task,
            "--agent",
            agent,
            "--summary",
            f"{task} done",
            "--metrics",
            metrics,
        )
    project.ok("memory", "put", "p7/final", '{"warnings": 9, "tests": 630, "build_s": 300}')
    return project


def test_report_json(completed: Project) -> None:
    data = completed.ok("report", "--session-id", "s7", "--format", "json").json()
    assert data["session"] == "s7"
    assert data["phases"] == ["p7"]
    tasks = {t["task"]: t for t in data["tasks"]}
    assert set(tasks) == {"p7/lint", "p7/docs", "p7/release"}
    for task in tasks.values():
        assert task["status"] == "complete"
        assert task["receipt"] is True
        assert task["start"] <= task["end"]
        assert task["duration"] == pytest.approx(task["end"] - task["start"], abs=0.01)
    assert tasks["p7/lint"]["agent"] == "reviewer"
    assert tasks["p7/lint"]["summary"] == "lint done"
    assert tasks["p7/lint"]["metrics"] == {"warnings": 9}
    assert tasks["p7/lint"]["gates"][0]["passes"] is True
    (group,) = data["metrics"]
    assert (group["baseline_key"], group["final_key"]) == ("p7/baseline", "p7/final")
    rows = {r["metric"]: r for r in group["rows"]}
    assert rows["warnings"] == {
        "metric": "warnings",
        "baseline": 12,
        "final": 9,
        "delta": -3,
        "percent": -25.0,
    }
    assert rows["build_s"]["delta"] == -100
    assert rows["tests"]["percent"] == pytest.approx(0.64)
    path = data["critical_path"]
    assert path["tasks"] in (["p7/lint", "p7/release"], ["p7/docs"])
    assert data["summary"]["by_status"] == {"complete": 3}


def test_report_markdown_to_stdout_and_to_a_file(completed: Project) -> None:
    markdown = completed.ok("report", "--session-id", "s7").stdout
    assert markdown.startswith("# Completion report: s7")
    rows = {r["task"]: r for r in parse_table(section(markdown, "Tasks"))}
    assert rows["p7/release"]["agent"] == "planner"
    assert rows["p7/release"]["summary"] == "release done"
    metrics = {r["metric"]: r for r in parse_table(section(markdown, "Baseline"))}
    assert metrics["warnings"]["delta"] == "-3"
    assert metrics["warnings"]["change"] == "-25%"
    assert "## Critical path" in markdown

    out = completed.root / "docs" / "REPORT.md"
    result = completed.ok("report", "--session-id", "s7", "--output", str(out))
    assert str(out) in result.stdout

    def without_generated(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("- Generated ")]

    assert without_generated(out.read_text()) == without_generated(markdown)


def test_report_of_an_unknown_session_is_one_error_line(completed: Project) -> None:
    result = completed.swarm("report", "--session-id", "nope")
    assert result.code == 1
    assert result.stderr.startswith("swarm: error: no plan is loaded for session 'nope'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_status_prints_the_dashboard_and_the_same_content_as_json(completed: Project) -> None:
    text = completed.ok("status").stdout
    rows = {r["task"]: r["status"].split()[-1] for r in parse_table(section(text, "Tasks"))}
    assert rows == {"p7/lint": "complete", "p7/docs": "complete", "p7/release": "complete"}
    view = completed.ok("status", "--json").json()
    assert [t["task"] for t in view["tasks"]] == list(rows)
    assert view["progress"] == [{"phase": "p7", "complete": 3, "tasks": 3, "percent": 100}]
    assert completed.ok("status", "--session-id", "s7").stdout == text


def test_top_once_and_without_a_terminal_prints_one_snapshot(completed: Project) -> None:
    completed.ok("plan", "load", str(completed.write_plan("phase: p8\ntasks:\n  next: {}\n", "p8")))
    for args in (("top", "--once"), ("top",)):
        # subprocess.run gives the command pipes, not a terminal: one snapshot, then exit.
        out = completed.ok(*args, input="").stdout
        for task in ("p7/lint", "p7/docs", "p7/release", "p8/next"):
            assert task in out, (args, out)
        assert "complete" in out
        assert "task_completed" in out
    only = completed.ok("top", "--once", "--session-id", "s7").stdout
    assert "p7/lint" in only and "p8/next" not in only


def _read_until(fd: int, proc: subprocess.Popen[bytes], wanted: bytes, seen: bytearray) -> None:
    """Read the pseudo-terminal into `seen` until `wanted` shows up (or fail at a deadline)."""
    deadline = time.monotonic() + 20
    while wanted not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or proc.poll() is not None:
            pytest.fail(f"{wanted!r} never appeared; output so far: {bytes(seen)[-2000:]!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # EIO: the other end closed
                break


def test_top_in_a_terminal_redraws_on_change_and_quits_on_q(project: Project) -> None:
    project.ok("plan", "load", str(project.write_plan(PLAN)))
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    proc = subprocess.Popen(
        [SWARM, "top", "--poll", "3600"],
        cwd=project.root,
        env={**project.env, "TERM": "xterm-256color"},
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()
    try:
        _read_until(master, proc, b"p7/release", seen)
        assert b"p7/lint" in seen and b"press q to quit" in seen
        # A change redraws at once, though the poll timeout is an hour away.
        seen.clear()
        project.ok("hooks", "pre-task", "--task-id", "lint", "--agent", "reviewer")
        _read_until(master, proc, b"in_progress", seen)
        os.write(master, b"q")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
