"""The dashboard and the completion report, rendered from views built from a known plan and
history with the same pure functions the store-backed views use (no store, no clock)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from coordinator.plans.critical_path import critical_path
from coordinator.plans.readiness import keys_of
from coordinator.plans.spec import Plan
from coordinator.plans.validate import parse_plan
from coordinator.state import Progress, TaskRun
from coordinator.timefmt import human_duration
from coordinator.views.board import phase_progress, task_row
from coordinator.views.dashboard.files import DashboardWriter, dashboard_targets, write_atomic
from coordinator.views.dashboard.render import render_dashboard
from coordinator.views.markdown import cell, mermaid_graph
from coordinator.views.report.build import build_report, render_report
from coordinator.views.report.metrics import compare_metrics, numeric_metrics

T0 = 1_761_206_400.0  # 2025-10-23 08:00:00Z
HOUR = 3600.0

PLAN = """\
phase: phase7
session: swarm-phase7
dashboard: docs/phase7/COORDINATION-DASHBOARD.md
baseline: phase7/baseline
final: phase7/final
tasks:
  build_infra:
    agent: cicd-engineer
    gates: ["phase7/build_infra/build_seconds < 300"]
  config_system:
    agent: backend-dev
  code_quality:
    agent: reviewer
    gates: ["phase7/code_quality/clippy_warnings < 20", "phase7/code_quality/tests >= 626"]
  release_prep:
    agent: planner
    requires: [code_quality]
    optional: [config_system]
    gates: ['phase7/release_prep/version == "2.0.0"']
  integration:
    requires: [build_infra, release_prep]
"""

#: The store's values at the moment of the snapshot (statuses and the keys gates read).
VALUES: dict[str, Any] = {
    "phase7/build_infra/status": "in_progress",
    "phase7/config_system/status": "in_progress",
    "phase7/code_quality/status": "complete",
    "phase7/release_prep/status": "ready",
    "phase7/integration/status": "pending",
    "phase7/build_infra/build_seconds": 412,
    "phase7/code_quality/clippy_warnings": 9,
    "phase7/code_quality/tests": 630,
}

RUNS = {
    "phase7/build_infra": TaskRun(agent="cicd-engineer", ready_at=T0, started_at=T0 + 60),
    "phase7/config_system": TaskRun(agent="backend-dev", ready_at=T0, started_at=T0 + 120),
    "phase7/code_quality": TaskRun(
        agent="reviewer", ready_at=T0, started_at=T0 + 300, ended_at=T0 + 300 + 2 * HOUR
    ),
    "phase7/release_prep": TaskRun(ready_at=T0 + 300 + 2 * HOUR),
}
PROGRESS = {"phase7/config_system": Progress(done=40, total=93, ts=T0 + HOUR)}
EXPECTED_STATUS = {
    "phase7/build_infra": "in_progress",
    "phase7/config_system": "in_progress",
    "phase7/code_quality": "complete",
    "phase7/release_prep": "ready",
    "phase7/integration": "pending",
}


def plan() -> Plan:
    return parse_plan(PLAN)


def rows_for(plan: Plan, values: dict[str, Any], runs: dict[str, TaskRun], now: float) -> list:
    """Task rows as `coordinator.views.board.task_rows` builds them from the store."""
    rows = []
    for spec in plan.tasks.values():
        own = {k: values[k] for k in keys_of(spec) if k in values}
        rows.append(
            task_row(
                spec,
                values.get(spec.status_key),
                runs.get(spec.id, TaskRun()),
                PROGRESS.get(spec.id),
                own,
                now,
            )
        )
    return rows


def dashboard_view_for(now: float = T0 + 3 * HOUR, **extra: Any) -> dict[str, Any]:
    """A dashboard view as `coordinator.views.board.dashboard_view` shapes it."""
    p = plan()
    tasks = rows_for(p, VALUES, RUNS, now)
    for task in tasks:
        if task["ended_at"] is None:
            task["duration"] = None
    view = {
        "sessions": [p.session],
        "phases": [p.phase],
        "plans": {p.phase: {"session": p.session, "dashboard": p.dashboard}},
        "summary": {"tasks": len(tasks), "complete": 1},
        "progress": phase_progress([p.phase], tasks),
        "tasks": tasks,
        "agents": [{"agent": "reviewer", "live": True, "session": p.session, "branch": None}],
        "claims": [
            {
                "path": "src/config/**",
                "mode": "exclusive",
                "agent": "backend-dev",
                "task": "phase7/config_system",
                "granted_at": T0 + 130,
            }
        ],
        "conflicts": [
            {
                "id": 41,
                "kind": "concurrent_edit",
                "path": "Cargo.toml",
                "agents": ["backend-dev", "cicd-engineer"],
                "description": "backend-dev and cicd-engineer edited Cargo.toml within 10 min",
                "detected_at": T0 + 2 * HOUR,
                "resolved": False,
            }
        ],
        "escalations": [
            {
                "task": "phase7/build_infra",
                "agent": "cicd-engineer",
                "status": "in_progress",
                "ready_at": T0,
                "due_at": T0 + 2 * HOUR,
                "escalated_at": T0 + 2 * HOUR,
                "message": "task phase7/build_infra is past its deadline (2h since ready)",
            }
        ],
        "events": [
            {
                "type": "task_started",
                "ts": T0 + 60 * i,
                "task": "phase7/build_infra",
                "agent": "cicd-engineer",
                "message": f"event {i} | with a pipe",
                "data": {},
            }
            for i in range(25)
        ][-20:],
    }
    view.update(extra)
    return view


# --- a small reader for the Markdown and Mermaid we emit ------------------------------------


def section(markdown: str, title: str) -> str:
    """The body of the `## title...` section."""
    match = re.search(rf"^## {re.escape(title)}.*?$(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"no section {title!r} in:\n{markdown}"
    return match.group(1)


def split_row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [c.strip().replace("\\|", "|").strip("`") for c in cells]


def parse_table(text: str) -> list[dict[str, str]]:
    """The first Markdown table in `text`, as dicts by header."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert len(lines) >= 2, text
    headers = split_row(lines[0])
    assert all(set(c) == {"-"} for c in split_row(lines[1])), lines[1]
    rows = [split_row(line) for line in lines[2:]]
    assert all(len(r) == len(headers) for r in rows), rows
    return [dict(zip(headers, r, strict=True)) for r in rows]


