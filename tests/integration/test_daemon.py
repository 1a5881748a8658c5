"""The real daemon process reacting to hooks run as subprocesses.

Nothing sleeps: each test waits on a condition (a status, an event, the daemon's persisted
cursor reaching a revision) against a deadline.
"""

from __future__ import annotations

import itertools
import json
import signal
import threading
from collections.abc import Callable
from typing import Any

import pytest

from coordinator import layout
from memory.backends import open_async_store
from memory.errors import CompactedRevision
from memory.records import Put
from tests.integration.conftest import (
    DaemonProcess,
    Project,
    hold_write_lock,
    load,
    run_record,
    status,
    wait_until,
)

#: Every test of this suite that uses a project runs on SQLite and on PostgreSQL.
RUN_ON_EVERY_BACKEND = True

StartDaemon = Callable[..., DaemonProcess]

_ticks = itertools.count()


def events(project: Project, type_: str) -> list[dict[str, Any]]:
    """Events of one type, read in-process (cheap enough to poll)."""
    with project.store() as store:
        records = store.list_prefix(layout.EVENTS)
    return [r.value for r in records if isinstance(r.value, dict) and r.value["type"] == type_]


def cli_events(project: Project, type_: str) -> list[dict[str, Any]]:
    """Events of one type as `swarm events --json` prints them."""
    out = project.ok("events", "--json", "--limit", "10000", "--type", type_).stdout
    return [json.loads(line) for line in out.splitlines()]


def inbox(project: Project, agent: str) -> list[dict[str, Any]]:
    """The agent's unread notifications as `swarm inbox AGENT --json` prints them."""
    result: list[dict[str, Any]] = project.ok("inbox", agent, "--json").json()
    return result


def wait_status(project: Project, task: str, expected: str, timeout: float = 10.0) -> None:
    wait_until(
        lambda: status(project, task) == expected,
        timeout,
        what=f"{task} to be {expected} (it is {status(project, task)})",
    )


def daemon_pass(project: Project) -> int:
    """Write an unrelated key and wait until the daemon has finished a pass that read it."""
    with project.store() as store:
        rev = store.put(f"test/tick/{next(_ticks)}", 1).mod_rev

    def cursor() -> int:
        value = project.value(layout.DAEMON_CURSOR)
        return value if isinstance(value, int) else 0

    wait_until(lambda: cursor() >= rev, what=f"the daemon's cursor to reach revision {rev}")
    return rev


def finish(project: Project, task: str, agent: str) -> None:
    """Start and complete a task as its agent would."""
    project.ok("hooks", "pre-task", "--task-id", task, "--agent", agent)
    project.ok("hooks", "post-task", "--task-id", task, "--agent", agent)


def status_history(project: Project, task: str) -> list[Any]:
    with project.store() as store:
        return [c.value for c in store.history(f"{task}/status")]


# --- readiness ---------------------------------------------------------------------------

CHAIN = """\
phase: p1
tasks:
  design:
    agent: alice
  api:
    agent: carol
  build:
    agent: bob
    requires: [design, api]
"""


def test_last_requirements_post_task_makes_the_dependent_ready(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, CHAIN)
    start_daemon("--interval", "3600")
    wait_status(project, "p1/design", "ready")
    wait_status(project, "p1/api", "ready")
    for task, agent in (("design", "alice"), ("api", "carol")):
        project.ok("hooks", "pre-task", "--task-id", task, "--agent", agent)

    project.ok("hooks", "post-task", "--task-id", "design", "--agent", "alice")
    daemon_pass(project)
    assert status(project, "p1/build") == "pending"
    assert not any("p1/build" in n["message"] for n in inbox(project, "bob"))

    project.ok("hooks", "post-task", "--task-id", "api", "--agent", "carol")
    wait_status(project, "p1/build", "ready")
    notes = inbox(project, "bob")
    assert [n["message"] for n in notes] == ["task p1/build is now ready"]
    assert notes[0]["task"] == "p1/build"
    ready = [e["task"] for e in cli_events(project, "task_ready")]
    assert ready.count("p1/build") == 1
    assert run_record(project, "p1/build")["ready_at"] is not None


