"""The store's contract, written once and run against both drivers (`Store`, `AsyncStore`).

Semantics follow etcd v3: one global revision bumped once per committed write
transaction; per key create_rev, mod_rev and version; a change log behind history and
watch; compaction that makes old revisions an explicit error.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from memory.backends import open_store
from memory.errors import (
    BadImportFile,
    CompactedRevision,
    InvalidKey,
    InvalidValue,
    KeyNotFound,
    Refused,
    StoreError,
    SwarmError,
    ValueTooLarge,
    VersionMismatch,
)
from memory.records import Compare, Delete, Put, Record, Touch
from tests.memory.conftest import CLOCK_START, FakeClock, StoreFactory, StoreUnderTest


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _export_text(store: StoreUnderTest) -> str:
    out = io.StringIO()
    store.export(out)
    return out.getvalue()


def _ops(store: StoreUnderTest, from_rev: int = 0, prefix: str = "") -> list[tuple[int, str, str]]:
    changes, _ = store.changes_since(from_rev, prefix)
    return [(change.rev, change.op, change.key) for change in changes]


# --- revisions -------------------------------------------------------------------------


def test_a_fresh_store_is_empty_at_revision_zero(store: StoreUnderTest) -> None:
    assert store.revision() == 0
    assert store.count() == 0
    assert store.list_prefix() == []
    assert store.changes_since(0) == ([], 0)
    assert store.next_expiry() is None
    assert store.integrity_check() == "ok"


def test_each_committed_write_bumps_the_revision_by_exactly_one(store: StoreUnderTest) -> None:
    assert store.put("a", 1).mod_rev == 1
    assert store.revision() == 1
    assert store.put("b", 2).mod_rev == 2
    assert store.revision() == 2
    assert store.put("a", 3).mod_rev == 3
    assert store.revision() == 3
    assert store.delete("b") is not None
    assert store.revision() == 4
    assert _ops(store) == [(1, "put", "a"), (2, "put", "b"), (3, "put", "a"), (4, "delete", "b")]


def test_a_multi_operation_transaction_is_one_revision(store: StoreUnderTest) -> None:
    store.put("doomed", "x")
    result = store.txn(
        [],
        [Put("one", _json(1)), Put("two", _json(2)), Delete("doomed"), Put("one", _json(11))],
    )
    assert result.succeeded
    assert result.revision == 2
    assert store.revision() == 2
    changes, revision = store.changes_since(2)
    assert revision == 2
    assert [(c.rev, c.seq, c.op, c.key) for c in changes] == [
        (2, 1, "put", "one"),
        (2, 2, "put", "two"),
        (2, 3, "delete", "doomed"),
        (2, 4, "put", "one"),
    ]
    assert store.require("one") == Record("one", 11, 2, 2, 2)
    assert store.get("doomed") is None


def test_writes_that_change_nothing_take_no_revision(store: StoreUnderTest) -> None:
    store.put("k", "v")
    with pytest.raises(VersionMismatch):
        store.put("k", "w", if_version=7)
    with pytest.raises(VersionMismatch):
        store.put("k", "w", if_absent=True)
    assert store.delete("absent") is None
    failed = store.txn([Compare("k", "version", "==", 99)], [Put("k", _json("w"))])
    assert not failed.succeeded
    assert failed.revision == 1
    assert failed.results == []
    empty = store.txn([], [])
    assert empty.succeeded
    assert empty.revision == 1
    store.put("leased", 1, ttl=30)
    assert store.touch("leased", 60) is not None
    assert store.touch("absent", 60) is None
    assert store.revision() == 2
    assert store.require("k").value == "v"
    assert _ops(store) == [(1, "put", "k"), (2, "put", "leased")]


# --- per-key revisions -----------------------------------------------------------------


def test_create_rev_mod_rev_and_version_follow_etcd(store: StoreUnderTest) -> None:
    assert store.put("k", "a") == Record("k", "a", version=1, create_rev=1, mod_rev=1)
    store.put("other", 0)
    assert store.put("k", "b") == Record("k", "b", version=2, create_rev=1, mod_rev=3)
    assert store.require("k") == Record("k", "b", version=2, create_rev=1, mod_rev=3)
    assert store.require("other") == Record("other", 0, version=1, create_rev=2, mod_rev=2)

    removed = store.delete("k")
    assert removed == Record("k", "b", version=2, create_rev=1, mod_rev=3)
    assert store.get("k") is None
    with pytest.raises(KeyNotFound):
        store.require("k")

    # A key deleted and created again is a new key: version 1, a new create_rev.
    assert store.put("k", "c") == Record("k", "c", version=1, create_rev=5, mod_rev=5)


# --- history and watch -----------------------------------------------------------------


def test_history_replays_every_change_of_a_key_in_order(
    store: StoreUnderTest, clock: FakeClock
) -> None:
    store.put("k", {"n": 1})
    store.put("noise", 0)
    clock.advance(1)
    store.put("k", {"n": 2})
    clock.advance(1)
    store.delete("k")
    clock.advance(1)
    store.put("k", [3])

    history = store.history("k")
    assert [(c.rev, c.op, c.value, c.version) for c in history] == [
        (1, "put", {"n": 1}, 1),
        (3, "put", {"n": 2}, 2),
        (4, "delete", None, 2),
        (5, "put", [3], 1),
    ]
    assert {c.key for c in history} == {"k"}
    assert {c.actor for c in history} == {"tester"}
    assert [c.ts for c in history] == [CLOCK_START + n for n in range(4)]
    assert [c.rev for c in store.history("k", from_rev=3)] == [3, 4, 5]
    assert [c.rev for c in store.history("k", from_rev=4)] == [4, 5]
    assert store.history("never-written") == []


def test_changes_since_a_cursor_returns_exactly_the_later_writes(store: StoreUnderTest) -> None:
    for n in range(3):
        store.put(f"before/{n}", n)
    cursor = store.revision() + 1
    store.put("after/a", 1)
    store.txn([], [Put("after/b", _json(2)), Put("after/c", _json(3))])
    store.delete("before/0")
    store.put("after/a", 4)

    changes, revision = store.changes_since(cursor)
    assert revision == store.revision() == 7
    assert [(c.rev, c.op, c.key, c.value) for c in changes] == [
        (4, "put", "after/a", 1),
        (5, "put", "after/b", 2),
        (5, "put", "after/c", 3),
        (6, "delete", "before/0", None),
        (7, "put", "after/a", 4),
    ]
    # Caught up: nothing new until the next write, which then comes alone.
    assert store.changes_since(revision + 1) == ([], 7)
    store.put("after/z", 0)
    assert _ops(store, revision + 1) == [(8, "put", "after/z")]


def test_changes_since_filters_by_prefix_and_pages_with_limit(store: StoreUnderTest) -> None:
    store.put("a/1", 1)
    store.put("b/1", 1)
    store.put("a/2", 2)
    store.put("ab", 3)
    store.put("a/1", 4)

    assert _ops(store, 0, "a/") == [(1, "put", "a/1"), (3, "put", "a/2"), (5, "put", "a/1")]
    assert _ops(store, 0, "b/") == [(2, "put", "b/1")]
    assert [c.key for c in store.changes_since(0, "a")[0]] == ["a/1", "a/2", "ab", "a/1"]
    assert _ops(store, 0, "zzz/") == []

    first, revision = store.changes_since(1, limit=2)
    assert [c.rev for c in first] == [1, 2]
    rest, _ = store.changes_since(first[-1].rev + 1, limit=2)
    assert [c.rev for c in rest] == [3, 4]
    assert revision == 5


def _read_in_pages(
    store: StoreUnderTest, from_rev: int, prefix: str, limit: int
) -> tuple[list[tuple[int, int, str]], int]:
    """Every change from `from_rev` under `prefix`, read `limit` at a time the way a
    follower pages (resuming after the last change's rev and seq); and how many reads."""
    seen: list[tuple[int, int, str]] = []
    rev, seq, reads = from_rev, 0, 0
    while True:
        changes, _ = store.changes_since(rev, prefix, limit=limit, after_seq=seq)
        reads += 1
        assert reads < 100, "paging makes no progress"
        seen += [(c.rev, c.seq, c.key) for c in changes]
        if len(changes) < limit:
            return seen, reads
        rev, seq = changes[-1].rev, changes[-1].seq


def test_a_revision_larger_than_a_page_is_read_whole_once_in_order(
    store: StoreUnderTest,
) -> None:
    store.put("a/before", 0)
    store.txn([], [Put(f"a/{n:02d}", _json(n)) for n in range(7)] + [Put("b/x", _json(1))])
    store.put("a/after", 1)
    everything = [(c.rev, c.seq, c.key) for c in store.changes_since(1)[0]]
    assert len(everything) == 10

    for limit in (1, 2, 3, 7, 8, 10, 11):
        seen, reads = _read_in_pages(store, 1, "", limit)
        assert seen == everything, limit
        assert reads == len(everything) // limit + 1
    # A prefix filters within the revision too, and the seq cursor still resumes there.
    seen, _ = _read_in_pages(store, 2, "a/", 3)
    assert seen == [(2, n + 1, f"a/{n:02d}") for n in range(7)] + [(3, 1, "a/after")]


def test_after_seq_resumes_inside_a_revision(store: StoreUnderTest) -> None:
    store.txn([], [Put(f"k/{n}", _json(n)) for n in range(4)])
    store.put("k/next", 1)
    assert [(c.rev, c.seq) for c in store.changes_since(1, after_seq=2)[0]] == [
        (1, 3),
        (1, 4),
        (2, 1),
    ]
    assert [(c.rev, c.seq) for c in store.changes_since(1, after_seq=4)[0]] == [(2, 1)]
    assert store.changes_since(2, after_seq=1) == ([], 2)
    # The position is still checked against the compaction point.
    store.compact(1)
    with pytest.raises(CompactedRevision):
        store.changes_since(1, after_seq=4)


# --- compaction ------------------------------------------------------------------------


def test_compacted_revisions_are_an_explicit_error(store: StoreUnderTest) -> None:
    for n in range(1, 6):
        store.put("k", n)
    assert store.compact(3) == 3

    for rev in (0, 1, 3):
        with pytest.raises(CompactedRevision):
            store.history("k", from_rev=rev)
        with pytest.raises(CompactedRevision):
            store.changes_since(rev)
    assert [(c.rev, c.value) for c in store.history("k", from_rev=4)] == [(4, 4), (5, 5)]
    assert [(c.rev, c.value) for c in store.history("k")] == [(4, 4), (5, 5)]
    assert _ops(store, 4) == [(4, "put", "k"), (5, "put", "k")]
    # Compaction only drops the log: the live data and the revision stay.
    assert store.require("k") == Record("k", 5, version=5, create_rev=1, mod_rev=5)
    assert store.revision() == 5


def test_compaction_never_moves_back_nor_past_the_revision(store: StoreUnderTest) -> None:
    for n in range(4):
        store.put(f"k/{n}", n)
    assert store.compact(2) == 2
    assert store.compact(1) == 2
    assert _ops(store, 3) == [(3, "put", "k/2"), (4, "put", "k/3")]
    assert store.compact(100) == 4
    assert store.changes_since(5) == ([], 4)
    with pytest.raises(CompactedRevision):
        store.changes_since(4)
    store.put("k/4", 4)
    assert _ops(store, 5) == [(5, "put", "k/4")]


def test_compact_keeping_keeps_only_the_newest_changes(store: StoreUnderTest) -> None:
    for n in range(1, 6):
        store.put(f"k/{n}", n)
    assert store.compact_keeping(2) == 3
    with pytest.raises(CompactedRevision):
        store.changes_since(3)
    assert _ops(store, 4) == [(4, "put", "k/4"), (5, "put", "k/5")]
    # Keeping more than the log holds changes nothing.
    assert store.compact_keeping(10) == 3
    assert _ops(store, 4) == [(4, "put", "k/4"), (5, "put", "k/5")]
    assert store.compact_keeping(0) == 5
    assert store.changes_since(6) == ([], 5)


def test_compact_keeping_never_passes_max_rev(store: StoreUnderTest) -> None:
    for n in range(1, 6):
        store.put(f"k/{n}", n)
    # Keeping none would compact through 5; a reader whose cursor is at 2 holds it there.
    assert store.compact_keeping(0, max_rev=2) == 2
    assert _ops(store, 3) == [(3, "put", "k/3"), (4, "put", "k/4"), (5, "put", "k/5")]
    assert store.compact_keeping(0, max_rev=1) == 2
    assert store.compact_keeping(1, max_rev=10) == 4
    assert _ops(store, 5) == [(5, "put", "k/5")]


def test_change_count_counts_the_log_not_the_keys(store: StoreUnderTest) -> None:
    assert store.change_count() == 0
    store.put("a", 1)
    store.put("a", 2)
    store.txn([], [Put("b", _json(1)), Delete("a")])
    assert store.change_count() == 4
    assert store.count() == 1
    store.compact(2)
    assert store.change_count() == 2


def test_compact_keeping_drops_a_revision_whole(store: StoreUnderTest) -> None:
    store.put("a", 1)
    store.txn([], [Put("b", _json(2)), Put("c", _json(3))])
    store.put("d", 4)
    # The newest two changes are d@3 and c@2, but c shares revision 2 with b: keeping
    # half a revision would replay a torn transaction, so revision 2 goes entirely.
    assert store.compact_keeping(2) == 2
    assert _ops(store, 3) == [(3, "put", "d")]


# --- compare-and-set -------------------------------------------------------------------


def test_put_if_version_and_if_absent(store: StoreUnderTest) -> None:
    assert store.put("k", "a", if_absent=True).version == 1
    with pytest.raises(VersionMismatch) as mismatch:
        store.put("k", "b", if_absent=True)
    assert isinstance(mismatch.value, Refused)
    assert mismatch.value.exit_code == 3
    assert "version 1" in str(mismatch.value)

    with pytest.raises(VersionMismatch):
        store.put("k", "b", if_version=2)
    with pytest.raises(VersionMismatch):
        store.put("k", "b", if_version=0)
    assert store.put("k", "b", if_version=1) == Record("k", "b", 2, 1, 2)
    with pytest.raises(VersionMismatch):
        store.put("k", "c", if_version=1)
    assert store.require("k") == Record("k", "b", 2, 1, 2)

    # An absent key has version 0.
    assert store.put("fresh", 1, if_version=0).version == 1
    with pytest.raises(VersionMismatch) as absent:
        store.put("never", 1, if_version=1)
    assert "absent" in str(absent.value)
    assert store.get("never") is None


def test_delete_if_version(store: StoreUnderTest) -> None:
    store.put("k", 1)
    store.put("k", 2)
    with pytest.raises(VersionMismatch):
        store.delete("k", if_version=1)
    assert store.require("k").value == 2
    assert store.delete("k", if_version=2) == Record("k", 2, 2, 1, 2)
    assert store.get("k") is None
    assert store.revision() == 3


def test_txn_compares_on_version_value_and_mod_rev(store: StoreUnderTest) -> None:
    store.put("claim", {"holder": "agent-1"})
    store.put("other", 1)
    store.put("claim", {"holder": "agent-2"})

    holds = [
        Compare("claim", "version", "==", 2),
        Compare("claim", "value", "==", {"holder": "agent-2"}),
        Compare("claim", "mod_rev", "==", 3),
        Compare("claim", "create_rev", "<", 2),
        Compare("other", "mod_rev", "<", 3),
        Compare("other", "version", "!=", 5),
        Compare("claim", "version", ">", 1),
        Compare("missing", "version", "==", 0),
        Compare("missing", "value", "==", None),
    ]
    for compare in holds:
        result = store.txn([compare], [Put("probe", _json(compare.field))], [Delete("probe")])
        assert result.succeeded, compare

    fails = [
        Compare("claim", "version", "==", 1),
        Compare("claim", "value", "==", {"holder": "agent-1"}),
        Compare("claim", "mod_rev", "<", 3),
        Compare("claim", "version", ">", 2),
        Compare("missing", "version", ">", 0),
        Compare("claim", "value", "<", 3),  # incomparable types never hold
    ]
    for compare in fails:
        result = store.txn([compare], [Put("claim", _json("stolen"))])
        assert not result.succeeded, compare
    assert store.require("claim").value == {"holder": "agent-2"}

    # Every compare must hold: one failing compare among holding ones fails the txn.
    result = store.txn([*holds, fails[0]], [Put("claim", _json("stolen"))])
    assert not result.succeeded


def test_txn_runs_the_failure_branch_when_a_compare_fails(store: StoreUnderTest) -> None:
    store.put("lock", "agent-1")
    before = store.revision()
    result = store.txn(
        [Compare("lock", "version", "==", 0)],
        [Put("lock", _json("agent-2"))],
        [Put("queue/agent-2", _json("waiting")), Touch("lock", 5)],
    )
    assert not result.succeeded
    assert result.revision == before + 1
    assert result.results[0] == Record("queue/agent-2", "waiting", 1, before + 1, before + 1)
    assert result.results[1] is not None
    assert result.results[1].value == "agent-1"
    assert store.require("lock").value == "agent-1"
    assert store.require("queue/agent-2").value == "waiting"

    granted = store.txn(
        [Compare("lock", "value", "==", "agent-1")],
        [Delete("lock"), Put("lock/owner", _json("agent-2"))],
        [Put("queue/agent-3", _json("waiting"))],
    )
    assert granted.succeeded
    assert granted.results[0] == Record("lock", "agent-1", 1, 1, 1, CLOCK_START + 5)
    assert store.get("lock") is None
    assert store.get("queue/agent-3") is None


# --- leases (TTL) ----------------------------------------------------------------------


def test_a_leased_key_vanishes_when_its_ttl_runs_out(
    store: StoreUnderTest, clock: FakeClock
) -> None:
    record = store.put("agents/a1", {"alive": True}, ttl=10)
    store.put("plain", 1)
    assert record.expires_at == CLOCK_START + 10
    assert store.next_expiry() == CLOCK_START + 10

    clock.advance(9.5)
    assert store.require("agents/a1").value == {"alive": True}
    assert store.expire_due() == []
    assert store.revision() == 2

    clock.advance(0.5)
    assert store.get("agents/a1") is None
    assert [r.key for r in store.list_prefix()] == ["plain"]
    assert store.count() == 1
    assert store.search_keys("agents/*") == []
    assert store.search_values("alive") == []
    # Invisible already; the sweep removes it and logs why.
    assert store.expire_due() == ["agents/a1"]
    assert store.revision() == 3
    (change,) = store.changes_since(3)[0]
    assert (change.op, change.key, change.value, change.version) == (
        "expire",
        "agents/a1",
        {"alive": True},
        1,
    )
    assert change.ts == CLOCK_START + 10
    assert store.next_expiry() is None
    assert store.expire_due() == []
    assert store.revision() == 3


def test_expire_due_sweeps_every_due_lease_in_one_revision(
    store: StoreUnderTest, clock: FakeClock
) -> None:
    store.put("l/a", 1, ttl=5)
    store.put("l/b", 2, ttl=7)
    store.put("l/c", 3, ttl=20)
    assert store.next_expiry() == CLOCK_START + 5
    clock.advance(8)
    assert store.expire_due() == ["l/a", "l/b"]
    assert _ops(store, 4) == [(4, "expire", "l/a"), (4, "expire", "l/b")]
    assert store.next_expiry() == CLOCK_START + 20
    assert [r.key for r in store.list_prefix("l/")] == ["l/c"]


def test_touch_renews_a_lease_without_a_new_revision(
    store: StoreUnderTest, clock: FakeClock
) -> None:
    store.put("claims/file", "agent-1", ttl=10)
    clock.advance(8)
    renewed = store.touch("claims/file", 10)
    assert renewed == Record("claims/file", "agent-1", 1, 1, 1, CLOCK_START + 18)
    assert store.revision() == 1
    assert len(store.history("claims/file")) == 1
    assert store.next_expiry() == CLOCK_START + 18

    clock.advance(5)  # past the first lease's end, inside the renewed one
    assert store.require("claims/file").expires_at == CLOCK_START + 18
    assert store.expire_due() == []

    clock.advance(5)
    assert store.get("claims/file") is None
    # A lease that ran out cannot be renewed back to life.
    assert store.touch("claims/file", 10) is None
    assert store.get("claims/file") is None


def test_a_write_sweeps_due_leases_in_its_own_revision(
    store: StoreUnderTest, clock: FakeClock
) -> None:
    store.put("lease", "x", ttl=1)
    clock.advance(2)
    store.put("other", "y")
    assert _ops(store, 2) == [(2, "expire", "lease"), (2, "put", "other")]
    assert store.revision() == 2
    # Created again after expiring: a new key.
    assert store.put("lease", "z") == Record("lease", "z", 1, 3, 3)


def test_a_put_without_ttl_drops_the_lease(store: StoreUnderTest, clock: FakeClock) -> None:
    store.put("k", 1, ttl=5)
    assert store.put("k", 2).expires_at is None
    assert store.next_expiry() is None
    clock.advance(60)
    assert store.require("k").value == 2
    assert store.put("k", 3, ttl=1).expires_at == clock.now + 1


# --- listing and search ----------------------------------------------------------------


def test_list_prefix_returns_live_keys_under_a_prefix_in_key_order(
    store: StoreUnderTest,
) -> None:
    for key in ["phase7/b/status", "phase7/a/status", "phase70/x", "phase8/a", "phase7/a/gate"]:
        store.put(key, key.upper())
    assert [r.key for r in store.list_prefix("phase7/")] == [
        "phase7/a/gate",
        "phase7/a/status",
        "phase7/b/status",
    ]
    assert [r.key for r in store.list_prefix("phase7")] == [
        "phase7/a/gate",
        "phase7/a/status",
        "phase7/b/status",
        "phase70/x",
    ]
    assert [r.key for r in store.list_prefix("phase7/", limit=2)] == [
        "phase7/a/gate",
        "phase7/a/status",
    ]
    assert len(store.list_prefix()) == store.count() == 5
    assert store.list_prefix("nothing/") == []
    assert store.list_prefix("phase7/a/status")[0].value == "PHASE7/A/STATUS"


def test_search_keys_by_glob_and_values_by_substring(store: StoreUnderTest) -> None:
    store.put("phase7/code_quality/status", "in_progress")
    store.put("phase7/release/status", "pending")
    store.put("phase7/release/owner", {"agent": "planner", "note": "needs review"})
    store.put("phase8/docs/status", "complete")

    assert [r.key for r in store.search_keys("phase7/*/status")] == [
        "phase7/code_quality/status",
        "phase7/release/status",
    ]
    assert [r.key for r in store.search_keys("*/status")] == [
        "phase7/code_quality/status",
        "phase7/release/status",
        "phase8/docs/status",
    ]
    assert [r.key for r in store.search_keys("phase[78]/d?cs/*")] == ["phase8/docs/status"]
    assert store.search_keys("phase9/*") == []

    assert [r.key for r in store.search_values("review")] == ["phase7/release/owner"]
    assert [r.key for r in store.search_values("p")] == [
        "phase7/code_quality/status",
        "phase7/release/owner",
        "phase7/release/status",
        "phase8/docs/status",
    ]
    assert store.search_values("absent-text") == []


def test_delete_removes_a_key_and_returns_it(store: StoreUnderTest) -> None:
    store.put("a/1", 1)
    store.put("a/2", 2)
    assert store.delete("a/1") == Record("a/1", 1, 1, 1, 1)
    assert [r.key for r in store.list_prefix("a/")] == ["a/2"]
    assert store.count() == 1
    assert store.delete("a/1") is None
    assert store.revision() == 3


# --- errors ----------------------------------------------------------------------------

INVALID_KEYS = ["", "/a", "a/", "a//b", "a b", "a/*", "phase7/ü", "a\nb", "a" * 1025]


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_keys_are_refused_everywhere(store: StoreUnderTest, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put(key, 1)
    with pytest.raises(InvalidKey):
        store.get(key)
    with pytest.raises(InvalidKey):
        store.delete(key)
    with pytest.raises(InvalidKey):
        store.history(key)
    with pytest.raises(InvalidKey):
        store.touch(key, 10)
    with pytest.raises(InvalidKey):
        store.txn([], [Put("fine", _json(1)), Put(key, _json(1))])
    assert store.revision() == 0
    assert store.list_prefix() == []


def test_invalid_prefixes_are_refused(store: StoreUnderTest) -> None:
    for prefix in ["/a", "a//", "a b", "a*"]:
        with pytest.raises(InvalidKey):
            store.list_prefix(prefix)
        with pytest.raises(InvalidKey):
            store.changes_since(0, prefix)


def test_values_that_are_not_json_are_refused(store: StoreUnderTest) -> None:
    for value in [object(), float("nan"), {1j: 2}, b"bytes"]:
        with pytest.raises(InvalidValue):
            store.put("k", value)
    assert store.revision() == 0


def test_a_value_over_the_limit_leaves_the_store_unchanged(
    store: StoreUnderTest, clock: FakeClock
) -> None:
    store.put("k", "small")
    store.put("lease", 1, ttl=1)
    store.set_max_value_bytes(16)
    clock.advance(5)  # a lease is due: a refused write must not sweep it either
    before = _export_text(store)

    with pytest.raises(ValueTooLarge) as too_large:
        store.put("k", "x" * 15)  # 17 bytes of JSON
    assert isinstance(too_large.value, InvalidValue)
    with pytest.raises(ValueTooLarge):
        store.put("new", list(range(20)))
    with pytest.raises(ValueTooLarge):
        store.txn([], [Put("a", _json(1)), Put("b", _json("y" * 20))])

    assert store.revision() == 2
    assert _export_text(store) == before
    assert [c.rev for c in store.changes_since(0)[0]] == [1, 2]
    assert store.get("a") is None
    # Exactly at the limit is allowed.
    assert store.put("k", "x" * 14).value == "x" * 14
    with pytest.raises(StoreError):
        store.set_max_value_bytes(0)


# --- export, import, backup ------------------------------------------------------------


def _populate(store: StoreUnderTest) -> None:
    store.put("phase7/a/status", "complete")
    store.put("phase7/a/status", "in_progress")
    store.put("phase7/b/notes", {"text": "ünïcødé ✓", "list": [1, 2.5, None, True]})
    store.put("gone", 1)
    store.txn([], [Put("swarm/agents/a1", _json({"pid": 42}), ttl=300), Delete("gone")])
    store.put("phase7/a/status", "complete")
    store.put("empty", "")


def test_export_then_import_into_a_fresh_store_is_exact(make_store: StoreFactory) -> None:
    source = make_store("source.db")
    _populate(source)
    text = _export_text(source)

    target = make_store("target.db")
    assert target.import_(io.StringIO(text)) == 4
    assert target.list_prefix() == source.list_prefix()
    assert target.revision() == source.revision() == 7
    assert target.require("swarm/agents/a1").expires_at == CLOCK_START + 300
    assert _export_text(target) == text
    # The imported store carries on from the exported revision ...
    assert target.put("phase7/a/status", "failed") == Record("phase7/a/status", "failed", 4, 1, 8)
    # ... and the history before it is not there: an explicit error, not a gap.
    with pytest.raises(CompactedRevision):
        target.changes_since(1)
    assert _ops(target, 8) == [(8, "put", "phase7/a/status")]


def test_importing_into_a_store_in_use_without_merge_is_an_error(
    make_store: StoreFactory,
) -> None:
    source = make_store("source.db")
    _populate(source)
    target = make_store("target.db")
    target.put("mine", 1)
    target.delete("mine")  # no keys left, but the store has a history
    before = _export_text(target)
    with pytest.raises(StoreError):
        target.import_(io.StringIO(_export_text(source)))
    assert _export_text(target) == before
    assert target.revision() == 2


def test_import_into_a_store_emptied_by_compaction_never_lowers_its_revision(
    make_store: StoreFactory,
) -> None:
    source = make_store("source.db")
    source.put("k", 1)
    target = make_store("target.db")
    for n in range(5):
        target.put("tmp", n)
    target.delete("tmp")
    target.compact(target.revision())
    assert target.import_(io.StringIO(_export_text(source))) == 1
    assert target.revision() == 6
    assert target.put("k", 2).mod_rev == 7


def test_import_with_merge_writes_into_a_store_in_use(make_store: StoreFactory) -> None:
    source = make_store("source.db")
    source.put("shared", "from-source")
    source.put("only/source", [1, 2])
    target = make_store("target.db")
    target.put("shared", "from-target")
    target.put("only/target", True)

    assert target.import_(io.StringIO(_export_text(source)), merge=True) == 2
    assert target.revision() == 3
    assert target.require("shared") == Record("shared", "from-source", 2, 1, 3)
    assert target.require("only/source") == Record("only/source", [1, 2], 1, 3, 3)
    assert target.require("only/target").value is True
    # An export lists keys in key order; the merge writes them in that order.
    assert _ops(target, 3) == [(3, "put", "only/source"), (3, "put", "shared")]


HEADER = '{"format": "swarm-export", "version": 1, "revision": 3, "exported_at": 0}\n'
GOOD = '{"key":"k","value":1,"version":1,"create_rev":1,"mod_rev":1,"expires_at":null}\n'
MALFORMED_EXPORTS = {
    "empty": "",
    "blank lines only": "\n\n",
    "not json": "this is not json\n",
    "no header": GOOD,
    "wrong format": '{"format": "other-tool", "revision": 1}\n' + GOOD,
    "header without revision": '{"format": "swarm-export"}\n' + GOOD,
    "not an object": HEADER + "[1, 2]\n",
    "truncated line": HEADER + GOOD[:30] + "\n",
    "record without value": HEADER + '{"key":"k","version":1,"create_rev":1,"mod_rev":1}\n',
    "invalid key": HEADER + GOOD.replace('"k"', '"bad key"'),
    "negative version": HEADER + GOOD.replace('"version":1', '"version":-1'),
    "version not an int": HEADER + GOOD.replace('"version":1', '"version":"1"'),
    "expires_at not a number": HEADER + GOOD.replace("null", '"soon"'),
    "duplicate key": HEADER + GOOD + GOOD,
}


@pytest.mark.parametrize("text", MALFORMED_EXPORTS.values(), ids=MALFORMED_EXPORTS.keys())
def test_a_malformed_export_file_is_refused(store: StoreUnderTest, text: str) -> None:
    for merge in (False, True):
        with pytest.raises(BadImportFile):
            store.import_(io.StringIO(text), merge=merge)
    assert store.revision() == 0
    assert store.list_prefix() == []


def test_a_well_formed_minimal_export_imports(store: StoreUnderTest) -> None:
    # The counterpart of the malformed cases: the same header and record are accepted.
    assert store.import_(io.StringIO(HEADER + "\n" + GOOD)) == 1
    assert store.require("k") == Record("k", 1, 1, 1, 1)
    assert store.revision() == 3


def test_backup_opens_as_a_store_with_the_same_data(
    make_store: StoreFactory, tmp_path: Path, clock: FakeClock
) -> None:
    store = make_store("memory.db")
    _populate(store)
    target = tmp_path / "backups" / "memory-backup.db"
    target.parent.mkdir()
    if make_store.backend == "postgresql":  # type: ignore[attr-defined]
        # Backup is SQLite's online copy; a PostgreSQL store says to export instead.
        with pytest.raises(StoreError, match="export"):
            store.backup(target)
        assert not target.exists()
        return
    assert store.backup(target) == target

    with open_store(target, clock=clock) as copy:
        assert copy.integrity_check() == "ok"
        assert copy.list_prefix() == store.list_prefix()
        assert copy.revision() == store.revision()
        assert [c.to_json() for c in copy.changes_since(0)[0]] == [
            c.to_json() for c in store.changes_since(0)[0]
        ]
        copy.put("only/in/copy", 1)
    assert store.get("only/in/copy") is None

    # A backup never overwrites a file, and a bad target is the project's error.
    with pytest.raises(StoreError):
        store.backup(target)
    with pytest.raises(StoreError):
        store.backup(tmp_path / "missing-dir" / "copy.db")
    with open_store(target, clock=clock) as copy:
        assert copy.require("only/in/copy").value == 1


def test_errors_are_the_projects_own(store: StoreUnderTest) -> None:
    # Every refusal above is a SwarmError, so that the CLI catches one root.
    for call in (
        lambda: store.put("a b", 1),
        lambda: store.put("k", 1, if_version=3),
        lambda: store.require("absent"),
        lambda: store.import_(io.StringIO("nope")),
    ):
        with pytest.raises(SwarmError):
            call()


def test_get_many_returns_the_live_records_of_the_keys_that_exist(
    store: StoreUnderTest, clock: FakeClock
) -> None:
    store.put("a", 1)
    store.put("b", 2)
    store.put("lease", 3, ttl=1)
    keys = [f"bulk/{n:04d}" for n in range(1200)]  # more than one statement's worth
    store.txn([], [Put(key, _json(n)) for n, key in enumerate(keys)])
    clock.advance(2)

    found = store.get_many(["a", "b", "a", "lease", "absent"])
    assert found == {"a": Record("a", 1, 1, 1, 1), "b": Record("b", 2, 1, 2, 2)}
    assert store.get_many([]) == {}
    bulk = store.get_many(keys)
    assert sorted(bulk) == keys
    assert bulk["bulk/1199"].value == 1199
    with pytest.raises(InvalidKey):
        store.get_many(["a", "bad key"])
