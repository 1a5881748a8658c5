"""Git plumbing the pre-commit guard and the merge prediction share: running git, the root
of the work tree, and the store of the main work tree seen from a linked one.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from memory.errors import SwarmError


def run_git(
    args: Sequence[str], cwd: Path, ok: Iterable[int] = (0,)
) -> subprocess.CompletedProcess[str]:
    """Run git in `cwd`; raise SwarmError with git's first stderr line unless the exit
    code is in `ok`. Paths come back as git wrote them (undecodable bytes escaped)."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            check=False,
        )
    except FileNotFoundError:
        raise SwarmError("git is not installed or not on PATH") from None
    except NotADirectoryError:
        raise SwarmError(f"{cwd} is not a directory") from None
    if proc.returncode not in tuple(ok):
        lines = proc.stderr.strip().splitlines()
        detail = lines[0] if lines else f"exit code {proc.returncode}"
        raise SwarmError(f"git {args[0]} failed: {detail}")
    return proc


def repo_toplevel(cwd: Path) -> Path:
    """The root of the work tree around `cwd`; SwarmError outside a git repository."""
    proc = run_git(["rev-parse", "--show-toplevel"], cwd, ok=(0, 128))
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SwarmError(f"{cwd} is not inside a git work tree")
    return Path(proc.stdout.strip())


def main_worktree_store(repo_root: Path) -> Path | None:
    """The store of the repository's main work tree, seen from a linked worktree (the
    `.swarm/` directory is not versioned, so a worktree has none of its own)."""
    proc = run_git(["rev-parse", "--path-format=absolute", "--git-common-dir"], repo_root)
    common = Path(proc.stdout.strip())
    if common.name != ".git":
        return None
    from coordinator.project import STORE_DIR, store_in

    found = store_in(common.parent / STORE_DIR)
    return None if found is None else Path(found)
