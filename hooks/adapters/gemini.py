"""Gemini CLI: `swarm hooks gemini`, installed by `swarm init --gemini` (.gemini/settings.json).

Follows Gemini CLI's hooks reference (google-gemini/gemini-cli `docs/hooks/reference.md`):
every payload carries session_id, transcript_path, cwd, hook_event_name and timestamp;
BeforeTool and AfterTool add tool_name and tool_input (AfterTool also tool_response). A tool
call is refused with `{"decision": "deny", "reason": ...}` on stdout (the reason goes to the
model as the tool's error) or with exit 2 and the reason on stderr; context reaches the
model as `hookSpecificOutput.additionalContext` (SessionStart, BeforeAgent, AfterTool).
The file-writing tools are `write_file` and `replace`, naming their file in
tool_input.file_path (`absolute_path` in older releases).
"""

from __future__ import annotations

import shlex

from hooks.adapters import (
    SILENT,
    Adapter,
    BadPayload,
    Outcome,
    additional_context,
    answer,
    conflicts_context,
)
from hooks.adapters.invocation import (
    Hook,
    claim,
    end,
    finish_on_stop,
    record,
    session_context,
    unread_context,
)

#: The shell tool, whose tool_input.command is judged for the files it writes.
SHELL_TOOL = "run_shell_command"
#: The file-writing tools.
EDIT_TOOLS = frozenset({"write_file", "replace"})
PATH_FIELDS = ("file_path", "absolute_path")


class GeminiCli(Adapter):
    """Gemini CLI's events: SessionStart, BeforeAgent, BeforeTool, AfterTool, AfterAgent,
    SessionEnd."""

    name = "gemini"
    tool_events = frozenset({"BeforeTool"})
    stop_events = frozenset({"AfterAgent"})

    def handle(self, hook: Hook) -> Outcome:
        """Act on one Gemini CLI event."""
        event = hook.event
        if event == "SessionStart":
            return self.context(event, session_context(hook))
        if event == "BeforeAgent":
            return self.context(event, unread_context(hook))
        if event in ("BeforeTool", "AfterTool"):
            return self.tool(hook)
        if event == "SessionEnd":
            end(hook)
        elif event == "AfterAgent":
            finish_on_stop(hook)
        return SILENT

    def tool(self, hook: Hook) -> Outcome:
        """BeforeTool claims the files a tool call writes, AfterTool records them."""
        if hook.text("tool_name") == SHELL_TOOL:
            return self.shell(hook)
        if hook.text("tool_name") not in EDIT_TOOLS:
            return SILENT
        paths = [hook.tool_path(*PATH_FIELDS)]
        if hook.event == "BeforeTool":
            reason = claim(hook, paths)
            return SILENT if reason is None else self.deny(hook.event, reason)
        return self.context(hook.event, conflicts_context(record(hook, paths)))

    def shell(self, hook: Hook) -> Outcome:
        """run_shell_command: its writes claimed before, recorded after (judged in its
        `dir_path` when it names one)."""
        from hooks.adapters.shell import after_shell, before_shell

        tool_input = hook.fields("tool_input")
        command = hook.text("command", tool_input)
        if command is None:
            raise BadPayload(f"{hook.event} payload: {SHELL_TOOL} tool_input has no command")
        directory = hook.text("dir_path", tool_input) or hook.text("directory", tool_input)
        if directory is not None:
            command = f"cd {shlex.quote(directory)} && {command}"
        if hook.event == "BeforeTool":
            reason = before_shell(hook, command)
            return SILENT if reason is None else self.deny(hook.event, reason)
        return self.context(hook.event, conflicts_context(after_shell(hook, command)))

    def context(self, event: str, text: str | None) -> Outcome:
        """`additionalContext` for the model, or nothing when there is nothing to say."""
        return additional_context(event, text)

    def deny(self, event: str, reason: str) -> Outcome:
        """Refuse the tool call; the reason is sent to the model as the tool's error."""
        return answer({"decision": "deny", "reason": reason})


ADAPTER = GeminiCli()
