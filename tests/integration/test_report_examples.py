"""`swarm report` is the document coordinators wrote by hand.

The situations of the two example documents (`../shared/examples/phase7-coordination-
summary.md` and `phase1-orchestration-plan.md`) are turned into plans and run by scripted
agents, each hook a subprocess; every section of each example must have its counterpart in
the report, numbers included.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.conftest import Project
from tests.unit.test_dashboard import parse_table, section

PHASE7 = """\
phase: phase7
session: swarm-phase7
title: Phase 7 coordination
description: three parallel workstreams, then release preparation
baseline: phase7/baseline
final: phase7/final
tasks:
  build_infra:
    title: Build infrastructure
    agent: cicd-engineer
    team: infrastructure
    priority: P1
    deadline: 2.4d
    description: sccache, shared target-dir, cargo-sweep
    gates:
      - "phase7/build_infra/build_time_gain_pct >= 25"
      - "phase7/build_infra/crates_failing == 0"
    deliverables:
      - sccache operational (10GB cap)
      - Build time improved 25-40%
      - All crates build successfully
  config_system:
    title: Configuration system
    agent: backend-dev
    team: backend
    priority: P1
    deadline: 2.4d
    gates: ["phase7/config_system/env_vars_supported >= 93"]
    deliverables: [93/93 env vars implemented, All from_env() tested, No hardcoded values]
  code_quality:
    title: Code quality
    agent: reviewer
    team: quality
    priority: P0
    deadline: 1.2d
    gates:
      - "phase7/code_quality/clippy_warnings < 20"
      - "phase7/code_quality/loc_removed >= 500"
      - "phase7/code_quality/tests[passing] >= 626"
    deliverables: [<20 clippy warnings maintained, ~500 LOC removed, 626/630 tests passing]
  release_prep:
    title: Release preparation
    agent: planner
    team: release
    priority: P2
    requires: [code_quality]
    when: ["phase7/baseline[tests][passing] >= 626"]
    deadline: 1d
    gates: ['phase7/release_prep/version == "2.0.0"']
    deliverables: [CHANGELOG updated, Version 2.0.0 everywhere, Release notes complete]
"""

PHASE7_BASELINE = (
    '{"clippy_warnings": 12, "rust_files": 887, "tests": {"passing": 626, "total": 630}}'
)
PHASE7_FINAL = '{"clippy_warnings": 9, "rust_files": 880, "tests": {"passing": 630, "total": 630}}'

# (task, agent, metrics) in the order the agents finish.
PHASE7_RUN = [
    (
        "code_quality",
        "reviewer",
        '{"clippy_warnings": 9, "loc_removed": 512, "tests": {"passing": 630, "total": 630}}',
    ),
    ("build_infra", "cicd-engineer", '{"build_time_gain_pct": 31, "crates_failing": 0}'),
    ("config_system", "backend-dev", '{"env_vars_supported": 93}'),
    ("release_prep", "planner", '{"version": "2.0.0"}'),
]

PHASE1 = """\
phase: phase1
session: phase1-orchestration
title: Phase 1 orchestration
description: stabilise the build system before Phase 2 agents are spawned
baseline: phase1/baseline
final: phase1/final
tasks:
  build_system_stabilization:
    title: Build system stabilization
    agent: build-system-stabilization-001
    team: infrastructure
    priority: P0
    branch: feature/build-system-stabilization
    deadline: 3d
    gates:
      - "phase1/build_system_stabilization/dependency_conflicts == 0"
      - "phase1/build_system_stabilization/build_warnings == 0"
      - "phase1/build_system_stabilization/build_time_s <= 440"
    deliverables:
      - Analyze current base64ct dependency conflict in workspace
      - Research base64ct edition2024 compatibility requirements
      - Update Cargo.toml files to resolve dependency conflicts
      - Test build across all workspace crates
  testing_infrastructure:
    title: Testing infrastructure
    agent: testing-infrastructure
    team: quality
    priority: P1
    branch: feature/testing-infrastructure
    requires: [build_system_stabilization]
    gates: ["phase1/testing_infrastructure/throughput_ops >= 800"]
  kernel_events_enhancement:
    title: Kernel events enhancement
    agent: kernel-events
    team: kernel
    priority: P1
    branch: feature/kernel-events-expansion
    requires: [build_system_stabilization]
  storage_advancement:
    title: Storage advancement
    agent: storage
    team: kernel
    priority: P3
    requires: [testing_infrastructure]
