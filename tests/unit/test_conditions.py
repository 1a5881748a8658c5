"""Conditions: parsing `KEY OP LITERAL` / `KEY exists` and evaluating them type-aware."""

from __future__ import annotations

from typing import Any

import pytest

from coordinator.errors import BadCondition
from coordinator.plans.conditions import (
    Condition,
    evaluate_condition,
    format_value,
    json_equal,
    parse_condition,
)

KEY = "phase7/code_quality/clippy_warnings"


def holds(text: str, current: Any, present: bool = True) -> bool:
    """Parse and evaluate in one go."""
    return evaluate_condition(parse_condition(text), present, current).holds


# --- parsing -------------------------------------------------------------------------------


def test_parse_symbolic_condition() -> None:
    cond = parse_condition(f"{KEY} < 20")
    assert cond == Condition(key=KEY, op="<", literal=20, text=f"{KEY} < 20")


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_parse_every_operator_without_blanks(op: str) -> None:
    cond = parse_condition(f"a/b{op}3")
    assert (cond.key, cond.op, cond.literal) == ("a/b", op, 3)


def test_parse_exists() -> None:
    cond = parse_condition("  phase7/baseline exists ")
    assert (cond.key, cond.op, cond.literal, cond.text) == (
        "phase7/baseline",
        "exists",
        None,
        "phase7/baseline exists",
    )


@pytest.mark.parametrize(
    ("literal_text", "literal"),
    [
        ('"complete"', "complete"),
        ("2.5", 2.5),
        ("-3", -3),
        ("true", True),
        ("null", None),
        ("[1, 2]", [1, 2]),
        ('{"a": 1}', {"a": 1}),
        ('"a == b"', "a == b"),
    ],
)
def test_parse_json_literals(literal_text: str, literal: Any) -> None:
    assert parse_condition(f"k == {literal_text}").literal == literal


@pytest.mark.parametrize("word", ["complete", "in_progress", "v1.2-rc", "_x"])
def test_bare_word_is_taken_as_string(word: str) -> None:
    assert parse_condition(f"a/status == {word}").literal == word


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "expected KEY OP LITERAL"),
        ("a/b", "missing operator"),
        ("a/b = 3", "unknown operator '='"),
        ("a/b ~ 3", "unknown operator '~'"),
        ("a/b exist", "unknown operator 'exist'"),
        ("a/b exists 3", "unknown operator 'exists'"),
        ("a/b ==", "missing value"),
        ("a//b == 1", "empty segment"),
        ("a/b c == 1", "unknown operator 'c'"),
        ("a/$x == 1", "segment '$x'"),
        ("a/b == two words", "is not JSON"),
        ("a/b == 1 2", "is not JSON"),
        ("a/b == 3abc", "is not JSON"),
        ("a/b == True", "write true"),
        ("a/b == None", "write null"),
        ("a/b == NaN", "not JSON"),
        ("a/b == 1e999", "out of range"),
        ("a/b < true", "needs a number or a string"),
        ("a/b >= null", "needs a number or a string"),
        ("a/b < [1]", "needs a number or a string"),
    ],
)
def test_parse_errors_are_one_line_and_quote_the_condition(text: str, fragment: str) -> None:
    with pytest.raises(BadCondition) as info:
        parse_condition(text)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    assert repr(text.strip()) in message


def test_parse_never_evaluates_code() -> None:
    with pytest.raises(BadCondition):
        parse_condition("a/b == __import__('os').getcwd()")


# --- evaluation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "current", "expected"),
    [
        ("==", 20, True),
        ("==", 19, False),
        ("!=", 19, True),
        ("!=", 20, False),
        ("<", 19, True),
        ("<", 20, False),
        ("<=", 20, True),
        ("<=", 21, False),
        (">", 21, True),
        (">", 20, False),
        (">=", 20, True),
        (">=", 19.5, False),
    ],
)
def test_numeric_operators(op: str, current: Any, expected: bool) -> None:
    assert holds(f"{KEY} {op} 20", current) is expected


def test_int_equals_float() -> None:
    assert holds("k == 2", 2.0)


@pytest.mark.parametrize(
    ("op", "current", "expected"),
    [("<", "apple", True), ("<", "cherry", False), (">=", "banana", True), ("==", "banana", True)],
)
def test_string_operators(op: str, current: str, expected: bool) -> None:
    assert holds(f'k {op} "banana"', current) is expected


def test_bare_word_evaluates_as_string() -> None:
    assert holds("phase7/code_quality/status == complete", "complete")
    assert not holds("phase7/code_quality/status == complete", "in_progress")


def test_exists() -> None:
    assert holds("k exists", None, present=True)  # a JSON null is present
    result = evaluate_condition(parse_condition("k exists"), False, None)
    assert (result.holds, result.present, result.reason) == (False, False, "missing")


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_missing_key_satisfies_no_comparison(op: str) -> None:
    result = evaluate_condition(parse_condition(f"k {op} 1"), False, None)
    assert not result.holds
    assert result.reason == "missing"
    assert result.observed == "missing"