def test_a_failed_requirement_blocks_the_dependent(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, CHAIN)
    start_daemon("--interval", "3600")
    wait_status(project, "p1/design", "ready")
    project.ok("hooks", "pre-task", "--task-id", "api", "--agent", "carol")
    project.ok("hooks", "pre-task", "--task-id", "design", "--agent", "alice")
    project.ok("hooks", "post-task", "--task-id", "api", "--agent", "carol")
    project.ok(
        "hooks",
        "post-task",
        "--task-id",
        "design",
        "--agent",
        "alice",
        "--status",
        "failed",
        "--summary",
        "no",
    )
    wait_status(project, "p1/build", "blocked")
    run = run_record(project, "p1/build")
    assert run["reason"] == "dependency failed: p1/design"
    assert [e["task"] for e in events(project, "task_blocked")] == ["p1/build"]
    assert any("p1/build is blocked" in n["message"] for n in inbox(project, "bob"))
    daemon_pass(project)
    assert status(project, "p1/build") == "blocked"
    assert "ready" not in status_history(project, "p1/build")


def test_a_restarted_daemon_catches_up_from_its_cursor(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, CHAIN)
    first = start_daemon("--interval", "3600")
    wait_status(project, "p1/design", "ready")
    finish(project, "api", "carol")
    daemon_pass(project)
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    cursor = project.value(layout.DAEMON_CURSOR)
    assert isinstance(cursor, int)
    assert cursor > 0

    # The last requirement completes while no daemon is running.
    finish(project, "design", "alice")
    assert status(project, "p1/build") == "pending"
    with project.store() as store:
        missed, _ = store.changes_since(cursor + 1, limit=10_000)
        total, _ = store.changes_since(1, limit=10_000)
    missed = [c for c in missed if c.key != layout.DAEMON_CURSOR]
    assert len(missed) < len(total)

    second = start_daemon("--interval", "3600")
    wait_status(project, "p1/build", "ready")
    [caught_up] = second.logged("caught up")
    # It read only what changed since the persisted cursor, not the whole log.
    assert caught_up["changes"] == len(missed)
    assert [n["message"] for n in inbox(project, "bob")] == ["task p1/build is now ready"]
    assert [e["task"] for e in events(project, "task_ready")].count("p1/build") == 1


def test_once_runs_one_pass_and_exits(project: Project) -> None:
    load(project, CHAIN)
    result = project.swarm("daemon", "--once", "--log-format", "json")
    assert result.code == 0, result.stderr
    assert status(project, "p1/design") == "ready"
    assert status(project, "p1/api") == "ready"
    assert status(project, "p1/build") == "pending"
    assert isinstance(project.value(layout.DAEMON_CURSOR), int)
    logged = [json.loads(line)["event"] for line in result.stderr.splitlines()]
    assert "caught up" in logged
    assert "watching" not in logged


def test_the_daemon_prunes_old_records_when_it_starts(
    project: Project, start_daemon: StartDaemon
) -> None:
    import time

    from coordinator.state import event_op

    old = time.time() - 120
    with project.store() as store:
        store.txn([], [event_op("progress", old, message="old")])
        store.txn([], [event_op("progress", time.time(), message="new")])
    project.env["SWARM_RETENTION"] = "60"
    daemon = start_daemon("--interval", "3600", "--no-watch-worktree")
    wait_until(lambda: daemon.logged("old records pruned"), what="the prune")
    with project.store() as store:
        messages = [r.value.get("message") for r in store.list_prefix(layout.EVENTS)]
    assert "old" not in messages and "new" in messages
    [pruned] = daemon.logged("old records pruned")
    assert pruned["events"] == 1


# --- gates -------------------------------------------------------------------------------

