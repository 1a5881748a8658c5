"""File claims in a real git repository, with the hooks run as subprocesses."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from coordinator import layout
from memory.backends import open_store
from memory.errors import Refused
from tests.integration.conftest import SWARM, DaemonProcess, Project, wait_until

#: Every test of this suite that uses a project runs on SQLite and on PostgreSQL.
RUN_ON_EVERY_BACKEND = True


def claims(project: Project) -> list[dict[str, object]]:
    """The live claims, as `swarm claims --json` shows them."""
    result: list[dict[str, object]] = project.ok("claims", "--json").json()["claims"]
    return result


def conflicts(project: Project) -> list[dict[str, object]]:
    """The recorded conflicts, as `swarm conflicts list --json` shows them."""
    from coordinator.claims.conflicts import list_conflicts

    with project.store() as store:
        return [c.to_json() for c in list_conflicts(store)]


def observations(project: Project) -> list[dict[str, Any]]:
    """The observations, as `swarm conflicts observations --json` shows them."""
    from coordinator.claims.conflicts import list_observations

    with project.store() as store:
        return list_observations(store)


def events_of(project: Project, type_: str) -> list[dict[str, Any]]:
    """The events of one type, read in-process (cheap enough to poll)."""
    with project.store() as store:
        found = [r.value for r in store.list_prefix(layout.EVENTS)]
    return [e for e in found if isinstance(e, dict) and e.get("type") == type_]


def test_second_agent_is_refused_and_told_who_holds_the_file(project: Project) -> None:
    (project.root / "src").mkdir()
    (project.root / "src" / "app.py").write_text("print('hi')\n")
    first = project.ok(
        "hooks", "pre-edit", "--file", "src/app.py", "--agent", "alice", "--task", "p/t1"
    )
    assert "granted exclusive claim on src/app.py to alice" in first.stdout
    token = int(first.stdout.rsplit("fencing token ", 1)[1].rstrip(")\n"))

    again = project.ok("hooks", "pre-edit", "--file", "src/app.py", "--agent", "alice")
    assert f"fencing token {token}" in again.stdout  # idempotent for the holder

    second = project.swarm("hooks", "pre-edit", "--file", "./src/app.py", "--agent", "bob")
    assert second.code == 3
    assert "held exclusive by alice for task p/t1 since" in second.stderr
    assert "Traceback" not in second.stderr
    assert [c["agent"] for c in claims(project)] == ["alice"]


def test_shared_claims_coexist_and_an_exclusive_glob_conflicts(project: Project) -> None:
    project.ok("hooks", "pre-edit", "--file", "docs/a.md", "--agent", "a", "--mode", "shared")
    project.ok("hooks", "pre-edit", "--file", "docs/a.md", "--agent", "b", "--mode", "shared")
    refused = project.swarm("hooks", "pre-edit", "--file", "docs/**", "--agent", "c")
    assert refused.code == 3
    assert "docs/a.md is held shared by" in refused.stderr
    project.ok("hooks", "pre-edit", "--file", "src/**", "--agent", "c")
    inside = project.swarm("hooks", "pre-edit", "--file", "src/api/x.py", "--agent", "d")
    assert inside.code == 3
    assert "src/** is held exclusive by c" in inside.stderr


def test_paths_outside_the_repository_are_refused(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x")
    result = project.swarm("hooks", "pre-edit", "--file", str(outside), "--agent", "a")
    assert result.code == 1
    assert "outside the repository" in result.stderr
    link = project.root / "link.txt"
    link.symlink_to(outside)
    via_link = project.swarm("hooks", "pre-edit", "--file", "link.txt", "--agent", "a")
    assert via_link.code == 1, "a symlink is resolved before the check"


def test_wait_is_granted_within_a_second_of_the_release_with_the_daemon_running(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    start_daemon("--interval", "3600", "--no-watch-worktree")
    project.ok("hooks", "pre-task", "--task-id", "p/t1", "--agent", "alice")
    project.ok("hooks", "pre-edit", "--file", "a.txt", "--agent", "alice", "--task", "p/t1")
    waiter = subprocess.Popen(
        [SWARM, "hooks", "pre-edit", "--file", "a.txt", "--agent", "bob", "--wait", "30"],
        cwd=project.root,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: project.ok("claims", "--json").json()["queue"], what="bob to be queued")
    project.ok("hooks", "post-task", "--task-id", "p/t1", "--agent", "alice")
    out, err = waiter.communicate(timeout=1.0)
    assert waiter.returncode == 0, err
    assert "claim on a.txt to bob" in out
    assert [c["agent"] for c in claims(project)] == ["bob"]
    assert project.ok("claims", "--json").json()["queue"] == []


def test_the_daemon_grants_a_queued_claim_and_notifies_the_waiter(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    from coordinator.claims.queue import enqueue

    start_daemon("--interval", "3600", "--no-watch-worktree")
    project.ok("hooks", "pre-edit", "--file", "b.txt", "--agent", "alice")
    with project.store() as store:
        # a waiter that went quiet while its request is still live
        enqueue(store, "b.txt", "bob", None, "exclusive", lease=60)
    project.ok("claims", "release", "b.txt", env={"SWARM_AGENT_ID": "alice"})
    wait_until(lambda: [c["agent"] for c in claims(project)] == ["bob"], what="the grant")
    inbox = project.ok("inbox", "bob", "--json").json()
    assert any("queued claim on b.txt was granted" in n["message"] for n in inbox)


def queue(project: Project) -> list[dict[str, object]]:
    """The queued claim requests, as `swarm claims --json` shows them."""
    result: list[dict[str, object]] = project.ok("claims", "--json").json()["queue"]
    return result


def test_the_holder_renews_its_claim_while_another_agent_waits_for_it(project: Project) -> None:
    project.ok("hooks", "pre-task", "--task-id", "p/t1", "--agent", "alice")
    project.ok("hooks", "pre-edit", "--file", "src/**", "--agent", "alice", "--task", "p/t1")
    project.ok("hooks", "pre-edit", "--file", "a.txt", "--agent", "alice", "--task", "p/t1")
    waiter = subprocess.Popen(
        [SWARM, "hooks", "pre-edit", "--file", "a.txt", "--agent", "bob", "--wait", "30"],
        cwd=project.root,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: queue(project), what="bob to be queued")
        again = project.ok("hooks", "pre-edit", "--file", "a.txt", "--agent", "alice")
        assert "renewed exclusive claim on a.txt to alice" in again.stdout
        covered = project.ok("hooks", "pre-edit", "--file", "src/x.py", "--agent", "alice")
        assert "renewed exclusive claim on src/** to alice" in covered.stdout
        assert [r["agent"] for r in queue(project)] == ["bob"], "the holder did not queue"
        project.ok("hooks", "post-task", "--task-id", "p/t1", "--agent", "alice")
        out, err = waiter.communicate(timeout=30)
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.communicate()
    assert waiter.returncode == 0, err
    assert "granted exclusive claim on a.txt to bob" in out
    assert queue(project) == []


def test_an_abandoned_queue_entry_lapses_and_stops_blocking_the_file(project: Project) -> None:
    from coordinator.claims.grants import grant_claim, queued_requests
    from coordinator.claims.queue import enqueue
    from coordinator.errors import ClaimHeld

    with project.store() as store:
        enqueue(store, "d.txt", "bob", None, "exclusive", lease=1)  # its hook was killed
        with pytest.raises(ClaimHeld, match="bob is queued first"):
            grant_claim(store, "d.txt", "carol")  # while the request lives, it comes first
        wait_until(lambda: not queued_requests(store), what="the queue entry to lapse")
    taken = project.ok("hooks", "pre-edit", "--file", "d.txt", "--agent", "carol")
    assert "granted exclusive claim on d.txt to carol" in taken.stdout


def test_a_glob_may_not_climb_out_of_the_repository(project: Project) -> None:
    result = project.swarm("hooks", "pre-edit", "--file", "*/../../../etc/passwd", "--agent", "a")
    assert result.code == 1
    assert "may not hold '.' or '..'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert claims(project) == []


def run_hook(project: Project, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    """Run `swarm hooks ARGV...` in this process, so that a test can stand in for a part."""
    from hooks.run import main

    monkeypatch.chdir(project.root)
    return main(["--db", str(project.db), *argv])


def test_a_wait_that_ends_in_an_error_withdraws_its_queued_request(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import coordinator.claims.queue

    project.ok("hooks", "pre-edit", "--file", "e.txt", "--agent", "alice")

    def store_gives_up(*args: Any, **kwargs: Any) -> Any:
        raise Refused("claims on e.txt kept changing; try again")

    monkeypatch.setattr(coordinator.claims.queue, "grant_claim", store_gives_up)
    code = run_hook(
        project, monkeypatch, "pre-edit", "--file", "e.txt", "--agent", "bob", "--wait", "5"
    )
    assert code == 3
    assert "kept changing" in capsys.readouterr().err
    assert queue(project) == []


def test_a_grant_made_as_the_wait_runs_out_is_reported_not_refused(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import memory.watch
    from coordinator.claims.grants import release_claims
    from coordinator.claims.queue import grant_queued
    from coordinator.errors import ClaimHeld

    project.ok("hooks", "pre-edit", "--file", "f.txt", "--agent", "alice")

    def wait_times_out_as_the_daemon_grants(
        db_path: Path, seconds: float, attempt: Callable[[], Any], retry_on: type[BaseException]
    ) -> Any:
        with pytest.raises(ClaimHeld) as refused:
            attempt()
        with open_store(db_path) as store:
            release_claims(store, path="f.txt", agent="alice", actor="alice", force=False)
            assert [g.claim.agent for g in grant_queued(store)] == ["bob"]  # the daemon's pass
        raise refused.value

    monkeypatch.setattr(memory.watch, "retry_until", wait_times_out_as_the_daemon_grants)
    code = run_hook(
        project, monkeypatch, "pre-edit", "--file", "f.txt", "--agent", "bob", "--wait", "5"
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "granted exclusive claim on f.txt to bob" in out
    assert [c["agent"] for c in claims(project)] == ["bob"]
    assert queue(project) == []


def test_lease_expiry_hands_the_claim_over(project: Project) -> None:
    project.ok(
        "hooks", "pre-edit", "--file", "c.txt", "--agent", "alice", env={"SWARM_CLAIM_TTL": "1"}
    )
    taken = project.ok("hooks", "pre-edit", "--file", "c.txt", "--agent", "bob", "--wait", "15")
    assert "claim on c.txt to bob" in taken.stdout
    with project.store() as store:
        history = store.history(
            next(r.key for r in store.list_prefix("swarm/claims/") if r.key.endswith("/bob"))
        )
    assert [c.op for c in history] == ["put"]
    assert [c["agent"] for c in claims(project)] == ["bob"]


def test_sixteen_racing_processes_leave_exactly_one_holder(project: Project) -> None:
    def claim(n: int) -> int:
        proc = subprocess.run(
            [SWARM, "hooks", "pre-edit", "--file", "hot.py", "--agent", f"agent{n}"],
            cwd=project.root,
            env=project.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert "Traceback" not in proc.stderr
        return proc.returncode

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(claim, range(16)))
    assert sorted(codes) == [0] + [3] * 15
    holders = claims(project)
    assert len(holders) == 1
    assert holders[0]["agent"] == f"agent{codes.index(0)}"


def test_post_edit_records_the_edit_and_flags_unclaimed_and_concurrent_edits(
    project: Project,
) -> None:
    path = project.root / "main.py"
    path.write_text("a = 1\n")
    project.ok("hooks", "pre-edit", "--file", "main.py", "--agent", "alice")
    project.ok(
        "hooks", "post-edit", "--file", "main.py", "--agent", "alice", "--memory-key", "p/edit"
    )
    record = project.value("p/edit")
    assert record["agent"] == "alice"
    assert record["claimed"] is True
    assert len(record["sha256"]) == 64
    assert conflicts(project) == []

    path.write_text("a = 2\n")
    rogue = project.ok("hooks", "post-edit", "--file", "main.py", "--agent", "bob")
    assert "without holding a claim; held by alice" in rogue.stderr
    kinds = sorted(str(c["kind"]) for c in conflicts(project))
    assert kinds == ["concurrent_edit", "unclaimed_edit"]
    notes = project.ok("inbox", "alice", "--json").json()
    assert any("bob edited main.py" in n["message"] for n in notes)

    conflict_id = conflicts(project)[0]["id"]
    project.ok("conflicts", "resolve", str(conflict_id), "--keep", "alice")
    resolved = next(c for c in conflicts(project) if c["id"] == conflict_id)
    assert resolved["resolved"] is True
    assert resolved["resolution"]["keep"] == "alice"  # type: ignore[index]


def test_claims_are_released_at_post_task_and_session_end(project: Project) -> None:
    project.ok("hooks", "session-start", "--session-id", "s", "--agent", "alice")
    project.ok("hooks", "pre-task", "--task-id", "p/one", "--agent", "alice")
    project.ok("hooks", "pre-edit", "--file", "x.py", "--agent", "alice", "--task", "p/one")
    project.ok("hooks", "pre-edit", "--file", "y.py", "--agent", "alice", "--task", "p/other")
    project.ok("hooks", "post-task", "--task-id", "p/one", "--agent", "alice")
    assert [c["path"] for c in claims(project)] == ["y.py"]
    project.ok("hooks", "session-end", "--session-id", "s", "--agent", "alice")
    assert claims(project) == []


def test_a_claim_for_a_task_named_without_its_phase_is_released_at_its_post_task(
    project: Project,
) -> None:
    project.write_plan("phase: p7\ntasks:\n  config:\n    agent: dev\n")
    project.ok("plan", "load", "plan.yaml")
    project.ok("hooks", "pre-task", "--task-id", "config", "--agent", "dev")
    project.ok("hooks", "pre-edit", "--file", "cfg.rs", "--agent", "dev", "--task", "config")
    assert [c["task"] for c in claims(project)] == ["p7/config"]
    project.ok("hooks", "post-task", "--task-id", "config", "--agent", "dev")
    assert claims(project) == []


def test_forced_release_notifies_the_previous_holder(project: Project) -> None:
    project.ok("hooks", "pre-edit", "--file", "z.py", "--agent", "alice")
    refused = project.swarm("claims", "release", "z.py", env={"SWARM_AGENT_ID": "bob"})
    assert refused.code == 3
    project.ok("claims", "release", "z.py", "--force", env={"SWARM_AGENT_ID": "bob"})
    assert claims(project) == []
    notes = project.ok("inbox", "alice", "--json").json()
    assert any("z.py was released by bob" in n["message"] for n in notes)


def test_the_worktree_watcher_observes_an_edit_no_hook_announced(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    # Long enough for a post-edit hook on a loaded machine to land within the grace.
    project.env["SWARM_EDIT_GRACE"] = "2"
    (project.root / ".gitignore").write_text("*.log\n")
    start_daemon("--interval", "3600")
    project.ok("hooks", "pre-edit", "--file", "announced.py", "--agent", "alice")
    (project.root / "announced.py").write_text("ok = True\n")
    project.ok("hooks", "post-edit", "--file", "announced.py", "--agent", "alice")
    (project.root / "build.log").write_text("ignored by git\n")
    (project.root / "sneaky.py").write_text("print('nobody said')\n")

    found = wait_until(
        lambda: [o for o in observations(project) if o["path"] == "sneaky.py"],
        what="an unannounced_write observation",
    )
    # Nobody holds sneaky.py and no agent edited it: one writer, so no conflict.
    assert found[0]["kind"] == "unannounced_write"
    assert conflicts(project) == []
    paths = {o["path"] for o in observations(project)}
    assert paths == {"sneaky.py"}, "announced and ignored files are not observed"


def write_until_seen(
    project: Project, path: str, times: int, seen: Callable[[], int], what: str
) -> None:
    """Append to `path` `times` times, each time waiting until the daemon has judged the
    write (`seen()` reaches the number of writes so far), so that no two coalesce."""
    for n in range(1, times + 1):
        with (project.root / path).open("a") as file:
            file.write(f"line {n}\n")
        wait_until(lambda n=n: seen() >= n, what=f"{what} {n}")


def test_a_file_nobody_holds_written_six_times_is_one_observation_not_six_conflicts(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    """Issue 21, point 3: a log file nobody holds, written repeatedly with the daemon
    running, was six open conflicts; it is one observation with a count of six."""
    project.env["SWARM_EDIT_GRACE"] = "0.05"
    project.ok("plan", "load", str(project.write_plan("phase: p\nsession: s\ntasks:\n  t: {}\n")))
    start_daemon("--interval", "3600")

    def count() -> int:
        found = [o for o in observations(project) if o["path"] == "d.log"]
        return int(found[0]["count"]) if found else 0

    write_until_seen(project, "d.log", 6, count, "observation of write")

    [observation] = observations(project)
    assert observation["path"] == "d.log"
    assert observation["count"] == 6
    assert observation["last_seen"] > observation["first_seen"]
    assert conflicts(project) == []
    assert len(events_of(project, "observation")) == 1
    assert events_of(project, "conflict") == []
    listed = project.ok("conflicts", "list").stdout
    assert listed.startswith("no open conflicts")
    assert "1 file(s) changed with no post-edit" in listed
    shown = project.ok("conflicts", "observations").stdout
    assert shown.startswith("d.log  6 unannounced write(s)")
    status = project.ok("status").stdout
    assert "(observations, not conflicts): `d.log` (6 times, last " in status
    restored = project.ok("hooks", "session-restore", "--session-id", "s").stdout
    assert "d.log: 6 unannounced write(s), last " in restored


def test_a_held_file_written_six_times_with_no_post_edit_is_one_conflict(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    """Two writers on one file (the holder, and whoever wrote it unannounced) are one
    conflict however many writes: counted, with one event and one notice."""
    project.env["SWARM_EDIT_GRACE"] = "0.05"
    project.ok("hooks", "pre-edit", "--file", "h.py", "--agent", "alice")
    start_daemon("--interval", "3600")

    def count() -> int:
        found = [c for c in conflicts(project) if c["path"] == "h.py"]
        return sum(int(c.get("count") or 1) for c in found)  # type: ignore[call-overload]

    write_until_seen(project, "h.py", 6, count, "conflict sighting")

    [conflict] = conflicts(project)
    assert conflict["kind"] == "unannounced_edit"
    assert conflict["agents"] == ["alice"]
    assert conflict["count"] == 6
    assert "held by alice" in str(conflict["description"])
    assert observations(project) == []
    assert len(events_of(project, "conflict")) == 1
    notes = project.ok("inbox", "alice", "--json").json()
    assert [n["message"] for n in notes if "h.py" in n["message"]] == [
        f"conflict: {conflict['description']}"
    ]
    assert "(seen 6 times, last " in project.ok("conflicts", "list").stdout


def test_an_unannounced_write_to_a_file_an_agent_edited_recently_is_a_conflict(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coordinator.claims.edits import check_unannounced, record_edit

    monkeypatch.setenv("SWARM_EDIT_GRACE", "1")
    (project.root / "e.py").write_text("by alice\n")
    with project.store() as store:
        record_edit(store, project.root, "e.py", "alice")  # unclaimed: a conflict of its own
        (project.root / "e.py").write_text("by someone else\n")
        later = store.clock() + 5  # past the grace, inside the edit window
        first = check_unannounced(store, project.root, "e.py", later)
        again = check_unannounced(store, project.root, "e.py", later + 1)
    assert first is not None and first.conflict
    assert "edited recently by alice" in first.description
    assert again is not None and again.seen == 2
    kinds = sorted((str(c["kind"]), c.get("count")) for c in conflicts(project))
    assert kinds == [("unannounced_edit", 2), ("unclaimed_edit", 1)]


def test_repeated_unclaimed_edits_are_one_conflict_told_once(project: Project) -> None:
    (project.root / "m.py").write_text("x = 0\n")
    project.ok("hooks", "pre-edit", "--file", "m.py", "--agent", "alice")
    first = project.ok("hooks", "post-edit", "--file", "m.py", "--agent", "bob")
    assert "conflict: bob edited m.py without holding a claim; held by alice" in first.stderr
    for _ in range(2):
        again = project.ok("hooks", "post-edit", "--file", "m.py", "--agent", "bob")
    [conflict] = conflicts(project)
    assert conflict["kind"] == "unclaimed_edit"
    assert conflict["count"] == 3
    assert f"conflict #{conflict['id']} again, seen 3 times: bob edited m.py" in again.stderr
    for agent in ("alice", "bob"):
        notes = project.ok("inbox", agent, "--json").json()
        assert len([n for n in notes if n["message"].startswith("conflict: ")]) == 1
    assert len(events_of(project, "conflict")) == 1

    # Once resolved, the same conflict raised again is a new one, told again.
    project.ok("conflicts", "resolve", str(conflict["id"]), "--keep", "alice")
    anew = project.ok("hooks", "post-edit", "--file", "m.py", "--agent", "bob")
    assert "conflict: bob edited m.py" in anew.stderr
    assert [c["count"] for c in conflicts(project)] == [3, 1]
    assert len(events_of(project, "conflict")) == 2


def test_conflict_records_from_before_counting_still_show_and_resolve(project: Project) -> None:
    old = {
        "kind": "unannounced_edit",
        "path": "d.log",
        "agents": [],
        "description": "d.log changed on disk with no post-edit announcing it; nobody holds it",
        "detected_at": 1000.0,
        "resolved": False,
        "resolution": None,
        "sha256": None,
    }
    with project.store() as store:
        store.put(f"{layout.CONFLICTS}00000000001000000-0000abcdef", old)
    [shown] = project.ok("conflicts", "list", "--json").json()
    assert shown["description"] == old["description"]
    listed = project.ok("conflicts", "list").stdout
    assert "nobody holds it  [open]" in listed
    project.ok("conflicts", "resolve", str(shown["id"]), "--keep", "alice")
    assert project.ok("conflicts", "list").stdout.startswith("no open conflicts")


def test_tasks_with_overlapping_files_run_one_after_the_other(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    script = (
        "swarm hooks pre-task --task-id $SWARM_TASK_ID"
        " && swarm memory put trace/$SWARM_TASK_ID/start 1"
        " && swarm memory put trace/$SWARM_TASK_ID/end 1"
        " && swarm hooks post-task --task-id $SWARM_TASK_ID"
    )
    project.write_plan(
        f"""
