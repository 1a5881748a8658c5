"""Where things live: the repository root, the `.swarm/` directory and the store file.

Hooks resolve the store on every call, so this walks directories instead of running git.
"""

from __future__ import annotations

import os
from pathlib import Path

from memory.errors import SwarmError
from memory.locator import URL_FILE, is_url, read_url_file, url_path

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

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
    """The nearest store at or above the directory `start`: a `.swarm/memory.db`, or the
    PostgreSQL store a `.swarm/memory.url` records (`swarm init --db URL`)."""
    for directory in (start, *start.parents):
        found = store_in(directory / STORE_DIR)
        if found is not None:
            return found
    return None


def store_of_file(path: Path) -> Path | None:
    """The store of the repository a file lies in: the nearest store above the file once
    `..` and symlinks are resolved (the file itself need not exist)."""
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
    nearest store above the working directory (`.swarm/memory.db`, or the URL recorded in
    `.swarm/memory.url`); then the place `swarm init` would create it. An empty `--db` is
    refused rather than read as "not given".

    A PostgreSQL URL becomes a path in the project's `.swarm/` directory that stands for it
    (see `memory.locator`), so that the store belongs to that project."""
    here = cwd or Path.cwd()
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


def _store_target(given: str, source: str, here: Path) -> Path:
    if is_url(given):
        return url_path(given, store_dir_for(here))
    path = Path(given)
    if path.is_dir():
        raise SwarmError(f"{source} {given} is a directory; give the store file (.../memory.db)")
    return path


def store_in(swarm_dir: Path) -> Path | None:
    """The store a `.swarm/` directory holds: its `memory.db`, else the PostgreSQL store
    its `memory.url` records, else None."""
    candidate = swarm_dir / STORE_FILE
    if candidate.is_file():
        return candidate
    recorded = swarm_dir / URL_FILE
    if recorded.is_file():
        return url_path(read_url_file(recorded), swarm_dir)
    return None


def store_dir_for(start: Path) -> Path:
    """The nearest `.swarm/` directory at or above `start`, else where `swarm init` would
    make it."""
    for directory in (start, *start.parents):
        if (directory / STORE_DIR).is_dir():
            return directory / STORE_DIR
    return default_store_path(start).parent


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
