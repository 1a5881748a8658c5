"""Property: the daemon's model kept up change by change equals the model rebuilt from the
keys those changes leave behind.

`Model.absorb` touches only a changed spec's own entries in the reverse-dependency index
(issue 14: a plan load of n specs must cost O(n), not O(n²)); hypothesis writes the
change sequences (specs put, rewritten and deleted, statuses, run records, malformed
specs) that would catch an index entry left behind or missed.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator import layout
from coordinator.daemon.model import Model
from memory.records import Change, Record

NAMES = ["a", "b", "c", "d", "e"]
PHASE = "p"


def spec_json(name: str, requires: list[str], gate: str | None, run: str | None) -> dict[str, Any]:
    """A stored spec (the shape `TaskSpec.to_json` writes)."""
    return {
        "phase": PHASE,
        "name": name,
        "title": name,
        "agent": None,
        "requires": requires,
        "optional": [],
        "when": [] if gate is None else [f"{gate} exists"],
        "gates": [],
        "deadline": None,
        "run": run,
        "files": [],
        "description": None,
    }


specs = st.builds(
    lambda name, requires, gate, run: ("spec", name, spec_json(name, requires, gate, run)),
    st.sampled_from(NAMES),
    st.lists(st.sampled_from(NAMES), max_size=3, unique=True),
    st.one_of(st.none(), st.sampled_from(["x/k", "y/k", "p/a/status"])),
    st.one_of(st.none(), st.just("true")),
)
malformed = st.builds(lambda name: ("spec", name, {"phase": PHASE}), st.sampled_from(NAMES))
deleted = st.builds(lambda name: ("spec", name, None), st.sampled_from(NAMES))
statuses = st.builds(
    lambda name, value: ("status", name, value),
    st.sampled_from(NAMES),
    st.one_of(st.none(), st.sampled_from(["pending", "ready", "complete", "failed"])),
)
runs = st.builds(
    lambda name, agent: ("run", name, {"agent": agent}),
    st.sampled_from(NAMES),
    st.sampled_from(["a1", "a2"]),
)
steps = st.lists(st.one_of(specs, malformed, deleted, statuses, runs), max_size=40)


def key_for(kind: str, name: str) -> str:
    task_id = f"{PHASE}/{name}"
    if kind == "spec":
        return f"{layout.TASKS}{task_id}/spec"
    if kind == "run":
        return layout.run_key(task_id)
    return layout.status_key(task_id)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_an_incrementally_kept_model_equals_one_rebuilt_from_the_keys(
    sequence: list[tuple[str, str, Any]],
) -> None:
    model = Model()
    keys: dict[str, Any] = {}
    #: Tasks whose status was written while their spec was known: the model holds it.
    known_status: set[str] = set()
    for rev, (kind, name, value) in enumerate(sequence, start=1):
        key = key_for(kind, name)
        task_id = f"{PHASE}/{name}"
        if kind == "spec" and (value is None or task_id not in model.specs):
            known_status.discard(task_id)
        op = "put" if value is not None else "delete"
        affected = model.absorb(Change(rev, 0, key, op, value, 1, None, 0.0))  # type: ignore[arg-type]
        if kind == "status" and task_id in model.specs:
            known_status.add(task_id)
            assert task_id in affected
        if value is None:
            keys.pop(key, None)
        else:
            keys[key] = value

    records = [Record(key, value, 1, 1, 1) for key, value in sorted(keys.items())]
    rebuilt = Model.from_records([], [r for r in records if r.key.startswith(layout.TASKS)], [])
    assert model.specs == rebuilt.specs
    assert model.watchers == rebuilt.watchers
    assert model.reads == rebuilt.reads
    assert model.runnable == rebuilt.runnable
    assert {t: model.runs[t] for t in rebuilt.runs} == rebuilt.runs
    for task_id in known_status & set(model.specs):
        assert model.statuses[task_id] == keys.get(layout.status_key(task_id))
    # A key's readers are exactly the tasks whose rules read it.
    for task_id, read in rebuilt.reads.items():
        for key in read:
            assert task_id in model.watchers[key]


def test_a_rewritten_spec_leaves_no_reader_behind() -> None:
    """The counter-example an index that only adds would miss."""
    model = Model()
    spec_key = f"{layout.TASKS}p/b/spec"
    model.absorb(Change(1, 0, spec_key, "put", spec_json("b", ["a"], None, "true"), 1, None, 0))
    assert model.watchers == {"p/a/status": {"p/b"}} and model.runnable == {"p/b"}
    model.absorb(Change(2, 0, spec_key, "put", spec_json("b", ["c"], None, None), 2, None, 0))
    assert model.watchers == {"p/c/status": {"p/b"}} and model.runnable == set()
    model.absorb(Change(3, 0, spec_key, "delete", None, 3, None, 0))
    assert model.watchers == {} and model.reads == {} and model.specs == {}