GATED = """\
phase: g
tasks:
  zeta:
    agent: zed
    gates: ["g/zeta/score >= 5"]
  alpha:
    agent: al
    requires: [zeta]
  omega:
    agent: olga
    gates: ["g/omega/score >= 5"]
  beta:
    agent: bea
    requires: [omega]
"""


def test_post_task_with_a_failing_gate_blocks_and_the_dependent_keeps_waiting(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, GATED)
    start_daemon("--interval", "3600")
    project.ok("hooks", "pre-task", "--task-id", "zeta", "--agent", "zed")
    project.ok("memory", "put", "g/zeta/score", "2")
    result = project.swarm("hooks", "post-task", "--task-id", "zeta", "--agent", "zed")
    assert result.code == 3
    assert "gate failed: g/zeta/score >= 5" in result.stderr
    daemon_pass(project)
    assert status(project, "g/zeta") == "blocked"
    assert run_record(project, "g/zeta")["reason"] == "gate failed: g/zeta/score >= 5: is 2"
    assert status(project, "g/alpha") == "pending"
    assert "ready" not in status_history(project, "g/alpha")
    assert any("g/zeta is blocked" in n["message"] for n in inbox(project, "zed"))
    assert inbox(project, "al") == []


def test_status_set_to_complete_directly_gets_its_gates_checked(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, GATED)
    start_daemon("--interval", "3600")
    project.ok("memory", "put", "g/zeta/score", "1")
    project.ok("memory", "put", "g/omega/score", "9")
    # Bypassing post-task: a failing gate is caught by the daemon, a passing one is not.
    project.ok("memory", "put", "g/zeta/status", "complete")
    project.ok("memory", "put", "g/omega/status", "complete")
    wait_status(project, "g/zeta", "blocked")
    wait_status(project, "g/beta", "ready")
    daemon_pass(project)
    run = run_record(project, "g/zeta")
    assert run["reason"] == "gate failed: g/zeta/score >= 5: is 1"
    assert run["blocked_kind"] == "gates"
    assert [e["task"] for e in events(project, "gate_failed")] == ["g/zeta"]
    assert any("g/zeta is blocked" in n["message"] for n in inbox(project, "zed"))
    assert status(project, "g/omega") == "complete"
    # The dependent of the gated task never looked ready, not even for a moment.
    assert status(project, "g/alpha") == "pending"
    assert "ready" not in status_history(project, "g/alpha")
    assert "g/alpha" not in [e["task"] for e in events(project, "task_ready")]
    assert inbox(project, "al") == []


# --- deadlines ---------------------------------------------------------------------------


def test_a_late_task_is_escalated_exactly_once(project: Project, start_daemon: StartDaemon) -> None:
    load(project, "phase: d\ntasks:\n  slow:\n    agent: sam\n    deadline: 1s\n  calm: {}\n")
    start_daemon("--interval", "3600")
    wait_until(lambda: events(project, "escalated"), what="the escalated event")
    for _ in range(3):
        daemon_pass(project)
    [event] = cli_events(project, "escalated")
    assert event["task"] == "d/slow"
    with project.store() as store:
        records = store.list_prefix(layout.ESCALATIONS)
    assert [r.key for r in records] == [layout.escalation_key("d/slow")]
    record = records[0].value
    assert record["status"] == "ready"
    assert record["escalated_at"] >= record["due_at"] == record["ready_at"] + 1
    assert run_record(project, "d/slow")["escalated_at"] == record["escalated_at"]
    assert [n["task"] for n in inbox(project, "operator")] == ["d/slow"]
    assert any("past its deadline" in n["message"] for n in inbox(project, "sam"))


# --- stale agents ------------------------------------------------------------------------


