"""The `swarm mcp` resources (the dashboard, the event log, the plans and each plan) and
what they hold, with the digests the watcher compares to tell which changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer

from memory.errors import SwarmError
from memory.store import Store

if TYPE_CHECKING:
    from coordinator.mcp.server import SwarmMCP

DASHBOARD_URI = "swarm://dashboard"
EVENTS_URI = "swarm://events"
PLANS_URI = "swarm://plans"
PLAN_URI_PREFIX = "swarm://plans/"
#: How many of the newest events the event-log resource holds.
EVENT_LOG_SIZE = 50


# --- what the resources hold ---------------------------------------------------------------


def plan_uri(phase: str) -> str:
    """The resource of one loaded plan."""
    return f"{PLAN_URI_PREFIX}{phase}"


def dashboard_text(store: Store) -> str:
    """The dashboard, as `swarm status` prints it (Markdown)."""
    from coordinator.views.board import session_dashboard_view
    from coordinator.views.dashboard.render import render_dashboard

    return render_dashboard(session_dashboard_view(store, None))


def events_json(store: Store) -> str:
    """The newest events of the log, oldest first, as JSON."""
    from coordinator import layout
    from coordinator.state import Event

    records = store.last_in_prefix(layout.EVENTS, EVENT_LOG_SIZE)
    return _dump([Event.from_json(r.value).to_json() for r in records])


def plans_json(store: Store) -> str:
    """Every loaded plan's header (phase, session, tasks) with its resource URI, as JSON."""
    from coordinator.tasks.start import plan_phases

    return _dump(
        [{"uri": plan_uri(phase), **header} for phase, header in sorted(plan_phases(store).items())]
    )


def plan_json(store: Store, phase: str) -> str:
    """One plan: its header and every task's status, agent, waits and gates, as JSON."""
    from coordinator.tasks.start import plan_phases
    from coordinator.views.board import task_rows

    header = plan_phases(store).get(phase)
    if header is None:
        raise SwarmError(f"no plan is loaded for phase {phase!r}")
    return _dump({"phase": phase, "plan": header, "tasks": task_rows(store, phase)})


def resource_contents(store: Store) -> dict[str, str]:
    """The content of every resource the server has now, by URI."""
    from coordinator.tasks.start import plan_phases

    contents = {
        DASHBOARD_URI: dashboard_text(store),
        EVENTS_URI: events_json(store),
        PLANS_URI: plans_json(store),
    }
    for phase in plan_phases(store):
        contents[plan_uri(phase)] = plan_json(store, phase)
    return contents


def changed_uris(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """The URIs whose content digest differs between two snapshots, or that appeared or
    went away (pure)."""
    return sorted(uri for uri in {*before, *after} if before.get(uri) != after.get(uri))


def digest(text: str) -> str:
    """A short fingerprint of a resource's content."""
    return hashlib.sha256(text.encode()).hexdigest()


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


# --- resources --------------------------------------------------------------------------------


def add_resources(server: MCPServer[Any], swarm: SwarmMCP) -> None:
    """The dashboard, the event log, the plans and each plan."""

    @server.resource(DASHBOARD_URI, name="dashboard", mime_type="text/markdown")
    async def dashboard() -> str:
        """The dashboard: progress, tasks, gates, claims, conflicts, escalations, events."""
        return await swarm.read(dashboard_text)

    @server.resource(EVENTS_URI, name="events", mime_type="application/json")
    async def events() -> str:
        """The newest events of the swarm's event log, oldest first."""
        return await swarm.read(events_json)

    @server.resource(PLANS_URI, name="plans", mime_type="application/json")
    async def plans() -> str:
        """Every loaded plan, with the URI of each."""
        return await swarm.read(plans_json)

    @server.resource(f"{PLAN_URI_PREFIX}{{phase}}", name="plan", mime_type="application/json")
    async def plan(phase: str) -> str:
        """One plan: every task's status, agent, what it waits on and its gates."""
        return await swarm.read(lambda store: plan_json(store, phase))
