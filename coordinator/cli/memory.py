"""`swarm memory ...`: read and write the shared memory by hand or from scripts."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from coordinator.cli.common import (
    CliState,
    emit_json,
    emit_json_line,
    finite_seconds,
    pass_state,
    utf8_text,
    whole_number,
)
from coordinator.timefmt import local_time
from memory.errors import SwarmError
from memory.keys import parse_cli_value
from memory.records import Change, Record


def _value_text(value: Any) -> str:
    """A value as a person reads it: strings raw, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _print_records(records: list[Record], as_json: bool) -> None:
    if as_json:
        emit_json([r.to_json() for r in records])
        return
    for record in records:
        text = _value_text(record.value).replace("\n", "\\n")
        if len(text) > 80:
            text = text[:77] + "..."
        click.echo(f"{record.key}  v{record.version}  {text}")


def _refuse_reserved(key: str, force: bool) -> None:
    """The coordinator's own records are written through its commands, not by hand."""
    from memory.errors import InvalidKey
    from memory.keys import RESERVED_ROOT

    if not force and key.split("/", 1)[0] == RESERVED_ROOT:
        raise InvalidKey(
            f"{key}: the {RESERVED_ROOT}/ root is reserved for the coordinator's own records; "
            "use --force to write it anyway"
        )


@click.group("memory")
def memory_group() -> None:
    """Read and write keys in the shared memory."""


@memory_group.command("put")
@click.argument("key")
@click.argument("value")
@click.option(
    "--ttl",
    type=click.FloatRange(min=0, min_open=True),
    callback=finite_seconds,
    help="Lease in seconds.",
)
@click.option("--if-version", type=whole_number(0), help="Write only at this version.")
@click.option("--if-absent", is_flag=True, help="Write only if the key does not exist.")
@click.option("--json", "as_json", is_flag=True, help="Print the written record as JSON.")
@click.option("--force", is_flag=True, help="Write under the reserved swarm/ root anyway.")
@pass_state
def put_command(
    state: CliState,
    key: str,
    value: str,
    ttl: float | None,
    if_version: int | None,
    if_absent: bool,
    as_json: bool,
    force: bool,
) -> None:
    """Write VALUE (JSON if it parses as JSON, else a string) to KEY."""
    if if_version is not None and if_absent:
        raise click.UsageError("--if-version and --if-absent exclude each other")
    _refuse_reserved(key, force)
    with state.open_store() as store:
        record = store.put(
            key, parse_cli_value(value), ttl=ttl, if_version=if_version, if_absent=if_absent
        )
    if as_json:
        emit_json(record.to_json())
    else:
        click.echo(f"{record.key} v{record.version} rev {record.mod_rev}")


@memory_group.command("get")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON.")
@pass_state
def get_command(state: CliState, key: str, as_json: bool) -> None:
    """Print the value of KEY: strings raw, anything else as JSON."""
    with state.open_store() as store:
        record = store.require(key)
    if as_json:
        emit_json(record.to_json())
    else:
        click.echo(_value_text(record.value))


@memory_group.command("delete")
@click.argument("key")
@click.option("--if-version", type=whole_number(1), help="Delete only at this version.")
@click.option("--force", is_flag=True, help="Delete under the reserved swarm/ root anyway.")
@pass_state
def delete_command(state: CliState, key: str, if_version: int | None, force: bool) -> None:
    """Delete KEY."""
    _refuse_reserved(key, force)
    with state.open_store() as store:
        removed = store.delete(key, if_version=if_version)
    if removed is None:
        from memory.errors import KeyNotFound

        raise KeyNotFound(f"no such key: {key}")
    click.echo(f"deleted {key}")


@memory_group.command("list")
@click.argument("prefix", default="")
@click.option("--json", "as_json", is_flag=True, help="Print records as JSON.")
@pass_state
def list_command(state: CliState, prefix: str, as_json: bool) -> None:
    """List keys starting with PREFIX (all keys when omitted)."""
    with state.open_store() as store:
        records = store.list_prefix(prefix)
    _print_records(records, as_json)


@memory_group.command("search")
@click.argument("pattern", callback=utf8_text)
@click.option("--value", "in_values", is_flag=True, help="Match PATTERN as a substring of values.")
@click.option("--json", "as_json", is_flag=True, help="Print records as JSON.")
@pass_state
def search_command(state: CliState, pattern: str, in_values: bool, as_json: bool) -> None:
    """Find keys matching the glob PATTERN (`*`, `?`, `[...]`), or values containing it."""
    with state.open_store() as store:
        records = store.search_values(pattern) if in_values else store.search_keys(pattern)
    _print_records(records, as_json)