def test_a_silent_agent_is_reported_stale_and_its_task_stalled(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, "phase: s\ntasks:\n  work:\n    agent: ann\n")
    start_daemon("--interval", "3600")
    # pre-task renews the lease by the 2 seconds ann registered with, not the default.
    project.ok("hooks", "session-start", "--session-id", "s", "--agent", "ann", "--ttl", "2")
    project.ok("hooks", "pre-task", "--task-id", "work", "--agent", "ann")
    # Nothing else is written: only the daemon's timer at the lease expiry can notice.
    wait_until(lambda: events(project, "agent_stale"), what="the agent_stale event")
    [stale] = events(project, "agent_stale")
    assert stale["agent"] == "ann"
    wait_until(lambda: run_record(project, "s/work").get("stalled"), what="the task stalled")
    assert status(project, "s/work") == "in_progress"
    assert [e["task"] for e in events(project, "task_stalled")] == ["s/work"]
    notes = inbox(project, "operator")
    assert len(notes) == 1
    assert "agent ann is stale" in notes[0]["message"]
    assert "s/work" in notes[0]["message"]
    assert project.value(layout.agent_key("ann")) is None


def live_claims(project: Project) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = project.ok("claims", "--json").json()["claims"]
    return result


def test_a_stale_agents_claims_are_released_like_post_task_releases_them(
    project: Project, start_daemon: StartDaemon
) -> None:
    from coordinator.claims.grants import EPOCH_KEY

    load(project, "phase: s\ntasks:\n  work:\n    agent: ann\n")
    start_daemon("--interval", "3600", "--no-watch-worktree")
    project.ok("hooks", "session-start", "--session-id", "s", "--agent", "ann", "--ttl", "2")
    project.ok("hooks", "pre-task", "--task-id", "work", "--agent", "ann")
    project.ok("hooks", "pre-edit", "--file", "src/app.py", "--agent", "ann", "--task", "s/work")
    epoch = project.value(EPOCH_KEY)
    assert [c["agent"] for c in live_claims(project)] == ["ann"]

    wait_until(lambda: run_record(project, "s/work").get("stalled"), what="the task stalled")
    assert live_claims(project) == []
    # Released the way post-task and session-end release: a new claims epoch (fencing
    # tokens move on) and a claim_released event...
    assert project.value(EPOCH_KEY) == epoch + 1
    [released] = events(project, "claim_released")
    assert (released["agent"], released["message"]) == ("ann", "src/app.py")
    # ...in the one transaction that stalls the task.
    stalled_at = first_rev(project, layout.run_key("s/work"), lambda v: bool(v and v["stalled"]))
    with project.store() as store:
        [bumped] = [c for c in store.history(EPOCH_KEY) if c.value == epoch + 1]
    assert bumped.rev == stalled_at


def test_an_expiry_read_while_catching_up_is_old_news_once_the_agent_is_back(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, "phase: s\ntasks:\n  work:\n    agent: ann\n")
    project.ok("daemon", "--once")
    project.ok("hooks", "session-start", "--session-id", "s", "--agent", "ann", "--ttl", "1")
    project.ok("hooks", "pre-task", "--task-id", "work", "--agent", "ann")
    project.ok("hooks", "pre-edit", "--file", "src/app.py", "--agent", "ann", "--task", "s/work")
    # No daemon runs while ann's lease runs out...
    wait_until(
        lambda: project.value(layout.agent_key("ann")) is None,
        what="ann's lease to run out",
    )
    # ...and ann comes back: this write logs the expiry and the new registration together.
    project.ok("hooks", "session-start", "--session-id", "s", "--agent", "ann")
    with project.store() as store:
        expired = [c for c in store.history(layout.agent_key("ann")) if c.op == "expire"]
    assert len(expired) == 1

    daemon = start_daemon("--interval", "3600", "--no-watch-worktree")
    daemon_pass(project)
    assert daemon.logged("agent back before its expiry was handled")
    assert events(project, "agent_stale") == []
    assert not run_record(project, "s/work").get("stalled")
    assert [c["agent"] for c in live_claims(project)] == ["ann"]
    assert inbox(project, "operator") == []


# --- run: agents -------------------------------------------------------------------------

