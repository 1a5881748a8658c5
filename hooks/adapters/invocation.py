"""One invocation of an agent adapter, `Hook` (the payload, and on first use the store,
agent, session and task), and the coordinator calls adapters make through it: claim the
files a tool call edits, record the edits, register and end the agent's session, finish
its task on stop, and the context texts answered to the model (its session and its
unread notifications).

Like the rest of the hook path, nothing here imports click, asyncio or structlog.
"""

from __future__ import annotations

import os
import stat
from functools import cached_property

from hooks.adapters import BadPayload, derived_agent_name, enabled, refusal
from memory.backends import open_store
from memory.locator import file_mode, normal_path
from memory.store import Store

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

    from coordinator.agents.identity import ProcessId
    from hooks.adapters import Adapter


class Hook:
    """One invocation: the payload, and (on first use) the store, agent, session and task."""

    def __init__(
        self,
        adapter: Adapter,
        payload: dict[str, Any],
        environ: Mapping[str, str],
        *,
        agent: str | None = None,
        db: str | None = None,
    ) -> None:
        self.adapter = adapter
        self.payload = payload
        self.environ = environ
        self._agent_flag = agent
        self._db_flag = db
        self._store: Store | None = None
        self._edited: list[str] = []

    # --- the payload -----------------------------------------------------------------

    @property
    def event(self) -> str:
        """The event name (`hook_event_name`)."""
        return str(self.payload["hook_event_name"])

    def text(self, key: str, source: Mapping[str, Any] | None = None) -> str | None:
        """A non-empty string field of the payload (or of `source`), else None."""
        value = (self.payload if source is None else source).get(key)
        return value if isinstance(value, str) and value else None

    def fields(self, key: str) -> dict[str, Any]:
        """An object field of the payload (`tool_input`); BadPayload if it is not one."""
        value = self.payload.get(key)
        if not isinstance(value, dict):
            raise BadPayload(f"{self.event} payload: {key} is missing or not a JSON object")
        return value

    def tool_path(self, *keys: str) -> str:
        """The file path a tool call names: the first of `keys` present in tool_input."""
        tool_input = self.fields("tool_input")
        for key in keys:
            path = self.text(key, tool_input)
            if path is not None:
                return path
        tool = self.text("tool_name") or "tool"
        raise BadPayload(f"{self.event} payload: {tool} tool_input has no {' or '.join(keys)}")

    @cached_property
    def cwd(self) -> str:
        """The agent's working directory (the payload's, else this process's)."""
        reported = self.adapter.cwd_of(self.payload)
        if reported and stat.S_ISDIR(file_mode(reported)):
            return normal_path(reported)
        return os.getcwd()

    # --- who and where ---------------------------------------------------------------

    @cached_property
    def agent(self) -> str:
        """`--agent`, else `SWARM_AGENT_ID`, else `<adapter>-<hash of session>[-<hash of
        subagent>]` (see `derived_agent_name`)."""
        from coordinator.claims.grants import check_agent_name

        explicit = self._agent_flag or self.environ.get("SWARM_AGENT_ID")
        if explicit:
            return check_agent_name(explicit)
        session = self._payload_session()
        if session is None:
            raise BadPayload(
                f"{self.event} payload has no {' or '.join(self.adapter.session_fields)} "
                "to name the agent by; set SWARM_AGENT_ID"
            )
        sub = self.text(self.adapter.subagent_field) if self.adapter.subagent_field else None
        return derived_agent_name(self.adapter.name, session, sub)

    @cached_property
    def session(self) -> str:
        """`SWARM_SESSION_ID`, else the payload's session id."""
        session = self.environ.get("SWARM_SESSION_ID") or self._payload_session()
        if session is None:
            raise BadPayload(f"{self.event} payload has no session id; set SWARM_SESSION_ID")
        return session

    def _payload_session(self) -> str | None:
        for key in self.adapter.session_fields:
            value = self.text(key)
            if value is not None:
                return value
        return None

    def editing(self, paths: Iterable[str]) -> None:
        """Say which files the event edits, before the store is first used: the store is
        looked for from them first (their repository's `.swarm/`), not only from the cwd."""
        self._edited = [os.path.join(self.cwd, normal_path(p)) for p in paths]

    def store(self) -> Store:
        """The store: `--db`, else that of the repository holding the edited file, else
        `SWARM_DB`, else the nearest one above the working directory."""
        if self._store is None:
            from coordinator.project import store_location

            path = store_location(self._db_flag, self.environ, self.cwd, self._edited)
            self._store = open_store(path, actor=self.agent)
        return self._store

    def finds_store(self) -> bool:
        """Whether a store governs this invocation (`--db`, `SWARM_DB`, or one at or
        above the working directory) rather than only the place one would be made."""
        from coordinator.project import nearest_store

        return bool(self._db_flag or self.environ.get("SWARM_DB") or nearest_store(self.cwd))

    def close(self) -> None:
        """Close the store if it was opened."""
        if self._store is not None:
            self._store.close()
            self._store = None

    @cached_property
    def root(self) -> str:
        """The repository the store belongs to."""
        from coordinator.project import project_root

        return project_root(self.store().location)

    @cached_property
    def task(self) -> str | None:
        """`SWARM_TASK_ID`, else the task the agent has in progress."""
        explicit = self.environ.get("SWARM_TASK_ID")
        if explicit:
            return explicit
        from coordinator.agents.liveness import current_task

        return current_task(self.store(), self.agent)

    def relative(self, path: str) -> str | None:
        """The literal `path` relative to the repository root (`..` and symlinks resolved
        first), or None when it lies outside it. InvalidPath for control characters."""
        from coordinator.claims.paths import repo_path
        from coordinator.errors import PathOutsideRepo

        try:
            return repo_path(self.root, path, self.cwd)
        except PathOutsideRepo:
            return None

    @cached_property
    def client(self) -> ProcessId | None:
        """The client process that ran this hook (its nearest ancestor that is not a shell),
        recorded with the agent's registration so that the MCP server the same client
        started finds the agent; None for a subagent's event (the client's MCP server
        speaks for the session's own agent) or where there is no /proc."""
        field = self.adapter.subagent_field
        if field is not None and self.text(field) is not None:
            return None
        from coordinator.agents.identity import hook_client

        return hook_client()

    @cached_property
    def subagents_prefix(self) -> str | None:
        """The name prefix of this session's subagents (`<agent>-`), when the agent's name
        is derived from the payload and the event is the session's own, not a subagent's."""
        if self._agent_flag or self.environ.get("SWARM_AGENT_ID"):
            return None
        field = self.adapter.subagent_field
        if field is not None and self.text(field) is not None:
            return None
        return f"{self.agent}-"


