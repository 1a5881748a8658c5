"""SHA digests for the hook path, without importing hashlib.

`hashlib` loads OpenSSL's `_hashlib` on import, some 2 ms of a hook that runs on every
edit; CPython's own `_sha1` and `_sha256` (`_sha2` from 3.12) compute the same digests.
hashlib remains the fall-back where those modules are missing.
"""

from __future__ import annotations

from functools import cache

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


_sha1: Callable[..., Any]
try:
    from _sha1 import sha1 as _sha1  # type: ignore[import-not-found,no-redef]
except ImportError:  # pragma: no cover - an interpreter without the built-in module
    from hashlib import sha1 as _sha1


@cache
def _sha256() -> Callable[..., Any]:
    """The SHA-256 constructor, loaded on first use (claims name paths by SHA-1; only
    post-edit and the adapters need SHA-256)."""
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - Python 3.12 renamed it
        try:
            from _sha2 import sha256  # type: ignore[import-not-found]
        except ImportError:
            from hashlib import sha256
    return sha256  # type: ignore[no-any-return]


def sha1_hex(data: bytes) -> str:
    """The SHA-1 of `data` in hex (for naming, not security)."""
    return str(_sha1(data, usedforsecurity=False).hexdigest())


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of `data` in hex."""
    return str(_sha256()(data).hexdigest())
