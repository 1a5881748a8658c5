"""Claude Code's events about where an agent works: `CwdChanged` (the agent registers
with the store of the repository it moved into, its worktree the work tree around its new
directory, which is what `swarm conflicts` reads its branch from), and `WorktreeCreate`
and `WorktreeRemove`, which `swarm init --claude` does not install: a configured
WorktreeCreate hook replaces Claude Code's own `git worktree add`, so these do what Claude
Code does by default (a worktree at `<repo>/.claude/worktrees/<name>` on a new branch
`worktree-<name>` from HEAD; `git worktree remove`, which keeps a worktree with changes),
answer as Claude Code asks (the worktree's absolute path on stdout) and record it.

Imported only for these events: they run git, which no other hook does.
"""

from __future__ import annotations

import os
import re

from hooks.adapters import BadPayload
from hooks.adapters.invocation import Hook

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from pathlib import Path

#: A worktree name Claude Code suggests: one path segment, no leading dot.
_NAME = r"[A-Za-z0-9_][A-Za-z0-9._-]*"
#: Where Claude Code puts the worktrees it makes, under the main work tree.
WORKTREES = os.path.join(".claude", "worktrees")


def moved(hook: Hook) -> None:
    """CwdChanged: when a store governs the new working directory, register the agent
    there (or renew it) with its worktree: the work tree around the new directory, whose
    checked-out branch is the agent's for merge prediction. Nothing outside any store."""
    from pathlib import Path

    from coordinator.agents.sessions import start_session
    from coordinator.git.repo import repo_toplevel
    from memory.errors import SwarmError

    if not hook.finds_store():
        return  # moved out of every swarm repository: nothing of ours to tell
    try:
        worktree: str | None = str(repo_toplevel(Path(hook.cwd)))
    except SwarmError:
        worktree = None  # not a git work tree: registered without one
    start_session(hook.store(), hook.session, hook.agent, worktree=worktree, client=hook.client)


def create_worktree(hook: Hook) -> str:
    """WorktreeCreate: make the worktree Claude Code would (or find it made, on a resumed
    session), record it, and return its absolute path."""
    from coordinator.git.repo import run_git
    from coordinator.state import event_op

    name = hook.text("name")
    if name is None or re.fullmatch(_NAME, name) is None:
        raise BadPayload(f"WorktreeCreate payload: name {name!r} is not one path segment")
    main = main_work_tree(hook.cwd)
    path = main / WORKTREES / name
    branch = f"worktree-{name}"
    if not (path / ".git").exists():
        exists = run_git(
            ["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], main, ok=(0, 1)
        )
        add = [str(path), branch] if exists.returncode == 0 else ["-b", branch, str(path), "HEAD"]
        run_git(["worktree", "add", "--quiet", *add], main)
        if hook.finds_store():
            store = hook.store()
            store.txn(
                [],
                [
                    event_op(
                        "worktree_created",
                        store.clock(),
                        agent=hook.agent,
                        message=str(path),
                        branch=branch,
                    )
                ],
            )
    return str(path)


def remove_worktree(hook: Hook) -> None:
    """WorktreeRemove: `git worktree remove` (which refuses a worktree with changes, so no
    work is lost: the refusal is the hook's error), then record it."""
    from pathlib import Path

    from coordinator.git.repo import run_git
    from coordinator.state import event_op

    given = hook.text("worktree_path")
    if given is None or not os.path.isabs(given):
        raise BadPayload("WorktreeRemove payload: worktree_path is missing or not absolute")
    path = Path(given)
    if path.exists():
        run_git(["worktree", "remove", str(path)], main_work_tree(str(path)))
    if hook.finds_store():
        store = hook.store()
        store.txn(
            [], [event_op("worktree_removed", store.clock(), agent=hook.agent, message=given)]
        )


def main_work_tree(cwd: str) -> Path:
    """The repository's main work tree, from anywhere in it or in one of its worktrees."""
    from pathlib import Path

    from coordinator.git.repo import repo_toplevel, run_git

    proc = run_git(["rev-parse", "--path-format=absolute", "--git-common-dir"], Path(cwd))
    common = Path(proc.stdout.strip())
    return common.parent if common.name == ".git" else repo_toplevel(Path(cwd))
