"""`swarm init`: create the store where agents will find it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from coordinator.cli.common import CliState, pass_state
from coordinator.project import STORE_DIR, default_store_path
from memory.store import Store

if TYPE_CHECKING:
    from coordinator.agent_config import Installed

GITIGNORE = "# Created by swarm init: the store, logs and locks are local to this machine.\n*\n"


def init_store(db_path: Path, max_value_bytes: int | None) -> tuple[Path, bool]:
    """Create the store and its `.gitignore` (idempotent); return (path, created)."""
    created = not db_path.exists()
    with Store.create(db_path) as store:
        if max_value_bytes is not None:
            store.set_max_value_bytes(max_value_bytes)
    if db_path.parent.name == STORE_DIR:
        ignore = db_path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text(GITIGNORE)
    return db_path, created


@click.command("init")
@click.option(
    "--max-value-bytes",
    type=click.IntRange(min=1),
    help="Largest value the store accepts, in bytes (default 1 MiB).",
)
@click.option(
    "--git-hook",
    is_flag=True,
    help="Also install the git pre-commit guard (refuses commits touching files another "
    "agent holds exclusively); an existing pre-commit hook is chained.",
)
@click.option(
    "--claude",
    is_flag=True,
    help="Add the swarm hooks to .claude/settings.json and `swarm mcp` to .mcp.json.",
)
@click.option(
    "--codex",
    is_flag=True,
    help="Add the swarm hooks to .codex/hooks.json and `swarm mcp` to .codex/config.toml.",
)
@click.option(
    "--gemini",
    is_flag=True,
    help="Add the swarm hooks and `swarm mcp` to .gemini/settings.json.",
)
@click.option(
    "--cursor",
    is_flag=True,
    help="Add the swarm hooks to .cursor/hooks.json and `swarm mcp` to .cursor/mcp.json.",
)
@pass_state
def init_command(
    state: CliState,
    max_value_bytes: int | None,
    git_hook: bool,
    claude: bool,
    codex: bool,
    gemini: bool,
    cursor: bool,
) -> None:
    """Create .swarm/memory.db at the git root (or here, outside git). Safe to re-run.

    --claude, --codex, --gemini and --cursor merge `swarm hooks <agent>` into that agent's
    project settings and register the `swarm mcp` server in its MCP configuration, keeping
    everything else and a backup (<file>.bak) of what changed.
    """
    target = state.db_path if state.explicit_db else default_store_path(Path.cwd())
    path, created = init_store(target, max_value_bytes)
    click.echo(f"{'created' if created else 'already initialised:'} swarm store at {path}")
    agents = {"claude": claude, "codex": codex, "gemini": gemini, "cursor": cursor}
    _install_agent_hooks(path, [name for name, wanted in agents.items() if wanted])
    if git_hook:
        from coordinator.gitops import install_pre_commit_hook, repo_toplevel

        db = path.resolve() if state.explicit_db else None
        click.echo(install_pre_commit_hook(repo_toplevel(Path.cwd()), db=db).summary())


def _install_agent_hooks(db_path: Path, agents: list[str]) -> None:
    """Merge our hooks into each agent's settings file, and our MCP server into its MCP
    configuration, at the store's repository root."""
    from coordinator.agent_config import (
        install_agent_hooks,
        install_mcp_server,
        mcp_config_for,
    )
    from coordinator.project import project_root_for

    root = project_root_for(db_path)
    for agent in agents:
        hooks = install_agent_hooks(root, agent)
        _report(root, hooks, "the swarm hooks")
        # Gemini keeps both in one file: what it held before this run is what to back up.
        same_file = hooks.path == root / mcp_config_for(agent).path
        mcp = install_mcp_server(root, agent, backup=not (same_file and hooks.changed))
        _report(root, mcp, "the swarm MCP server")


def _report(root: Path, done: Installed, what: str) -> None:
    where = done.path.relative_to(root)
    if done.created:
        click.echo(f"{done.agent}: created {where} with {what}")
    elif done.changed:
        kept = f" (previous version: {where}.bak)" if done.backup else ""
        click.echo(f"{done.agent}: added {what} to {where}{kept}")
    else:
        click.echo(f"{done.agent}: {where} already has {what}")
