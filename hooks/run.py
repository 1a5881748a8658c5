"""`swarm hooks ...`: the commands agents run at fixed moments. Thin and fast.

Not built on click: a hook runs on every edit an agent makes, and importing click (or
asyncio, or structlog) would cost more than the hook's own work. A well-formed call is
parsed without argparse too (see `parse_fast`); argparse prints the help and the errors.
Each command turns its flags into one coordinator call and prints a short result.
"""

from __future__ import annotations

import json
import math
import os
import sys
from types import SimpleNamespace

from memory.errors import EXIT_ERROR, SwarmError
from memory.store import Store

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import Any

    Handler = Callable[[SimpleNamespace, Store], int]


def _open(args: SimpleNamespace) -> Store:
    from coordinator.project import store_location

    # pre-edit and post-edit look for the store from the file first (see store_location).
    edited = getattr(args, "file", None)
    files = [] if edited is None else [os.path.abspath(edited)]
    path = store_location(args.db, os.environ, None, files)
    return Store.open(path, actor=getattr(args, "agent", None) or os.environ.get("SWARM_AGENT_ID"))


def _agent(args: SimpleNamespace, required: bool = True) -> str | None:
    agent = getattr(args, "agent", None) or os.environ.get("SWARM_AGENT_ID")
    if required and not agent:
        raise SwarmError("an agent name is required: pass --agent or set SWARM_AGENT_ID")
    return agent


def _print_json(data: Any) -> None:
    # Indented on a terminal only: the C encoder, which cannot indent, is many times faster.
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(data, indent=indent, ensure_ascii=False, default=str) + "\n")


# --- handlers ----------------------------------------------------------------------------


def pre_task(args: SimpleNamespace, store: Store) -> int:
    """Start a task if it is ready; with --wait, wait for it to become ready."""
    from coordinator.errors import TaskNotReady
    from coordinator.tasks.start import start_task

    agent = _agent(args) or ""
    session = args.session_id or os.environ.get("SWARM_SESSION_ID")
    if args.wait is None:
        started = start_task(store, args.task_id, agent, session)
    else:
        from memory.watch import retry_until

        started = retry_until(
            store.path,
            args.wait,
            lambda: start_task(store, args.task_id, agent, session),
            TaskNotReady,
        )
    verb = "already in progress" if started.already else "started"
    print(f"task {started.task_id} {verb} by {agent} (rev {started.revision})")
    return 0


def post_task(args: SimpleNamespace, store: Store) -> int:
    """Record a task's outcome, receipt and timing; release the agent's claims on it."""
    from coordinator.tasks.finish import finish_task, refuse_gate_failures

    done = finish_task(
        store,
        args.task_id,
        args.status,
        _agent(args, required=False),
        args.summary,
        _metrics(args),
        _claim_release(),
        force=args.force,
        operator=_operator(args) if args.force else None,
    )
    refuse_gate_failures(done)
    note = " (already recorded)" if done.already else ""
    print(f"task {done.task_id} {done.status}{note}")
    return 0


def _metrics(args: SimpleNamespace) -> dict[str, Any] | None:
    """`--metrics` as a JSON object (NaN and Infinity refused), or None when not given."""
    if args.metrics is None:
        return None
    from memory.errors import InvalidValue
    from memory.keys import loads_json

    try:
        metrics = loads_json(args.metrics, "--metrics")
    except InvalidValue as err:
        if "NaN" in args.metrics or "Infinity" in args.metrics or "JSON number" in err.message:
            raise
        metrics = None
    if not isinstance(metrics, dict):
        raise SwarmError("--metrics must be a JSON object, e.g. '{\"throughput_ops\": 850}'")
    return metrics


def _operator(args: SimpleNamespace) -> str:
    """Who forces an outcome: the --agent named, else the OS user."""
    import getpass

    return getattr(args, "agent", None) or getpass.getuser()


def _claim_release() -> Any:
    from coordinator.claims.grants import release_ops

    return release_ops


def _repo_root(store: Store) -> str:
    from coordinator.project import project_root

    return project_root(store.location)


def _task_of(args: SimpleNamespace, store: Store, agent: str) -> str | None:
    task = getattr(args, "task", None) or os.environ.get("SWARM_TASK_ID")
    if task:
        from coordinator.layout import qualify_task

        # Claims and edits name tasks by id, as post-task does when it releases them.
        return qualify_task(store, str(task))
    from coordinator.agents.liveness import current_task

    return current_task(store, agent)


def pre_edit(args: SimpleNamespace, store: Store) -> int:
    """Claim a file (or glob) before editing it; exit 3 naming the holder if it is held."""
    from coordinator.claims.grants import acquire_claim, normalize_path

    agent = _agent(args) or ""
    path = normalize_path(_repo_root(store), args.file)
    task = _task_of(args, store, agent)
    grant = acquire_claim(store, path, agent, task=task, mode=args.mode, wait=args.wait)
    claim = grant.claim
    verb = "renewed" if grant.renewed else "granted"
    print(f"{verb} {claim.mode} claim on {claim.path} to {agent} (fencing token {claim.token})")
    return 0


