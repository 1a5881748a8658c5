"""What every command shares: the store it works on, output, and the error boundary."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from memory.backends import open_store
from memory.errors import EXIT_ERROR, SwarmError
from memory.exchange import MAX_INT
from memory.store import Store

#: click >= 8.2 signals a group run without a command with this error; 8.1 exits with help.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


@dataclass
class CliState:
    """Per-invocation settings from the global options."""

    db_path: Path
    explicit_db: str | None = None

    def open_store(self) -> Store:
        """Open the store (it must exist); the actor is `SWARM_AGENT_ID` when set."""
        return open_store(self.db_path, actor=os.environ.get("SWARM_AGENT_ID") or None)


pass_state = click.make_pass_decorator(CliState)


def finite_seconds(ctx: click.Context, param: click.Parameter, value: float | None) -> Any:
    """A callback for number-of-seconds options: refuse NaN and ±Infinity, which click's
    FloatRange lets through (NaN compares false with every bound)."""
    import math

    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number of seconds", ctx, param)
    return value


def utf8_text(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """A callback for text matched against the store (a search pattern): refuse bytes that
    are not UTF-8, which reach Python as lone surrogates and no key or value holds."""
    try:
        (value or "").encode("utf-8")
    except UnicodeEncodeError:
        raise click.BadParameter(f"{value!r} is not valid UTF-8 text", ctx, param) from None
    return value


def whole_number(minimum: int) -> click.IntRange:
    """The click type of a count, a version or a revision: a whole number from `minimum`
    to 2^63-1, the largest integer the store holds (a larger one would reach the database
    and fail there, as `internal error: OverflowError`)."""
    return click.IntRange(min=minimum, max=MAX_INT)


def emit_json(data: Any) -> None:
    """Print `data` as JSON on stdout: indented on a terminal, one line when piped (the
    json module's C encoder cannot indent; at 10,000 tasks indenting costs seconds)."""
    indent = 2 if sys.stdout.isatty() else None
    click.echo(json.dumps(data, indent=indent, ensure_ascii=False, default=str))


def emit_json_line(data: Any) -> None:
    """Print `data` as one compact JSON line and flush, for streams."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def run_cli(command: click.Command, argv: list[str]) -> int:  # noqa: PLR0911 - one return per outcome
    """Run a click command with the project's error boundary: one line, an exit code."""
    try:
        # Outside standalone mode click returns ctx.exit()'s code instead of raising.
        returned = command.main(args=argv, prog_name="swarm", standalone_mode=False)
        if isinstance(returned, int):
            return returned
    except SwarmError as err:
        sys.stderr.write(err.render())
        return err.exit_code
    except click.exceptions.Abort:
        click.echo("swarm: aborted", err=True)
        return 130
    except click.exceptions.Exit as done:
        return done.exit_code
    except _NO_ARGS_IS_HELP as err:
        # click >= 8.2 raises this for a bare group (`swarm memory`) with the whole help
        # text as its message; keep the one-line rule and point at --help instead.
        path = err.ctx.command_path
        click.echo(f"swarm: error: {path}: missing command (see `{path} --help`)", err=True)
        return EXIT_ERROR
    except click.ClickException as err:
        # Usage errors are bad input: one line naming the command, exit 1.
        where = f"{err.ctx.command_path}: " if getattr(err, "ctx", None) else ""  # type: ignore[attr-defined]
        click.echo(f"swarm: error: {where}{err.format_message()}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # A reader such as `head` went away; that is not our error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as err:
        # A file that cannot be written or read (read-only or full disk): what and why.
        sys.stderr.write(f"swarm: error: {os_error_line(err)}\n")
        return EXIT_ERROR
    except Exception as err:  # noqa: BLE001 - the boundary: one line, never a traceback
        sys.stderr.write(f"swarm: internal error: {type(err).__name__}: {err}\n")
        return EXIT_ERROR
    return 0


def os_error_line(err: OSError) -> str:
    """An operating-system error as one line: the file, then the reason."""
    where = f"{err.filename}: " if err.filename else ""
    return f"{where}{err.strerror or err}".replace("\n", " ")
