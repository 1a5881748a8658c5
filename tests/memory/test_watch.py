"""Following the change log (`memory.watch.follow`, behind `swarm memory watch` and
`swarm events --follow`) on a real store file and a real watchfiles watcher."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory.backends import open_store
from memory.records import Change, Put
from memory.store import Store
from memory.watch import follow
from tests.pg import Schemas


class CountingStore:
    """A store that fails the test instead of letting a follower page forever."""

    def __init__(self, store: Store, max_reads: int = 50) -> None:
        self._store = store
        self.path = store.path
        self.reads = 0
        self.max_reads = max_reads

    def revision(self) -> int:
        return self._store.revision()

    def changes_since(self, *args: Any, **kwargs: Any) -> tuple[list[Change], int]:
        self.reads += 1
        if self.reads > self.max_reads:
            pytest.fail(f"follow read the log {self.reads} times without getting further")
        return self._store.changes_since(*args, **kwargs)


def take(store: Any, count: int, **kwargs: Any) -> list[Change]:
    """The first `count` changes `follow` yields, then stop it."""
    stop = threading.Event()
    changes = follow(store, stop=stop, poll=0.05, **kwargs)
    try:
        return list(itertools.islice(changes, count))
    finally:
        stop.set()
        changes.close()  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, pg_schemas: Schemas) -> Iterator[Store]:
    target: Any = pg_schemas.new() if request.param == "postgresql" else tmp_path / "memory.db"
    with open_store(target, create=True) as opened:
        yield opened


def test_follow_reads_a_revision_larger_than_its_batch_once(store: Store) -> None:
    store.put("k/first", 0)
    store.txn([], [Put(f"k/{n:02d}", json.dumps(n)) for n in range(7)])
    store.put("k/last", 1)
    expected = [(c.rev, c.seq, c.key) for c in store.changes_since(1)[0]]
    assert len(expected) == 9

    counting = CountingStore(store)
    got = take(counting, len(expected), from_rev=1, batch=2)
    assert [(c.rev, c.seq, c.key) for c in got] == expected


def test_follow_with_a_prefix_pages_inside_one_revision(store: Store) -> None:
    ops = [Put(f"{side}/{n:02d}", json.dumps(n)) for n in range(5) for side in ("a", "b")]
    store.txn([], ops)
    counting = CountingStore(store)
    got = take(counting, 5, from_rev=1, prefix="a/", batch=2)
    assert [c.key for c in got] == [f"a/{n:02d}" for n in range(5)]
    assert len({(c.rev, c.seq) for c in got}) == 5


def test_a_write_elsewhere_wakes_a_follower_long_before_its_backstop_poll(store: Store) -> None:
    # The backstop is an hour away: only the store's own wake-up (the WAL file watcher, or
    # PostgreSQL's NOTIFY) can deliver the change before the test's deadline.
    stop = threading.Event()
    got: list[Change] = []

    def run() -> None:
        with open_store(store.path) as own:  # a SQLite connection stays in its thread
            for change in follow(own, None, poll=3600, stop=stop):
                got.append(change)
                stop.set()

    with open_store(store.path) as writer:
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        # Write until the follower, live at some point, reports a change it saw.
        deadline = time.monotonic() + 30
        while not got and time.monotonic() < deadline:
            writer.put("wake/me", len(got))
            stop.wait(0.05)  # pacing the writer, not settling: the loop ends on `got`
        stop.set()
        thread.join(timeout=10)
    assert got and got[0].key == "wake/me"
