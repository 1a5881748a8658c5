"""`swarm mcp` with no SWARM_AGENT_ID speaks for the agent its client's hooks registered: two
client processes (tests/integration/fake_client.py), each running a Claude Code hook through
`sh -c` and `swarm mcp` as its children, are told apart, and the hooks see each one's MCP
claims as its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from coordinator.agents.sessions import live_agents
from coordinator.mcp.server import NO_IDENTITY
from hooks.adapters import derived_agent_name
from tests.integration.conftest import SWARM, Project

CLIENT = Path(__file__).with_name("fake_client.py")


def run_client(project: Project, session: str) -> dict[str, Any]:
    """Run one fake client session to its end; what it saw."""
    (project.root / "src").mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, str(CLIENT), SWARM, str(project.root), session],
        cwd=project.root,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_the_server_speaks_for_the_agent_its_clients_hooks_registered(project: Project) -> None:
    first = derived_agent_name("claude", "session-one")
    seen = run_client(project, "session-one")

    # Before the session's first hook the server does not know whom it speaks for...
    assert seen["before"] == {"error": f"Error executing tool claim_files: {NO_IDENTITY}"}
    # ...and once SessionStart has run, the same server (asked lazily) does.
    assert seen["start"]["code"] == 0, seen["start"]["stderr"]
    assert seen["claim"] == {"agent": first}
    # The hooks see the claim as the agent's own: the edit is allowed, silently.
    assert seen["pre"] == {"code": 0, "stdout": "", "stderr": ""}

    # Another client process, another session: its server is not taken for the first.
    second = derived_agent_name("claude", "session-two")
    other = run_client(project, "session-two")
    assert other["claim"]["error"].startswith(
        f"Error executing tool claim_files: src/app.py is held exclusive by {first}"
    )
    denial = json.loads(other["pre"]["stdout"])["hookSpecificOutput"]
    assert denial["permissionDecision"] == "deny"
    assert f"held exclusive by {first}" in denial["permissionDecisionReason"]
    with project.store() as store:
        assert {a.name for a in live_agents(store)} == {first, second}