# --- the coordinator calls ----------------------------------------------------------------


def claim(hook: Hook, paths: Iterable[str]) -> str | None:
    """pre-edit for each path inside the repository. Returns None when all are granted, else
    the refusal naming the holder and its task (claims granted by this call are undone)."""
    from coordinator.claims.paths import claim_pattern
    from coordinator.claims.queue import claim_paths
    from coordinator.errors import ClaimHeld, InvalidPath

    paths = list(dict.fromkeys(paths))
    hook.editing(paths)
    store = hook.store()
    ensure_registered(hook)
    # Every path is judged before any is claimed, so a refusal leaves nothing behind.
    patterns: list[str] = []
    for raw in paths:
        try:
            literal = hook.relative(raw)
        except InvalidPath as err:
            # A name no one can claim could never be refused: refuse the edit instead.
            return f"swarm: {err.message}; rename it without control characters."
        if literal is not None:  # outside the repository: not ours to coordinate
            patterns.append(claim_pattern(literal))  # a literal name, never a pattern
    try:
        claim_paths(store, patterns, hook.agent, task=hook.task)  # all or nothing
    except ClaimHeld as err:
        return refusal(err)
    return None


def record(hook: Hook, paths: Iterable[str]) -> list[str]:
    """post-edit for each path inside the repository; returns the conflicts it revealed."""
    from coordinator.claims.edits import record_edit

    paths = list(dict.fromkeys(paths))
    hook.editing(paths)
    ensure_registered(hook)
    conflicts: list[str] = []
    for raw in paths:
        path = hook.relative(raw)
        if path is None:
            continue
        result = record_edit(hook.store(), hook.root, path, hook.agent, task=hook.task)
        conflicts.extend(result.conflicts)
    return conflicts


