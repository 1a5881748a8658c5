"""Plans: parsing YAML into validated specs, durations, JSON round trips, and every error."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import pytest

from coordinator.errors import BadDuration, PlanError, UnknownTask
from coordinator.plans.spec import (
    Plan,
    TaskSpec,
    by_priority,
    parse_duration,
    priority_rank,
    topological_order,
)
from coordinator.plans.validate import parse_plan, plan_from_data

PHASE7 = textwrap.dedent(
    """\
    phase: phase7
    session: swarm-phase7
    dashboard: docs/phase7/COORDINATION-DASHBOARD.md
    baseline: phase7/baseline
    final: phase7/final
    tasks:
      build_infra:
        title: Build infrastructure
        agent: cicd-engineer
        files: ["Cargo.toml", ".cargo/**"]
      config_system:
        title: Configuration system
        agent: backend-dev
        deadline: 2d
      code_quality:
        title: Code quality
        agent: reviewer
        gates: ["phase7/code_quality/clippy_warnings < 20"]
        files: ["src/lint/**"]
      release_prep:
        agent: planner
        requires: [code_quality]
        optional: [config_system]
        when: ["phase7/baseline/tests_passing >= 626"]
        deadline: 48h
        run: "scripts/agents/release.sh"
        description: CHANGELOG, version 2.0.0, release notes
    """
)


def minimal(**task: Any) -> dict[str, Any]:
    """A one-task plan as parsed data, with `task` as the fields of task `a`."""
    return {"phase": "p", "tasks": {"a": task, "b": {}}}


def plan_error(data: Any) -> str:
    """The PlanError message `plan_from_data` raises for `data`, with source plan.yaml."""
    with pytest.raises(PlanError) as info:
        plan_from_data(data, "plan.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("plan.yaml: ")
    return message


# --- a valid plan -------------------------------------------------------------------------


def test_phase7_plan_parses() -> None:
    plan = parse_plan(PHASE7, "phase7.yaml")
    assert (plan.phase, plan.session) == ("phase7", "swarm-phase7")
    assert plan.dashboard == "docs/phase7/COORDINATION-DASHBOARD.md"
    assert (plan.baseline, plan.final) == ("phase7/baseline", "phase7/final")
    assert list(plan.tasks) == ["build_infra", "config_system", "code_quality", "release_prep"]

    release = plan.task("release_prep")
    assert release.id == "phase7/release_prep"
    assert release.status_key == "phase7/release_prep/status"
    assert release.title == "release_prep"  # defaults to the name
    assert release.agent == "planner"
    assert release.requires == ("code_quality",)
    assert release.optional == ("config_system",)
    assert [(c.key, c.op, c.literal) for c in release.when] == [
        ("phase7/baseline/tests_passing", ">=", 626)
    ]
    assert release.deadline == 48 * 3600
    assert release.run == "scripts/agents/release.sh"
    assert release.description == "CHANGELOG, version 2.0.0, release notes"

    quality = plan.task("code_quality")
    assert quality.title == "Code quality"
    assert quality.gates[0].text == "phase7/code_quality/clippy_warnings < 20"
    assert quality.files == ("src/lint/**",)
    assert quality.requires == ()
    assert quality.deadline is None
    assert quality.run is None


def test_session_defaults_to_phase_and_empty_task_is_allowed() -> None:
    plan = parse_plan("phase: p1\ntasks:\n  only:\n")
    assert plan.session == "p1"
    only = plan.task("only")
    assert (only.title, only.agent, only.requires, only.when) == ("only", None, (), ())


def test_unknown_task_lookup() -> None:
    plan = parse_plan(PHASE7)
    with pytest.raises(UnknownTask, match="no task 'nope' in plan phase7"):
        plan.task("nope")


def test_topological_order_puts_requirements_first_and_keeps_plan_order() -> None:
    plan = plan_from_data(
        {
            "phase": "p",
            "tasks": {
                "deploy": {"requires": ["test", "build"]},
                "docs": {},
                "test": {"requires": ["build"]},
                "build": {},
            },
        }
    )
    assert topological_order(plan) == ["docs", "build", "test", "deploy"]
    assert topological_order(parse_plan(PHASE7)) == [
        "build_infra",
        "config_system",
        "code_quality",
        "release_prep",
    ]


def test_json_round_trip() -> None:
    plan = parse_plan(PHASE7)
    data = plan.to_json()
    assert data["tasks"]["release_prep"]["when"] == ["phase7/baseline/tests_passing >= 626"]
    assert Plan.from_json(data) == plan
    spec = plan.task("code_quality")
    assert TaskSpec.from_json(spec.to_json()) == spec


def test_from_json_refuses_malformed_data() -> None:
    data = parse_plan(PHASE7).task("code_quality").to_json()
    del data["gates"]
    with pytest.raises(PlanError, match="malformed"):
        TaskSpec.from_json(data)
    with pytest.raises(PlanError, match="malformed"):
        Plan.from_json({"phase": "p"})


# --- durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("48h", 172800),
        ("2d", 172800),
        ("1h30m", 5400),
        ("1d 2h 3m 4s", 93784),
        ("1.5h", 5400),
        ("45", 45),
        ("2.5", 2.5),
        (600, 600),
        (0.5, 0.5),
    ],
)
def test_parse_duration(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    ["", "0", "0s", "0h0m", "-5m", -3, 0, "5x", "h", "1h30", "30m1h", "1h1h", "soon", True],
)
def test_parse_duration_rejects(text: Any) -> None:
    with pytest.raises(BadDuration):
        parse_duration(text)


# --- errors: each names the source and the task --------------------------------------------


def test_yaml_syntax_error_has_line_number() -> None:
    with pytest.raises(PlanError) as info:
        parse_plan("phase: p\ntasks:\n  a: {requires: [b\n", "plan.yaml")
    message = str(info.value)
    assert message.startswith("plan.yaml: line ")
    assert "invalid YAML" in message
    assert "\n" not in message


def test_duplicate_task_is_refused_not_overwritten() -> None:
    with pytest.raises(PlanError, match=r"plan\.yaml: line 4: .*duplicate key 'a'"):
        parse_plan("phase: p\ntasks:\n  a: {}\n  a: {agent: x}\n", "plan.yaml")


def test_yaml_merge_keys_still_work() -> None:
    text = "phase: p\ntasks:\n  a: &base {agent: x}\n  b:\n    <<: *base\n    agent: y\n"
    assert parse_plan(text).task("b").agent == "y"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (None, "the plan is empty"),
        (["phase"], "must be a mapping"),
        ({"tasks": {"a": {}}}, "missing 'phase'"),
        ({"phase": "p"}, "missing 'tasks'"),
        ({"phase": "p", "tasks": {}}, "'tasks' is empty"),
        ({"phase": "p", "tasks": ["a"]}, "'tasks' must be a mapping"),
        ({"phase": "p", "tasks": {"a": {}}, "owner": "x"}, "unknown field(s) 'owner'"),
        ({"phase": "p/q", "tasks": {"a": {}}}, "phase 'p/q' may only hold"),
        ({"phase": 7, "tasks": {"a": {}}}, "phase 7 must be a string"),
        ({"phase": "swarm", "tasks": {"a": {}}}, "reserved"),
        ({"phase": "p", "session": 3, "tasks": {"a": {}}}, "session must be a string"),
        ({"phase": "p", "baseline": "a//b", "tasks": {"a": {}}}, "baseline: invalid key"),
        ({"phase": "p", "dashboard": 3, "tasks": {"a": {}}}, "dashboard must be a string"),
    ],
)
def test_plan_level_errors(data: Any, fragment: str) -> None:
    assert fragment in plan_error(data)


@pytest.mark.parametrize(
    "dashboard", ["/etc/motd", "../outside.md", "docs/../../outside.md", ".", "", "./"]
)
def test_a_dashboard_outside_the_repository_is_refused(dashboard: str) -> None:
    # The daemon writes the dashboard file: it must stay under the repository root.
    message = plan_error({"phase": "p", "dashboard": dashboard, "tasks": {"a": {}}})
    assert message == (
        f"plan.yaml: dashboard: {dashboard!r} must be a file path relative to the "
        "repository root, without '..'"
    )


@pytest.mark.parametrize("dashboard", ["BOARD.md", "docs/p/board.md", "./docs/board.md"])
def test_a_dashboard_inside_the_repository_is_kept(dashboard: str) -> None:
    plan = plan_from_data({"phase": "p", "dashboard": dashboard, "tasks": {"a": {}}})
    assert plan.dashboard == dashboard


def test_bad_task_name() -> None:
    assert "task name 'a b' may only hold" in plan_error({"phase": "p", "tasks": {"a b": {}}})
    assert "task name 71 must be a string" in plan_error({"phase": "p", "tasks": {71: {}}})


@pytest.mark.parametrize(
    ("task", "fragment"),
    [
        ({"owner": "x", "prio": 1}, "unknown field(s) 'owner', 'prio'"),
        ({"requires": ["foo"]}, "requires unknown task 'foo'"),
        ({"optional": ["foo"]}, "optional unknown task 'foo'"),
        ({"requires": ["a"]}, "requires itself"),
        ({"optional": ["a"]}, "lists itself in optional"),
        ({"requires": ["b", "b"]}, "requires lists 'b' twice"),
        ({"requires": ["b"], "optional": ["b"]}, "'b' is in both requires and optional"),
        ({"requires": "b"}, "requires must be a list of strings"),
        ({"requires": [1]}, "requires must be a list of strings"),
        ({"when": "k exists"}, "when must be a list of strings"),
        ({"when": ["k ~ 1"]}, "when: invalid condition 'k ~ 1'"),
        ({"gates": ["k < true"]}, "gates: invalid condition 'k < true'"),
        ({"deadline": "soon"}, "deadline: invalid duration 'soon'"),
        ({"deadline": "0s"}, "deadline: invalid duration '0s': must be positive"),
        ({"title": ["x"]}, "title must be a string, not a list"),
        ({"agent": 3}, "agent must be a string, not int"),
        ({"agent": "rev iewer"}, "agent 'rev iewer' may only hold letters, digits"),
        ({"agent": "team/alice"}, "agent 'team/alice' may only hold letters, digits"),
        ({"agent": ""}, "agent '' may only hold letters, digits"),
        ({"run": True}, "run must be a string"),
        ({"files": ["/etc/passwd"]}, "files: '/etc/passwd' must be a path relative"),
        ({"files": ["../x"]}, "files: '../x' must be a path relative"),
        ("just text", "must be a mapping of fields"),
    ],
)
def test_task_level_errors_name_the_task(task: Any, fragment: str) -> None:
    message = plan_error(minimal() | {"tasks": {"a": task, "b": {}}})
    assert message.startswith("plan.yaml: task a: ")
    assert fragment in message


def test_requires_unknown_task_message() -> None:
    text = "phase: phase7\ntasks:\n  release_prep:\n    requires: [foo]\n"
    with pytest.raises(PlanError) as info:
        parse_plan(text, "plan.yaml")
    assert str(info.value) == "plan.yaml: task release_prep: requires unknown task 'foo'"


def test_cycle_is_named_in_order() -> None:
    data = {
        "phase": "p",
        "tasks": {
            "a": {"requires": ["b"]},
            "b": {"requires": ["c"]},
            "c": {"requires": ["a"]},
            "d": {},
        },
    }
    assert plan_error(data) == "plan.yaml: task a: dependency cycle: a -> b -> c -> a"


def test_cycle_not_through_first_task() -> None:
    data = {
        "phase": "p",
        "tasks": {"a": {"requires": ["b"]}, "b": {"requires": ["c"]}, "c": {"requires": ["b"]}},
    }
    assert plan_error(data) == "plan.yaml: task b: dependency cycle: b -> c -> b"


def test_optional_edges_do_not_make_cycles() -> None:
    plan = plan_from_data(
        {"phase": "p", "tasks": {"a": {"requires": ["b"]}, "b": {"optional": ["a"]}}}
    )
    assert topological_order(plan) == ["b", "a"]


# --- title, priority, branch, team, deliverables -----------------------------------------


def _one(task: dict[str, object]) -> TaskSpec:
    return plan_from_data({"phase": "p", "tasks": {"t": task}}).task("t")


def test_people_fields_load_and_round_trip() -> None:
    plan = plan_from_data(
        {
            "phase": "p",
            "title": "Phase 1 orchestration",
            "description": "Stabilise the build",
            "tasks": {
                "t": {
                    "title": "Build system stabilization",
                    "priority": "p0",
                    "branch": "feature/build-system-stabilization",
                    "team": "infrastructure",
                    "deliverables": ["Resolve  base64ct", "Test build"],
                }
            },
        }
    )
    spec = plan.task("t")
    assert (spec.priority, spec.branch, spec.team) == (
        "P0",
        "feature/build-system-stabilization",
        "infrastructure",
    )
    assert spec.deliverables == ("Resolve base64ct", "Test build")
    assert TaskSpec.from_json(spec.to_json()) == spec
    assert Plan.from_json(plan.to_json()) == plan
    assert plan.title == "Phase 1 orchestration"


def test_a_spec_stored_before_the_people_fields_still_reads() -> None:
    data = _one({}).to_json()
    for name in ("priority", "branch", "team", "deliverables"):
        del data[name]
    spec = TaskSpec.from_json(data)
    assert (spec.priority, spec.deliverables) == (None, ())


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ({"priority": "P4"}, "priority 'P4' must be one of P0, P1, P2, P3"),
        ({"priority": 1}, "priority 1 must be one of"),
        ({"deliverables": "one"}, "deliverables must be a list of strings"),
        ({"deliverables": ["a", " a "]}, "deliverables lists 'a' twice"),
        ({"deliverables": [" "]}, "deliverables: an item is empty"),
        ({"team": ["x"]}, "team must be a string"),
    ],
)
def test_bad_people_fields_are_refused(task: dict[str, object], message: str) -> None:
    with pytest.raises(PlanError, match=re.escape(message)):
        _one(task)


def test_by_priority_orders_p0_first_and_keeps_ties_in_order() -> None:
    plan = plan_from_data(
        {
            "phase": "p",
            "tasks": {
                "a": {"priority": "P2"},
                "b": {},
                "c": {"priority": "P0"},
                "d": {"priority": "P2"},
                "e": {"priority": "P3"},
            },
        }
    )
    assert [s.name for s in by_priority(plan.tasks.values())] == ["c", "a", "d", "e", "b"]
    assert [priority_rank(plan.task(n)) for n in "abcde"] == [2, 4, 0, 2, 3]
