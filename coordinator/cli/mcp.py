"""`swarm mcp`: serve the swarm to an agent as MCP tools and resources over stdio."""

from __future__ import annotations

import os

import click

from coordinator.cli.common import CliState, pass_state


@click.command("mcp")
@click.option(
    "--agent",
    metavar="NAME",
    help="The agent this server speaks for, when SWARM_AGENT_ID is not set (default: the "
    "agent its client's hooks registered, found from the client process).",
)
@click.option(
    "--session-id",
    help="The session tasks are started in (default: $SWARM_SESSION_ID, else the session of "
    "the agent found from the client's hooks).",
)
@pass_state
def mcp_command(state: CliState, agent: str | None, session_id: str | None) -> None:
    """Serve MCP tools (memory, tasks, claims, messages) and resources (dashboard, plans,
    events) on stdin/stdout; an agent's MCP client starts it (`swarm init --claude` and
    the other agent flags register it)."""
    from coordinator.mcp.server import agent_identity, serve_stdio

    serve_stdio(
        state.db_path,
        agent_identity(agent, os.environ),
        session_id or os.environ.get("SWARM_SESSION_ID"),
    )
