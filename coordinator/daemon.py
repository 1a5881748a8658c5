"""The coordinator daemon: one anyio task group that watches the store and acts.

Wake-ups come from watchfiles (a committed write touches the store's WAL file), from
spawned agents exiting, and from a timer set to the earliest of the poll interval, the
next lease expiry and the next deadline. Each pass reads only the changes since its
cursor (persisted in the store), so an idle pass costs the same at any store size, and a
restart after `kill -9` catches up from where the last pass left off.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any, TypeVar

import anyio
import structlog

from coordinator import layout
from coordinator.claims import (
    EPOCH_KEY,
    MAX_ATTEMPTS,
    check_agent_name,
    grant_queued,
    release_ops,
)
from coordinator.dashboard import DashboardWriter, write_dashboards
from coordinator.edits import check_unannounced, edit_grace
from coordinator.plan import TaskSpec
from coordinator.readiness import (
    BLOCKED,
    COMPLETE,
    FAILED,
    IN_PROGRESS,
    READY,
    TERMINAL,
    assess,
    describe_wait,
    evaluate_gates,
    gate_failures_of,
    gates_pass,
    is_overdue,
    keys_of,
    next_status,
)
from coordinator.state import (
    TaskRun,
    encode,
    event_op,
    gate_block_ops,
    notify_ops,
    run_op,
    status_op,
)
from memory.aio import AsyncStore
from memory.errors import CompactedRevision, Refused, SwarmError
from memory.locator import describe
from memory.lock import daemon_lock
from memory.records import Change, Compare, Put, Record, WriteOp
from memory.store import Store

log = structlog.get_logger("swarm.daemon")

T = TypeVar("T")

#: Who receives notifications that concern no single agent (escalations, stale agents).
OPERATOR = "operator"
#: Changes read per batch while catching up.
BATCH = 2000
#: How many changes the daemon keeps in the log by default (`--keep-changes`).
DEFAULT_KEEP_CHANGES = 100_000
#: A failed pass is retried after this many seconds, doubling up to `RETRY_MAX`.
RETRY_FIRST = 0.1
RETRY_MAX = 30.0


#: The pid a run record holds while the daemon is starting its agent.
STARTING = 0
#: How often the daemon looks at agents an earlier daemon started (seconds).
ADOPTED_POLL = 2.0


def _process_alive(pid: int) -> bool:
    """Whether a process with this pid is running (signal 0 checks without sending). An
    exited agent whose parent, the killed daemon, can no longer reap it lingers as a zombie
    where nothing adopts orphans: that counts as ended."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


@dataclass
class Child:
    """An agent process the daemon started for a task."""

    task_id: str
    agent: str
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]


@dataclass
class PassStats:
    """What one pass did, for logs and tests."""

    changes: int = 0
    transitions: int = 0
    spawned: int = 0
    escalated: int = 0
    stale: int = 0
    granted: int = 0
    merge_conflicts: int = 0


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


@dataclass
class Model:
    """The daemon's in-memory picture of the tasks, kept current from the change log."""

    specs: dict[str, TaskSpec] = field(default_factory=dict)
    statuses: dict[str, str | None] = field(default_factory=dict)
    runs: dict[str, TaskRun] = field(default_factory=dict)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    watchers: dict[str, set[str]] = field(default_factory=dict)
    runnable: set[str] = field(default_factory=set)
    #: Live agents that registered a branch or worktree (for merge prediction).
    workspaces: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def index(self) -> None:
        """Rebuild which tasks read which keys, and which tasks have a `run:` command."""
        self.watchers = {}
        self.runnable = set()
        for task_id, spec in self.specs.items():
            for key in keys_of(spec):
                self.watchers.setdefault(key, set()).add(task_id)
            if spec.run:
                self.runnable.add(task_id)

    def session_of(self, spec: TaskSpec) -> str:
        """The session named by the task's plan (the phase when it names none)."""
        plan = self.plans.get(spec.phase) or {}
        session = plan.get("session")
        return session if isinstance(session, str) else spec.phase


def _task_of(key: str, prefix: str, suffix: str) -> str | None:
    if key.startswith(prefix) and key.endswith(suffix):
        return key[len(prefix) : len(key) - len(suffix)]
    return None


