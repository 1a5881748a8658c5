"""The daemon's in-memory picture of the tasks, kept current from the change log: the
snapshot its reconcilers read."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import structlog

from coordinator import layout
from coordinator.daemon.reconcile.settle import settle
from coordinator.plans.readiness import COMPLETE, keys_of
from coordinator.plans.spec import TaskSpec
from coordinator.state import TaskRun
from memory.errors import SwarmError
from memory.records import Change, Record

if TYPE_CHECKING:
    from coordinator.daemon.reconcile import Write
    from memory.aio import AsyncStore
    from memory.store import Store

log = structlog.get_logger("swarm.daemon")

T = TypeVar("T")

#: Changes read per batch while catching up.
BATCH = 2000
#: Tasks whose records are read in one transaction when a pass settles them.
SETTLE_CHUNK = 500


@dataclass
class ChangeBatch:
    """What the changes since the cursor mean for the tasks."""

    cursor: int
    count: int = 0
    #: Every change read, the daemon's own cursor writes included (the log grew by this).
    logged: int = 0
    affected: set[str] = field(default_factory=set)
    completed: set[str] = field(default_factory=set)
    stale_agents: list[str] = field(default_factory=list)
    claims_changed: bool = False
    #: The log before the cursor was compacted away: the model was reloaded from the keys.
    reloaded: bool = False

    def add(self, change: Change, affected: set[str]) -> None:
        """Note one change (not the daemon's cursor) and the tasks it affects."""
        self.count += 1
        self.affected |= affected
        if change.key.endswith("/status") and change.value == COMPLETE:
            self.completed.add(change.key[: -len("/status")])
        if change.key.startswith((layout.CLAIMS, layout.CLAIM_QUEUE)):
            self.claims_changed = True
        if change.op == "expire" and change.key.startswith(layout.AGENTS):
            agent = change.key[len(layout.AGENTS) :]
            if agent not in self.stale_agents:
                self.stale_agents.append(agent)


def task_of(key: str, prefix: str, suffix: str) -> str | None:
    """The task id in `prefix<task>suffix`, or None."""
    if key.startswith(prefix) and key.endswith(suffix):
        return key[len(prefix) : len(key) - len(suffix)]
    return None


@dataclass
class Model:
    """Specs, statuses, run records, plans and workspaces, as of the daemon's cursor."""

    specs: dict[str, TaskSpec] = field(default_factory=dict)
    statuses: dict[str, str | None] = field(default_factory=dict)
    runs: dict[str, TaskRun] = field(default_factory=dict)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Which tasks read each key (the reverse-dependency index), kept by `_index_task`.
    watchers: dict[str, set[str]] = field(default_factory=dict)
    runnable: set[str] = field(default_factory=set)
    #: The keys each task reads (`keys_of` of its spec), to take it out of `watchers`.
    reads: dict[str, frozenset[str]] = field(default_factory=dict)
    #: Live agents that registered a branch or worktree (for merge prediction).
    workspaces: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    @classmethod
    def from_records(
        cls,
        plans: Iterable[Record],
        tasks: Iterable[Record],
        agents: Iterable[Record],
    ) -> Model:
        """Build the model from the plan headers, the records under `swarm/tasks/` and
        the agents; statuses are filled in by the caller (`status_keys`, then `set_status`)."""
        model = cls()
        for record in plans:
            if isinstance(record.value, dict):
                model.plans[record.key[len(layout.PLANS) :]] = record.value
        for record in tasks:
            task_id = task_of(record.key, layout.TASKS, "/spec")
            if task_id is not None:
                try:
                    model.specs[task_id] = TaskSpec.from_json(record.value)
                except SwarmError as err:
                    log.warning("bad task spec", task=task_id, error=err.message)
                continue
            task_id = task_of(record.key, layout.TASKS, "/run")
            if task_id is not None:
                model.runs[task_id] = TaskRun.from_json(record.value)
        for record in agents:
            value = record.value
            if isinstance(value, dict) and (value.get("branch") or value.get("worktree")):
                name = record.key[len(layout.AGENTS) :]
                model.workspaces[name] = (value.get("branch"), value.get("worktree"))
        model.index()
        return model

    def index(self) -> None:
        """Rebuild which tasks read which keys, and which tasks have a `run:` command."""
        self.watchers = {}
        self.runnable = set()
        self.reads = {}
        for task_id in self.specs:
            self._index_task(task_id)

    def _index_task(self, task_id: str) -> None:
        """Bring the index in line with one task's spec (or its absence): O(its keys)."""
        for key in self.reads.pop(task_id, ()):
            readers = self.watchers.get(key)
            if readers is not None:
                readers.discard(task_id)
                if not readers:
                    del self.watchers[key]
        spec = self.specs.get(task_id)
        if spec is None:
            self.runnable.discard(task_id)
            return
        keys = frozenset(keys_of(spec))
        self.reads[task_id] = keys
        for key in keys:
            self.watchers.setdefault(key, set()).add(task_id)
        if spec.run:
            self.runnable.add(task_id)
        else:
            self.runnable.discard(task_id)

    def session_of(self, spec: TaskSpec) -> str:
        """The session named by the task's plan (the phase when it names none)."""
        plan = self.plans.get(spec.phase) or {}
        session = plan.get("session")
        return session if isinstance(session, str) else spec.phase

    def absorb(self, change: Change) -> set[str]:
        """Update the model from one change; return the tasks it may affect."""
        key = change.key
        value = change.value if change.op == "put" else None
        affected: set[str] = set(self.watchers.get(key, ()))
        if key.startswith(layout.TASKS):
            task_id = task_of(key, layout.TASKS, "/spec")
            if task_id is not None:
                return affected | self._absorb_spec(task_id, value)
            task_id = task_of(key, layout.TASKS, "/run")
            if task_id is not None:
                self.runs[task_id] = TaskRun.from_json(value)
            return affected
        if key.startswith(layout.AGENTS):
            name = key[len(layout.AGENTS) :]
            if isinstance(value, dict) and (value.get("branch") or value.get("worktree")):
                self.workspaces[name] = (value.get("branch"), value.get("worktree"))
            else:
                self.workspaces.pop(name, None)
            return affected
        if key.startswith(layout.PLANS):
            if isinstance(value, dict):
                self.plans[key[len(layout.PLANS) :]] = value
            return affected
        if key.endswith("/status"):
            task_id = key[: -len("/status")]
            if task_id in self.specs:
                self.statuses[task_id] = None if value is None else str(value)
                affected.add(task_id)
        return affected

    def _absorb_spec(self, task_id: str, value: Any) -> set[str]:
        """A task's spec was written (or removed): the task itself may be affected."""
        affected = set()
        if value is None:
            self.specs.pop(task_id, None)
        else:
            try:
                self.specs[task_id] = TaskSpec.from_json(value)
            except SwarmError as err:
                # One malformed record must not fail every pass from here on.
                log.warning("bad task spec", task=task_id, error=err.message)
                self.specs.pop(task_id, None)
            else:
                affected.add(task_id)
        # Only this task's entries change: a plan load of n specs costs O(n), not O(n²).
        self._index_task(task_id)
        return affected


async def load_model(store: AsyncStore) -> Model:
    """The model as the store's keys have it: plans, specs, runs, agents and statuses."""
    model = Model.from_records(
        await store.list_prefix(layout.PLANS),
        await store.list_prefix(layout.TASKS),
        await store.list_prefix(layout.AGENTS),
    )
    statuses = await store.get_many(spec.status_key for spec in model.specs.values())
    for task_id, spec in model.specs.items():
        found = statuses.get(spec.status_key)
        model.statuses[task_id] = None if found is None else str(found.value)
    return model


async def read_changes(store: AsyncStore, model: Model, cursor: int) -> ChangeBatch:
    """Absorb every change since `cursor` into `model` (the daemon's own cursor writes
    aside); `CompactedRevision` when the log before them is gone.

    Pages continue from the last change's (rev, seq): one revision may hold more
    changes than a page (a plan load, a big import), and each is read exactly once."""
    batch = ChangeBatch(cursor=cursor)
    rev, seq = cursor + 1, 0
    while True:
        changes, revision = await store.changes_since(rev, limit=BATCH, after_seq=seq)
        batch.logged += len(changes)
        for change in changes:
            if change.key != layout.DAEMON_CURSOR:
                batch.add(change, model.absorb(change))
        if len(changes) < BATCH:
            batch.cursor = max(batch.cursor, revision)
            return batch
        rev, seq = changes[-1].rev, changes[-1].seq


async def settle_tasks(host: Host, order: list[str], completed: set[str], now: float) -> int:
    """Bring each task's status in line with its readiness (`reconcile.settle`), in
    `order`, gates checked for those in `completed`; return how many changed.

    Records are read for `SETTLE_CHUNK` tasks at a time, in one read transaction, and
    each committed write updates that snapshot, so a dependent settled after its
    requirement sees the requirement's new status: O(tasks settled), not one read each."""
    model = host.model
    tasks = [task_id for task_id in order if task_id in model.specs]
    changed = 0
    for start in range(0, len(tasks), SETTLE_CHUNK):
        chunk = tasks[start : start + SETTLE_CHUNK]
        keys: set[str] = set()
        for task_id in chunk:
            keys.update(model.reads.get(task_id, ()))
            keys.update((layout.status_key(task_id), layout.run_key(task_id)))
        records = await host.store.get_many(keys)
        values = {key: record.value for key, record in records.items()}
        for task_id in chunk:
            spec = model.specs[task_id]
            status = records.get(spec.status_key)
            model.statuses[task_id] = None if status is None else str(status.value)
            run = TaskRun.from_json(values.get(layout.run_key(task_id)))
            gate_check = task_id in completed
            write = settle(spec, status, run, values, now, gate_check=gate_check)
            if write is not None and await host.apply(write, now):
                changed += 1
                for done, new in write.statuses.items():
                    values[layout.status_key(done)] = new
    return changed


class Host(Protocol):
    """What the daemon's parts (supervision, upkeep) need from the daemon itself."""

    db_path: Path
    repo_root: Path
    model: Model
    clock: Callable[[], float]

    @property
    def store(self) -> AsyncStore:
        """The open store."""

    async def apply(self, write: Write, now: float, gone: tuple[str, str] | None = None) -> bool:
        """Commit a reconciler's write; False when a guard failed."""

    async def sync(self, work: Callable[[Store], T]) -> T:
        """Run sync-store work in a worker thread."""

    def wake(self) -> None:
        """Ask for another pass soon."""

    def start_soon(self, func: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        """Run `func(*args)` in the daemon's task group (when it has one)."""
