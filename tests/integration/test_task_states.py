"""The batched read behind the views: every task of a plan in one read transaction,
giving what the per-task read gives."""

from __future__ import annotations

from pathlib import Path

from coordinator.plans.validate import parse_plan
from coordinator.tasks.finish import finish_task
from coordinator.tasks.load import load_plan
from coordinator.tasks.start import read_state, report_progress, start_task
from coordinator.tasks.states import read_task_states
from memory.backends import open_store
from memory.records import Put

PLAN = """
phase: p
session: s
tasks:
  a:
    gates: ["p/a/score >= 3"]
  b:
    requires: [a]
    when: ["other/flag == true"]
  c:
    requires: [a, b]
    optional: [d]
    when: ["q/d/status == ready"]
  d: {}
"""


def test_batched_read_equals_the_per_task_read(tmp_path: Path) -> None:
    store = open_store(tmp_path / "memory.db", create=True)
    plan = parse_plan(PLAN)
    load_plan(store, plan, "plan.yaml")
    load_plan(store, parse_plan(PLAN.replace("phase: p", "phase: q")), "q.yaml")
    store.put("p/a/score", 4)
    store.put("other/flag", True)
    store.put("q/d/status", "ready")  # another phase's status, read by a condition
    start_task(store, "p/a", "alice", "s")
    finish_task(store, "p/a", "complete", "alice", None, None)
    start_task(store, "p/d", "bob", "s")
    report_progress(store, "p/d", 2, 5, None, None, "bob")

    batched = read_task_states(store, ["p"])

    assert [state.spec.id for state, _ in batched] == ["p/a", "p/b", "p/c", "p/d"]
    for state, values in batched:
        assert (state, values) == read_state(store, state.spec)
    assert batched[0][0].status == "complete"
    assert batched[3][0].progress is not None and batched[3][0].progress.done == 2
    assert batched[2][1]["q/d/status"] == "ready"


def test_batched_read_runs_one_transaction_with_one_query_per_kind(tmp_path: Path) -> None:
    store = open_store(tmp_path / "memory.db", create=True)
    tasks = "\n".join(f"  t{i}:\n    requires: [t{i - 1}]" for i in range(1, 200))
    load_plan(store, parse_plan(f"phase: p\ntasks:\n  t0: {{}}\n{tasks}\n"), "plan.yaml")
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)  # counting the queries it runs

    states = read_task_states(store, ["p"])

    assert len(states) == 200
    assert statements.count("BEGIN") == 1
    # The phase's task records, then the statuses its rules read: two kinds, two queries.
    assert len([s for s in statements if s.startswith("SELECT")]) == 2


def test_report_on_a_three_thousand_task_chain(tmp_path: Path) -> None:
    from coordinator.views.report.build import render_report, report_data

    store = open_store(tmp_path / "memory.db", create=True)
    tasks = "\n".join(f"  t{i}:\n    requires: [t{i - 1}]" for i in range(2999, 0, -1))
    load_plan(store, parse_plan(f"phase: p\ntasks:\n{tasks}\n  t0: {{}}\n"), "plan.yaml")
    store.txn([], [Put(f"swarm/receipts/p/t{i}", '{"duration":1}') for i in range(3000)])

    data = report_data(store, "p")

    assert data["summary"]["tasks"] == 3000
    assert data["critical_path"]["tasks"] == [f"p/t{i}" for i in range(3000)]
    assert data["critical_path"]["duration"] == 3000
    assert "t2999" in render_report(data)
