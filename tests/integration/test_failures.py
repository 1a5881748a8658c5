"""Failures heal themselves (issue 11), through the CLI and the real daemon: dead agents
let go at once, retries, operator commands, authority over post-task, exactly-once spawn
across a daemon crash, unique conflict ids, holds. Gate refusals: test_gate_retries.py.

Nothing sleeps to let things settle: each test waits on a condition with a deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from typing import Any

from coordinator import layout
from tests.integration.conftest import (
    SWARM,
    DaemonProcess,
    Project,
    load,
    run_record,
    status,
    wait_until,
)

StartDaemon = Callable[..., DaemonProcess]

PRE = 'swarm hooks pre-task --task-id "$SWARM_TASK_ID"'
POST = 'swarm hooks post-task --task-id "$SWARM_TASK_ID"'


def events(project: Project, type_: str, task: str | None = None) -> list[dict[str, Any]]:
    with project.store() as store:
        records = store.list_prefix(layout.EVENTS)
    return [
        r.value
        for r in records
        if isinstance(r.value, dict)
        and r.value["type"] == type_
        and (task is None or r.value.get("task") == task)
    ]


def wait_status(project: Project, task: str, expected: str, timeout: float = 15.0) -> None:
    wait_until(
        lambda: status(project, task) == expected,
        timeout,
        what=f"{task} to be {expected} (it is {status(project, task)})",
    )


def claims(project: Project) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = project.ok("claims", "--json").json()["claims"]
    return result


def status_json_task(project: Project, task: str) -> dict[str, Any]:
    view = project.ok("status", "--json").json()
    return next(t for t in view["tasks"] if t["task"] == task)


# --- dead agents let go at once ------------------------------------------------------------

CRASH = f"""
phase: k
tasks:
  holder:
    agent: holder
    files: ["src/**"]
    run: '{PRE} && swarm hooks pre-edit --file src/a.py && exec sleep 600'
  later:
    agent: follower
    files: ["src/a.py"]
    deadline: 1s
    run: '{PRE} && swarm hooks pre-edit --file src/a.py --wait 30 && {POST}'
"""


def test_a_killed_agent_lets_go_at_once_and_the_held_task_then_runs(
    project: Project, start_daemon: StartDaemon
) -> None:
    (project.root / "src").mkdir()
    load(project, CRASH)
    daemon = start_daemon("--interval", "3600", "--no-watch-worktree")
    wait_until(lambda: [c["agent"] for c in claims(project)] == ["holder"], what="the claim")
    pid = run_record(project, "k/holder")["pid"]
    # The follower is ready but held back: its files overlap the running holder's.
    wait_until(
        lambda: status_json_task(project, "k/later")["held"] == "files overlap k/holder",
        what="the hold to show in status --json",
    )
    assert status(project, "k/later") == "ready"
    # Its deadline passes while held: the escalation names the hold, not "ready".
    wait_until(lambda: project.value(layout.escalation_key("k/later")), what="escalation")
    message = project.value(layout.escalation_key("k/later"))["message"]
    assert "held: files overlap k/holder" in message
    assert "and is ready" not in message

    waiter = subprocess.Popen(
        [SWARM, "hooks", "pre-edit", "--file", "src/a.py", "--agent", "carol", "--wait", "30"],
        cwd=project.root,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: project.ok("claims", "--json").json()["queue"], what="carol queued")
    os.kill(pid, signal.SIGKILL)
    out, err = waiter.communicate(timeout=1.0)  # granted within a second of the death
    assert waiter.returncode == 0, err
    assert "claim on src/a.py to carol" in out
    [gone] = events(project, "agent_gone")
    assert gone["agent"] == "holder"
    assert "exited with code -9 before post-task" in gone["message"]
    assert project.value(layout.agent_key("holder")) is None
    assert project.value(layout.gone_key("holder"))["reason"] == gone["message"]
    assert status(project, "k/holder") == "failed"
    agents = {a["agent"]: a for a in project.ok("status", "--json").json()["agents"]}
    assert (agents["holder"]["live"], agents["holder"]["gone"]) == (False, gone["message"])
    project.ok("hooks", "session-end", "--session-id", "x", "--agent", "carol")
    wait_status(project, "k/later", "complete")
    [died] = project.ok("report", "--session-id", "k", "--format", "json").json()["tasks"][0][
        "attempts"
    ]
    assert (died["outcome"], died["exit_code"]) == ("agent_died", -9)
    assert daemon.proc.poll() is None


# --- retries -------------------------------------------------------------------------------

FLAKY = f"""
phase: f
tasks:
  flaky:
    agent: flaky
    retries: 2
    retry_delay: 0.2s
    run: |
      n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count
      {PRE}
      [ "$n" -ge 3 ] || exit 5
      {POST} --summary "third time lucky"
  after:
    requires: [flaky]
