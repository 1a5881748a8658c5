"""Cursor: `swarm hooks cursor`, installed by `swarm init --cursor` (.cursor/hooks.json).

Follows Cursor's agent hooks (https://cursor.com/docs/agent/hooks): hooks.json is
`{"version": 1, "hooks": {"<event>": [{"command": ...}]}}` with camelCase events; every
payload carries conversation_id, generation_id, hook_event_name and workspace_roots (and,
in current releases, model, cursor_version, user_email, transcript_path). preToolUse adds
tool_name, tool_input and tool_use_id and is refused with
`{"permission": "deny", "user_message": ..., "agent_message": ...}`; afterFileEdit carries
file_path and edits and cannot answer; sessionStart may answer `additional_context`.
Cursor's prompt hook (beforeSubmitPrompt) cannot add context, so notifications reach a
Cursor agent at session start only.
"""

from __future__ import annotations

from coordinator.claims.patches import patch_paths
from hooks.adapters import SILENT, Adapter, BadPayload, Outcome, answer
from hooks.adapters.invocation import Hook, claim, end, finish_on_stop, record, session_context

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

#: The agent tools that write or delete a file, as preToolUse names them (StrReplace and
#: ApplyPatch are seen in captured payloads of current releases).
EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "StrReplace", "ApplyPatch", "Delete"})
PATH_FIELDS = ("file_path", "path", "target_file")
#: tool_input fields that may hold an ApplyPatch patch, whose file headers name the files.
PATCH_FIELDS = ("patch", "input", "command", "diff")


class Cursor(Adapter):
    """Cursor's events: sessionStart, preToolUse, beforeShellExecution, afterFileEdit,
    afterShellExecution, stop, sessionEnd."""

    name = "cursor"
    session_fields = ("conversation_id", "session_id")
    tool_events = frozenset({"preToolUse", "beforeShellExecution"})
    stop_events = frozenset({"stop", "subagentStop"})

    def handle(self, hook: Hook) -> Outcome:
        """Act on one Cursor event."""
        event = hook.event
        if event == "sessionStart":
            return answer({"additional_context": session_context(hook)})
        if event == "preToolUse":
            if hook.text("tool_name") not in EDIT_TOOLS:
                return SILENT
            reason = claim(hook, self.edited_paths(hook))
            return SILENT if reason is None else self.deny(event, reason)
        if event in ("beforeShellExecution", "afterShellExecution"):
            return self.shell(hook)
        if event == "afterFileEdit":
            path = hook.text("file_path")
            if path is None:
                raise BadPayload(f"{event} payload has no file_path")
            record(hook, [path])
        elif event == "sessionEnd":
            end(hook)
        elif event == "stop":
            finish_on_stop(hook)
        return SILENT

    def shell(self, hook: Hook) -> Outcome:
        """beforeShellExecution claims what the command writes (refused with `permission:
        deny`); afterShellExecution records it."""
        from hooks.adapters.shell import after_shell, before_shell

        command = hook.text("command")
        if command is None:
            raise BadPayload(f"{hook.event} payload has no command")
        if hook.event == "beforeShellExecution":
            reason = before_shell(hook, command)
            return SILENT if reason is None else self.deny(hook.event, reason)
        after_shell(hook, command)
        return SILENT

    def edited_paths(self, hook: Hook) -> list[str]:
        """The file a tool call names; for ApplyPatch also every file its patch names."""
        tool_input = hook.fields("tool_input")
        paths = [p for key in PATH_FIELDS if (p := hook.text(key, tool_input)) is not None][:1]
        if hook.text("tool_name") == "ApplyPatch":
            for key in PATCH_FIELDS:
                patch = hook.text(key, tool_input)
                if patch is not None:
                    paths += [p for p in patch_paths(patch) if p not in paths]
        if not paths:
            return [hook.tool_path(*PATH_FIELDS)]  # raises BadPayload naming the fields
        return paths

    def deny(self, event: str, reason: str) -> Outcome:
        """Refuse the tool call: `agent_message` goes to the model, `user_message` to you."""
        return answer({"permission": "deny", "user_message": reason, "agent_message": reason})

    def cwd_of(self, payload: Mapping[str, Any]) -> str | None:
        """`cwd` when the event has one, else the first workspace root."""
        cwd = super().cwd_of(payload)
        roots = payload.get("workspace_roots")
        if cwd is None and isinstance(roots, list) and roots and isinstance(roots[0], str):
            return roots[0]
        return cwd


ADAPTER = Cursor()
