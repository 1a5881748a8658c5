"""Which agent an MCP server speaks for, found from the processes above it.

An agent's MCP client (Claude Code, Codex, Gemini CLI) starts its hooks and its MCP servers
as children of one process: the client itself, hooks sometimes through `sh -c`. So a hook
that registers an agent records its client process (the nearest ancestor that is not a
shell), and `swarm mcp` speaks for the registered agent whose client process is one of its
own ancestors. A process is named by its pid and its start time (clock ticks since boot,
from /proc), so a pid reused by a later process never matches.

The rules (`client_of`, `agent_for`) are pure; reading /proc is a few lines around them.
Kept light: every hook that registers an agent imports this module.
"""

from __future__ import annotations

import os

from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from coordinator.state import Agent
    from memory.locator import StrPath

PROC = "/proc"
#: Process names (`comm`) of the shells a client may run a hook command through.
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox", "fish"})
#: How far up the process tree to look (a loop guard; real trees are a dozen deep).
MAX_DEPTH = 64


class ProcessId(NamedTuple):
    """One process, unambiguously: its pid and when it started (ticks since boot)."""

    pid: int
    started: int


class ProcessInfo(NamedTuple):
    """What /proc says of a process: who it is, its parent, its name."""

    id: ProcessId
    parent: int
    name: str


def client_of(ancestry: Iterable[ProcessInfo]) -> ProcessId | None:
    """The client that ran a hook: the nearest of the hook's ancestors (nearest first) that
    is not a shell (pure)."""
    for process in ancestry:
        if process.name not in SHELLS:
            return process.id
    return None


def agent_for(ancestors: Iterable[ProcessId], agents: Iterable[Agent]) -> Agent | None:
    """The agent whose recorded client process is the nearest of `ancestors` (nearest
    first); among agents of one client (a session cleared or resumed in the same process),
    the one registered last. None when no ancestor is an agent's client (pure)."""
    by_client: dict[ProcessId, list[Agent]] = {}
    for agent in agents:
        if agent.client_pid is not None and agent.client_started is not None:
            key = ProcessId(agent.client_pid, agent.client_started)
            by_client.setdefault(key, []).append(agent)
    for process in ancestors:
        found = by_client.get(process)
        if found:
            return max(found, key=lambda a: (a.started_at, a.name))
    return None


# --- reading /proc ----------------------------------------------------------------------------


def read_process(pid: int, proc: StrPath = PROC) -> ProcessInfo | None:
    """/proc/PID/stat read as a ProcessInfo, or None when there is no such process (or no
    /proc)."""
    try:
        with open(os.path.join(proc, str(pid), "stat")) as file:
            stat = file.read()
    except OSError:
        return None
    # The name is in parentheses and may itself hold spaces or parentheses.
    head, _, tail = stat.rpartition(")")
    fields = tail.split()
    # stat(5): field 4 is the parent pid, field 22 the start time; the tail begins at 3.
    if len(fields) < 20 or not fields[1].isdigit() or not fields[19].isdigit():
        return None
    name = head.partition("(")[2]
    return ProcessInfo(ProcessId(pid, int(fields[19])), int(fields[1]), name)


def ancestry(pid: int | None = None, proc: StrPath = PROC) -> Iterator[ProcessInfo]:
    """The ancestors of process `pid` (default: this one), nearest first, read lazily up
    to init (a client may itself be pid 1, in a container); empty where there is no
    /proc."""
    parent = os.getppid() if pid is None else _parent(pid, proc)
    for _ in range(MAX_DEPTH):
        if parent is None or parent <= 0:
            return
        info = read_process(parent, proc)
        if info is None:
            return
        yield info
        parent = info.parent


def _parent(pid: int, proc: StrPath) -> int | None:
    info = read_process(pid, proc)
    return None if info is None else info.parent


def hook_client() -> ProcessId | None:
    """The client process that ran this hook (see `client_of`)."""
    return client_of(ancestry())


def own_ancestors() -> list[ProcessId]:
    """This process's ancestors, nearest first."""
    return [info.id for info in ancestry()]
