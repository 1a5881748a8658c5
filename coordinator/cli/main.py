"""The `swarm` command line: a thin click layer over the store and the coordinator.

Each command parses its arguments, makes one library call and renders the result.
Errors are the project's own (`memory.errors.SwarmError`), caught once in `main`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from coordinator.cli.common import CliState, run_cli
from coordinator.cli.memory import memory_group
from coordinator.project import resolve_store_path


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db",
    envvar="SWARM_DB",
    help="The store: a file (default: the nearest .swarm/memory.db, or the URL recorded in "
    ".swarm/memory.url) or a postgresql:// URL. Also SWARM_DB.",
)
@click.version_option(package_name="swarm-coordinator", prog_name="swarm")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Coordinate AI coding agents through a shared memory, hooks and a daemon."""
    ctx.obj = CliState(db_path=resolve_store_path(db, {}, Path.cwd()), explicit_db=db)


cli.add_command(memory_group)


def register() -> None:
    """Attach the command groups that live in other modules."""
    from coordinator.cli.agents import (
        events_command,
        hooks_command,
        inbox_command,
        session_restore_command,
    )
    from coordinator.cli.claims import claims_group, register_conflict_commands
    from coordinator.cli.daemon import daemon_command
    from coordinator.cli.doctor import doctor_command
    from coordinator.cli.gitguard import conflicts_group, guard_group
    from coordinator.cli.init import init_command
    from coordinator.cli.mcp import mcp_command
    from coordinator.cli.plan import plan_group
    from coordinator.cli.report import report_command, status_command, top_command
    from coordinator.cli.task import task_group

    register_conflict_commands(conflicts_group)

    for command in (
        init_command,
        plan_group,
        task_group,
        daemon_command,
        claims_group,
        guard_group,
        conflicts_group,
        inbox_command,
        events_command,
        status_command,
        report_command,
        top_command,
        hooks_command,
        session_restore_command,
        mcp_command,
        doctor_command,
    ):
        cli.add_command(command)


register()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    return run_cli(cli, sys.argv[1:] if argv is None else argv)