@dataclass
class Flowchart:
    """What a Mermaid flowchart of our subset declares."""

    nodes: dict[str, str] = field(default_factory=dict)  # id -> label
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from, arrow, to)
    class_defs: dict[str, str] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)  # node id -> class
    subgraphs: list[str] = field(default_factory=list)


_ID = r"[A-Za-z][A-Za-z0-9_]*"
_NODE = re.compile(rf'^({_ID})\["([^"]*)"\]$')
_EDGE = re.compile(rf"^({_ID}) (-->|-\.->) ({_ID})$")
_CLASS_DEF = re.compile(rf"^classDef ({_ID}) (\S+)$")
_CLASS = re.compile(rf"^class ({_ID}(?:,{_ID})*) ({_ID})$")
_SUBGRAPH = re.compile(rf'^subgraph ({_ID}) \["([^"]*)"\]$')


def mermaid_block(markdown: str) -> list[str]:
    blocks = re.findall(r"^```mermaid\n(.*?)^```$", markdown, re.M | re.S)
    assert len(blocks) == 1, markdown
    return blocks[0].splitlines()


def parse_flowchart(lines: list[str]) -> Flowchart:
    """Parse the subset of Mermaid we emit; any other line fails the test.

    Counting rule: a node line declares one node; `A --> B` is one `requires` edge
    (B requires A) and `A -.-> B` one `optional` edge.
    """
    assert lines[0] == "flowchart LR", lines[0]
    chart = Flowchart()
    depth = 0
    for raw in lines[1:]:
        line = raw.strip()
        if m := _NODE.match(line):
            assert m.group(1) not in chart.nodes, f"node {m.group(1)} declared twice"
            chart.nodes[m.group(1)] = m.group(2)
        elif m := _EDGE.match(line):
            chart.edges.append((m.group(1), m.group(2), m.group(3)))
        elif m := _CLASS_DEF.match(line):
            chart.class_defs[m.group(1)] = m.group(2)
        elif m := _CLASS.match(line):
            for node in m.group(1).split(","):
                assert node not in chart.classes, f"node {node} in two classes"
                chart.classes[node] = m.group(2)
        elif m := _SUBGRAPH.match(line):
            depth += 1
            chart.subgraphs.append(m.group(2))
        elif line == "end":
            depth -= 1
            assert depth >= 0, "end without subgraph"
        else:
            pytest.fail(f"unexpected Mermaid line: {raw!r}")
    assert depth == 0, "unclosed subgraph"
    for a, _, b in chart.edges:
        assert a in chart.nodes and b in chart.nodes, f"edge to an undeclared node: {a} {b}"
    for node, klass in chart.classes.items():
        assert node in chart.nodes and klass in chart.class_defs, (node, klass)
    return chart


