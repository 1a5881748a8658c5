"""Property: no spelling of a write to a held file, in the covered forms, goes unseen.

A shell command that writes the held file, through any covered form (a redirection, tee,
sed -i, mv, cp, rm, git checkout/restore/rm, patch, git apply, apply_patch ...), wrapped
in any covered context (a list, a subshell, `$(...)`, `sh -c`, a loop, sudo, env) and
spelling the path any way the shell reads as that file (quoted, escaped, `./`, `..`
detours, absolute, after a `cd`, a glob or a brace expansion), reaches the held path once
its writes are canonicalised the way the adapters do it (`coordinator.claims.paths`).
"""

from __future__ import annotations

import posixpath
import shlex
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from coordinator.claims.shell.targets import shell_targets

HELD = "src/held.py"
DIRECTORIES = ("", "src", "sub", "sub/deep")
#: Forms that write their {p}; {patch} is a patch file naming the held file.
FORMS = (
    "echo x > {p}",
    "echo x >> {p}",
    "printf x 1> {p}",
    "echo x &> {p}",
    "echo x >| {p}",
    "tee {p}",
    "tee -a other.txt {p} < /dev/null",
    "sed -i s/a/b/ {p}",
    "sed -i.bak -e s/a/b/ {p}",
    "sed -E -i s/a/b/ {p}",
    "perl -pi -e s/a/b/ {p}",
    "mv other.txt {p}",
    "mv {p} other.txt",
    "cp other.txt {p}",
    "install -m 644 other.txt {p}",
    "rm {p}",
    "rm -f -- {p}",
    "unlink {p}",
    "truncate -s 0 {p}",
    "touch {p}",
    "ln -sf other.txt {p}",
    "git checkout -- {p}",
    "git checkout HEAD -- {p}",
    "git restore {p}",
    "git restore --source HEAD {p}",
    "git rm {p}",
    "git mv {p} other.txt",
    "git apply {patch}",
    "git apply < {patch}",
    "patch -p1 < {patch}",
    "patch -p1 -i {patch}",
    "patch {p} < {patch}",
)
#: Contexts a command runs in; {c} is the command.
CONTEXTS = (
    "{c}",
    "true && {c}",
    "false || {c}",
    "{c}; true",
    "ls | {c}",
    "( {c} )",
    "{{ {c}; }}",
    "x=$({c})",
    "echo $({c})",
    "if true; then {c}; fi",
    "for i in 1; do {c}; done",
    "while false; do :; done; {c}",
    "sudo {c}",
    "env A=1 {c}",
    "nice -n 5 {c}",
    "command {c}",
)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("shell") / "repo"
    for directory in DIRECTORIES:
        (base / directory).mkdir(parents=True, exist_ok=True)
    (base / HELD).write_text("held\n")
    for directory in DIRECTORIES:
        (base / directory / "fix.diff").write_text(patch_for(directory, "fix.diff"))
    return base.resolve()


def spell(path: str, how: str) -> str:
    """`path` as the shell would read it back, quoted or escaped `how`."""
    if how == "single":
        return "'" + path + "'"
    if how == "double":
        return '"' + path + '"'
    if how == "escaped":
        return "".join("\\" + char if char.isalpha() else char for char in path)
    if how == "split":
        middle = len(path) // 2
        return "'" + path[:middle] + "'" + '"' + path[middle:] + '"'
    return path


