"""The daemon's reconcilers as pure functions: a snapshot and an injected `now` in,
guarded writes out. No store, no processes, no clock."""

from __future__ import annotations

import json
from typing import Any

from coordinator import layout
from coordinator.daemon.reconcile import Write
from coordinator.daemon.reconcile.escalate import escalations, next_due
from coordinator.daemon.reconcile.settle import settle
from coordinator.daemon.reconcile.spawn import STARTING, intent_write, plan_spawns
from coordinator.daemon.reconcile.supervise import agent_ended
from coordinator.layout import start_escalation_key
from coordinator.plans.validate import parse_plan
from coordinator.state import TaskRun
from coordinator.tasks import attempts
from memory.records import Put, Record

PLAN = parse_plan(
    """
phase: p
tasks:
  base:
    agent: ann
  job:
    agent: bob
    requires: [base]
    run: "do-job"
    files: ["src/**"]
    retries: 2
    retry_delay: 10s
    deadline: 1h
    start_within: 30m
  other:
    run: "do-other"
    files: ["src/api/**"]
  solo:
    run: "do-solo"
"""
)
SPECS = {spec.id: spec for spec in PLAN.tasks.values()}
JOB = SPECS["p/job"]
NOW = 1_000_000.0


def record(key: str, value: Any, rev: int = 5) -> Record:
    return Record(key, value, 1, rev, rev)


def puts(write: Write) -> dict[str, Any]:
    """The keys a write puts, with their decoded values (events and inboxes left out)."""
    return {
        op.key: json.loads(op.value_json)
        for op in write.ops
        if isinstance(op, Put) and not op.key.startswith((layout.EVENTS, layout.INBOX))
    }


def event_types(write: Write) -> list[str]:
    return [
        json.loads(op.value_json)["type"]
        for op in write.ops
        if isinstance(op, Put) and op.key.startswith(layout.EVENTS)
    ]


# --- settle ------------------------------------------------------------------------------


def test_settle_marks_a_task_ready_once_its_requirement_is_complete() -> None:
    status = record("p/job/status", "pending")
    values = {"p/base/status": "complete", "p/job/status": "pending"}
    write = settle(JOB, status, TaskRun(), values, NOW, gate_check=False)
    assert write is not None
    assert write.statuses == {"p/job": "ready"}
    assert write.runs["p/job"].ready_at == NOW
    assert event_types(write) == ["task_ready", "notification"]
    # Level-triggered: on the state it produced, it wants nothing more.
    again = settle(
        JOB,
        record("p/job/status", "ready", 6),
        write.runs["p/job"],
        values,
        NOW + 1,
        gate_check=False,
    )
    assert again is None


def test_settle_blocks_on_a_failed_requirement() -> None:
    values = {"p/base/status": "failed"}
    write = settle(JOB, record("p/job/status", "pending"), TaskRun(), values, NOW, gate_check=False)
    assert write is not None
    assert write.statuses == {"p/job": "blocked"}
    assert write.runs["p/job"].blocked_kind == "dependency"


# --- spawn -------------------------------------------------------------------------------


def ready(run: TaskRun | None = None) -> tuple[dict[str, str | None], dict[str, TaskRun]]:
    statuses: dict[str, str | None] = {t: "ready" for t in ("p/job", "p/other", "p/solo")}
    return statuses, {t: run or TaskRun() for t in statuses}


def runnable() -> list[Any]:
    return [SPECS[t] for t in ("p/job", "p/other", "p/solo")]


def test_spawn_starts_ready_tasks_but_holds_one_whose_files_overlap() -> None:
    statuses, runs = ready()
    plan = plan_spawns(runnable(), SPECS, statuses, runs, set(), 4, NOW)
    assert [s.id for s in plan.start] == ["p/job", "p/solo"]
    [hold] = plan.holds
    assert hold.runs["p/other"].held == "files overlap p/job"


