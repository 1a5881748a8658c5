"""Agent liveness and current work: each agent's registration is a lease that its hook
calls renew, and `swarm/agent-tasks/<agent>` names the task it is running.

Kept small, since every hook imports it.
"""

from __future__ import annotations

import os

from coordinator import layout
from memory.records import Touch, WriteOp
from memory.settings import env_seconds
from memory.store import Store

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Mapping

#: How long an agent's registration lives without a hook call, in seconds.
DEFAULT_AGENT_TTL = 900.0


def agent_ttl(environ: Mapping[str, str] = os.environ) -> float:
    """The liveness lease of agents: `SWARM_AGENT_TTL` seconds, default 15 minutes."""
    return env_seconds("SWARM_AGENT_TTL", DEFAULT_AGENT_TTL, environ, positive=True)


def agent_lease(store: Store, agent: str) -> float:
    """How long `agent`'s registration lives between hook calls: the lease it registered
    with (`session-start --ttl`), else `agent_ttl()`."""
    record = store.get(layout.agent_key(agent))
    ttl = record.value.get("ttl") if record is not None and isinstance(record.value, dict) else None
    if isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl > 0:
        return float(ttl)
    return agent_ttl()


def renew_agent(store: Store, agent: str | None) -> list[WriteOp]:
    """The write that renews `agent`'s liveness lease by its own length (none without agent).

    Renewing by the default instead would stretch a short `--ttl` to 15 minutes on the
    agent's first hook call, and the daemon would never see it go stale.
    """
    return [] if not agent else [Touch(layout.agent_key(agent), agent_lease(store, agent))]


def current_task(store: Store, agent: str) -> str | None:
    """The task `agent` is running now (started by its pre-task, not yet finished), or None.

    One key read, so that edit hooks without `--task` stay fast at any store size.
    """
    record = store.get(layout.agent_task_key(agent))
    if record is None or not isinstance(record.value, str):
        return None
    status = store.get(layout.status_key(record.value))
    return record.value if status is not None and status.value == "in_progress" else None
