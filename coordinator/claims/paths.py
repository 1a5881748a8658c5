"""One canonicaliser for every path that reaches the claims: from agents' hooks and
adapters, the claims CLI, the git guard and the daemon's work-tree watcher.

A path from an agent is a literal path, never a pattern: `..` and symlinks are resolved
on the real file system first (`os.path.realpath`), and only then is it judged inside or
outside the repository. A file name holding `*`, `?` or `[` (Next.js's `app/[slug]/`) is
just a name. A literal becomes a claim through `claim_pattern`, which escapes those
characters, so that the claim covers that one file and nothing else.

Patterns exist only where a command takes one explicitly (`swarm claims`, `pre-edit
--file`, plan `files:`): `pattern_path` takes a name that exists on disk as that file,
and otherwise resolves the literal directories before the first wildcard the same way
and keeps the rest as the pattern.

Hard links are not followed: two names of one inode are two paths, and a claim on one
does not cover the other (the file system has no cheap way back from an inode to its
names).
"""

from __future__ import annotations

import os
import re

from coordinator.claims.globs import is_glob
from coordinator.errors import InvalidPath, PathOutsideRepo
from memory.locator import split_path

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from memory.locator import StrPath

#: Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: a path
#: holding one could forge a line in a view or a log. (Patterns as text, compiled by `re`
#: on first use: a path that `str.isprintable()` passes holds none of these, nor a lone
#: surrogate, and most paths are printable.)
_CONTROL = "[\x00-\x1f\x7f-\x9f\u2028\u2029]"
_SURROGATE = "[\ud800-\udfff]"
_ESCAPED = r"\[([*?\[])\]"


def check_path_text(path: str) -> str:
    """`path`, or InvalidPath when it is empty or holds a control character or a lone
    surrogate (text no file system name should be made of)."""
    if not path:
        raise InvalidPath("invalid path: it is empty")
    if path.isprintable():
        return path
    if re.search(_CONTROL, path):
        raise InvalidPath(f"invalid path {path!r}: it holds a control character")
    if re.search(_SURROGATE, path):
        shown = path.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        raise InvalidPath(f"invalid path {shown!r}: it is not valid Unicode")
    return path


def repo_path(repo_root: StrPath, path: str, cwd: StrPath | None = None) -> str:
    """The POSIX path, relative to the repository root, of the literal `path` (absolute,
    or relative to `cwd`): `..` and symlinks resolved on the real file system first.
    PathOutsideRepo when it lies outside the repository or is the root itself."""
    check_path_text(path)
    root = os.path.realpath(repo_root)
    given = path if os.path.isabs(path) else os.path.join(_here(cwd), path)
    resolved = os.path.realpath(given)
    relative = _relative_to(resolved, root)
    if relative is None:
        raise PathOutsideRepo(f"{path} is outside the repository {root}")
    if not relative:
        raise PathOutsideRepo(f"{path} is the repository root itself, not a file")
    return relative


def _here(cwd: StrPath | None) -> str:
    return os.getcwd() if cwd is None else os.fspath(cwd)


def _relative_to(path: str, root: str) -> str | None:
    """`path` relative to its ancestor `root` ("" for the root itself), or None when it is
    not under `root`; both resolved (os.path.realpath)."""
    if path == root:
        return ""
    prefix = root if root.endswith("/") else f"{root}/"
    return path[len(prefix) :] if path.startswith(prefix) else None


def claim_pattern(path: str) -> str:
    """The claim pattern that covers exactly the literal repository path `path`: its
    `*`, `?` and `[` escaped as one-character classes (`[*]`, `[?]`, `[[]`)."""
    return re.sub(r"([*?\[])", r"[\1]", path) if is_glob(path) else path


def shown_path(pattern: str) -> str:
    """How a claim is shown: the literal path when `pattern` is an escaped literal
    (`app/[[]slug]/page.tsx` is shown as `app/[slug]/page.tsx`), else the pattern; any
    control character (in a record written by hand) escaped, so it cannot forge a line."""
    literal = re.sub(_ESCAPED, r"\1", pattern) if "[" in pattern else pattern
    shown = literal if literal != pattern and claim_pattern(literal) == pattern else pattern
    if shown.isprintable():
        return shown
    return re.sub(_CONTROL, lambda found: repr(found.group())[1:-1], shown)


def pattern_path(repo_root: StrPath, pattern: str, cwd: StrPath | None = None) -> str:
    """A claim pattern (or path) given to a command that takes one, relative to the
    repository root: its literal leading directories are canonicalised like `repo_path`,
    its pattern part is kept. A pattern part holding `.` or `..` segments is refused (it
    would climb out of the directory it names)."""
    check_path_text(pattern)
    root_part, parts = split_path(pattern)  # as pathlib reads it: `a//b/./c` is a/b/c
    normal = root_part + "/".join(parts)
    if not is_glob(pattern) or os.path.lexists(os.path.join(_here(cwd), normal or ".")):
        # No wildcard, or a file of that very name: the path of that one file.
        return claim_pattern(repo_path(repo_root, pattern, cwd))
    index = next(i for i, part in enumerate(parts) if is_glob(part))
    literal, rest = root_part + "/".join(parts[:index]), parts[index:]
    if any(part in (".", "..") for part in rest):
        raise PathOutsideRepo(
            f"{pattern}: a glob may not hold '.' or '..' after its first wildcard"
        )
    root = os.path.realpath(repo_root)
    if literal:
        try:
            base = repo_path(repo_root, literal, cwd)
        except PathOutsideRepo:
            # The root itself (`*.py` in the root): the pattern alone.
            if os.path.realpath(os.path.join(_here(cwd), literal)) != root:
                raise
            base = ""
    else:
        relative = _relative_to(os.path.realpath(_here(cwd)), root)
        if relative is None:
            raise PathOutsideRepo(f"{pattern} is outside the repository {root}") from None
        base = relative
    # The literal part is a literal: escape what in it would read as a wildcard.
    return "/".join(filter(None, [claim_pattern(base), *rest]))