def session_context(hook: Hook) -> str:
    """session-start for the agent, then what it needs to (re)start work: its task, the
    files it holds and its unread notifications (marked read once delivered)."""
    from coordinator.claims.grants import list_claims

    store = hook.store()
    agent = hook.agent
    register(hook)
    lines = [
        f"swarm-coordinator: you are agent {agent} (session {hook.session}); other agents "
        "work in this repository at the same time."
    ]
    task = hook.task
    lines.append(
        f"Your current task: {task}."
        if task
        else f"You have no task in progress (start one with "
        f"`swarm hooks pre-task --task-id ID --agent {agent}`)."
    )
    held = [c for c in list_claims(store) if c.agent == agent]
    if held:
        lines.append(
            "Files you hold: "
            + ", ".join(f"{c.path} ({c.mode}{f', task {c.task}' if c.task else ''})" for c in held)
            + "."
        )
    else:
        lines.append("You hold no files.")
    notes = take_unread(hook)
    if notes:
        lines += ["Unread notifications:", *notes]
    lines.append(
        "An edit to a file another agent holds is refused with the holder's name and task; "
        "choose other work or coordinate with `swarm hooks notify --to AGENT --message ...`."
    )
    return "\n".join(lines)


def unread_context(hook: Hook) -> str | None:
    """The agent's unread notifications as context (marked read), or None when there are none;
    also renews the agent's liveness (registering it if it has no live registration)."""
    keep_alive(hook)
    notes = take_unread(hook)
    if not notes:
        return None
    return "\n".join([f"swarm-coordinator notifications for {hook.agent}:", *notes])


def take_unread(hook: Hook) -> list[str]:
    """The agent's unread notifications, one line each, marked read."""
    from coordinator.agents.sessions import ack, inbox

    items = inbox(hook.store(), hook.agent)
    ack(hook.store(), items)
    lines = []
    for item in items:
        note = item.note
        sender = f"from {note.sender}: " if note.sender else ""
        task = f" (task {note.task})" if note.task and note.task not in note.message else ""
        lines.append(f"- [{note.level}] {sender}{note.message}{task}")
    return lines


def keep_alive(hook: Hook) -> None:
    """Renew the agent's liveness lease, or register it when it has none (a session whose
    start we missed, or whose registration ran out while it was idle)."""
    from coordinator import layout
    from coordinator.agents.liveness import agent_lease

    store = hook.store()
    # By the agent's own lease (`session-start --ttl`), not the default.
    lease = agent_lease(store, hook.agent)
    if store.touch(layout.agent_key(hook.agent), lease) is None:
        register(hook)


def ensure_registered(hook: Hook) -> None:
    """Register the agent when it has no live registration (hooks installed mid-session, or
    a registration that ran out while the agent was idle), so the daemon sees it as live."""
    from coordinator import layout

    if hook.store().get(layout.agent_key(hook.agent)) is None:
        register(hook)


def register(hook: Hook) -> None:
    """session-start for the hook's agent, recording its client process."""
    from coordinator.agents.sessions import start_session

    start_session(hook.store(), hook.session, hook.agent, client=hook.client)


def end(hook: Hook) -> None:
    """session-end for the agent (its summary, and the release of everything it held), and
    for every subagent of its session that still holds or is registered."""
    from coordinator.agents.sessions import end_session, subagents_of
    from coordinator.claims.grants import release_ops

    store = hook.store()
    end_session(store, hook.session, hook.agent, release_ops)
    prefix = hook.subagents_prefix
    if prefix is not None:
        for sub in subagents_of(store, prefix):
            end_session(store, hook.session, sub, release_ops)


def post_task_on_stop(hook: Hook) -> bool:
    """Whether a Stop-like event completes the agent's task: `SWARM_<AGENT>_POST_TASK_ON_STOP`
    or `SWARM_POST_TASK_ON_STOP` set to 1 (default: off)."""
    own = f"SWARM_{hook.adapter.name.upper()}_POST_TASK_ON_STOP"
    return enabled(hook.environ, own) or enabled(hook.environ, "SWARM_POST_TASK_ON_STOP")


def finish_on_stop(hook: Hook) -> None:
    """post-task (complete) for the agent's task when configured to; otherwise nothing."""
    if not post_task_on_stop(hook):
        return
    task = hook.task
    if task is None:
        return
    from coordinator.claims.grants import release_ops
    from coordinator.tasks.finish import finish_task

    summary = f"completed when {hook.adapter.name} stopped ({hook.event})"
    finish_task(hook.store(), task, "complete", hook.agent, summary, None, release_ops)