def _print_change(change: Change) -> None:
    value = "-" if change.value is None else _value_text(change.value)
    actor = change.actor or "-"
    click.echo(
        f"rev {change.rev}  {local_time(change.ts)}  {change.op:<6}  "
        f"v{change.version}  {actor}  {value}"
    )


@memory_group.command("history")
@click.argument("key")
@click.option("--from-rev", type=whole_number(1), help="Start at this revision.")
@click.option("--json", "as_json", is_flag=True, help="Print changes as JSON.")
@pass_state
def history_command(state: CliState, key: str, from_rev: int | None, as_json: bool) -> None:
    """Show every recorded change of KEY, oldest first."""
    with state.open_store() as store:
        changes = store.history(key, from_rev)
    if as_json:
        emit_json([c.to_json() for c in changes])
        return
    for change in changes:
        _print_change(change)


@memory_group.command("watch")
@click.argument("prefix", default="")
@click.option("--from-rev", type=whole_number(1), help="Replay from this revision first.")
@click.option("--count", type=whole_number(1), help="Stop after this many changes.")
@click.option(
    "--poll",
    type=click.FloatRange(min=0.01),
    callback=finite_seconds,
    default=5.0,
    help="Backstop poll, seconds.",
)
@pass_state
def watch_command(
    state: CliState, prefix: str, from_rev: int | None, count: int | None, poll: float
) -> None:
    """Stream changes under PREFIX as JSON lines until interrupted."""
    from memory.watch import follow

    seen = 0
    with state.open_store() as store:
        for change in follow(store, from_rev, prefix, poll=poll):
            emit_json_line(change.to_json())
            seen += 1
            if count is not None and seen >= count:
                return


@memory_group.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File (default: stdout).")
@pass_state
def export_command(state: CliState, output: str | None) -> None:
    """Export every live key as JSON Lines."""
    with state.open_store() as store:
        if output is None:
            store.export(sys.stdout)
            return
        try:
            with open(output, "w", encoding="utf-8") as out:
                count = store.export(out)
        except OSError as err:
            raise SwarmError(f"cannot write {output}: {err.strerror or err}") from None
    click.echo(f"exported {count} keys to {output}")


@memory_group.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--merge", is_flag=True, help="Add to a store that already holds keys.")
@click.option("--force", is_flag=True, help="With --merge, write under the reserved swarm/ root.")
@pass_state
def import_command(state: CliState, file: Any, merge: bool, force: bool) -> None:
    """Import FILE (an export; `-` for stdin). Into an empty store the import is exact."""
    with state.open_store() as store:
        count = store.import_(file, merge=merge, force=force)
    click.echo(f"imported {count} keys")


@memory_group.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@pass_state
def backup_command(state: CliState, path: str) -> None:
    """Copy the store to PATH while agents keep using it (SQLite online backup)."""
    with state.open_store() as store:
        dest = store.backup(path)
    click.echo(f"backed up to {dest}")


@memory_group.command("compact")
@click.option("--keep", type=whole_number(0), help="Keep the newest N changes.")
@click.option("--through-rev", type=whole_number(1), help="Drop changes up to this rev.")
@pass_state
def compact_command(state: CliState, keep: int | None, through_rev: int | None) -> None:
    """Drop old entries of the change log; later requests for them are errors."""
    if (keep is None) == (through_rev is None):
        raise click.UsageError("give exactly one of --keep and --through-rev")
    with state.open_store() as store:
        point = store.compact(through_rev) if through_rev else store.compact_keeping(keep or 0)
    click.echo(f"change log compacted through revision {point}")


@memory_group.command("prune")
@click.option(
    "--older-than",
    metavar="DURATION",
    help="Prune records older than this (e.g. 30d, 12h); default SWARM_RETENTION (30 days).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_state
def prune_command(state: CliState, older_than: str | None, as_json: bool) -> None:
    """Delete events, inbox notifications and edit records older than the retention."""
    from coordinator.daemon.retention import prune_old_records, retention
    from coordinator.plans.spec import parse_duration

    age = parse_duration(older_than) if older_than is not None else retention()
    with state.open_store() as store:
        pruned = prune_old_records(store, age)
    if as_json:
        emit_json({**pruned._asdict(), "older_than": age})
        return
    click.echo(
        f"pruned {pruned.events} events, {pruned.notifications} notifications and "
        f"{pruned.edits} edit records older than {age:g} s"
    )