class Daemon:
    """Watches one store and keeps its tasks moving. `run()` until cancelled."""

    def __init__(
        self,
        db_path: Path,
        *,
        repo_root: Path,
        interval: float = 300.0,
        max_agents: int = 4,
        clock: Callable[[], float] = time.time,
        watch_worktree: bool = True,
        dashboard: Path | None = None,
        keep_changes: int | None = DEFAULT_KEEP_CHANGES,
    ) -> None:
        self.db_path = db_path
        #: Compact the change log to about this many changes (None: never).
        self.keep_changes = keep_changes
        self.watch_worktree = watch_worktree
        self.repo_root = repo_root
        self.interval = interval
        self.max_agents = max_agents
        self.clock = clock
        self.model = Model()
        self.cursor = 0
        self.children: dict[str, Child] = {}
        #: Agents an earlier daemon started, by task: their pids, watched until they end.
        self.adopted: dict[str, int] = {}
        self.exited: list[tuple[Child, int]] = []
        self._wake = anyio.Event()
        self._stop = anyio.Event()
        self._store: AsyncStore | None = None
        self._next_expiry: float | None = None
        self._next_deadline: float | None = None
        #: Work-tree paths changed on disk, and when, awaiting their post-edit.
        self._pending_edits: dict[str, float] = {}
        #: The branch heads the last merge prediction saw.
        self._merge_heads: tuple[tuple[str, str | None], ...] = ()
        self._group: anyio.abc.TaskGroup | None = None
        #: The dashboard files: `--dashboard PATH` (every phase) and the plans' `dashboard:`.
        #: Used on the event loop only; the worker thread gets snapshots (see _write_dashboards).
        self.dashboards = DashboardWriter(repo_root, dashboard)
        #: Plans' `dashboard:` paths refused for leaving the repository (warned once each).
        self._refused_dashboards: set[str] = set()
        #: About how many changes the log holds (None: not counted yet).
        self._log_size: int | None = None
        #: Passes failed in a row (retried with a growing delay).
        self._failures = 0
        #: The catch-up pass failed: the next pass settles every task.
        self._owe_full_pass = False

    @property
    def store(self) -> AsyncStore:
        """The open store (only while running)."""
        if self._store is None:
            raise SwarmError("the daemon is not running")
        return self._store

    # --- lifecycle -----------------------------------------------------------------------

    async def run(
        self,
        *,
        once: bool = False,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Take the lock, catch up, then react to changes until cancelled (or one pass)."""
        lock = daemon_lock(self.db_path)
        lock.acquire()
        try:
            self._store = await AsyncStore.open(self.db_path, actor="swarm-daemon")
            try:
                await self._load()
                try:
                    stats = await self.run_pass(self.clock(), full=True)
                except (SwarmError, OSError) as err:
                    if once:
                        raise
                    # Like any pass, the catch-up is retried; the daemon stays up.
                    self._pass_failed(err)
                    self._owe_full_pass = True
                else:
                    log.info(
                        "caught up",
                        cursor=self.cursor,
                        tasks=len(self.model.specs),
                        **stats.__dict__,
                    )
                if once:
                    task_status.started()
                    return
                async with anyio.create_task_group() as group:
                    self._group = group
                    # Agents the catch-up pass started had no task group to wait in.
                    for child in self.children.values():
                        group.start_soon(self._await_exit, child)
                    group.start_soon(self._handle_signals, group.cancel_scope)
                    if self.watch_worktree:
                        group.start_soon(self._watch_worktree)
                    # The watcher is live before we say so; its first wake-up triggers a
                    # pass that picks up whatever changed since the catch-up above.
                    try:
                        await group.start(self._watch_store)
                        log.info("watching", store=describe(self.db_path), interval=self.interval)
                        task_status.started()
                        await self._loop()
                    finally:
                        # watchfiles' thread returns only when its stop event is set;
                        # cancelling the task that waits on it is not enough.
                        self._stop.set()
            finally:
                await self.store.close()
                self._store = None
        finally:
            lock.release()

    async def _handle_signals(self, scope: anyio.CancelScope) -> None:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for signum in signals:
                log.info("stopping", signal=signal.Signals(signum).name)
                scope.cancel()
                return

    async def _watch_store(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        from memory.watch import awakeups

        started = False
        async for _ in awakeups(self.db_path.resolve(), poll=self.interval, stop=self._stop):
            self._wake.set()
            if not started:
                started = True
                task_status.started()

    def _earliest_deadline(self) -> float | None:
        """When the next task falls due (O(tasks); recomputed only after changes)."""
        moments = []
        for task_id, run in self.model.runs.items():
            spec = self.model.specs.get(task_id)
            if spec is None or spec.deadline is None or run.ready_at is None:
                continue
            if run.escalated_at is None and self.model.statuses.get(task_id) != COMPLETE:
                moments.append(run.ready_at + spec.deadline)
        return min(moments, default=None)

    def _timeout(self, now: float) -> float:
        moments = [now + self.interval]
        if self.adopted:
            # Not our children: their exit is seen only by looking.
            moments.append(now + ADOPTED_POLL)
        if self._pending_edits:
            moments.append(min(self._pending_edits.values()) + edit_grace())
        for moment in (self._next_expiry, self._next_deadline):
            if moment is not None:
                moments.append(moment)
        return max(0.0, min(moments) - now)

    async def _loop(self) -> None:
        while True:
            timeout = self._timeout(self.clock())
            if self._failures:
                # Retry a failed pass soon, but back off so that a lasting fault never spins.
                backoff = RETRY_FIRST * 2 ** min(self._failures - 1, 16)
                timeout = min(self.interval, RETRY_MAX, backoff)
            with anyio.move_on_after(timeout):
                await self._wake.wait()
            self._wake = anyio.Event()
            try:
                stats = await self.run_pass(self.clock(), full=self._owe_full_pass)
            except (SwarmError, OSError) as err:
                # One failed pass (a store locked past the busy timeout, a bad record, an
                # agent that cannot be started) must not stop the coordination: the cursor
                # did not move, so the next pass sees the same changes again.
                self._pass_failed(err)
                continue
            self._failures = 0
            self._owe_full_pass = False
            if stats.changes or stats.transitions or stats.spawned or stats.escalated:
                log.info("pass", cursor=self.cursor, **stats.__dict__)

    def _pass_failed(self, err: SwarmError | OSError) -> None:
        self._failures += 1
        message = err.message if isinstance(err, SwarmError) else str(err)
        log.error("pass failed", error=message, kind=type(err).__name__, failures=self._failures)

    # --- the model ---------------------------------------------------------------------

    async def _load(self) -> None:
        """Read plans, specs, statuses, runs and the cursor from the store."""
        store = self.store
        cursor = await store.get(layout.DAEMON_CURSOR)
        self.cursor = int(cursor.value) if cursor and isinstance(cursor.value, int) else 0
        model = Model()
        for record in await store.list_prefix(layout.PLANS):
            if isinstance(record.value, dict):
                model.plans[record.key[len(layout.PLANS) :]] = record.value
        for record in await store.list_prefix(layout.TASKS):
            task_id = _task_of(record.key, layout.TASKS, "/spec")
            if task_id is not None:
                try:
                    model.specs[task_id] = TaskSpec.from_json(record.value)
                except SwarmError as err:
                    log.warning("bad task spec", task=task_id, error=err.message)
                continue
            task_id = _task_of(record.key, layout.TASKS, "/run")
            if task_id is not None:
                model.runs[task_id] = TaskRun.from_json(record.value)
        for record in await store.list_prefix(layout.AGENTS):
            value = record.value
            if isinstance(value, dict) and (value.get("branch") or value.get("worktree")):
                name = record.key[len(layout.AGENTS) :]
                model.workspaces[name] = (value.get("branch"), value.get("worktree"))
        statuses = await store.get_many(spec.status_key for spec in model.specs.values())
        for task_id, spec in model.specs.items():
            found = statuses.get(spec.status_key)
            model.statuses[task_id] = None if found is None else str(found.value)
        model.index()
        self.model = model
        self._next_expiry = await store.next_expiry()
        # Agents a previous daemon started (it was killed or restarted): watch their pids.
        self.adopted = {
            task_id: run.pid
            for task_id, run in model.runs.items()
            if run.pid is not None
            and run.pid != STARTING
            and run.exit_code is None
            and task_id not in self.children
            and model.statuses.get(task_id) not in TERMINAL
        }

    def _absorb(self, change: Change) -> set[str]:
        """Update the model from one change; return the tasks it may affect."""
        model, key = self.model, change.key
        value = change.value if change.op == "put" else None
        affected: set[str] = set(model.watchers.get(key, ()))
        if key.startswith(layout.TASKS):
            task_id = _task_of(key, layout.TASKS, "/spec")
            if task_id is not None:
                return affected | self._absorb_spec(task_id, value)
            task_id = _task_of(key, layout.TASKS, "/run")
            if task_id is not None:
                model.runs[task_id] = TaskRun.from_json(value)
            return affected
        if key.startswith(layout.AGENTS):
            name = key[len(layout.AGENTS) :]
            if isinstance(value, dict) and (value.get("branch") or value.get("worktree")):
                model.workspaces[name] = (value.get("branch"), value.get("worktree"))
            else:
                model.workspaces.pop(name, None)
            return affected
        if key.startswith(layout.PLANS):
            if isinstance(value, dict):
                model.plans[key[len(layout.PLANS) :]] = value
            return affected
        if key.endswith("/status"):
            task_id = key[: -len("/status")]
            if task_id in model.specs:
                model.statuses[task_id] = None if value is None else str(value)
                affected.add(task_id)
        return affected

    def _absorb_spec(self, task_id: str, value: Any) -> set[str]:
        """A task's spec was written (or removed): the task itself may be affected."""
        model = self.model
        affected = set()
        if value is None:
            model.specs.pop(task_id, None)
        else:
            try:
                model.specs[task_id] = TaskSpec.from_json(value)
            except SwarmError as err:
                # One malformed record must not fail every pass from here on.
                log.warning("bad task spec", task=task_id, error=err.message)
                model.specs.pop(task_id, None)
            else:
                affected.add(task_id)
        model.index()
        return affected

    # --- one pass ------------------------------------------------------------------------

    async def run_pass(self, now: float, *, full: bool = False) -> PassStats:
        """Sweep leases, read new changes, move tasks, escalate, spawn. Idempotent."""
        stats = PassStats()
        store = self.store
        if self._next_expiry is not None and self._next_expiry <= now:
            await store.expire_due()
            self._next_expiry = await store.next_expiry()
        batch = await self._catch_up()
        full = full or batch.reloaded
        affected = set(self.model.specs) if full else batch.affected
        stats.changes = batch.count
        if batch.count:
            self._next_expiry = await store.next_expiry()
        for agent in batch.stale_agents:
            if await self._agent_stale(agent, now):
                stats.stale += 1
        # Gate checks go first: a dependent settled before its requirement's failing gate
        # was checked would be marked ready (and notified, or spawned) on a stale `complete`.
        for task_id in sorted(affected, key=lambda t: (t not in batch.completed, t)):
            if await self._settle(task_id, now, gate_check=task_id in batch.completed):
                stats.transitions += 1
        await self._housekeeping(stats, batch, now, full=full)
        # Before the cursor is persisted, so a reader who sees the cursor reach a revision
        # knows the dashboards reflect it.
        await self._write_dashboards(stats, full=full)
        self.cursor = batch.cursor
        if stats.changes or batch.reloaded:
            # Persist only after real work: the cursor's own write is skipped above, so
            # writing it on every pass would wake the daemon forever.
            await store.put(layout.DAEMON_CURSOR, batch.cursor)
            self._next_deadline = self._earliest_deadline()
            await self._compact_log(batch)
        return stats

    async def _compact_log(self, batch: ChangeBatch) -> None:
        """Keep the change log near `keep_changes` entries (DESIGN: compacted by count),
        never compacting past our own cursor, so that a restart can always catch up.

        The log's size is counted once, then tracked from the changes each pass reads
        (every change passes through the daemon); it is recounted after a compaction.
        A tenth of slack keeps a busy store from compacting on every pass.
        """
        if self.keep_changes is None:
            return
        if self._log_size is None or batch.reloaded:
            self._log_size = await self.store.change_count()
        else:
            self._log_size += batch.logged
        if self._log_size <= self.keep_changes + self.keep_changes // 10:
            return
        point = await self.store.compact_keeping(self.keep_changes, max_rev=self.cursor)
        self._log_size = await self.store.change_count()
        log.info("change log compacted", through=point, cursor=self.cursor, kept=self._log_size)

    async def _housekeeping(
        self, stats: PassStats, batch: ChangeBatch, now: float, *, full: bool
    ) -> None:
        """Claims, unannounced edits, deadlines, merge prediction and spawned agents; each
        step runs only when something it depends on changed or fell due."""
        if batch.claims_changed or full:
            stats.granted = await self._sync(self._grant_queued)
        if self._pending_edits and min(self._pending_edits.values()) + edit_grace() <= now:
            await self._check_due_edits(now)
        if full:
            self._next_deadline = self._earliest_deadline()
        if self._next_deadline is not None and self._next_deadline <= now:
            stats.escalated = await self._escalate(now)
            self._next_deadline = self._earliest_deadline()
        if len(self.model.workspaces) >= 2:
            stats.merge_conflicts = await self._sync(self._predict_merges)
        if self.children:
            stats.transitions += await self._reap_children(now)
        if self.adopted:
            stats.transitions += await self._reap_adopted(now)
        if self.model.runnable:
            stats.spawned = await self._spawn(now)

    async def _write_dashboards(self, stats: PassStats, *, full: bool) -> None:
        """Render the dashboards in a worker thread and write those whose content changed;
        an idle pass (no change seen, nothing done) renders nothing."""
        if not (full or any(vars(stats).values())):
            return
        plans = self._dashboard_plans()
        if not self.dashboards.wanted(plans):
            return
        # The writer's state stays on the event loop, where the work-tree watcher asks it
        # which files are ours; the worker thread gets copies and hands back what it wrote.
        targets = self.dashboards.targets(plans)
        known = self.dashboards.known()
        try:
            contents, written = await self._sync(
                partial(write_dashboards, targets=targets, known=known)
            )
        except OSError as err:
            # An unwritable dashboard must not stop the coordination it reports on.
            log.warning("dashboard not written", error=str(err))
            return
        self.dashboards.remember(contents)
        for path in written:
            log.info("dashboard written", path=str(path))

    def _dashboard_plans(self) -> dict[str, dict[str, Any]]:
        """The plans, less any `dashboard:` that leads out of the repository (plan load
        refuses those; a plan stored before it did, or a symlink, may still name one)."""
        root = self.repo_root.resolve()
        plans = {}
        for phase, header in self.model.plans.items():
            name = header.get("dashboard")
            if isinstance(name, str) and name and not _inside(root, name):
                if name not in self._refused_dashboards:
                    self._refused_dashboards.add(name)
                    log.warning("dashboard outside the repository refused", phase=phase, path=name)
                continue
            plans[phase] = header
        return plans

    async def _sync(self, work: Callable[[Store], T]) -> T:
        """Run work written for the sync store (claims, edits) in a worker thread, with a
        connection of its own: one implementation serves the hooks and the daemon.

        `work` gets its inputs as arguments and returns its results: it must not touch
        state the event loop uses meanwhile (the work-tree watcher keeps running)."""

        def run() -> T:
            with Store.open(self.db_path, actor="swarm-daemon") as store:
                return work(store)

        return await anyio.to_thread.run_sync(run)

    def _predict_merges(self, store: Store) -> int:
        """Agents on separate branches: predict merge conflicts between their branches, but
        only when some branch moved since the last prediction (one `git rev-parse`)."""
        from coordinator.gitops import (
            agent_branch_owners,
            predict_conflicts,
            record_merge_conflicts,
            resolve_commit,
        )

        owners = agent_branch_owners(store, self.repo_root)
        heads = {branch: resolve_commit(self.repo_root, branch) for branch in owners}
        known = sorted(branch for branch, commit in heads.items() if commit)
        signature = tuple((branch, heads[branch]) for branch in known)
        if len(known) < 2 or signature == self._merge_heads:
            return 0
        self._merge_heads = signature
        try:
            predictions = predict_conflicts(self.repo_root, known)
        except SwarmError as err:
            log.warning("merge prediction failed", error=err.message)
            return 0
        recorded = record_merge_conflicts(store, predictions, self.clock(), owners=owners)
        for pair in recorded:
            log.warning("merge conflict predicted", branches=[pair.a, pair.b], files=pair.files)
        return len(recorded)

    def _grant_queued(self, store: Store) -> int:
        granted = grant_queued(store)
        for grant in granted:
            log.info("claim granted", path=grant.claim.path, agent=grant.claim.agent)
        return len(granted)

    async def _check_due_edits(self, now: float) -> int:
        """Turn disk changes no post-edit announced within the grace period into conflicts.

        The due paths are taken out of `_pending_edits` here, on the event loop that adds
        to it; the worker thread sees only its own copy."""
        grace = edit_grace()
        due = {path: seen for path, seen in self._pending_edits.items() if seen + grace <= now}
        for path in due:
            del self._pending_edits[path]
        try:
            return await self._sync(partial(_check_edits, repo_root=self.repo_root, due=due))
        except BaseException:
            for path, seen in due.items():  # not checked: keep them for the next pass
                self._pending_edits.setdefault(path, seen)
            raise

    async def _watch_worktree(self) -> None:
        """Note every file changed in the work tree (not .git, .swarm or ignored paths)."""
        from coordinator.worktree import changed_paths

        async for paths in changed_paths(self.repo_root, self._stop):
            now = self.clock()
            for path in paths:
                if not self.dashboards.owns(path):  # our own writes are no agent's edit
                    self._pending_edits.setdefault(path, now)
            self._wake.set()

    async def _catch_up(self) -> ChangeBatch:
        """The changes since the cursor; when the log before them has been compacted away
        (`swarm memory compact`, an exact import), the model rebuilt from the keys instead."""
        try:
            return await self._read_changes()
        except CompactedRevision as err:
            # What the lost changes said is in the keys: reload them and settle every task.
            # The revision is read first, so a write made during the reload is read again.
            revision = await self.store.revision()
            log.warning(
                "change log compacted past the cursor; reloading",
                cursor=self.cursor,
                revision=revision,
                error=err.message,
            )
            await self._load()
            return ChangeBatch(cursor=revision, claims_changed=True, reloaded=True)

    async def _read_changes(self) -> ChangeBatch:
        """Absorb every change since the cursor into the model.

        Pages continue from the last change's (rev, seq): one revision may hold more
        changes than a page (a plan load, a big import), and each is read exactly once."""
        batch = ChangeBatch(cursor=self.cursor)
        rev, seq = self.cursor + 1, 0
        while True:
            changes, revision = await self.store.changes_since(rev, limit=BATCH, after_seq=seq)
            batch.logged += len(changes)
            for change in changes:
                if change.key == layout.DAEMON_CURSOR:
                    continue
                batch.count += 1
                batch.affected |= self._absorb(change)
                if change.key.endswith("/status") and change.value == COMPLETE:
                    batch.completed.add(change.key[: -len("/status")])
                if change.key.startswith((layout.CLAIMS, layout.CLAIM_QUEUE)):
                    batch.claims_changed = True
                if change.op == "expire" and change.key.startswith(layout.AGENTS):
                    agent = change.key[len(layout.AGENTS) :]
                    if agent not in batch.stale_agents:
                        batch.stale_agents.append(agent)
            if len(changes) < BATCH:
                batch.cursor = max(batch.cursor, revision)
                return batch
            rev, seq = changes[-1].rev, changes[-1].seq

    async def _settle(self, task_id: str, now: float, *, gate_check: bool) -> bool:
        """Bring one task's status in line with its readiness; True when it changed."""
        spec = self.model.specs.get(task_id)
        if spec is None:
            return False
        keys = {spec.status_key, layout.run_key(task_id), *keys_of(spec)}
        records = await self.store.get_many(keys)
        values = {k: r.value for k, r in records.items()}
        status_record = records.get(spec.status_key)
        status = None if status_record is None else str(status_record.value)
        run = TaskRun.from_json(values.get(layout.run_key(task_id)))
        guard = (
            Compare(spec.status_key, "version", "==", 0)
            if status_record is None
            else Compare(spec.status_key, "mod_rev", "==", status_record.mod_rev)
        )
        ops: list[WriteOp] = []
        if gate_check and status == COMPLETE:
            results = evaluate_gates(spec, values)
            if gates_pass(results):
                return False
            reason, blocked = gate_block_ops(
                task_id, run.agent or spec.agent, gate_failures_of(results), now
            )
            run = run._replace(reason=reason, blocked_kind="gates")
            ops += [status_op(task_id, BLOCKED), *blocked]
            new = BLOCKED
        else:
            readiness = assess(spec, values)
            kind = run.blocked_kind if run.blocked_kind in ("dependency", "gates") else None
            new_status = next_status(status, readiness, kind)  # type: ignore[arg-type]
            if new_status is None or new_status == status:
                return False
            new = new_status
            if new == READY:
                run = run._replace(ready_at=now, reason=None, blocked_kind=None)
                ops += [
                    event_op("task_ready", now, task=task_id, agent=spec.agent),
                    *self._tell(spec.agent, f"task {task_id} is now ready", now, task_id),
                ]
            elif new == BLOCKED:
                reason = "dependency failed: " + ", ".join(readiness.blocked_by)
                run = run._replace(reason=reason, blocked_kind="dependency")
                ops += [
                    event_op("task_blocked", now, task=task_id, message=reason),
                    *self._tell(
                        spec.agent, f"task {task_id} is blocked: {reason}", now, task_id, "warn"
                    ),
                ]
            else:
                run = run._replace(
                    reason="; ".join(describe_wait(w) for w in readiness.waits) or None
                )
                ops.append(event_op("task_pending", now, task=task_id, message=run.reason or ""))
            ops.append(status_op(task_id, new))
        ops.append(run_op(task_id, run))
        result = await self.store.txn([guard], ops)
        if not result.succeeded:
            # Someone changed the task meanwhile; their change wakes us for another look.
            return False
        self.model.statuses[task_id] = new
        self.model.runs[task_id] = run
        log.info("task", task=task_id, status=new, reason=run.reason)
        return True

    def _tell(
        self, agent: str | None, message: str, now: float, task_id: str, level: str = "info"
    ) -> list[Put]:
        if not agent:
            return []
        try:
            check_agent_name(agent)
        except SwarmError:
            # A spec stored before plans validated `agent:`; its inbox key would fail the
            # whole transaction, and with it every pass.
            log.warning("notification not delivered: invalid agent name", agent=agent)
            return []
        return notify_ops(agent, message, now, level=level, sender="swarm-daemon", task=task_id)

    async def _escalate(self, now: float) -> int:
        """Escalate, once each, tasks not complete by their deadline."""
        count = 0
        for task_id, current in list(self.model.runs.items()):
            spec = self.model.specs.get(task_id)
            status = self.model.statuses.get(task_id)
            run = current
            if spec is None or not is_overdue(
                spec, status, run.ready_at, now, run.escalated_at is not None
            ):
                continue
            assert run.ready_at is not None and spec.deadline is not None
            message = (
                f"task {task_id} is past its deadline ({_hours(spec.deadline)} since ready) "
                f"and is {status}"
            )
            agent = run.agent or spec.agent
            record = {
                "task": task_id,
                "agent": agent,
                "status": status,
                "ready_at": run.ready_at,
                "due_at": run.ready_at + spec.deadline,
                "escalated_at": now,
                "message": message,
            }
            run = run._replace(escalated_at=now)
            ops: list[WriteOp] = [
                Put(layout.escalation_key(task_id), encode(record)),
                run_op(task_id, run),
                event_op("escalated", now, task=task_id, agent=agent, message=message),
                *self._tell(OPERATOR, message, now, task_id, "warn"),
                *self._tell(agent, message, now, task_id, "warn"),
            ]
            guards = [
                Compare(layout.escalation_key(task_id), "version", "==", 0),
                # A post-task that lands meanwhile changes the status: no escalation then,
                # and its run record is not overwritten with ours.
                Compare(layout.status_key(task_id), "value", "==", status),
            ]
            result = await self.store.txn(guards, ops)
            if result.succeeded:
                self.model.runs[task_id] = run
                count += 1
                log.warning("escalated", task=task_id)
        return count

    async def _agent_stale(self, agent: str, now: float) -> bool:
        """An agent's lease ran out: flag its running tasks stalled and release its claims,
        in one transaction. Returns False when the agent has registered again since: the
        expiry is old news (read while catching up) and its work is live."""
        if await self.store.get(layout.agent_key(agent)) is not None:
            log.info("agent back before its expiry was handled", agent=agent)
            return False
        runs = {
            task_id: current._replace(stalled=True, reason=f"agent {agent} is stale")
            for task_id, current in self.model.runs.items()
            if current.agent == agent
            and not current.stalled
            and self.model.statuses.get(task_id) == IN_PROGRESS
        }
        ops: list[WriteOp] = [
            event_op("agent_stale", now, agent=agent, message=f"agent {agent} went silent")
        ]
        for task_id, run in runs.items():
            ops += [run_op(task_id, run), event_op("task_stalled", now, task=task_id, agent=agent)]
        stalled = list(runs)
        message = f"agent {agent} is stale" + (
            f"; stalled: {', '.join(stalled)}" if stalled else ""
        )
        ops += self._tell(OPERATOR, message, now, stalled[0] if stalled else "", "warn")
        if not await self._sync(partial(_release_stale_agent, agent=agent, ops=ops, now=now)):
            log.info("agent back before its expiry was handled", agent=agent)
            return False
        self.model.runs.update(runs)
        log.warning("agent stale", agent=agent, stalled=stalled)
        return True

    # --- spawning agents -----------------------------------------------------------------

    def _spawnable(self) -> Iterable[TaskSpec]:
        for task_id in sorted(self.model.runnable):
            spec = self.model.specs[task_id]
            run = self.model.runs.get(task_id) or TaskRun()
            ready = self.model.statuses.get(task_id) == READY
            # STARTING with no child of ours: a start a killed daemon never finished.
            unstarted = run.pid is None or run.pid == STARTING
            if ready and unstarted and task_id not in self.children:
                yield spec

    async def _spawn(self, now: float) -> int:
        """Start the `run:` command of ready tasks, up to --max-agents at once."""
        started = 0
        for spec in self._spawnable():
            if len(self.children) >= self.max_agents:
                break
            if self._files_busy(spec):
                continue
            if not await self._claim_spawn(spec):
                continue
            child = self._start(spec)
            self.children[spec.id] = child
            if self._group is not None:
                self._group.start_soon(self._await_exit, child)
            await self._record_spawn(spec, child, now)
            log.info("spawned", task=spec.id, agent=child.agent, pid=child.process.pid)
            started += 1
        return started

    async def _claim_spawn(self, spec: TaskSpec) -> bool:
        """Mark the task as being started (pid 0) while it is still `ready`, so that no
        second start happens; False when its status moved on meanwhile."""
        record = await self.store.get(layout.run_key(spec.id))
        run = TaskRun.from_json(record.value if record else None)._replace(pid=STARTING)
        guards = [Compare(spec.status_key, "value", "==", READY)]
        if not (await self.store.txn(guards, [run_op(spec.id, run)])).succeeded:
            return False
        self.model.runs[spec.id] = run
        return True

    async def _record_spawn(self, spec: TaskSpec, child: Child, now: float) -> None:
        """Record the started agent's pid in the run record as it is now: the agent's own
        pre-task may already have written it."""
        pid = child.process.pid
        for _ in range(10):
            record = await self.store.get(layout.run_key(spec.id))
            run = TaskRun.from_json(record.value if record else None)
            run = run._replace(pid=pid, agent=run.agent or child.agent)
            guard = (
                Compare(layout.run_key(spec.id), "version", "==", 0)
                if record is None
                else Compare(record.key, "mod_rev", "==", record.mod_rev)
            )
            spawned = event_op(
                "agent_spawned",
                now,
                task=spec.id,
                agent=child.agent,
                message=spec.run or "",
                pid=pid,
            )
            if (await self.store.txn([guard], [run_op(spec.id, run), spawned])).succeeded:
                self.model.runs[spec.id] = run
                return

    def _files_busy(self, spec: TaskSpec) -> bool:
        """Whether a running task's declared files overlap this task's (run those in turn)."""
        if not spec.files:
            return False
        from coordinator.globs import globs_overlap

        running = set(self.children) | {
            task_id for task_id, status in self.model.statuses.items() if status == IN_PROGRESS
        }
        for task_id in running - {spec.id}:
            other = self.model.specs.get(task_id)
            if other is None or not other.files:
                continue
            if any(globs_overlap(a, b) for a in spec.files for b in other.files):
                return True
        return False

    def _start(self, spec: TaskSpec) -> Child:
        logs = self.db_path.resolve().parent / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_file = (logs / f"{spec.phase}.{spec.name}.log").open("ab")
        agent = spec.agent or spec.name
        env = {
            **os.environ,
            "SWARM_TASK_ID": spec.id,
            "SWARM_AGENT_ID": agent,
            "SWARM_SESSION_ID": self.model.session_of(spec),
            "SWARM_DB": str(self.db_path.resolve()),
        }
        # `run:` is a command line the plan's author wrote, so a shell runs it.
        process = subprocess.Popen(  # noqa: S602
            spec.run or "",
            shell=True,
            cwd=self.repo_root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return Child(spec.id, agent, process, log_file)

    async def _reap_adopted(self, now: float) -> int:
        """Agents started by an earlier daemon: one that has ended while its task is not
        finished failed before its post-task (its exit status is lost with that daemon)."""
        changed = 0
        for task_id, pid in list(self.adopted.items()):
            if _process_alive(pid):
                continue
            del self.adopted[task_id]
            record = await self.store.get(layout.status_key(task_id))
            if record is None or str(record.value) in TERMINAL:
                continue
            reason = f"agent process {pid} ended before post-task (started by an earlier daemon)"
            run = self.model.runs.get(task_id) or TaskRun()
            if await self._fail_unfinished(task_id, record, run, reason, run.agent, now):
                changed += 1
                log.warning("adopted agent ended", task=task_id, pid=pid)
        return changed

    async def _fail_unfinished(
        self,
        task_id: str,
        status: Record,
        run: TaskRun,
        reason: str,
        agent: str | None,
        now: float,
    ) -> bool:
        """Its agent ended before post-task: mark the task failed (if its status is still
        `status`) and tell the operator. True when written."""
        run = run._replace(reason=reason, ended_at=now)
        ops: list[WriteOp] = [
            status_op(task_id, FAILED),
            run_op(task_id, run),
            event_op("task_failed", now, task=task_id, agent=agent, message=reason),
            *self._tell(OPERATOR, reason, now, task_id, "error"),
        ]
        guard = Compare(status.key, "mod_rev", "==", status.mod_rev)
        if not (await self.store.txn([guard], ops)).succeeded:
            return False
        self.model.statuses[task_id] = FAILED
        self.model.runs[task_id] = run
        return True

    async def _await_exit(self, child: Child) -> None:
        await anyio.to_thread.run_sync(child.process.wait, abandon_on_cancel=True)
        self._wake.set()

    async def _reap_children(self, now: float) -> int:
        """Handle spawned agents that exited: a non-zero exit before post-task fails the task."""
        changed = 0
        for task_id, child in list(self.children.items()):
            code = child.process.poll()
            if code is None:
                continue
            del self.children[task_id]
            child.log_file.close()
            records = await self.store.get_many(
                [layout.status_key(task_id), layout.run_key(task_id)]
            )
            record = records.get(layout.status_key(task_id))
            status = None if record is None else str(record.value)
            log.info("agent exited", task=task_id, code=code, status=status)
            # The run record as stored now: the agent's own post-task may just have written it.
            stored_run = records.get(layout.run_key(task_id))
            run = TaskRun.from_json(stored_run.value if stored_run else None)._replace(
                exit_code=code
            )
            if code != 0 and status not in TERMINAL and record is not None:
                reason = f"agent {child.agent} exited with code {code} before post-task"
                if await self._fail_unfinished(task_id, record, run, reason, child.agent, now):
                    changed += 1
                continue
            run_guard = (
                Compare(layout.run_key(task_id), "version", "==", 0)
                if stored_run is None
                else Compare(stored_run.key, "mod_rev", "==", stored_run.mod_rev)
            )
            if (await self.store.txn([run_guard], [run_op(task_id, run)])).succeeded:
                self.model.runs[task_id] = run
        return changed


def _hours(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    if seconds >= 60:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def _inside(root: Path, name: str) -> bool:
    """Whether `name`, relative to the resolved `root`, resolves to a file inside it."""
    target = (root / name).resolve()
    return target != root and target.is_relative_to(root)


def _check_edits(store: Store, *, repo_root: Path, due: Mapping[str, float]) -> int:
    """Record an `unannounced_edit` conflict for each due path no post-edit announced."""
    found = 0
    for path, seen in due.items():
        description = check_unannounced(store, repo_root, path, seen)
        if description:
            found += 1
            log.warning("conflict", description=description)
    return found


def _epoch_guard(epoch: Record | None) -> Compare:
    # The claims epoch as it was read: a claim granted meanwhile fails the transaction.
    if epoch is None:
        return Compare(EPOCH_KEY, "version", "==", 0)
    return Compare(EPOCH_KEY, "mod_rev", "==", epoch.mod_rev)


def _release_stale_agent(store: Store, *, agent: str, ops: list[WriteOp], now: float) -> bool:
    """Commit `ops` together with the release of a silent agent's claims and queued
    requests (`release_ops`: claims epoch bumped, `claim_released` event), provided the
    agent is still unregistered. False when it has registered again."""
    absent = Compare(layout.agent_key(agent), "version", "==", 0)
    for _ in range(MAX_ATTEMPTS):
        epoch = store.get(EPOCH_KEY)
        release = release_ops(store, agent, "", now)
        if store.txn([absent, _epoch_guard(epoch)], [*ops, *release]).succeeded:
            return True
        if store.get(layout.agent_key(agent)) is not None:
            return False
    raise Refused(f"claims kept changing while releasing those of stale agent {agent}")
