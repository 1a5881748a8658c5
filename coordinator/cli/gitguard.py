"""`swarm guard pre-commit` and `swarm conflicts predict`: the git side of coordination.

`conflicts_group` is meant to be extended: other modules add their subcommands with
`@conflicts_group.command(...)`; run without a subcommand, the group prints its help.
The logic lives in `coordinator.git.guard` and `coordinator.git.predict`; these commands
parse, call them and render.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from coordinator.cli.common import CliState, emit_json, pass_state
from memory.errors import Refused, SwarmError
from memory.locator import store_exists

if TYPE_CHECKING:
    from coordinator.git.predict import PairConflict


def _help_without_subcommand(ctx: click.Context) -> None:
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@click.group("guard", invoke_without_command=True)
@click.pass_context
def guard_group(ctx: click.Context) -> None:
    """The git guard: refuse commits touching files other agents hold exclusively.

    Install it with `swarm init --git-hook`.
    """
    _help_without_subcommand(ctx)


@guard_group.command("pre-commit")
@click.option(
    "--agent",
    envvar="SWARM_AGENT_ID",
    help="The committing agent (default: SWARM_AGENT_ID; unset: every claim is another's).",
)
@pass_state
def pre_commit_command(state: CliState, agent: str | None) -> None:
    """Check the staged changes against file claims; exit 1 if another agent holds one.

    Both paths of a rename count. Each offending path is printed on stderr with its holder.
    Run by the pre-commit hook; SWARM_GUARD=warn only reports, SWARM_GUARD=off skips.
    """
    from coordinator.git import guard as gitops
    from coordinator.git.repo import main_worktree_store, repo_toplevel

    mode = gitops.guard_mode(os.environ)
    if mode == "off":
        return
    root = repo_toplevel(Path.cwd())
    store = state.db_path
    if not state.explicit_db and not store_exists(store):
        store = main_worktree_store(root) or store
    committer = agent or None
    check = gitops.check_staged(root, store, committer)
    if check.store is None and check.paths:
        click.echo(f"swarm guard: no swarm store at {store}; nothing is claimed", err=True)
    for offense in check.offenses:
        click.echo(f"swarm guard: {gitops.describe_offense(offense)}", err=True)
    if not check.offenses:
        return
    if mode == "warn":
        click.echo("swarm guard: SWARM_GUARD=warn, committing anyway", err=True)
        return
    # The error boundary prints it as `swarm: error: commit refused: ...` and exits 1.
    raise SwarmError(gitops.refusal_summary(len(check.offenses), committer))


@click.group("conflicts", invoke_without_command=True)
@click.pass_context
def conflicts_group(ctx: click.Context) -> None:
    """Conflicts between agents' work: predict merge conflicts between their branches."""
    _help_without_subcommand(ctx)


@conflicts_group.command("predict")
@click.argument("branches", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the prediction as JSON.")
@pass_state
def predict_command(state: CliState, branches: tuple[str, ...], as_json: bool) -> None:
    """Name the files that would conflict if each pair of BRANCHES were merged.

    Without BRANCHES, the branches live agents registered at session-start (or have
    checked out in their worktrees). Nothing is merged or written. Exit 3 when some pair
    would conflict, 0 when none would.
    """
    from coordinator.git import predict
    from coordinator.git.repo import repo_toplevel

    root = repo_toplevel(Path.cwd())
    owners: dict[str, list[str]] = {}
    if not branches or store_exists(state.db_path):
        with state.open_store() as store:
            owners = predict.agent_branch_owners(store, root)
    skipped: list[str] = []
    names = list(dict.fromkeys(branches))
    if not branches:
        names, skipped = predict.split_known_branches(root, owners)
        for branch in skipped:
            agents = ", ".join(owners[branch])
            click.echo(f"swarm: skipping {branch} (agent {agents}): no such branch", err=True)
    conflicts = predict.predict_conflicts(root, names)
    pairs = len(names) * (len(names) - 1) // 2

    def agents_of(*pair: str) -> list[str]:
        return list(dict.fromkeys(a for branch in pair for a in owners.get(branch, ())))

    if as_json:
        emit_json(
            {
                "branches": names,
                "pairs": pairs,
                "skipped": skipped,
                "conflicts": [{**c.to_json(), "agents": agents_of(c.a, c.b)} for c in conflicts],
            }
        )
    elif pairs == 0:
        source = "given" if branches else "registered by live agents"
        click.echo(f"nothing to compare: {len(names)} branch(es) {source}; need two")
    elif not conflicts:
        click.echo(f"no conflicts predicted among {', '.join(names)} ({pairs} pair(s))")
    else:
        _show_conflicts(conflicts, owners)
    if conflicts:
        # Exit 3, like every refusal by the current state: a script may act and re-check.
        pairs_text = "1 pair" if len(conflicts) == 1 else f"{len(conflicts)} pairs"
        raise Refused(f"{pairs_text} of branches would conflict on merge")


def _show_conflicts(conflicts: list[PairConflict], owners: dict[str, list[str]]) -> None:
    def label(branch: str) -> str:
        return f"{branch} ({', '.join(owners[branch])})" if owners.get(branch) else branch

    for conflict in conflicts:
        count = "1 file" if len(conflict.files) == 1 else f"{len(conflict.files)} files"
        click.echo(f"{label(conflict.a)} x {label(conflict.b)}: {count} would conflict")
        for path in conflict.files:
            click.echo(f"  {path}")
