"""What every agent adapter shares: reading the payload, naming the agent, its session and
task, the claim, edit, session and inbox calls, and how a failure is reported.

A failure (a payload that is not shaped as the agent documents, a missing store, a bug) is
one line on stderr and exit 1, which every supported agent treats as a non-blocking error:
the agent goes on. With `SWARM_FAIL_CLOSED=1` the adapter refuses instead: its deny answer
for a tool call, exit 2 (the agents' "block" code) with the line on stderr for any other
event.

Like the rest of the hook path, nothing here imports click, asyncio or structlog.
"""

from __future__ import annotations

import json
import os
import re
import stat
from functools import cached_property

from memory.backends import open_store
from memory.errors import EXIT_ERROR, SwarmError
from memory.locator import file_mode, normal_path
from memory.store import Store
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import IO, Any

    from coordinator.agents.identity import ProcessId

#: The exit code every supported agent reads as "refuse this", showing stderr to the model.
EXIT_BLOCK = 2
#: Exit code for an interrupted hook.
EXIT_INTERRUPTED = 130
_TRUE = frozenset({"1", "true", "yes", "on"})
#: How many hex digits of the hash of a session (or subagent) id a derived agent name keeps.
ID_CHARS = 10


class BadPayload(SwarmError):
    """The hook payload is not shaped the way the agent documents it."""


class Outcome(NamedTuple):
    """An adapter's answer: what to print on stdout, the exit code, a line for stderr."""

    stdout: str = ""
    code: int = 0
    stderr: str = ""


#: Allow, or nothing to say: no output, exit 0.
SILENT = Outcome()


def answer(data: Mapping[str, Any]) -> Outcome:
    """Answer with one JSON object on stdout, exit 0."""
    return Outcome(json.dumps(data, ensure_ascii=False) + "\n")