RUN_PLAN = """\
phase: r
session: rs
tasks:
  job:
    agent: runner
    run: |
      set -e
      swarm hooks pre-task --task-id "$SWARM_TASK_ID"
      echo "hello from $SWARM_TASK_ID"
      swarm hooks post-task --task-id "$SWARM_TASK_ID" \\
        --summary "$SWARM_TASK_ID|$SWARM_AGENT_ID|$SWARM_SESSION_ID|$SWARM_DB|$(pwd)"
  crash:
    run: |
      swarm hooks pre-task --task-id "$SWARM_TASK_ID"
      echo "about to fail"
      exit 7
"""


def test_the_daemon_runs_a_ready_tasks_command(project: Project, start_daemon: StartDaemon) -> None:
    load(project, RUN_PLAN)
    start_daemon("--interval", "3600")
    wait_status(project, "r/job", "complete")
    receipt = project.value(layout.receipt_key("r/job"))
    assert receipt["agent"] == "runner"
    assert receipt["session"] == "rs"
    task, agent, session, db, cwd = receipt["summary"].split("|")
    assert (task, agent, session) == ("r/job", "runner", "rs")
    assert db == str(project.db.resolve())
    assert cwd == str(project.root.resolve())
    wait_until(
        lambda: run_record(project, "r/job").get("exit_code") is not None,
        what="the daemon to reap the agent",
    )
    run = run_record(project, "r/job")
    assert run["exit_code"] == 0
    [spawned] = [e for e in events(project, "agent_spawned") if e["task"] == "r/job"]
    assert isinstance(run["pid"], int)
    assert run["pid"] == spawned["data"]["pid"]
    assert spawned["agent"] == "runner"
    log = (project.root / ".swarm" / "logs" / "r.job.log").read_text()
    assert "task r/job started by runner" in log
    assert "hello from r/job" in log
    assert "task r/job complete" in log


def test_a_command_that_exits_non_zero_before_post_task_fails_the_task(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, RUN_PLAN)
    start_daemon("--interval", "3600")
    wait_status(project, "r/crash", "failed")
    run = run_record(project, "r/crash")
    assert run["exit_code"] == 7
    assert run["reason"] == "agent crash exited with code 7 before post-task"
    failed = [e for e in events(project, "task_failed") if e["task"] == "r/crash"]
    assert len(failed) == 1
    assert any(n["task"] == "r/crash" for n in inbox(project, "operator"))
    log = (project.root / ".swarm" / "logs" / "r.crash.log").read_text()
    assert "about to fail" in log
    assert project.value(layout.receipt_key("r/crash")) is None


PAIR = """\
phase: m
tasks:
  one:
    run: |
      set -e
      swarm hooks pre-task --task-id "$SWARM_TASK_ID"
      other=$(swarm memory get m/two/status)
      swarm hooks post-task --task-id "$SWARM_TASK_ID" --summary "$other"
  two:
    run: |
      set -e
      swarm hooks pre-task --task-id "$SWARM_TASK_ID"
      other=$(swarm memory get m/one/status)
      swarm hooks post-task --task-id "$SWARM_TASK_ID" --summary "$other"
"""


def first_rev(project: Project, key: str, predicate: Callable[[Any], bool]) -> int:
    with project.store() as store:
        return next(c.rev for c in store.history(key) if predicate(c.value))


def test_max_agents_1_never_runs_two_commands_at_once(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, PAIR)
    start_daemon("--interval", "3600", "--max-agents", "1")
    wait_status(project, "m/one", "complete")
    wait_status(project, "m/two", "complete")
    spawned = {
        name: first_rev(project, layout.run_key(f"m/{name}"), lambda v: bool(v and v.get("pid")))
        for name in ("one", "two")
    }
    first, second = sorted(spawned, key=spawned.__getitem__)
    done = first_rev(project, f"m/{first}/status", lambda v: v == "complete")
    # The second agent was started only after the first had finished...
    assert spawned[second] > done
    # ...and, while it ran, saw the first one complete; the first saw the second waiting.
    assert project.value(layout.receipt_key(f"m/{second}"))["summary"] == "complete"
    assert project.value(layout.receipt_key(f"m/{first}"))["summary"] == "ready"


