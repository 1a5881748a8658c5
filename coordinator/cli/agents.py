"""Operator commands about agents and what happened: inbox, events, session-restore.

`swarm status` lives with the other progress views in `coordinator.cli.report`.
"""

from __future__ import annotations

import time

import click

from coordinator.cli.common import CliState, emit_json, emit_json_line, pass_state, whole_number


@click.command("inbox")
@click.argument("agent")
@click.option("--ack", is_flag=True, help="Mark the shown notifications as read.")
@click.option("--all", "show_all", is_flag=True, help="Include notifications already read.")
@click.option("--json", "as_json", is_flag=True, help="Print notifications as JSON.")
@pass_state
def inbox_command(state: CliState, agent: str, ack: bool, show_all: bool, as_json: bool) -> None:
    """Show AGENT's unread notifications."""
    from coordinator.agents.sessions import ack as mark_read
    from coordinator.agents.sessions import inbox

    with state.open_store() as store:
        items = inbox(store, agent, unread_only=not show_all)
        if ack:
            mark_read(store, [i for i in items if not i.note.read])
    if as_json:
        emit_json([i.note.to_json() for i in items])
        return
    if not items:
        click.echo(f"no unread notifications for {agent}")
    for item in items:
        note = item.note
        when = time.strftime("%H:%M:%S", time.localtime(note.ts))
        sender = f" from {note.sender}" if note.sender else ""
        click.echo(f"{when} [{note.level}]{sender} {note.message}")


def _event_line(event: dict[str, object]) -> str:
    ts = event.get("ts")
    when = time.strftime("%H:%M:%S", time.localtime(ts)) if isinstance(ts, int | float) else "-"
    parts = [when, str(event.get("type"))]
    if event.get("task"):
        parts.append(str(event["task"]))
    if event.get("agent"):
        parts.append(f"agent={event['agent']}")
    if event.get("message"):
        parts.append(f"— {event['message']}")
    return " ".join(parts)


@click.command("events")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events as they happen.")
@click.option("--limit", type=whole_number(1), default=50, help="How many recent events.")
@click.option("--type", "types", multiple=True, help="Only events of this type (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print events as JSON lines.")
@pass_state
def events_command(
    state: CliState, follow: bool, limit: int, types: tuple[str, ...], as_json: bool
) -> None:
    """Show the typed event log: task_ready, task_started, escalated, ..."""
    from coordinator import layout
    from coordinator.state import Event
    from memory.watch import follow as follow_changes

    def show(value: object) -> None:
        event = Event.from_json(value).to_json()
        if types and event["type"] not in types:
            return
        if as_json:
            emit_json_line(event)
        else:
            click.echo(_event_line(event))

    with state.open_store() as store:
        revision = store.revision()
        for record in store.last_in_prefix(layout.EVENTS, limit):
            show(record.value)
        if not follow:
            return
        for change in follow_changes(store, revision + 1, layout.EVENTS):
            if change.op == "put":
                show(change.value)


@click.command(
    "session-restore",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def session_restore_command(ctx: click.Context) -> None:
    """Show a session's tasks, waits, gates, agents, claims and events (operators)."""
    from hooks.run import main as hooks_main

    raise click.exceptions.Exit(hooks_main(["session-restore", *ctx.args]))


@click.command(
    "hooks",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def hooks_command(ctx: click.Context) -> None:
    """Commands agents run: pre-task, post-task, pre-edit, post-edit, notify, session-*."""
    from hooks.run import main as hooks_main

    raise click.exceptions.Exit(hooks_main(ctx.args))
