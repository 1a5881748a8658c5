"""The git guard's pure parts: the offending-path rule, and parsing git's output."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from coordinator.claims.grants import Claim
from coordinator.git.guard import (
    HOOK_MARKER,
    Offense,
    StagedChange,
    describe_offense,
    guard_mode,
    hook_script,
    offending_paths,
    parse_name_status,
    touched_paths,
)
from coordinator.git.predict import PairConflict, parse_merge_tree
from memory.errors import SwarmError

if TYPE_CHECKING:
    from coordinator.claims.grants import Mode

TREE = "9b2bfddf0303fe5b19ec005feef891fe71557ef0"


def claim(path: str, agent: str, mode: Mode = "exclusive", task: str | None = None) -> Claim:
    return Claim(path, agent, mode, task, 0.0)


# --- the offending-path rule -------------------------------------------------------------


def test_another_agents_exclusive_claim_offends() -> None:
    held = claim("src/app.py", "A", task="t1")
    assert offending_paths([held], ["src/app.py", "README"], "B") == [
        Offense("src/app.py", (held,))
    ]


def test_a_shared_claim_never_offends() -> None:
    assert offending_paths([claim("src/app.py", "A", "shared")], ["src/app.py"], "B") == []
    assert offending_paths([claim("src/app.py", "A", "shared")], ["src/app.py"], None) == []


def test_the_committers_own_claims_are_ignored() -> None:
    assert offending_paths([claim("src/app.py", "A")], ["src/app.py"], "A") == []


def test_without_a_committer_every_exclusive_claim_is_anothers() -> None:
    held = claim("src/app.py", "A")
    assert offending_paths([held], ["src/app.py"], None) == [Offense("src/app.py", (held,))]


def test_a_glob_claim_covers_matching_paths_only() -> None:
    glob = claim("src/api/**", "A")
    paths = ["src/api/x.py", "src/api/v1/y.py", "src/other.py", "src/apix/z.py"]
    assert offending_paths([glob], paths, "B") == [
        Offense("src/api/x.py", (glob,)),
        Offense("src/api/v1/y.py", (glob,)),
    ]
    star = claim("src/*.py", "A")
    assert [o.path for o in offending_paths([star], ["src/a.py", "src/d/b.py"], "B")] == [
        "src/a.py"
    ]


def test_every_holder_of_a_path_is_named_once_per_path() -> None:
    a, c = claim("src/app.py", "A"), claim("src/**", "C")
    own = claim("src/app.py", "B")
    assert offending_paths([a, own, c], ["src/app.py", "src/app.py"], "B") == [
        Offense("src/app.py", (a, c))
    ]


def test_both_sides_of_a_rename_are_checked() -> None:
    changes = [StagedChange("R", "src/new.py", "src/old.py")]
    paths = touched_paths(changes)
    assert paths == ["src/old.py", "src/new.py"]
    old_held, new_held = claim("src/old.py", "A"), claim("src/new.py", "C")
    assert [o.path for o in offending_paths([old_held], paths, "B")] == ["src/old.py"]
    assert [o.path for o in offending_paths([new_held], paths, "B")] == ["src/new.py"]


def test_a_copy_touches_only_its_destination() -> None:
    assert touched_paths([StagedChange("C", "b.py", "a.py")]) == ["b.py"]


def test_describe_offense_names_holder_task_and_glob() -> None:
    offense = Offense("src/a.py", (claim("src/a.py", "A", task="t1"), claim("src/**", "C")))
    assert describe_offense(offense) == (
        "src/a.py is held exclusively by A (task t1) and C (claim src/**)"
    )


# --- parsing `git diff --cached --name-status -M -z` -------------------------------------


def test_parse_name_status_with_renames() -> None:
    output = "M\0src/app.py\0A\0new file.txt\0D\0gone.py\0R100\0old/a.py\0new/a.py\0T\0link\0"
    assert parse_name_status(output) == [
        StagedChange("M", "src/app.py"),
        StagedChange("A", "new file.txt"),
        StagedChange("D", "gone.py"),
        StagedChange("R", "new/a.py", "old/a.py"),
        StagedChange("T", "link"),
    ]


def test_parse_name_status_keeps_odd_characters_in_paths() -> None:
    assert parse_name_status('M\0a\nb "c".py\0R087\0x\ty\0z\0') == [
        StagedChange("M", 'a\nb "c".py'),
        StagedChange("R", "z", "x\ty"),
    ]


def test_parse_name_status_of_nothing_staged() -> None:
    assert parse_name_status("") == []


@pytest.mark.parametrize("output", ["R100\0only-one\0", "M\0", "\0a\0"])
def test_parse_name_status_rejects_truncated_output(output: str) -> None:
    with pytest.raises(SwarmError, match="unexpected `git diff --name-status` output"):
        parse_name_status(output)


# --- parsing `git merge-tree --write-tree --name-only` -----------------------------------


def test_parse_merge_tree_lines() -> None:
    assert parse_merge_tree(f"{TREE}\nf.txt\nsrc/g.py\n") == ("f.txt", "src/g.py")


def test_parse_merge_tree_nul_separated() -> None:
    assert parse_merge_tree(f"{TREE}\0f.txt\0a\nb.txt\0") == ("f.txt", "a\nb.txt")


def test_parse_merge_tree_stops_at_the_messages_section() -> None:
    output = f"{TREE}\nf.txt\n\nAuto-merging f.txt\nCONFLICT (content): Merge conflict in f.txt\n"
    assert parse_merge_tree(output) == ("f.txt",)


def test_parse_merge_tree_of_a_clean_merge() -> None:
    assert parse_merge_tree(f"{TREE}\n") == ()


def test_parse_merge_tree_rejects_output_without_a_tree() -> None:
    with pytest.raises(SwarmError, match="unexpected `git merge-tree` output"):
        parse_merge_tree("fatal: something\n")


def test_pair_conflict_signature_ignores_order() -> None:
    one = PairConflict("a", "b", ("x", "y"))
    other = PairConflict("b", "a", ("y", "x"))
    assert one.signature() == other.signature()
    assert one.describe() == "branches a and b would conflict on merge in 2 files: x, y"


# --- SWARM_GUARD and the hook script -----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "mode"),
    [(None, "enforce"), ("", "enforce"), ("on", "enforce"), ("WARN", "warn"), ("off", "off")],
)
def test_guard_mode(value: str | None, mode: str) -> None:
    environ = {} if value is None else {"SWARM_GUARD": value}
    assert guard_mode(environ) == mode


def test_an_unknown_guard_mode_is_an_error() -> None:
    with pytest.raises(SwarmError, match="SWARM_GUARD='of'"):
        guard_mode({"SWARM_GUARD": "of"})


def test_the_hook_script_quotes_the_executable_and_is_marked() -> None:
    script = hook_script("/opt/my tools/it's/swarm")
    assert HOOK_MARKER in script
    assert "swarm='/opt/my tools/it'\"'\"'s/swarm'\n" in script
    assert 'exec "$swarm" guard pre-commit\n' in script
    assert hook_script("/x/swarm") == hook_script("/x/swarm")
