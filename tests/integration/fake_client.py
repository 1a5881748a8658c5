"""A stand-in for an agent client (Claude Code) as a process of its own: it runs its hooks
through `sh -c` and starts `swarm mcp` as its child, with no SWARM_AGENT_ID, the way the real
client does (tests/e2e runs the real one).

    python fake_client.py SWARM REPO SESSION

prints, as JSON: the claim_files result before any hook ran, after SessionStart, and the
answer of the PreToolUse hook of an Edit of the claimed file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import TextContent

PATH = "src/app.py"


def hook(swarm: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run `swarm hooks claude` through a shell, as Claude Code runs a hook command."""
    proc = subprocess.run(
        ["sh", "-c", f"'{swarm}' hooks claude"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return {"code": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


async def claim(client: Client) -> dict[str, Any]:
    """claim_files on PATH: the error text, or the holder granted."""
    result = await client.call_tool("claim_files", {"paths": [PATH]})
    if result.is_error:
        block = result.content[0]
        return {"error": block.text if isinstance(block, TextContent) else ""}
    [grant] = (result.structured_content or {})["result"]
    return {"agent": grant["agent"]}


async def main(swarm: str, repo: Path, session: str) -> dict[str, Any]:
    """Ask before any hook ran, run SessionStart, ask again, then the PreToolUse hook."""
    base = {"session_id": session, "transcript_path": "/dev/null", "cwd": str(repo)}
    params = StdioServerParameters(command=swarm, args=["mcp"], cwd=str(repo))
    out: dict[str, Any] = {}
    async with Client(params) as client:
        out["before"] = await claim(client)
        out["start"] = hook(swarm, {**base, "hook_event_name": "SessionStart"})
        out["claim"] = await claim(client)
    edit = {"file_path": str(repo / PATH), "old_string": "a", "new_string": "b"}
    out["pre"] = hook(
        swarm,
        {**base, "hook_event_name": "PreToolUse", "tool_name": "Edit", "tool_input": edit},
    )
    return out


if __name__ == "__main__":
    swarm_bin, repo_dir, session_id = sys.argv[1:4]
    print(json.dumps(anyio.run(main, swarm_bin, Path(repo_dir), session_id)))
