"""The `swarm hooks` argparse parser, built from the option table in `hooks.run`: it prints
the help and the one-line usage errors, and reads the calls `parse_fast` leaves to it (an
abbreviated flag, a value that looks like a flag). Imported only on that slow path: argparse,
with the gettext and locale it brings, costs a hook more than the rest of its work.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

from hooks.run import ADAPTER_ARGS, HOOKS, _command
from memory.errors import EXIT_ERROR

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The `swarm hooks` argparse parser, one sub-command per hook (or just `only`'s:
    a hook call pays for building its own parser, not all of them)."""
    import argparse

    from hooks.adapters import ADAPTERS

    class Formatter(argparse.HelpFormatter):
        """argparse's help formatter without its `import shutil` (which brings bz2 and
        lzma): only `--help` needs the terminal width."""

        def __init__(
            self,
            prog: str,
            indent_increment: int = 2,
            max_help_position: int = 24,
            width: int | None = None,
        ) -> None:
            if width is None:
                width = _terminal_columns() - 2
            super().__init__(prog, indent_increment, max_help_position, width)

    class Parser(argparse.ArgumentParser):
        """An argparse parser whose errors are one line and exit 1, like every swarm error."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("formatter_class", Formatter)
            super().__init__(*args, **kwargs)

        def error(self, message: str) -> Any:
            sys.stderr.write(f"swarm: error: {self.prog}: {message}\n")
            raise SystemExit(EXIT_ERROR)

    parser = Parser(
        prog="swarm hooks",
        description="Commands agents run at fixed moments (exit 0 ok, 1 error, 3 refused).",
    )
    parser.add_argument("--db", help="the store file (default: nearest .swarm/memory.db)")
    sub = parser.add_subparsers(dest="hook", required=True, metavar="HOOK", parser_class=Parser)
    commands = [(name, help_text, options) for name, (_, help_text, options) in HOOKS.items()]
    commands += [(name, help_text, ADAPTER_ARGS) for name, help_text in ADAPTERS.items()]
    for name, help_text, options in commands:
        if only not in (None, name):
            continue
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        values, _ = _command(name) or ({}, ())
        cmd.set_defaults(**values)
        cmd.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        groups: dict[str, Any] = {}
        for option in options:
            target: Any = cmd
            if option.exclusive is not None:
                if option.exclusive not in groups:
                    groups[option.exclusive] = cmd.add_mutually_exclusive_group()
                target = groups[option.exclusive]
            target.add_argument(option.flag, **option.kwargs)
    return parser


def _terminal_columns() -> int:
    """$COLUMNS, else the terminal's width, else 80 (what shutil.get_terminal_size gives)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def _hook_named(argv: Sequence[str]) -> str | None:
    """The hook an argument list names, when it names a known one first (after --db)."""
    rest = list(argv)
    while rest and rest[0].startswith("--db"):
        rest = rest[2:] if rest[0] == "--db" else rest[1:]
    name = rest[0] if rest else None
    return name if name is not None and _command(name) is not None else None


def parse_slow(argv: Sequence[str]) -> SimpleNamespace:
    """argparse's reading of a hook call (SystemExit for help and usage errors). An
    explicit `--opt=--` is the value `--`, as `parse_fast` and Python 3.13's argparse
    read it (older argparse makes it an empty list)."""
    name = _hook_named(argv)
    args = SimpleNamespace()
    build_parser(name).parse_args(list(argv), args)
    command = _command(name) if name is not None else None
    dests = ["db", *(o.dest for o in (command[1] if command else ()) if o.action != "append")]
    for dest in dests:
        if getattr(args, dest, None) == []:
            setattr(args, dest, "--")
    return args
