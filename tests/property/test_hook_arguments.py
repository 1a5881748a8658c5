"""Property: the hooks' fast argument parser agrees with argparse, or stands aside.

`hooks.run.parse_fast` reads well-formed hook calls without argparse. Whatever the
argument list, it either returns exactly what argparse returns for it, or returns None
(and argparse then parses it, printing the help or the error). Hypothesis builds the
argument lists from every hook's flags and awkward values; the calls agents and the
benchmark make are kept as examples that must take the fast path.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hooks.adapters import ADAPTERS
from hooks.argparser import parse_slow
from hooks.run import ADAPTER_ARGS, HOOKS, parse, parse_fast

NAMES = [*HOOKS, *ADAPTERS]
FLAGS = sorted({o.flag for _, _, options in HOOKS.values() for o in options} | {"--db"})
VALUES = [
    "--",
    "x",
    "bench/t0",
    "src/f1.py",
    "",
    "-",
    "-x",
    "-1",
    "0",
    "1.5",
    "7",
    "nan",
    "a=b",
    "complete",
    "failed",
    "shared",
    "warn",
    '{"n": 1}',
]
TOKENS = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(FLAGS),
    st.sampled_from(VALUES),
    st.builds(lambda f, v: f"{f}={v}", st.sampled_from(FLAGS), st.sampled_from(VALUES)),
    st.sampled_from(["--help", "-h", "--", "--ta", "--task-i", "--db=", "--bogus"]),
)


def argparse_result(argv: list[str]) -> SimpleNamespace | None:
    """What argparse makes of `argv`, or None when it rejects it (or prints help)."""
    try:
        return parse_slow(argv)
    except SystemExit:
        return None


def well_formed(draw: st.DrawFn) -> list[str]:
    """A call to a hook with its flags in any order, some with values, some repeated."""
    name = draw(st.sampled_from(NAMES))
    options = HOOKS[name][2] if name in HOOKS else ADAPTER_ARGS
    head = draw(st.sampled_from([[], ["--db", "x.db"], ["--db=y.db"]]))
    argv = [*head, name]
    for option in draw(st.lists(st.sampled_from([*options, None]), max_size=6)):
        flag = "--db" if option is None else option.flag
        if option is not None and option.kwargs.get("action") == "store_true":
            argv.append(flag)
        elif draw(st.booleans()):
            argv.append(f"{flag}={draw(st.sampled_from(VALUES))}")
        else:
            argv += [flag, draw(st.sampled_from(VALUES))]
    return argv


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.composite(well_formed)(), st.lists(TOKENS, max_size=8)))
def test_the_fast_parser_agrees_with_argparse_or_stands_aside(argv: list[str]) -> None:
    fast = parse_fast(argv)
    if fast is not None:
        assert vars(fast) == vars(argparse_result(argv) or SimpleNamespace())


@pytest.mark.parametrize(
    "argv",
    [
        ["pre-task", "--task-id", "bench/t1", "--agent", "bench"],
        ["post-task", "--task-id", "bench/t1", "--agent", "bench", "--status", "failed"],
        ["pre-edit", "--file", "src/f1.py", "--agent", "bench", "--task", "bench/t0"],
        ["post-edit", "--file", "src/f1.py", "--agent", "bench", "--task", "bench/t0"],
        ["--db", "x.db", "progress", "--task-id", "t", "--done", "3", "--total", "7"],
        ["progress", "--task-id", "t", "--done", "tests", "--done", "docs"],
        ["notify", "--message", "hi", "--to", "bob", "--level", "warn"],
        ["session-start", "--session-id", "s", "--agent", "a", "--ttl", "60"],
        ["session-end", "--session-id", "s", "--json"],
        ["--db=x.db", "pre-task", "--task-id=t", "--wait=2.5"],
        ["claude"],
        ["codex", "--agent", "a", "--db", "x.db"],
    ],
)
def test_well_formed_calls_take_the_fast_path_and_match_argparse(argv: list[str]) -> None:
    fast = parse_fast(argv)
    assert fast is not None
    assert vars(fast) == vars(argparse_result(argv) or SimpleNamespace())


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["pre-task", "--help"],
        ["pre-task"],
        ["pre-task", "--task-id", "t", "--wait", "-1"],
        ["pre-edit", "--file", "x", "--mode", "bogus"],
        ["post-task", "--task-id", "t", "--force=yes"],
        ["post-task", "--task-id", "t", "--summary", "-x"],
        ["notify", "--message", "m", "--to", "a", "--task", "t"],
        ["nosuch"],
    ],
)
def test_anything_else_goes_to_argparse(argv: list[str]) -> None:
    assert parse_fast(argv) is None
    assert parse(argv) == (0 if "--help" in argv else 1)


def test_an_abbreviated_flag_is_left_to_argparse_which_takes_it() -> None:
    argv = ["pre-task", "--task", "t"]  # --task-id

    assert parse_fast(argv) is None
    assert parse(argv) == argparse_result(argv)


def test_every_option_says_only_what_the_fast_parser_reads() -> None:
    # A keyword argparse knows and parse_fast ignores (nargs, dest, const...) would make
    # the two parsers disagree; the property above would only find it by chance.
    known = {"action", "type", "choices", "default", "required", "help", "metavar"}
    for _, _, options in [*HOOKS.values(), (None, "", ADAPTER_ARGS)]:
        for option in options:
            assert set(option.kwargs) <= known, option.flag
            assert option.action in ("store", "store_true", "append"), option.flag
