"""Following the change log as it grows: `watch --from-rev` and the daemon's wake-ups.

A committed write appends to the store's WAL file, so watching the store's directory
with watchfiles wakes a follower within milliseconds; a timeout poll is the backstop.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from memory.records import Change
from memory.store import DEFAULT_BATCH, Store

if TYPE_CHECKING:
    import anyio
    from watchfiles import Change as FileChange

#: How long watchfiles waits for more events after the first before it reports (ms).
WAKE_STEP_MS = 1


def store_files_filter(db_path: Path) -> Callable[[FileChange, str], bool]:
    """A watchfiles filter that passes only the store's own files (db, -wal, -journal)."""
    name = db_path.name

    def accept(_change: FileChange, path: str) -> bool:
        return Path(path).name.startswith(name) and not path.endswith("-shm")

    return accept


def wakeups(db_path: Path, poll: float, stop: threading.Event | None = None) -> Iterator[None]:
    """Yield once at once, then whenever the store's files change or `poll` seconds pass."""
    from watchfiles import watch

    yield None
    for _ in watch(
        db_path.parent,
        watch_filter=store_files_filter(db_path),
        debounce=max(1, int(poll * 1000)),
        step=WAKE_STEP_MS,
        rust_timeout=max(1, int(poll * 1000)),
        yield_on_timeout=True,
        stop_event=stop,
        raise_interrupt=False,
    ):
        yield None


async def awakeups(
    db_path: Path, poll: float, stop: anyio.Event | None = None
) -> AsyncIterator[None]:
    """The async twin of `wakeups`, for the daemon's task group."""
    from watchfiles import awatch

    yield None
    async for _ in awatch(
        db_path.parent,
        watch_filter=store_files_filter(db_path),
        debounce=max(1, int(poll * 1000)),
        step=WAKE_STEP_MS,
        rust_timeout=max(1, int(poll * 1000)),
        yield_on_timeout=True,
        stop_event=stop,
    ):
        yield None


def follow(
    store: Store,
    from_rev: int | None,
    prefix: str = "",
    *,
    poll: float = 1.0,
    stop: threading.Event | None = None,
    batch: int = DEFAULT_BATCH,
) -> Iterator[Change]:
    """Every change under `prefix` from `from_rev` (default: the next revision), in order,
    waiting for new ones until `stop` is set."""
    cursor = store.revision() + 1 if from_rev is None else from_rev
    last: tuple[int, int] = (cursor - 1, 1 << 62)
    for _ in wakeups(store.path, poll, stop):
        while True:
            changes, revision = store.changes_since(cursor, prefix, limit=batch)
            for change in changes:
                if (change.rev, change.seq) > last:
                    last = (change.rev, change.seq)
                    yield change
            if len(changes) < batch:
                cursor = max(cursor, revision + 1)
                break
            # A full batch may end inside a revision: re-read from it, skipping what we sent.
            cursor = changes[-1].rev
