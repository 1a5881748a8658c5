"""Where things live: the repository root, the `.swarm/` directory and the store file.

Hooks resolve the store on every call, so this walks directories instead of running git.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from memory.locator import URL_FILE, is_url, read_url_file, url_path

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


def resolve_store_path(
    explicit: str | None, environ: Mapping[str, str], cwd: Path | None = None
) -> Path:
    """The store to use: `--db`, then `SWARM_DB`, then the nearest `.swarm/memory.db` (or
    `.swarm/memory.url`, a PostgreSQL store recorded by `swarm init --db URL`) above the
    working directory, then the place `swarm init` would create it.

    A PostgreSQL URL becomes a path in the project's `.swarm/` directory that stands for it
    (see `memory.locator`), so that the store belongs to that project."""
    here = cwd or Path.cwd()
    given = explicit or environ.get("SWARM_DB")
    if given:
        if is_url(given):
            return url_path(given, store_dir_for(here))
        return Path(given)
    for directory in (here, *here.parents):
        found = store_in(directory / STORE_DIR)
        if found is not None:
            return found
    return default_store_path(here)


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
