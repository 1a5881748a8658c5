"""The hook path's digests are hashlib's digests."""

from __future__ import annotations

from coordinator.claims.digests import sha1_hex, sha256_hex


def test_digests_match_hashlib() -> None:
    import hashlib

    data = b"src/app.py"
    assert sha1_hex(data) == hashlib.sha1(data, usedforsecurity=False).hexdigest()
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()