def post_edit(args: SimpleNamespace, store: Store) -> int:
    """Record an edit (who, when, file, content hash) and renew the agent's claim."""
    from coordinator.claims.edits import record_edit
    from coordinator.claims.paths import repo_path

    agent = _agent(args) or ""
    root = _repo_root(store)
    path = repo_path(root, args.file)
    result = record_edit(
        store,
        root,
        path,
        agent,
        task=_task_of(args, store, agent),
        memory_key=args.memory_key,
    )
    print(f"edit of {path} by {agent} recorded")
    for conflict in result.conflicts:
        print(f"  conflict: {conflict}", file=sys.stderr)
    for repeat in result.repeats:
        print(f"  conflict {repeat}", file=sys.stderr)
    return 0


def progress(args: SimpleNamespace, store: Store) -> int:
    """Report progress on a task: counts, ticked deliverables, metrics."""
    from coordinator.tasks.start import report_progress

    done_items: list[str] = args.done or []
    count: int | None = None
    if args.total is not None:
        if len(done_items) != 1 or not done_items[0].strip().isdigit():
            raise SwarmError("--total M goes with one --done N, a whole number")
        count, done_items = int(done_items[0]), []
    if not (done_items or args.total is not None or args.metrics or args.blocker or args.milestone):
        raise SwarmError("progress needs --done, --total, --metrics, --blocker or --milestone")
    result = report_progress(
        store,
        args.task_id,
        count,
        args.total,
        args.blocker,
        args.milestone,
        _agent(args, required=False),
        metrics=_metrics(args),
        ticked=done_items,
    )
    parts = [f"{result.done}/{result.total} ({result.percent}%)"] if result.total else []
    if done_items or result.ticked:
        parts.append(f"deliverables ticked: {len(result.ticked)}")
    print(f"progress {args.task_id}: {', '.join(parts) or 'recorded'}")
    return 0


def notify(args: SimpleNamespace, store: Store) -> int:
    """Send a notification to an agent, a task's agent, or every live agent."""
    from coordinator.agents.sessions import notify as send

    recipients = send(
        store,
        args.message,
        to=args.to,
        task=args.task,
        level=args.level,
        sender=_agent(args, required=False),
    )
    print(f"notified {', '.join(recipients) if recipients else 'nobody (no live agents)'}")
    return 0


def session_start(args: SimpleNamespace, store: Store) -> int:
    """Register the agent for a session; its lease is renewed by every hook call."""
    from coordinator.agents.sessions import start_session

    agent = _agent(args) or ""
    info = start_session(
        store,
        args.session_id,
        agent,
        branch=args.branch,
        worktree=args.worktree,
        ttl=args.ttl,
    )
    print(f"agent {info.name} registered in session {args.session_id}")
    return 0


def session_end(args: SimpleNamespace, store: Store) -> int:
    """Write the agent's session summary and release what it held."""
    from coordinator.agents.sessions import end_session

    summary = end_session(store, args.session_id, _agent(args) or "", _claim_release())
    if args.json:
        _print_json(summary)
    else:
        print(
            f"session {args.session_id} ended for {summary['agent']}: "
            f"{len(summary['tasks_done'])} task(s) done"
        )
    return 0


def session_restore(args: SimpleNamespace, store: Store) -> int:
    """The operator's view of a session: tasks, waits, gates, agents, claims, events."""
    from coordinator.views.board import render_session, session_view

    view = session_view(store, args.session_id)
    if args.json:
        _print_json(view)
    else:
        sys.stdout.write(render_session(view))
    return 0


# --- parser ------------------------------------------------------------------------------
#
# One table of options (`HOOKS`) drives two parsers. `parse_fast` reads a well-formed hook
# call itself: argparse, with the gettext and locale it brings and the parser it builds,
# costs a hook more than the rest of its argument handling. Anything else (--help, a usage
# error, an abbreviated flag, a value that looks like a flag) goes to the argparse parser
# built from the same table, which prints the help or the one-line error.


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
SESSION_ARGS = (AGENT, SESSION_ID, Option("--json", action="store_true", help="print as JSON"))

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
        SESSION_ARGS,
    ),
    "session-restore": (
        session_restore,
        "Show the state of a session (operators).",
        SESSION_ARGS,
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


def parse(argv: Sequence[str]) -> SimpleNamespace | int:
    """A hook call's arguments, or the exit code when argparse printed help (0) or a usage
    error (1) instead."""
    args = parse_fast(argv)
    if args is not None:
        return args
    try:
        return parse_slow(argv)
    except SystemExit as exit_:
        # --help exits 0; a usage error was printed as one line by Parser.error.
        return 0 if exit_.code in (0, None) else EXIT_ERROR


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
