"""The pure pieces of `swarm mcp`: tool error text, identity, reserved keys, which resources
changed, and how the agents' MCP configuration files are merged."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from coordinator.agents.client_config import AgentConfigError
from coordinator.agents.mcp_config import (
    MCP_CONFIGS,
    has_mcp_server,
    merge_mcp_json,
    merge_mcp_toml,
)
from coordinator.errors import TaskNotReady
from coordinator.mcp.memory_tools import check_user_key
from coordinator.mcp.resources import changed_uris
from coordinator.mcp.server import agent_identity, refusal_text
from memory.errors import InvalidKey, SwarmError

# --- tool errors and identity -----------------------------------------------------------------


def test_refusal_text_is_the_hooks_line_then_its_details() -> None:
    err = TaskNotReady("task p/b is not ready; it waits on:", details=("requires a", "p/k >= 3"))
    assert refusal_text(err) == "task p/b is not ready; it waits on:\n  - requires a\n  - p/k >= 3"
    assert refusal_text(SwarmError("one line\nand more")) == "one line"


def test_identity_prefers_the_environment() -> None:
    assert agent_identity("carol", {"SWARM_AGENT_ID": "dave"}) == "dave"
    assert agent_identity("carol", {}) == "carol"
    assert agent_identity(None, {}) is None
    with pytest.raises(SwarmError, match="may not contain '/'"):
        agent_identity("a/b", {})


def test_the_reserved_root_is_refused() -> None:
    assert check_user_key("p/swarm/x") == "p/swarm/x"
    assert check_user_key("swarmy/x") == "swarmy/x"
    with pytest.raises(InvalidKey, match="reserved"):
        check_user_key("swarm/claims/x")


def test_changed_uris() -> None:
    before = {"a": "1", "b": "2", "gone": "3"}
    after = {"a": "1", "b": "9", "new": "4"}
    assert changed_uris(before, after) == ["b", "gone", "new"]
    assert changed_uris(after, after) == []


# --- MCP configuration files ------------------------------------------------------------------

OURS = {"command": "swarm", "args": ["mcp"]}


@pytest.mark.parametrize("agent", ["claude", "gemini", "cursor"])
def test_json_merge_adds_our_server_and_keeps_the_rest(agent: str) -> None:
    config = MCP_CONFIGS[agent]
    current: dict[str, Any] = {
        "theme": "dark",
        "mcpServers": {"db": {"command": "db-mcp", "args": ["--ro"]}},
    }
    merged = merge_mcp_json(current, config)
    assert merged == {
        "theme": "dark",
        "mcpServers": {"db": {"command": "db-mcp", "args": ["--ro"]}, "swarm": OURS},
    }
    assert current["mcpServers"] == {"db": {"command": "db-mcp", "args": ["--ro"]}}  # untouched
    assert merge_mcp_json(merged, config) == merged
    assert merge_mcp_json({}, config) == {"mcpServers": {"swarm": OURS}}


def test_our_server_is_recognised_by_name_or_by_command() -> None:
    assert has_mcp_server({"swarm": {"command": "something-else"}})
    assert has_mcp_server({"coordinator": {"command": "swarm", "args": ["mcp"]}})
    assert has_mcp_server({"c": {"command": "swarm  mcp"}})
    assert not has_mcp_server({"c": {"command": "swarm", "args": ["status"]}})
    assert not has_mcp_server({"c": "swarm mcp"})


def test_json_merge_refuses_a_servers_table_that_is_not_an_object() -> None:
    with pytest.raises(AgentConfigError, match='"mcpServers" is not a JSON object'):
        merge_mcp_json({"mcpServers": []}, MCP_CONFIGS["claude"])


def test_toml_merge_appends_a_table_and_keeps_every_byte() -> None:
    config = MCP_CONFIGS["codex"]
    original = (
        '# my settings\nmodel = "o3"\n\n[mcp_servers.docs]\ncommand = "docs-mcp"  # keep me\n'
    )
    merged = merge_mcp_toml(original, config)
    assert merged.startswith(original)
    data = tomllib.loads(merged)
    assert data["mcp_servers"] == {"docs": {"command": "docs-mcp"}, "swarm": OURS}
    assert data["model"] == "o3"
    assert merge_mcp_toml(merged, config) == merged
    assert tomllib.loads(merge_mcp_toml("", config)) == {"mcp_servers": {"swarm": OURS}}
    assert merge_mcp_toml('model = "o3"', config).startswith('model = "o3"\n\n[mcp_servers.')


def test_toml_merge_recognises_our_server_under_another_name() -> None:
    text = '[mcp_servers.coord]\ncommand = "swarm"\nargs = ["mcp"]\n'
    assert merge_mcp_toml(text, MCP_CONFIGS["codex"]) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model = \n", "is not valid TOML"),
        ('mcp_servers = "x"\n', '"mcp_servers" is not a table'),
        ('mcp_servers = { docs = { command = "d" } }\n', "add the server by hand"),
    ],
)
def test_toml_merge_refuses_what_it_cannot_extend(text: str, message: str) -> None:
    with pytest.raises(AgentConfigError, match=message):
        merge_mcp_toml(text, MCP_CONFIGS["codex"])
