"""Property: no spelling of a held path is granted to another agent, whichever entrance it
comes through (the adapters' literal canonicaliser, or `pre-edit --file`'s pattern one).

The repository is real (directories, a glob-named directory, symlinks) and so is the
store; hypothesis writes the spellings. The cases that found the bugs of issue 13 are
kept as explicit examples, so they run first, every time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from coordinator.claims.grants import grant_claim
from coordinator.claims.paths import claim_pattern, pattern_path, repo_path
from coordinator.errors import ClaimHeld
from memory.backends import open_store
from memory.store import Store

HELD = "src/a.py"
#: Directories under the root and their children, for `child/..` detours.
CHILDREN = {
    "": ["src", "app", "deep", "lib"],
    "src": [],
    "app": ["[slug]", "*", "?x"],
    "app/[slug]": [],
    "app/*": [],
    "app/?x": [],
    "deep": ["d1"],
    "deep/d1": ["d2"],
    "deep/d1/d2": [],
}
#: Ways from the root to the directory holding the held file, and the name to finish with.
ROUTES = [
    (["src"], "a.py"),
    (["lib"], "a.py"),  # lib -> src
    (["app", "[slug]", "..", "..", "src"], "a.py"),
    (["app", "*", "..", "..", "src"], "a.py"),
    (["app", "?x", "..", "..", "src"], "a.py"),
    (["deep", "d1", "d2", "..", "..", "..", "src"], "a.py"),
    ([], "x[1].py"),  # x[1].py -> src/a.py
    (["app", "[slug]", ".."], "link*.py"),  # app/link*.py -> ../src/a.py
]


class Repo(NamedTuple):
    root: Path
    outside: Path
    store: Store


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repo]:
    base = tmp_path_factory.mktemp("canonical")
    root = base / "repo"
    for directory in ("src", "app/[slug]", "app/*", "app/?x", "deep/d1/d2", ".swarm"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / HELD).write_text("held\n")
    (root / "lib").symlink_to(root / "src")
    (root / "x[1].py").symlink_to(root / HELD)
    (root / "app" / "link*.py").symlink_to(Path("..") / HELD)
    outside = base / "elsewhere"
    outside.mkdir()
    store = open_store(root / ".swarm" / "memory.db", create=True)
    grant_claim(store, HELD, "alice")
    yield Repo(root, outside, store)
    store.close()


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(spelling, cwd relative to the root or "OUT") of the held file."""
    route, name = draw(st.sampled_from(ROUTES))
    parts: list[str] = []
    for step in [*route, name]:
        parts += draw(st.lists(st.sampled_from([".", "DETOUR"]), max_size=2))
        parts.append(step)
    # A detour goes into an existing child of where it stands and back out.
    where: list[str] = []
    spelled: list[str] = []
    for part in parts:
        if part == "DETOUR":
            children = CHILDREN.get("/".join(where), [])
            if children:
                spelled += [draw(st.sampled_from(children)), ".."]
            continue
        spelled.append(part)
        if part == "..":
            where = where[:-1]
        elif part not in (".", "lib") and "/".join([*where, part]) in CHILDREN:
            where.append(part)
        elif part == "lib":
            where = ["src"]
    separator = draw(st.sampled_from(["/", "//", "/./"]))
    text = separator.join(spelled) + draw(st.sampled_from(["", "/"]))
    cwd = draw(st.sampled_from(["", "app", "deep/d1", "OUT"]))
    return text, cwd


def _locate(repo: Repo, text: str, cwd: str, absolute: bool) -> tuple[str, Path]:
    """The spelling as an entrance receives it, and the cwd it is relative to."""
    here = repo.outside if cwd == "OUT" else repo.root / cwd
    if absolute:
        return str(repo.root) + "/" + text, here
    return os.path.relpath(repo.root, here) + "/" + text, here


def _refused(store: Store, pattern: str) -> bool:
    try:
        grant_claim(store, pattern, "bob")
    except ClaimHeld as err:
        assert "alice" in err.message
        return True
    return False


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spelling=spellings(), absolute=st.booleans())
@example(spelling=("app/[slug]/../../src/a.py", ""), absolute=True)
@example(spelling=("app/[slug]/../../src/a.py", ""), absolute=False)
@example(spelling=("x[1].py", ""), absolute=False)
@example(spelling=("src//./a.py/", "OUT"), absolute=True)
@example(spelling=("app/*/../../src/a.py", "app"), absolute=False)
def test_no_spelling_of_a_held_path_is_granted_to_another_agent(
    repo: Repo, spelling: tuple[str, str], absolute: bool
) -> None:
    text, here = _locate(repo, *spelling, absolute)
    literal = repo_path(repo.root, text, here)
    assert literal == HELD
    assert _refused(repo.store, claim_pattern(literal))
    # `pre-edit --file` takes patterns, but a name that exists is that file.
    assert _refused(repo.store, pattern_path(repo.root, text, here))


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1))
def test_a_literal_claim_pattern_matches_its_own_name_and_only_it(name: str) -> None:
    from coordinator.claims.globs import glob_matches, globs_overlap

    path = "/".join(part for part in name.split("/") if part) or "x"
    pattern = claim_pattern(path)
    assert glob_matches(pattern, path)
    assert globs_overlap(pattern, pattern)
    assert not glob_matches(pattern, path + "z")
