"""Conflict deduplication and observations (issue 21, point 3): what "the same conflict" is,
a repeat as one more sighting, and a write with no second writer as an observation. The
pure rules first, then raising conflicts on a real store file with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coordinator import layout
from coordinator.claims.conflict_rules import (
    UNANNOUNCED_WRITE,
    conflict_identity,
    last_seen,
    new_conflict,
    observed,
    repeats_text,
    seen_again,
    sightings,
    unannounced_agents,
    unannounced_description,
)
from coordinator.claims.conflicts import (
    RaisedConflict,
    list_conflicts,
    list_observations,
    raise_conflicts,
    record_observation,
    resolve_conflict,
)
from memory.backends import open_store
from memory.store import Store

T0 = 1_800_000_000.0


def record(kind: str = "concurrent_edit", path: str = "a.py", **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "path": path, "agents": ["alice", "bob"], **fields}


# --- identity ------------------------------------------------------------------------------


def test_the_same_kind_path_and_agents_in_any_order_is_the_same_conflict() -> None:
    one = record(agents=["alice", "bob"], description="alice and bob edited a.py")
    other = record(agents=["bob", "alice", "bob"], description="bob and alice edited a.py")
    assert conflict_identity(one) == conflict_identity(other)


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "unclaimed_edit"},
        {"path": "b.py"},
        {"agents": ["alice", "bob", "carol"]},
        {"agents": ["alice"]},
    ],
)
def test_another_kind_path_or_set_of_agents_is_another_conflict(change: dict[str, Any]) -> None:
    assert conflict_identity(record()) != conflict_identity({**record(), **change})


def test_a_merge_conflict_is_its_branches_and_files_in_any_order() -> None:
    one = {"kind": "merge", "path": "x", "branches": ["a", "b"], "files": ["x", "y"]}
    swapped = {"kind": "merge", "path": "y", "branches": ["b", "a"], "files": ["y", "x"]}
    wider = {**one, "files": ["x", "y", "z"]}
    assert conflict_identity(one) == conflict_identity(swapped)
    assert conflict_identity(one) != conflict_identity(wider)


# --- sightings -----------------------------------------------------------------------------


def test_a_new_conflict_is_seen_once_and_each_repeat_adds_a_sighting() -> None:
    first = new_conflict("unclaimed_edit", "a.py", ["bob"], "bob edited a.py", T0)
    assert (first["count"], first["detected_at"], first["last_seen"]) == (1, T0, T0)
    again = seen_again(seen_again(first, T0 + 5), T0 + 9)
    assert (again["count"], again["detected_at"], again["last_seen"]) == (3, T0, T0 + 9)
    assert again["description"] == first["description"]
    assert again["resolved"] is False


def test_a_record_from_before_counting_counts_as_seen_once_at_its_detection() -> None:
    old = {"kind": "unannounced_edit", "path": "d.log", "agents": [], "detected_at": T0}
    assert sightings(old) == 1
    assert last_seen(old) == T0
    assert repeats_text(old, "12:00") == ""
    assert seen_again(old, T0 + 1)["count"] == 2


def test_a_sighting_never_moves_last_seen_back() -> None:
    later = seen_again(new_conflict("k", "a.py", [], "d", T0 + 10), T0)
    assert later["last_seen"] == T0 + 10


def test_repeats_read_as_count_and_last_sighting() -> None:
    assert repeats_text({"count": 6}, "12:03") == " (seen 6 times, last 12:03)"


# --- unannounced writes --------------------------------------------------------------------


def test_an_unannounced_write_with_no_other_writer_is_an_observation() -> None:
    assert unannounced_agents([], []) == []
    assert unannounced_description("d.log", [], []) == (
        "d.log changed on disk with no post-edit announcing it; "
        "nobody holds it and no agent edited it recently"
    )


def test_a_holder_or_a_recent_editor_makes_it_a_conflict_between_them() -> None:
    assert unannounced_agents(["bob"], ["alice", "bob"]) == ["alice", "bob"]
    assert unannounced_description("h.py", ["bob"], ["alice"]) == (
        "h.py changed on disk with no post-edit announcing it; "
        "held by bob; edited recently by alice"
    )


def test_an_observation_is_one_record_per_path_with_a_count() -> None:
    first = observed(None, "d.log", T0, sha256="a")
    assert first["kind"] == UNANNOUNCED_WRITE
    assert (first["count"], first["first_seen"], first["last_seen"]) == (1, T0, T0)
    second = observed(first, "d.log", T0 + 3, sha256="b")
    assert (second["count"], second["first_seen"], second["last_seen"]) == (2, T0, T0 + 3)
    assert second["sha256"] == "b"
    # A record of another path (a digest collision) is not this one's.
    assert observed(first, "e.log", T0 + 4, sha256=None)["count"] == 1


# --- on a store ----------------------------------------------------------------------------


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    with open_store(tmp_path / "memory.db", create=True, clock=clock) as opened:
        yield opened


def events(store: Store, type_: str) -> list[dict[str, Any]]:
    found = [r.value for r in store.list_prefix(layout.EVENTS)]
    return [e for e in found if e.get("type") == type_]


def concurrent(*agents: str) -> RaisedConflict:
    return RaisedConflict("concurrent_edit", "a.py", agents, f"{' and '.join(agents)} edited")


def test_raising_an_open_conflict_again_is_one_record_one_event_one_notice_each(
    store: Store,
) -> None:
    [first] = raise_conflicts(store, [concurrent("alice", "bob")], T0)
    for n in range(1, 5):
        [again] = raise_conflicts(store, [concurrent("bob", "alice")], T0 + n)
        assert not again.new
        assert again.conflict.id == first.conflict.id
    assert first.new
    [conflict] = list_conflicts(store)
    assert conflict.data["count"] == 5
    assert conflict.data["last_seen"] == T0 + 4
    assert len(events(store, "conflict")) == 1
    for agent in ("alice", "bob"):
        assert len(store.list_prefix(layout.inbox_prefix(agent))) == 1


def test_the_same_conflict_twice_in_one_call_is_one_sighting(store: Store) -> None:
    outcomes = raise_conflicts(store, [concurrent("alice", "bob"), concurrent("bob", "alice")], T0)
    assert [o.new for o in outcomes] == [True, False]
    assert outcomes[0].conflict.id == outcomes[1].conflict.id
    [conflict] = list_conflicts(store)
    assert conflict.data["count"] == 1


def test_another_set_of_agents_is_a_conflict_of_its_own(store: Store) -> None:
    raise_conflicts(store, [concurrent("alice", "bob")], T0)
    [wider] = raise_conflicts(store, [concurrent("alice", "bob", "carol")], T0 + 1)
    assert wider.new
    assert [c.data["count"] for c in list_conflicts(store)] == [1, 1]


def test_a_resolved_conflict_raised_again_is_new(store: Store, clock: Clock) -> None:
    [first] = raise_conflicts(store, [concurrent("alice", "bob")], T0)
    clock.now = T0 + 1
    resolve_conflict(store, first.conflict.id, "alice", None)
    assert store.list_prefix(layout.OPEN_CONFLICTS) == []
    [anew] = raise_conflicts(store, [concurrent("alice", "bob")], T0 + 2)
    assert anew.new
    assert anew.conflict.id > first.conflict.id
    assert [c.id for c in list_conflicts(store, open_only=True)] == [anew.conflict.id]


def test_a_conflict_resolved_by_rewriting_its_record_is_not_counted_on(store: Store) -> None:
    [first] = raise_conflicts(store, [concurrent("alice", "bob")], T0)
    store.put(first.conflict.key, {**first.conflict.data, "resolved": True})
    [anew] = raise_conflicts(store, [concurrent("alice", "bob")], T0 + 1)
    assert anew.new


def test_observations_are_counted_per_path_with_one_event(store: Store) -> None:
    for n in range(6):
        record_observation(store, "d.log", T0 + n, sha256=str(n))
    record_observation(store, "e.log", T0 + 7, sha256=None)
    seen = {o["path"]: o["count"] for o in list_observations(store)}
    assert seen == {"d.log": 6, "e.log": 1}
    assert len(events(store, "observation")) == 2
    assert list_conflicts(store) == []


def test_an_open_conflict_from_before_counting_is_counted_not_recorded_again(
    store: Store,
) -> None:
    old = {
        "kind": "concurrent_edit",
        "path": "a.py",
        "agents": ["alice", "bob"],
        "description": "alice and bob edited a.py within 10 min",
        "detected_at": T0,
        "resolved": False,
        "resolution": None,
    }
    store.put(f"{layout.CONFLICTS}00000000001000000-0000abcdef", old)
    for n in (1, 2):
        [again] = raise_conflicts(store, [concurrent("bob", "alice")], T0 + n)
        assert not again.new
    [conflict] = list_conflicts(store)
    assert conflict.data["count"] == 3
    assert conflict.data["description"] == old["description"]
    assert len(store.list_prefix(layout.OPEN_CONFLICTS)) == 1
    assert events(store, "conflict") == []
