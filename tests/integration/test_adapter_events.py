"""The events the clients added (issue 21, point 10), through the real `swarm hooks claude`
and `swarm hooks codex` on fixture payloads (tests/fixtures/adapters) shaped as Claude Code
2.1.337 and Codex 0.171.0 send them: SubagentStart registers the subagent like a session;
PostToolBatch brings the notifications that arrived during a turn and records no edit
(its calls' results are the texts the model saw, refused and failed calls alike);
CwdChanged registers the agent where it moved, with the work tree it is in; WorktreeCreate
and WorktreeRemove make and remove the worktree Claude Code would, and record it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from coordinator import layout
from coordinator.agents.client_config import settings_for
from hooks.adapters import derived_agent_name
from tests.integration.conftest import Project, git_env
from tests.integration.test_adapters import (
    NOTICE,
    assert_one_line,
    edits,
    hook,
    load_fixture,
    repo,
    rival_holds,
    silent,
    unread,
)

__all__ = ["repo"]  # the fixture, imported from the adapter tests

SESSION = "3f2a9c1e-8b7d-4e21-9c3a-0d5e6f7a8b9c"
AGENT = derived_agent_name("claude", SESSION)


def registration(project: Project, agent: str) -> dict[str, Any] | None:
    """The agent's live registration in the project's store, or None."""
    with project.store() as store:
        record = store.get(layout.agent_key(agent))
    return None if record is None else dict(record.value)


def events(project: Project, kind: str) -> list[dict[str, Any]]:
    """The store's events of type `kind`."""
    with project.store() as store:
        found = [r.value for r in store.list_prefix(layout.EVENTS)]
    return [e for e in found if e["type"] == kind]


