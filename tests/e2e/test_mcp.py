"""The real Claude Code using swarm's MCP tools (registered by `swarm init --claude` in
.mcp.json), with no SWARM_AGENT_ID, beside the real daemon: its scripted model starts task
a, claims a file, edits it, and finishes the task, after which task b (which requires a)
becomes ready. The server speaks for the agent the session's hooks derived, so the hooks
take the MCP claim as the agent's own and allow its edit.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.e2e.fake_model import FakeModelServer, Scenario, ToolCall, Turn
from tests.e2e.test_agents import agents_by_session
from tests.e2e.workspace import Workspace

PATH = "src/app.py"
PLAN = """\
phase: e2e
tasks:
  a:
    title: Change app.py
  b:
    title: Build on it
    requires: [a]
"""
TOOLS = ("task_start", "claim_files", "task_finish")


def mcp(tool: str, **args: object) -> ToolCall:
    """A call of one of swarm's MCP tools, by Claude Code's name for it."""
    return ToolCall(f"mcp__swarm__{tool}", args)


def test_claude_claims_and_finishes_through_mcp_and_the_dependent_becomes_ready(
    workspace_for: Callable[[str], Workspace], model: FakeModelServer
) -> None:
    space = workspace_for("claude")
    (space.repo / "plan.yaml").write_text(PLAN, encoding="utf-8")
    space.swarm("plan", "load", "plan.yaml")
    space.daemon()
    space.wait_status("e2e/a", "ready")
    assert space.status("e2e/b") == "pending"

    tag = model.model.add(
        Scenario(
            "mcp",
            [
                Turn([mcp("task_start", task_id="e2e/a")]),
                Turn([mcp("claim_files", paths=[PATH])]),
                *space.client.edit(space.repo, PATH, "first = 0", "first = 1"),
                Turn([mcp("task_finish", task_id="e2e/a", summary="first is 1")], gate="finish"),
                Turn(text="finished a"),
            ],
        )
    )
    allowed = [f"mcp__swarm__{tool}" for tool in TOOLS]
    session = space.start("mcp", f"{tag} Do task e2e/a.", "--allowedTools", *allowed)

    # Started, claimed and edited through the session's own agent.
    session.wait_at_gate(model, "finish")
    started, claimed, _read, edited = model.model.tool_results("mcp")
    [agent] = agents_by_session(space).values()
    assert agent.startswith("claude-")
    assert json.loads(started)["agent"] == agent, started
    # A list result reaches the model as its structured content, {"result": [...]}.
    assert [c["agent"] for c in json.loads(claimed)["result"]] == [agent], claimed
    [held] = space.claims()
    assert (held["agent"], held["path"], held["task"]) == (agent, PATH, "e2e/a")
    # The PreToolUse hook took the claim for the agent's own: the edit went through.
    assert "swarm:" not in edited, edited
    assert space.read(PATH) == "first = 1\nsecond = 0\n"
    assert space.edits() == {(agent, PATH)}
    assert space.status("e2e/b") == "pending"

    # task_finish completes a and releases its claim; the daemon makes b ready.
    model.model.open_gate("finish")
    assert session.wait() == 0, session.output()
    finished = json.loads(model.model.tool_results("mcp")[-1])
    assert (finished["task"], finished["status"]) == ("e2e/a", "complete"), finished
    assert space.status("e2e/a") == "complete"
    assert space.claims() == []
    space.wait_status("e2e/b", "ready")
    assert model.model.unexpected() == []
