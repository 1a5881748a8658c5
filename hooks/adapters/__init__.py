"""Adapters for agents' own hook protocols: `swarm hooks claude | codex | gemini | cursor`.

Each reads the JSON its agent writes on stdin, turns it into one coordinator call (claim a
file, record an edit, register or end a session, deliver notifications) and answers in the
agent's own output convention. This module holds what every adapter shares around that
call: the registry, reading the payload, the `Adapter` protocol and the `Outcome` it
answers with (with the texts of a refusal and of a conflict), the agent names derived from
session ids, how a failure is answered, and `run`. `hooks.adapters.invocation` holds the
`Hook` (one invocation) and the coordinator calls made through it. This is the package's
own module because every adapter call imports it anyway: a module of its own would cost
each call one more import.

A failure (a payload that is not shaped as the agent documents, a missing store, a bug) is
one line on stderr and exit 1, which every supported agent treats as a non-blocking error:
the agent goes on. With `SWARM_FAIL_CLOSED=1` the adapter refuses instead: its deny answer
for a tool call, exit 2 (the agents' "block" code) with the line on stderr for any other
event.

Like the rest of the hook path, nothing here imports click, asyncio or structlog.

May import: what `hooks` may import (`coordinator.views` and the packages below it, the
root modules, `memory`); never `coordinator.cli`, `coordinator.mcp` or `coordinator.daemon`.
"""

from __future__ import annotations

import json
import os
import re
import sys

from memory.errors import EXIT_ERROR, SwarmError
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO, Any

    from hooks.adapters.invocation import Hook

#: The adapters, by sub-command name, with their one-line help.
ADAPTERS = {
    "claude": "Claude Code hook: read its hook JSON on stdin and answer in its convention.",
    "codex": "Codex CLI hook: read its hook JSON on stdin (apply_patch paths are claimed).",
    "gemini": "Gemini CLI hook: read its hook JSON on stdin and answer in its convention.",
    "cursor": "Cursor hook: read its hook JSON on stdin and answer in its convention.",
}

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


def conflicts_context(conflicts: list[str]) -> str | None:
    """Context telling the model about conflicts its edit revealed, if any."""
    if not conflicts:
        return None
    return "swarm-coordinator recorded a conflict: " + "; ".join(conflicts)


def refusal(err: SwarmError) -> str:
    """The reason shown to a model whose edit was refused."""
    held = "; ".join([err.message, *err.details])
    return (
        f"swarm: {held}. Another agent is working on this file: do not edit it now; work on "
        "something else or wait until it is released (message the holder with "
        "`swarm hooks notify --to AGENT --message ...`)."
    )


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


def run_adapter(name: str, agent: str | None, db: str | None) -> int:
    """Run adapter `name` on the payload waiting on stdin; return the exit code."""
    # __import__ with a fromlist returns the submodule (importlib would bring warnings).
    module = __import__(f"hooks.adapters.{name}", fromlist=["ADAPTER"])
    # Bytes: the payload is UTF-8 whatever the locale says (and may start with a BOM).
    stdin = getattr(sys.stdin, "buffer", sys.stdin)
    return run(module.ADAPTER, stdin, agent=agent, db=db)


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
    from hooks.adapters.invocation import Hook

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
    if outcome.stdout:
        sys.stdout.write(outcome.stdout)
        sys.stdout.flush()
    if outcome.stderr:
        sys.stderr.write(outcome.stderr + "\n")
