"""Readiness, gates, status transitions and deadlines: pure, with `now` injected."""

from __future__ import annotations

from typing import Any

import pytest

from coordinator.plans.readiness import (
    BLOCKED,
    COMPLETE,
    FAILED,
    IN_PROGRESS,
    PENDING,
    READY,
    Readiness,
    Wait,
    assess,
    deadline_at,
    describe_wait,
    evaluate_gates,
    gates_pass,
    is_overdue,
    keys_of,
    next_status,
)
from coordinator.plans.spec import TaskSpec
from coordinator.plans.validate import plan_from_data

QUALITY = "phase7/code_quality/status"
CONFIG = "phase7/config_system/status"
TESTS = "phase7/baseline/tests_passing"
WARNINGS = "phase7/code_quality/clippy_warnings"
HOUR = 3600.0


def phase7(name: str = "release_prep") -> TaskSpec:
    """A task of the Phase 7 plan."""
    plan = plan_from_data(
        {
            "phase": "phase7",
            "tasks": {
                "config_system": {},
                "code_quality": {"gates": [f"{WARNINGS} < 20", "phase7/code_quality/loc exists"]},
                "release_prep": {
                    "requires": ["code_quality"],
                    "optional": ["config_system"],
                    "when": [f"{TESTS} >= 626"],
                    "deadline": "48h",
                },
            },
        }
    )
    return plan.task(name)


READY_VALUES: dict[str, Any] = {QUALITY: COMPLETE, TESTS: 626}


# --- assess -------------------------------------------------------------------------------


def test_ready_when_requirements_complete_and_conditions_hold() -> None:
    assert assess(phase7(), READY_VALUES) == Readiness("ready", (), ())


def test_task_without_requirements_is_ready() -> None:
    assert assess(phase7("config_system"), {}).verdict == "ready"


def test_waiting_lists_every_unmet_requirement_with_current_values() -> None:
    readiness = assess(phase7(), {QUALITY: IN_PROGRESS, TESTS: 600})
    assert readiness.verdict == "waiting"
    assert readiness.blocked_by == ()
    assert readiness.waits == (
        Wait("requires", QUALITY, COMPLETE, IN_PROGRESS, "status is in_progress"),
        Wait("when", TESTS, f"{TESTS} >= 626", 600, "is 600"),
    )


def test_missing_keys_wait() -> None:
    readiness = assess(phase7(), {})
    assert readiness.verdict == "waiting"
    assert [(w.kind, w.current, w.reason) for w in readiness.waits] == [
        ("requires", None, "status missing"),
        ("when", None, "missing"),
    ]


def test_only_unmet_requirements_are_listed() -> None:
    readiness = assess(phase7(), {QUALITY: COMPLETE, TESTS: "many"})
    assert readiness.waits == (
        Wait("when", TESTS, f"{TESTS} >= 626", "many", "type mismatch: 'many' vs 626"),
    )


def test_failed_dependency_blocks() -> None:
    readiness = assess(phase7(), {QUALITY: FAILED, TESTS: 626})
    assert readiness.verdict == "blocked"
    assert readiness.blocked_by == ("phase7/code_quality",)
    assert readiness.waits[0].reason == "status is failed"


def test_blocked_wins_over_waiting() -> None:
    assert assess(phase7(), {QUALITY: FAILED}).verdict == "blocked"


@pytest.mark.parametrize("status", [PENDING, READY, IN_PROGRESS, BLOCKED])
def test_unfinished_dependency_waits(status: str) -> None:
    assert assess(phase7(), {QUALITY: status, TESTS: 700}).verdict == "waiting"


def test_optional_never_blocks_or_waits() -> None:
    for status in (FAILED, IN_PROGRESS, None):
        values = {**READY_VALUES, CONFIG: status}
        assert assess(phase7(), values).verdict == "ready"


def test_keys_of() -> None:
    assert keys_of(phase7()) == {QUALITY, TESTS}
    assert keys_of(phase7("code_quality")) == {WARNINGS, "phase7/code_quality/loc"}


# --- gates --------------------------------------------------------------------------------


def test_gates() -> None:
    spec = phase7("code_quality")
    passing = evaluate_gates(spec, {WARNINGS: 12, "phase7/code_quality/loc": 500})
    assert [r.holds for r in passing] == [True, True]
    assert gates_pass(passing)

    failing = evaluate_gates(spec, {WARNINGS: 25})
    assert [r.reason for r in failing] == ["is 25, needs < 20", "missing"]
    assert not gates_pass(failing)


def test_no_gates_pass() -> None:
    assert evaluate_gates(phase7(), {}) == ()
    assert gates_pass(())


