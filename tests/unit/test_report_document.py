"""The report's document sections, pure: status matrix, targets, risks, go/no-go, timeline."""

from __future__ import annotations

from typing import Any

from coordinator.views.report.document import blockers_and_risks, go_no_go, status_matrix, timeline
from coordinator.views.report.metrics import gate_metric_names, gate_targets


def row(name: str, **fields: Any) -> dict[str, Any]:
    """A task row as `coordinator.views.board.task_row` gives it, with only what is asked."""
    base: dict[str, Any] = {
        "task": f"p/{name}",
        "phase": "p",
        "name": name,
        "title": name,
        "status": "pending",
        "agent": None,
        "requires": [],
        "when": [],
        "gates": [],
        "deadline": None,
        "ready_at": None,
        "progress": None,
        "deliverables": [],
        "team": None,
        "priority": None,
    }
    return {**base, **fields}


def gate(text: str, passes: bool, current: Any, reason: str = "") -> dict[str, Any]:
    return {"gate": text, "passes": passes, "current": current, "reason": reason}


def test_gate_metric_names() -> None:
    assert gate_metric_names("p/t/clippy_warnings < 20") == ["clippy_warnings"]
    assert gate_metric_names("p/t/tests[passing] >= 626") == ["tests.passing", "passing", "passing"]
    assert gate_metric_names("p/final[build][s] < 60") == ["final.build.s", "build.s", "s"]


def test_gate_targets_against_baseline() -> None:
    rows = [
        row(
            "lint",
            status="complete",
            gates=[
                gate("p/lint/warnings < 20", True, 9),
                gate("p/lint/report[score] >= 0.9", False, 0.85, "is 0.85, needs >= 0.9"),
            ],
        ),
        row("docs", status="in_progress", gates=[gate("p/docs/pages exists", False, None)]),
    ]
    targets = gate_targets(rows, {"p": {"warnings": 12, "report.score": 0.7}})
    assert [(t["metric"], t["target"], t["baseline"], t["final"], t["delta"]) for t in targets] == [
        ("p/lint/warnings", "< 20", 12, 9, -3),
        ("p/lint/report[score]", ">= 0.9", 0.7, 0.85, 0.15),
        ("p/docs/pages", "exists", None, None, None),
    ]
    # Failed once the task finished; open while it still runs.
    assert [t["result"] for t in targets] == ["pass", "fail", "open"]
    assert targets[1]["reason"] == "is 0.85, needs >= 0.9"


def test_status_matrix_groups_by_team_and_counts_attempts() -> None:
    rows = [
        row("a", team="infra", priority="P0", deadline=3600.0, ready_at=100.0),
        row("b"),
        row("c", team="qa", requires=["a"], when=["p/x >= 1"]),
        row(
            "d",
            team="infra",
            deliverables=[{"item": "x", "done": True}, {"item": "y", "done": False}],
        ),
    ]
    events = [
        {"type": "task_started", "task": "p/a"},
        {"type": "task_failed", "task": "p/a"},
        {"type": "task_started", "task": "p/a"},
        {"type": "task_started", "task": "p/c"},
    ]
    matrix = status_matrix(rows, events)
    assert [(g["team"], [t["task"] for t in g["tasks"]]) for g in matrix] == [
        ("infra", ["p/a", "p/d"]),
        ("qa", ["p/c"]),
        (None, ["p/b"]),
    ]
    a, d = matrix[0]["tasks"]
    assert (a["attempts"], a["due"], a["priority"]) == (2, 3700.0, "P0")
    assert d["ticked"] == 1
    (c,) = matrix[1]["tasks"]
    assert (c["requires"], c["when"], c["attempts"]) == (["p/a"], ["p/x >= 1"], 1)


def test_blockers_and_risks() -> None:
    rows = [
        row("gated", status="blocked", agent="al", gates=[gate("p/g/x > 1", False, 0, "is 0")]),
        row("dep", status="blocked", reason="dependency failed: p/f"),
        row("f", status="failed", agent="bo", reason="exit 7"),
        row("run", status="in_progress", agent="cy", progress={"blocker": "waiting on API keys"}),
        row("gone", status="in_progress", agent="dee"),
        row("done", status="complete", agent="al", progress={"blocker": "old news"}),
    ]
    escalations = [
        {"task": "p/run", "agent": "cy", "message": "late", "outcome": "open: the task is ..."},
        {"task": "p/done", "agent": "al", "message": "late", "outcome": "completed 2025-10-24"},
    ]
    conflicts = [
        {"path": "a.py", "description": "two editors", "agents": ["al", "bo"], "resolved": False},
        {"path": "b.py", "description": "old", "agents": ["al"], "resolved": True},
    ]
    risks = blockers_and_risks(rows, {"al", "bo", "cy"}, escalations, conflicts)
    assert [(r["kind"], r["task"]) for r in risks] == [
        ("failed gate", "p/gated"),
        ("blocked task", "p/dep"),
        ("failed task", "p/f"),
        ("blocker", "p/run"),
        ("stale agent", "p/gone"),
        ("escalation", "p/run"),
        ("open conflict", None),
    ]
    assert risks[0]["detail"] == "p/g/x > 1: is 0"
    assert risks[-1]["agent"] == "al, bo"


def test_go_no_go_reads_the_last_tasks_of_each_phase() -> None:
    passing = [gate("p/rel/ok == true", True, True)]
    rows = [
        row("build", status="failed"),  # required by rel: not a last task
        row("rel", status="complete", requires=["build"], gates=passing),
    ]
    verdict = go_no_go(rows, ["p"])
    assert verdict["go"] is True
    assert verdict["phases"][0]["last_tasks"] == ["p/rel"]
    rows[1]["gates"] = [gate("p/rel/ok == true", False, False, "is false, needs == true")]
    verdict = go_no_go(rows, ["p"])
    assert verdict["go"] is False
    assert verdict["phases"][0]["reasons"] == ["gate p/rel/ok == true: is false, needs == true"]
    rows.append(row("docs", status="in_progress"))
    assert "p/docs is in_progress" in go_no_go(rows, ["p"])["phases"][0]["reasons"]


def test_timeline_skips_notifications_and_keeps_the_latest() -> None:
    events = [{"type": "progress", "ts": float(n), "message": str(n)} for n in range(10)]
    events.insert(3, {"type": "notification", "ts": 2.5})
    shown, omitted = timeline(events, limit=4)
    assert [e["message"] for e in shown] == ["6", "7", "8", "9"]
    assert omitted == 6
