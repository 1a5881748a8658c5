"""`swarm plan load|show` as operators run them: validation, idempotent reloads, two phases."""

from __future__ import annotations

from coordinator import layout
from tests.integration.conftest import Project

GOOD_PLAN = """\
phase: p1
tasks:
  build:
    agent: builder
  test:
    agent: tester
    requires: [build]
    when: ["p1/baseline/tests >= 10"]
"""


def revision(project: Project) -> int:
    with project.store() as store:
        return store.revision()


def task_keys(project: Project) -> list[str]:
    with project.store() as store:
        return [r.key for r in store.list_prefix(layout.TASKS)]


def load(project: Project, text: str, name: str = "plan.yaml") -> str:
    path = project.write_plan(text, name)
    return project.ok("plan", "load", str(path)).stdout


#: (the body of task `second`, what the one-line error must say)
INVALID_TASKS = [
    ("requires: [nope]", "requires unknown task 'nope'"),
    ("optional: [nope]", "optional unknown task 'nope'"),
    ("when: ['p1/x ~ 3']", "invalid condition"),
    ("gates: ['p1/x >']", "invalid condition"),
    ("deadline: soon", "invalid duration 'soon'"),
    ("deadline: 0s", "must be positive"),
    ("colour: red", "unknown field(s) 'colour'"),
]


def test_invalid_task_exits_1_naming_the_task_and_loads_nothing(project: Project) -> None:
    before = revision(project)
    for body, expected in INVALID_TASKS:
        path = project.write_plan(f"phase: p1\ntasks:\n  first: {{}}\n  second:\n    {body}\n")
        result = project.swarm("plan", "load", str(path))
        assert result.code == 1, body
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(f"swarm: error: {path}: task second: "), lines[0]
        assert expected in lines[0], (body, lines[0])
        assert result.stdout == ""
    assert revision(project) == before
    assert task_keys(project) == []
    assert project.value("p1/first/status") is None


def test_cycle_is_refused_naming_the_cycle(project: Project) -> None:
    before = revision(project)
    path = project.write_plan(
        "phase: p1\n"
        "tasks:\n"
        "  free: {}\n"
        "  a:\n    requires: [c]\n"
        "  b:\n    requires: [a]\n"
        "  c:\n    requires: [b]\n"
    )
    result = project.swarm("plan", "load", str(path))
    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "dependency cycle" in lines[0]
    assert "a -> c -> b -> a" in lines[0]
    assert "task a" in lines[0]
    assert revision(project) == before
    assert task_keys(project) == []


def test_invalid_edit_of_a_loaded_plan_changes_nothing(project: Project) -> None:
    load(project, GOOD_PLAN)
    before = revision(project)
    keys = task_keys(project)
    path = project.write_plan(GOOD_PLAN.replace("requires: [build]", "requires: [deploy]"))
    result = project.swarm("plan", "load", str(path))
    assert result.code == 1
    assert "task test" in result.stderr
    assert revision(project) == before
    assert task_keys(project) == keys


def test_reload_is_idempotent(project: Project) -> None:
    first = load(project, GOOD_PLAN)
    assert "2 added" in first
    before = revision(project)
    second = load(project, GOOD_PLAN)
    assert "0 added, 0 updated, 2 unchanged, 0 removed" in second
    assert revision(project) == before


def test_reload_of_an_edited_plan_keeps_statuses_and_updates_specs(project: Project) -> None:
    load(project, GOOD_PLAN)
    assert project.value("p1/build/status") == "pending"
    project.ok("memory", "put", "p1/build/status", "complete")
    project.ok("memory", "put", "p1/test/status", "in_progress")
    edited = GOOD_PLAN.replace("agent: tester", "agent: reviewer\n    deadline: 2h")
    result = load(project, edited)
    assert "1 updated" in result
    assert project.value("p1/build/status") == "complete"
    assert project.value("p1/test/status") == "in_progress"
    spec = project.value(layout.spec_key("p1/test"))
    assert spec["agent"] == "reviewer"
    assert spec["deadline"] == 7200.0


def test_reload_adds_new_tasks_as_pending_and_removes_dropped_specs(project: Project) -> None:
    load(project, GOOD_PLAN)
    project.ok("memory", "put", "p1/build/status", "complete")
    edited = GOOD_PLAN.replace("  test:\n", "  lint: {}\n  test:\n")
    assert "1 added" in load(project, edited)
    assert project.value("p1/lint/status") == "pending"
    assert project.value("p1/build/status") == "complete"
    dropped = "phase: p1\ntasks:\n  build:\n    agent: builder\n"
    assert "2 removed" in load(project, dropped)
    assert project.value(layout.spec_key("p1/test")) is None
    assert project.value(layout.spec_key("p1/build")) is not None


def test_two_phases_share_one_store(project: Project) -> None:
    load(project, GOOD_PLAN, "one.yaml")
    load(project, "phase: p2\nsession: s2\ntasks:\n  build: {}\n  ship:\n    requires: [build]\n")
    assert project.value("p1/build/status") == "pending"
    assert project.value("p2/build/status") == "pending"
    rows = project.ok("plan", "show", "--json").json()
    assert [row["task"] for row in rows] == ["p1/build", "p1/test", "p2/build", "p2/ship"]
    only = project.ok("plan", "show", "--phase", "p2", "--json").json()
    assert [row["task"] for row in only] == ["p2/build", "p2/ship"]
    # A bare task name shared by two phases is ambiguous for the hooks.
    result = project.swarm("hooks", "pre-task", "--task-id", "build", "--agent", "a")
    assert result.code == 1
    assert "several phases" in result.stderr
    project.ok("hooks", "pre-task", "--task-id", "p2/build", "--agent", "a")
    assert project.value("p2/build/status") == "in_progress"
    assert project.value("p1/build/status") == "pending"


def test_plan_show_json_lists_status_and_waits(project: Project) -> None:
    load(project, GOOD_PLAN)
    project.ok("memory", "put", "p1/baseline/tests", "4")
    rows = {row["task"]: row for row in project.ok("plan", "show", "--json").json()}
    assert set(rows) == {"p1/build", "p1/test"}
    assert rows["p1/build"]["status"] == "pending"
    assert rows["p1/build"]["waits_on"] == []
    assert rows["p1/build"]["agent"] == "builder"
    assert rows["p1/test"]["status"] == "pending"
    assert rows["p1/test"]["waits_on"] == [
        "requires build: status is pending (needs complete)",
        "when p1/baseline/tests >= 10: is 4",
    ]
    text = project.ok("plan", "show").stdout
    assert "waits on requires build: status is pending (needs complete)" in text
    assert "waits on when p1/baseline/tests >= 10: is 4" in text


def test_plan_load_of_a_missing_file_is_one_line(project: Project) -> None:
    result = project.swarm("plan", "load", "missing.yaml")
    assert result.code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
