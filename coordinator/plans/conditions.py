"""Conditions on keys: `KEY OP LITERAL` or `KEY exists`, parsed once and evaluated purely.

A condition such as `phase7/code_quality/clippy_warnings < 20` appears in a task's `when`
(it must hold before the task is ready) and `gates` (it must hold for the task to pass).
Literals are JSON, parsed with `json.loads`; nothing is ever evaluated as code.

`KEY[field]`, `KEY[field][sub]` and `KEY[0]` reach into the JSON stored at KEY: a field
of an object, an item of a list (brackets cannot occur in keys, so this is unambiguous).
A field that is not there reads as missing, exactly like an absent key.
"""

from __future__ import annotations

import json
import math
import re

from coordinator.errors import BadCondition
from memory.errors import InvalidKey
from memory.keys import validate_key
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from typing import Any, Final

#: The operator that tests presence only.
EXISTS: Final = "exists"
#: Operators that compare two values for (type-aware) equality.
EQUALITY_OPS: Final = frozenset({"==", "!="})
#: Operators that order two numbers or two strings.
ORDERING_OPS: Final = frozenset({"<", "<=", ">", ">="})
#: Every operator a condition may use.
OPERATORS: Final = EQUALITY_OPS | ORDERING_OPS | {EXISTS}

# A key runs up to the first blank or operator character; `validate_key` then judges it,
# so that `a b == 1` is reported as a bad key rather than as a missing operator.
# Patterns as text, compiled (and cached by `re`) on first use: a hook whose tasks have no
# conditions does not pay for compiling them.
_KEY_THEN_REST = r"(?s)\s*(?P<key>[^\s=!<>]+)\s*(?P<rest>.*?)\s*\Z"
_FIELDS = r"(?P<key>[^\[\]]+)(?P<fields>(?:\[[^\[\]]*\])*)\Z"
_FIELD = r"\[([^\[\]]*)\]"
_OPERATOR = r"(==|!=|<=|>=|<|>)"
_BARE_WORD = r"[A-Za-z_][A-Za-z0-9_.-]*\Z"
# Python spellings that look like JSON constants; taking them as strings would be a trap.
_PYTHON_CONSTANTS: Final = {"True": "true", "False": "false", "None": "null"}
_NOT_JSON_NUMBERS: Final = frozenset({"NaN", "Infinity"})
_KINDS: Final[tuple[tuple[type | tuple[type, ...], str], ...]] = (
    (type(None), "null"),
    ((int, float), "number"),
    (str, "string"),
    ((list, tuple), "list"),
    (dict, "object"),
)


class Condition(NamedTuple):
    """A parsed condition; `text` is the source as written (surrounding blanks removed).

    `key` is the store key read; `path` the fields (`KEY[a][0]`: `("a", "0")`) followed
    inside its value, empty when the condition is on the whole value.
    """

    key: str
    op: str
    literal: Any
    text: str
    path: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        """What the condition reads, as written: `KEY` or `KEY[field][0]`."""
        return self.key + "".join(f"[{field}]" for field in self.path)


class ConditionResult(NamedTuple):
    """The outcome of one condition against the current value of its key.

    `reason` is empty when the condition holds, else a short phrase such as `missing`,
    `is 25, needs < 20` or `type mismatch: 'abc' vs 20`.
    """

    condition: Condition
    holds: bool
    present: bool
    current: Any
    reason: str

    @property
    def observed(self) -> str:
        """What was found, in a few words: `missing`, `is 600` or the type mismatch."""
        if not self.present:
            return "missing"
        if _type_mismatch(self.condition.op, self.current, self.condition.literal):
            return _mismatch_phrase(self.current, self.condition.literal)
        return f"is {format_value(self.current)}"


def parse_condition(text: str) -> Condition:
    """Parse `KEY OP LITERAL` (OP one of == != < <= > >=) or `KEY exists`; raise BadCondition.

    The literal is JSON (`20`, `"complete"`, `true`, `null`, `[1, 2]`). As a convenience a
    bare word that is not JSON, matching `[A-Za-z_][A-Za-z0-9_.-]*` (say `complete`), is
    taken as that string; `True`, `False`, `None`, `NaN` and `Infinity` are refused rather
    than taken as strings. Ordering operators need a number or a string literal. Blanks
    around a symbolic operator are optional (`a/b>=3`); `exists` is a separate word.
    """
    source = text.strip()
    match = re.match(_KEY_THEN_REST, source)
    if match is None:
        raise BadCondition(f"invalid condition {text!r}: expected KEY OP LITERAL or KEY exists")
    key, path = _split_fields(source, match["key"])
    rest = match["rest"]
    try:
        validate_key(key)
    except InvalidKey as err:
        raise BadCondition(f"invalid condition {source!r}: {err.message}") from None
    if rest == EXISTS:
        return Condition(key=key, op=EXISTS, literal=None, text=source, path=path)
    op_match = re.match(_OPERATOR, rest)
    if op_match is None:
        found = rest.split()[0] if rest.split() else ""
        what = f"unknown operator {found!r}" if found else "missing operator"
        raise BadCondition(
            f"invalid condition {source!r}: {what}; expected one of == != < <= > >= or exists"
        )
    op = op_match[1]
    literal = _parse_literal(source, rest[op_match.end() :].strip())
    if op in ORDERING_OPS and _kind(literal) not in {"number", "string"}:
        raise BadCondition(
            f"invalid condition {source!r}: {op} needs a number or a string, "
            f"not {format_value(literal)}"
        )
    return Condition(key=key, op=op, literal=literal, text=source, path=path)


