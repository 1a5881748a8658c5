"""Claim globs: matching, overlap between two patterns, and the claim conflict rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from coordinator.claims.globs import (
    ClaimSpec,
    claims_conflict,
    glob_matches,
    globs_overlap,
    is_glob,
)

if TYPE_CHECKING:
    from coordinator.claims.globs import ClaimMode


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("src/a.py", False), ("src/*.py", True), ("src/?.py", True), ("src/[ab].py", True)],
)
def test_is_glob(pattern: str, expected: bool) -> None:
    assert is_glob(pattern) is expected


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("src/api/x.py", "src/api/x.py", True),
        ("src/api/x.py", "src/api/y.py", False),
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/.hidden.py", True),
        ("src/*.py", "src/a/b.py", False),  # `*` stays within a segment
        ("src/?.py", "src/a.py", True),
        ("src/?.py", "src/ab.py", False),
        ("src/[ab].py", "src/b.py", True),
        ("src/[!ab].py", "src/b.py", False),
        ("src/[!ab].py", "src/c.py", True),
        ("src/api/**", "src/api", True),  # `**` matches zero segments too
        ("src/api/**", "src/api/x.py", True),
        ("src/api/**", "src/api/a/b.py", True),
        ("src/api/**", "src/apix/a.py", False),
        ("src/api/**", "src", False),
        ("**/x.py", "x.py", True),
        ("**/x.py", "a/b/x.py", True),
        ("src/**/test_*.py", "src/test_a.py", True),
        ("src/**/test_*.py", "src/a/b/test_a.py", True),
        ("src/**/test_*.py", "src/a/b/a_test.py", False),
        ("**", "anything/at/all", True),
        ("src/a**b", "src/axyzb", True),  # `**` inside a segment is `*`
        ("src/a**b", "src/ax/yb", False),
        ("src/[.py", "src/[.py", True),  # an unclosed `[` is literal
        ("SRC/*.py", "src/a.py", False),  # case-sensitive
    ],
)
def test_glob_matches(pattern: str, path: str, expected: bool) -> None:
    assert glob_matches(pattern, path) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # literal / literal
        ("src/a.py", "src/a.py", True),
        ("src/a.py", "src/b.py", False),
        # literal / glob
        ("src/a.py", "src/*.py", True),
        ("src/a/b.py", "src/*.py", False),
        ("src/api/x.py", "src/api/**", True),
        ("src/api", "src/api/**", True),
        ("docs/x.md", "src/**", False),
        # glob / glob
        ("src/api/**", "src/**/x.py", True),
        ("src/*.py", "docs/*.md", False),
        ("src/a*.py", "src/b*.py", False),
        ("src/a*.py", "src/ab*.py", True),
        ("src/*.py", "src/*.md", False),
        ("src/*_test.py", "src/*.py", True),
        ("src/*.py", "src/x.*", True),
        ("src/a*", "src/*b", True),  # "ab"
        ("src/?", "src/??", False),
        ("src/[ab]*", "src/[cd]*", False),
        ("src/[a-c]*", "src/[c-e]*", True),
        ("src/[!a]", "src/a", False),
        ("src/[!a]", "src/[a]", False),
        ("src/[!a]", "src/[ab]", True),
        ("src/[!a]", "src/[!b]", True),
        ("src/[z-a]x", "src/?x", False),  # an empty class matches nothing
        ("src/*", "src/a/*", False),
        ("src/**", "docs/**", False),
        ("src/**/a.py", "**/b.py", False),
        ("src/**/a.py", "**/lib/*.py", True),
        ("a/**/b/**/c", "a/b/c", True),
        ("a/*/c", "a/**/b/c", True),  # a/b/c
        ("a/*/c", "a/**/b/d/c", False),  # needs at least four segments
        ("a/*/c/**", "a/**/b/c", True),  # a/x/c/b/c
        ("**", "src/a.py", True),
        ("**", "**", True),
        ("**", "docs/*.md", True),
    ],
)
def test_globs_overlap(a: str, b: str, expected: bool) -> None:
    assert globs_overlap(a, b) is expected
    assert globs_overlap(b, a) is expected


def test_overlap_agrees_with_a_witness_path() -> None:
    # Where the rule says two globs overlap, a path matching both exists.
    witnesses = {
        ("src/api/**", "src/**/x.py"): "src/api/x.py",
        ("src/a*", "src/*b"): "src/ab",
        ("a/*/c/**", "a/**/b/c"): "a/x/c/b/c",
        ("src/[a-c]*", "src/[c-e]*"): "src/cat",
    }
    for (a, b), path in witnesses.items():
        assert glob_matches(a, path)
        assert glob_matches(b, path)
        assert globs_overlap(a, b)


def claim(path: str, agent: str, mode: ClaimMode) -> ClaimSpec:
    """A claim, briefly."""
    return ClaimSpec(path=path, agent=agent, mode=mode)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (claim("src/a.py", "x", "exclusive"), claim("src/a.py", "y", "exclusive"), True),
        (claim("src/a.py", "x", "exclusive"), claim("src/a.py", "y", "shared"), True),
        (claim("src/a.py", "x", "shared"), claim("src/a.py", "y", "exclusive"), True),
        (claim("src/a.py", "x", "shared"), claim("src/a.py", "y", "shared"), False),
        (claim("src/a.py", "x", "exclusive"), claim("src/a.py", "x", "exclusive"), False),
        (claim("src/**", "x", "exclusive"), claim("src/a.py", "x", "exclusive"), False),
        (claim("src/**", "x", "exclusive"), claim("src/a/b.py", "y", "shared"), True),
        (claim("src/**", "x", "exclusive"), claim("docs/a.md", "y", "exclusive"), False),
        (claim("src/*.py", "x", "exclusive"), claim("src/*.md", "y", "exclusive"), False),
    ],
)
def test_claims_conflict(a: ClaimSpec, b: ClaimSpec, expected: bool) -> None:
    assert claims_conflict(a, b) is expected
    assert claims_conflict(b, a) is expected
