"""The export format: JSON Lines, a header line then one record per line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from memory.errors import BadImportFile, InvalidValue, SwarmError
from memory.keys import loads_json, validate_key
from memory.records import Record

FORMAT = "swarm-export"
FORMAT_VERSION = 1


def dump_lines(revision: int, records: Iterable[Record], now: float) -> Iterator[str]:
    """The lines of an export (each ending in a newline)."""
    header = {"format": FORMAT, "version": FORMAT_VERSION, "revision": revision, "exported_at": now}
    yield json.dumps(header) + "\n"
    for record in records:
        yield json.dumps(record.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n"


def _int_field(item: dict[str, Any], name: str, line_no: int) -> int:
    value = item.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadImportFile(f"line {line_no}: {name!r} must be a non-negative integer")
    return value


def parse_lines(lines: Iterable[str]) -> tuple[int, list[Record]]:
    """(revision, records) of an export; any malformed line is an error naming it."""
    revision = -1
    records: list[Record] = []
    seen: set[str] = set()
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = loads_json(line, "record")
        except InvalidValue as err:
            raise BadImportFile(f"line {line_no}: {err.message}") from None
        if not isinstance(item, dict):
            raise BadImportFile(f"line {line_no}: expected a JSON object")
        if revision < 0:
            if item.get("format") != FORMAT:
                raise BadImportFile(f"line {line_no}: not a swarm export (no {FORMAT} header)")
            revision = _int_field(item, "revision", line_no)
            continue
        key = item.get("key")
        if not isinstance(key, str) or "value" not in item:
            raise BadImportFile(f"line {line_no}: a record needs 'key' and 'value'")
        try:
            validate_key(key)
        except SwarmError as err:
            raise BadImportFile(f"line {line_no}: {err}") from None
        if key in seen:
            raise BadImportFile(f"line {line_no}: key {key!r} appears twice")
        seen.add(key)
        expires_at = item.get("expires_at")
        if expires_at is not None and not isinstance(expires_at, int | float):
            raise BadImportFile(f"line {line_no}: 'expires_at' must be a number or null")
        records.append(
            Record(
                key,
                item["value"],
                _int_field(item, "version", line_no),
                _int_field(item, "create_rev", line_no),
                _int_field(item, "mod_rev", line_no),
                None if expires_at is None else float(expires_at),
            )
        )
    if revision < 0:
        raise BadImportFile("empty file: not a swarm export")
    return revision, records