# --- the dashboard -----------------------------------------------------------------------


def test_every_task_appears_once_with_its_status() -> None:
    markdown = render_dashboard(dashboard_view_for())
    rows = parse_table(section(markdown, "Tasks"))
    assert [r["task"] for r in rows] == list(EXPECTED_STATUS)
    for row in rows:
        assert row["status"].split()[1] == EXPECTED_STATUS[row["task"]], row
    by_task = {r["task"]: r for r in rows}
    assert by_task["phase7/code_quality"]["duration"] == "2h00m"
    assert by_task["phase7/code_quality"]["started"] == "2025-10-23 08:05Z"
    assert by_task["phase7/config_system"]["progress"] == "40/93 (43%)"
    assert by_task["phase7/build_infra"]["agent"] == "cicd-engineer"
    assert "requires build_infra" in by_task["phase7/integration"]["waits on / notes"]
    assert "requires release_prep" in by_task["phase7/integration"]["waits on / notes"]


def test_progress_per_phase_counts_done_out_of_total() -> None:
    markdown = render_dashboard(dashboard_view_for())
    (row,) = parse_table(section(markdown, "Progress"))
    assert row["phase"] == "phase7"
    assert row["done"] == "1/5"
    assert row["percent"].endswith("20%")
    assert "**1/5 tasks complete (20%)**" in markdown


def test_running_tasks_show_no_live_duration_so_time_alone_changes_nothing() -> None:
    early = render_dashboard(dashboard_view_for(now=T0 + 3 * HOUR))
    late = render_dashboard(dashboard_view_for(now=T0 + 30 * HOUR))
    assert early == late
    rows = {r["task"]: r for r in parse_table(section(early, "Tasks"))}
    assert rows["phase7/build_infra"]["duration"] == "running"
    assert rows["phase7/build_infra"]["started"] == "2025-10-23 08:01Z"


def test_gates_show_their_current_value_and_verdict() -> None:
    markdown = render_dashboard(dashboard_view_for())
    gates = {r["gate"]: r for r in parse_table(section(markdown, "Quality gates"))}
    assert set(gates) == {
        "phase7/build_infra/build_seconds < 300",
        "phase7/code_quality/clippy_warnings < 20",
        "phase7/code_quality/tests >= 626",
        'phase7/release_prep/version == "2.0.0"',
    }
    assert gates["phase7/code_quality/clippy_warnings < 20"]["current"] == "9"
    assert gates["phase7/code_quality/clippy_warnings < 20"]["result"].endswith("passes")
    assert gates["phase7/code_quality/tests >= 626"]["current"] == "630"
    assert gates["phase7/build_infra/build_seconds < 300"]["current"] == "412"
    assert "fails" in gates["phase7/build_infra/build_seconds < 300"]["result"]
    assert gates['phase7/release_prep/version == "2.0.0"']["current"] == "missing"


