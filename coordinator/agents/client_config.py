"""`swarm init --claude | --codex | --gemini | --cursor`: add our hooks to an agent's project
settings file without disturbing anything else in it.

Each agent keeps its hooks in a JSON file at the repository root, grouped by event. Claude
Code, Codex CLI and Gemini CLI nest them the same way
(`{"hooks": {"<Event>": [{"matcher": ..., "hooks": [{"type": "command", ...}]}]}}`); Cursor
lists commands directly (`{"version": 1, "hooks": {"<event>": [{"command": ...}]}}`).

The merge is a pure function: for each event, our entry is appended unless an entry running
the same command is already there, so other hooks are kept and a second run changes nothing.
Writing is the only I/O: the file is rewritten (indent 2, trailing newline) only when the
merge changed it, atomically, after the previous version was copied to `<file>.bak`.
Our MCP server's entry in the agents' MCP configuration is in `coordinator.agents.mcp_config`.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memory.errors import SwarmError

#: Seconds Claude Code and Codex give a hook before giving up on it.
TIMEOUT_SECONDS = 10
#: Codex's longest SessionEnd timeout, in seconds.
CODEX_SESSION_END_SECONDS = 3
#: The same for Gemini CLI, whose hook timeouts are in milliseconds.
TIMEOUT_MS = 10_000

Entry = dict[str, Any]


class AgentConfigError(SwarmError):
    """The agent's settings file cannot be merged into."""


def hook_command(agent: str) -> str:
    """The command an agent runs for every hook event: `swarm hooks <agent>`."""
    return f"swarm hooks {agent}"


def command_group(
    command: str,
    *,
    matcher: str | None = None,
    timeout: int | None = None,
    name: str | None = None,
) -> Entry:
    """A matcher group holding one command hook (Claude Code, Codex and Gemini CLI shape)."""
    hook: Entry = {}
    if name is not None:
        hook["name"] = name
    hook["type"] = "command"
    hook["command"] = command
    if timeout is not None:
        hook["timeout"] = timeout
    group: Entry = {}
    if matcher is not None:
        group["matcher"] = matcher
    group["hooks"] = [hook]
    return group


@dataclass(frozen=True)
class AgentSettings:
    """Where an agent keeps its project hooks, and the entries we add there."""

    agent: str
    #: The settings file, relative to the repository root.
    path: str
    #: Our entries, by event.
    entries: Mapping[str, list[Entry]]
    #: Cursor's layout: each entry is a command object, not a matcher group.
    flat: bool = False
    #: Top-level keys written when absent (Cursor's `version`).
    defaults: Mapping[str, Any] = field(default_factory=dict)


def claude_settings() -> AgentSettings:
    """Claude Code: .claude/settings.json (code.claude.com/docs/en/hooks)."""
    command = hook_command("claude")
    edits = "Edit|Write|MultiEdit|NotebookEdit|Bash"  # Bash: the files its command writes
    plain = [command_group(command, timeout=TIMEOUT_SECONDS)]
    return AgentSettings(
        "claude",
        ".claude/settings.json",
        {
            "SessionStart": plain,
            "SubagentStart": plain,
            "UserPromptSubmit": plain,
            "PreToolUse": [command_group(command, matcher=edits, timeout=TIMEOUT_SECONDS)],
            "PostToolUse": [command_group(command, matcher=edits, timeout=TIMEOUT_SECONDS)],
            "PostToolBatch": plain,
            "CwdChanged": plain,
            "Stop": plain,
            "SubagentStop": plain,
            "SessionEnd": plain,
        },
    )


def codex_settings() -> AgentSettings:
    """Codex CLI: .codex/hooks.json (developers.openai.com/codex/hooks)."""
    command = hook_command("codex")
    edits = "apply_patch|Bash"  # Bash: Codex's shell tool, as its hooks name it
    plain = [command_group(command, timeout=TIMEOUT_SECONDS)]
    return AgentSettings(
        "codex",
        ".codex/hooks.json",
        {
            "SessionStart": plain,
            "UserPromptSubmit": plain,
            "PreToolUse": [command_group(command, matcher=edits, timeout=TIMEOUT_SECONDS)],
            "PostToolUse": [command_group(command, matcher=edits, timeout=TIMEOUT_SECONDS)],
            "SubagentStart": plain,
            "Stop": plain,
            "SubagentStop": plain,
            # Codex cuts a SessionEnd hook to 3 s, warning at every start when it is longer.
            "SessionEnd": [command_group(command, timeout=CODEX_SESSION_END_SECONDS)],
        },
    )


