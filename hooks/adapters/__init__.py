"""Adapters for agents' own hook protocols: `swarm hooks claude | codex | gemini | cursor`.

Each reads the JSON its agent writes on stdin, turns it into one coordinator call (claim a
file, record an edit, register or end a session, deliver notifications) and answers in the
agent's own output convention. The shared logic lives in `hooks.adapters.common`; this
module stays import-free so that building the `swarm hooks` parser costs nothing.
"""

from __future__ import annotations

import sys

#: The adapters, by sub-command name, with their one-line help.
ADAPTERS = {
    "claude": "Claude Code hook: read its hook JSON on stdin and answer in its convention.",
    "codex": "Codex CLI hook: read its hook JSON on stdin (apply_patch paths are claimed).",
    "gemini": "Gemini CLI hook: read its hook JSON on stdin and answer in its convention.",
    "cursor": "Cursor hook: read its hook JSON on stdin and answer in its convention.",
}


def run_adapter(name: str, agent: str | None, db: str | None) -> int:
    """Run adapter `name` on the payload waiting on stdin; return the exit code."""
    from hooks.adapters.common import run

    # __import__ with a fromlist returns the submodule (importlib would bring warnings).
    module = __import__(f"hooks.adapters.{name}", fromlist=["ADAPTER"])
    # Bytes: the payload is UTF-8 whatever the locale says (and may start with a BOM).
    stdin = getattr(sys.stdin, "buffer", sys.stdin)
    return run(module.ADAPTER, stdin, agent=agent, db=db)
