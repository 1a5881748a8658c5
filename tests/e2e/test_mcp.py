"""The real Claude Code, Codex and Gemini CLI using swarm's MCP tools (registered by `swarm
init --<client>`), with no SWARM_AGENT_ID, beside the real daemon: the scripted model
starts task a, claims a file, edits it, and finishes the task (only task_finish completes
it: no hook does on Stop by default), after which task b (which requires a) becomes ready.
The server speaks for the agent the session's hooks derived, so the hooks take the MCP
claim as the agent's own and allow its edit.

Codex runs a model that offers MCP tools but no apply_patch (see `Client.mcp_options`): its
session does not edit; its claim is still checked to be its hooks' agent's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

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


def run_of(space: Workspace, task: str) -> dict[str, Any]:
    """The task's run record (who runs it)."""
    record = json.loads(space.swarm("memory", "get", f"swarm/tasks/{task}/run", "--json"))
    value: dict[str, Any] = record["value"]
    return value


@pytest.mark.parametrize("name", ["claude", "codex", "gemini"])
def test_a_session_claims_and_finishes_through_mcp_and_the_dependent_becomes_ready(
    name: str, workspace_for: Callable[[str], Workspace], model: FakeModelServer
) -> None:
    space = workspace_for(name)
    client = space.client
    edits = client.edits_beside_mcp

    def mcp(tool: str, **args: object) -> ToolCall:
        return ToolCall(client.mcp_tool("swarm", tool), args)

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
                *(client.edit(space.repo, PATH, "first = 0", "first = 1") if edits else []),
                Turn([mcp("task_finish", task_id="e2e/a", summary="first is 1")], gate="finish"),
                Turn(text="finished a"),
            ],
        )
    )
    allowed = [client.mcp_tool("swarm", tool) for tool in TOOLS]
    session = space.start("mcp", f"{tag} Do task e2e/a.", *client.mcp_options(allowed))

    # Started, claimed and edited through the session's own agent.
    session.wait_at_gate(model, "finish")
    [agent] = agents_by_session(space).values()
    assert agent.startswith(f"{name}-")
    results = model.model.tool_results("mcp")
    assert agent in results[0], results  # task_start's answer names the agent
    assert agent in results[1], results  # and so does claim_files'
    assert run_of(space, "e2e/a")["agent"] == agent
    [held] = space.claims()
    assert (held["agent"], held["path"], held["task"]) == (agent, PATH, "e2e/a")
    if edits:
        # The edit hook (PreToolUse, BeforeTool) took the claim for the agent's own.
        assert "swarm:" not in results[-1], results
        assert space.read(PATH) == "first = 1\nsecond = 0\n"
        assert space.edits() == {(agent, PATH)}
    assert space.status("e2e/b") == "pending"

    # task_finish completes a and releases its claim; the daemon makes b ready.
    model.model.open_gate("finish")
    assert session.wait() == 0, session.output()
    assert space.status("e2e/a") == "complete"
    assert space.claims() == []
    space.wait_status("e2e/b", "ready")
    assert model.model.unexpected() == []
