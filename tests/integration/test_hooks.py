"""The agent hooks run as subprocesses, the way agents run them, with no daemon."""

from __future__ import annotations

import json
import subprocess

import pytest

from coordinator import layout
from tests.integration.conftest import SWARM, Project, heavy_modules, import_probe

#: Every test of this suite that uses a project runs on SQLite and on PostgreSQL.
RUN_ON_EVERY_BACKEND = True

PLAN = """\
phase: p1
session: s1
tasks:
  build:
    agent: builder
  test:
    agent: tester
    requires: [build]
    when: ["p1/baseline/tests >= 10"]
    gates: ["p1/test/coverage >= 80"]
"""


@pytest.fixture
def planned(project: Project) -> Project:
    """The project with PLAN loaded."""
    project.ok("plan", "load", str(project.write_plan(PLAN)))
    return project


def revision(project: Project) -> int:
    with project.store() as store:
        return store.revision()


def events(project: Project, type_: str | None = None) -> list[dict[str, object]]:
    args = ["events", "--json", "--limit", "1000"]
    if type_:
        args += ["--type", type_]
    return [json.loads(line) for line in project.ok(*args).stdout.splitlines()]


def assert_one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("swarm: error:"), stderr
    return lines[0]


# --- pre-task ----------------------------------------------------------------------------


def test_pre_task_starts_a_ready_task_once_per_agent(planned: Project) -> None:
    first = planned.ok("hooks", "pre-task", "--task-id", "build", "--agent", "alice")
    assert "task p1/build started by alice" in first.stdout
    assert planned.value("p1/build/status") == "in_progress"
    run = planned.value(layout.run_key("p1/build"))
    assert run["agent"] == "alice"
    assert run["started_at"] is not None
    assert [e["task"] for e in events(planned, "task_started")] == ["p1/build"]

    again = planned.ok("hooks", "pre-task", "--task-id", "p1/build", "--agent", "alice")
    assert "already in progress" in again.stdout
    assert len(events(planned, "task_started")) == 1

    other = planned.swarm("hooks", "pre-task", "--task-id", "build", "--agent", "bob")
    assert other.code == 3
    assert "in progress by alice" in assert_one_error_line(other.stderr)
    assert planned.value(layout.run_key("p1/build"))["agent"] == "alice"


def test_pre_task_takes_the_agent_from_the_environment(planned: Project) -> None:
    planned.ok("hooks", "pre-task", "--task-id", "build", env={"SWARM_AGENT_ID": "envy"})
    assert planned.value(layout.run_key("p1/build"))["agent"] == "envy"


def test_pre_task_on_a_task_that_is_not_ready_lists_every_wait(planned: Project) -> None:
    planned.ok("memory", "put", "p1/baseline/tests", "7")
    before = revision(planned)
    result = planned.swarm("hooks", "pre-task", "--task-id", "test", "--agent", "tester")
    assert result.code == 3
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "swarm: error: task p1/test is not ready; it waits on:"
    assert lines[1:] == [
        "  - requires build: status is pending (needs complete)",
        "  - when p1/baseline/tests >= 10: is 7",
    ]
    assert planned.value("p1/test/status") == "pending"
    assert revision(planned) == before


