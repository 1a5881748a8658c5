"""`swarm doctor`: is the store sound, are the coordinator's records coherent, and will the
agent clients run the hooks `swarm init` installed."""

from __future__ import annotations

import click

from coordinator.cli.common import CliState, emit_json, pass_state


@click.command("doctor")
@click.option("--quick", is_flag=True, help="SQLite's quick_check only (skips index contents).")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@pass_state
def doctor_command(state: CliState, quick: bool, as_json: bool) -> None:
    """Check the store: SQLite integrity, application id, schema version, values that do
    not decode, and orphaned or holderless coordinator records; and that Codex trusts the
    swarm hooks of the repository. Exit 1 on any problem."""
    import os

    from coordinator.project import project_root_for
    from coordinator.views.doctor import agent_hook_problems, record_problems
    from memory.errors import SwarmError
    from memory.health import check_store
    from memory.sql import SCHEMA_VERSION

    health = check_store(state.db_path, quick=quick)
    records: list[str] = []
    if health.sound:
        with state.open_store() as store:
            records = record_problems(store.list_prefix("swarm/"), store.clock())
    hooks = agent_hook_problems(project_root_for(state.db_path), os.environ)
    if as_json:
        emit_json(
            {
                "store": str(health.path),
                "application_id": health.application_id,
                "schema_version": health.schema_version,
                "store_problems": list(health.problems),
                "record_problems": records,
                "agent_hook_problems": hooks or [],
            }
        )
    else:
        click.echo(f"store           {health.path}")
        app_id = "?" if health.application_id is None else f"{health.application_id:#x}"
        click.echo(f"application_id  {app_id}")
        click.echo(f"schema version  {health.schema_version} (this swarm: {SCHEMA_VERSION})")
        click.echo(f"integrity       {'ok' if health.sound else 'PROBLEMS'}")
        for line in health.problems:
            click.echo(f"  - {line}")
        if health.sound:
            click.echo(f"records         {'ok' if not records else 'PROBLEMS'}")
            for line in records:
                click.echo(f"  - {line}")
        if hooks is not None:
            click.echo(f"agent hooks     {'ok' if not hooks else 'PROBLEMS'}")
            for line in hooks:
                click.echo(f"  - {line}")
    found = len(health.problems) + len(records) + len(hooks or [])
    if found:
        raise SwarmError(f"{health.path}: {found} problem(s) found")
