"""Loading a validated plan into the store, and reading its task specs back.

`load_plan` stores the plan's header and a spec per task, and a `pending` status for each
task that has none yet, in one compare-and-set transaction; loading the same plan again
changes nothing. `load_specs` rebuilds the stored specs.
"""

from __future__ import annotations

from coordinator import layout
from coordinator.plans.readiness import PENDING
from coordinator.plans.spec import Plan, TaskSpec
from coordinator.state import encode, event_op, status_op
from memory.records import Compare, Delete, Put, WriteOp
from memory.store import Store
from memory.tuples import NamedTuple


class LoadResult(NamedTuple):
    """What `load_plan` changed."""

    phase: str
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]


def load_plan(store: Store, plan: Plan, source: str) -> LoadResult:
    """Store a validated plan: specs are added or updated, statuses kept (idempotent)."""
    now = store.clock()
    prefix = f"{layout.TASKS}{plan.phase}/"
    existing = {r.key: r.value for r in store.list_prefix(prefix) if r.key.endswith("/spec")}
    ops: list[WriteOp] = []
    added, updated, unchanged = [], [], []
    wanted = set()
    for spec in plan.tasks.values():
        key = layout.spec_key(spec.id)
        wanted.add(key)
        data = spec.to_json()
        if key not in existing:
            added.append(spec.name)
            ops.append(Put(key, encode(data)))
        elif existing[key] != data:
            updated.append(spec.name)
            ops.append(Put(key, encode(data)))
        else:
            unchanged.append(spec.name)
    removed = sorted(
        layout.task_id_parts(k[len(layout.TASKS) : -len("/spec")])[1]
        for k in existing
        if k not in wanted
    )
    ops.extend(Delete(layout.spec_key(f"{plan.phase}/{name}")) for name in removed)
    header = {
        "phase": plan.phase,
        "session": plan.session,
        "dashboard": plan.dashboard,
        "baseline": plan.baseline,
        "final": plan.final,
        "title": plan.title,
        "description": plan.description,
        "tasks": list(plan.tasks),
        "source": source,
    }
    current_header = store.get(layout.plan_key(plan.phase))
    if (
        current_header is None
        or {k: v for k, v in current_header.value.items() if k != "loaded_at"} != header
    ):
        ops.append(Put(layout.plan_key(plan.phase), encode({**header, "loaded_at": now})))
    statuses = store.get_many(spec.status_key for spec in plan.tasks.values())
    compares = []
    for spec in plan.tasks.values():
        if spec.status_key not in statuses:
            compares.append(Compare(spec.status_key, "version", "==", 0))
            ops.append(status_op(spec.id, PENDING))
    if ops:
        ops.append(
            event_op(
                "plan_loaded",
                now,
                message=f"plan {plan.phase} loaded from {source}",
                added=added,
                updated=updated,
                removed=removed,
            )
        )
        result = store.txn(compares, ops)
        if not result.succeeded:
            # An agent set a status in between; load again, keeping the status it set.
            return load_plan(store, plan, source)
    return LoadResult(plan.phase, added, updated, unchanged, removed)


def load_specs(store: Store, phase: str | None = None) -> dict[str, TaskSpec]:
    """Every stored task spec (of one phase, or all), by task id."""
    prefix = layout.TASKS if phase is None else f"{layout.TASKS}{phase}/"
    specs = {}
    for record in store.list_prefix(prefix):
        if record.key.endswith("/spec"):
            spec = TaskSpec.from_json(record.value)
            specs[spec.id] = spec
    return specs
