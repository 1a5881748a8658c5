"""The agents' MCP configuration files: where each keeps its servers, and adding ours there.

`swarm init --<agent>` also registers `swarm mcp` in the agent's MCP configuration, merged
the same way as its hooks (`coordinator.agents.client_config`): our server is added unless
the file already names a server `swarm` or one running `swarm mcp`; everything else is kept,
and a second run changes nothing. Codex keeps its servers in TOML, the others in JSON.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coordinator.agents.client_config import (
    AgentConfigError,
    Entry,
    Installed,
    _normal,
    _write_atomically,
    backup_path,
    json_object,
    render,
)

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
