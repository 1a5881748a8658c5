"""`swarm daemon`: run the coordinator in the foreground."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import click

from coordinator.cli.common import CliState, finite_seconds, pass_state, whole_number


def configure_logging(fmt: str, level: str) -> None:
    """Configure structlog once, here at the entry point: console for people, JSON lines
    for machines."""
    # Imported here, not at the top: every other command loads this module too.
    import logging

    import structlog

    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def leaf_errors(error: BaseException) -> Iterator[BaseException]:
    """The exceptions inside `error`, through any nesting of exception groups."""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from leaf_errors(inner)
    else:
        yield error


def root_cause(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """What to report for an exception group escaping the daemon's task group: its first
    swarm error, else its first exception (never the group's generic message)."""
    from memory.errors import SwarmError

    leaves = list(leaf_errors(group))
    return next((e for e in leaves if isinstance(e, SwarmError)), leaves[0])


@click.command("daemon")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    callback=finite_seconds,
    default=300.0,
    show_default=True,
    help="Backstop poll, in seconds; changes wake the daemon within milliseconds anyway.",
)
@click.option("--once", is_flag=True, help="Catch up with one pass, then exit.")
@click.option(
    "--max-agents",
    type=whole_number(1),
    default=4,
    show_default=True,
    help="How many `run:` agents may run at once.",
)
@click.option(
    "--watch-worktree/--no-watch-worktree",
    default=True,
    show_default=True,
    help="Record edits to work-tree files that no post-edit announced.",
)
@click.option(
    "--dashboard",
    type=click.Path(dir_okay=False, writable=True),
    help="Keep a Markdown dashboard of every phase at this path (plans may name their own "
    "with `dashboard:`).",
)
@click.option(
    "--keep-changes",
    type=whole_number(0),
    default=100_000,
    show_default=True,
    help="Compact the change log to about the newest N changes (never past the daemon's "
    "own cursor).",
)
@click.option(
    "--log-format",
    type=click.Choice(["console", "json"]),
    default="console",
    show_default=True,
    help="Log lines for a person, or JSON lines for machines.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@pass_state
def daemon_command(
    state: CliState,
    interval: float,
    once: bool,
    max_agents: int,
    watch_worktree: bool,
    dashboard: str | None,
    keep_changes: int,
    log_format: str,
    log_level: str,
) -> None:
    """Watch the store: unblock tasks, start agents, escalate, reap stale agents."""
    from pathlib import Path

    import anyio

    from coordinator.daemon.loop import Daemon
    from coordinator.project import project_root_for
    from memory.errors import NoStore
    from memory.health import require_sound
    from memory.locator import store_exists

    configure_logging(log_format, log_level)
    if not store_exists(state.db_path):
        raise NoStore(f"no swarm store at {state.db_path}; run `swarm init` first")
    require_sound(state.db_path)  # a corrupt store is refused before anything acts on it
    daemon = Daemon(
        state.db_path,
        repo_root=project_root_for(state.db_path),
        interval=interval,
        max_agents=max_agents,
        watch_worktree=watch_worktree,
        dashboard=None if dashboard is None else Path(dashboard).resolve(),
        keep_changes=keep_changes,
    )
    try:
        anyio.run(lambda: daemon.run(once=once))
    except BaseExceptionGroup as group:
        # The task group wraps what escaped it; the one-line error names the real cause.
        raise root_cause(group) from group
