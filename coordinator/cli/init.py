"""`swarm init`: create the store where agents will find it."""

from __future__ import annotations

from pathlib import Path

import click

from coordinator.cli.common import CliState, pass_state
from coordinator.project import STORE_DIR, default_store_path
from memory.store import Store

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
@pass_state
def init_command(state: CliState, max_value_bytes: int | None) -> None:
    """Create .swarm/memory.db at the git root (or here, outside git). Safe to re-run."""
    target = state.db_path if state.explicit_db else default_store_path(Path.cwd())
    path, created = init_store(target, max_value_bytes)
    click.echo(f"{'created' if created else 'already initialised:'} swarm store at {path}")
