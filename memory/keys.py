"""Key and value rules: what a key may look like, how values are encoded and bounded."""

from __future__ import annotations

import json
import math

from memory.errors import InvalidKey, InvalidValue, ValueTooLarge

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from typing import Any

#: Default limit on one encoded value, in bytes.
DEFAULT_MAX_VALUE_BYTES = 1024 * 1024
#: The top-level segment reserved for the coordinator's own records.
RESERVED_ROOT = "swarm"
#: The longest lease accepted (seconds): about 31,700 years, far inside a float's range.
MAX_TTL = 1e12

#: The characters of a key segment, and of a prefix (sets, not regexes: compiling one costs
#: a hook more than every check it makes).
SEGMENT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_PREFIX_CHARS = SEGMENT_CHARS | {"/"}
_MAX_KEY_LENGTH = 1024


def validate_key(key: str) -> str:
    """Return `key` if it is a valid key, else raise `InvalidKey` saying why."""
    if not key:
        raise InvalidKey("invalid key '': a key must not be empty")
    if len(key) > _MAX_KEY_LENGTH:
        raise InvalidKey(f"invalid key: longer than {_MAX_KEY_LENGTH} characters")
    for segment in key.split("/"):
        if not segment:
            raise InvalidKey(
                f"invalid key {key!r}: empty segment (leading, trailing or double '/')"
            )
        if not SEGMENT_CHARS.issuperset(segment):
            raise InvalidKey(
                f"invalid key {key!r}: segment {segment!r} may only hold "
                "letters, digits, '.', '_', '-'"
            )
    return key


def validate_prefix(prefix: str) -> str:
    """Return `prefix` if keys could start with it (empty means every key)."""
    if not _PREFIX_CHARS.issuperset(prefix) or "//" in prefix or prefix.startswith("/"):
        raise InvalidKey(
            f"invalid prefix {prefix!r}: keys hold letters, digits, '.', '_', '-', '/'"
        )
    return prefix


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every key starting with `prefix`.

    Keys are ASCII below DEL (0x7f), so appending DEL bounds them all.
    """
    return prefix + "\x7f"


def validate_ttl(ttl: float | None) -> float | None:
    """A lease in seconds: None (no lease), or a finite number above 0; InvalidValue else."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl < MAX_TTL:
        raise InvalidValue(
            f"invalid lease (ttl) {ttl!r}: it must be a finite number of seconds above 0"
        )
    return float(ttl)


def validate_encoded(value_json: str) -> str:
    """Already-encoded JSON text about to be stored: InvalidValue when it holds a lone
    surrogate, which SQLite cannot store as UTF-8 text."""
    try:
        value_json.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValue("value is not valid Unicode (it holds a lone surrogate)") from None
    return value_json


def validate_lease(ttl: float) -> float:
    """A lease that must be given (a renewal): a finite number of seconds above 0."""
    checked = validate_ttl(ttl)
    if checked is None:
        raise InvalidValue("a renewal needs a lease (ttl) in seconds")
    return checked


def encode_value(value: Any, max_bytes: int | None = None) -> str:
    """Encode `value` as compact JSON text, refusing what is not JSON, what holds lone
    surrogates (not Unicode), what is nested too deeply, and what is over `max_bytes`.

    The store checks its own (configurable) limit inside the write transaction.
    """
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        size = len(text.encode())
    except RecursionError:
        raise InvalidValue("value is nested too deeply") from None
    except UnicodeEncodeError:
        raise InvalidValue("value is not valid Unicode (it holds a lone surrogate)") from None
    except (TypeError, ValueError) as err:
        raise InvalidValue(f"value is not JSON: {err}") from None
    if max_bytes is not None and size > max_bytes:
        raise ValueTooLarge(f"value is {size} bytes, over the limit of {max_bytes} bytes")
    return text


class _NotFinite(ValueError):
    """A number JSON has no spelling for: NaN, Infinity, -Infinity, or one too large."""


def loads_json(text: str, what: str = "value") -> Any:
    """Parse strict JSON text; raise InvalidValue (one line naming `what`) when it is not JSON
    or holds NaN or ±Infinity, which Python's json accepts but JSON has no number for."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise InvalidValue(f"{what} is nested too deeply") from None
    except _NotFinite as err:
        raise InvalidValue(
            f"{what}: {err} is not a JSON number; JSON has no NaN or Infinity"
        ) from None
    except ValueError:
        raise InvalidValue(f"{what} is not JSON") from None


def parse_cli_value(text: str) -> Any:
    """A value typed on a command line: JSON when it parses as JSON, otherwise the string.

    NaN and ±Infinity (bare, inside JSON, or a number too large to be finite) are refused
    rather than stored; the string is written quoted, `'"NaN"'`.
    """
    try:
        return loads_json(text)
    except InvalidValue as err:
        try:
            json.loads(text)  # Python's lenient JSON, which takes NaN, Infinity and 1e999
        except RecursionError:
            raise err from None
        except ValueError:
            return text
        hint = "" if text.strip()[:1] in "[{" else f"; to store the string, quote it: '\"{text}\"'"
        raise InvalidValue(err.message + hint) from None


def check_finite_seconds(value: float, what: str) -> float:
    """`value` when it is a finite number of seconds; InvalidValue naming `what` otherwise."""
    if not math.isfinite(value):
        raise InvalidValue(f"{what}: {value} is not a finite number of seconds")
    return value


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity parse in Python but are not JSON.
    raise _NotFinite(name)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        # `1e999` parses to infinity in Python.
        raise _NotFinite(text)
    return number
