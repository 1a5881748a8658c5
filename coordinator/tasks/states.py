"""Every task of some phases read at once: the batched read behind the views.

`session-restore`, `status`, `plan show`, `report` and the dashboard file show every task
of a plan. Reading them one task at a time costs a read transaction and a few queries per
task (10,000 of each at 10,000 tasks); `read_task_states` reads them in one read
transaction, with one query per kind of record: the task records of a phase (specs, run
records and progress share the prefix `swarm/tasks/<phase>/`), the phase's statuses,
then any other key the tasks' rules read (condition keys) in chunks of `get_many`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from coordinator import layout
from coordinator.bulk import bulk_allocation
from coordinator.plans.readiness import keys_of
from coordinator.plans.spec import TaskSpec
from coordinator.state import Progress, TaskRun
from coordinator.tasks.start import TaskState
from memory.records import Record
from memory.store import Store


def split_task_records(
    records: Iterable[Record], phase: str
) -> tuple[dict[str, TaskSpec], dict[str, Record]]:
    """(specs by task id, other task records by key) from the records under
    `swarm/tasks/<phase>/` (pure). Specs keep key order."""
    prefix = f"{layout.TASKS}{phase}/"
    specs: dict[str, TaskSpec] = {}
    others: dict[str, Record] = {}
    for record in records:
        name, _, kind = record.key[len(prefix) :].partition("/")
        if not name or "/" in kind:
            continue
        if kind == "spec":
            spec = TaskSpec.from_json(record.value)
            specs[spec.id] = spec
        else:
            others[record.key] = record
    return specs, others


def assemble_states(
    specs: Iterable[TaskSpec], task_records: dict[str, Record], values: dict[str, Record]
) -> list[tuple[TaskState, dict[str, Any]]]:
    """Each spec's `TaskState` and the values its rules read, from records already read
    (pure): `task_records` by key under `swarm/tasks/`, `values` holding at least every
    status and condition key the specs read."""
    states = []
    for spec in specs:
        task_id = spec.id
        run = task_records.get(layout.run_key(task_id))
        progress = task_records.get(layout.progress_key(task_id))
        status_record = values.get(spec.status_key)
        keys = keys_of(spec)
        keys.add(spec.status_key)
        task_values = {k: values[k].value for k in keys if k in values}
        if run is not None:
            task_values[run.key] = run.value
        if progress is not None:
            task_values[progress.key] = progress.value
        state = TaskState(
            spec,
            None if status_record is None else str(status_record.value),
            TaskRun.from_json(None if run is None else run.value),
            None if progress is None else Progress.from_json(progress.value),
            status_record,
        )
        states.append((state, task_values))
    return states


def read_task_states(store: Store, phases: Iterable[str]) -> list[tuple[TaskState, dict[str, Any]]]:
    """Every task of `phases` (phase by phase, each in key order): its state and the values
    of every key its rules read, as `coordinator.tasks.start.read_state` gives for one task, all
    read in one read transaction."""
    phases = list(phases)
    specs: dict[str, TaskSpec] = {}
    task_records: dict[str, Record] = {}
    with bulk_allocation(), store.reading():
        for phase in phases:
            phase_specs, others = split_task_records(
                store.list_prefix(f"{layout.TASKS}{phase}/"), phase
            )
            specs.update(phase_specs)
            task_records.update(others)
        # The phases' statuses (their own and their requirements') in one query each,
        # matched by the store in the phase's key range (statuses are
        # `<phase>/<task>/status`; keys hold no glob characters); by key, 10,000 of them
        # cost twice as much. Condition keys by key, but for the statuses just read.
        values = {r.key: r for phase in phases for r in store.search_keys(f"{phase}/*/status")}
        shown = set(phases)
        conditions = {c.key for spec in specs.values() for c in (*spec.when, *spec.gates)}
        values.update(
            store.get_many(
                key
                for key in conditions
                if not (key.endswith("/status") and key.partition("/")[0] in shown)
            )
        )
        return assemble_states(specs.values(), task_records, values)
