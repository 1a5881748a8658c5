"""Shell tool calls judged like edits: Claude Code's and Codex's `Bash`, Gemini CLI's
`run_shell_command` and Cursor's `beforeShellExecution`.

The files a command writes (`coordinator.claims.shell.targets`) are claimed before it runs,
exactly as an edit tool's file is: a held one refuses the command, naming the holder, and
free ones are claimed for the agent. After it ran they are recorded as edits. A command
whose writes cannot be located (`python -c ...`, `make`) is allowed; the daemon's
work-tree watcher reports what it wrote. A command the parser cannot read is allowed too,
unless `SWARM_FAIL_CLOSED=1` is set and it names a held path. Imported only for shell
tool events, so edit hooks do not pay for it.
"""

from __future__ import annotations

import os

from hooks.adapters import enabled
from hooks.adapters.invocation import claim, record

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from hooks.adapters.invocation import Hook


class ShellJudgement:
    """What a shell command writes in the agent's repository, and whether to refuse it
    unread."""

    def __init__(self, paths: list[str], refusal: str | None = None) -> None:
        #: Absolute paths of the files it writes, for `claim` and `record`.
        self.paths = paths
        #: Set when the command must be refused without being claimed for.
        self.refusal = refusal


def judge(hook: Hook, command: str) -> ShellJudgement:
    """The files `command`, run in the hook's cwd, writes in the agent's repository."""
    from coordinator.claims.shell.parse import might_write

    if not might_write(command):
        return ShellJudgement([])
    from coordinator.claims.globs import is_glob
    from coordinator.claims.grants import list_claims
    from coordinator.claims.paths import shown_path
    from coordinator.claims.shell.targets import shell_targets

    hook.editing([])
    held = []
    for held_claim in list_claims(hook.store()):
        literal = shown_path(held_claim.path)
        if held_claim.agent != hook.agent and not is_glob(literal):
            held.append(literal)
    targets = shell_targets(hook.root, hook.cwd, command, held)
    if targets.unreadable:
        if targets.named and enabled(hook.environ, "SWARM_FAIL_CLOSED"):
            reason = claim(hook, [os.path.join(hook.root, path) for path in targets.named])
            if reason is not None:
                note = "the command could not be parsed and names a held file"
                return ShellJudgement([], f"{reason} ({note}; SWARM_FAIL_CLOSED is set)")
        return ShellJudgement([])
    return ShellJudgement([os.path.join(hook.root, path) for path in targets.paths])


def before_shell(hook: Hook, command: str) -> str | None:
    """Claim what `command` writes before it runs: None when it may run, else the reason
    it may not (the holder and its task, as an edit's refusal names them)."""
    judgement = judge(hook, command)
    if judgement.refusal is not None:
        return judgement.refusal
    return claim(hook, judgement.paths) if judgement.paths else None


def after_shell(hook: Hook, command: str) -> list[str]:
    """Record what `command` wrote as edits; return the conflicts that revealed."""
    judgement = judge(hook, command)
    return record(hook, judgement.paths) if judgement.paths else []
