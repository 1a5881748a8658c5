"""Codex CLI: `swarm hooks codex`, installed by `swarm init --codex` (.codex/hooks.json).

Codex's hooks (https://developers.openai.com/codex/hooks, and the JSON schemas in
openai/codex `codex-rs/hooks/schema/generated/`) use Claude Code's wire format: session_id,
transcript_path, cwd, hook_event_name and model on every payload, turn_id on turn events,
tool_name/tool_input/tool_use_id on PreToolUse and PostToolUse, and the same
`permissionDecision: "deny"` and `additionalContext` answers. Its file edits go through
`apply_patch`, whose `tool_input.command` is the patch itself: the files are named on its
`*** Add File:`, `*** Update File:`, `*** Delete File:` and `*** Move to:` lines, relative to
the session's cwd. Codex fires SessionEnd when a session ends (it is in the client's
built-in hook schemas), which releases the session's claims like Claude Code's.
"""

from __future__ import annotations

from coordinator.claims.patches import patch_paths
from hooks.adapters import BadPayload
from hooks.adapters.claude import ClaudeCode
from hooks.adapters.invocation import Hook


class Codex(ClaudeCode):
    """Codex's events: SessionStart, UserPromptSubmit, PreToolUse, PostToolUse, Stop,
    SessionEnd."""

    name = "codex"

    def edited_paths(self, hook: Hook) -> list[str]:
        """apply_patch: every file the patch names; Edit/Write-shaped tools: their file_path."""
        if hook.text("tool_name") != "apply_patch":
            return super().edited_paths(hook)
        patch = hook.text("command", hook.fields("tool_input"))
        if patch is None:
            raise BadPayload(f"{hook.event} payload: apply_patch tool_input has no command")
        return patch_paths(patch)


ADAPTER = Codex()
