"""Agents, sessions and inboxes over the sync store: register, notify, summarise, release."""

from __future__ import annotations

from coordinator import layout
from coordinator.agents.liveness import agent_ttl
from coordinator.state import Agent, Notification, TaskRun, encode, event_op, notify_ops
from memory.errors import SwarmError
from memory.records import Delete, Put, WriteOp
from memory.store import Store
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from coordinator.agents.identity import ProcessId

    #: Builds the writes that release an agent's claims on a task (from the claims module).
    ReleaseOps = Callable[[Store, str, str, float], list[WriteOp]]


def start_session(
    store: Store,
    session: str,
    agent: str,
    *,
    branch: str | None = None,
    worktree: str | None = None,
    pid: int | None = None,
    ttl: float | None = None,
    client: ProcessId | None = None,
) -> Agent:
    """session-start: register `agent` with a liveness lease renewed by its hook calls;
    `client` is the agent's client process, by which its MCP server finds it."""
    now = store.clock()
    lease = ttl or agent_ttl()
    previous = store.get(layout.agent_key(agent))
    info = Agent(agent, session, now, branch, worktree, pid)
    if client is not None:
        info = info._replace(client_pid=client.pid, client_started=client.started)
    if previous is not None and isinstance(previous.value, dict):
        old = Agent.from_json(previous.value)
        info = info._replace(
            started_at=old.started_at if old.session == session else now,
            branch=branch or old.branch,
            worktree=worktree or old.worktree,
        )
        if client is None:
            info = info._replace(client_pid=old.client_pid, client_started=old.client_started)
    store.txn(
        [],
        [
            # The lease length is kept with the record: each hook call renews by it.
            Put(layout.agent_key(agent), encode({**info.to_json(), "ttl": lease}), lease),
            event_op("agent_started", now, agent=agent, session=session, branch=info.branch),
        ],
    )
    return info


def live_agents(store: Store) -> list[Agent]:
    """Every agent whose liveness lease has not run out."""
    return [
        Agent.from_json(r.value)
        for r in store.list_prefix(layout.AGENTS)
        if isinstance(r.value, dict)
    ]


def session_receipts(store: Store, session: str | None, agent: str) -> list[dict[str, Any]]:
    """The receipts `agent` earned (in `session`, when given), oldest first."""
    receipts = [
        r.value
        for r in store.list_prefix(layout.RECEIPTS)
        if isinstance(r.value, dict)
        and r.value.get("agent") == agent
        and (session is None or r.value.get("session") in (session, None))
    ]
    return sorted(receipts, key=lambda rec: rec.get("end") or 0)


def end_session(
    store: Store, session: str, agent: str, release_ops: ReleaseOps | None = None
) -> dict[str, Any]:
    """session-end: write the agent's summary, release what it held, end its registration."""
    now = store.clock()
    receipts = session_receipts(store, session, agent)
    registered = store.get(layout.agent_key(agent))
    started = (
        Agent.from_json(registered.value).started_at
        if registered and isinstance(registered.value, dict)
        else None
    )
    done = [r for r in receipts if r.get("status") == "complete"]
    summary = {
        "session": session,
        "agent": agent,
        "started_at": started,
        "ended_at": now,
        "duration": None if started is None else round(now - started, 3),
        "tasks_done": [r["task"] for r in done],
        "tasks": [
            {
                "task": r.get("task"),
                "status": r.get("status"),
                "duration": r.get("duration"),
                "metrics": r.get("metrics", {}),
            }
            for r in receipts
        ],
        "total_task_seconds": round(sum(r.get("duration") or 0 for r in receipts), 3),
    }
    ops: list[WriteOp] = [
        Put(layout.session_summary_key(session, agent), encode(summary)),
        Delete(layout.agent_key(agent)),
        Delete(layout.agent_task_key(agent)),
        event_op(
            "agent_ended",
            now,
            agent=agent,
            session=session,
            message=f"{len(done)} task(s) done",
        ),
    ]
    if release_ops is not None:
        ops.extend(release_ops(store, agent, "", now))
    store.txn([], ops)
    return summary


def subagents_of(store: Store, prefix: str) -> list[str]:
    """The agents whose names start with `prefix` (a session's subagents, `<agent>-`) that
    are registered or hold a claim or a queued claim request."""
    names = {
        record.value.get("agent")
        for place in (layout.CLAIMS, layout.CLAIM_QUEUE)
        for record in store.list_prefix(place)
        if isinstance(record.value, dict)
    }
    names |= {record.key[len(layout.AGENTS) :] for record in store.list_prefix(layout.AGENTS)}
    return sorted(n for n in names if isinstance(n, str) and n.startswith(prefix))


def task_agent(store: Store, task_id: str) -> str | None:
    """Who a task's notifications go to: its current runner, else its planned agent."""
    run = store.get(layout.run_key(task_id))
    if run is not None and TaskRun.from_json(run.value).agent:
        return TaskRun.from_json(run.value).agent
    spec = store.get(layout.spec_key(task_id))
    if spec is not None and isinstance(spec.value, dict):
        agent = spec.value.get("agent")
        return agent if isinstance(agent, str) else None
    return None


def notify(
    store: Store,
    message: str,
    *,
    to: str | None = None,
    task: str | None = None,
    level: str = "info",
    sender: str | None = None,
) -> list[str]:
    """Deliver a notification to an agent, a task's agent, or every live agent."""
    if task is not None:
        task = layout.qualify_task(store, task)
        recipient = task_agent(store, task)
        if recipient is None:
            raise SwarmError(f"task {task} has no agent to notify")
        recipients = [recipient]
    elif to is not None:
        recipients = [to]
    else:
        recipients = [a.name for a in live_agents(store) if a.name != sender]
    now = store.clock()
    ops: list[WriteOp] = []
    for recipient in recipients:
        ops.extend(notify_ops(recipient, message, now, level=level, sender=sender, task=task))
    if ops:
        store.txn([], ops)
    return recipients


class InboxItem(NamedTuple):
    """A notification and the key it is stored under."""

    key: str
    note: Notification


def inbox(store: Store, agent: str, *, unread_only: bool = True) -> list[InboxItem]:
    """The agent's notifications, oldest first."""
    items = [
        InboxItem(r.key, Notification.from_json(r.value))
        for r in store.list_prefix(layout.inbox_prefix(agent))
    ]
    return [i for i in items if not (unread_only and i.note.read)]


def ack(store: Store, items: list[InboxItem]) -> int:
    """Mark notifications as read."""
    ops: list[WriteOp] = []
    for item in items:
        ops.append(Put(item.key, encode(item.note._replace(read=True).to_json())))
    if ops:
        store.txn([], ops)
    return len(ops)
