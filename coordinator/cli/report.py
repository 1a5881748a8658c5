"""Operator views of progress: `swarm status` (the dashboard), `swarm report` (the
completion report) and `swarm top` (the live view)."""

from __future__ import annotations

from pathlib import Path

import click

from coordinator.cli.common import CliState, emit_json, finite_seconds, pass_state


@click.command("status")
@click.option("--session-id", help="Only this session's phases (default: every loaded plan).")
@click.option("--json", "as_json", is_flag=True, help="Print the same content as JSON.")
@pass_state
def status_command(state: CliState, session_id: str | None, as_json: bool) -> None:
    """Show the dashboard: progress, tasks, gates, claims, conflicts, escalations, events."""
    from coordinator.views.board import session_dashboard_view
    from coordinator.views.dashboard.render import render_dashboard

    with state.open_store() as store:
        view = session_dashboard_view(store, session_id)
    if as_json:
        emit_json(view)
    else:
        click.echo(render_dashboard(view), nl=False)


@click.command("report")
@click.option(
    "--session-id",
    help="The session to report on (default: the only one, else the latest active one).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "json"]),
    default="md",
    show_default=True,
    help="Markdown for people, JSON for machines.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the report to this file (atomically) instead of stdout.",
)
@pass_state
def report_command(state: CliState, session_id: str | None, fmt: str, output: str | None) -> None:
    """The completion report: receipts, gates, baseline against final, escalations,
    conflicts and the critical path."""
    import json

    from coordinator.views.dashboard.files import write_atomic
    from coordinator.views.report.build import render_report, report_data
    from coordinator.views.session_choice import resolve_session

    with state.open_store() as store:
        choice = resolve_session(store, session_id)
        if choice.note is not None:
            click.echo(choice.note, err=True)
        data = report_data(store, choice.session)
    if fmt == "json":
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    else:
        text = render_report(data)
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomic(Path(output), text)
    click.echo(f"report for {choice.session} written to {output}")


@click.command("top")
@click.option("--session-id", help="Only this session's phases (default: every loaded plan).")
@click.option("--once", is_flag=True, help="Print one snapshot and exit.")
@click.option(
    "--poll",
    type=click.FloatRange(min=0.1),
    callback=finite_seconds,
    default=5.0,
    show_default=True,
    help="Redraw at least this often, in seconds; changes redraw at once.",
)
@pass_state
def top_command(state: CliState, session_id: str | None, once: bool, poll: float) -> None:
    """A live view of tasks, agents, claims and events; press q to quit.

    Without a terminal on stdin and stdout it prints one snapshot, as --once does.
    """
    from coordinator.views.top import run_top

    run_top(state.db_path, session_id, poll=poll, once=once)
