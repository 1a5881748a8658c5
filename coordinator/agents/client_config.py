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
    edits = "Edit|Write|MultiEdit|NotebookEdit"
    plain = [command_group(command, timeout=TIMEOUT_SECONDS)]
    return AgentSettings(
        "claude",
        ".claude/settings.json",
        {
            "SessionStart": plain,
            "UserPromptSubmit": plain,
            "PreToolUse": [command_group(command, matcher=edits, timeout=TIMEOUT_SECONDS)],
            "PostToolUse": [command_group(command, matcher=edits, timeout=TIMEOUT_SECONDS)],
            "Stop": plain,
            "SubagentStop": plain,
            "SessionEnd": plain,
        },
    )


def codex_settings() -> AgentSettings:
    """Codex CLI: .codex/hooks.json (developers.openai.com/codex/hooks)."""
    command = hook_command("codex")
    plain = [command_group(command, timeout=TIMEOUT_SECONDS)]
    return AgentSettings(
        "codex",
        ".codex/hooks.json",
        {
            "SessionStart": plain,
            "UserPromptSubmit": plain,
            "PreToolUse": [command_group(command, matcher="apply_patch", timeout=TIMEOUT_SECONDS)],
            "PostToolUse": [command_group(command, matcher="apply_patch", timeout=TIMEOUT_SECONDS)],
            "Stop": plain,
            "SessionEnd": plain,
        },
    )


def gemini_settings() -> AgentSettings:
    """Gemini CLI: .gemini/settings.json (gemini-cli docs/hooks/reference.md)."""
    command = hook_command("gemini")
    name = "swarm-coordinator"

    def group(matcher: str | None = None) -> list[Entry]:
        return [command_group(command, matcher=matcher, timeout=TIMEOUT_MS, name=name)]

    edits = "write_file|replace"
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


# --- the MCP server ---------------------------------------------------------------------------
#
# `swarm init --<agent>` also registers `swarm mcp` in the agent's MCP configuration, merged
# the same way: our server is added unless the file already names a server `swarm` or one
# running `swarm mcp`; everything else is kept, and a second run changes nothing.

#: The name our server is registered under.
MCP_SERVER_NAME = "swarm"
#: The command an agent's MCP client starts.
MCP_COMMAND = ("swarm", "mcp")


@dataclass(frozen=True)
class McpConfig:
    """Where an agent's project MCP servers are configured."""

    agent: str
    #: The file, relative to the repository root.
    path: str
    #: The table holding the servers, by name.
    table: str
    #: JSON, or TOML (Codex).
    toml: bool = False


MCP_CONFIGS = {
    # code.claude.com/docs/en/mcp (project scope)
    "claude": McpConfig("claude", ".mcp.json", "mcpServers"),
    # developers.openai.com/codex/mcp
    "codex": McpConfig("codex", ".codex/config.toml", "mcp_servers", toml=True),
    # gemini-cli docs/tools/mcp-server.md
    "gemini": McpConfig("gemini", ".gemini/settings.json", "mcpServers"),
    # cursor.com/docs/context/mcp
    "cursor": McpConfig("cursor", ".cursor/mcp.json", "mcpServers"),
}


def mcp_config_for(agent: str) -> McpConfig:
    """The MCP configuration file of `agent` (claude, codex, gemini or cursor)."""
    try:
        return MCP_CONFIGS[agent]
    except KeyError:
        raise AgentConfigError(f"no MCP configuration for agent {agent!r}") from None


def mcp_server_entry() -> Entry:
    """Our server's entry: a stdio server started as `swarm mcp`."""
    return {"command": MCP_COMMAND[0], "args": list(MCP_COMMAND[1:])}


def has_mcp_server(servers: Mapping[str, Any]) -> bool:
    """Whether a servers table already holds ours: by name, or by its command."""
    if MCP_SERVER_NAME in servers:
        return True
    ours = _normal(" ".join(MCP_COMMAND))
    for entry in servers.values():
        if isinstance(entry, dict) and isinstance(entry.get("command"), str):
            args = entry.get("args")
            words = [entry["command"], *(map(str, args) if isinstance(args, list) else ())]
            if _normal(" ".join(words)) == ours:
                return True
    return False


def merge_mcp_json(current: Mapping[str, Any], config: McpConfig) -> dict[str, Any]:
    """`current` with our server added to its servers table unless it is there (pure)."""
    merged = copy.deepcopy(dict(current))
    servers = merged.setdefault(config.table, {})
    if not isinstance(servers, dict):
        raise AgentConfigError(f'{config.path}: "{config.table}" is not a JSON object')
    if not has_mcp_server(servers):
        servers[MCP_SERVER_NAME] = mcp_server_entry()
    return merged


def merge_mcp_toml(text: str, config: McpConfig) -> str:
    """`text` with a `[mcp_servers.swarm]` table appended unless our server is there (pure).

    Appending keeps every byte of the file (comments, layout), which a parse-and-rewrite
    would not; the result is parsed again so that a file the table cannot be added to
    (say, `mcp_servers` written as an inline table) is refused instead of broken.
    """
    import tomllib

    try:
        current = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise AgentConfigError(
            f"{config.path} is not valid TOML ({err}); fix it, then run swarm init again"
        ) from None
    servers = current.get(config.table, {})
    if not isinstance(servers, dict):
        raise AgentConfigError(f'{config.path}: "{config.table}" is not a table')
    if has_mcp_server(servers):
        return text
    entry = mcp_server_entry()
    args = ", ".join(json.dumps(arg) for arg in entry["args"])
    block = (
        f"[{config.table}.{MCP_SERVER_NAME}]\n"
        f"command = {json.dumps(entry['command'])}\n"
        f"args = [{args}]\n"
    )
    head = text if not text or text.endswith("\n") else text + "\n"
    merged = f"{head}\n{block}" if head.strip() else block
    try:
        tomllib.loads(merged)
    except tomllib.TOMLDecodeError:
        raise AgentConfigError(
            f"{config.path}: cannot add [{config.table}.{MCP_SERVER_NAME}] to it; "
            f"add the server by hand (command {' '.join(MCP_COMMAND)!r})"
        ) from None
    return merged


def install_mcp_server(root: Path, agent: str, *, backup: bool = True) -> Installed:
    """Register `swarm mcp` in `agent`'s MCP configuration under `root`; create the file if
    absent, keep a backup of the previous version when changing it (unless `backup` is
    False: the caller already kept one this run), leave it untouched otherwise."""
    config = mcp_config_for(agent)
    path = root / config.path
    previous = path.read_text(encoding="utf-8") if path.is_file() else None
    if config.toml:
        text = merge_mcp_toml(previous or "", config)
    else:
        current = json_object(path, previous)
        merged = merge_mcp_json(current, config)
        text = render(merged) if merged != current or previous is None else previous
    if text == previous:
        return Installed(agent, path, created=False, changed=False, backup=None)
    kept = None
    if previous is not None and backup:
        kept = backup_path(path)
        _write_atomically(kept, previous)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, text)
    return Installed(agent, path, created=previous is None, changed=True, backup=kept)
