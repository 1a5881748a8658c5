"""`swarm task retry|reset|cancel|skip`: an operator's hand on a task, on record."""

from __future__ import annotations

import getpass

import click

from coordinator.cli.common import CliState, emit_json, pass_state

_TASK_HELP = "TASK is phase/task, or a bare task name where it is unambiguous."


_operator_option = click.option(
    "--operator",
    metavar="NAME",
    help="Who is acting, written in the event (default: the OS user).",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print the change as JSON.")


def _report(changed: object, as_json: bool) -> None:
    from coordinator.tasks.control import Changed

    assert isinstance(changed, Changed)
    if as_json:
        emit_json(changed._asdict())
    else:
        click.echo(
            f"task {changed.task_id}: {changed.before} -> {changed.after} ({changed.message})"
        )


@click.group("task")
def task_group() -> None:
    """Retry, reset, cancel or skip a task (refusals exit 3 with the reason)."""


@task_group.command("retry", epilog=_TASK_HELP)
@click.argument("task")
@_operator_option
@_json_option
@pass_state
def retry_command(state: CliState, task: str, operator: str | None, as_json: bool) -> None:
    """Make a failed or blocked TASK ready again; a `run:` task's agent is started again
    and dependents it blocked go back to pending."""
    from coordinator.tasks.control import retry_task

    with state.open_store() as store:
        _report(retry_task(store, task, operator or getpass.getuser()), as_json)


@task_group.command("reset", epilog=_TASK_HELP)
@click.argument("task")
@_operator_option
@_json_option
@pass_state
def reset_command(state: CliState, task: str, operator: str | None, as_json: bool) -> None:
    """Put TASK back to pending (not while in progress); its attempts stay on record."""
    from coordinator.tasks.control import reset_task

    with state.open_store() as store:
        _report(reset_task(store, task, operator or getpass.getuser()), as_json)


@task_group.command("cancel", epilog=_TASK_HELP)
@click.argument("task")
@_operator_option
@click.option(
    "--grace",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds between SIGTERM and SIGKILL to the agent.",
)
@_json_option
@pass_state
def cancel_command(
    state: CliState, task: str, operator: str | None, grace: float, as_json: bool
) -> None:
    """Stop TASK's agent (SIGTERM, then SIGKILL), release its claims and fail the task
    with reason `cancelled by NAME`."""
    from coordinator.tasks.control import cancel_task

    with state.open_store() as store:
        _report(cancel_task(store, task, operator or getpass.getuser(), grace), as_json)


@task_group.command("skip", epilog=_TASK_HELP)
@click.argument("task")
@click.option("--reason", required=True, help="Why the task is skipped (on record).")
@_operator_option
@_json_option
@pass_state
def skip_command(
    state: CliState, task: str, reason: str, operator: str | None, as_json: bool
) -> None:
    """Count TASK as complete for its dependents; it is shown as skipped."""
    from coordinator.tasks.control import skip_task

    with state.open_store() as store:
        _report(skip_task(store, task, operator or getpass.getuser(), reason), as_json)
