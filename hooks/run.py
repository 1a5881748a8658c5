"""`swarm hooks ...`: the commands agents run at fixed moments. Thin and fast.

Not built on click: a hook runs on every edit an agent makes, and importing click (or
asyncio, or structlog) would cost more than the hook's own work. A well-formed call is
parsed without argparse too (see `parse_fast`); argparse prints the help and the errors
(`hooks.argparser`). This module holds the option table, the fast parser and `main`,
which opens the store and runs the call's handler (the handlers are in `hooks`).
"""

from __future__ import annotations

import math
import os
import sys
from types import SimpleNamespace

from hooks import (
    notify,
    post_edit,
    post_task,
    pre_edit,
    pre_task,
    progress,
    session_end,
    session_restore,
    session_start,
)
from memory.backends import open_store
from memory.errors import EXIT_ERROR, SwarmError
from memory.store import Store

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    Handler = Callable[[SimpleNamespace, Store], int]


def _open(args: SimpleNamespace) -> Store:
    from coordinator.project import store_location

    # pre-edit and post-edit look for the store from the file first (see store_location).
    edited = getattr(args, "file", None)
    files = [] if edited is None else [os.path.abspath(edited)]
    path = store_location(args.db, os.environ, None, files)
    return open_store(path, actor=getattr(args, "agent", None) or os.environ.get("SWARM_AGENT_ID"))


# --- parser ------------------------------------------------------------------------------
#
# One table of options (`HOOKS`) drives two parsers. `parse_fast` reads a well-formed hook
# call itself: argparse, with the gettext and locale it brings and the parser it builds,
# costs a hook more than the rest of its argument handling. Anything else (--help, a usage
# error, an abbreviated flag, a value that looks like a flag) goes to the argparse parser
# built from the same table (`hooks.argparser`), which prints the help or the one-line error.


def _lease(text: str) -> float:
    """A lease given on the command line: a finite number of seconds above 0."""
    from memory.errors import InvalidValue
    from memory.keys import validate_ttl

    try:
        return float(validate_ttl(float(text)) or 0)
    except (ValueError, InvalidValue):
        raise _type_error(f"{text!r} is not a finite number of seconds above 0") from None


