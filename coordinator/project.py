"""Where things live: the repository root, the `.swarm/` directory and the store file.

Hooks resolve the store on every call, so this walks directories instead of running git,
on text paths: a hook does not import pathlib (see memory.locator). `resolve_store_path`
and `project_root_for` give the CLI the same answers as Paths.
"""

from __future__ import annotations

import os
import stat

from memory.errors import SwarmError
from memory.locator import (
    URL_FILE,
    file_mode,
    is_url,
    normal_path,
    read_url_file,
    url_location,
)

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from pathlib import Path

    from memory.locator import StrPath

STORE_DIR = ".swarm"
STORE_FILE = "memory.db"


def _lineage(start: StrPath) -> Iterator[str]:
    """The directory `start` and each directory above it, up to the root (for a relative
    `start`, up to `.`, as pathlib's parents go)."""
    directory = os.fspath(start)
    while True:
        yield directory or "."
        parent = os.path.dirname(directory)
        if parent == directory:
            return
        directory = parent


def find_repo_root(start: StrPath) -> str | None:
    """The nearest directory at or above `start` holding `.git` (a directory or a file)."""
    for directory in _lineage(start):
        if file_mode(os.path.join(directory, ".git")):
            return directory
    return None


def default_store_path(start: StrPath) -> str:
    """Where `swarm init` puts the store: `.swarm/memory.db` at the git root, else in `start`."""
    root = find_repo_root(start) or os.fspath(start)
    return normal_path(os.path.join(root, STORE_DIR, STORE_FILE))


def nearest_store(start: StrPath) -> str | None:
    """The nearest store at or above the directory `start`: a `.swarm/memory.db`, or the
    PostgreSQL store a `.swarm/memory.url` records (`swarm init --db URL`)."""
    for directory in _lineage(start):
        found = store_in(os.path.join(directory, STORE_DIR))
        if found is not None:
            return found
    return None


def store_of_file(path: StrPath) -> str | None:
    """The store of the repository a file lies in: the nearest store above the file once
    `..` and symlinks are resolved (the file itself need not exist)."""
    try:
        return nearest_store(os.path.dirname(os.path.realpath(path)))
    except (ValueError, UnicodeError):
        return None  # a NUL or a lone surrogate: no file has that name (the path is refused)


def store_location(
    explicit: str | None,
    environ: Mapping[str, str],
    cwd: StrPath | None = None,
    files: Iterable[StrPath] = (),
) -> str:
    """The store to use: `--db`; then the store of the repository holding the first of
    `files` (the files being edited, absolute) that lies in one; then `SWARM_DB`; then the
    nearest store above the working directory (`.swarm/memory.db`, or the URL recorded in
    `.swarm/memory.url`); then the place `swarm init` would create it. An empty `--db` is
    refused rather than read as "not given".

    A PostgreSQL URL becomes a path in the project's `.swarm/` directory that stands for it
    (see `memory.locator`), so that the store belongs to that project."""
    here = os.getcwd() if cwd is None else os.fspath(cwd)
    if explicit is not None:
        if not explicit.strip():
            raise SwarmError("--db is empty: give the path of the store file or a URL")
        return _store_target(explicit, "--db", here)
    for path in files:
        found = store_of_file(path)
        if found is not None:
            return found
    if environ.get("SWARM_DB"):
        return _store_target(environ["SWARM_DB"], "SWARM_DB", here)
    return nearest_store(here) or default_store_path(here)


def resolve_store_path(
    explicit: str | None,
    environ: Mapping[str, str],
    cwd: StrPath | None = None,
    files: Iterable[StrPath] = (),
) -> Path:
    """`store_location` as a Path."""
    from pathlib import Path

    return Path(store_location(explicit, environ, cwd, files))


def _store_target(given: str, source: str, here: str) -> str:
    if is_url(given):
        return url_location(given, store_dir_for(here))
    path = normal_path(given)
    if stat.S_ISDIR(file_mode(path)):
        raise SwarmError(f"{source} {given} is a directory; give the store file (.../memory.db)")
    return path


def store_in(swarm_dir: StrPath) -> str | None:
    """The store a `.swarm/` directory holds: its `memory.db`, else the PostgreSQL store
    its `memory.url` records, else None."""
    candidate = os.path.join(swarm_dir, STORE_FILE)
    if stat.S_ISREG(file_mode(candidate)):
        return candidate
    recorded = os.path.join(swarm_dir, URL_FILE)
    if stat.S_ISREG(file_mode(recorded)):
        return url_location(read_url_file(recorded), swarm_dir)
    return None


def store_dir_for(start: StrPath) -> str:
    """The nearest `.swarm/` directory at or above `start`, else where `swarm init` would
    make it."""
    for directory in _lineage(start):
        candidate = os.path.join(directory, STORE_DIR)
        if stat.S_ISDIR(file_mode(candidate)):
            return candidate
    return os.path.dirname(default_store_path(start))


def make_directories(directory: StrPath) -> list[str]:
    """Create `directory` and its missing parents, top down and without recursion, and
    return those it made: pathlib's `mkdir(parents=True)` and `os.makedirs` recurse once
    per missing level, so a deep path (`--db a/a/.../a`, two thousand levels) would end
    in RecursionError instead of the file system's own answer."""
    missing: list[str] = []
    for level in _lineage(directory):
        if file_mode(level):
            break
        missing.append(level)
    for level in reversed(missing):
        try:  # noqa: SIM105 - contextlib is not for hooks (see tests/integration/conftest.py)
            os.mkdir(level)
        except FileExistsError:
            pass  # made meanwhile by another process; a file in the way fails one level down
    return missing[::-1]


def project_root(db_path: StrPath) -> str:
    """The directory a store belongs to: the parent of its `.swarm/` directory.

    A store elsewhere (`--db /tmp/x.db`) belongs to the repository around the working
    directory, or the working directory itself.
    """
    swarm_dir = os.path.dirname(os.path.realpath(db_path))
    if os.path.basename(swarm_dir) == STORE_DIR:
        return os.path.dirname(swarm_dir)
    cwd = os.getcwd()
    return find_repo_root(cwd) or cwd


def project_root_for(db_path: StrPath) -> Path:
    """`project_root` as a Path."""
    from pathlib import Path

    return Path(project_root(db_path))
