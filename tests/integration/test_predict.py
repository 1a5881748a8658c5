"""Predicting merge conflicts between branches of a real repository, and recording them."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from coordinator import layout
from coordinator.git.predict import PairConflict, predict_conflicts, record_merge_conflicts
from tests.integration.conftest import DaemonProcess, Project, wait_until

BASE = "line 1\nline 2\nline 3\n"


def git(project: Project, *args: str) -> str:
    """Run git in the project with its isolated environment (identity set)."""
    return subprocess.run(
        ["git", *args],
        cwd=project.root,
        env=project.env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def branch_with(project: Project, branch: str, files: dict[str, str]) -> None:
    """Create `branch` from main with `files` written and committed; return to main."""
    git(project, "checkout", "-q", "-b", branch, "main")
    for name, text in files.items():
        (project.root / name).write_text(text)
        git(project, "add", name)
    git(project, "commit", "-q", "-m", f"{branch} work")
    git(project, "checkout", "-q", "main")


@pytest.fixture
def repo(project: Project) -> Project:
    """main with shared.txt and other.txt; feat-a and feat-b edit line 1 of shared.txt
    differently; feat-c edits only other.txt."""
    (project.root / "shared.txt").write_text(BASE)
    (project.root / "other.txt").write_text(BASE)
    git(project, "add", "shared.txt", "other.txt")
    git(project, "commit", "-q", "-m", "base")
    branch_with(project, "feat-a", {"shared.txt": BASE.replace("line 1", "line one (A)")})
    branch_with(project, "feat-b", {"shared.txt": BASE.replace("line 1", "LINE 1 (B)")})
    branch_with(project, "feat-c", {"other.txt": BASE.replace("line 3", "line three (C)")})
    return project


def test_two_branches_editing_the_same_lines_conflict(repo: Project) -> None:
    result = repo.swarm("conflicts", "predict", "feat-a", "feat-b", "--json")
    assert result.code == 3, result.stderr
    data = result.json()
    assert data["branches"] == ["feat-a", "feat-b"]
    assert data["pairs"] == 1
    assert data["conflicts"] == [
        {"branches": ["feat-a", "feat-b"], "files": ["shared.txt"], "agents": []}
    ]
    assert result.stderr == "swarm: error: 1 pair of branches would conflict on merge\n"


def test_the_text_report_names_the_files(repo: Project) -> None:
    result = repo.swarm("conflicts", "predict", "feat-a", "feat-b", "feat-c")
    assert result.code == 3
    assert result.stdout == "feat-a x feat-b: 1 file would conflict\n  shared.txt\n"


def test_branches_editing_different_files_do_not_conflict(repo: Project) -> None:
    before = git(repo, "status", "--porcelain"), git(repo, "rev-parse", "HEAD")
    result = repo.swarm("conflicts", "predict", "feat-a", "feat-c")
    assert result.code == 0, result.stderr
    assert result.stdout == "no conflicts predicted among feat-a, feat-c (1 pair(s))\n"
    data = repo.swarm("conflicts", "predict", "feat-a", "feat-c", "--json").json()
    assert data["conflicts"] == []
    # Nothing was merged: the work tree and HEAD are as they were.
    assert (git(repo, "status", "--porcelain"), git(repo, "rev-parse", "HEAD")) == before


def test_an_unknown_branch_is_one_error_line(repo: Project) -> None:
    result = repo.swarm("conflicts", "predict", "feat-a", "no-such-branch")
    assert result.code == 1
    assert result.stderr == "swarm: error: unknown branch 'no-such-branch'\n"


def test_live_agents_branches_are_used_by_default(repo: Project) -> None:
    repo.ok("hooks", "session-start", "--session-id", "S", "--agent", "A", "--branch", "feat-a")
    repo.ok("hooks", "session-start", "--session-id", "S", "--agent", "B", "--branch", "feat-b")
    result = repo.swarm("conflicts", "predict", "--json")
    assert result.code == 3, result.stderr
    data = result.json()
    assert sorted(data["branches"]) == ["feat-a", "feat-b"]
    [conflict] = data["conflicts"]
    assert sorted(conflict["branches"]) == ["feat-a", "feat-b"]
    assert conflict["files"] == ["shared.txt"]
    assert sorted(conflict["agents"]) == ["A", "B"]
    text = repo.swarm("conflicts", "predict")
    assert "feat-a (A)" in text.stdout
    assert "feat-b (B)" in text.stdout


def test_a_worktree_agent_is_compared_by_its_checked_out_branch(repo: Project) -> None:
    worktree = repo.root.parent / "wt-b"
    git(repo, "worktree", "add", "-q", str(worktree), "feat-b")
    repo.ok("hooks", "session-start", "--session-id", "S", "--agent", "A", "--branch", "feat-a")
    repo.ok(
        "hooks", "session-start", "--session-id", "S", "--agent", "B", "--worktree", str(worktree)
    )
    data = repo.swarm("conflicts", "predict", "--json").json()
    assert sorted(data["branches"]) == ["feat-a", "feat-b"]
    assert sorted(data["conflicts"][0]["agents"]) == ["A", "B"]


def test_an_agent_branch_that_does_not_exist_yet_is_skipped(repo: Project) -> None:
    repo.ok("hooks", "session-start", "--session-id", "S", "--agent", "A", "--branch", "feat-a")
    repo.ok("hooks", "session-start", "--session-id", "S", "--agent", "N", "--branch", "not-yet")
    result = repo.swarm("conflicts", "predict", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["skipped"] == ["not-yet"]
    assert "skipping not-yet (agent N): no such branch" in result.stderr


def test_no_agents_and_no_branches_is_nothing_to_compare(repo: Project) -> None:
    result = repo.swarm("conflicts", "predict")
    assert result.code == 0
    assert "nothing to compare" in result.stdout


def test_conflicts_without_a_subcommand_prints_help(repo: Project) -> None:
    result = repo.ok("conflicts")
    assert "predict" in result.stdout
    assert result.stdout.startswith("Usage: swarm conflicts")


def test_predict_conflicts_returns_the_conflicting_pairs(repo: Project) -> None:
    found = predict_conflicts(repo.root, ["feat-a", "feat-b", "feat-c", "feat-a"])
    assert found == [PairConflict("feat-a", "feat-b", ("shared.txt",))]


def test_record_merge_conflicts_records_once(repo: Project) -> None:
    repo.ok("hooks", "session-start", "--session-id", "S", "--agent", "A", "--branch", "feat-a")
    repo.ok("hooks", "session-start", "--session-id", "S", "--agent", "B", "--branch", "feat-b")
    predictions = predict_conflicts(repo.root, ["feat-a", "feat-b"])
    with repo.store() as store:
        first = record_merge_conflicts(store, predictions, 1000.0)
        again = record_merge_conflicts(store, predictions, 1001.0)
        # The same pair seen the other way round is the same conflict.
        swapped = [PairConflict(p.b, p.a, p.files) for p in predictions]
        assert record_merge_conflicts(store, swapped, 1002.0) == []
        records = store.list_prefix(layout.CONFLICTS)
        events = [r.value for r in store.list_prefix(layout.EVENTS)]
        inbox_a = store.list_prefix(layout.inbox_prefix("A"))
        inbox_b = store.list_prefix(layout.inbox_prefix("B"))
    assert first == predictions
    assert again == []
    [record] = records
    assert isinstance(record.value.pop("id"), int)
    assert record.value == {
        "kind": "merge",
        "path": "shared.txt",
        "files": ["shared.txt"],
        "agents": ["A", "B"],
        "branches": ["feat-a", "feat-b"],
        "description": "branches feat-a and feat-b would conflict on merge in 1 file: shared.txt",
        "detected_at": 1000.0,
        "resolved": False,
        "resolution": None,
        # Predicted again, then the other way round: the same conflict, seen three times.
        "count": 3,
        "last_seen": 1002.0,
    }
    assert [e["type"] for e in events].count("conflict") == 1
    assert len(inbox_a) == 1
    assert len(inbox_b) == 1
    assert "feat-a and feat-b" in inbox_a[0].value["message"]


def test_a_resolved_or_changed_conflict_is_recorded_anew(repo: Project) -> None:
    predictions = predict_conflicts(repo.root, ["feat-a", "feat-b"])
    with repo.store() as store:
        assert record_merge_conflicts(store, predictions, 1000.0, owners={}) == predictions
        [record] = store.list_prefix(layout.CONFLICTS)
        store.put(record.key, {**record.value, "resolved": True})
        assert record_merge_conflicts(store, predictions, 1001.0, owners={}) == predictions
        wider = [PairConflict("feat-a", "feat-b", ("shared.txt", "other.txt"))]
        assert record_merge_conflicts(store, wider, 1002.0, owners={}) == wider
        assert len(store.list_prefix(layout.CONFLICTS)) == 3


def test_the_daemon_predicts_conflicts_between_agent_branches(
    repo: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    from coordinator.claims.conflicts import list_conflicts

    start_daemon("--interval", "3600", "--no-watch-worktree")
    repo.ok("hooks", "session-start", "--session-id", "s", "--agent", "ann", "--branch", "feat-a")
    repo.ok("hooks", "session-start", "--session-id", "s", "--agent", "ben", "--branch", "feat-c")

    def merge_conflicts() -> list[dict[str, object]]:
        with repo.store() as store:
            return [c.data for c in list_conflicts(store) if c.data.get("kind") == "merge"]

    # feat-a and feat-c touch different files: the daemon has looked once it has caught up.
    cursor = repo.value("swarm/daemon/cursor") or 0
    wait_until(lambda: (repo.value("swarm/daemon/cursor") or 0) > cursor, what="the daemon's pass")
    assert merge_conflicts() == []
    repo.ok("hooks", "session-start", "--session-id", "s", "--agent", "cat", "--branch", "feat-b")
    found = wait_until(merge_conflicts, what="a predicted merge conflict")
    assert found[0]["branches"] == ["feat-a", "feat-b"]
    assert found[0]["files"] == ["shared.txt"]
    assert sorted(found[0]["agents"]) == ["ann", "cat"]  # type: ignore[arg-type]
    inbox = repo.ok("inbox", "ann", "--json").json()
    assert any("shared.txt" in n["message"] for n in inbox)
