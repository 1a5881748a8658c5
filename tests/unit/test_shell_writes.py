"""What a shell command writes (coordinator.claims.shell): the pure rule, command by command."""

from __future__ import annotations

import pytest

from coordinator.claims.patches import diff_paths, patch_paths, strip_components
from coordinator.claims.shell.parse import might_write, shell_glob_matches, shell_writes

PATCH = "--- a/src/x.py\n+++ b/src/x.py\n@@ -1 +1 @@\n-a\n+b\n"
FILES = {"fix.diff": PATCH, "sub/fix.diff": PATCH.replace("src/x.py", "src/y.py")}


@pytest.mark.parametrize(
    ("command", "paths"),
    [
        ("echo x > src/app.py", ["src/app.py"]),
        ("echo x >> 'held file.py'", ["held file.py"]),
        ('echo x >| "src/app.py"', ["src/app.py"]),
        ("echo x &> log.txt", ["log.txt"]),
        ("make 2> err.log 1>&2", ["err.log"]),
        ("echo hi > a\\ b", ["a b"]),
        ("tee -a out.txt copy.txt < in.txt", ["out.txt", "copy.txt"]),
        ("cat x | tee out", ["out"]),
        ('sed -i "s/a/b/" f.py g.py', ["f.py", "g.py"]),
        ("sed -i.bak -e s/a/b/ -e s/c/d/ f.py", ["f.py"]),
        ('sed -E -i "s/a/b/" f', ["f"]),
        ("sed --in-place=.orig 's/a/b/' f", ["f"]),
        ("perl -pi -e 's/a/b/' f.pl", ["f.pl"]),
        ("mv a.py b.py", ["b.py/a.py", "a.py"]),
        ("mv -t dest a b", ["dest/a", "a", "dest/b", "b"]),
        ("cp a b c dir", ["dir/a", "dir/b", "dir/c"]),
        ("cp -r src/ backup", ["backup/src"]),
        ("rm -rf build src/x.py", ["build", "src/x.py"]),
        ("touch -d yesterday a", ["a"]),
        ("truncate -s 0 log", ["log"]),
        ("dd if=/dev/zero of=out.bin bs=1", ["out.bin"]),
        ("ln -s target link", ["link/target"]),
        ("ln target", ["target"]),
        ("git checkout -- f.py g.py", ["f.py", "g.py"]),
        ("git restore --source HEAD~1 f.py", ["f.py"]),
        ("git rm -q f.py", ["f.py"]),
        ("git apply fix.diff", ["src/x.py"]),
        ("git apply < fix.diff", ["src/x.py"]),
        ("patch -p1 < fix.diff", ["src/x.py"]),
        ("patch -p1 -i fix.diff", ["src/x.py"]),
        ("patch src/x.py fix.diff", ["src/x.py"]),
        ("patch -o out.py -p1 < fix.diff", ["out.py"]),
        ("patch -p1 <<'EOF'\n--- a/q.py\n+++ b/q.py\n@@\nEOF\n", ["q.py"]),
        (
            "apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: z.py\n*** Move to: w.py\n"
            "*** End Patch\nEOF\n",
            ["z.py", "w.py"],
        ),
        ("cd src && cat > x.py <<'EOF'\nhi\nEOF\n", ["src/x.py"]),
        ("cd sub && git apply fix.diff", ["sub/src/y.py"]),
        ("(cd d; rm x); rm y", ["d/x", "y"]),
        ("cd /abs && rm x", ["/abs/x"]),
        ("sudo -u build rm -f a", ["a"]),
        ("env A=1 B=2 tee out", ["out"]),
        ("FOO=1 nice -n 5 rm a", ["a"]),
        ("bash -c 'echo > q'", ["q"]),
        ('sh -c "cd d && rm q"', ["d/q"]),
        ("eval rm q", ["q"]),
        ("echo $(rm inner)", ["inner"]),
        ("x=$(echo > f)", ["f"]),
        ("if true; then rm a; fi", ["a"]),
        ("while read l; do echo $l; done < in > out", ["out"]),
        ("rm a{1..3}.py b{x,y}", ["a1.py", "a2.py", "a3.py", "bx", "by"]),
        ("echo x > /dev/null", ["/dev/null"]),
    ],
)
def test_the_paths_a_command_writes(command: str, paths: list[str]) -> None:
    found = shell_writes(command, FILES.get)
    assert list(found.paths) == paths
    assert not found.unreadable


@pytest.mark.parametrize(
    "command",
    [
        "ls -la",
        "grep -r x src",
        "cat a b",
        "pytest -q",
        "git status",
        "git diff HEAD",
        "sed -n p f",
    ],
)
def test_commands_that_write_nothing(command: str) -> None:
    assert shell_writes(command) == shell_writes("true")
    assert not shell_writes(command).paths


@pytest.mark.parametrize(
    "command",
    [
        "python -c \"open('x', 'w')\"",
        "make install",
        'echo x > "$HOME/y"',
        "for f in a b; do echo > $f; done",
        "git reset --hard",
        "git checkout main",
        "git -C other rm x",
        "find . -name '*.pyc' -delete",
        "ls | xargs rm",
        "cd $DIR && rm x",
        "$EDITOR f.py",
        "git apply missing.diff",
    ],
)
def test_writes_it_cannot_locate_are_flagged(command: str) -> None:
    assert shell_writes(command, FILES.get).unlocated


def test_copy_destinations_are_apart() -> None:
    # A destination is written only when it is a file: shell_targets asks the disk.
    assert shell_writes("cp a b c dir").destinations == ("dir",)
    assert shell_writes("cd x && mv a b").destinations == ("x/b",)


def test_globs_come_back_as_patterns() -> None:
    found = shell_writes("rm src/*.py 'lit*.py'")
    assert found.patterns == ("src/*.py",)
    assert found.paths == ("lit*.py",)
    assert shell_glob_matches("src/*.py", "src/a.py")
    assert not shell_glob_matches("src/*.py", "src/deep/a.py")
    assert shell_glob_matches("src/?.p[xy]", "src/a.py")


@pytest.mark.parametrize("command", ["echo 'unterminated > held.py", "cat <> held.py"])
def test_an_unreadable_command_lists_its_words(command: str) -> None:
    # tree-sitter-bash does not read `<>` (open for reading and writing): unreadable too.
    found = shell_writes(command)
    assert found.unreadable
    assert "held.py" in found.words
    assert not found.paths


def test_might_write_skips_commands_without_a_writer() -> None:
    assert not might_write("ls -la src && grep -n x y")
    assert might_write("echo x > y")
    assert might_write("cd a && rm b")
    assert might_write("bash script.sh")


def test_patch_paths() -> None:
    assert patch_paths(PATCH) == ["src/x.py"]
    assert diff_paths(PATCH, 1) == ["src/x.py"]
    assert diff_paths(PATCH, 0) == ["a/src/x.py", "b/src/x.py"]
    assert diff_paths(PATCH, None) == ["x.py"]
    assert diff_paths("--- /dev/null\n+++ b/new.py\n", 1) == ["new.py"]
    assert strip_components("a/b/c", 2) == "c"
    assert strip_components("a/b", 2) is None
