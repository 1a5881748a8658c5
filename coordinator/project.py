"""Where things live: the repository root, the `.swarm/` directory and the store file.

Hooks resolve the store on every call, so this walks directories instead of running git.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from memory.errors import SwarmError

STORE_DIR = ".swarm"
STORE_FILE = "memory.db"


def find_repo_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` holding `.git` (a directory or a file)."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def default_store_path(start: Path) -> Path:
    """Where `swarm init` puts the store: `.swarm/memory.db` at the git root, else in `start`."""
    root = find_repo_root(start) or start
    return root / STORE_DIR / STORE_FILE


def nearest_store(start: Path) -> Path | None:
    """The nearest `.swarm/memory.db` at or above the directory `start`."""
    for directory in (start, *start.parents):
        candidate = directory / STORE_DIR / STORE_FILE
        if candidate.is_file():
            return candidate
    return None


def store_of_file(path: Path) -> Path | None:
    """The store of the repository a file lies in: the nearest `.swarm/memory.db` above
    the file once `..` and symlinks are resolved (the file itself need not exist)."""
    try:
        return nearest_store(Path(os.path.realpath(path)).parent)
    except (ValueError, UnicodeError):
        return None  # a NUL or a lone surrogate: no file has that name (the path is refused)


def resolve_store_path(
    explicit: str | None,
    environ: Mapping[str, str],
    cwd: Path | None = None,
    files: Iterable[Path] = (),
) -> Path:
    """The store to use: `--db`; then the store of the repository holding the first of
    `files` (the files being edited, absolute) that lies in one; then `SWARM_DB`; then the
    nearest `.swarm/memory.db` above the working directory; then the place `swarm init`
    would create it. An empty `--db` is refused rather than read as "not given"."""
    if explicit is not None:
        if not explicit.strip():
            raise SwarmError("--db is empty: give the path of the store file")
        return _store_file(explicit, "--db")
    for path in files:
        found = store_of_file(path)
        if found is not None:
            return found
    if environ.get("SWARM_DB"):
        return _store_file(environ["SWARM_DB"], "SWARM_DB")
    here = cwd or Path.cwd()
    return nearest_store(here) or default_store_path(here)


def _store_file(given: str, source: str) -> Path:
    path = Path(given)
    if path.is_dir():
        raise SwarmError(f"{source} {given} is a directory; give the store file (.../memory.db)")
    return path


def project_root_for(db_path: Path) -> Path:
    """The directory a store belongs to: the parent of its `.swarm/` directory.

    A store elsewhere (`--db /tmp/x.db`) belongs to the repository around the working
    directory, or the working directory itself.
    """
    db_path = db_path.resolve()
    if db_path.parent.name == STORE_DIR:
        return db_path.parent.parent
    cwd = Path.cwd()
    return find_repo_root(cwd) or cwd