def resolve_path(present: bool, value: Any, path: tuple[str, ...]) -> tuple[bool, Any]:
    """(present, value) of the field `path` inside `value`: an object by field name, a list
    by index (digits); anything not there is absent."""
    for field in path:
        if not present:
            break
        if isinstance(value, dict):
            present = field in value
            value = value.get(field)
        elif isinstance(value, list) and field.isdigit() and int(field) < len(value):
            value = value[int(field)]
        else:
            present, value = False, None
    return present, (value if present else None)


def evaluate_condition(cond: Condition, present: bool, current: Any) -> ConditionResult:
    """Evaluate `cond` against its key's current value (`present` False: the key is absent).

    With a field path (`KEY[field]`), the field inside the value is what is compared, and
    what the result reports as `current`.
    """
    if cond.path:
        present, current = resolve_path(present, current, cond.path)
    if cond.op == EXISTS:
        return ConditionResult(cond, present, present, current, "" if present else "missing")
    if not present:
        # An absent key is unknown, not null: it satisfies no comparison, not even `!=`.
        return ConditionResult(cond, False, False, None, "missing")
    if _type_mismatch(cond.op, current, cond.literal):
        holds = cond.op == "!="
        reason = "" if holds else _mismatch_phrase(current, cond.literal)
        return ConditionResult(cond, holds, True, current, reason)
    holds = _compare(cond.op, current, cond.literal)
    needs = f"{cond.op} {format_value(cond.literal)}"
    reason = "" if holds else f"is {format_value(current)}, needs {needs}"
    return ConditionResult(cond, holds, True, current, reason)


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: `1 == 1.0`, but `true != 1` and `false != 0` (bool is not a number)."""
    kind = _kind(a)
    if kind != _kind(b):
        return False
    if kind == "list":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if kind == "object":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def format_value(value: Any) -> str:
    """A value as a person reads it in a reason: strings quoted `'abc'`, the rest as JSON."""
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _split_fields(source: str, written: str) -> tuple[str, tuple[str, ...]]:
    """(key, fields) of `KEY[field][0]`; a bracket out of place is a clear error."""
    if "[" not in written and "]" not in written:
        return written, ()
    match = re.match(_FIELDS, written)
    if match is None:
        raise BadCondition(
            f"invalid condition {source!r}: fields are written KEY[field][0], "
            "with brackets only after the key"
        )
    fields = tuple(re.findall(_FIELD, match["fields"]))
    if any(not field for field in fields):
        raise BadCondition(f"invalid condition {source!r}: empty field name in []")
    return match["key"], fields


def _parse_literal(source: str, text: str) -> Any:
    if not text:
        raise BadCondition(f"invalid condition {source!r}: missing value after the operator")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        if text in _PYTHON_CONSTANTS:
            raise BadCondition(
                f"invalid condition {source!r}: {text} is not JSON; "
                f'write {_PYTHON_CONSTANTS[text]} (or "{text}" for the string)'
            ) from None
        if text in _NOT_JSON_NUMBERS:
            raise BadCondition(f"invalid condition {source!r}: {text} is not JSON") from None
        if re.match(_BARE_WORD, text):
            return text
        raise BadCondition(
            f"invalid condition {source!r}: value {text!r} is not JSON "
            "(quote strings that are not a single word)"
        ) from None
    if isinstance(value, float) and not math.isfinite(value):
        # `1e999` parses to infinity, which no JSON value can equal or exceed.
        raise BadCondition(f"invalid condition {source!r}: number {text} is out of range")
    return value


def _reject_constant(name: str) -> Any:
    # json.loads accepts NaN and Infinity by default; they are not JSON.
    raise ValueError(name)


def _kind(value: Any) -> str:
    # bool is tested first because bool is a subclass of int in Python.
    if isinstance(value, bool):
        return "bool"
    for types, kind in _KINDS:
        if isinstance(value, types):
            return kind
    return type(value).__name__


def _type_mismatch(op: str, current: Any, literal: Any) -> bool:
    if op == EXISTS:
        return False
    current_kind, literal_kind = _kind(current), _kind(literal)
    if op in ORDERING_OPS:
        return current_kind not in {"number", "string"} or current_kind != literal_kind
    return current_kind != literal_kind


def _mismatch_phrase(current: Any, literal: Any) -> str:
    return f"type mismatch: {format_value(current)} vs {format_value(literal)}"


def _compare(op: str, current: Any, literal: Any) -> bool:
    # Only reached with matching kinds; ordering only with two numbers or two strings.
    if op == "==":
        return json_equal(current, literal)
    if op == "!=":
        return not json_equal(current, literal)
    if op == "<":
        return bool(current < literal)
    if op == "<=":
        return bool(current <= literal)
    if op == ">":
        return bool(current > literal)
    return bool(current >= literal)