"""


def hook(project: Project, *args: str) -> str:
    """Run one hook the way an agent does; it must succeed."""
    return project.ok("hooks", *args).stdout


def run_phase7(project: Project) -> None:
    project.ok("plan", "load", str(project.write_plan(PHASE7, "phase7.yaml")))
    project.ok("memory", "put", "phase7/baseline", PHASE7_BASELINE)
    for task, agent, metrics in PHASE7_RUN:
        hook(project, "session-start", "--session-id", "swarm-phase7", "--agent", agent)
        hook(project, "pre-task", "--task-id", task, "--agent", agent)
        for item in project.ok("plan", "show", "--json").json():
            if item["name"] == task:
                for deliverable in item["deliverables"]:
                    hook(project, "progress", "--task-id", task, "--done", deliverable["item"])
        hook(
            project,
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
    project.ok("memory", "put", "phase7/final", PHASE7_FINAL)
    project.ok("daemon", "--once")


def run_phase1(project: Project) -> None:
    """The state the Phase 1 plan describes, one step on: the build system is stable, the
    testing agent's throughput misses its gate, the kernel agent reports a blocker, and
    storage waits behind testing."""
    project.ok("plan", "load", str(project.write_plan(PHASE1, "phase1.yaml")))
    project.ok("memory", "put", "phase1/baseline", '{"build_time_s": 400, "warnings": 3}')
    build, builder = "build_system_stabilization", "build-system-stabilization-001"
    hook(project, "session-start", "--session-id", "phase1-orchestration", "--agent", builder)
    hook(project, "pre-task", "--task-id", build, "--agent", builder)
    hook(
        project,
        "progress",
        "--task-id",
        build,
        "--agent",
        builder,
        "--done",
        "Analyze current base64ct dependency conflict in workspace",
        "--milestone",
        "Dependency analysis",
        "--metrics",
        '{"conflicts_found": 1, "conflicts_resolved": 0}',
    )
    for item in (
        "Research base64ct edition2024 compatibility requirements",
        "Update Cargo.toml files to resolve dependency conflicts",
        "Test build across all workspace crates",
    ):
        hook(project, "progress", "--task-id", build, "--agent", builder, "--done", item)
    hook(
        project,
        "post-task",
        "--task-id",
        build,
        "--agent",
        builder,
        "--summary",
        "base64 0.22, workspace builds",
        "--metrics",
        '{"dependency_conflicts": 0, "build_warnings": 0, "build_time_s": 420}',
    )
    project.ok("daemon", "--once")
    for agent in ("testing-infrastructure", "kernel-events"):
        hook(project, "session-start", "--session-id", "phase1-orchestration", "--agent", agent)
    hook(project, "pre-task", "--task-id", "testing_infrastructure", "--agent",
         "testing-infrastructure")  # fmt: skip
    failed = project.swarm(
        "hooks",
        "post-task",
        "--task-id",
        "testing_infrastructure",
        "--agent",
        "testing-infrastructure",
        "--metrics",
        '{"throughput_ops": 640}',
    )
    assert failed.code == 3, failed.stderr
    hook(project, "pre-task", "--task-id", "kernel_events_enhancement", "--agent", "kernel-events")
    hook(
        project,
        "progress",
        "--task-id",
        "kernel_events_enhancement",
        "--agent",
        "kernel-events",
        "--done",
        "1",
        "--total",
        "4",
        "--blocker",
        "base64 upgrade may introduce API incompatibilities",
    )
    project.ok("daemon", "--once")


def team_tables(markdown: str) -> dict[str, list[dict[str, str]]]:
    """The status matrix: each `### team` with its table."""
    body = section(markdown, "Status by team")
    parts = re.split(r"^### (.+)$", body, flags=re.M)[1:]
    return {name: parse_table(text) for name, text in zip(parts[::2], parts[1::2], strict=True)}


@pytest.fixture
def phase7(project: Project) -> tuple[str, dict[str, Any]]:
    run_phase7(project)
    markdown = project.ok("report", "--session-id", "swarm-phase7").stdout
    data = project.ok("report", "--session-id", "swarm-phase7", "--format", "json").json()
    return markdown, data


def test_phase7_summary_has_its_counterpart_in_the_report(
    phase7: tuple[str, dict[str, Any]],
) -> None:
    markdown, data = phase7
    # **Session ID:** swarm-phase7, the plan and its status.
    assert markdown.startswith("# Completion report: swarm-phase7")
    assert "Phase 7 coordination — three parallel workstreams" in markdown
    assert "- Tasks: 4/4 complete" in markdown

    # Execution plan: the four workstreams, their agents, durations and the dependency.
    matrix = team_tables(markdown)
    assert set(matrix) == {"infrastructure", "backend", "quality", "release"}
    (quality,) = matrix["quality"]
    assert (quality["task"], quality["agent"], quality["priority"]) == (
        "phase7/code_quality",
        "reviewer",
        "P0",
    )
    assert quality["deadline"].startswith("1d04h")  # 1.2 days
    assert matrix["infrastructure"][0]["deadline"].startswith("2d09h")  # 2.4 days
    (release,) = matrix["release"]
    assert "phase7/code_quality" in release["requirements"]
    assert "phase7/baseline[tests][passing] >= 626" in release["requirements"]
    assert all(row["status"] == "✅ complete" for rows in matrix.values() for row in rows)
    assert all(row["attempts"] == "1" for rows in matrix.values() for row in rows)
    # The quality-gate checklists, every item ticked.
    assert all(row["deliverables"] == "3/3" for rows in matrix.values() for row in rows)
    assert "- [x] ~500 LOC removed" in markdown
    assert "- [ ]" not in markdown

    # Baseline metrics: clippy 12, 887 Rust files, 626/630 tests; and the final ones.
    baseline = {r["metric"]: r for r in parse_table(section(markdown, "Baseline and final"))}
    assert baseline["clippy_warnings"]["baseline"] == "12"
    assert baseline["clippy_warnings"]["final"] == "9"
    assert baseline["clippy_warnings"]["delta"] == "-3"
    assert baseline["rust_files"]["baseline"] == "887"
    assert (baseline["tests.passing"]["baseline"], baseline["tests.total"]["baseline"]) == (
        "626",
        "630",
    )
    assert (baseline["tests.passing"]["final"], baseline["tests.passing"]["delta"]) == (
        "630",
        "+4",
    )

    # Quality gates, as metrics against their targets.
    targets = {r["metric"]: r for r in parse_table(section(markdown, "Metrics against targets"))}
    clippy = targets["phase7/code_quality/clippy_warnings"]
    assert (clippy["target"], clippy["baseline"], clippy["final"], clippy["delta"]) == (
        "< 20",
        "12",
        "9",
        "-3",
    )
    assert clippy["result"] == "✅ pass"
    passing = targets["phase7/code_quality/tests[passing]"]
    assert (passing["target"], passing["baseline"], passing["final"], passing["delta"]) == (
        ">= 626",
        "626",
        "630",
        "+4",
    )
    assert targets["phase7/config_system/env_vars_supported"]["final"] == "93"
    assert targets["phase7/build_infra/build_time_gain_pct"]["final"] == "31"
    assert targets["phase7/release_prep/version"]["final"] == "'2.0.0'"
    assert len(targets) == len(data["targets"]) == 7
    assert all(t["result"] == "pass" for t in data["targets"])

    # Success criteria: all tasks complete, all gates passed.
    assert "- Gates: 7/7 passing" in markdown
    assert "**Go/no-go: GO**" in markdown
    assert data["go_no_go"]["go"] is True
    assert set(data["go_no_go"]["phases"][0]["last_tasks"]) == {
        "phase7/release_prep",
        "phase7/build_infra",
        "phase7/config_system",
    }

    # Nothing stands in the way; the timeline holds what the hooks did.
    assert section(markdown, "Blockers and risks").strip() == "None."
    timeline = parse_table(section(markdown, "Timeline"))
    started = [r["task"] for r in timeline if r["event"] == "task_started"]
    assert started == [task_id for task_id in (f"phase7/{t}" for t, _, _ in PHASE7_RUN)]
    assert any(r["event"] == "plan_loaded" for r in timeline)
    assert sum(r["event"] == "progress" for r in timeline) == 12

    # Estimated completion: the chain code_quality -> release_prep.
    path = section(markdown, "Critical path")
    assert "`phase7/code_quality`" in path and "`phase7/release_prep`" in path
    assert data["critical_path"]["tasks"][-2:] == ["phase7/code_quality", "phase7/release_prep"]


@pytest.fixture
def phase1(project: Project) -> tuple[str, dict[str, Any]]:
    run_phase1(project)
    markdown = project.ok("report", "--session-id", "phase1-orchestration").stdout
    data = project.ok("report", "--session-id", "phase1-orchestration", "--format", "json").json()
    return markdown, data


def test_phase1_plan_has_its_counterpart_in_the_report(
    phase1: tuple[str, dict[str, Any]],
) -> None:
    markdown, data = phase1
    assert markdown.startswith("# Completion report: phase1-orchestration")
    assert "Phase 1 orchestration — stabilise the build system" in markdown

    # Agent spawning sequence: the build agent (P0, its branch), its critical tasks
    # checklist, and the Phase 2 agents queued behind it.
    matrix = team_tables(markdown)
    (build,) = matrix["infrastructure"]
    assert (build["agent"], build["priority"], build["status"]) == (
        "build-system-stabilization-001",
        "P0",
        "✅ complete",
    )
    assert build["deliverables"] == "4/4"
    assert build["deadline"].startswith("3d00h")  # Escalation: not stable within 3 days
    assert "- [x] Analyze current base64ct dependency conflict in workspace" in markdown
    rows = {r["task"]: r for r in data["matrix"] for r in r["tasks"]}
    assert rows["phase1/build_system_stabilization"]["branch"] == (
        "feature/build-system-stabilization"
    )
    assert rows["phase1/testing_infrastructure"]["branch"] == "feature/testing-infrastructure"
    kernel = {r["task"]: r for r in matrix["kernel"]}
    storage = kernel["phase1/storage_advancement"]
    assert storage["requirements"] == "phase1/testing_infrastructure"
    assert storage["status"] == "⏳ pending"
    assert kernel["phase1/kernel_events_enhancement"]["status"] == "🔄 in_progress"

    # Success criteria as gates against targets: build time within 10% of the baseline.
    targets = {r["metric"]: r for r in parse_table(section(markdown, "Metrics against targets"))}
    build_time = targets["phase1/build_system_stabilization/build_time_s"]
    assert (build_time["target"], build_time["baseline"], build_time["final"]) == (
        "<= 440",
        "400",
        "420",
    )
    assert (build_time["delta"], build_time["result"]) == ("+20", "✅ pass")
    assert targets["phase1/build_system_stabilization/dependency_conflicts"]["final"] == "0"
    throughput = targets["phase1/testing_infrastructure/throughput_ops"]
    assert (throughput["target"], throughput["final"]) == (">= 800", "640")
    assert throughput["result"].startswith("❌ fail")

    # Risk mitigation: the failed gate, the reported blocker.
    risks = parse_table(section(markdown, "Blockers and risks"))
    kinds = {(r["kind"], r["task"]) for r in risks}
    assert len(risks) == 2  # the agents are live: none is stale
    assert ("failed gate", "phase1/testing_infrastructure") in kinds
    assert ("blocker", "phase1/kernel_events_enhancement") in kinds
    blocker = next(r for r in risks if r["kind"] == "blocker")
    assert blocker["detail"] == "base64 upgrade may introduce API incompatibilities"
    failed_gate = next(r for r in risks if r["kind"] == "failed gate")
    assert "640" in failed_gate["detail"] and "800" in failed_gate["detail"]

    # Progress monitoring: milestone and agent reports in the timeline, with numbers.
    timeline = parse_table(section(markdown, "Timeline"))
    progress = [r["message"] for r in timeline if r["event"] == "progress"]
    assert any("deliverables 1/4 milestone: Dependency analysis" in m for m in progress)
    assert "deliverables 4/4 done: Test build across all workspace crates" in progress
    assert any("1/4" in m and "blocker: base64 upgrade" in m for m in progress)
    assert any(r["event"] == "gate_failed" for r in timeline)

    # Dependency tracking: the critical path runs through the build system.
    assert data["critical_path"]["tasks"][0] == "phase1/build_system_stabilization"

    # Not ready for Phase 2: the last tasks are not done, and the gate failed.
    assert "**Go/no-go: NO-GO**" in markdown
    verdict = data["go_no_go"]["phases"][0]
    assert verdict["go"] is False
    assert set(verdict["last_tasks"]) == {
        "phase1/kernel_events_enhancement",
        "phase1/storage_advancement",
    }
    assert sorted(verdict["reasons"]) == [
        "phase1/kernel_events_enhancement is in_progress",
        "phase1/storage_advancement is pending",
    ]