def test_pre_task_wait_starts_the_task_when_its_requirement_completes(planned: Project) -> None:
    planned.ok("memory", "put", "p1/baseline/tests", "12")
    planned.ok("hooks", "pre-task", "--task-id", "build", "--agent", "builder")
    waiting = subprocess.Popen(
        [SWARM, "hooks", "pre-task", "--task-id", "test", "--agent", "tester", "--wait", "20"],
        cwd=planned.root,
        env=planned.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        planned.ok("hooks", "post-task", "--task-id", "build", "--agent", "builder")
        stdout, stderr = waiting.communicate(timeout=20)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()
    assert waiting.returncode == 0, stderr
    assert "task p1/test started by tester" in stdout
    assert planned.value("p1/test/status") == "in_progress"
    assert planned.value(layout.run_key("p1/test"))["agent"] == "tester"


def test_pre_task_wait_gives_up_on_a_task_that_never_becomes_ready(planned: Project) -> None:
    result = planned.swarm(
        "hooks", "pre-task", "--task-id", "test", "--agent", "tester", "--wait", "0.2"
    )
    assert result.code == 3
    assert "task p1/test is not ready" in result.stderr
    assert "Traceback" not in result.stderr
    assert planned.value("p1/test/status") == "pending"


def test_a_task_in_no_plan_is_created_ad_hoc(project: Project) -> None:
    project.ok("hooks", "pre-task", "--task-id", "fix_typo", "--agent", "alice")
    assert project.value("adhoc/fix_typo/status") == "in_progress"
    spec = project.value(layout.spec_key("adhoc/fix_typo"))
    assert spec["phase"] == "adhoc"
    assert spec["agent"] == "alice"
    project.ok("hooks", "post-task", "--task-id", "adhoc/fix_typo", "--agent", "alice")
    assert project.value("adhoc/fix_typo/status") == "complete"
    # A qualified id in an unknown phase is ad hoc too, in that phase.
    project.ok("hooks", "pre-task", "--task-id", "hotfix/patch", "--agent", "alice")
    assert project.value("hotfix/patch/status") == "in_progress"


# --- post-task ---------------------------------------------------------------------------


def test_post_task_records_a_receipt_and_is_idempotent(planned: Project) -> None:
    planned.ok(
        "hooks", "pre-task", "--task-id", "build", "--agent", "builder", "--session-id", "s1"
    )
    result = planned.ok(
        "hooks",
        "post-task",
        "--task-id",
        "p1/build",
        "--agent",
        "builder",
        "--summary",
        "built it",
        "--metrics",
        '{"warnings": 3, "seconds": 1.5}',
    )
    assert result.stdout.strip() == "task p1/build complete"
    assert planned.value("p1/build/status") == "complete"
    receipt = planned.value(layout.receipt_key("p1/build"))
    assert receipt["agent"] == "builder"
    assert receipt["session"] == "s1"
    assert receipt["status"] == "complete"
    assert receipt["summary"] == "built it"
    assert receipt["metrics"] == {"warnings": 3, "seconds": 1.5}
    assert receipt["start"] <= receipt["end"]
    assert receipt["start"] == planned.value(layout.run_key("p1/build"))["started_at"]
    assert len(events(planned, "task_completed")) == 1

    before = revision(planned)
    again = planned.ok(
        "hooks", "post-task", "--task-id", "build", "--agent", "builder", "--summary", "built it"
    )
    assert "already recorded" in again.stdout
    assert revision(planned) == before
    assert planned.value(layout.receipt_key("p1/build")) == receipt


def test_post_task_refuses_metrics_that_are_not_an_object(planned: Project) -> None:
    before = revision(planned)
    for metrics in ("[1, 2]", "not json", "3", '"text"'):
        result = planned.swarm("hooks", "post-task", "--task-id", "build", "--metrics", metrics)
        assert result.code == 1, metrics
        assert "--metrics must be a JSON object" in assert_one_error_line(result.stderr)
    assert revision(planned) == before
    assert planned.value(layout.receipt_key("p1/build")) is None
    assert planned.value("p1/build/status") == "pending"


def test_post_task_failed_records_the_failure(planned: Project) -> None:
    planned.ok("hooks", "pre-task", "--task-id", "build", "--agent", "builder")
    planned.ok(
        "hooks",
        "post-task",
        "--task-id",
        "build",
        "--agent",
        "builder",
        "--status",
        "failed",
        "--summary",
        "broke",
    )
    assert planned.value("p1/build/status") == "failed"
    receipt = planned.value(layout.receipt_key("p1/build"))
    assert receipt["status"] == "failed"
    assert receipt["agent"] == "builder"
    assert planned.value(layout.run_key("p1/build"))["reason"] == "broke"


def test_post_task_with_a_failing_gate_blocks_the_task(planned: Project) -> None:
    planned.ok("memory", "put", "p1/build/status", "complete")
    planned.ok("memory", "put", "p1/baseline/tests", "10")
    planned.ok("hooks", "pre-task", "--task-id", "test", "--agent", "tester")
    planned.ok("memory", "put", "p1/test/coverage", "55")
    result = planned.swarm("hooks", "post-task", "--task-id", "test", "--agent", "tester")
    assert result.code == 3
    assert "gate failed: p1/test/coverage >= 80" in result.stderr
    assert planned.value("p1/test/status") == "blocked"
    assert "gate failed" in planned.value(layout.run_key("p1/test"))["reason"]
    inbox = planned.ok("inbox", "tester", "--json").json()
    assert any("p1/test is blocked" in note["message"] for note in inbox)
    assert result.stderr.startswith("swarm: error: task p1/test is blocked")


def test_a_task_blocked_by_its_gates_completes_once_they_pass(planned: Project) -> None:
    planned.ok("memory", "put", "p1/build/status", "complete")
    planned.ok("memory", "put", "p1/baseline/tests", "10")
    planned.ok("hooks", "pre-task", "--task-id", "test", "--agent", "tester")
    planned.ok("memory", "put", "p1/test/coverage", "55")
    assert planned.swarm("hooks", "post-task", "--task-id", "test", "--agent", "tester").code == 3
    again = planned.swarm("hooks", "post-task", "--task-id", "test", "--agent", "tester")
    assert again.code == 3, "still failing: the same refusal, not a silent success"
    assert "gate failed: p1/test/coverage >= 80: is 55" in again.stderr
    planned.ok("memory", "put", "p1/test/coverage", "91")
    planned.ok(
        "hooks",
        "post-task",
        "--task-id",
        "test",
        "--agent",
        "tester",
        "--summary",
        "coverage fixed",
    )
    assert planned.value("p1/test/status") == "complete"
    receipt = planned.value(layout.receipt_key("p1/test"))
    assert (receipt["status"], receipt["summary"]) == ("complete", "coverage fixed")


# --- progress, notify, inbox -------------------------------------------------------------


def test_progress_is_recorded_and_logged(planned: Project) -> None:
    result = planned.ok(
        "hooks",
        "progress",
        "--task-id",
        "build",
        "--done",
        "3",
        "--total",
        "4",
        "--milestone",
        "compiled",
        "--agent",
        "builder",
    )
    assert "3/4 (75%)" in result.stdout
    progress = planned.value(layout.progress_key("p1/build"))
    assert progress["done"] == 3
    assert progress["total"] == 4
    assert progress["milestone"] == "compiled"
    assert progress["agent"] == "builder"
    [event] = events(planned, "progress")
    assert event["task"] == "p1/build"
    bad = planned.swarm("hooks", "progress", "--task-id", "build", "--done", "5", "--total", "4")
    assert bad.code == 1
    assert_one_error_line(bad.stderr)


def test_notify_to_an_agent_a_task_and_everyone(planned: Project) -> None:
    for agent in ("alice", "bob", "carol"):
        planned.ok("hooks", "session-start", "--session-id", "s1", "--agent", agent)

    planned.ok("hooks", "notify", "--to", "dave", "--message", "direct", "--agent", "alice")
    planned.ok("hooks", "notify", "--task", "test", "--message", "about test", "--level", "warn")
    out = planned.ok("hooks", "notify", "--message", "everyone", "--agent", "alice").stdout
    assert out.strip() == "notified bob, carol"

    dave = planned.ok("inbox", "dave", "--json").json()
    assert [(n["message"], n["sender"]) for n in dave] == [("direct", "alice")]
    tester = planned.ok("inbox", "tester", "--json").json()
    assert [(n["message"], n["level"], n["task"]) for n in tester] == [
        ("about test", "warn", "p1/test")
    ]
    assert [n["message"] for n in planned.ok("inbox", "bob", "--json").json()] == ["everyone"]
    assert [n["message"] for n in planned.ok("inbox", "carol", "--json").json()] == ["everyone"]
    assert planned.ok("inbox", "alice", "--json").json() == []


def test_inbox_ack_marks_notifications_read(planned: Project) -> None:
    planned.ok("hooks", "notify", "--to", "dave", "--message", "first")
    planned.ok("hooks", "notify", "--to", "dave", "--message", "second")
    shown = planned.ok("inbox", "dave").stdout
    assert "first" in shown
    assert "second" in shown
    acked = planned.ok("inbox", "dave", "--ack").stdout
    assert "second" in acked
    assert planned.ok("inbox", "dave", "--json").json() == []
    assert "no unread notifications for dave" in planned.ok("inbox", "dave").stdout
    every = planned.ok("inbox", "dave", "--all", "--json").json()
    assert [(n["message"], n["read"]) for n in every] == [("first", True), ("second", True)]


def test_notify_a_task_without_an_agent_is_an_error(project: Project) -> None:
    project.ok("plan", "load", str(project.write_plan("phase: p9\ntasks:\n  lonely: {}\n")))
    result = project.swarm("hooks", "notify", "--task", "lonely", "--message", "hello?")
    assert result.code == 1
    assert "has no agent" in assert_one_error_line(result.stderr)


# --- sessions ----------------------------------------------------------------------------


def test_session_start_and_end_write_a_summary(planned: Project) -> None:
    planned.ok(
        "hooks", "session-start", "--session-id", "s1", "--agent", "builder", "--branch", "feat"
    )
    agent = planned.value(layout.agent_key("builder"))
    assert agent["session"] == "s1"
    assert agent["branch"] == "feat"
    planned.ok(
        "hooks", "pre-task", "--task-id", "build", "--agent", "builder", "--session-id", "s1"
    )
    planned.ok("hooks", "post-task", "--task-id", "build", "--agent", "builder")
    result = planned.ok("hooks", "session-end", "--session-id", "s1", "--agent", "builder")
    assert "1 task(s) done" in result.stdout
    summary = planned.value(layout.session_summary_key("s1", "builder"))
    assert summary["tasks_done"] == ["p1/build"]
    [task] = summary["tasks"]
    assert task["task"] == "p1/build"
    assert task["status"] == "complete"
    receipt = planned.value(layout.receipt_key("p1/build"))
    assert task["duration"] == receipt["duration"]
    assert summary["duration"] is not None
    assert summary["duration"] >= 0
    assert summary["total_task_seconds"] == receipt["duration"]
    assert planned.value(layout.agent_key("builder")) is None
    assert [e["agent"] for e in events(planned, "agent_ended")] == ["builder"]


def test_hook_calls_renew_an_agent_by_the_lease_it_registered_with(planned: Project) -> None:
    planned.ok("hooks", "session-start", "--session-id", "s1", "--agent", "quick", "--ttl", "30")
    planned.ok("hooks", "session-start", "--session-id", "s1", "--agent", "slow")
    planned.ok("hooks", "pre-task", "--task-id", "build", "--agent", "quick")
    planned.ok(
        "hooks", "progress", "--task-id", "test", "--done", "0", "--total", "1", "--agent", "slow"
    )
    with planned.store() as store:
        quick = store.get(layout.agent_key("quick"))
        slow = store.get(layout.agent_key("slow"))
        now = store.clock()
    assert quick is not None
    assert slow is not None
    assert quick.expires_at is not None
    assert slow.expires_at is not None
    # Not stretched to the 15-minute default by pre-task; the default agent keeps it.
    assert now < quick.expires_at <= now + 30
    assert now + 60 < slow.expires_at <= now + 900


def test_session_end_json_prints_the_summary(planned: Project) -> None:
    planned.ok("hooks", "session-start", "--session-id", "s1", "--agent", "idle")
    summary = planned.ok(
        "hooks", "session-end", "--session-id", "s1", "--agent", "idle", "--json"
    ).json()
    assert summary["agent"] == "idle"
    assert summary["tasks_done"] == []
    assert summary == planned.value(layout.session_summary_key("s1", "idle"))


def test_session_restore_shows_everything_in_text_and_json(planned: Project) -> None:
    planned.ok("memory", "put", "p1/baseline/tests", "7")
    planned.ok("hooks", "session-start", "--session-id", "s1", "--agent", "builder")
    planned.ok("hooks", "pre-task", "--task-id", "build", "--agent", "builder")
    planned.ok("hooks", "notify", "--to", "tester", "--message", "build is under way")

    view = planned.ok("session-restore", "--session-id", "s1", "--json").json()
    tasks = {t["task"]: t for t in view["tasks"]}
    assert set(tasks) == {"p1/build", "p1/test"}
    assert (tasks["p1/build"]["status"], tasks["p1/build"]["agent"]) == ("in_progress", "builder")
    assert (tasks["p1/test"]["status"], tasks["p1/test"]["agent"]) == ("pending", "tester")
    assert tasks["p1/test"]["waits_on"] == [
        "requires build: status is in_progress (needs complete)",
        "when p1/baseline/tests >= 10: is 7",
    ]
    [gate] = tasks["p1/test"]["gates"]
    assert gate["gate"] == "p1/test/coverage >= 80"
    assert gate["passes"] is False
    assert [a["agent"] for a in view["agents"] if a["live"]] == ["builder"]
    assert [(n["to"], n["message"]) for n in view["notifications"]] == [
        ("tester", "build is under way")
    ]
    types = [e["type"] for e in view["events"]]
    assert "task_started" in types
    assert "notification" in types

    text = planned.ok("hooks", "session-restore", "--session-id", "s1").stdout
    for task in view["tasks"]:
        assert task["task"] in text
    assert "in_progress" in text
    assert "waits on requires build: status is in_progress (needs complete)" in text
    assert "waits on when p1/baseline/tests >= 10: is 7" in text
    assert "gate p1/test/coverage >= 80: FAIL" in text
    assert "live: builder" in text
    assert "tester: [info] build is under way" in text
    assert "task_started p1/build" in text

    # Both spellings of the command give the same view.
    hooks_json = planned.ok("hooks", "session-restore", "--session-id", "s1", "--json").json()
    assert [t["task"] for t in hooks_json["tasks"]] == [t["task"] for t in view["tasks"]]


def test_session_restore_of_an_unknown_session_is_one_line(planned: Project) -> None:
    result = planned.swarm("session-restore", "--session-id", "nope")
    assert result.code == 1
    assert "no plan is loaded for session 'nope'" in assert_one_error_line(result.stderr)


# --- errors ------------------------------------------------------------------------------


#: Bad invocations: a missing store, bad flags, bad task ids. Each must fail in one line.
BAD_INVOCATIONS: list[tuple[list[str], dict[str, str]]] = [
    (["hooks", "pre-task", "--task-id", "build", "--agent", "a"], {"SWARM_DB": "missing"}),
    (["hooks", "post-task", "--task-id", "build"], {"SWARM_DB": "nowhere/memory.db"}),
    (["session-restore", "--session-id", "s1"], {"SWARM_DB": "missing.db"}),
    (["hooks", "pre-task", "--agent", "a"], {}),
    (["hooks", "pre-task", "--task-id", "build", "--bogus"], {}),
    (["hooks", "progress", "--task-id", "build", "--done", "x", "--total", "1"], {}),
    (["hooks", "no-such-hook"], {}),
    (["hooks"], {}),
    (["hooks", "pre-task", "--task-id", "build"], {}),
    (["hooks", "pre-task", "--task-id", "a/b/c", "--agent", "a"], {}),
    (["hooks", "pre-task", "--task-id", "bad key!", "--agent", "a"], {}),
    (["hooks", "notify", "--to", "a", "--task", "build", "--message", "m"], {}),
]


def test_a_hook_error_is_one_line_never_a_traceback(planned: Project) -> None:
    # One project for every case: each invocation must leave the store as it was.
    before = revision(planned)
    for args, env in BAD_INVOCATIONS:
        result = planned.swarm(*args, env=env)
        assert result.code == 1, (args, result)
        assert "Traceback" not in result.stderr, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (args, result.stderr)
        assert lines[0].startswith("swarm: error:"), (args, result.stderr)
    assert revision(planned) == before
    assert not (planned.root / "missing").exists()
    assert not (planned.root / "missing.db").exists()
    assert not (planned.root / "nowhere").exists()


def test_edit_hooks_default_to_the_task_the_agent_is_running(planned: Project) -> None:
    planned.ok("hooks", "pre-task", "--task-id", "build", "--agent", "builder")
    assert planned.value("swarm/agent-tasks/builder") == "p1/build"
    planned.ok("hooks", "pre-edit", "--file", "Makefile", "--agent", "builder")
    claims = planned.ok("claims", "--json").json()["claims"]
    assert [(c["path"], c["task"]) for c in claims] == [("Makefile", "p1/build")]
    planned.ok("hooks", "post-task", "--task-id", "build", "--agent", "builder")
    assert planned.value("swarm/agent-tasks/builder") is None
    assert planned.ok("claims", "--json").json()["claims"] == []
    planned.ok("hooks", "pre-edit", "--file", "Makefile", "--agent", "builder")
    claims = planned.ok("claims", "--json").json()["claims"]
    assert [(c["path"], c["task"]) for c in claims] == [("Makefile", None)]


def test_only_the_running_agent_or_an_operator_finishes_a_task(planned: Project) -> None:
    planned.ok("hooks", "pre-task", "--task-id", "build", "--agent", "builder")
    other = planned.swarm("hooks", "post-task", "--task-id", "build", "--agent", "intruder")
    assert other.code == 3
    assert "is in_progress (held by builder), not by intruder" in other.stderr
    assert planned.value("p1/build/status") == "in_progress"
    anonymous = planned.swarm("hooks", "post-task", "--task-id", "build")
    assert anonymous.code == 3
    assert "name the agent that started it" in anonymous.stderr
    # An operator overrides with --force; the override is on record.
    planned.ok("hooks", "post-task", "--task-id", "build", "--force", "--agent", "ops")
    assert planned.value("p1/build/status") == "complete"
    receipt = planned.value(layout.receipt_key("p1/build"))
    assert receipt["forced_by"] == "ops"
    [completed] = events(planned, "task_completed")
    assert completed["data"]["forced_by"] == "ops"


def test_post_task_is_refused_on_a_task_not_in_progress(planned: Project) -> None:
    """pending, blocked and complete tasks, and a wrong agent: exit 3, store unchanged."""
    for task, agent in (("build", "builder"), ("test", "tester")):
        before = revision(planned)
        result = planned.swarm("hooks", "post-task", "--task-id", task, "--agent", agent)
        assert (result.code, revision(planned)) == (3, before)
        assert "is pending" in result.stderr
    planned.ok("memory", "put", "p1/build/status", "blocked")
    before = revision(planned)
    result = planned.swarm("hooks", "post-task", "--task-id", "build", "--agent", "builder")
    assert (result.code, revision(planned)) == (3, before)
    assert "is blocked" in result.stderr
    planned.ok("memory", "put", "p1/build/status", "ready")
    planned.ok("hooks", "pre-task", "--task-id", "build", "--agent", "builder")
    planned.ok("hooks", "post-task", "--task-id", "build", "--agent", "builder")
    before = revision(planned)
    flip = planned.swarm(
        "hooks", "post-task", "--task-id", "build", "--agent", "intruder", "--status", "failed"
    )
    assert (flip.code, revision(planned)) == (3, before)
    assert "is complete (held by builder)" in flip.stderr
    assert planned.value("p1/build/status") == "complete"


# --- start-up cost -----------------------------------------------------------------------


def test_the_hooks_import_nothing_heavy(planned: Project, backend: str) -> None:
    calls = [
        ["session-start", "--session-id", "s1", "--agent", "builder"],
        ["pre-task", "--task-id", "p1/build", "--agent", "builder"],
        ["pre-edit", "--file", "a.py", "--agent", "builder"],
        ["post-edit", "--file", "a.py", "--agent", "builder"],
        ["progress", "--task-id", "p1/build", "--done", "1", "--total", "2"],
        ["notify", "--message", "hi", "--to", "tester"],
        ["post-task", "--task-id", "p1/build", "--agent", "builder"],
        ["session-end", "--session-id", "s1", "--agent", "builder"],
    ]
    probe = (
        "import json, sys\n"
        "from coordinator.cli.entry import main\n"
        "codes = [main(['hooks', *call]) for call in json.loads(sys.argv[1])]\n"
        "heavy = sorted(set(json.loads(sys.argv[2])) & set(sys.modules))\n"
        "sys.stderr.write(f'{codes} {heavy}\\n')\n"
    )
    (planned.root / "a.py").write_text("x = 1\n")
    heavy = json.dumps(heavy_modules(backend))
    line = import_probe(planned, backend, probe, json.dumps(calls), heavy)
    assert line == f"{[0] * len(calls)} []"
