"""Task workflow over the sync store: read and start tasks, report progress.

Each operation reads what it needs, asks the pure rules (`coordinator.plans.readiness`) for a
decision and commits it in one compare-and-set transaction, retrying if another process
changed the task in between. Loading a plan into the store is `coordinator.tasks.load`;
finishing a task (post-task) is `coordinator.tasks.finish`. The hooks and the CLI call
these; the daemon has its own async shell around the same rules (`coordinator.daemon.loop`).
"""

from __future__ import annotations

from coordinator import layout
from coordinator.agents.liveness import renew_agent
from coordinator.errors import TaskNotReady, UnknownTask
from coordinator.plans.readiness import (
    BLOCKED,
    COMPLETE,
    IN_PROGRESS,
    Readiness,
    assess,
    describe_wait,
    keys_of,
)
from coordinator.plans.spec import TaskSpec
from coordinator.state import (
    Progress,
    TaskRun,
    encode,
    event_op,
    run_op,
    status_op,
)
from coordinator.tasks import attempts
from memory.errors import InvalidKey, InvalidValue, Refused
from memory.keys import encode_value, validate_key
from memory.records import Compare, Delete, Put, Record, WriteOp
from memory.store import Store
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

#: Compare-and-set retries before giving up on a task that keeps changing under us.
MAX_ATTEMPTS = 20


class TaskState(NamedTuple):
    """A task as the store holds it now: spec, status, run record and progress."""

    spec: TaskSpec
    status: str | None
    run: TaskRun
    progress: Progress | None
    status_record: Record | None


def adhoc_spec(task_id: str, agent: str | None) -> TaskSpec:
    """The spec of a task that is in no plan: no requirements, ready at once."""
    phase, name = layout.task_id_parts(task_id)
    return TaskSpec(phase, name, name, agent, (), (), (), (), None, None, (), None)


def status_guard(task_id: str, record: Record | None) -> Compare:
    """A compare that holds only while the task's status is still `record`."""
    return Compare.unchanged(layout.status_key(task_id), record)


def drop_current_task(store: Store, agent: str | None, task_id: str) -> list[WriteOp]:
    """The delete of `agent`'s current-task key when it still names `task_id` (a task
    that ended, or was failed or reset by an operator); nothing otherwise."""
    if not agent:
        return []
    current = store.get(layout.agent_task_key(agent))
    return [Delete(current.key)] if current is not None and current.value == task_id else []


# --- reading tasks -----------------------------------------------------------------------


def plan_phases(store: Store) -> dict[str, dict[str, Any]]:
    """Every loaded plan header, by phase."""
    return {
        r.key[len(layout.PLANS) :]: r.value
        for r in store.list_prefix(layout.PLANS)
        if isinstance(r.value, dict)
    }


def spec_for(store: Store, ref: str, agent: str | None) -> tuple[TaskSpec, bool]:
    """(spec, is_new): the planned spec, or an ad hoc one to be stored with the task."""
    task_id = layout.qualify_task(store, ref)
    record = store.get(layout.spec_key(task_id))
    if record is not None:
        return TaskSpec.from_json(record.value), False
    return adhoc_spec(task_id, agent), True


def read_state(store: Store, spec: TaskSpec) -> tuple[TaskState, dict[str, Any]]:
    """The task's state and the current values of every key its rules read."""
    keys = {
        spec.status_key,
        layout.run_key(spec.id),
        layout.progress_key(spec.id),
        *keys_of(spec),
    }
    records = store.get_many(keys)
    values = {k: r.value for k, r in records.items()}
    status_record = records.get(spec.status_key)
    progress = records.get(layout.progress_key(spec.id))
    state = TaskState(
        spec,
        None if status_record is None else str(status_record.value),
        TaskRun.from_json(values.get(layout.run_key(spec.id))),
        None if progress is None else Progress.from_json(progress.value),
        status_record,
    )
    return state, values


def metric_values(task_id: str, metrics: Mapping[str, Any] | None) -> dict[str, Any]:
    """The keys `<phase>/<task>/<NAME>` a task's metrics are written to, with their values.

    Each NAME must be one key segment and none the coordinator keeps for itself (`status`
    and the rest of `layout.RESERVED_TASK_NAMES`); values must be JSON with finite numbers.
    """
    if not metrics:
        return {}
    found: dict[str, Any] = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or "/" in name:
            raise InvalidKey(f"metric name {name!r} must be one key segment (no '/')")
        if name in layout.RESERVED_TASK_NAMES:
            reserved = ", ".join(sorted(layout.RESERVED_TASK_NAMES))
            raise InvalidKey(
                f"metric name {name!r} is reserved for the coordinator (reserved: {reserved})"
            )
        key = validate_key(layout.metric_key(task_id, name))
        try:
            encode_value(value)
        except InvalidValue as err:
            raise InvalidValue(f"metric {name!r}: {err.message}") from None
        found[key] = value
    return found


def waits_lines(readiness: Readiness) -> tuple[str, ...]:
    """What a task waits on, one line per unmet requirement or condition."""
    return tuple(describe_wait(w) for w in readiness.waits)


# --- the task hooks ----------------------------------------------------------------------


class Started(NamedTuple):
    """The outcome of `start_task`."""

    task_id: str
    agent: str
    already: bool
    revision: int


def check_startable(state: TaskState, readiness: Readiness, agent: str) -> bool:
    """Raise TaskNotReady unless `agent` may start the task; True when it already runs it."""
    spec, status = state.spec, state.status
    if status == IN_PROGRESS:
        if state.run.agent == agent:
            return True
        raise TaskNotReady(f"task {spec.id} is in progress by {state.run.agent or 'another agent'}")
    if status == COMPLETE:
        raise TaskNotReady(f"task {spec.id} is already complete")
    if status == BLOCKED:
        raise TaskNotReady(
            f"task {spec.id} is blocked: {state.run.reason or 'see swarm plan show'}",
            details=waits_lines(readiness),
        )
    if readiness.verdict != "ready":
        raise TaskNotReady(
            f"task {spec.id} is not ready; it waits on:", details=waits_lines(readiness)
        )
    return False


