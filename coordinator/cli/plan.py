"""`swarm plan load|show`: put a plan in the store and see where each task stands."""

from __future__ import annotations

from pathlib import Path

import click

from coordinator.cli.common import CliState, emit_json, pass_state


@click.group("plan")
def plan_group() -> None:
    """Load plans (YAML) and show their tasks."""


@plan_group.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def load_command(state: CliState, file: Path) -> None:
    """Validate FILE and load it; reloading keeps statuses. Nothing loads if it is invalid."""
    from coordinator.errors import PlanError
    from coordinator.plans.validate import parse_plan
    from coordinator.tasks.load import load_plan

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise PlanError(f"cannot read {file}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise PlanError(f"{file}: not UTF-8 text (byte {err.start})") from None
    plan = parse_plan(text, str(file))
    with state.open_store() as store:
        result = load_plan(store, plan, str(file))
    click.echo(
        f"plan {result.phase}: {len(plan.tasks)} tasks "
        f"({len(result.added)} added, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged, {len(result.removed)} removed)"
    )


@plan_group.command("show")
@click.option("--phase", help="Only this phase (default: every loaded phase).")
@click.option("--json", "as_json", is_flag=True, help="Print tasks as JSON.")
@pass_state
def show_command(state: CliState, phase: str | None, as_json: bool) -> None:
    """List each task with its status and what it waits on."""
    from coordinator.tasks.start import plan_phases
    from coordinator.views.board import phases_task_rows
    from coordinator.views.session_text import about_lines

    with state.open_store() as store, store.reading():
        phases = [phase] if phase else sorted(plan_phases(store))
        rows = phases_task_rows(store, phases)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no plan loaded; run `swarm plan load FILE`")
        return
    for row in rows:
        click.echo(f"{row['task']:<36} {row['status'] or '-':<12} {row['agent'] or '-'}")
        for line in about_lines(row, "    "):
            click.echo(line)
        for wait in row["waits_on"]:
            click.echo(f"    waits on {wait}")
        if row["held"]:
            click.echo(f"    held: {row['held']}")