# --- reading the change log ----------------------------------------------------------------


def test_a_revision_larger_than_the_daemons_batch_is_read_whole(
    project: Project, start_daemon: StartDaemon
) -> None:
    from coordinator.daemon.loop import BATCH

    load(project, "phase: big\ntasks:\n  first: {}\n  second:\n    requires: [first]\n")
    start_daemon("--interval", "3600", "--no-watch-worktree")
    wait_status(project, "big/first", "ready")
    # One transaction, more changes than a batch: the completion is its very last change.
    filler = [Put(f"test/filler/{n:05d}", "1") for n in range(BATCH + 100)]
    with project.store() as store:
        store.txn([], [*filler, Put("big/first/status", json.dumps("complete"))])
    wait_status(project, "big/second", "ready")


def test_the_daemon_starts_after_the_log_was_compacted_past_its_cursor(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, CHAIN)
    project.ok("daemon", "--once")
    cursor = project.value(layout.DAEMON_CURSOR)
    # While no daemon runs, the requirements complete and the log is compacted.
    finish(project, "design", "alice")
    finish(project, "api", "carol")
    project.ok("memory", "compact", "--keep", "0")
    with project.store() as store, pytest.raises(CompactedRevision):
        store.changes_since(cursor + 1)

    daemon = start_daemon("--interval", "3600", "--no-watch-worktree")
    wait_status(project, "p1/build", "ready")
    [reloaded] = daemon.logged("change log compacted past the cursor; reloading")
    assert reloaded["cursor"] == cursor
    assert [n["message"] for n in inbox(project, "bob")] == ["task p1/build is now ready"]
    daemon_pass(project)
    assert daemon.proc.poll() is None


# --- failures do not stop the daemon -------------------------------------------------------


def test_a_store_locked_past_the_busy_timeout_fails_one_pass_not_the_daemon(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, "phase: l\ntasks:\n  a: {}\n  b:\n    requires: [a]\n")
    project.env["SWARM_BUSY_TIMEOUT"] = "0.1"
    daemon = start_daemon("--interval", "3600", "--no-watch-worktree")
    wait_status(project, "l/a", "ready")
    with project.store() as store:
        store.put("test/lease", 1, ttl=2)
    daemon_pass(project)  # the daemon knows when the lease runs out

    # Another writer holds the store while the daemon's timer sweeps the lease.
    with hold_write_lock(project):
        wait_until(
            lambda: daemon.logged("pass failed") or daemon.proc.poll() is not None,
            what="the daemon's sweep to meet the lock",
        )
        assert daemon.proc.poll() is None, daemon.lines
        failed = daemon.logged("pass failed")[0]
        assert failed["kind"] == "StoreLocked"
        assert "locked" in failed["error"]

    finish(project, "a", "ann")
    wait_status(project, "l/b", "ready")
    wait_until(lambda: project.value("test/lease") is None, what="the lease swept")
    assert daemon.proc.poll() is None


def test_an_unwritable_dashboard_does_not_stop_the_daemon(
    project: Project, start_daemon: StartDaemon
) -> None:
    (project.root / "blocker").write_text("a file, not a directory\n")
    load(project, CHAIN)
    daemon = start_daemon("--interval", "3600", "--dashboard", "blocker/dashboard.md")
    wait_status(project, "p1/design", "ready")
    finish(project, "design", "alice")
    finish(project, "api", "carol")
    wait_status(project, "p1/build", "ready")
    # Dashboards are rendered beside the passes: the failure is logged soon after.
    wait_until(lambda: daemon.logged("dashboard not written"), what="the dashboard warning")
    assert daemon.proc.poll() is None


