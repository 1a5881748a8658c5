"""Plans of thousands of tasks: parsed by the C loader where installed, and every graph
walk (cycle check, order, critical path) free of Python's recursion limit."""

from __future__ import annotations

import pytest
import yaml

from coordinator.errors import PlanError
from coordinator.plans import yaml_reader as plan_yaml
from coordinator.plans.critical_path import critical_path
from coordinator.plans.spec import topological_order
from coordinator.plans.validate import parse_plan


def chain_yaml(count: int, *, dependents_first: bool) -> str:
    """A plan of `count` tasks, each requiring the one before it."""
    names = range(count - 1, -1, -1) if dependents_first else range(count)
    lines = ["phase: p", "tasks:"]
    for i in names:
        lines.append(f"  t{i}:")
        lines.append(f"    requires: [t{i - 1}]" if i else "    title: first")
    return "\n".join(lines) + "\n"


def test_the_c_loader_is_used_where_pyyaml_has_it() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML built without libyaml")
    assert issubclass(plan_yaml._PlanLoader, yaml.CSafeLoader)


def test_duplicate_keys_are_still_refused() -> None:
    text = "phase: p\ntasks:\n  a: {}\n  b: {}\n  a: {}\n"
    with pytest.raises(PlanError, match=r"line 5: invalid YAML: duplicate key 'a'"):
        parse_plan(text, "plan.yaml")


def test_a_thousand_task_chain_listed_dependents_first_loads() -> None:
    plan = parse_plan(chain_yaml(1000, dependents_first=True))
    assert len(plan.tasks) == 1000
    assert topological_order(plan) == [f"t{i}" for i in range(1000)]


def test_a_cycle_at_the_end_of_a_long_chain_is_reported() -> None:
    text = chain_yaml(2000, dependents_first=True).replace(
        "  t0:\n    title: first", "  t0:\n    requires: [t1999]"
    )
    with pytest.raises(PlanError, match=r"dependency cycle: t1999 -> t1998 -> .* -> t0 -> t1999"):
        parse_plan(text, "plan.yaml")


def test_critical_path_of_a_three_thousand_task_chain() -> None:
    tasks = [
        {"task": f"t{i}", "requires": [f"t{i - 1}"] if i else [], "duration": 1.0}
        for i in range(2999, -1, -1)
    ]
    path = critical_path(tasks)
    assert path["tasks"] == [f"t{i}" for i in range(3000)]
    assert path["duration"] == 3000.0


def test_critical_path_survives_a_cycle_in_a_hand_edited_store() -> None:
    tasks = [
        {"task": "a", "requires": ["b"], "duration": 1.0},
        {"task": "b", "requires": ["a"], "duration": 2.0},
    ]
    assert critical_path(tasks) == {"tasks": ["b", "a"], "duration": 3.0}


def test_bulk_allocation_pauses_the_collector_and_restores_it() -> None:
    import gc

    from coordinator.bulk import bulk_allocation

    assert gc.isenabled()
    with bulk_allocation():
        assert not gc.isenabled()
        with bulk_allocation():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(PlanError), bulk_allocation():
        raise PlanError("boom")
    assert gc.isenabled()


def test_yaml_features_beyond_strings_lists_and_mappings_still_load() -> None:
    from coordinator.plans.yaml_reader import load_yaml

    text = (
        "base: &b {agent: x, n: 3, ok: true, none: null, f: 1.5}\n"
        "merged:\n  <<: *b\n  n: 4\n"
        "alias: *b\n"
        "when: 2024-01-02\n"
    )
    data = load_yaml(text, "t.yaml")
    assert data["merged"] == {"agent": "x", "n": 4, "ok": True, "none": None, "f": 1.5}
    assert data["alias"] == data["base"]
    assert str(data["when"]) == "2024-01-02"
    assert load_yaml("", "t.yaml") is None
    with pytest.raises(PlanError, match="found unhashable key"):
        load_yaml("? [a]\n: 1\n", "t.yaml")


def test_bulk_allocation_leaves_what_it_made_to_the_oldest_generation() -> None:
    import gc

    from coordinator.bulk import bulk_allocation

    with bulk_allocation():
        made = [[i] for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_count()[0] < 700  # no young collection is due to scan them
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(made) in oldest
    assert all(id(item) in oldest for item in made)
