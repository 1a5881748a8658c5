"""Where a shell command's writes land in the repository: the adapters' judgement of a
shell command, the same one for every agent client.

`coordinator.claims.shell.parse` reads the command's text; this turns what it found into
repository-relative paths through the one canonicaliser (`coordinator.claims.paths`):
paths outside the repository are left out, a copy destination that is a directory is
not itself written, and the held paths a command reaches through a directory (`rm -rf
src`) or a glob (`rm src/*.py`) are added. The I/O is the file system's: resolving
paths, telling directories, reading the patch files a command applies.
"""

from __future__ import annotations

import os

from coordinator.claims.paths import repo_path
from coordinator.claims.shell.parse import reached_paths, shell_writes
from coordinator.errors import InvalidPath, PathOutsideRepo
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable

#: The most of a patch file read to find the files it names.
MAX_PATCH_BYTES = 1 << 20


class ShellTargets(NamedTuple):
    """A shell command's writes, judged in one repository."""

    #: Repository-relative paths the command writes, to claim like an edit's.
    paths: tuple[str, ...] = ()
    #: It may also write where its text does not say (the work-tree watcher will see it).
    unlocated: bool = False
    #: The parser could not read it.
    unreadable: bool = False
    #: For an unreadable command: the held paths its words name.
    named: tuple[str, ...] = ()


def shell_targets(root: str, cwd: str, command: str, held: Iterable[str]) -> ShellTargets:
    """What `command`, run in `cwd` inside the repository at `root`, writes there; `held`
    are the paths other agents hold (those a directory or a glob reaches are added)."""
    held = list(held)
    found = shell_writes(command, lambda path: _read_patch(os.path.join(cwd, path)))
    if found.unreadable:
        named = {_canonical(root, cwd, word) for word in found.words}
        return ShellTargets(unreadable=True, named=tuple(path for path in held if path in named))
    written = [_canonical(root, cwd, path) for path in found.paths]
    for destination in found.destinations:
        if not os.path.isdir(os.path.join(cwd, destination)):
            written.append(_canonical(root, cwd, destination))
    patterns = [_pattern(root, cwd, pattern) for pattern in found.patterns]
    paths = reached_paths(
        [path for path in written if path is not None],
        [pattern for pattern in patterns if pattern is not None],
        held,
    )
    return ShellTargets(tuple(paths), found.unlocated or None in patterns)


def _canonical(root: str, cwd: str, path: str) -> str | None:
    """`path` relative to the repository ("" for its root), or None outside it."""
    try:
        return repo_path(root, path, cwd)
    except PathOutsideRepo:
        here = os.path.realpath(os.path.join(cwd, path))
        return "" if here == os.path.realpath(root) else None
    except InvalidPath:
        return None


def _pattern(root: str, cwd: str, pattern: str) -> str | None:
    """A glob's repository-relative form (its directories resolved, not its pattern)."""
    head, _, tail = pattern.rpartition("/")
    if any(char in head for char in "*?["):
        return None  # a glob in a directory: matched by no held path here
    directory = os.path.realpath(os.path.join(cwd, head or "."))
    base = os.path.realpath(root)
    if directory != base and not directory.startswith(base + os.sep):
        return None
    relative = os.path.relpath(directory, base)
    return tail if relative == "." else f"{relative.replace(os.sep, '/')}/{tail}"


def _read_patch(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_PATCH_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