phase: p
tasks:
  api_one:
    agent: a1
    files: ["src/api/**"]
    run: "{script}"
  api_two:
    agent: a2
    files: ["src/api/handlers.py"]
    run: "{script}"
  docs:
    agent: a3
    files: ["docs/**"]
    run: "{script}"
"""
    )
    project.ok("plan", "load", "plan.yaml")
    start_daemon("--interval", "3600", "--max-agents", "4", "--no-watch-worktree")
    wait_until(
        lambda: all(
            project.value(f"p/{t}/status") == "complete" for t in ("api_one", "api_two", "docs")
        ),
        timeout=30,
        what="all three tasks to complete",
    )
    with project.store() as store:
        revs = {
            task: (
                store.require(f"trace/p/{task}/start").mod_rev,
                store.require(f"trace/p/{task}/end").mod_rev,
            )
            for task in ("api_one", "api_two")
        }
        events = [json.loads(json.dumps(r.value)) for r in store.list_prefix("swarm/events/")]
    first, second = sorted(revs.values())
    assert first[1] < second[0], f"overlapping tasks ran at the same time: {revs}"
    spawned = [e["task"] for e in events if e["type"] == "agent_spawned"]
    assert sorted(spawned) == ["p/api_one", "p/api_two", "p/docs"]


def test_hooks_find_the_store_from_the_file_not_the_cwd(project: Project, tmp_path: Path) -> None:
    (project.root / "src").mkdir(exist_ok=True)
    held = project.root / "src" / "held.py"
    held.write_text("")
    project.ok("hooks", "pre-edit", "--file", "src/held.py", "--agent", "alice")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    refused = project.swarm(
        "hooks", "pre-edit", "--file", str(held), "--agent", "bob", cwd=elsewhere
    )
    assert refused.code == 3, refused
    assert "held exclusive by alice" in refused.stderr
