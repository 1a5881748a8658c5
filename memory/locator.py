"""Where a store is: a SQLite file, or a PostgreSQL server named by a `postgresql://` URL.

Every layer passes a store around as a path (`--db`, `SWARM_DB`, the daemon's children,
`project_root_for`). A PostgreSQL store keeps that shape: it is addressed by a path in the
repository's `.swarm/` directory whose last segment is the percent-encoded URL. The path
is never created on disk; its directory is where local files (logs) go, and the URL is
read back from its name. `swarm init --db URL` records the URL in `.swarm/memory.url`.

Imported on the hook path: nothing here imports psycopg.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

#: URL schemes of a PostgreSQL store (libpq accepts both).
PG_SCHEMES = ("postgresql://", "postgres://")
#: The file in `.swarm/` where `swarm init --db URL` records a PostgreSQL store's URL.
URL_FILE = "memory.url"


def is_url(text: str) -> bool:
    """Whether `text` is a PostgreSQL URL rather than a file path."""
    return text.startswith(PG_SCHEMES)


def url_path(url: str, directory: Path) -> Path:
    """The path that stands for the PostgreSQL store at `url`, anchored in `directory`."""
    return directory / quote(url, safe="")


def pg_url(target: str | os.PathLike[str]) -> str | None:
    """The PostgreSQL URL a target names (a URL, or a path made by `url_path`), else None."""
    text = os.fspath(target)
    if is_url(text):
        return text
    name = unquote(Path(text).name)
    return name if is_url(name) else None


def store_exists(target: str | os.PathLike[str]) -> bool:
    """Whether a store may be there: a PostgreSQL URL (only connecting tells), or a file."""
    return pg_url(target) is not None or Path(target).is_file()


def read_url_file(path: Path) -> str:
    """The URL recorded in a `.swarm/memory.url` file (its first non-empty line)."""
    for line in path.read_text().splitlines():
        if line.strip():
            return line.strip()
    return ""


def redact(url: str) -> str:
    """The URL without its password, fit for messages and logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "postgresql://…"
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def describe(target: str | os.PathLike[str]) -> str:
    """The store as a person reads it: its file, or its URL without the password."""
    url = pg_url(target)
    return os.fspath(target) if url is None else redact(url)