def test_spawn_holds_at_max_agents_and_says_so() -> None:
    statuses, runs = ready()
    plan = plan_spawns(runnable(), SPECS, statuses, runs, {"p/running"}, 2, NOW)
    assert [s.id for s in plan.start] == ["p/job"]
    held = {t: r.held for w in plan.holds for t, r in w.runs.items()}
    assert held == {"p/other": "files overlap p/job", "p/solo": "--max-agents reached (2 running)"}


def test_spawn_waits_for_a_retry_and_does_not_rewrite_a_hold_it_already_recorded() -> None:
    statuses, runs = ready()
    runs["p/solo"] = TaskRun(retry_at=NOW + 20)
    plan = plan_spawns(runnable(), SPECS, statuses, runs, set(), 4, NOW)
    assert "p/solo" not in [s.id for s in plan.start]
    assert plan.next_retry == NOW + 20
    [hold] = [w for w in plan.holds if "p/solo" in w.runs]
    runs["p/solo"] = hold.runs["p/solo"]
    again = plan_spawns(runnable(), SPECS, statuses, runs, set(), 4, NOW + 1)
    assert not [w for w in again.holds if "p/solo" in w.runs]
    due = plan_spawns(runnable(), SPECS, statuses, runs, set(), 4, NOW + 20)
    assert "p/solo" in [s.id for s in due.start]


def test_a_retry_not_yet_due_is_the_hold_even_at_max_agents() -> None:
    statuses, runs = ready()
    runs["p/solo"] = TaskRun(retry_at=NOW + 20)
    plan = plan_spawns(runnable(), SPECS, statuses, runs, {"a", "b"}, 2, NOW)
    held = {t: r.held for w in plan.holds for t, r in w.runs.items()}
    assert held["p/solo"].startswith("retry at ")
    assert held["p/job"] == "--max-agents reached (2 running)"


def test_a_task_with_a_start_recorded_is_not_started_again() -> None:
    statuses, runs = ready(TaskRun(pid=4242, live=True, token="t1", attempt=1))
    plan = plan_spawns(runnable(), SPECS, statuses, runs, set(), 4, NOW)
    assert plan.start == ()


def test_a_task_set_back_to_ready_after_its_attempt_ended_is_started_again() -> None:
    statuses, runs = ready(TaskRun(pid=4242, live=False, attempt=1, exit_code=1))
    plan = plan_spawns(runnable(), SPECS, statuses, runs, set(), 4, NOW)
    assert [s.id for s in plan.start] == ["p/job", "p/solo"]


def test_the_intent_begins_an_attempt_with_its_token_before_any_pid() -> None:
    write = intent_write(JOB, TaskRun(), NOW, "tok")
    run = write.runs["p/job"]
    assert (run.attempt, run.live, run.pid, run.token, run.agent) == (
        1,
        True,
        STARTING,
        "tok",
        "bob",
    )
    assert layout.attempt_key("p/job", 1) in puts(write)
    # A start a killed daemon left unfinished is made again as the same attempt.
    again = intent_write(JOB, run, NOW + 5, "tok2").runs["p/job"]
    assert (again.attempt, again.token) == (1, "tok2")


# --- supervise ---------------------------------------------------------------------------


def ended(
    status: str,
    run: TaskRun,
    code: int | None = 1,
    token: str | None = "tok",
    attempt: attempts.Attempt | None = None,
) -> Any:
    stored = None
    if attempt is not None:
        stored = record(layout.attempt_key("p/job", attempt.number), attempt.to_json())
    return agent_ended(
        JOB,
        record("p/job/status", status),
        record(layout.run_key("p/job"), run.to_json()),
        stored,
        token=token,
        agent="bob",
        code=code,
        pid=77,
        now=NOW,
    )