"""


def test_a_task_with_retries_fails_twice_then_succeeds_with_three_attempts_on_record(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, FLAKY)
    start_daemon("--interval", "3600", "--no-watch-worktree")
    wait_status(project, "f/flaky", "complete", timeout=30)
    wait_status(project, "f/after", "ready")
    assert (project.root / "count").read_text().strip() == "3"
    report = project.ok("report", "--session-id", "f", "--format", "json").json()
    flaky = next(t for t in report["tasks"] if t["task"] == "f/flaky")
    assert [a["number"] for a in flaky["attempts"]] == [1, 2, 3]
    assert [a["outcome"] for a in flaky["attempts"]] == ["agent_died", "agent_died", "complete"]
    assert [a["exit_code"] for a in flaky["attempts"][:2]] == [5, 5]
    retries = events(project, "task_retry_scheduled", "f/flaky")
    assert len(retries) == 2
    delays = [round(r["data"]["retry_at"] - r["ts"], 6) for r in retries]
    assert delays == [0.2, 0.4]  # doubling per attempt
    assert "blocked" not in [c for c in _status_history(project, "f/after")]
    restore = project.ok("session-restore", "--session-id", "f", "--json").json()
    restored = next(t for t in restore["tasks"] if t["task"] == "f/flaky")
    assert len(restored["attempts"]) == 3
    assert [i["type"] for i in restore["incidents"]].count("agent_gone") == 2
    text = project.ok("session-restore", "--session-id", "f").stdout
    assert "attempt #1 flaky" in text
    assert "INCIDENTS" in text
    markdown = project.ok("report", "--session-id", "f").stdout
    assert "1/2 complete after 2 retries and 2 crashes" in markdown
    assert "#1 flaky" in markdown


def _status_history(project: Project, task: str) -> list[Any]:
    with project.store() as store:
        return [c.value for c in store.history(f"{task}/status")]


# --- operator commands ---------------------------------------------------------------------

OPS = f"""
phase: o
tasks:
  once:
    agent: once
    run: '[ -f fixed ] || exit 2; {PRE} && {POST}'
  sleeper:
    agent: sleeper
    files: ["lib/**"]
    run: '{PRE} && swarm hooks pre-edit --file lib/x.py && exec sleep 600'
  gated:
    agent: gated
  dependent:
    requires: [gated]
  after_once:
    requires: [once]
"""


def test_operator_retry_cancel_and_skip(project: Project, start_daemon: StartDaemon) -> None:
    (project.root / "lib").mkdir()
    load(project, OPS)
    start_daemon("--interval", "3600", "--no-watch-worktree")
    # retry: a failed run: task's agent is started again.
    wait_status(project, "o/once", "failed")
    wait_status(project, "o/after_once", "blocked")
    (project.root / "fixed").write_text("")
    result = project.ok("task", "retry", "once", "--operator", "olga")
    history = _status_history(project, "o/after_once")
    assert history[history.index("blocked") + 1] == "pending"  # set back by the retry
    assert result.stdout.strip() == "task o/once: failed -> ready (retried by olga)"
    wait_status(project, "o/once", "complete")
    [retried] = events(project, "task_retried", "o/once")
    assert retried["agent"] == "olga"
    assert len(events(project, "agent_spawned", "o/once")) == 2

    # cancel: the running agent is stopped and its claims freed.
    wait_until(lambda: [c["agent"] for c in claims(project)] == ["sleeper"], what="claim")
    pid = run_record(project, "o/sleeper")["pid"]
    project.ok("task", "cancel", "o/sleeper", "--operator", "olga", "--grace", "2")
    assert status(project, "o/sleeper") == "failed"
    assert run_record(project, "o/sleeper")["reason"] == "cancelled by olga"
    assert claims(project) == []
    wait_until(lambda: not _alive(pid), what="the cancelled agent to end")
    again = project.swarm("task", "cancel", "o/sleeper")
    assert again.code == 3
    assert "only a running task can be cancelled" in again.stderr

    # skip: the dependents start.
    assert status(project, "o/dependent") == "pending"
    project.ok("task", "skip", "gated", "--reason", "done by hand", "--operator", "olga")
    wait_status(project, "o/dependent", "ready")
    row = status_json_task(project, "o/gated")
    assert (row["status"], row["skipped"]) == ("complete", True)
    # reset: back to pending, history kept.
    project.ok("task", "reset", "o/once")
    assert len(events(project, "agent_spawned", "o/once")) >= 2


def _alive(pid: int) -> bool:
    from coordinator.agents.processes import process_alive

    return process_alive(pid)


def test_operator_commands_refuse_with_exit_3_and_change_nothing(project: Project) -> None:
    load(project, OPS)
    with project.store() as store:
        before = store.revision()
    for args in (["retry", "gated"], ["cancel", "gated"], ["reset", "nope"]):
        result = project.swarm("task", *args)
        assert result.code in (1, 3), args
        assert result.stderr.startswith("swarm: error:")
    assert project.swarm("task", "retry", "gated").code == 3
    with project.store() as store:
        assert store.revision() == before


# --- exactly-once spawn --------------------------------------------------------------------

ONCE = f"""
phase: x
tasks:
  job:
    agent: worker
    run: 'echo ran >> runs.txt; while [ ! -f go ]; do sleep 0.05; done; {PRE} && {POST}'