def gemini_settings() -> AgentSettings:
    """Gemini CLI: .gemini/settings.json (gemini-cli docs/hooks/reference.md)."""
    command = hook_command("gemini")
    name = "swarm-coordinator"

    def group(matcher: str | None = None) -> list[Entry]:
        return [command_group(command, matcher=matcher, timeout=TIMEOUT_MS, name=name)]

    edits = "write_file|replace|run_shell_command"
    return AgentSettings(
        "gemini",
        ".gemini/settings.json",
        {
            "SessionStart": group(),
            "BeforeAgent": group(),
            "BeforeTool": group(edits),
            "AfterTool": group(edits),
            "AfterAgent": group(),
            "SessionEnd": group(),
        },
    )


def cursor_settings() -> AgentSettings:
    """Cursor: .cursor/hooks.json (cursor.com/docs/agent/hooks)."""
    command = hook_command("cursor")
    plain: list[Entry] = [{"command": command}]
    return AgentSettings(
        "cursor",
        ".cursor/hooks.json",
        {
            "sessionStart": plain,
            "preToolUse": [
                {
                    "command": command,
                    "matcher": "Write|Edit|MultiEdit|StrReplace|ApplyPatch|Delete",
                }
            ],
            "afterFileEdit": plain,
            "beforeShellExecution": plain,
            "afterShellExecution": plain,
            "stop": plain,
            "sessionEnd": plain,
        },
        flat=True,
        defaults={"version": 1},
    )


AGENTS = {
    "claude": claude_settings,
    "codex": codex_settings,
    "gemini": gemini_settings,
    "cursor": cursor_settings,
}


def settings_for(agent: str) -> AgentSettings:
    """The settings we install for `agent` (claude, codex, gemini or cursor)."""
    try:
        return AGENTS[agent]()
    except KeyError:
        raise AgentConfigError(f"no hook settings for agent {agent!r}") from None


# --- the merge (pure) ---------------------------------------------------------------------


def _normal(command: str) -> str:
    return " ".join(command.split())


def entry_commands(entry: Any, *, flat: bool) -> set[str]:
    """The commands an entry runs (whitespace-normalised)."""
    if not isinstance(entry, dict):
        return set()
    if flat:
        command = entry.get("command")
        return {_normal(command)} if isinstance(command, str) else set()
    hooks = entry.get("hooks")
    if not isinstance(hooks, list):
        return set()
    commands = (h.get("command") for h in hooks if isinstance(h, dict))
    return {_normal(command) for command in commands if isinstance(command, str)}


def merge_settings(current: Mapping[str, Any], settings: AgentSettings) -> dict[str, Any]:
    """`current` with our entries added: for each event, each entry is appended unless one
    running the same command is already there. Everything else is kept as it was."""
    merged = copy.deepcopy(dict(current))
    missing = {key: value for key, value in settings.defaults.items() if key not in merged}
    merged = {**missing, **merged}
    hooks = merged.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise AgentConfigError(f'{settings.path}: "hooks" is not a JSON object')
    for event, entries in settings.entries.items():
        existing = hooks.setdefault(event, [])
        if not isinstance(existing, list):
            raise AgentConfigError(f'{settings.path}: "hooks.{event}" is not a JSON array')
        for entry in entries:
            ours = entry_commands(entry, flat=settings.flat)
            if not any(ours & entry_commands(e, flat=settings.flat) for e in existing):
                existing.append(copy.deepcopy(entry))
    return merged


def render(data: Mapping[str, Any]) -> str:
    """The file's text: JSON, indent 2, a trailing newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# --- the file -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    """What `install_agent_hooks` did to one settings file."""

    agent: str
    path: Path
    created: bool
    changed: bool
    backup: Path | None


def backup_path(path: Path) -> Path:
    """Where the previous version of a settings file is kept: `<file>.bak`."""
    return path.with_name(path.name + ".bak")


def json_object(path: Path, text: str | None) -> dict[str, Any]:
    """The JSON object an agent's configuration file holds (`text`, None when the file is
    absent: an empty object); AgentConfigError, changing nothing, when it holds anything
    else."""
    current: Any = {}
    if text is not None and text.strip():
        try:
            current = json.loads(text)
        except ValueError as err:
            raise AgentConfigError(
                f"{path} is not valid JSON ({err}); fix it, then run swarm init again"
            ) from None
    if not isinstance(current, dict):
        raise AgentConfigError(f"{path} does not hold a JSON object; refusing to change it")
    return current


def install_agent_hooks(root: Path, agent: str) -> Installed:
    """Merge our hooks for `agent` into its settings file under `root`; create it if absent,
    keep a backup of the previous version when changing it, leave it untouched otherwise."""
    settings = settings_for(agent)
    path = root / settings.path
    previous = path.read_text(encoding="utf-8") if path.is_file() else None
    current = json_object(path, previous)
    merged = merge_settings(current, settings)
    if previous is not None and merged == current:
        return Installed(agent, path, created=False, changed=False, backup=None)
    backup = None
    if previous is not None:
        backup = backup_path(path)
        _write_atomically(backup, previous)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, render(merged))
    return Installed(agent, path, created=previous is None, changed=True, backup=backup)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