@st.composite
def commands(draw: st.DrawFn, root: Path) -> tuple[str, str]:
    """(command, the directory it runs in relative to the root) writing the held file."""
    cwd = draw(st.sampled_from(DIRECTORIES))
    # An optional `cd` to another directory of the repository, spelled relative to cwd.
    here = draw(st.sampled_from(DIRECTORIES))
    cd = "" if here == cwd else posixpath.relpath(here or ".", cwd or ".")
    relative = posixpath.relpath(HELD, here or ".")
    shape = draw(st.sampled_from(["relative", "dot", "detour", "absolute", "glob", "brace"]))
    if shape == "dot":
        path = "./" + relative
    elif shape == "detour":
        path = (
            posixpath.join("src", "..", relative)
            if not here
            else "../" + posixpath.join(posixpath.basename(here), relative)
        )
    elif shape == "absolute":
        path = str(root / HELD)
    elif shape == "glob":
        path = relative[:-4] + "*.py"
    elif shape == "brace":
        path = relative[:-2] + "{py,txt}"
    else:
        path = relative
    pattern = shape in ("glob", "brace")
    how = draw(
        st.sampled_from(["plain"] if pattern else ["plain", "single", "double", "escaped", "split"])
    )
    # A brace expansion is two operands: only forms that write every operand take one
    # (bash expands no braces in a redirection's target: "ambiguous redirect").
    every_operand = ("rm", "unlink", "touch", "truncate", "tee", "sed", "perl", "git r")
    usable = [
        f for f in FORMS if shape != "brace" or (f.startswith(every_operand) and ">" not in f)
    ]
    form = draw(st.sampled_from(usable))
    patch = "fix.diff"
    command = form.format(p=spell(path, how), patch=patch)
    context = draw(st.sampled_from((*CONTEXTS, "sh -c {q}", "bash -c {q}")))
    # A `cd` inside a pipeline changes nothing after it (each part is a subshell): there
    # the `cd` goes first; elsewhere either side of the context.
    cd_outside = cd and ("|" in context or draw(st.booleans()))
    if cd and not cd_outside:
        command = f"cd {cd} && {command}"
    if "{q}" in context:
        command = context.format(q=shlex.quote(command))
    else:
        command = context.format(c=command)
    if cd_outside:
        command = f"cd {cd} && {command}"
    return command, cwd


def patch_for(cwd: str, path: str) -> str:
    """Each patch names the held file as seen from where it is applied."""
    where = posixpath.dirname(posixpath.normpath(posixpath.join(cwd, path)))
    named = posixpath.relpath(HELD, where or ".")
    return f"--- a/{named}\n+++ b/{named}\n@@ -1 +1 @@\n-held\n+x\n"


def reached(root: Path, command: str, cwd: str) -> list[str]:
    """The held paths `command`, run in `cwd`, reaches: the adapters' judgement."""
    targets = shell_targets(str(root), str(root / cwd), command, [HELD])
    assert not targets.unreadable, command
    return list(targets.paths)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
@example(data=None)
def test_no_spelling_of_a_write_to_the_held_file_goes_unseen(
    root: Path, data: st.DataObject | None
) -> None:
    if data is None:
        command, cwd = "cd src && sh -c 'echo x > ./held.py'", ""
    else:
        command, cwd = data.draw(commands(root))
    assert HELD in reached(root, command, cwd), command


@pytest.mark.parametrize(
    ("command", "cwd"),
    [
        ("echo x > held.py", "src"),
        ("cd .. && rm src/held.py", "sub"),
        ("rm -rf src", ""),
        ("rm -rf .", "src"),
        ("git checkout -- .", ""),
        ("rm src/*.py", ""),
        ("bash -c 'cd src; tee held.py < /dev/null'", ""),
        (
            "apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: src/held.py\n"
            "*** End Patch\nEOF",
            "",
        ),
    ],
)
def test_writes_that_reach_the_held_file(root: Path, command: str, cwd: str) -> None:
    assert HELD in reached(root, command, cwd), command


@pytest.mark.parametrize(
    "command",
    [
        "cat src/held.py",
        "grep x src/held.py > out.txt",
        "ls src",
        "cp other.txt src/",  # writes src/other.txt
        "mv other.txt src",
        "echo x > /tmp/elsewhere.py",
    ],
)
def test_what_does_not_reach_it(root: Path, command: str) -> None:
    assert HELD not in reached(root, command, "")