def test_claims_conflicts_escalations_and_the_last_20_events() -> None:
    markdown = render_dashboard(dashboard_view_for())
    (claim,) = parse_table(section(markdown, "Open claims"))
    assert claim == {
        "path": "src/config/**",
        "mode": "exclusive",
        "agent": "backend-dev",
        "task": "phase7/config_system",
        "since": "2025-10-23 08:02Z",
    }
    (conflict,) = parse_table(section(markdown, "Open conflicts"))
    assert conflict["#"] == "#41"
    assert conflict["agents"] == "backend-dev, cicd-engineer"
    (escalation,) = parse_table(section(markdown, "Escalations"))
    assert escalation["task"] == "phase7/build_infra"
    assert escalation["status now"] == "in_progress"
    events = parse_table(section(markdown, "Last 20 events"))
    assert len(events) == 20
    # Newest first, and a pipe in a message does not break the table.
    assert events[0]["message"] == "event 24 | with a pipe"
    assert events[-1]["message"] == "event 5 | with a pipe"


def test_a_conflict_seen_again_shows_its_count_and_observations_stand_apart() -> None:
    seen = {
        "id": 41,
        "kind": "unclaimed_edit",
        "path": "Cargo.toml",
        "agents": ["bob"],
        "description": "bob edited Cargo.toml without holding a claim",
        "detected_at": T0,
        "count": 6,
        "last_seen": T0 + HOUR,
    }
    noted = {"kind": "unannounced_write", "path": "d.log", "count": 3, "last_seen": T0 + HOUR}
    markdown = render_dashboard(dashboard_view_for(conflicts=[seen], observations=[noted]))
    body = section(markdown, "Open conflicts")
    (conflict,) = parse_table(body)
    assert conflict["description"] == (
        "bob edited Cargo.toml without holding a claim (seen 6 times, last 2025-10-23 09:00Z)"
    )
    assert "(observations, not conflicts): `d.log` (3 times, last 2025-10-23 09:00Z)." in body


def test_empty_sections_say_none() -> None:
    view = dashboard_view_for(claims=[], conflicts=[], escalations=[], events=[])
    markdown = render_dashboard(view)
    for title in ("Open claims", "Open conflicts", "Escalations"):
        assert section(markdown, title).strip() == "None."


def test_the_mermaid_graph_has_a_node_per_task_and_an_edge_per_dependency() -> None:
    p = plan()
    markdown = render_dashboard(dashboard_view_for())
    chart = parse_flowchart(mermaid_block(markdown))
    assert len(chart.nodes) == len(p.tasks)
    name_of = {node: label.split(" · ")[0] for node, label in chart.nodes.items()}
    assert sorted(name_of.values()) == sorted(p.tasks)
    solid = sorted((name_of[a], name_of[b]) for a, arrow, b in chart.edges if arrow == "-->")
    dashed = sorted((name_of[a], name_of[b]) for a, arrow, b in chart.edges if arrow == "-.->")
    assert solid == sorted((dep, t.name) for t in p.tasks.values() for dep in t.requires)
    assert dashed == sorted((dep, t.name) for t in p.tasks.values() for dep in t.optional)
    assert len(solid) == 3 and len(dashed) == 1
    # Coloured by status: every node is in exactly the class of its status.
    for node, name in name_of.items():
        assert chart.classes[node] == EXPECTED_STATUS[f"phase7/{name}"]
        assert chart.nodes[node].endswith(f" · {EXPECTED_STATUS[f'phase7/{name}']}")
    assert {"complete", "in_progress", "ready", "pending", "blocked", "failed"} <= set(
        chart.class_defs
    )


def test_the_mermaid_graph_groups_phases_and_survives_odd_statuses() -> None:
    tasks = [
        {"task": "a/x", "phase": "a", "name": "x", "status": "complete", "requires": []},
        {"task": "a/y", "phase": "a", "name": "y", "status": 'we"ird', "requires": ["x"]},
        {"task": "b/x", "phase": "b", "name": "x", "status": None, "requires": []},
    ]
    chart = parse_flowchart(mermaid_graph(tasks))
    assert chart.subgraphs == ["a", "b"]
    assert len(chart.nodes) == 3
    assert chart.edges == [("t1", "-->", "t2")]
    assert chart.classes == {"t1": "complete", "t2": "unknown", "t3": "unknown"}


def test_a_dashboard_without_plans_says_so() -> None:
    view = {
        "sessions": [],
        "phases": [],
        "summary": {"tasks": 0, "complete": 0},
        "progress": [],
        "tasks": [],
        "agents": [],
        "claims": [],
        "conflicts": [],
        "escalations": [],
        "events": [],
    }
    assert "No plan is loaded" in render_dashboard(view)


