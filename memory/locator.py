"""Where a store is: a SQLite file, or a PostgreSQL server named by a `postgresql://` URL.

Every layer passes a store around as a path (`--db`, `SWARM_DB`, the daemon's children,
`project_root_for`). A PostgreSQL store keeps that shape: it is addressed by a path in the
repository's `.swarm/` directory whose last segment is the percent-encoded URL. The path
is never created on disk; its directory is where local files (logs) go, and the URL is
read back from its name. `swarm init --db URL` records the URL in `.swarm/memory.url`.

Imported on the hook path: nothing here imports psycopg, and nothing a hook calls imports
pathlib or urllib.parse (some 4 ms of a hook). A hook handles paths as text; the helpers
at the end read text paths the way pathlib does.
"""

from __future__ import annotations

import errno
import os
import stat

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from pathlib import Path

    #: A path as text or as a Path: what the functions of the hook path take.
    StrPath = str | os.PathLike[str]

#: URL schemes of a PostgreSQL store (libpq accepts both).
PG_SCHEMES = ("postgresql://", "postgres://")
#: The file in `.swarm/` where `swarm init --db URL` records a PostgreSQL store's URL.
URL_FILE = "memory.url"


def is_url(text: str) -> bool:
    """Whether `text` is a PostgreSQL URL rather than a file path."""
    return text.startswith(PG_SCHEMES)


def url_path(url: str, directory: str | os.PathLike[str]) -> Path:
    """The path that stands for the PostgreSQL store at `url`, anchored in `directory`."""
    from pathlib import Path

    return Path(url_location(url, directory))


def url_location(url: str, directory: str | os.PathLike[str]) -> str:
    """`url_path` as text (what the hooks use)."""
    return normal_path(os.path.join(os.fspath(directory), quote_all(url)))


#: What percent-encoding leaves as it is: urllib.parse's always-safe bytes.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote_all(text: str) -> str:
    """`urllib.parse.quote(text, safe="")`, without importing urllib.parse (with
    ipaddress) on the hook path: every UTF-8 byte but the unreserved ones as %XX."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode())


def unquote(text: str) -> str:
    """`urllib.parse.unquote(text)`: each %XX (hex, either case) as its byte, the bytes
    read as UTF-8 (undecodable ones replaced); a `%` without two hex digits stays."""
    if "%" not in text:
        return text
    import re

    raw = re.sub(
        rb"%([0-9A-Fa-f]{2})",
        lambda match: bytes([int(match[1], 16)]),
        text.encode("utf-8", "surrogateescape"),
    )
    return raw.decode("utf-8", "replace")


def pg_url(target: str | os.PathLike[str]) -> str | None:
    """The PostgreSQL URL a target names (a URL, or a path made by `url_path`), else None."""
    text = os.fspath(target)
    if is_url(text):
        return text
    parts = split_path(text)[1]
    name = parts[-1] if parts else ""
    if "%" not in name:
        return None  # a name cannot hold a URL's `//` unless it is percent-encoded
    name = unquote(name)
    return name if is_url(name) else None


def store_exists(target: str | os.PathLike[str]) -> bool:
    """Whether a store may be there: a PostgreSQL URL (only connecting tells), or a file."""
    return pg_url(target) is not None or stat.S_ISREG(file_mode(target))


def read_url_file(path: str | os.PathLike[str]) -> str:
    """The URL recorded in a `.swarm/memory.url` file (its first non-empty line)."""
    with open(path) as file:
        for line in file.read().splitlines():
            if line.strip():
                return line.strip()
    return ""


def redact(url: str) -> str:
    """The URL without its password, fit for messages and logs."""
    if not _has_password(url):
        return url  # and a hook need not import urllib.parse (with ipaddress)
    from urllib.parse import urlsplit, urlunsplit

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


def _has_password(url: str) -> bool:
    """Whether the URL's authority holds `user:password@` (as urlsplit reads it)."""
    rest = url.partition("://")[2]
    for end in "/?#":
        rest = rest.partition(end)[0]
    userinfo, at, _ = rest.rpartition("@")
    return bool(at) and ":" in userinfo


def describe(target: str | os.PathLike[str]) -> str:
    """The store as a person reads it: its file, or its URL without the password."""
    url = pg_url(target)
    return os.fspath(target) if url is None else redact(url)


# --- text paths, read as pathlib reads them ---------------------------------------------

#: The errors pathlib's exists(), is_file() and is_dir() take for "not there" (others raise).
_MISSING = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def file_mode(path: str | os.PathLike[str]) -> int:
    """`path`'s `st_mode` (symlinks followed), 0 when nothing is there, by pathlib's rule
    for exists(), is_file() and is_dir(): any other OSError (no permission) is raised."""
    try:
        return os.stat(path).st_mode
    except OSError as err:
        if err.errno not in _MISSING:
            raise
        return 0
    except ValueError:  # a NUL, or a name the file system cannot encode
        return 0


def split_path(path: str) -> tuple[str, list[str]]:
    """`path`'s root (``, `/` or `//`) and its other parts, as pathlib parses a POSIX path:
    empty and `.` segments dropped, `..` kept."""
    rest = path.lstrip("/")
    slashes = len(path) - len(rest)
    root = "//" if slashes == 2 else "/" if slashes else ""
    return root, [part for part in rest.split("/") if part and part != "."]


def normal_path(path: str) -> str:
    """`path` as `str(pathlib.PurePosixPath(path))` writes it."""
    root, parts = split_path(path)
    return root + "/".join(parts) or "."
