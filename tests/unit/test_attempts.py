"""Attempts, retries and their plan fields, the incident history, and finding an agent
by its start token: pure rules and small file-system reads, no store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coordinator.agents.processes import TOKEN_VAR, find_token
from coordinator.daemon.reconcile.supervise import agent_went_silent
from coordinator.errors import PlanError
from coordinator.plans.spec import DEFAULT_RETRY_DELAY, TaskSpec
from coordinator.plans.validate import parse_plan
from coordinator.state import Event, TaskRun
from coordinator.tasks.attempts import Attempt, begin, record, retry_at, retry_run
from coordinator.tasks.history import after_text, attempt_line, history_summary, incidents

NOW = 5000.0


def spec(body: str) -> TaskSpec:
    return parse_plan(f"phase: p\ntasks:\n  t:\n{body}").tasks["t"]


def test_plan_fields_retries_retry_delay_and_start_within() -> None:
    task = spec("    run: go\n    retries: 3\n    retry_delay: 1m\n    start_within: 48h\n")
    assert (task.retries, task.retry_delay, task.start_within) == (3, 60.0, 48 * 3600.0)
    plain = spec("    agent: a\n")
    assert (plain.retries, plain.retry_delay, plain.start_within) == (0, DEFAULT_RETRY_DELAY, None)
    assert TaskSpec.from_json(task.to_json()) == task
    # A spec stored before the fields existed reads with the defaults.
    old = {k: v for k, v in plain.to_json().items() if k not in ("retries", "retry_delay")}
    assert TaskSpec.from_json(old).retries == 0


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("    retries: -1\n", "retries must be a whole number >= 0"),
        ("    retries: two\n", "retries must be a whole number >= 0"),
        ("    retries: true\n", "retries must be a whole number >= 0"),
        ("    retry_delay: soon\n", "retry_delay: invalid duration"),
        ("    start_within: 0s\n", "start_within: invalid duration"),
    ],
)
def test_bad_retry_fields_are_refused_naming_the_task(body: str, fragment: str) -> None:
    with pytest.raises(PlanError) as err:
        spec(body)
    assert "task t" in err.value.message
    assert fragment in err.value.message


def test_an_attempt_begins_numbered_and_ends_on_record() -> None:
    run = begin(TaskRun(attempt=2, pid=9, reason="old"), NOW, agent="ann", token="tk")
    assert (run.attempt, run.live, run.agent, run.token, run.pid, run.reason) == (
        3,
        True,
        "ann",
        "tk",
        None,
        None,
    )
    done = record(run._replace(started_at=NOW, pid=44), outcome="complete", ended=NOW + 2)
    assert Attempt.from_json(done.to_json()) == done
    assert attempt_line(done.to_json()) == "#3 ann pid 44: complete"


def test_retries_double_and_stop_when_spent() -> None:
    task = spec("    run: go\n    retries: 2\n    retry_delay: 5s\n")
    assert retry_at(task, TaskRun(attempt=1), NOW) == NOW + 5
    assert retry_at(task, TaskRun(attempt=2), NOW) == NOW + 10
    assert retry_at(task, TaskRun(attempt=3), NOW) is None
    again = retry_run(TaskRun(attempt=1, live=True, pid=3, token="x"), NOW + 5, NOW, "boom")
    assert (again.live, again.pid, again.token, again.retry_at) == (False, None, None, NOW + 5)


def test_an_attempt_keeps_its_refusal_and_the_next_one_is_told_why() -> None:
    refused = TaskRun(
        attempt=1,
        live=True,
        pid=44,
        gate_failures=("p/t/ops >= 800: is 700",),
        metrics={"ops": 700},
        reason="gate failed: p/t/ops >= 800: is 700",
    )
    assert TaskRun.from_json(json.loads(json.dumps(refused.to_json()))) == refused
    # The record is built from the run as it ended: the retry clears the run's pid.
    ended = record(refused, outcome="failed", ended=NOW, reason="gave up")
    assert (ended.pid, ended.gates, ended.metrics) == (44, refused.gate_failures, {"ops": 700})
    again = retry_run(refused, NOW + 5, NOW, "gave up")
    assert (again.pid, again.retry_reason) == (None, "gave up")
    nxt = begin(again, NOW + 5, agent="ann")
    assert (nxt.attempt, nxt.retry_reason, nxt.gate_failures, nxt.metrics) == (
        2,
        "gave up",
        (),
        None,
    )
    assert record(nxt).gates == ()


def test_the_incident_timeline_and_its_summary() -> None:
    events = [
        Event("escalated", 3.0, "p/a", "ann", "late", {}),
        Event("agent_gone", 1.0, None, "bob", "died", {}),
        Event("task_retry_scheduled", 2.0, "p/b", "bob", "retry", {}),
        Event("task_completed", 4.0, "p/c", "cy", "", {"forced_by": "olga"}),
        Event("task_completed", 5.0, "p/d", "dee", "", {}),
    ]
    timeline = incidents(events)
    assert [i["what"] for i in timeline] == [
        "agent gone",
        "retry",
        "escalated",
        "task completed (forced by olga)",
    ]
    attempts = {"p/b": [{"outcome": "agent_died"}, {"outcome": "complete"}]}
    summary = history_summary(attempts, timeline)
    assert (summary["retries"], summary["crashes"], summary["overrides"]) == (1, 1, 1)
    assert after_text(summary) == " after 1 retry and 1 crash"
    assert after_text(history_summary({}, [])) == ""


def test_a_silent_agent_stalls_its_running_tasks_only() -> None:
    runs = {"p/a": TaskRun(agent="ann"), "p/b": TaskRun(agent="ann"), "p/c": TaskRun(agent="bo")}
    statuses: dict[str, str | None] = {
        "p/a": "in_progress",
        "p/b": "complete",
        "p/c": "in_progress",
    }
    write = agent_went_silent("ann", statuses, runs, NOW)
    assert list(write.runs) == ["p/a"]
    assert write.runs["p/a"].stalled
    assert write.guards[0].key == "swarm/agents/ann"
    stale = [op for op in write.ops if "/attempts/" in op.key]
    assert [json.loads(op.value_json)["outcome"] for op in stale] == ["stale"]


def test_an_agent_is_found_by_the_start_token_in_its_environment(tmp_path: Path) -> None:
    import os

    me = tmp_path / str(os.getpid())
    me.mkdir()
    (me / "environ").write_bytes(f"A=1\0{TOKEN_VAR}=abc\0".encode())
    other = tmp_path / "999999999"
    other.mkdir()
    (other / "environ").write_bytes(f"{TOKEN_VAR}=abc\0".encode())  # no such process
    (tmp_path / "self").mkdir()
    assert find_token("abc", tmp_path) == os.getpid()
    assert find_token("abcd", tmp_path) is None
    assert find_token("abc", tmp_path / "missing") is None
