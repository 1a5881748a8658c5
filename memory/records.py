"""What the store hands out and takes in: records, changes, operations, and their row mapping."""

from __future__ import annotations

import json

from memory.errors import CorruptStore
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from typing import Any, Literal

    ChangeOp = Literal["put", "delete", "expire"]
    CompareField = Literal["version", "mod_rev", "create_rev", "value"]
    CompareOp = Literal["==", "!=", "<", ">"]
    Row = tuple[Any, ...]


class Record(NamedTuple):
    """A live key: its value and the revisions that describe it (as in etcd v3)."""

    key: str
    value: Any
    version: int
    create_rev: int
    mod_rev: int
    expires_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON, as `swarm memory get --json` prints it."""
        return {
            "key": self.key,
            "value": self.value,
            "version": self.version,
            "create_rev": self.create_rev,
            "mod_rev": self.mod_rev,
            "expires_at": self.expires_at,
        }


class Change(NamedTuple):
    """One entry of the change log: what happened to a key at a revision."""

    rev: int
    seq: int
    key: str
    op: ChangeOp
    value: Any
    version: int
    actor: str | None
    ts: float

    def to_json(self) -> dict[str, Any]:
        """The change as plain JSON, one line of `swarm memory watch`."""
        return {
            "rev": self.rev,
            "key": self.key,
            "op": self.op,
            "value": self.value,
            "version": self.version,
            "actor": self.actor,
            "ts": self.ts,
        }


class Put(NamedTuple):
    """Write `value` (already JSON-encoded) to `key`, with an optional lease of `ttl` seconds."""

    key: str
    value_json: str
    ttl: float | None = None


class Delete(NamedTuple):
    """Remove `key` if it exists."""

    key: str


class Touch(NamedTuple):
    """Renew the lease of `key` to `ttl` seconds from now, without a new revision."""

    key: str
    ttl: float


WriteOp = Put | Delete | Touch


class Compare(NamedTuple):
    """A condition of a transaction on one key. A missing key has version 0 and value None."""

    key: str
    field: CompareField
    op: CompareOp
    target: Any

    @classmethod
    def unchanged(cls, key: str, record: Record | None) -> Compare:
        """A condition that holds only while `key` is still as `record` read it (absent
        when `record` is None): the guard of every read-check-write."""
        if record is None:
            return cls(key, "version", "==", 0)
        return cls(key, "mod_rev", "==", record.mod_rev)

    def holds(self, record: Record | None) -> bool:
        """Whether the condition holds for `record` (None when the key is absent)."""
        actual: Any
        if record is None:
            actual = None if self.field == "value" else 0
        else:
            actual = getattr(record, self.field)
        if self.op == "==":
            return bool(actual == self.target)
        if self.op == "!=":
            return bool(actual != self.target)
        if actual is None or self.target is None:
            return False
        try:
            return bool(actual < self.target) if self.op == "<" else bool(actual > self.target)
        except TypeError:
            return False


class TxnResult(NamedTuple):
    """The outcome of a transaction: which branch ran and what each of its operations did.

    `results[i]` is the new record for a Put, the removed record (or None) for a Delete,
    and the renewed record (or None when absent) for a Touch.
    """

    succeeded: bool
    revision: int
    results: list[Record | None]


class Meta(NamedTuple):
    """The store's header row."""

    revision: int
    compacted_rev: int
    max_value_bytes: int
    next_expiry: float | None = None


#: Decodes a stored value that is one compact JSON document (as the store writes them).
_DECODER = json.JSONDecoder()


def decode_stored(key: Any, text: Any) -> Any:
    """A stored JSON value; CorruptStore (without the store's path, which the caller adds)
    when it does not decode."""
    # The store writes compact JSON, so `raw_decode` (json.loads without the checks for
    # whitespace around the document, which cost more than a small value's decoding) nearly
    # always reads it whole; anything else goes to json.loads, as before.
    try:
        value, end = _DECODER.raw_decode(text)
        if end == len(text):
            return value
    except (ValueError, TypeError, RecursionError):
        pass
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError):
        raise CorruptStore(f"the stored value of {key!r} cannot be decoded") from None


def record_from_row(row: Row) -> Record:
    """Map a `kv` row (key, value, version, create_rev, mod_rev, expires_at)."""
    return Record(row[0], decode_stored(row[0], row[1]), row[2], row[3], row[4], row[5])


def change_from_row(row: Row) -> Change:
    """Map a `changes` row (rev, seq, key, op, value, version, actor, ts)."""
    value = None if row[4] is None else decode_stored(row[2], row[4])
    return Change(row[0], row[1], row[2], row[3], value, row[5], row[6], row[7])


def meta_from_row(row: Row) -> Meta:
    """Map the `store_meta` row."""
    return Meta(row[0], row[1], row[2], None if row[3] is None else float(row[3]))