# --- next_status ---------------------------------------------------------------------------

READY_NOW = Readiness("ready", (), ())
WAITING = Readiness("waiting", (Wait("requires", QUALITY, COMPLETE, None, "status missing"),), ())
BLOCKED_NOW = Readiness("blocked", (), ("phase7/code_quality",))


@pytest.mark.parametrize(
    ("current", "readiness", "expected"),
    [
        (None, READY_NOW, READY),
        (None, WAITING, PENDING),
        (None, BLOCKED_NOW, BLOCKED),
        (PENDING, READY_NOW, READY),
        (PENDING, WAITING, None),
        (PENDING, BLOCKED_NOW, BLOCKED),
        (READY, READY_NOW, None),
        (READY, WAITING, PENDING),
        (READY, BLOCKED_NOW, BLOCKED),
    ],
)
def test_next_status(current: str | None, readiness: Readiness, expected: str | None) -> None:
    assert next_status(current, readiness) == expected


@pytest.mark.parametrize("current", [IN_PROGRESS, COMPLETE, FAILED, "paused"])
@pytest.mark.parametrize("readiness", [READY_NOW, WAITING, BLOCKED_NOW])
def test_next_status_never_touches_started_or_finished(current: str, readiness: Readiness) -> None:
    assert next_status(current, readiness) is None
    assert next_status(current, readiness, "dependency") is None


@pytest.mark.parametrize(
    ("reason", "readiness", "expected"),
    [
        ("dependency", READY_NOW, READY),
        ("dependency", WAITING, PENDING),
        ("dependency", BLOCKED_NOW, None),
        ("gates", READY_NOW, None),
        ("gates", WAITING, None),
        (None, READY_NOW, None),
    ],
)
def test_next_status_unblocks_only_dependency_blocks(
    reason: Any, readiness: Readiness, expected: str | None
) -> None:
    assert next_status(BLOCKED, readiness, reason) == expected


# --- deadlines ----------------------------------------------------------------------------


def test_deadline_at() -> None:
    assert deadline_at(1000.0, phase7()) == 1000.0 + 48 * HOUR
    assert deadline_at(1000.0, phase7("code_quality")) is None


@pytest.mark.parametrize(
    ("status", "ready_at", "now", "escalated", "expected"),
    [
        (READY, 0.0, 48 * HOUR, False, True),
        (IN_PROGRESS, 0.0, 50 * HOUR, False, True),
        (FAILED, 0.0, 50 * HOUR, False, True),
        (READY, 0.0, 48 * HOUR - 1, False, False),
        (READY, 0.0, 50 * HOUR, True, False),
        (COMPLETE, 0.0, 50 * HOUR, False, False),
        (READY, None, 50 * HOUR, False, False),
    ],
)
def test_is_overdue(
    status: str, ready_at: float | None, now: float, escalated: bool, expected: bool
) -> None:
    assert is_overdue(phase7(), status, ready_at, now, escalated) is expected


def test_task_without_deadline_is_never_overdue() -> None:
    assert not is_overdue(phase7("code_quality"), READY, 0.0, 1e12, False)


# --- describe_wait ------------------------------------------------------------------------


def test_describe_wait() -> None:
    waits = assess(phase7(), {QUALITY: IN_PROGRESS, TESTS: 600}).waits
    assert [describe_wait(w) for w in waits] == [
        "requires code_quality: status is in_progress (needs complete)",
        "when phase7/baseline/tests_passing >= 626: is 600",
    ]
    missing = assess(phase7(), {}).waits
    assert [describe_wait(w) for w in missing] == [
        "requires code_quality: status missing (needs complete)",
        "when phase7/baseline/tests_passing >= 626: missing",
    ]


def test_when_and_gates_reach_into_stored_objects() -> None:
    spec = plan_from_data(
        {
            "phase": "phase3",
            "tasks": {
                "close": {
                    "when": ["phase3/baseline[tests][passing] >= 626"],
                    "gates": ["phase3/final[deliverable_completion_pct] >= 95"],
                }
            },
        }
    ).task("close")
    assert keys_of(spec) == {"phase3/baseline", "phase3/final"}
    waiting = assess(spec, {"phase3/baseline": {"tests": {"passing": 600}}})
    assert [w.reason for w in waiting.waits] == ["is 600"]
    assert assess(spec, {"phase3/baseline": {"tests": {"passing": 626}}}).verdict == "ready"
    assert not gates_pass(evaluate_gates(spec, {"phase3/final": {"other": 96}}))
    passed = evaluate_gates(spec, {"phase3/final": {"deliverable_completion_pct": 96}})
    assert gates_pass(passed)
    assert passed[0].current == 96