def test_an_agent_that_dies_is_retried_with_a_doubling_delay_until_its_retries_are_spent() -> None:
    run = TaskRun(agent="bob", attempt=1, live=True, token="tok", pid=77, started_at=NOW - 5)
    first = ended("in_progress", run)
    assert first.gone == "agent bob exited with code 1 before post-task"
    assert first.write.statuses == {"p/job": "ready"}
    assert first.write.runs["p/job"].retry_at == NOW + 10
    died = puts(first.write)[layout.attempt_key("p/job", 1)]
    assert (died["outcome"], died["exit_code"]) == ("agent_died", 1)
    second = ended("in_progress", run._replace(attempt=2))
    assert second.write.runs["p/job"].retry_at == NOW + 20
    last = ended("in_progress", run._replace(attempt=3))
    assert last.write.statuses == {"p/job": "failed"}
    assert "task_failed" in event_types(last.write)


def test_an_agent_that_ends_after_its_post_task_only_has_its_exit_code_noted() -> None:
    run = TaskRun(agent="bob", attempt=1, live=False, token="tok", pid=77)
    result = ended("complete", run, code=0)
    assert result.gone is None
    assert result.write.statuses == {}
    assert result.write.runs["p/job"].exit_code == 0
    assert ended("complete", run._replace(exit_code=0), code=0).write is None


def test_an_attempt_an_operator_replaced_is_left_alone() -> None:
    run = TaskRun(agent="bob", attempt=2, live=True, token="new", pid=STARTING)
    assert ended("ready", run, token="old") == (None, None)


REFUSAL = "gate failed: p/job/throughput_ops >= 800: is 700"


def refused(attempt: int = 1) -> TaskRun:
    """The run record of a spawned agent's attempt that its gates refused."""
    return TaskRun(
        agent="bob",
        attempt=attempt,
        live=True,
        token="tok",
        pid=77,
        started_at=NOW - 5,
        reason=REFUSAL,
        blocked_kind="gates",
        gate_failures=("p/job/throughput_ops >= 800: is 700",),
        metrics={"throughput_ops": 700},
    )


def test_an_agent_that_ends_refused_by_its_gates_is_retried_with_the_refusal() -> None:
    result = ended("blocked", refused(), code=1)
    assert result.gone is None  # not a death: its post-task let go of its claims
    assert result.write.statuses == {"p/job": "ready"}
    run = result.write.runs["p/job"]
    assert (run.live, run.retry_at, run.retry_reason) == (False, NOW + 10, REFUSAL)
    assert event_types(result.write) == ["task_retry_scheduled"]
    attempt = puts(result.write)[layout.attempt_key("p/job", 1)]
    assert (attempt["outcome"], attempt["pid"], attempt["exit_code"]) == ("blocked", 77, 1)
    assert attempt["gates"] == ["p/job/throughput_ops >= 800: is 700"]
    assert attempt["metrics"] == {"throughput_ops": 700}
    assert attempt["reason"] == REFUSAL


def test_an_agent_refused_with_its_retries_spent_leaves_the_task_blocked() -> None:
    result = ended("blocked", refused(attempt=3), code=1)
    assert result.gone is None
    assert result.write.statuses == {"p/job": "blocked"}
    run = result.write.runs["p/job"]
    assert (run.live, run.exit_code, run.reason, run.retry_at) == (False, 1, REFUSAL, None)
    assert event_types(result.write) == []
    assert "p/job/status" not in puts(result.write)
    attempt = attempts.Attempt.from_json(puts(result.write)[layout.attempt_key("p/job", 3)])
    assert (attempt.outcome, attempt.exit_code, attempt.ended) == ("blocked", 1, NOW)
    # Level-triggered: on the state it produced, it wants nothing more.
    assert ended("blocked", run, code=1, attempt=attempt) == (None, None)


def test_a_gate_refused_agent_still_running_is_left_alone() -> None:
    """Until its process ends the agent may post-task again once the gates pass: the
    daemon judges it only at its end, and an agent that ended after completing is no
    refusal."""
    done = refused()._replace(live=False, blocked_kind=None, reason=None)
    assert ended("complete", done, code=0).write.statuses == {}


