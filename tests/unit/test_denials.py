"""The rules of refused edits (issue 21): one `edit_refused` event per agent and path per
window with an exact count on one record, and the summary the views show. Pure: no store."""

from __future__ import annotations

import json

from coordinator.claims.denials import (
    Denial,
    Refusal,
    denial_event,
    denial_summary,
    next_denial,
)
from coordinator.views.markdown import denials_text
from coordinator.views.report.build import build_report, render_report
from memory.records import Put, Record
from tests.unit.test_dashboard import parse_table, section

T0 = 1_760_000_000.0
WINDOW = 300.0
BOB = Refusal("src/app.py", "bob", "p/docs", "alice", "p/build")


def refuse(times: list[float], window: float = WINDOW) -> list[tuple[Denial, bool]]:
    """The record and the logged flag after each refusal of BOB at `times`."""
    outcomes = []
    denial: Denial | None = None
    for now in times:
        denial, logged = next_denial(denial, BOB, now, window)
        outcomes.append((denial, logged))
    return outcomes


def test_the_first_refusal_is_logged_and_counted() -> None:
    denial, logged = next_denial(None, BOB, T0, WINDOW)
    assert logged
    assert denial == Denial(
        "src/app.py",
        "bob",
        refusals=1,
        first_at=T0,
        last_at=T0,
        task="p/docs",
        holder="alice",
        holder_task="p/build",
        logged_at=T0,
        logged_refusals=1,
    )


def test_refusals_within_the_window_are_counted_not_logged() -> None:
    outcomes = refuse([T0, T0 + 1, T0 + 2, T0 + WINDOW - 0.001])
    assert [logged for _, logged in outcomes] == [True, False, False, False]
    last, _ = outcomes[-1]
    assert (last.refusals, last.first_at, last.last_at) == (4, T0, T0 + WINDOW - 0.001)
    assert (last.logged_at, last.logged_refusals) == (T0, 1)


def test_the_first_refusal_a_window_after_the_last_logged_one_is_logged() -> None:
    outcomes = refuse([T0, T0 + 10, T0 + WINDOW, T0 + WINDOW + 1, T0 + 2 * WINDOW])
    assert [logged for _, logged in outcomes] == [True, False, True, False, True]
    assert [d.refusals for d, _ in outcomes] == [1, 2, 3, 4, 5]
    assert (outcomes[-1][0].logged_at, outcomes[-1][0].logged_refusals) == (T0 + 2 * WINDOW, 5)


def test_a_clock_that_went_back_logs_again_and_a_zero_window_logs_every_refusal() -> None:
    assert [logged for _, logged in refuse([T0, T0 - 5])] == [True, True]
    assert [logged for _, logged in refuse([T0, T0, T0 + 1], window=0)] == [True, True, True]


def test_the_record_follows_who_is_in_the_way_now() -> None:
    first, _ = next_denial(None, BOB, T0, WINDOW)
    later, _ = next_denial(first, BOB._replace(holder="carol", holder_task=None), T0 + 1, WINDOW)
    assert (later.holder, later.holder_task, later.first_at) == ("carol", None, T0)


def test_the_event_carries_the_count_and_the_refusals_it_stands_for() -> None:
    outcomes = refuse([T0, T0 + 1, T0 + 2, T0 + WINDOW + 5])
    (first, _), (_, _), (before, _), (latest, logged) = outcomes
    assert logged
    op = denial_event(latest, before)
    assert isinstance(op, Put)
    event = json.loads(op.value_json)
    assert event["type"] == "edit_refused"
    assert (event["agent"], event["task"]) == ("bob", "p/docs")
    assert event["message"] == "src/app.py held by alice"
    assert event["data"] == {
        "path": "src/app.py",
        "holder": "alice",
        "holder_task": "p/build",
        "count": 4,
        "unlogged": 2,  # the two refusals inside the first window
    }
    none_before = json.loads(denial_event(first, None).value_json)
    assert (none_before["data"]["count"], none_before["data"]["unlogged"]) == (1, 0)


def test_a_stored_record_round_trips_and_a_malformed_one_reads_as_defaults() -> None:
    denial, _ = next_denial(None, BOB, T0, WINDOW)
    assert Denial.from_record(Record("k", denial.to_json(), 1, 1, 1)) == denial
    odd = {"path": "a.py", "agent": "bob", "refusals": "many", "logged_at": True, "task": 3}
    parsed = Denial.from_record(Record("k", odd, 1, 1, 1))
    assert parsed == Denial("a.py", "bob")
    assert next_denial(parsed, BOB, T0, WINDOW)[0].refusals == 1
    assert Denial.from_record(Record("k", "not an object", 1, 1, 1)) == Denial("", "")


def test_the_summary_counts_by_path_most_refused_first() -> None:
    denials = [
        Denial("src/app.py", "bob", refusals=3, task="p/docs", holder="alice"),
        Denial("src/app.py", "carol", refusals=2, task=None, holder="alice", holder_task="p/build"),
        Denial("app/[[]slug]/page.py", "bob", refusals=1, holder="dave"),
        Denial("other.py", "bob", refusals=9, task="q/elsewhere", holder="erin"),
    ]
    assert denial_summary(denials, ["p"]) == {
        "total": 6,
        "by_path": [
            {
                "path": "src/app.py",
                "count": 5,
                "agents": {"bob": 3, "carol": 2},
                "holders": ["alice"],
            },
            # A literal name is shown as the name, not as its escaped claim.
            {"path": "app/[slug]/page.py", "count": 1, "agents": {"bob": 1}, "holders": ["dave"]},
        ],
    }
    assert denial_summary(denials)["total"] == 15
    assert denial_summary([]) == {"total": 0, "by_path": []}


def test_the_views_line_and_the_report_section() -> None:
    summary = denial_summary(
        [Denial("src/app.py", "bob", refusals=4, holder="alice"), Denial("b.py", "c", refusals=1)]
    )
    assert denials_text(summary) == (
        "5 edits refused (claims held by other agents), by path: `src/app.py` 4, `b.py` 1"
    )
    report = build_report(
        "s",
        ["p"],
        [],
        {},
        [],
        [],
        [],
        T0,
        [Denial("src/app.py", "bob", refusals=4, task="p/docs", holder="alice")],
    )
    assert report["denials"]["total"] == 4
    markdown = render_report(report)
    assert "- Edits refused: 4\n" in markdown
    body = section(markdown, "Edits refused")
    assert "Refused because another agent held the file: 4." in body
    assert parse_table(body) == [
        {"path": "src/app.py", "refused": "4", "agents": "bob (4)", "held by": "alice"}
    ]
    empty = render_report(build_report("s", ["p"], [], {}, [], [], [], T0))
    assert "- Edits refused: 0\n" in empty
    assert section(empty, "Edits refused").strip() == "None."
