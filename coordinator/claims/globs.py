"""Claim paths and globs: what a pattern matches, and whether two claims can touch one file.

Paths are POSIX paths relative to the repository root (`src/api/app.py`), already
normalised by the caller; matching is case-sensitive. A pattern is split on `/` into
segments, and each segment is one of:

- `**` alone: any number of whole segments, including none, so `src/api/**` matches
  `src/api`, `src/api/x.py` and `src/api/a/b.py`, and `**` matches every path;
- otherwise an fnmatch pattern within one segment: `*` is any characters and `?` one
  character (neither crosses `/`), `[abc]`, `[a-z]` and `[!abc]` are character classes, and
  an unclosed `[` is a literal. A `*` also matches a leading `.`, and `**` inside a longer
  segment (`a**b`) is an ordinary `*`.

Overlap, the rule `globs_overlap` applies (True means "some path may match both"):

1. two literal paths overlap iff they are equal;
2. a literal path and a glob overlap iff the glob matches the path;
3. two globs are compared segment by segment, where a `**` on either side may absorb any
   number of segments of the other side (none included), and the globs overlap iff both
   run out of segments together. Two segments overlap iff some single segment matches both,
   decided exactly over their characters (`*` absorbs any run of the other's characters,
   `?` and classes meet any one character they share), with one conservative exception: a
   negated class (`[!...]`) is assumed to share a character with `?` and with any other
   negated class. So `src/a*.py` and `src/b*.py` do not overlap, `src/*.py` and `src/x.*`
   do, and `src/api/**` and `src/**/x.py` do.
"""

from __future__ import annotations

from functools import cache

from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Literal, TypeVar

    ClaimMode = Literal["exclusive", "shared"]
    _T = TypeVar("_T")

_GLOB_CHARS = frozenset("*?[")
_ANY_SEGMENTS = "**"


class ClaimSpec(NamedTuple):
    """What one agent claims: a path or glob, and whether others may claim it too."""

    path: str
    agent: str
    mode: ClaimMode


def is_glob(pattern: str) -> bool:
    """True when `pattern` holds a wildcard (`*`, `?` or `[`), False for a literal path."""
    return not _GLOB_CHARS.isdisjoint(pattern)


def _fnmatch(name: str, pattern: str) -> bool:
    """`fnmatch.fnmatchcase`, which compiles a regex for each pattern it meets: a literal
    pattern (most claims) is compared as text, and fnmatch is imported only for a glob."""
    if not is_glob(pattern):
        return name == pattern
    from fnmatch import fnmatchcase

    return fnmatchcase(name, pattern)


def glob_matches(pattern: str, path: str) -> bool:
    """True when `path` matches `pattern` (see the module docstring for the syntax)."""
    if not is_glob(pattern):
        return pattern == path
    pattern_segments = tuple(pattern.split("/"))
    path_segments = tuple(path.split("/"))

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern_segments):
            return j == len(path_segments)
        if pattern_segments[i] == _ANY_SEGMENTS:
            return match(i + 1, j) or (j < len(path_segments) and match(i, j + 1))
        return (
            j < len(path_segments)
            and _fnmatch(path_segments[j], pattern_segments[i])
            and match(i + 1, j + 1)
        )

    return match(0, 0)


def globs_overlap(a: str, b: str) -> bool:
    """True when some path may match both `a` and `b` (rules in the module docstring)."""
    a_glob, b_glob = is_glob(a), is_glob(b)
    if not a_glob and not b_glob:
        return a == b
    if not a_glob:
        return glob_matches(b, a)
    if not b_glob:
        return glob_matches(a, b)
    return _sequences_overlap(
        tuple(a.split("/")), tuple(b.split("/")), _ANY_SEGMENTS, _segments_overlap
    )


def claims_conflict(a: ClaimSpec, b: ClaimSpec) -> bool:
    """True when two claims cannot both be held: different agents, overlapping paths, one exclusive.

    Shared claims coexist, and an agent never conflicts with its own claims.
    """
    if a.agent == b.agent:
        return False
    if a.mode == "shared" and b.mode == "shared":
        return False
    return globs_overlap(a.path, b.path)