def test_reason_names_current_and_needed() -> None:
    result = evaluate_condition(parse_condition(f"{KEY} < 20"), True, 25)
    assert result.reason == "is 25, needs < 20"
    assert result.observed == "is 25"
    passing = evaluate_condition(parse_condition(f"{KEY} < 20"), True, 12)
    assert (passing.holds, passing.reason, passing.current) == (True, "", 12)


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
@pytest.mark.parametrize("current", ["abc", True, None, [1], {"a": 1}])
def test_ordering_type_mismatch_never_holds(op: str, current: Any) -> None:
    result = evaluate_condition(parse_condition(f"k {op} 20"), True, current)
    assert not result.holds
    assert result.reason == f"type mismatch: {format_value(current)} vs 20"
    assert result.observed == result.reason


def test_ordering_string_vs_number_message() -> None:
    result = evaluate_condition(parse_condition("k < 20"), True, "abc")
    assert result.reason == "type mismatch: 'abc' vs 20"


def test_number_literal_does_not_order_a_numeric_string() -> None:
    assert not holds("k < 20", "3")
    assert not holds('k < "20"', 3)


@pytest.mark.parametrize(
    ("text", "current"),
    [
        ("k == 1", True),
        ("k == true", 1),
        ("k == 0", False),
        ("k == false", 0),
        ("k == null", 0),
        ("k == 0", None),
        ('k == "20"', 20),
        ("k == [1, 2]", [1, True]),
        ('k == {"a": 1}', {"a": True}),
        ("k == []", {}),
    ],
)
def test_equality_is_type_aware(text: str, current: Any) -> None:
    result = evaluate_condition(parse_condition(text), True, current)
    assert not result.holds
    assert result.reason.startswith("type mismatch") or result.reason.startswith("is ")
    # And the negation holds, since the values differ.
    assert holds(text.replace("==", "!="), current)


@pytest.mark.parametrize(
    ("text", "current"),
    [
        ("k == true", True),
        ("k == null", None),
        ('k == [1, [2.0, "x"]]', [1.0, [2, "x"]]),
        ('k == {"a": [1], "b": null}', {"b": None, "a": [1]}),
    ],
)
def test_equality_of_json_values(text: str, current: Any) -> None:
    assert holds(text, current)
    assert not holds(text.replace("==", "!="), current)


def test_json_equal() -> None:
    assert json_equal(1, 1.0)
    assert not json_equal(True, 1)
    assert not json_equal([1, 2], [1])
    assert not json_equal({"a": 1}, {"b": 1})


def test_format_value() -> None:
    assert format_value("abc") == "'abc'"
    assert format_value(True) == "true"
    assert format_value(None) == "null"
    assert format_value([1, "a"]) == '[1, "a"]'


# --- fields inside values ----------------------------------------------------------------


def test_parse_field_path() -> None:
    cond = parse_condition("phase3/final[deliverable_completion_pct] >= 95")
    assert (cond.key, cond.path, cond.op, cond.literal) == (
        "phase3/final",
        ("deliverable_completion_pct",),
        ">=",
        95,
    )
    assert cond.target == "phase3/final[deliverable_completion_pct]"
    nested = parse_condition("a/b[build][times][0]<3")
    assert (nested.key, nested.path) == ("a/b", ("build", "times", "0"))


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("k[pct] >= 95", {"pct": 96}, True),
        ("k[pct] >= 95", {"pct": 94}, False),
        ("k[build][seconds] < 60", {"build": {"seconds": 42}}, True),
        ('k[0] == "first"', ["first", "second"], True),
        ('k[1] == "second"', ["first", "second"], True),
        ('k[0][name] == "a"', [{"name": "a"}], True),
        ("k[0] exists", {"0": None}, True),  # digits name a field of an object too
        ("k[pct] exists", {"pct": 0}, True),
    ],
)
def test_fields_are_compared(text: str, value: Any, expected: bool) -> None:
    assert holds(text, value) is expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("k[pct] >= 95", {"other": 96}),
        ("k[pct] != 95", {"other": 96}),  # a missing field satisfies no comparison
        ("k[pct] exists", {"other": 1}),
        ("k[2] == 1", [1, 2]),  # past the end
        ("k[x] == 1", [1, 2]),  # a list has no named fields
        ("k[pct][deep] == 1", {"pct": 5}),  # a number has no fields
        ("k[pct] == 1", "pct"),
    ],
)
def test_missing_fields_read_as_missing(text: str, value: Any) -> None:
    result = evaluate_condition(parse_condition(text), True, value)
    assert (result.holds, result.present, result.observed) == (False, False, "missing")


def test_field_of_absent_key_is_missing_and_result_shows_the_field() -> None:
    cond = parse_condition("k[pct] >= 95")
    assert evaluate_condition(cond, False, None).reason == "missing"
    failed = evaluate_condition(cond, True, {"pct": 90, "other": 1})
    assert (failed.current, failed.reason) == (90, "is 90, needs >= 95")


@pytest.mark.parametrize("text", ["k[] == 1", "k[a == 1", "k]a[ == 1", "k[a]b == 1", "[a] == 1"])
def test_bad_field_syntax_is_refused(text: str) -> None:
    with pytest.raises(BadCondition, match="invalid condition"):
        parse_condition(text)
