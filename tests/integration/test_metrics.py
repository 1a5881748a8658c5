"""Metrics are keys, gates reach into values, plans carry title, priority, branch, team and
deliverables, and non-finite numbers are refused: through the hooks, run as subprocesses."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.integration.conftest import DaemonProcess, Project, wait_until
from tests.integration.test_hooks import assert_one_error_line, revision

PLAN = """\
phase: phase2
session: swarm-phase2
title: Phase 2 foundations
tasks:
  testing_infrastructure:
    title: Testing infrastructure
    agent: tester
    priority: P0
    branch: feature/testing-infrastructure
    team: quality
    gates: ["phase2/testing_infrastructure/throughput_ops >= 800"]
    deliverables: [Benchmark harness, Property tests, CI job]
  release:
    agent: planner
    priority: P2
    requires: [testing_infrastructure]
    when: ["phase2/final[deliverable_completion_pct] >= 95"]
    gates: ["phase2/release/build[seconds] < 60"]
"""


@pytest.fixture
def planned(project: Project) -> Project:
    """The project with PLAN loaded."""
    project.ok("plan", "load", str(project.write_plan(PLAN)))
    return project


def post(project: Project, task: str, metrics: str, agent: str = "tester") -> object:
    project.ok("hooks", "pre-task", "--task-id", task, "--agent", agent)
    return project.swarm(
        "hooks", "post-task", "--task-id", task, "--agent", agent, "--metrics", metrics
    )


def test_one_post_task_with_metrics_satisfies_a_gate_on_that_metric(planned: Project) -> None:
    result = post(planned, "testing_infrastructure", '{"throughput_ops": 850, "p99_ms": 4.5}')
    assert result.code == 0, result.stderr  # type: ignore[attr-defined]
    assert planned.value("phase2/testing_infrastructure/status") == "complete"
    assert planned.value("phase2/testing_infrastructure/throughput_ops") == 850
    assert planned.value("phase2/testing_infrastructure/p99_ms") == 4.5
    receipt = planned.value("swarm/receipts/phase2/testing_infrastructure")
    assert receipt["metrics"] == {"throughput_ops": 850, "p99_ms": 4.5}
    run = planned.value("swarm/tasks/phase2/testing_infrastructure/run")
    assert run["metrics"] == {"throughput_ops": 850, "p99_ms": 4.5}


def test_a_failing_metric_blocks_and_a_second_post_task_with_a_better_one_completes(
    planned: Project,
) -> None:
    result = post(planned, "testing_infrastructure", '{"throughput_ops": 640}')
    assert result.code == 3  # type: ignore[attr-defined]
    assert "throughput_ops >= 800: is 640" in result.stderr  # type: ignore[attr-defined]
    assert planned.value("phase2/testing_infrastructure/status") == "blocked"
    closer = planned.swarm(
        "hooks",
        "post-task",
        "--task-id",
        "testing_infrastructure",
        "--agent",
        "tester",
        "--metrics",
        '{"throughput_ops": 790}',
    )
    assert closer.code == 3
    assert "throughput_ops >= 800: is 790" in closer.stderr
    assert planned.value("phase2/testing_infrastructure/throughput_ops") == 790
    assert planned.value("phase2/testing_infrastructure/status") == "blocked"
    before = revision(planned)
    same = planned.swarm(
        "hooks",
        "post-task",
        "--task-id",
        "testing_infrastructure",
        "--agent",
        "tester",
        "--metrics",
        '{"throughput_ops": 790}',
    )
    assert same.code == 3
    assert revision(planned) == before  # the same report again changes nothing
    again = planned.swarm(
        "hooks",
        "post-task",
        "--task-id",
        "testing_infrastructure",
        "--agent",
        "tester",
        "--metrics",
        '{"throughput_ops": 812}',
    )
    assert again.code == 0, again.stderr
    assert planned.value("phase2/testing_infrastructure/status") == "complete"


def test_gate_on_a_field_and_when_on_a_field_of_an_object(planned: Project) -> None:
    post(planned, "testing_infrastructure", '{"throughput_ops": 900}')
    planned.ok("memory", "put", "phase2/final", '{"deliverable_completion_pct": 90}')
    shown = planned.ok("plan", "show", "--json").json()
    release = next(row for row in shown if row["name"] == "release")
    assert release["waits_on"] == [
        "when phase2/final[deliverable_completion_pct] >= 95: is 90",
    ]
    planned.ok("memory", "put", "phase2/final", '{"deliverable_completion_pct": 96}')
    planned.ok("hooks", "pre-task", "--task-id", "release", "--agent", "planner")
    blocked = planned.swarm(
        "hooks",
        "post-task",
        "--task-id",
        "release",
        "--agent",
        "planner",
        "--metrics",
        '{"build": {"seconds": 75}}',
    )
    assert blocked.code == 3
    assert "phase2/release/build[seconds] < 60: is 75" in blocked.stderr
    done = planned.swarm(
        "hooks",
        "post-task",
        "--task-id",
        "release",
        "--agent",
        "planner",
        "--metrics",
        '{"build": {"seconds": 41}}',
    )
    assert done.code == 0, done.stderr
    assert planned.value("phase2/release/build") == {"seconds": 41}


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ('{"status": "complete"}', "metric name 'status' is reserved"),
        ('{"progress": 3}', "metric name 'progress' is reserved"),
        ('{"a b": 3}', "may only hold letters"),
        ('{"a/b": 3}', "must be one key segment"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": Infinity}', "Infinity is not a JSON number"),
        ('{"a": [1, -Infinity]}', "-Infinity is not a JSON number"),
        ('{"a": 1e999}', "1e999 is not a JSON number"),
    ],
)
def test_bad_metrics_are_refused_with_the_store_unchanged(
    planned: Project, metrics: str, message: str
) -> None:
    planned.ok("hooks", "pre-task", "--task-id", "testing_infrastructure", "--agent", "tester")
    before = revision(planned)
    for hook in ("post-task", "progress"):
        result = planned.swarm(
            "hooks",
            hook,
            "--task-id",
            "testing_infrastructure",
            "--agent",
            "tester",
            "--metrics",
            metrics,
        )
        assert result.code == 1, (hook, result.stderr)
        assert message in assert_one_error_line(result.stderr)
    assert revision(planned) == before
    export = planned.ok("memory", "export").stdout
    assert "NaN" not in export and "Infinity" not in export
    for line in export.splitlines():
        json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} in the export"))


@pytest.mark.parametrize("ttl", ["nan", "inf", "-inf"])
def test_session_start_refuses_a_non_finite_ttl(project: Project, ttl: str) -> None:
    before = revision(project)
    result = project.swarm(
        "hooks", "session-start", "--session-id", "s", "--agent", "a", f"--ttl={ttl}"
    )
    assert result.code == 1
    assert "not a finite number of seconds" in assert_one_error_line(result.stderr)
    assert revision(project) == before


def test_progress_metrics_are_keys_and_done_ticks_deliverables(planned: Project) -> None:
    task = "testing_infrastructure"
    planned.ok("hooks", "pre-task", "--task-id", task, "--agent", "tester")
    out = planned.ok(
        "hooks",
        "progress",
        "--task-id",
        task,
        "--agent",
        "tester",
        "--done",
        "Benchmark harness",
        "--done",
        "CI job",
        "--metrics",
        '{"throughput_ops": 700}',
    ).stdout
    assert "deliverables ticked: 2" in out
    assert planned.value("phase2/testing_infrastructure/throughput_ops") == 700
    progress = planned.value("swarm/tasks/phase2/testing_infrastructure/progress")
    assert progress["ticked"] == ["Benchmark harness", "CI job"]
    # Counts and ticks live side by side; a later count keeps what was ticked.
    planned.ok("hooks", "progress", "--task-id", task, "--done", "3", "--total", "5")
    progress = planned.value("swarm/tasks/phase2/testing_infrastructure/progress")
    assert (progress["done"], progress["total"], progress["ticked"]) == (
        3,
        5,
        ["Benchmark harness", "CI job"],
    )
    unknown = planned.swarm("hooks", "progress", "--task-id", task, "--done", "Docs")
    assert unknown.code == 1
    assert "has no deliverable 'Docs'" in assert_one_error_line(unknown.stderr)

    restore = planned.ok("session-restore", "--session-id", "swarm-phase2").stdout
    assert "deliverables 2/3" in restore
    assert "[x] Benchmark harness" in restore and "[ ] Property tests" in restore
    status = planned.ok("status").stdout
    assert "2/3" in status and "Benchmark harness" in status


def test_new_plan_fields_are_shown_and_tasks_listed_by_priority(planned: Project) -> None:
    rows = planned.ok("plan", "show", "--json").json()
    assert [row["name"] for row in rows] == ["testing_infrastructure", "release"]
    first = rows[0]
    assert (first["title"], first["priority"], first["branch"], first["team"]) == (
        "Testing infrastructure",
        "P0",
        "feature/testing-infrastructure",
        "quality",
    )
    assert first["deliverables"] == [
        {"item": "Benchmark harness", "done": False},
        {"item": "Property tests", "done": False},
        {"item": "CI job", "done": False},
    ]
    text = planned.ok("plan", "show").stdout
    assert "P0" in text and "Testing infrastructure" in text
    assert "feature/testing-infrastructure" in text and "team quality" in text
    restore = planned.ok("session-restore", "--session-id", "swarm-phase2").stdout
    assert "Phase 2 foundations" in restore and "P0" in restore
    status = planned.ok("status").stdout
    assert "Testing infrastructure" in status and "P0" in status


PRIORITIES = """\
phase: m
tasks:
  a_low:
    priority: P2
    run: |
      set -e
      swarm hooks pre-task --task-id "$SWARM_TASK_ID"
      swarm hooks post-task --task-id "$SWARM_TASK_ID"
  b_none:
    run: |
      set -e
      swarm hooks pre-task --task-id "$SWARM_TASK_ID"
      swarm hooks post-task --task-id "$SWARM_TASK_ID"
  z_urgent:
    priority: P0
    run: |
      set -e
      swarm hooks pre-task --task-id "$SWARM_TASK_ID"
      swarm hooks post-task --task-id "$SWARM_TASK_ID"
"""


def test_max_agents_1_spawns_by_priority(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    project.ok("plan", "load", str(project.write_plan(PRIORITIES)))
    start_daemon("--interval", "3600", "--max-agents", "1", "--no-watch-worktree")
    wait_until(
        lambda: all(project.value(f"m/{t}/status") == "complete" for t in ("a_low", "b_none")),
        what="every task complete",
    )
    order = [
        e["task"]
        for e in (json.loads(line) for line in project.ok("events", "--json").stdout.splitlines())
        if e["type"] == "agent_spawned"
    ]
    # Alphabetical order would be a_low, b_none, z_urgent.
    assert order == ["m/z_urgent", "m/a_low", "m/b_none"]