def test_the_exit_after_a_post_task_is_noted_in_the_attempt_too() -> None:
    run = TaskRun(agent="bob", attempt=1, live=False, pid=77, exit_code=None)
    attempt = attempts.Attempt(1, "bob", None, NOW - 5, NOW - 1, "failed", reason="broke")
    result = ended("ready", run, code=4, token=None, attempt=attempt)
    noted = puts(result.write)[layout.attempt_key("p/job", 1)]
    assert (noted["outcome"], noted["reason"], noted["exit_code"], noted["pid"]) == (
        "failed",
        "broke",
        4,
        77,
    )
    assert layout.attempt_key("p/job", 1) in [g.key for g in result.write.guards]
    # An attempt record of another attempt is not touched.
    other = ended("ready", run, code=4, token=None, attempt=attempt._replace(number=2))
    assert layout.attempt_key("p/job", 1) not in puts(other.write)


def test_the_intent_of_a_retry_tells_its_agent_how_the_attempt_before_ended() -> None:
    after = attempts.retry_run(refused(), NOW + 10, NOW, REFUSAL)
    write = intent_write(JOB, after, NOW + 10, "tok2")
    run = write.runs["p/job"]
    assert (run.attempt, run.retry_reason, run.gate_failures, run.metrics) == (2, REFUSAL, (), None)
    [note] = [json.loads(op.value_json) for op in write.ops if op.key.startswith(layout.INBOX)]
    assert (
        note["message"] == f"task p/job: attempt 2 is a retry; the attempt before ended: {REFUSAL}"
    )
    assert any(op.key.startswith(f"{layout.INBOX}bob/") for op in write.ops)
    # The unfinished start a killed daemon left is the same attempt: not told twice.
    again = intent_write(JOB, run, NOW + 11, "tok3")
    assert not [op for op in again.ops if op.key.startswith(layout.INBOX)]
    # A first attempt is no retry.
    first = intent_write(JOB, TaskRun(), NOW, "tok")
    assert not [op for op in first.ops if op.key.startswith(layout.INBOX)]


# --- escalate ----------------------------------------------------------------------------


def test_a_held_task_escalates_naming_the_hold_and_only_once() -> None:
    statuses: dict[str, str | None] = {"p/job": "ready"}
    run = TaskRun(ready_at=NOW - 3600, held="files overlap p/other")
    runs = {"p/job": run}
    assert next_due(SPECS, statuses, runs) == NOW - 3600 + 1800
    writes = escalations(SPECS, statuses, runs, NOW)
    messages = [puts(w)[k]["message"] for w in writes for k in puts(w) if "escalations" in k]
    assert messages == [
        "task p/job is past its deadline (1h since ready) and is held: files overlap p/other",
        "task p/job not operational within 30m: ready since then and held: files overlap p/other",
    ]
    assert start_escalation_key("p/job") in puts(writes[1])
    runs = {"p/job": writes[-1].runs["p/job"]}
    assert escalations(SPECS, statuses, runs, NOW + 1) == []
    assert next_due(SPECS, statuses, runs) is None


def test_a_started_task_is_not_late_to_start() -> None:
    statuses: dict[str, str | None] = {"p/job": "in_progress"}
    runs = {"p/job": TaskRun(ready_at=NOW - 1900)}
    assert escalations(SPECS, statuses, runs, NOW) == []


# --- attempts ----------------------------------------------------------------------------


def test_an_operator_retry_gives_a_fresh_budget() -> None:
    run = TaskRun(attempt=3)
    assert attempts.retry_at(JOB, run, NOW) is None
    fresh = run._replace(retry_base=3, attempt=4)
    assert attempts.retry_at(JOB, fresh, NOW) == NOW + 10
    assert attempts.retry_at(SPECS["p/base"], TaskRun(attempt=1), NOW) is None
