"""One daemon per store: a lock the daemon holds for as long as it runs.

A SQLite store is locked with an exclusive `flock` on `daemon.lock` beside the store file;
a PostgreSQL store with a session-level advisory lock (`memory.pg.AdvisoryLock`), which
holds across machines and is released by the server when the holder's connection ends.
Either way a second daemon is refused with a message naming who holds the lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Protocol

from memory.errors import SwarmError
from memory.locator import pg_url


class DaemonLockHeld(SwarmError):
    """Another daemon is already running on this store."""


class DaemonLock(Protocol):
    """What the daemon holds while it runs."""

    def acquire(self) -> None:
        """Take the lock or raise `DaemonLockHeld` naming the holder."""

    def release(self) -> None:
        """Drop the lock."""


class LockFile:
    """One daemon per SQLite store: an exclusive `flock` on `.swarm/daemon.lock`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise DaemonLockHeld naming the holder's pid."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DaemonLockHeld(
                f"another swarm daemon (pid {holder}) is already running on this store"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Drop the lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def daemon_lock(db_path: Path) -> DaemonLock:
    """The daemon lock of the store at `db_path` (a file, or a path standing for a URL)."""
    url = pg_url(db_path)
    if url is not None:
        from memory.pg_listen import AdvisoryLock

        return AdvisoryLock(url, DaemonLockHeld)
    return LockFile(db_path.resolve().parent / "daemon.lock")
