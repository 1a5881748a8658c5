"""`swarm init`: create the store where agents will find it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from coordinator.cli.common import CliState, pass_state, whole_number
from coordinator.project import STORE_DIR, STORE_FILE, default_store_path, make_directories
from memory.backends import open_store
from memory.errors import StoreError
from memory.locator import URL_FILE, describe, pg_url, read_url_file, redact, url_path

if TYPE_CHECKING:
    from coordinator.agents.client_config import Installed

GITIGNORE = "# Created by swarm init: the store, logs and locks are local to this machine.\n*\n"


def init_store(db_path: Path, max_value_bytes: int | None) -> tuple[Path, bool]:
    """Create the store and its `.gitignore` (idempotent); return (path, created).

    A PostgreSQL store's URL is recorded in `.swarm/memory.url`, where every agent of the
    repository finds it without an environment variable."""
    url = pg_url(db_path)
    in_swarm_dir = db_path.parent.name == STORE_DIR
    if url is not None and in_swarm_dir and (db_path.parent / STORE_FILE).exists():
        raise StoreError(
            f"{db_path.parent / STORE_FILE} already holds this repository's store; move it "
            "with `swarm memory export` and `swarm memory import --db URL`, then remove it"
        )
    if url is None and in_swarm_dir and (db_path.parent / URL_FILE).exists():
        raise StoreError(
            f"{db_path.parent / URL_FILE} already names this repository's store "
            f"({redact(read_url_file(db_path.parent / URL_FILE))}); remove it first to go "
            "back to a SQLite store"
        )
    created = url is None and not db_path.exists()
    made = make_directories(db_path.parent) if url is None else []
    try:
        with open_store(db_path, create=True) as store:
            created = created or bool(getattr(store, "created", False))
            if max_value_bytes is not None:
                store.set_max_value_bytes(max_value_bytes)
    except BaseException:
        for directory in reversed(made):  # a store that cannot be made leaves nothing behind
            os.rmdir(directory)
        raise
    if in_swarm_dir:
        make_directories(db_path.parent)
        ignore = db_path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text(GITIGNORE)
        if url is not None:
            recorded = db_path.parent / URL_FILE
            # The URL may carry a password: readable by its owner only.
            recorded.touch(mode=0o600)
            recorded.write_text(url + "\n")
    return db_path, created


def store_target(state: CliState) -> Path:
    """Where `swarm init` makes the store: `--db`/`SWARM_DB`, else the URL already recorded
    in `.swarm/memory.url`, else `.swarm/memory.db` at the git root."""
    if state.explicit_db:
        return state.db_path
    default = Path(default_store_path(Path.cwd()))
    recorded = default.parent / URL_FILE
    if recorded.is_file() and not default.exists():
        return url_path(read_url_file(recorded), default.parent)
    return default


@click.command("init")
@click.option(
    "--db",
    "db_option",
    metavar="FILE|URL",
    help="Where to make the store (as the global --db): a file, or a postgresql:// URL "
    "that is then recorded in .swarm/memory.url.",
)
@click.option(
    "--max-value-bytes",
    type=whole_number(1),
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
    db_option: str | None,
    max_value_bytes: int | None,
    git_hook: bool,
    claude: bool,
    codex: bool,
    gemini: bool,
    cursor: bool,
) -> None:
    """Create .swarm/memory.db at the git root (or here, outside git). Safe to re-run.

    With --db postgresql://USER@HOST/DB the store is on that PostgreSQL server (its schema
    made on first use) and the URL is recorded in .swarm/memory.url for every agent here.

    --claude, --codex, --gemini and --cursor merge `swarm hooks <agent>` into that agent's
    project settings and register the `swarm mcp` server in its MCP configuration, keeping
    everything else and a backup (<file>.bak) of what changed.
    """
    if db_option:
        from coordinator.project import resolve_store_path

        path = resolve_store_path(db_option, {}, Path.cwd())
        state = CliState(db_path=path, explicit_db=db_option)
    path, created = init_store(store_target(state), max_value_bytes)
    where = describe(path)
    click.echo(f"{'created' if created else 'already initialised:'} swarm store at {where}")
    agents = {"claude": claude, "codex": codex, "gemini": gemini, "cursor": cursor}
    _install_agent_hooks(path, [name for name, wanted in agents.items() if wanted])
    if git_hook:
        from coordinator.git.guard import install_pre_commit_hook
        from coordinator.git.repo import repo_toplevel

        db = path.resolve() if state.explicit_db else None
        click.echo(install_pre_commit_hook(repo_toplevel(Path.cwd()), db=db).summary())


def _install_agent_hooks(db_path: Path, agents: list[str]) -> None:
    """Merge our hooks into each agent's settings file, and our MCP server into its MCP
    configuration, at the store's repository root."""
    from coordinator.agents.client_config import install_agent_hooks
    from coordinator.agents.mcp_config import install_mcp_server, mcp_config_for
    from coordinator.project import project_root_for

    root = project_root_for(db_path)
    for agent in agents:
        hooks = install_agent_hooks(root, agent)
        _report(root, hooks, "the swarm hooks")
        # Gemini keeps both in one file: what it held before this run is what to back up.
        same_file = hooks.path == root / mcp_config_for(agent).path
        mcp = install_mcp_server(root, agent, backup=not (same_file and hooks.changed))
        _report(root, mcp, "the swarm MCP server")
        if agent == "codex":
            _report_codex_trust(root)


def _report(root: Path, done: Installed, what: str) -> None:
    where = done.path.relative_to(root)
    if done.created:
        click.echo(f"{done.agent}: created {where} with {what}")
    elif done.changed:
        kept = f" (previous version: {where}.bak)" if done.backup else ""
        click.echo(f"{done.agent}: added {what} to {where}{kept}")
    else:
        click.echo(f"{done.agent}: {where} already has {what}")


def _report_codex_trust(root: Path) -> None:
    """Say so when Codex will not run the hooks yet, and the one step that makes it."""
    import os

    from coordinator.agents.codex_trust import TRUST_STEP, read_codex_trust

    trust = read_codex_trust(root, os.environ)
    if trust is None or trust.runs:
        return
    click.echo(
        "codex: Codex runs these hooks only once you trust them, and until then skips "
        f"them without a word: {TRUST_STEP.format(root=trust.root)}"
    )
