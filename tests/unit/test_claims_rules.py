"""Claim rules over a real store file with an injected clock: who renews, who queues, what
lapses, and which globs are refused."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from coordinator import layout
from coordinator.claims.grants import (
    Claim,
    claim_key,
    grant_claim,
    list_claims,
    normalize_path,
    queued_requests,
    renewable_claim,
)
from coordinator.claims.queue import enqueue, queue_lease, withdraw
from coordinator.errors import ClaimHeld, PathOutsideRepo
from memory.backends import open_store
from memory.records import Compare, Delete, Touch, TxnResult, WriteOp
from memory.store import Store


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    with open_store(tmp_path / "memory.db", create=True, clock=clock) as opened:
        yield opened


def claim(path: str, agent: str, mode: str = "exclusive") -> Claim:
    return Claim(path, agent, "shared" if mode == "shared" else "exclusive", None, 0.0)


@pytest.mark.parametrize(
    ("held", "path", "mode", "renewed"),
    [
        ([claim("a.py", "alice")], "a.py", "exclusive", "a.py"),
        ([claim("a.py", "alice")], "a.py", "shared", None),
        (
            [claim("src/**", "alice"), claim("src/a.py", "alice")],
            "src/a.py",
            "exclusive",
            "src/a.py",
        ),
        ([claim("src/**", "alice")], "src/a.py", "exclusive", "src/**"),
        ([claim("src/**", "alice", "shared")], "src/a.py", "exclusive", None),
        ([claim("src/*.py", "alice")], "src/**", "exclusive", None),
        ([claim("a.py", "bob")], "a.py", "exclusive", None),
    ],
)
def test_renewable_claim(held: list[Claim], path: str, mode: str, renewed: str | None) -> None:
    found = renewable_claim(held, "alice", path, "shared" if mode == "shared" else "exclusive")
    assert (found.path if found else None) == renewed


def test_the_holder_renews_while_others_are_queued(store: Store) -> None:
    first = grant_claim(store, "a.py", "alice")
    enqueue(store, "a.py", "bob", None, "exclusive", lease=queue_lease(30))
    again = grant_claim(store, "a.py", "alice")
    assert again.renewed
    assert again.claim.token == first.claim.token
    with pytest.raises(ClaimHeld, match="held exclusive by alice"):
        grant_claim(store, "a.py", "carol")


def test_a_covering_glob_is_renewed_while_others_are_queued(store: Store) -> None:
    grant_claim(store, "src/**", "alice")
    enqueue(store, "src/a.py", "bob", None, "exclusive", lease=10)
    renewed = grant_claim(store, "src/a.py", "alice")
    assert renewed.renewed
    assert renewed.claim.path == "src/**"
    assert [c.path for c in list_claims(store)] == ["src/**"]


def test_a_new_grant_still_waits_for_the_requests_queued_before_it(store: Store) -> None:
    enqueue(store, "a.py", "bob", None, "exclusive", lease=10)
    with pytest.raises(ClaimHeld, match="bob is queued first"):
        grant_claim(store, "a.py", "alice")


def test_a_queued_request_lapses_with_its_lease(store: Store, clock: Clock) -> None:
    key = enqueue(store, "a.py", "bob", None, "exclusive", lease=queue_lease(1))
    assert queue_lease(1) == 6.0
    clock.now += 5.9
    assert [r.key for r in queued_requests(store)] == [key]
    clock.now += 0.2
    assert queued_requests(store) == []
    assert not grant_claim(store, "a.py", "carol").renewed
    assert withdraw(store, key) is False


def test_a_renewal_that_finds_the_claim_gone_grants_it_anew(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = grant_claim(store, "a.py", "alice")
    real_txn = store.txn

    def released_just_before(
        compares: Sequence[Compare], success: Sequence[WriteOp], failure: Sequence[WriteOp] = ()
    ) -> TxnResult:
        if any(isinstance(op, Touch) and op.key.startswith(layout.CLAIMS) for op in success):
            real_txn([], [Delete(claim_key("a.py", "alice"))])  # a forced release wins the race
            monkeypatch.setattr(store, "txn", real_txn)
        return real_txn(compares, success, failure)

    monkeypatch.setattr(store, "txn", released_just_before)
    again = grant_claim(store, "a.py", "alice")
    assert not again.renewed
    assert again.claim.token > first.claim.token
    assert [c.token for c in list_claims(store)] == [again.claim.token]


def test_a_renewal_consumes_the_holders_own_queue_entry(store: Store) -> None:
    grant_claim(store, "a.py", "alice")
    key = enqueue(store, "a.py", "alice", None, "exclusive", lease=10)
    assert grant_claim(store, "a.py", "alice", queue_key=key).renewed
    assert queued_requests(store) == []


@pytest.mark.parametrize(
    "pattern", ["*/../../../etc/passwd", "src/*/../x.py", "src/**/..", "[a]/../b"]
)
def test_a_glob_with_dot_dot_after_its_wildcard_is_refused(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(PathOutsideRepo, match="may not hold"):
        normalize_path(tmp_path, pattern, cwd=tmp_path)


def test_a_glob_keeps_its_pattern_and_resolves_its_literal_part(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    assert normalize_path(tmp_path, "./src/../src/*.py", cwd=tmp_path) == "src/*.py"
    assert normalize_path(tmp_path, "*.py", cwd=tmp_path / "src") == "src/*.py"
