"""The export format: JSON Lines, a header line then one record per line."""

from __future__ import annotations

import json
import math

from memory.errors import BadImportFile, InvalidKey, InvalidValue, SwarmError
from memory.keys import RESERVED_ROOT, encode_value, loads_json, validate_key
from memory.records import Record

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any

FORMAT = "swarm-export"
FORMAT_VERSION = 1


def dump_lines(revision: int, records: Iterable[Record], now: float) -> Iterator[str]:
    """The lines of an export (each ending in a newline)."""
    header = {"format": FORMAT, "version": FORMAT_VERSION, "revision": revision, "exported_at": now}
    yield json.dumps(header) + "\n"
    for record in records:
        yield json.dumps(record.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n"


#: The largest revision or version SQLite's 64-bit integers hold.
MAX_INT = 2**63 - 1


def _int_field(item: dict[str, Any], name: str, line_no: int) -> int:
    value = item.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INT:
        raise BadImportFile(f"line {line_no}: {name!r} must be an integer from 0 to {MAX_INT}")
    return value


def _lines(lines: Iterable[str | bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line; a line that is not UTF-8 is an error naming it."""
    line_no = 0
    iterator = iter(lines)
    while True:
        line_no += 1
        try:
            line = next(iterator)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise BadImportFile(f"line {line_no} or near it: not UTF-8 text") from None
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                raise BadImportFile(f"line {line_no}: not UTF-8 text") from None
        yield line_no, line


def _record(item: dict[str, Any], line_no: int) -> Record:
    """One exported record, checked the way a write would check it."""
    key = item.get("key")
    if not isinstance(key, str) or "value" not in item:
        raise BadImportFile(f"line {line_no}: a record needs 'key' and 'value'")
    try:
        validate_key(key)
        encode_value(item["value"])
    except SwarmError as err:
        raise BadImportFile(f"line {line_no}: {err.message}") from None
    expires_at = item.get("expires_at")
    if expires_at is not None and (
        isinstance(expires_at, bool)
        or not isinstance(expires_at, int | float)
        or not math.isfinite(expires_at)
    ):
        raise BadImportFile(f"line {line_no}: 'expires_at' must be a finite number or null")
    return Record(
        key,
        item["value"],
        _int_field(item, "version", line_no),
        _int_field(item, "create_rev", line_no),
        _int_field(item, "mod_rev", line_no),
        None if expires_at is None else float(expires_at),
    )


def parse_lines(lines: Iterable[str | bytes]) -> tuple[int, list[Record]]:
    """(revision, records) of an export; any malformed line is an error naming it."""
    revision = -1
    records: list[Record] = []
    seen: set[str] = set()
    for line_no, text in _lines(lines):
        line = text.removeprefix("\ufeff") if line_no == 1 else text
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
        record = _record(item, line_no)
        if record.key in seen:
            raise BadImportFile(f"line {line_no}: key {record.key!r} appears twice")
        seen.add(record.key)
        records.append(record)
    if revision < 0:
        raise BadImportFile("empty file: not a swarm export")
    return revision, records


def refuse_reserved(records: Iterable[Record]) -> None:
    """InvalidKey when a record is under the reserved root: merged into a live store it
    would forge the coordinator's own records (a claim with no lease holds a file forever)."""
    for record in records:
        if record.key.split("/", 1)[0] == RESERVED_ROOT:
            raise InvalidKey(
                f"{record.key}: the {RESERVED_ROOT}/ root is reserved for the coordinator's own "
                "records; import --merge refuses it without --force"
            )
