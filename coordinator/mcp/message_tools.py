"""The `swarm mcp` tools for messages and the board: send_message, read_inbox,
swarm_status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from memory.store import Store

if TYPE_CHECKING:
    from coordinator.mcp.server import Caller, SwarmMCP


def add_message_tools(server: MCPServer[Any], swarm: SwarmMCP) -> None:
    """send_message, read_inbox, swarm_status."""

    @server.tool()
    async def send_message(
        message: Annotated[str, Field(description="What to tell them.")],
        to: Annotated[str | None, Field(description="One agent, by name.")] = None,
        task: Annotated[
            str | None, Field(description="Instead of `to`: the agent running this task.")
        ] = None,
        level: Annotated[Literal["info", "warn", "error"], Field(description="Urgency.")] = "info",
    ) -> dict[str, Any]:
        """Send a message to another agent's inbox (by name, or whoever runs a task), or to
        every live agent when neither is given: to ask for a file, warn of a change, or hand
        over work."""
        from coordinator.agents.sessions import notify

        if to is not None and task is not None:
            raise ToolError("give `to` or `task`, not both")

        def send(store: Store, caller: Caller) -> dict[str, Any]:
            recipients = notify(store, message, to=to, task=task, level=level, sender=caller.agent)
            return {"recipients": recipients}

        return await swarm.act(send)

    @server.tool()
    async def read_inbox(
        include_read: Annotated[
            bool, Field(description="Also show messages already read.")
        ] = False,
        mark_read: Annotated[bool, Field(description="Mark the shown messages read.")] = True,
    ) -> list[dict[str, Any]]:
        """Messages other agents and the coordinator sent you (claims granted to your wait,
        requests, warnings), oldest first; shown messages are marked read."""
        from coordinator.agents.sessions import ack, inbox

        def read(store: Store, caller: Caller) -> list[dict[str, Any]]:
            items = inbox(store, caller.name(), unread_only=not include_read)
            if mark_read:
                ack(store, [i for i in items if not i.note.read])
            return [i.note.to_json() for i in items]

        return await swarm.act(read)

    @server.tool()
    async def swarm_status(
        session_id: Annotated[
            str | None, Field(description="Only this session's plans (default: all).")
        ] = None,
    ) -> dict[str, Any]:
        """The whole board as `swarm status` shows it: progress by phase, every task's status
        and agent, gates, claims, conflicts, escalations and the latest events."""
        from coordinator.views.board import session_dashboard_view

        return await swarm.call(lambda store: session_dashboard_view(store, session_id))
