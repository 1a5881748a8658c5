"""Notifications written by reconcilers (pure)."""

from __future__ import annotations

import structlog

from coordinator.claims.grants import check_agent_name
from coordinator.state import notify_ops
from memory.errors import SwarmError
from memory.records import Put

#: Who receives notifications that concern no single agent (escalations, dead agents).
OPERATOR = "operator"


def tell(
    agent: str | None, message: str, now: float, task_id: str, level: str = "info"
) -> list[Put]:
    """Deliver `message` to `agent`'s inbox from the daemon (nothing without an agent, or
    for a name no inbox key can hold: a spec stored before plans validated `agent:`)."""
    if not agent:
        return []
    try:
        check_agent_name(agent)
    except SwarmError:
        # Its inbox key would fail the whole transaction, and with it every pass.
        structlog.get_logger("swarm.daemon").warning(
            "notification not delivered: invalid agent name", agent=agent
        )
        return []
    return notify_ops(agent, message, now, level=level, sender="swarm-daemon", task=task_id)