class _Token(NamedTuple):
    """One piece of a segment pattern: a literal character, `?`, a class or `*`."""

    kind: Literal["char", "any", "class", "star"]
    text: str  # the character for "char", the pattern source (`[a-z]`) for "class"


def _tokens(segment: str) -> tuple[_Token, ...]:
    # Mirrors fnmatch.translate, so that a class here is exactly a class to fnmatchcase.
    tokens: list[_Token] = []
    i, n = 0, len(segment)
    while i < n:
        c = segment[i]
        i += 1
        if c == "*":
            if not tokens or tokens[-1].kind != "star":
                tokens.append(_Token("star", c))
        elif c == "?":
            tokens.append(_Token("any", c))
        elif c == "[":
            j = i
            if j < n and segment[j] == "!":
                j += 1
            if j < n and segment[j] == "]":
                j += 1
            while j < n and segment[j] != "]":
                j += 1
            if j >= n:
                tokens.append(_Token("char", c))
            else:
                tokens.append(_Token("class", segment[i - 1 : j + 1]))
                i = j + 1
        else:
            tokens.append(_Token("char", c))
    return tuple(tokens)


def _segments_overlap(x: str, y: str) -> bool:
    if x == y:
        return True
    x_glob, y_glob = is_glob(x), is_glob(y)
    if not x_glob and not y_glob:
        return False
    if not x_glob:
        return _fnmatch(x, y)
    if not y_glob:
        return _fnmatch(y, x)
    return _sequences_overlap(_tokens(x), _tokens(y), _Token("star", "*"), _chars_overlap)


def _chars_overlap(x: _Token, y: _Token) -> bool:
    # Both are single-character tokens: "char", "any" or "class".
    if x.kind == "char":
        return (
            y.kind == "any"
            or (y.kind == "char" and x.text == y.text)
            or (y.kind == "class" and _fnmatch(x.text, y.text))
        )
    if y.kind == "char":
        return _chars_overlap(y, x)
    if x.kind == "any":
        return _class_nonempty(y) if y.kind == "class" else True
    if y.kind == "any":
        return _class_nonempty(x)
    if _negated(x) and _negated(y):
        return True  # two finite exclusions always leave characters in common
    # A non-empty intersection of two sets of ranges holds a range end of one of them, or
    # the character just past an excluded range; so these candidates decide it exactly.
    candidates = {
        chr(code + delta)
        for c in x.text + y.text
        for delta in (-1, 0, 1)
        if 0 <= (code := ord(c)) + delta <= 0x10FFFF
    }
    return any(_fnmatch(c, x.text) and _fnmatch(c, y.text) for c in candidates)


def _negated(token: _Token) -> bool:
    return token.text.startswith("[!")


def _class_nonempty(token: _Token) -> bool:
    # A class like `[z-a]` matches nothing; a negated class always matches something.
    return _negated(token) or any(_fnmatch(c, token.text) for c in token.text)


def _sequences_overlap(
    xs: tuple[_T, ...],
    ys: tuple[_T, ...],
    star: _T,
    items_overlap: Callable[[_T, _T], bool],
) -> bool:
    # One dynamic programme serves both levels: segments with `**`, characters with `*`.
    # Every step consumes an item of xs or ys, so the recursion depth is len(xs) + len(ys).
    @cache
    def overlap(i: int, j: int) -> bool:
        x_star = i < len(xs) and xs[i] == star
        y_star = j < len(ys) and ys[j] == star
        if x_star and (overlap(i + 1, j) or (j < len(ys) and overlap(i, j + 1))):
            return True
        if y_star and (overlap(i, j + 1) or (i < len(xs) and overlap(i + 1, j))):
            return True
        if x_star or y_star:
            return False
        if i == len(xs) or j == len(ys):
            return i == len(xs) and j == len(ys)
        return items_overlap(xs[i], ys[j]) and overlap(i + 1, j + 1)

    return overlap(0, 0)
