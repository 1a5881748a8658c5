"""A gate refusal in a `run:` agent is retried like a failure, and every attempt keeps the
pid, exit code, gate results and metrics it ended with (issue 21, points 1 and 2).

Nothing sleeps to let things settle: each test waits on a condition with a deadline.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from coordinator import layout
from coordinator.plans.validate import parse_plan
from coordinator.state import run_op
from coordinator.tasks import attempts
from coordinator.tasks.finish import finish_task
from coordinator.tasks.load import load_plan
from coordinator.tasks.start import read_state, start_task
from memory.backends import open_store
from tests.integration.conftest import Project, load, run_record, status, wait_until
from tests.integration.test_failures import POST, PRE, StartDaemon, events, wait_status

# The agent a new user writes: it measures, reports, and exits 1 when it is refused
# (`give-up`: after a refusal it first reports the task failed). A retry is told why in
# SWARM_RETRY_REASON; it writes that down, and the context its session starts with.
AGENT = """\
import json, os, subprocess, sys

task = os.environ["SWARM_TASK_ID"]
name = task.replace("/", ".")
reason = os.environ.get("SWARM_RETRY_REASON")


def hook(*args, stdin=None):
    return subprocess.run(["swarm", "hooks", *args], input=stdin, text=True, capture_output=True)


if reason:
    with open(name + ".reason", "w") as out:
        out.write(reason)
    start = {"hook_event_name": "SessionStart", "session_id": "perf", "cwd": os.getcwd()}
    with open(name + ".context", "w") as out:
        out.write(hook("claude", stdin=json.dumps(start)).stdout)
hook("pre-task", "--task-id", task).check_returncode()
metrics = json.dumps({"throughput_ops": 850 if reason else 700})
if hook("post-task", "--task-id", task, "--metrics", metrics).returncode:
    if sys.argv[1:] == ["give-up"]:
        hook("post-task", "--task-id", task, "--status", "failed", "--summary", "too slow")
    sys.exit(1)
"""

PLAN = f"""
phase: p
tasks:
  perf:
    run: {sys.executable} agents/perf.py
    retries: 2
    retry_delay: 0.2s
    gates: ["p/perf/throughput_ops >= 800"]
  tuning:
    run: {sys.executable} agents/perf.py give-up
    retries: 2
    retry_delay: 0.2s
    gates: ["p/tuning/throughput_ops >= 800"]
  report:
    requires: [perf]
  publish:
    requires: [tuning]
"""


def attempt_records(project: Project, task: str) -> list[dict[str, Any]]:
    with project.store() as store:
        return [r.value for r in store.list_prefix(f"{layout.TASKS}{task}/attempts/")]


def spawned_pids(project: Project, task: str) -> list[int]:
    return [e["data"]["pid"] for e in events(project, "agent_spawned", task)]


def test_a_refused_run_agent_is_retried_and_its_dependent_becomes_ready(
    project: Project, start_daemon: StartDaemon
) -> None:
    (project.root / "agents").mkdir()
    (project.root / "agents" / "perf.py").write_text(AGENT)
    load(project, PLAN)
    start_daemon("--interval", "3600", "--no-watch-worktree")
    # No operator command: the refusal is retried, and the retry's passing value lands.
    wait_status(project, "p/report", "ready", timeout=30)
    wait_status(project, "p/publish", "ready", timeout=30)
    assert events(project, "task_retried") == []

    refusal = "gate failed: p/perf/throughput_ops >= 800: is 700"
    first, second = attempt_records(project, "p/perf")
    assert (first["outcome"], first["exit_code"], first["reason"]) == ("blocked", 1, refusal)
    assert first["pid"] == spawned_pids(project, "p/perf")[0]
    assert first["gates"] == ["p/perf/throughput_ops >= 800: is 700"]
    assert first["metrics"] == {"throughput_ops": 700}
    assert (second["outcome"], second["metrics"]) == ("complete", {"throughput_ops": 850})
    assert (project.root / "p.perf.reason").read_text() == refusal
    notice = f"task p/perf: attempt 2 is a retry; the attempt before ended: {refusal}"
    assert notice in (project.root / "p.perf.context").read_text()
    [scheduled] = events(project, "task_retry_scheduled", "p/perf")
    assert refusal in scheduled["message"]

    # Giving up with post-task --status failed after the refusal: the same, and the
    # attempt keeps its pid, exit code, gate results and metrics.
    gave_up = "too slow after gate failed: p/tuning/throughput_ops >= 800: is 700"
    # (Its exit is noted before the retry starts: the daemon starts no second agent for a
    # task while the first still runs.)
    first, second = attempt_records(project, "p/tuning")
    assert (first["outcome"], first["exit_code"], first["reason"]) == ("failed", 1, gave_up)
    assert first["pid"] == spawned_pids(project, "p/tuning")[0]
    assert first["gates"] == ["p/tuning/throughput_ops >= 800: is 700"]
    assert first["metrics"] == {"throughput_ops": 700}
    assert second["outcome"] == "complete"
    assert (project.root / "p.tuning.reason").read_text() == gave_up


SPENT = f"""
phase: q
tasks:
  perf:
    run: {sys.executable} agents/perf.py
    retries: 1
    retry_delay: 0.1s
    gates: ["q/perf/throughput_ops >= 900"]
  report:
    requires: [perf]
