"""The daemon's eye on the work tree: which files changed on disk.

Edits normally arrive through post-edit; watching the files themselves catches the ones
no hook announced. `.git`, `.swarm` and paths git ignores are left out.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

SKIPPED_DIRS = frozenset({".git", ".swarm"})


def _relevant(root: Path, path: str) -> str | None:
    from coordinator.claims.paths import repo_path
    from coordinator.errors import InvalidPath, PathOutsideRepo

    try:
        relative = Path(path).relative_to(root)
    except ValueError:
        return None
    if not relative.parts or relative.parts[0] in SKIPPED_DIRS:
        return None
    try:
        # The one canonicaliser: a symlink is judged by the file it leads to.
        canonical = repo_path(root, path)
    except (PathOutsideRepo, InvalidPath):
        return None
    return None if canonical.split("/")[0] in SKIPPED_DIRS else canonical


def not_ignored(root: Path, paths: list[str]) -> list[str]:
    """The paths git does not ignore (all of them outside a git repository)."""
    if not paths or not (root / ".git").exists():
        return paths
    proc = subprocess.run(
        ["git", "check-ignore", "--stdin", "-z"],
        cwd=root,
        input="\0".join(paths) + "\0",
        capture_output=True,
        text=True,
        check=False,
    )
    ignored = set(filter(None, proc.stdout.split("\0")))
    return [p for p in paths if p not in ignored]


async def changed_paths(root: Path, stop: anyio.Event) -> AsyncIterator[list[str]]:
    """Batches of repository-relative paths of files that changed, until `stop` is set."""
    from watchfiles import Change, awatch

    root = root.resolve()

    def accept(_change: Change, path: str) -> bool:
        return _relevant(root, path) is not None

    async for changes in awatch(root, watch_filter=accept, stop_event=stop, step=20):
        candidates = sorted(
            {rel for _, path in changes if (rel := _relevant(root, path)) is not None}
        )
        files = [p for p in candidates if not (root / p).is_dir()]
        kept = await anyio.to_thread.run_sync(not_ignored, root, files)
        if kept:
            yield kept
