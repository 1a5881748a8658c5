"""Claude Code: `swarm hooks claude`, installed by `swarm init --claude` (.claude/settings.json).

Follows the Claude Code hooks reference (https://code.claude.com/docs/en/hooks): every payload
carries session_id, transcript_path, cwd and hook_event_name; PreToolUse and PostToolUse add
tool_name, tool_input and tool_use_id (PostToolUse also tool_response); events fired inside a
subagent add agent_id and agent_type. A tool call is refused with
`hookSpecificOutput.permissionDecision: "deny"` and exit 0; context reaches the model as
`hookSpecificOutput.additionalContext`. Exit 1 is a non-blocking error, exit 2 a block.

Newer events (measured on 2.1.337): SubagentStart (agent_id, agent_type; its context goes
to the subagent), PostToolBatch (once after a batch of tool calls, before the next model
request: tool_calls, each result as the text the model saw, refused and failed calls
alike, which is why edits are recorded on PostToolUse, fired only for calls that
succeeded), CwdChanged (old_cwd, new_cwd; later payloads carry the new cwd), and
WorktreeCreate (name; the worktree's path answered on stdout) and WorktreeRemove
(worktree_path), for which see `hooks.adapters.worktrees`.
"""

from __future__ import annotations

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

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

#: The shell tools, whose tool_input.command is judged for the files it writes (Codex
#: names its shell tool `Bash` in hooks too).
SHELL_TOOLS = frozenset({"Bash"})
#: The file-editing tools, and the tool_input fields naming their file.
EDIT_TOOLS = {
    "Edit": ("file_path",),
    "Write": ("file_path",),
    "MultiEdit": ("file_path",),
    "NotebookEdit": ("notebook_path", "file_path"),
}


class ClaudeCode(Adapter):
    """Claude Code's events: SessionStart and SubagentStart (registers the session's agent
    or the subagent, and tells it its task, files and notifications), UserPromptSubmit and
    PostToolBatch (new notifications), PreToolUse, PostToolUse, SessionEnd (releases the
    session's claims and its subagents'), Stop and SubagentStop (releases that subagent's
    claims), CwdChanged, WorktreeCreate and WorktreeRemove. Codex CLI speaks the same
    protocol."""

    name = "claude"
    subagent_field = "agent_id"
    tool_events = frozenset({"PreToolUse"})
    # Exit 2 on PostToolBatch stops the agentic loop: more than a refusal, so never sent.
    stop_events = frozenset({"Stop", "SubagentStop", "PostToolBatch"})

    def handle(self, hook: Hook) -> Outcome:
        """Act on one Claude Code event."""
        event = hook.event
        if event in ("SessionStart", "SubagentStart"):
            return self.context(event, session_context(hook))
        if event in ("UserPromptSubmit", "PostToolBatch"):
            return self.context(event, unread_context(hook))
        if event in ("CwdChanged", "WorktreeCreate", "WorktreeRemove"):
            return self.workplace(hook)
        if event in ("PreToolUse", "PostToolUse"):
            return self.tool(hook)
        if event == "SessionEnd":
            end(hook)  # the session's agent and its subagents
        elif event == "Stop":
            finish_on_stop(hook)
        elif event == "SubagentStop":
            finish_on_stop(hook)
            end(hook)  # a subagent that stopped is done: release what it held
        return SILENT

    def tool(self, hook: Hook) -> Outcome:
        """PreToolUse claims the files a tool call writes, PostToolUse records them."""
        command = self.shell_command(hook)
        if command is not None:
            return self.shell(hook, command)
        paths = self.edited_paths(hook)
        if not paths:
            return SILENT
        if hook.event == "PreToolUse":
            reason = claim(hook, paths)
            return SILENT if reason is None else self.deny(hook.event, reason)
        return self.context(hook.event, conflicts_context(record(hook, paths)))

    def shell_command(self, hook: Hook) -> str | None:
        """The command of a shell tool call, or None for any other tool."""
        if hook.text("tool_name") not in SHELL_TOOLS:
            return None
        command = hook.text("command", hook.fields("tool_input"))
        if command is None:
            raise BadPayload(f"{hook.event} payload: Bash tool_input has no command")
        return command

    def shell(self, hook: Hook, command: str) -> Outcome:
        """A shell tool call: its writes claimed before, recorded after."""
        from hooks.adapters.shell import after_shell, before_shell

        if hook.event == "PreToolUse":
            reason = before_shell(hook, command)
            return SILENT if reason is None else self.deny(hook.event, reason)
        return self.context(hook.event, conflicts_context(after_shell(hook, command)))

    def workplace(self, hook: Hook) -> Outcome:
        """Where the agent works: CwdChanged, WorktreeCreate, WorktreeRemove."""
        from hooks.adapters import worktrees

        if hook.event == "CwdChanged":
            worktrees.moved(hook)
        elif hook.event == "WorktreeCreate":
            return Outcome(worktrees.create_worktree(hook) + "\n")
        else:
            worktrees.remove_worktree(hook)
        return SILENT

    def cwd_of(self, payload: Mapping[str, Any]) -> str | None:
        """The working directory: CwdChanged's new one, else the payload's `cwd`."""
        new = payload.get("new_cwd") if payload.get("hook_event_name") == "CwdChanged" else None
        return new if isinstance(new, str) and new else super().cwd_of(payload)

    def edited_paths(self, hook: Hook) -> list[str]:
        """The files the tool call edits (none for tools that edit no file)."""
        keys = EDIT_TOOLS.get(hook.text("tool_name") or "")
        return [] if keys is None else [hook.tool_path(*keys)]

    def context(self, event: str, text: str | None) -> Outcome:
        """`additionalContext` for the model, or nothing when there is nothing to say."""
        return additional_context(event, text)

    def deny(self, event: str, reason: str) -> Outcome:
        """Refuse the tool call; the reason is shown to the model."""
        return answer(
            {
                "hookSpecificOutput": {
                    "hookEventName": event,
                    "permissionDecision": "deny",
                    "permissionDecisionReason": reason,
                }
            }
        )


ADAPTER = ClaudeCode()