"""


def test_a_daemon_killed_between_intent_and_pid_never_starts_the_agent_twice(
    project: Project, start_daemon: StartDaemon
) -> None:
    from coordinator.daemon.loop import SPAWN_PAUSE_VAR, STARTING

    load(project, ONCE)
    project.env[SPAWN_PAUSE_VAR] = "30"
    first = start_daemon("--interval", "3600", "--no-watch-worktree", wait=False)
    runs = project.root / "runs.txt"
    wait_until(runs.exists, what="the agent to start")
    run = run_record(project, "x/job")
    assert (run["pid"], run["live"]) == (STARTING, True)  # intent on record, pid not yet
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    del project.env[SPAWN_PAUSE_VAR]
    second = start_daemon("--interval", "3600", "--no-watch-worktree")
    assert second.logged("agent adopted")
    (project.root / "go").write_text("")
    wait_status(project, "x/job", "complete")
    assert runs.read_text().splitlines() == ["ran"]
    assert run_record(project, "x/job")["pid"] > 0
    assert len(events(project, "agent_adopted", "x/job")) == 1


# --- conflicts -----------------------------------------------------------------------------


def test_two_conflicts_from_one_post_edit_have_their_own_ids(project: Project) -> None:
    (project.root / "f.txt").write_text("x")
    project.ok("hooks", "post-edit", "--file", "f.txt", "--agent", "ann")
    project.ok("hooks", "post-edit", "--file", "f.txt", "--agent", "bob")
    found = project.ok("conflicts", "list", "--json").json()
    bobs = [c for c in found if "bob" in c["agents"]]
    assert len(bobs) == 2
    ids = [c["id"] for c in found]
    assert len(set(ids)) == len(ids)
    for conflict in bobs:
        project.ok("conflicts", "resolve", str(conflict["id"]), "--keep", "bob")
    listed = project.ok("conflicts", "list", "--all", "--json").json()
    resolved = {c["id"]: c["resolved"] for c in listed}
    assert all(resolved[c["id"]] for c in bobs)
    assert not resolved[next(c["id"] for c in found if c["agents"] == ["ann"])]


# --- start deadlines -----------------------------------------------------------------------

IDLE = """
phase: s
tasks:
  idle:
    agent: ida
    start_within: 1s
"""


def test_a_task_not_started_within_its_start_deadline_escalates_then_shows_resolved(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, IDLE)
    start_daemon("--interval", "3600", "--no-watch-worktree")
    key = f"{layout.escalation_key('s/idle')}/start"
    wait_until(lambda: project.value(key), what="the start escalation")
    record = project.value(key)
    assert record["kind"] == "start"
    assert record["message"] == (
        "task s/idle not operational within 1s: ready since then and not started"
    )
    assert project.value(layout.escalation_key("s/idle")) is None  # no deadline: not late
    [live] = project.ok("status", "--json").json()["escalations"]
    assert live["resolved"] is False
    project.ok("hooks", "pre-task", "--task-id", "s/idle", "--agent", "ida")
    project.ok("hooks", "post-task", "--task-id", "s/idle", "--agent", "ida")
    [done] = project.ok("status", "--json").json()["escalations"]
    assert done["resolved"] is True
    assert "resolved" in project.ok("session-restore", "--session-id", "s").stdout


def test_a_retried_task_that_is_late_again_escalates_again(
    project: Project, start_daemon: StartDaemon
) -> None:
    """The escalation records of the late attempt are the retried task's no longer: were
    they kept, the next escalation's write (made only where none exists) would fail on
    every pass and the task would never be escalated again."""
    load(project, "phase: e\ntasks:\n  late:\n    agent: ann\n    deadline: 1s\n")
    start_daemon("--interval", "3600")

    def escalated() -> int:
        with project.store() as store:
            return sum(
                1
                for r in store.list_prefix(layout.EVENTS)
                if r.value.get("type") == "escalated" and r.value.get("task") == "e/late"
            )

    project.ok("hooks", "pre-task", "--task-id", "late", "--agent", "ann")
    wait_until(lambda: escalated() == 1, what="the first escalation")
    project.ok("hooks", "post-task", "--task-id", "late", "--agent", "ann", "--status", "failed")
    project.ok("task", "retry", "e/late", "--operator", "olga")
    with project.store() as store:
        assert store.get(layout.escalation_key("e/late")) is None
    project.ok("hooks", "pre-task", "--task-id", "late", "--agent", "ann")
    wait_until(lambda: escalated() == 2, what="the retried task's own escalation")