def additional_context(event: str, text: str | None) -> Outcome:
    """`hookSpecificOutput.additionalContext` for the model (the shape Claude Code and
    Gemini CLI share), or nothing when there is nothing to say."""
    if not text:
        return SILENT
    return answer({"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}})


def enabled(environ: Mapping[str, str], name: str) -> bool:
    """True when the environment variable `name` is set to 1, true, yes or on."""
    return environ.get(name, "").strip().lower() in _TRUE


def one_line(text: str) -> str:
    """`text` with its line breaks folded into spaces (agents show stderr as one message)."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class Adapter:
    """One agent's hook protocol. Subclasses read its events and answer in its convention."""

    #: The `swarm hooks` sub-command, also the prefix of derived agent names.
    name = ""
    #: Payload fields holding the session id; the first one present wins.
    session_fields: tuple[str, ...] = ("session_id",)
    #: The payload field naming a subagent, for agents that have them.
    subagent_field: str | None = None
    #: Events that ask permission for a tool call: refused with `deny`, not with exit 2.
    tool_events: frozenset[str] = frozenset()
    #: Events that end a turn, for which exit 2 means "keep going": never answered with it.
    stop_events: frozenset[str] = frozenset()

    def handle(self, hook: Hook) -> Outcome:
        """Act on one event and return the answer."""
        raise NotImplementedError

    def deny(self, event: str, reason: str) -> Outcome:
        """The answer that refuses the tool call of `event`, telling the model `reason`."""
        raise NotImplementedError

    def cwd_of(self, payload: Mapping[str, Any]) -> str | None:
        """The working directory the payload reports."""
        cwd = payload.get("cwd")
        return cwd if isinstance(cwd, str) and cwd else None


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


def derived_agent_name(prefix: str, session: str, subagent: str | None = None) -> str:
    """`<prefix>-<id hash>[-<id hash>]`: a short hash of the whole session id (and of the
    whole subagent id), so that ids sharing a prefix (Codex's UUIDv7 ids start with the
    time) still name different agents."""
    parts = [prefix, id_hash(session)]
    if subagent:
        parts.append(id_hash(subagent))
    return "-".join(parts)


def id_hash(raw: str) -> str:
    """The first `ID_CHARS` hex digits of the SHA-256 of `raw` (UTF-8, lone surrogates kept)."""
    from coordinator.claims.digests import sha256_hex  # not hashlib: no OpenSSL on the hook path

    return sha256_hex(raw.encode("utf-8", "surrogatepass"))[:ID_CHARS]


# --- the coordinator calls ----------------------------------------------------------------


def claim(hook: Hook, paths: Iterable[str]) -> str | None:
    """pre-edit for each path inside the repository. Returns None when all are granted, else
    the refusal naming the holder and its task (claims granted by this call are undone)."""
    from coordinator.claims.grants import claim_paths
    from coordinator.claims.paths import claim_pattern
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


def refusal(err: SwarmError) -> str:
    """The reason shown to a model whose edit was refused."""
    held = "; ".join([err.message, *err.details])
    return (
        f"swarm: {held}. Another agent is working on this file: do not edit it now; work on "
        "something else or wait until it is released (message the holder with "
        "`swarm hooks notify --to AGENT --message ...`)."
    )


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


def conflicts_context(conflicts: list[str]) -> str | None:
    """Context telling the model about conflicts its edit revealed, if any."""
    if not conflicts:
        return None
    return "swarm-coordinator recorded a conflict: " + "; ".join(conflicts)


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


# --- the runner ---------------------------------------------------------------------------


def parse_payload(raw: bytes | str) -> dict[str, Any]:
    """The JSON object in `raw` (bytes are read as UTF-8; a leading byte order mark is
    ignored), with a non-empty `hook_event_name`."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as err:
        raise BadPayload(f"hook payload is not UTF-8 text: {err}") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise BadPayload("no hook payload on stdin (expected the agent's hook JSON)")
    try:
        payload = json.loads(text)
    except RecursionError:
        raise BadPayload("hook payload is nested too deeply") from None
    except ValueError as err:
        raise BadPayload(f"hook payload is not JSON: {err}") from None
    if not isinstance(payload, dict):
        raise BadPayload("hook payload is not a JSON object")
    event = payload.get("hook_event_name")
    if not isinstance(event, str) or not event:
        raise BadPayload("hook payload has no hook_event_name")
    return payload


#: Compiled (and cached by `re`) only when a payload cannot be read.
_EVENT_NAME = r'"hook_event_name"\s*:\s*"([A-Za-z_]+)"'


def guess_event(raw: bytes | str) -> str:
    """The event a payload that could not be read names, if it is recognisable at all (so
    that a failure on a stop-like event is not answered with the "continue" code)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    found = re.search(_EVENT_NAME, text)
    return found.group(1) if found else ""


def failure(adapter: Adapter, event: str, line: str, environ: Mapping[str, str]) -> Outcome:
    """How a failure is answered: one stderr line and exit 1 (the agent goes on), or with
    SWARM_FAIL_CLOSED=1 a refusal (deny for a tool call, else exit 2). A stop-like event
    is never answered with exit 2, which its agent reads as "keep going"."""
    if not enabled(environ, "SWARM_FAIL_CLOSED") or event in adapter.stop_events:
        return Outcome(code=EXIT_ERROR, stderr=line)
    if event in adapter.tool_events:
        return adapter.deny(event, f"{line} (SWARM_FAIL_CLOSED is set, so the edit is refused)")
    return Outcome(code=EXIT_BLOCK, stderr=line)


def run(
    adapter: Adapter,
    stdin: IO[bytes] | IO[str],
    *,
    agent: str | None = None,
    db: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> int:
    """Read one payload from `stdin`, act on it, print the answer; return the exit code."""
    event = ""
    raw: bytes | str = ""
    hook: Hook | None = None
    try:
        raw = stdin.read()
        payload = parse_payload(raw)
        event = str(payload["hook_event_name"])
        hook = Hook(adapter, payload, environ, agent=agent, db=db)
        outcome = adapter.handle(hook)
    except SwarmError as err:
        line = one_line(f"swarm: error: {err.message}")
        outcome = failure(adapter, event or guess_event(raw), line, environ)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - a hook never shows an agent a traceback
        line = one_line(f"swarm: internal error: {type(err).__name__}: {err}")
        outcome = failure(adapter, event or guess_event(raw), line, environ)
    finally:
        if hook is not None:
            hook.close()
    _emit(outcome)
    return outcome.code


def _emit(outcome: Outcome) -> None:
    import sys

    if outcome.stdout:
        sys.stdout.write(outcome.stdout)
        sys.stdout.flush()
    if outcome.stderr:
        sys.stderr.write(outcome.stderr + "\n")
