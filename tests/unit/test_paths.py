"""The one path canonicaliser (coordinator/claims/paths.py), on real directories in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from coordinator.claims.globs import glob_matches, globs_overlap
from coordinator.claims.paths import claim_pattern, pattern_path, repo_path, shown_path
from coordinator.errors import InvalidPath, PathOutsideRepo


@pytest.fixture
def root(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "a.py").write_text("a\n")
    (repo / "app" / "[slug]").mkdir(parents=True)
    return repo


@pytest.mark.parametrize(
    "spelling",
    [
        "src/a.py",
        "./src/a.py",
        "src//a.py",
        "src/./a.py",
        "src/../src/a.py",
        "app/[slug]/../../src/a.py",
        "app/*/../../src/a.py",
        "src/a.py/",
    ],
)
def test_every_spelling_of_a_file_is_one_repository_path(root: Path, spelling: str) -> None:
    assert repo_path(root, spelling, root) == "src/a.py"
    assert repo_path(root, str(root / spelling), Path("/")) == "src/a.py"


def test_a_symlink_is_the_file_it_leads_to(root: Path) -> None:
    (root / "x[1].py").symlink_to(root / "src" / "a.py")
    (root / "lib").symlink_to(root / "src")
    assert repo_path(root, "x[1].py", root) == "src/a.py"
    assert repo_path(root, "lib/a.py", root) == "src/a.py"
    assert pattern_path(root, "x[1].py", root) == "src/a.py"


def test_outside_and_root_are_refused(root: Path, tmp_path: Path) -> None:
    with pytest.raises(PathOutsideRepo):
        repo_path(root, "../elsewhere.py", root)
    with pytest.raises(PathOutsideRepo):
        repo_path(root, str(tmp_path / "elsewhere.py"), root)
    with pytest.raises(PathOutsideRepo):
        repo_path(root, ".", root)
    (root / "out").symlink_to(tmp_path)
    with pytest.raises(PathOutsideRepo):
        repo_path(root, "out/x.py", root)


@pytest.mark.parametrize(
    "bad", ["", "a\nb.py", "a\rb", "a\x00b", "tab\there", "a\u2028b", "\ud800"]
)
def test_control_characters_and_lone_surrogates_are_refused(root: Path, bad: str) -> None:
    with pytest.raises(InvalidPath) as caught:
        repo_path(root, bad, root)
    assert "\n" not in caught.value.message
    with pytest.raises(InvalidPath):
        pattern_path(root, bad, root)


def test_a_literal_claim_covers_that_file_only() -> None:
    pattern = claim_pattern("app/[slug]/*?.py")
    assert pattern == "app/[[]slug]/[*][?].py"
    assert glob_matches(pattern, "app/[slug]/*?.py")
    assert not glob_matches(pattern, "app/s/ab.py")
    assert globs_overlap(pattern, "app/**")
    assert not globs_overlap(pattern, "app/[slug]/x.py")
    assert shown_path(pattern) == "app/[slug]/*?.py"
    assert shown_path("src/*.py") == "src/*.py"
    assert shown_path("src/a\nb.py") == "src/a\\nb.py"
    assert claim_pattern("src/a.py") == "src/a.py"


def test_patterns_keep_their_wildcards_after_a_canonical_directory(root: Path) -> None:
    (root / "lib").symlink_to(root / "src")
    assert pattern_path(root, "lib/**", root) == "src/**"
    assert pattern_path(root, "*.py", root / "src") == "src/*.py"
    assert pattern_path(root, "*.md", root) == "*.md"
    # An existing name with brackets is that file, escaped.
    (root / "app" / "[slug]" / "page.py").write_text("")
    assert pattern_path(root, "app/[slug]/page.py", root) == "app/[[]slug]/page.py"
    assert pattern_path(root, "app/[slug]/../../src/a.py", root) == "src/a.py"
    with pytest.raises(PathOutsideRepo):
        pattern_path(root, "*/../../etc/passwd", root)


def test_the_work_tree_watcher_judges_a_changed_path_by_the_file_it_is(root: Path) -> None:
    from coordinator.daemon.tree_watch import _relevant

    (root / "x[1].py").symlink_to(root / "src" / "a.py")
    (root / ".swarm").mkdir()
    real = root.resolve()
    assert _relevant(real, str(real / "x[1].py")) == "src/a.py"
    assert _relevant(real, str(real / "app" / "[slug]" / "page.py")) == "app/[slug]/page.py"
    assert _relevant(real, str(real / ".swarm" / "memory.db")) is None
    assert _relevant(real, str(real / "src" / "a\nb.py")) is None