"""


def test_a_refusal_with_its_retries_spent_stays_blocked_until_an_operator_retries(
    project: Project, start_daemon: StartDaemon
) -> None:
    (project.root / "agents").mkdir()
    (project.root / "agents" / "perf.py").write_text(AGENT)
    load(project, SPENT)
    start_daemon("--interval", "3600", "--no-watch-worktree")
    # Both attempts report below 900: the second refusal is the last.
    wait_until(
        lambda: [a.get("exit_code") for a in attempt_records(project, "q/perf")] == [1, 1],
        what="two refused attempts to end",
    )
    assert status(project, "q/perf") == "blocked"
    assert status(project, "q/report") == "pending"
    run = project.value(layout.run_key("q/perf"))
    assert (run["live"], run["reason"]) == (
        False,
        "gate failed: q/perf/throughput_ops >= 900: is 850",
    )
    assert [a["outcome"] for a in attempt_records(project, "q/perf")] == ["blocked", "blocked"]
    assert len(events(project, "task_retry_scheduled", "q/perf")) == 1

    # The operator's retry reopens it with a fresh budget, and its agent is told why.
    project.ok("task", "retry", "q/perf", "--operator", "olga")
    wait_until(
        lambda: [a.get("exit_code") for a in attempt_records(project, "q/perf")] == [1] * 4,
        what="two more refused attempts to end",
    )
    assert status(project, "q/perf") == "blocked"
    with project.store() as store:
        inbox = [r.value["message"] for r in store.list_prefix(f"{layout.INBOX}perf/")]
    told = [message for message in inbox if "is a retry" in message]
    assert told == [
        "task q/perf: attempt 2 is a retry; the attempt before ended: "
        "gate failed: q/perf/throughput_ops >= 900: is 700",
        "task q/perf: attempt 3 is a retry; the attempt before ended: "
        "gate failed: q/perf/throughput_ops >= 900: is 850 (retried by olga)",
        "task q/perf: attempt 4 is a retry; the attempt before ended: "
        "gate failed: q/perf/throughput_ops >= 900: is 850",
    ]


GATED = f"""
phase: g
tasks:
  build:
    agent: builder
    gates: ["g/build/warnings < 5"]
    run: 'swarm memory put g/build/warnings 9 && {PRE} && {POST}'
  ship:
    requires: [build]
"""


def test_a_gate_refusal_in_a_run_agent_blocks_until_the_metric_is_fixed(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, GATED)
    start_daemon("--interval", "3600", "--no-watch-worktree")
    wait_status(project, "g/build", "blocked")
    wait_until(lambda: run_record(project, "g/build").get("exit_code") == 3, what="agent reaped")
    assert status(project, "g/build") == "blocked"
    assert len(events(project, "task_blocked", "g/build")) == 1
    assert events(project, "task_completed", "g/build") == []
    assert events(project, "task_failed", "g/build") == []
    assert status(project, "g/ship") == "pending"
    project.ok("memory", "put", "g/build/warnings", "2")
    project.ok("hooks", "post-task", "--task-id", "g/build", "--agent", "builder")
    assert status(project, "g/build") == "complete"
    wait_status(project, "g/ship", "ready")
    report = project.ok("report", "--session-id", "g", "--format", "json").json()
    # The refused attempt ended with its agent (no retries: the task stayed blocked); the
    # post-task after it is an attempt of its own.
    refused, fixed = next(t for t in report["tasks"] if t["task"] == "g/build")["attempts"]
    assert (refused["outcome"], refused["exit_code"]) == ("blocked", 3)
    assert refused["gates"] == ["g/build/warnings < 5: is 9"]
    assert fixed["outcome"] == "complete"


def test_giving_up_after_a_refusal_keeps_the_attempts_pid_gates_and_metrics(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path / "memory.db", create=True)
    plan = parse_plan(
        'phase: p\ntasks:\n  perf:\n    run: go\n    retries: 2\n    gates: ["p/perf/ops >= 800"]\n'
    )
    load_plan(store, plan, "plan.yaml")
    spec = plan.tasks["perf"]
    # The daemon's start of the agent: an attempt with its pid on record.
    before = read_state(store, spec)[0].run
    spawned = attempts.begin(before, 1.0, agent="perf", token="tk")._replace(pid=4242)
    store.txn([], [run_op("p/perf", spawned)])
    start_task(store, "p/perf", "perf", None)
    refused = finish_task(store, "p/perf", "complete", "perf", None, {"ops": 700})
    assert refused.status == "blocked"

    gave_up = finish_task(store, "p/perf", "failed", "perf", "too slow", None)

    assert gave_up.status == "ready"  # a retry is due
    attempt = attempts.Attempt.from_json(store.require(layout.attempt_key("p/perf", 1)).value)
    assert (attempt.outcome, attempt.pid) == ("failed", 4242)
    assert attempt.gates == ("p/perf/ops >= 800: is 700",)
    assert attempt.metrics == {"ops": 700}
    assert attempt.reason == "too slow after gate failed: p/perf/ops >= 800: is 700"
    run = read_state(store, spec)[0].run
    assert run.retry_reason == attempt.reason