def test_a_stored_spec_with_an_invalid_agent_name_does_not_fail_every_pass(
    project: Project, start_daemon: StartDaemon
) -> None:
    from coordinator.plans.validate import plan_from_data

    plan = plan_from_data({"phase": "v", "tasks": {"odd": {}, "fine": {}}})
    # Written the way plan load did before it validated `agent:`.
    odd = plan.task("odd")._replace(agent="rev iewer")
    with project.store() as store:
        store.txn(
            [],
            [
                Put(layout.plan_key("v"), json.dumps({"phase": "v", "session": "v"})),
                Put(layout.spec_key("v/odd"), json.dumps(odd.to_json())),
                Put(layout.spec_key("v/fine"), json.dumps(plan.task("fine").to_json())),
            ],
        )
    daemon = start_daemon("--interval", "3600", "--no-watch-worktree")
    wait_status(project, "v/odd", "ready")
    wait_status(project, "v/fine", "ready")
    assert daemon.logged("notification not delivered: invalid agent name")
    assert not daemon.logged("pass failed")


def test_an_exception_group_is_reported_by_its_cause() -> None:
    from coordinator.cli.daemon import root_cause
    from memory.errors import StoreLocked

    cause = StoreLocked("memory.db is locked")
    group = BaseExceptionGroup("unhandled errors in a TaskGroup", [ValueError("x"), cause])
    assert root_cause(BaseExceptionGroup("outer", [group])) is cause
    plain = OSError("disk full")
    assert root_cause(ExceptionGroup("unhandled errors in a TaskGroup", [plain])) is plain


class ThreadLog:
    """Records which threads touch a container of the daemon's state."""

    def __init__(self) -> None:
        self.threads: set[int] = set()

    def note(self) -> None:
        self.threads.add(threading.get_ident())


def watched_dict(log: ThreadLog, data: dict[Any, Any]) -> dict[Any, Any]:
    """A dict that notes the thread of every method called on it."""

    def noting(name: str) -> Callable[..., Any]:
        method = getattr(dict, name)

        def call(self: dict[Any, Any], *args: Any, **kwargs: Any) -> Any:
            log.note()
            return method(self, *args, **kwargs)

        return call

    names = ["__getitem__", "__setitem__", "__delitem__", "__contains__", "__iter__", "__len__"]
    names += ["items", "keys", "values", "get", "pop", "setdefault", "update", "copy"]
    watched = type("WatchedDict", (dict,), {name: noting(name) for name in names})
    return watched(data)  # type: ignore[no-any-return]


def watched_set(log: ThreadLog, data: set[Any]) -> set[Any]:
    """A set that notes the thread of every method called on it."""

    def noting(name: str) -> Callable[..., Any]:
        method = getattr(set, name)

        def call(self: set[Any], *args: Any, **kwargs: Any) -> Any:
            log.note()
            return method(self, *args, **kwargs)

        return call

    names = ["__iter__", "__contains__", "__len__", "__or__", "add", "update", "union"]
    watched = type("WatchedSet", (set,), {name: noting(name) for name in names})
    return watched(data)  # type: ignore[no-any-return]