def test_cells_and_durations() -> None:
    assert cell("a|b\nc") == "a\\|b c"
    assert cell(None) == "-"
    assert human_duration(42) == "42s"
    assert human_duration(307) == "5m07s"
    assert human_duration(3 * HOUR + 300) == "3h05m"
    assert human_duration(52 * HOUR) == "2d04h"
    assert human_duration(None) == "-"


def test_dashboard_targets_from_the_option_and_the_plans(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    plans = {
        "p1": {"dashboard": "docs/board.md"},
        "p2": {"dashboard": "docs/board.md"},
        "p3": {"dashboard": "docs/p3.md"},
        "p4": {"dashboard": None},
    }
    targets = dashboard_targets(plans, tmp_path, tmp_path / "all.md")
    assert targets == {
        tmp_path / "docs/board.md": ["p1", "p2"],
        tmp_path / "docs/p3.md": ["p3"],
        tmp_path / "all.md": None,
    }
    assert dashboard_targets({"p4": {}}, tmp_path, None) == {}


def test_write_atomic_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "board.md"
    write_atomic(path, "one\n")
    path.chmod(0o640)
    write_atomic(path, "two\n")
    assert path.read_text() == "two\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == ["board.md"]


def test_the_writer_recognises_its_own_files(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    writer = DashboardWriter(tmp_path, tmp_path / "docs" / "board.md")
    assert writer.owns("docs/board.md")
    assert writer.owns("docs/.board.md.k2j3h4.tmp")
    assert not writer.owns("docs/other.md")
    assert not writer.owns("board.md")


# --- the completion report ---------------------------------------------------------------

#: Every task done: (start offset, duration) in hours.
DONE = {
    "build_infra": (0.0, 30.0),
    "config_system": (0.0, 20.0),
    "code_quality": (0.0, 10.0),
    "release_prep": (10.0, 24.0),
    "integration": (34.0, 2.0),
}


def report_for() -> dict[str, Any]:
    p = plan()
    values = {f"phase7/{name}/status": "complete" for name in DONE}
    values |= {
        "phase7/build_infra/build_seconds": 240,
        "phase7/code_quality/clippy_warnings": 9,
        "phase7/code_quality/tests": 630,
        "phase7/release_prep/version": "2.0.0",
    }
    runs, receipts = {}, {}
    for name, (offset, hours) in DONE.items():
        start, end = T0 + offset * HOUR, T0 + (offset + hours) * HOUR
        task_id = f"phase7/{name}"
        runs[task_id] = TaskRun(agent=f"agent-{name}", started_at=start, ended_at=end)
        receipts[task_id] = {
            "task": task_id,
            "agent": f"agent-{name}",
            "start": start,
            "end": end,
            "duration": end - start,
            "status": "complete",
            "summary": f"{name} done",
            "metrics": {"files_changed": len(name)},
        }
    rows = rows_for(p, values, runs, T0 + 40 * HOUR)
    metrics = [
        (
            "phase7",
            "phase7/baseline",
            "phase7/final",
            {"clippy_warnings": 12, "tests_passing": 626, "build": {"seconds": 400.0}},
            {"clippy_warnings": 9, "tests_passing": 630, "build": {"seconds": 250.5}, "new": 3},
        )
    ]
    escalations = [
        {
            "task": "phase7/release_prep",
            "agent": "planner",
            "due_at": T0 + 30 * HOUR,
            "escalated_at": T0 + 30 * HOUR,
            "message": "late",
        }
    ]
    conflicts = [
        {
            "id": 7,
            "kind": "concurrent_edit",
            "path": "Cargo.toml",
            "agents": ["a", "b"],
            "description": "a and b edited Cargo.toml",
            "detected_at": T0 + HOUR,
            "resolved": True,
            "resolution": {"keep": "a", "by": "operator", "at": T0 + 2 * HOUR},
        },
        {"id": 9, "kind": "unclaimed_edit", "path": "x.rs", "agents": ["c"], "resolved": False},
    ]
    return build_report(
        "swarm-phase7", ["phase7"], rows, receipts, metrics, escalations, conflicts, T0
    )


def test_report_receipts_per_task() -> None:
    markdown = render_report(report_for())
    rows = {r["task"]: r for r in parse_table(section(markdown, "Tasks"))}
    assert set(rows) == {f"phase7/{name}" for name in DONE}
    release = rows["phase7/release_prep"]
    assert release["agent"] == "agent-release_prep"
    assert release["start"] == "2025-10-23 18:00Z"
    assert release["end"] == "2025-10-24 18:00Z"
    assert release["duration"] == "1d00h"
    assert release["summary"] == "release_prep done"
    assert "`phase7/code_quality`: files_changed = 12" in markdown


def test_report_baseline_against_final() -> None:
    data = report_for()
    (group,) = data["metrics"]
    rows = {r["metric"]: r for r in group["rows"]}
    assert rows["clippy_warnings"] == {
        "metric": "clippy_warnings",
        "baseline": 12,
        "final": 9,
        "delta": -3,
        "percent": -25.0,
    }
    assert rows["tests_passing"]["delta"] == 4
    assert rows["tests_passing"]["percent"] == pytest.approx(0.64)
    assert rows["build.seconds"]["delta"] == -149.5
    assert rows["new"] == {
        "metric": "new",
        "baseline": None,
        "final": 3,
        "delta": None,
        "percent": None,
    }
    table = {r["metric"]: r for r in parse_table(section(render_report(data), "Baseline"))}
    assert table["clippy_warnings"] == {
        "metric": "clippy_warnings",
        "baseline": "12",
        "final": "9",
        "delta": "-3",
        "change": "-25%",
    }
    assert table["tests_passing"]["delta"] == "+4"
    assert table["tests_passing"]["change"] == "+0.64%"
    assert table["build.seconds"]["change"] == "-37.38%"


def test_report_gates_escalations_conflicts() -> None:
    data = report_for()
    markdown = render_report(data)
    gates = parse_table(section(markdown, "Quality gates"))
    assert len(gates) == 4
    assert all(g["result"].endswith("passes") for g in gates)
    assert data["summary"]["gates_passing"] == 4
    (escalation,) = parse_table(section(markdown, "Escalations"))
    assert escalation["resolution"] == "completed 2025-10-24 18:00Z, 4h00m past due"
    conflicts = {c["#"]: c for c in parse_table(section(markdown, "Conflicts"))}
    assert conflicts["#7"]["resolution"] == "kept a's work (by operator at 2025-10-23 10:00Z)"
    assert conflicts["#9"]["resolution"] == "unresolved"


def test_report_critical_path() -> None:
    data = report_for()
    path = data["critical_path"]
    # code_quality (10h) -> release_prep (24h) -> integration (2h) = 36h beats
    # build_infra (30h) -> integration (2h) = 32h.
    assert path["tasks"] == ["phase7/code_quality", "phase7/release_prep", "phase7/integration"]
    assert path["duration"] == 36 * HOUR
    assert "= **1d12h**" in section(render_report(data), "Critical path")
    assert data["summary"]["elapsed"] == 36 * HOUR


def test_critical_path_rules() -> None:
    assert critical_path([]) == {"tasks": [], "duration": 0.0}
    tasks = [
        {"task": "a", "requires": [], "duration": 5},
        {"task": "b", "requires": ["a"], "duration": 1},
        {"task": "c", "requires": [], "duration": 5.5},
        {"task": "d", "requires": ["c"], "duration": None},  # no receipt: weighs nothing
    ]
    assert critical_path(tasks) == {"tasks": ["a", "b"], "duration": 6.0}
    tasks[3]["duration"] = 0.75
    assert critical_path(tasks) == {"tasks": ["c", "d"], "duration": 6.25}


def test_metric_rules() -> None:
    assert numeric_metrics({"a": 1, "b": True, "c": "x", "d": {"e": 2.5}, "f": [1]}) == {
        "a": 1,
        "d.e": 2.5,
    }
    assert numeric_metrics([1, 2]) == {}
    (row,) = compare_metrics({"x": 0}, {"x": 5})
    assert row["delta"] == 5 and row["percent"] is None
    (row,) = compare_metrics({"x": 0.1}, {"x": 0.4})
    assert row["delta"] == 0.3
