"""Following the change log as it grows: `watch --from-rev` and the daemon's wake-ups.

A committed write appends to a SQLite store's WAL file, so watching the store's directory
with watchfiles wakes a follower within milliseconds; a PostgreSQL store sends a NOTIFY
on every commit instead (`memory.pg.wakeups`). Either way a timeout poll is the backstop,
and `wakeups`/`awakeups` are the one backend-neutral source callers use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from memory.errors import StoreError
from memory.locator import pg_url
from memory.records import Change
from memory.store import DEFAULT_BATCH, Store

if TYPE_CHECKING:
    import anyio
    from watchfiles import Change as FileChange

T = TypeVar("T")

#: How long watchfiles waits for more events after the first before it reports (ms).
WAKE_STEP_MS = 1


def probe_path(db_path: Path) -> Path:
    """A file beside the store that a follower touches to prove its watcher is live."""
    return db_path.with_name(db_path.name + "-probe")


def _watched_directory(db_path: Path) -> Path:
    """The directory watchfiles watches for the store; StoreError when its path is not
    UTF-8 (`--db $'\\xff.db'`), which watchfiles cannot report (it fails in its thread)."""
    try:
        str(db_path).encode("utf-8")
    except UnicodeEncodeError:
        raise StoreError(
            f"cannot watch the store at {str(db_path)!r}: its path is not valid UTF-8; "
            "move it (or the repository) to a path that is"
        ) from None
    return db_path.parent


def store_files_filter(db_path: Path) -> Callable[[FileChange, str], bool]:
    """A watchfiles filter that passes the store's own files (db, -wal) and the probe."""
    name = db_path.name

    def accept(_change: FileChange, path: str) -> bool:
        return Path(path).name.startswith(name) and not path.endswith("-shm")

    return accept


class _Probe:
    """Touches the probe file until the watcher reports it.

    watchfiles starts watching only once its generator is first advanced, so a change made
    between a follower's catch-up read and that moment would go unseen until the backstop
    poll. Waiting for the watcher to see our own probe closes that window.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = probe_path(db_path)
        self.live = threading.Event()
        self._thread = threading.Thread(target=self._poke, name="swarm-watch-probe", daemon=True)

    def _poke(self) -> None:
        while not self.live.wait(0.01):
            self.path.touch()

    def start(self) -> None:
        self._thread.start()

    def seen_in(self, changes: set[tuple[FileChange, str]]) -> bool:
        """Whether this batch of file events includes the probe (the watcher is live)."""
        if any(Path(path) == self.path for _, path in changes):
            self.live.set()
        return self.live.is_set()

    def close(self) -> None:
        self.live.set()
        self.path.unlink(missing_ok=True)


def wakeups(db_path: Path, poll: float, stop: threading.Event | None = None) -> Iterator[None]:
    """Yield once the watcher is live, then whenever the store changes or `poll` seconds
    pass, until `stop` is set."""
    url = pg_url(db_path)
    if url is not None:
        from memory import pg_listen

        yield from pg_listen.wakeups(url, poll, stop)
        return
    from watchfiles import watch

    directory = _watched_directory(db_path)
    probe = _Probe(db_path)
    probe.start()
    live = False
    try:
        for changes in watch(
            directory,
            watch_filter=store_files_filter(db_path),
            debounce=max(1, int(poll * 1000)),
            step=WAKE_STEP_MS,
            rust_timeout=max(1, int(poll * 1000)),
            yield_on_timeout=True,
            stop_event=stop,
            raise_interrupt=False,
        ):
            if live or probe.seen_in(changes):
                if not live:
                    live = True
                    probe.close()
                yield None
    finally:
        probe.close()


async def awakeups(
    db_path: Path, poll: float, stop: anyio.Event | None = None
) -> AsyncIterator[None]:
    """The async twin of `wakeups`, for the daemon's task group."""
    url = pg_url(db_path)
    if url is not None:
        from memory import pg_aio

        async for _ in pg_aio.awakeups(url, poll, stop):
            yield None
        return
    from watchfiles import awatch

    directory = _watched_directory(db_path)
    probe = _Probe(db_path)
    probe.start()
    live = False
    try:
        async for changes in awatch(
            directory,
            watch_filter=store_files_filter(db_path),
            debounce=max(1, int(poll * 1000)),
            step=WAKE_STEP_MS,
            rust_timeout=max(1, int(poll * 1000)),
            yield_on_timeout=True,
            stop_event=stop,
        ):
            if live or probe.seen_in(changes):
                if not live:
                    live = True
                    probe.close()
                yield None
    finally:
        probe.close()


def retry_until(
    db_path: Path, seconds: float, attempt: Callable[[], T], retry_on: type[BaseException]
) -> T:
    """Call `attempt` until it stops raising `retry_on` or `seconds` pass, trying again
    whenever the store changes; the last `retry_on` error is raised when time runs out."""
    deadline = time.monotonic() + seconds
    stop = threading.Event()
    last: BaseException | None = None
    try:
        for _ in wakeups(db_path, poll=min(1.0, max(seconds, 0.01)), stop=stop):
            try:
                return attempt()
            except retry_on as err:
                last = err
            if time.monotonic() >= deadline:
                break
    finally:
        stop.set()
    if last is None:  # the watcher stopped before a first attempt: make one
        return attempt()
    raise last


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
    # The position read up to: (rev, seq) of the last change sent, or (next rev, 0).
    position: tuple[int, int] | None = None if from_rev is None else (from_rev, 0)
    for _ in wakeups(store.path, poll, stop):
        if position is None:
            # "From now" means from the moment the watcher went live: nothing is missed.
            position = (store.revision() + 1, 0)
        while True:
            rev, seq = position
            changes, revision = store.changes_since(rev, prefix, limit=batch, after_seq=seq)
            for change in changes:
                position = (change.rev, change.seq)
                yield change
            if len(changes) < batch:
                # Caught up: everything through `revision` has been read.
                position = max(position, (revision + 1, 0))
                break
