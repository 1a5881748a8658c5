"""What tests/integration/test_odd_arguments.py draws: odd values of every kind, plausible
values by what a parameter names (so that a call gets past its parser too), and the
contents of file arguments and stdin (where NUL and raw bytes go: an argument cannot
hold a NUL)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

#: The plan loaded in the test's repository (and, spoilt, drawn as a file).
PLAN = """\
phase: p
session: s
tasks:
  a:
    title: A
    files: [src/app.py]
  b:
    title: B
    requires: [a]
    gates: ["p/b/score >= 3"]
    deadline: 1h
"""

HUGE = [
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "1" + "0" * 400,
    "-1",
    "-9223372036854775809",
    "0",
    "-0",
    "1e3",
    "0x10",
]
NON_FINITE = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e-400"]
ODD_TEXT = [
    "",
    " ",
    "-",
    "--",
    "\t",
    "a\nb",
    "\r",
    "\x1b[2J",
    "\x7f",
    "é",
    "\u202e",
    "*",
    "[",
    "a b",
]
LONG = ["x" * 5000, "a/" * 2000 + "a", "é" * 3000, "9" * 5000]
BAD_UTF8 = [b"\xff", b"a\xfe/b", b"\xed\xa0\x80", b"\xc3", b"p/\xff/status"]
#: Plausible values, by what the parameter names, so that calls get past their parser.
PLAUSIBLE = {
    "key": ["p/a/status", "notes/x", "swarm/agents/alice", "p/b/score", "k"],
    "value": ["1", '"x"', '{"a": 1}', "[1e400]", "NaN", '{"a": NaN}', "[" * 3000, '"\\ud800"'],
    "prefix": ["", "p/", "swarm/", "notes"],
    "pattern": ["*", "p/*", "[", "**", "?"],
    "task": ["a", "p/a", "p/b", "adhoc/x", "p/a/b", "nosuch"],
    "agent": ["alice", "bob", "a b", "alice/x"],
    "session": ["s", "other"],
    "file": ["src/app.py", "src/**", "../outside.py", ".", "src/a\nb.py"],
    "path": ["src/app.py", "out.db", "."],
    "branch": ["main", "nosuch", "-x", "HEAD~1"],
    "json": ['{"n": 1}', '{"n": NaN}', "[]", '{"status": 1}', '{"a/b": 1}', "{"],
    "duration": ["30d", "12h", "0s", "-1d", "1e400h", "nand"],
    "number": ["1", "2", "0"],
    "other": ["x", "s", "complete", "shared", "warn"],
}
#: Parameter names and what they name.
NAMED = {
    "key": "key",
    "value": "value",
    "prefix": "prefix",
    "pattern": "pattern",
    "task": "task",
    "task_id": "task",
    "to": "agent",
    "agent": "agent",
    "operator": "agent",
    "keep": "agent",
    "session_id": "session",
    "file": "file",
    "worktree": "path",
    "path": "path",
    "output": "path",
    "dashboard": "path",
    "db": "path",
    "db_option": "path",
    "branches": "branch",
    "branch": "branch",
    "metrics": "json",
    "older_than": "duration",
    "total": "number",
    "done": "number",
    "conflict_id": "number",
}


@dataclass(frozen=True)
class Contents:
    """A file argument: the test writes `data` to a fresh file and passes its name."""

    data: bytes


def odd() -> st.SearchStrategy[str | bytes]:
    """The odd values every parameter gets, whatever its type."""
    return st.one_of(
        st.sampled_from(HUGE),
        st.sampled_from(NON_FINITE),
        st.sampled_from(ODD_TEXT),
        st.sampled_from(LONG),
        st.sampled_from(BAD_UTF8),
        st.text(st.characters(exclude_characters="\x00/\\", codec="utf-8"), max_size=12),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.floats().map(repr),
    )


def contents() -> st.SearchStrategy[Contents]:
    """A file of drawn bytes: NUL, bad UTF-8, a plan or an export gone wrong."""
    return st.one_of(
        st.sampled_from(
            [
                b"",
                b"\x00",
                b"\xff\xfe\x00garbage\n",
                PLAN.encode(),
                PLAN.encode().replace(b"1h", b"1e400h"),
                b'{"format": "swarm-export", "version": 1, "revision": 9223372036854775808}\n',
                b'{"format": "swarm-export", "version": 1, "revision": 1, "exported_at": 0}\n'
                b'{"key": "k", "value": 1, "version": -1, "create_rev": 1, "mod_rev": 1}\n',
                b"phase: p\ntasks: {a: {deadline: nan}}\n",
                b"phase: p\ntasks: {a: {priority: 99999999999999999999}}\n",
                b"[" * 5000,
            ]
        ),
        st.binary(max_size=64),
    ).map(Contents)


def value_for(name: str, kind: str | None, choices: list[str] | None) -> st.SearchStrategy[object]:
    """Values for one parameter: odd ones, plausible ones for what it names, its choices,
    and for a number or a file the odd values of its kind."""
    plausible = PLAUSIBLE[NAMED.get(name, "other")]
    options: list[st.SearchStrategy[object]] = [st.sampled_from(plausible), odd()]
    if choices:
        options.append(st.sampled_from(choices))
    if kind == "int":
        options += [st.sampled_from(HUGE), st.integers(-(2**70), 2**70).map(str)]
    elif kind == "float":
        options += [
            st.sampled_from([*NON_FINITE, *HUGE, "0", "0.05", "1e300"]),
            st.floats().map(repr),
        ]
    elif kind == "file":
        options.append(contents())
    return st.one_of(options)
