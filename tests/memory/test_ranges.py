"""Bounded range reads and range deletes, on both drivers."""

from __future__ import annotations

from tests.memory.conftest import StoreUnderTest


def test_list_range_reads_only_the_range_in_key_order(store: StoreUnderTest) -> None:
    for name in ("a/1", "a/2", "a/3", "b/1"):
        store.put(name, name)
    assert [r.key for r in store.list_range("a/2", "b/1")] == ["a/2", "a/3"]
    assert [r.key for r in store.list_range("a/", "a0", 2)] == ["a/1", "a/2"]
    assert store.list_range("c/", "c0") == []


def test_delete_range_deletes_in_one_logged_revision_up_to_the_limit(
    store: StoreUnderTest,
) -> None:
    for i in range(5):
        store.put(f"e/{i}", i)
    store.put("f/0", 0)
    before = store.revision()

    assert store.delete_range("e/", "e/3", 2) == 2
    assert store.revision() == before + 1
    assert [c.op for c in store.history("e/0")] == ["put", "delete"]
    assert store.delete_range("e/", "e/3", 2) == 1
    assert store.delete_range("e/", "e/3", 2) == 0
    assert store.revision() == before + 2
    assert [r.key for r in store.list_prefix("")] == ["e/3", "e/4", "f/0"]