def _wait(text: str) -> float:
    """A wait given on the command line: a finite number of seconds, 0 or more."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise _type_error(f"{text!r} is not a finite number of seconds, 0 or more")
    return seconds


def _type_error(message: str) -> Exception:
    """The error argparse reports as `argument --X: <message>`."""
    import argparse

    return argparse.ArgumentTypeError(message)


class Option:
    """One flag of a hook: the keyword arguments argparse's `add_argument` takes, which
    `parse_fast` reads too (`action` store, store_true or append; `type`, `choices`,
    `default` and `required`). `exclusive` names a mutually exclusive group."""

    def __init__(self, flag: str, *, exclusive: str | None = None, **kwargs: Any) -> None:
        self.flag = flag
        self.dest = flag[2:].replace("-", "_")
        self.exclusive = exclusive
        self.kwargs = kwargs
        self.action: str = kwargs.get("action", "store")
        self.default: Any = kwargs.get("default", False if self.action == "store_true" else None)


#: Every hook names its agent the same way (notify: the sender).
AGENT = Option("--agent", help="agent name (default: $SWARM_AGENT_ID)")
TASK_ID = Option("--task-id", required=True, help="TASK or PHASE/TASK")
TASK = Option("--task", help="the task the edit is for (default: $SWARM_TASK_ID)")
WAIT = Option("--wait", type=_wait, metavar="SECONDS", help="wait this long for readiness")
METRICS = Option(
    "--metrics",
    help="a JSON object of metrics; each NAME is also written to <phase>/<task>/NAME",
)
SESSION_ID = Option("--session-id", required=True)
JSON = Option("--json", action="store_true", help="print as JSON")

#: Every hook: its handler, its one-line help and its options.
HOOKS: dict[str, tuple[Handler, str, tuple[Option, ...]]] = {
    "pre-task": (
        pre_task,
        "Start a task if it is ready (exit 3 if not).",
        (AGENT, TASK_ID, Option("--session-id", help="session (default: $SWARM_SESSION_ID)"), WAIT),
    ),
    "post-task": (
        post_task,
        "Record a task's outcome and receipt.",
        (
            AGENT,
            TASK_ID,
            Option("--status", choices=["complete", "failed"], default="complete"),
            Option("--summary", help="one line on what was done"),
            METRICS,
            Option(
                "--force",
                action="store_true",
                help="operators: record the outcome whatever the task's status or holder "
                "(recorded)",
            ),
        ),
    ),
    "pre-edit": (
        pre_edit,
        "Claim a file before editing it (exit 3 if held).",
        (
            AGENT,
            Option(
                "--file",
                required=True,
                help="a path, or a glob such as src/api/** (a name that exists is that file)",
            ),
            TASK,
            Option("--mode", choices=["exclusive", "shared"], default="exclusive"),
            Option("--wait", type=_wait, metavar="SECONDS", help="queue for the claim"),
        ),
    ),
    "post-edit": (
        post_edit,
        "Record an edit and renew the claim.",
        (
            AGENT,
            Option("--file", required=True, help="the file edited (a literal path)"),
            TASK,
            Option("--memory-key", help="also store the edit record under this key"),
        ),
    ),
    "progress": (
        progress,
        "Report progress on a task.",
        (
            AGENT,
            TASK_ID,
            Option(
                "--done",
                action="append",
                metavar="N|ITEM",
                help="with --total: how many are done; without: a deliverable to tick (repeatable)",
            ),
            Option("--total", type=int, help="how many there are in all"),
            METRICS,
            Option("--blocker", help="what blocks the work, if anything"),
            Option("--milestone", help="a milestone just reached"),
        ),
    ),
    "notify": (
        notify,
        "Send a notification to agents' inboxes.",
        (
            AGENT,
            Option("--message", required=True),
            Option(
                "--to",
                exclusive="target",
                metavar="AGENT",
                help="one agent (default: every live agent)",
            ),
            Option("--task", exclusive="target", metavar="ID", help="the agent of this task"),
            Option("--level", choices=["info", "warn", "error"], default="info"),
        ),
    ),
    "session-start": (
        session_start,
        "Register an agent for a session.",
        (
            AGENT,
            SESSION_ID,
            Option("--branch", help="the git branch the agent works on"),
            Option("--worktree", help="the agent's git worktree, if not the main one"),
            Option("--ttl", type=_lease, help="liveness lease in seconds (default 900)"),
        ),
    ),
    "session-end": (
        session_end,
        "Summarise an agent's session and release its claims.",
        (AGENT, SESSION_ID, JSON),
    ),
    "session-restore": (
        session_restore,
        "Show the state of a session (operators).",
        (
            AGENT,
            Option(
                "--session-id",
                help="the session (default: the only one, else the latest active one)",
            ),
            JSON,
        ),
    ),
}

#: The options of every agent adapter (`swarm hooks claude | codex | gemini | cursor`).
ADAPTER_ARGS = (
    Option("--agent", help="agent name (default: $SWARM_AGENT_ID, else derived from the payload)"),
)


def _command(name: str) -> tuple[dict[str, Any], tuple[Option, ...]] | None:
    """The values a hook or adapter `name` sets by itself, and its options; None if unknown."""
    if name in HOOKS:
        handler, _, options = HOOKS[name]
        return {"handler": handler}, options
    from hooks.adapters import ADAPTERS

    if name in ADAPTERS:
        return {"adapter": name}, ADAPTER_ARGS
    return None


def parse_fast(argv: Sequence[str]) -> SimpleNamespace | None:  # noqa: PLR0911, PLR0912
    """`argv` as argparse would parse it, when it is a well-formed hook call (flags spelled
    in full, each value given and not starting with `-`, valid values, no --help); None
    for anything else, which the argparse parser then reports."""
    db: str | None = None
    rest = list(argv)
    while rest and rest[0].startswith("--db"):
        if rest[0] == "--db" and len(rest) > 1 and not rest[1].startswith("-"):
            db, rest = rest[1], rest[2:]
        elif rest[0].startswith("--db="):
            db, rest = rest[0][5:], rest[1:]
        else:
            return None
    command = _command(rest[0]) if rest else None
    if command is None:
        return None
    values, options = command
    values.update({"db": db, "hook": rest[0]}, **{o.dest: o.default for o in options})
    by_flag = {o.flag: o for o in options}
    seen: list[Option] = []
    i = 1
    while i < len(rest):
        flag, has_value, value = rest[i].partition("=")
        i += 1
        option = by_flag.get(flag)
        if option is None and flag != "--db":
            return None  # --help, a positional, `--`, an abbreviation, an unknown flag
        if option is not None and option.action == "store_true":
            if has_value:
                return None
            values[option.dest] = True
            seen.append(option)
            continue
        if not has_value:
            if i == len(rest) or rest[i].startswith("-"):
                return None
            value, i = rest[i], i + 1
        if option is None:
            values["db"] = value  # `--db` after the hook's name wins
            continue
        convert = option.kwargs.get("type")
        try:
            parsed = value if convert is None else convert(value)
        except Exception:  # noqa: BLE001 - argparse converts it again and says why
            return None
        if parsed not in option.kwargs.get("choices", (parsed,)):
            return None
        if option.action == "append":
            parsed = [*(values[option.dest] or []), parsed]
        values[option.dest] = parsed
        seen.append(option)
    if any(o.kwargs.get("required") and o not in seen for o in options):
        return None
    groups = [o.exclusive for o in set(seen) if o.exclusive]
    if len(groups) != len(set(groups)):
        return None
    return SimpleNamespace(**values)


def parse(argv: Sequence[str]) -> SimpleNamespace | int:
    """A hook call's arguments, or the exit code when argparse printed help (0) or a usage
    error (1) instead."""
    args = parse_fast(argv)
    if args is not None:
        return args
    from hooks.argparser import parse_slow

    try:
        return parse_slow(argv)
    except SystemExit as exit_:
        # --help exits 0; a usage error was printed as one line by Parser.error.
        return 0 if exit_.code in (0, None) else EXIT_ERROR


def main(argv: Sequence[str]) -> int:  # noqa: PLR0911 - one return per outcome
    """Run one hook; errors print one line on stderr and set the exit code."""
    args = parse(argv)
    if isinstance(args, int):
        return args
    if getattr(args, "adapter", None):
        # An agent adapter answers in its agent's own convention, failures included.
        from hooks.adapters import run_adapter

        return run_adapter(args.adapter, args.agent, args.db)
    try:
        with _open(args) as store:
            return int(args.handler(args, store))
    except SwarmError as err:
        sys.stderr.write(err.render())
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        sys.stderr.write(f"swarm: error: {where}{err.strerror or err}\n")
        return EXIT_ERROR
    except Exception as err:  # noqa: BLE001 - a hook never shows an agent a traceback
        sys.stderr.write(f"swarm: internal error: {type(err).__name__}: {err}\n")
        return EXIT_ERROR