def context(result: Any, event: str) -> str:
    """The additionalContext of an answer to `event`."""
    assert result.code == 0, result
    out = json.loads(result.stdout)
    assert out["hookSpecificOutput"]["hookEventName"] == event
    return str(out["hookSpecificOutput"]["additionalContext"])


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` with a test identity."""
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=git_env(), check=True, capture_output=True, text=True
    )
    return proc.stdout


def committed(project: Project) -> Project:
    """The project with one commit (so that worktrees can be made from HEAD)."""
    (project.root / "README").write_text("hello\n")
    git(project.root, "add", "README")
    git(project.root, "commit", "-q", "-m", "initial")
    return project


# --- SubagentStart -------------------------------------------------------------------------


def test_claude_subagent_start_registers_the_subagent_and_tells_it_who_it_is(
    repo: Project,
) -> None:
    payload = load_fixture("claude-SubagentStart", repo.root)
    sub = derived_agent_name("claude", SESSION, payload["agent_id"])
    text = context(hook(repo, "claude", payload), "SubagentStart")
    assert f"you are agent {sub}" in text
    assert "You hold no files." in text
    info = registration(repo, sub)
    assert info is not None
    assert info["session"] == SESSION
    assert registration(repo, AGENT) is None  # the session's own agent is not this one


def test_codex_subagent_start_registers_the_subagent(repo: Project) -> None:
    payload = load_fixture("codex-SubagentStart", repo.root)
    sub = derived_agent_name("codex", payload["session_id"], payload["agent_id"])
    assert f"you are agent {sub}" in context(hook(repo, "codex", payload), "SubagentStart")
    assert registration(repo, sub) is not None


# --- PostToolBatch -------------------------------------------------------------------------


def test_post_tool_batch_brings_new_notifications_and_records_no_edit(repo: Project) -> None:
    rival_holds(repo, "src/held.py")
    repo.ok("hooks", "notify", "--to", AGENT, "--message", NOTICE)
    payload = load_fixture("claude-PostToolBatch", repo.root)
    text = context(hook(repo, "claude", payload), "PostToolBatch")
    assert NOTICE in text
    assert unread(repo, AGENT) == []  # delivered once
    # The refused Write and the failed Edit are in the batch like the edit that happened:
    # PostToolUse, fired for that one alone, is what records it.
    assert edits(repo) == []
    assert registration(repo, AGENT) is not None  # liveness renewed (registered here)
    silent(hook(repo, "claude", payload))  # nothing new: nothing to say


def test_post_tool_batch_never_fails_closed_with_exit_2(repo: Project) -> None:
    payload = load_fixture("claude-PostToolBatch", repo.root)
    del payload["session_id"]
    result = hook(repo, "claude", payload, env={"SWARM_FAIL_CLOSED": "1"})
    assert result.code == 1  # exit 2 would stop Claude Code's agentic loop
    assert_one_line(result.stderr, "swarm: error:")


# --- CwdChanged ----------------------------------------------------------------------------


def test_cwd_changed_into_another_repository_registers_the_agent_there(
    repo: Project, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    elsewhere = Project(other, repo.env)
    elsewhere.ok("init")
    (other / "lib.py").write_text("x = 1\n")
    assert hook(repo, "claude", load_fixture("claude-SessionStart", repo.root)).code == 0
    payload = load_fixture("claude-CwdChanged", repo.root, new_cwd=str(other))
    silent(hook(repo, "claude", payload))
    info = registration(elsewhere, AGENT)
    assert info is not None
    assert info["worktree"] == str(other)
    # Later payloads carry the new cwd: an edit there is judged by that repository's store.
    pre = load_fixture("claude-PreToolUse", repo.root, cwd=str(other))
    pre["tool_input"]["file_path"] = str(other / "lib.py")
    silent(hook(repo, "claude", pre))
    with elsewhere.store() as store:
        held = [r.value["path"] for r in store.list_prefix(layout.CLAIMS)]
    assert held == ["lib.py"]


def test_cwd_changed_into_a_worktree_makes_it_the_agents_worktree(repo: Project) -> None:
    committed(repo)
    linked = repo.root / ".claude" / "worktrees" / "feature"
    git(repo.root, "worktree", "add", "-q", "-b", "feature", str(linked))
    silent(hook(repo, "claude", load_fixture("claude-CwdChanged", repo.root)))
    assert registration(repo, AGENT)["worktree"] == str(repo.root.resolve())  # type: ignore[index]
    payload = load_fixture("claude-CwdChanged", repo.root, new_cwd=str(linked / "src"))
    (linked / "src").mkdir()
    silent(hook(repo, "claude", payload))
    assert registration(repo, AGENT)["worktree"] == str(linked.resolve())  # type: ignore[index]


def test_cwd_changed_out_of_every_store_says_nothing(repo: Project, tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    silent(hook(repo, "claude", load_fixture("claude-CwdChanged", repo.root, new_cwd=str(outside))))
    assert registration(repo, AGENT) is None


# --- WorktreeCreate and WorktreeRemove -----------------------------------------------------


def test_worktree_create_makes_claude_codes_worktree_and_answers_its_path(
    repo: Project,
) -> None:
    committed(repo)
    payload = load_fixture("claude-WorktreeCreate", repo.root)
    made = repo.root / ".claude" / "worktrees" / "bright-running-fox"
    result = hook(repo, "claude", payload)
    assert (result.code, result.stdout, result.stderr) == (0, f"{made}\n", "")
    assert (made / "README").read_text() == "hello\n"
    assert git(made, "rev-parse", "--abbrev-ref", "HEAD").strip() == "worktree-bright-running-fox"
    [event] = events(repo, "worktree_created")
    assert (event["agent"], event["message"]) == (AGENT, str(made))
    # A resumed session asks again: the same worktree, made once.
    assert hook(repo, "claude", payload).stdout == f"{made}\n"
    assert len(events(repo, "worktree_created")) == 1


def test_worktree_create_refuses_a_name_that_is_not_one_segment(repo: Project) -> None:
    committed(repo)
    payload = load_fixture("claude-WorktreeCreate", repo.root)
    payload["name"] = "../escape"
    result = hook(repo, "claude", payload)
    assert result.code == 1  # any failure exit makes Claude Code give up the worktree
    assert "not one path segment" in assert_one_line(result.stderr, "swarm: error:")
    assert not (repo.root.parent / "escape").exists()


def test_worktree_remove_removes_it_but_keeps_one_with_changes(repo: Project) -> None:
    committed(repo)
    made = repo.root / ".claude" / "worktrees" / "bright-running-fox"
    hook(repo, "claude", load_fixture("claude-WorktreeCreate", repo.root))
    (made / "README").write_text("changed\n")
    remove = load_fixture("claude-WorktreeRemove", repo.root)
    refused = hook(repo, "claude", remove)
    assert refused.code == 1
    assert "git worktree failed" in assert_one_line(refused.stderr, "swarm: error:")
    assert (made / "README").read_text() == "changed\n"  # no work lost
    git(made, "checkout", "--", "README")
    silent(hook(repo, "claude", remove))
    assert not made.exists()
    [event] = events(repo, "worktree_removed")
    assert (event["agent"], event["message"]) == (AGENT, str(made))


# --- what swarm init --claude installs -----------------------------------------------------


def test_init_claude_installs_the_new_events_but_not_the_worktree_ones(project: Project) -> None:
    project.ok("init", "--claude")
    installed = json.loads((project.root / ".claude" / "settings.json").read_text())["hooks"]
    for event in ("SubagentStart", "PostToolBatch", "CwdChanged"):
        assert installed[event] == settings_for("claude").entries[event]
    # A WorktreeCreate hook would replace Claude Code's own `git worktree add`.
    assert "WorktreeCreate" not in installed
    assert "WorktreeRemove" not in installed