async def test_worker_threads_get_copies_of_the_daemons_state_not_the_state(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The work-tree watcher adds to `pending_edits` and asks the dashboard writer what it
    owns on the event loop while a pass runs claims, edits and dashboards in a worker
    thread: that thread must never touch those containers ("dictionary changed size
    during iteration")."""
    from coordinator.daemon.loop import Daemon

    monkeypatch.setenv("SWARM_EDIT_GRACE", "0")
    load(project, CHAIN)
    (project.root / "src").mkdir()
    (project.root / "src" / "app.py").write_text("print('edited')\n")
    board = project.root / "docs" / "board.md"
    daemon = Daemon(project.db, repo_root=project.root, watch_worktree=False, dashboard=board)
    touched = ThreadLog()
    daemon.upkeep.pending_edits = watched_dict(touched, {"src/app.py": daemon.clock() - 1})
    daemon.upkeep.dashboards._last = watched_dict(touched, {})
    daemon.upkeep.dashboards._paths = watched_set(touched, set(daemon.upkeep.dashboards._paths))  # type: ignore[assignment]
    daemon._store = await open_async_store(project.db)
    try:
        await daemon._load()
        await daemon.run_pass(daemon.clock(), full=True)
    finally:
        await daemon._store.close()

    assert touched.threads == {threading.get_ident()}
    # The work itself was done: the unannounced edit observed, the dashboard written.
    assert not daemon.upkeep.pending_edits
    [observation] = events(project, "observation")
    assert observation["data"]["path"] == "src/app.py"
    assert board.is_file()
    assert daemon.upkeep.dashboards.owns("docs/board.md")


# --- compaction ----------------------------------------------------------------------------


def test_the_daemon_compacts_the_change_log_but_never_past_its_cursor(
    project: Project, start_daemon: StartDaemon
) -> None:
    load(project, CHAIN)
    daemon = start_daemon("--interval", "3600", "--no-watch-worktree", "--keep-changes", "5")
    wait_status(project, "p1/design", "ready")
    finish(project, "design", "alice")
    daemon_pass(project)
    wait_until(lambda: daemon.logged("change log compacted"), what="a compaction")
    compactions = daemon.logged("change log compacted")
    # Through what the daemon had read, never further (its own writes of that pass stay).
    assert all(0 < entry["through"] <= entry["cursor"] for entry in compactions)
    with project.store() as store, pytest.raises(CompactedRevision):
        store.changes_since(1)
    assert daemon.stop() == 0

    # What the daemon had not read yet is still there: a restart catches up, no reload.
    cursor = project.value(layout.DAEMON_CURSOR)
    with project.store() as store:
        store.changes_since(cursor + 1)
    finish(project, "api", "carol")
    second = start_daemon("--interval", "3600", "--no-watch-worktree", "--keep-changes", "5")
    wait_status(project, "p1/build", "ready")
    assert not second.logged("change log compacted past the cursor; reloading")
    assert [n["message"] for n in inbox(project, "bob")] == ["task p1/build is now ready"]


def test_an_agent_started_by_a_killed_daemon_is_still_watched(
    project: Project, start_daemon: StartDaemon
) -> None:
    # The agent waits for a file the test creates, then fails before its post-task.
    load(
        project,
        """
phase: adopt
tasks:
  job:
    agent: worker
    run: "while [ ! -f go ]; do sleep 0.05; done; exit 4"
""",
    )
    first = start_daemon("--interval", "3600")
    wait_until(lambda: run_record(project, "adopt/job").get("pid"), what="the spawned agent")
    pid = run_record(project, "adopt/job")["pid"]
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    second = start_daemon("--interval", "3600")
    assert status(project, "adopt/job") == "ready"
    (project.root / "go").write_text("")
    wait_status(project, "adopt/job", "failed")
    reason = run_record(project, "adopt/job")["reason"]
    assert f"agent process {pid} ended before post-task" in reason
    assert second.logged("adopted agent ended")
    assert [e["task"] for e in events(project, "agent_spawned")] == ["adopt/job"]


def test_a_start_a_killed_daemon_left_unfinished_is_made_again(
    project: Project, start_daemon: StartDaemon
) -> None:
    from coordinator.daemon.loop import STARTING
    from coordinator.state import TaskRun, encode

    load(
        project,
        """
phase: redo
tasks:
  job:
    agent: worker
    run: "swarm hooks pre-task --task-id $T && swarm hooks post-task --task-id $T"
""".replace("$T", "$SWARM_TASK_ID"),
    )
    # What a daemon killed between marking the start and starting the process leaves.
    with project.store() as store:
        store.txn(
            [],
            [
                Put("redo/job/status", encode("ready")),
                Put(layout.run_key("redo/job"), encode(TaskRun(pid=STARTING).to_json())),
            ],
        )
    start_daemon("--interval", "3600")
    wait_status(project, "redo/job", "complete")
    assert run_record(project, "redo/job")["pid"] > 0
    assert len(events(project, "agent_spawned")) == 1
