"""`swarm claims`: who holds which file, and releasing claims."""

from __future__ import annotations

import os

import click

from coordinator.cli.common import CliState, emit_json, pass_state
from coordinator.timefmt import local_time


@click.group("claims", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print claims as JSON.")
@click.pass_context
def claims_group(ctx: click.Context, as_json: bool) -> None:
    """List file claims: path, mode, holder, task, since, fencing token."""
    if ctx.invoked_subcommand is not None:
        return
    from coordinator.claims.grants import list_claims, queued_requests
    from coordinator.claims.paths import shown_path

    state = ctx.find_object(CliState)
    assert state is not None
    with state.open_store() as store:
        claims = list_claims(store)
        queue = queued_requests(store)
    if as_json:
        emit_json(
            {
                "claims": [c.to_json() for c in claims],
                "queue": [{k: v for k, v in r._asdict().items() if k != "key"} for r in queue],
            }
        )
        return
    if not claims:
        click.echo("no claims")
    for c in claims:
        click.echo(
            f"{shown_path(c.path):<40} {c.mode:<9} {c.agent:<16} task {c.task or '-':<24} "
            f"since {local_time(c.granted_at)}  token {c.token}"
        )
    for r in queue:
        since = local_time(r.requested_at)
        click.echo(f"  queued: {shown_path(r.path)} {r.mode} for {r.agent} since {since}")


@claims_group.command("release")
@click.argument("path", required=False)
@click.option("--agent", help="Release every claim this agent holds.")
@click.option("--force", is_flag=True, help="Release another agent's claim (it is notified).")
@pass_state
def release_command(state: CliState, path: str | None, agent: str | None, force: bool) -> None:
    """Release the claim on PATH, or every claim of --agent."""
    from pathlib import Path

    from coordinator.claims.grants import normalize_path, release_claims
    from coordinator.claims.paths import shown_path
    from coordinator.project import project_root_for

    if (path is None) == (agent is None):
        raise click.UsageError("give PATH or --agent")
    with state.open_store() as store:
        normalized = (
            None if path is None else normalize_path(project_root_for(Path(store.path)), path)
        )
        released = release_claims(
            store,
            path=normalized,
            agent=agent,
            actor=os.environ.get("SWARM_AGENT_ID"),
            force=force,
        )
    for claim in released:
        click.echo(f"released {shown_path(claim.path)} (held by {claim.agent})")


def register_conflict_commands(group: click.Group) -> None:
    """Add `list`, `observations` and `resolve` to the `swarm conflicts` group."""

    @group.command("list")
    @click.option("--all", "show_all", is_flag=True, help="Include resolved conflicts.")
    @click.option("--json", "as_json", is_flag=True, help="Print conflicts as JSON.")
    @pass_state
    def list_command(state: CliState, show_all: bool, as_json: bool) -> None:
        """List recorded conflicts (open ones unless --all), each once with how often it
        was seen."""
        from coordinator.claims.conflict_rules import last_seen, repeats_text
        from coordinator.claims.conflicts import list_conflicts, list_observations

        with state.open_store() as store:
            conflicts = list_conflicts(store, open_only=not show_all)
            observed = 0 if as_json else len(list_observations(store))
        if as_json:
            emit_json([c.to_json() for c in conflicts])
            return
        if not conflicts:
            click.echo("no open conflicts" if not show_all else "no conflicts")
        for c in conflicts:
            data = c.data
            state_text = "open"
            if data.get("resolved"):
                state_text = f"resolved: keep {data['resolution'].get('keep')}"
            again = repeats_text(data, local_time(last_seen(data)))
            click.echo(
                f"#{c.id:<6} {data.get('kind', '-'):<16} {local_time(data.get('detected_at'))}  "
                f"{data.get('description', '')}{again}  [{state_text}]"
            )
        if observed:
            click.echo(
                f"and {observed} file(s) changed with no post-edit and no other writer "
                "(not conflicts): see `swarm conflicts observations`"
            )

    @group.command("observations")
    @click.option("--json", "as_json", is_flag=True, help="Print observations as JSON.")
    @pass_state
    def observations_command(state: CliState, as_json: bool) -> None:
        """List files changed on disk with no post-edit that no agent holds or edited
        recently: one line per file, with how often and when last (not conflicts)."""
        from coordinator.claims.conflict_rules import last_seen, sightings
        from coordinator.claims.conflicts import list_observations

        with state.open_store() as store:
            observations = list_observations(store)
        if as_json:
            emit_json(observations)
            return
        if not observations:
            click.echo("no observations")
        for o in observations:
            click.echo(
                f"{o.get('path')}  {sightings(o)} unannounced write(s), first "
                f"{local_time(o.get('first_seen'))}, last {local_time(last_seen(o))}"
            )

    @group.command("resolve")
    @click.argument("conflict_id", metavar="ID", type=int)
    @click.option("--keep", required=True, help="The agent whose work is kept.")
    @pass_state
    def resolve_command(state: CliState, conflict_id: int, keep: str) -> None:
        """Record the decision on conflict ID and notify the agents involved."""
        from coordinator.claims.conflicts import resolve_conflict

        with state.open_store() as store:
            conflict = resolve_conflict(store, conflict_id, keep, os.environ.get("SWARM_AGENT_ID"))
        click.echo(f"conflict #{conflict.id} on {conflict.data.get('path')} resolved: keep {keep}")