def start_task(store: Store, ref: str, agent: str, session: str | None) -> Started:
    """pre-task: mark the task `in_progress` for `agent` if it is ready (idempotent)."""
    spec, is_new = spec_for(store, ref, agent)
    for _ in range(MAX_ATTEMPTS):
        now = store.clock()
        state, values = read_state(store, spec)
        readiness = assess(spec, values)
        if check_startable(state, readiness, agent):
            store.txn([], renew_agent(store, agent))
            return Started(spec.id, agent, True, store.revision())
        run = state.run
        if not (run.live and run.started_at is None):
            # Not the agent the daemon spawned for this attempt: a new attempt begins.
            run = attempts.begin(run, now, agent=agent)
        run = run._replace(
            agent=agent,
            session=session or run.session,
            ready_at=run.ready_at or now,
            started_at=now,
            ended_at=None,
            reason=None,
            stalled=False,
            metrics=None,
            held=None,
            retry_at=None,
        )
        ops: list[WriteOp] = [
            status_op(spec.id, IN_PROGRESS),
            run_op(spec.id, run),
            event_op(
                "task_started", now, task=spec.id, agent=agent, session=session, attempt=run.attempt
            ),
            attempts.attempt_op(spec.id, attempts.record(run)),
            Put(layout.agent_task_key(agent), encode(spec.id)),
            Delete(layout.gone_key(agent)),
            *renew_agent(store, agent),
        ]
        if is_new:
            ops.insert(0, Put(layout.spec_key(spec.id), encode(spec.to_json())))
        result = store.txn([status_guard(spec.id, state.status_record)], ops)
        if result.succeeded:
            return Started(spec.id, agent, False, result.revision)
    raise Refused(f"task {spec.id} kept changing; try again")


def report_progress(
    store: Store,
    ref: str,
    done: int | None,
    total: int | None,
    blocker: str | None,
    milestone: str | None,
    agent: str | None,
    *,
    metrics: Mapping[str, Any] | None = None,
    ticked: Iterable[str] = (),
) -> Progress:
    """Record an agent's progress on a task (counts, ticked deliverables, metrics written
    to `<phase>/<task>/<NAME>`), and log a `progress` event, in one transaction.

    `done`/`total` None keep the counts last reported; `ticked` names deliverables of the
    task's plan, which stay ticked.
    """
    task_id = layout.qualify_task(store, ref)
    if done is not None and (done < 0 or (total or 0) < 0 or (total and done > total)):
        raise UnknownTask(f"progress needs 0 <= done <= total, got {done}/{total}")
    measured = metric_values(task_id, metrics)
    wanted = [" ".join(item.split()) for item in ticked]
    for _ in range(MAX_ATTEMPTS):
        now = store.clock()
        records = store.get_many([layout.progress_key(task_id), layout.spec_key(task_id)])
        before = records.get(layout.progress_key(task_id))
        spec = records.get(layout.spec_key(task_id))
        previous = Progress() if before is None else Progress.from_json(before.value)
        items = TaskSpec.from_json(spec.value).deliverables if spec is not None else ()
        ticked_now = _tick(task_id, items, previous.ticked, wanted)
        progress = Progress(
            previous.done if done is None else done,
            previous.total if total is None else (total or 0),
            blocker,
            milestone,
            now,
            agent,
            ticked_now,
        )
        counts = [f"{progress.done}/{progress.total}"] if progress.total or done is not None else []
        if items and wanted:
            counts.append(f"deliverables {len(ticked_now)}/{len(items)}")
        message = " ".join(counts)
        message += f" milestone: {milestone}" if milestone else ""
        message += f" blocker: {blocker}" if blocker else ""
        message += "".join(f" done: {item}" for item in wanted)
        guard = Compare(
            layout.progress_key(task_id),
            "version",
            "==",
            0 if before is None else before.version,
        )
        result = store.txn(
            [guard],
            [
                Put(layout.progress_key(task_id), encode(progress.to_json())),
                *(Put(key, encode(value)) for key, value in measured.items()),
                event_op(
                    "progress",
                    now,
                    task=task_id,
                    agent=agent,
                    message=message,
                    done=progress.done,
                    total=progress.total,
                    blocker=blocker,
                    milestone=milestone,
                    ticked=wanted,
                    metrics=dict(metrics or {}),
                ),
                *renew_agent(store, agent),
            ],
        )
        if result.succeeded:
            return progress
    raise Refused(f"task {task_id} progress kept changing; try again")


def _tick(
    task_id: str, items: tuple[str, ...], already: tuple[str, ...], wanted: list[str]
) -> tuple[str, ...]:
    """The deliverables ticked once `wanted` is ticked too, in plan order; an item the plan
    does not list is refused, naming those it does."""
    for item in wanted:
        if item not in items:
            listed = "; ".join(items) if items else "none"
            raise UnknownTask(
                f"task {task_id} has no deliverable {item!r} (deliverables: {listed})"
            )
    chosen = set(already) | set(wanted)
    return tuple(item for item in items if item in chosen)


def specs_by_status(store: Store, specs: Iterable[TaskSpec]) -> dict[str, str | None]:
    """The status of each task id."""
    spec_list = list(specs)
    records = store.get_many(s.status_key for s in spec_list)
    return {
        s.id: (None if s.status_key not in records else str(records[s.status_key].value))
        for s in spec_list
    }
