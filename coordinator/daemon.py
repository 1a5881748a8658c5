"""The coordinator daemon: one anyio task group that watches the store and acts.

Wake-ups come from watchfiles (a committed write touches the store's WAL file), from
spawned agents exiting, and from a timer set to the earliest of the poll interval, the
next lease expiry, the next escalation and the next retry. Each pass reads only the
changes since its cursor (persisted in the store), so an idle pass costs the same at any
store size, and a restart after `kill -9` catches up from where the last pass left off.

The decisions are not made here: each concern is a reconciler in `coordinator.reconcile`,
a pure function from the model (`coordinator.daemon_model`) and `now` to guarded writes,
which this loop reads for, commits (`_apply`) and acts on (starting agents).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any, TypeVar

import anyio
import structlog

from coordinator import layout
from coordinator.claims import grant_queued
from coordinator.daemon_model import ChangeBatch, Model
from coordinator.dashboard import DashboardWriter, write_dashboards
from coordinator.departures import commit_letting_go
from coordinator.edits import check_unannounced, edit_grace
from coordinator.processes import TOKEN_VAR, DaemonRunning, LockFile, find_token, process_alive
from coordinator.readiness import IN_PROGRESS, TERMINAL, keys_of
from coordinator.reconcile import Write
from coordinator.reconcile.escalate import escalations, next_due
from coordinator.reconcile.notices import OPERATOR, tell
from coordinator.reconcile.settle import settle
from coordinator.reconcile.spawn import STARTING, intent_write, plan_spawns
from coordinator.reconcile.supervise import agent_ended
from coordinator.state import TaskRun, event_op, run_op
from memory.aio import AsyncStore
from memory.errors import CompactedRevision, SwarmError
from memory.records import Compare, WriteOp
from memory.store import Store

log = structlog.get_logger("swarm.daemon")

T = TypeVar("T")

__all__ = ["BATCH", "OPERATOR", "STARTING", "Daemon", "DaemonRunning"]

#: Changes read per batch while catching up.
BATCH = 2000
#: How many changes the daemon keeps in the log by default (`--keep-changes`).
DEFAULT_KEEP_CHANGES = 100_000
#: A failed pass is retried after this many seconds, doubling up to `RETRY_MAX`.
RETRY_FIRST = 0.1
RETRY_MAX = 30.0
#: How often the daemon looks at agents an earlier daemon started (seconds).
ADOPTED_POLL = 2.0
#: Tests only: seconds to pause between starting an agent and recording its pid, to
#: widen the window a `kill -9` of the daemon must not turn into a second start.
SPAWN_PAUSE_VAR = "SWARM_TEST_SPAWN_PAUSE"


@dataclass
class Child:
    """An agent process the daemon started for a task."""

    task_id: str
    agent: str
    token: str
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]


@dataclass
class Adopted:
    """An agent an earlier daemon started: watched by pid until it ends."""

    pid: int
    agent: str
    token: str | None


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
        #: Agents an earlier daemon started, by task, watched until they end.
        self.adopted: dict[str, Adopted] = {}
        self._wake = anyio.Event()
        self._stop = anyio.Event()
        self._store: AsyncStore | None = None
        self._next_expiry: float | None = None
        self._next_deadline: float | None = None
        self._next_retry: float | None = None
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
        lock = LockFile(self.db_path.resolve().parent / "daemon.lock")
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
                    group.start_soon(self._handle_signals, group.cancel_scope)
                    if self.watch_worktree:
                        group.start_soon(self._watch_worktree)
                    # The watcher is live before we say so; its first wake-up triggers a
                    # pass that picks up whatever changed since the catch-up above.
                    try:
                        await group.start(self._watch_store)
                        log.info("watching", store=str(self.db_path), interval=self.interval)
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

    def _timeout(self, now: float) -> float:
        moments = [now + self.interval]
        if self.adopted:
            # Not our children: their exit is seen only by looking.
            moments.append(now + ADOPTED_POLL)
        if self._pending_edits:
            moments.append(min(self._pending_edits.values()) + edit_grace())
        for moment in (self._next_expiry, self._next_deadline, self._next_retry):
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

    # --- the model -----------------------------------------------------------------------

    async def _load(self) -> None:
        """Read plans, specs, statuses, runs and the cursor from the store; find the
        agents an earlier daemon started."""
        store = self.store
        cursor = await store.get(layout.DAEMON_CURSOR)
        self.cursor = int(cursor.value) if cursor and isinstance(cursor.value, int) else 0
        model = Model.from_records(
            await store.list_prefix(layout.PLANS),
            await store.list_prefix(layout.TASKS),
            await store.list_prefix(layout.AGENTS),
        )
        statuses = await store.get_many(spec.status_key for spec in model.specs.values())
        for task_id, spec in model.specs.items():
            found = statuses.get(spec.status_key)
            model.statuses[task_id] = None if found is None else str(found.value)
        self.model = model
        self._next_expiry = await store.next_expiry()
        await self._adopt(self.clock())

    async def _adopt(self, now: float) -> None:
        """Watch the agents a previous daemon (killed or restarted) started. One whose
        intent was recorded but not its pid is found by its start token: adopted, never
        started twice."""
        self.adopted = {}
        for task_id, run in self.model.runs.items():
            status = self.model.statuses.get(task_id)
            if task_id in self.children or status in TERMINAL or run.exit_code is not None:
                continue
            agent = run.agent or task_id.rsplit("/", 1)[-1]
            if run.pid == STARTING and run.live and run.token:
                pid = find_token(run.token)
                if pid is not None:
                    await self._record_pid(task_id, run.token, pid, now, "agent_adopted")
                    log.info("agent adopted", task=task_id, pid=pid)
                    self.adopted[task_id] = Adopted(pid, agent, run.token)
                elif status == IN_PROGRESS:
                    # Started (its pre-task ran) and ended while no daemon watched.
                    self.adopted[task_id] = Adopted(STARTING, agent, run.token)
            elif run.pid is not None and run.pid != STARTING:
                self.adopted[task_id] = Adopted(run.pid, agent, run.token)

    async def _apply(self, write: Write, now: float, gone: tuple[str, str] | None = None) -> bool:
        """Commit one reconciler's write (with an agent letting go of what it held, when
        `gone` names it and why); update the model. False when a guard failed."""
        if gone is None:
            done = (await self.store.txn(list(write.guards), list(write.ops))).succeeded
        else:
            agent, reason = gone
            work = partial(
                commit_letting_go,
                agent=agent,
                reason=reason,
                guards=write.guards,
                ops=write.ops,
                now=now,
            )
            done = await self._sync(work)
        if not done:
            # Someone changed the task meanwhile; their change wakes us for another look.
            return False
        self.model.statuses.update(write.statuses)
        self.model.runs.update(write.runs)
        if write.log is not None:
            event, fields = write.log
            log.info(event, **fields)
        return True

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
            self._next_deadline = next_due(self.model.specs, self.model.statuses, self.model.runs)
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
        if len(self.model.workspaces) >= 2:
            stats.merge_conflicts = await self._sync(self._predict_merges)
        if self.children:
            stats.transitions += await self._reap_children(now)
        if self.adopted:
            stats.transitions += await self._reap_adopted(now)
        if self.model.runnable:
            stats.spawned = await self._spawn(now)
        # After spawning: a task just started, or just held back, escalates accordingly.
        if full:
            self._next_deadline = next_due(self.model.specs, self.model.statuses, self.model.runs)
        if self._next_deadline is not None and self._next_deadline <= now:
            stats.escalated = await self._escalate(now)
            self._next_deadline = next_due(self.model.specs, self.model.statuses, self.model.runs)

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
                if change.key != layout.DAEMON_CURSOR:
                    batch.add(change, self.model.absorb(change))
            if len(changes) < BATCH:
                batch.cursor = max(batch.cursor, revision)
                return batch
            rev, seq = changes[-1].rev, changes[-1].seq

    # --- reconcilers ---------------------------------------------------------------------

    async def _settle(self, task_id: str, now: float, *, gate_check: bool) -> bool:
        """Bring one task's status in line with its readiness; True when it changed."""
        spec = self.model.specs.get(task_id)
        if spec is None:
            return False
        keys = {spec.status_key, layout.run_key(task_id), *keys_of(spec)}
        records = await self.store.get_many(keys)
        values = {k: r.value for k, r in records.items()}
        run = TaskRun.from_json(values.get(layout.run_key(task_id)))
        write = settle(spec, records.get(spec.status_key), run, values, now, gate_check=gate_check)
        return write is not None and await self._apply(write, now)

    async def _escalate(self, now: float) -> int:
        """Escalate, once each, tasks past their deadline or late to start."""
        count = 0
        for write in escalations(self.model.specs, self.model.statuses, self.model.runs, now):
            if await self._apply(write, now):
                count += 1
        return count

    async def _agent_stale(self, agent: str, now: float) -> bool:
        """An agent's lease ran out: flag its running tasks stalled and let go of all it
        held, in one transaction. Returns False when the agent has registered again since:
        the expiry is old news (read while catching up) and its work is live."""
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
        ops += tell(OPERATOR, message, now, stalled[0] if stalled else "", "warn")
        absent = Compare(layout.agent_key(agent), "version", "==", 0)
        write = Write((absent,), tuple(ops), runs=runs)
        if not await self._apply(write, now, gone=(agent, f"liveness lease of {agent} expired")):
            log.info("agent back before its expiry was handled", agent=agent)
            return False
        log.warning("agent stale", agent=agent, stalled=stalled)
        return True

    # --- spawning and supervising agents -------------------------------------------------

    async def _spawn(self, now: float) -> int:
        """Start the `run:` command of ready tasks, up to --max-agents at once; record why
        the others wait."""
        model = self.model
        plan = plan_spawns(
            (model.specs[t] for t in model.runnable),
            model.specs,
            model.statuses,
            model.runs,
            set(self.children) | set(self.adopted),
            self.max_agents,
            now,
        )
        self._next_retry = plan.next_retry
        for hold in plan.holds:
            await self._apply(hold, now)
        started = 0
        for spec in plan.start:
            token = secrets.token_hex(8)
            run = model.runs.get(spec.id) or TaskRun()
            if not await self._apply(intent_write(spec, run, now, token), now):
                continue
            child = self._start(spec, token)
            self.children[spec.id] = child
            if self._group is not None:
                self._group.start_soon(self._await_exit, child)
            pause = float(os.environ.get(SPAWN_PAUSE_VAR) or 0)
            if pause:
                await anyio.sleep(pause)
            await self._record_pid(spec.id, token, child.process.pid, now, "agent_spawned")
            log.info("spawned", task=spec.id, agent=child.agent, pid=child.process.pid)
            started += 1
        return started

    async def _record_pid(self, task_id: str, token: str, pid: int, now: float, event: str) -> None:
        """Record a started (or adopted) agent's pid in the run record as it is now: the
        agent's own pre-task may already have written it. Only for the attempt `token`
        names."""
        for _ in range(10):
            record = await self.store.get(layout.run_key(task_id))
            run = TaskRun.from_json(record.value if record else None)
            if run.token != token:
                return
            run = run._replace(pid=pid)
            guard = (
                Compare(layout.run_key(task_id), "version", "==", 0)
                if record is None
                else Compare(record.key, "mod_rev", "==", record.mod_rev)
            )
            spec = self.model.specs.get(task_id)
            noted = event_op(
                event,
                now,
                task=task_id,
                agent=run.agent,
                message=(spec.run if spec else None) or "",
                pid=pid,
                attempt=run.attempt,
            )
            if (await self.store.txn([guard], [run_op(task_id, run), noted])).succeeded:
                self.model.runs[task_id] = run
                return

    def _start(self, spec: Any, token: str) -> Child:
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
            TOKEN_VAR: token,
        }
        env.pop(SPAWN_PAUSE_VAR, None)
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
        return Child(spec.id, agent, token, process, log_file)

    async def _await_exit(self, child: Child) -> None:
        await anyio.to_thread.run_sync(child.process.wait, abandon_on_cancel=True)
        self._wake.set()

    async def _reap_children(self, now: float) -> int:
        """Spawned agents that exited: one that ended before its post-task died (its task
        is retried or failed, and it lets go of everything it held at once)."""
        changed = 0
        for task_id, child in list(self.children.items()):
            code = child.process.poll()
            if code is None:
                continue
            del self.children[task_id]
            child.log_file.close()
            log.info("agent exited", task=task_id, code=code)
            if await self._ended(task_id, child.agent, child.token, code, child.process.pid, now):
                changed += 1
        return changed

    async def _reap_adopted(self, now: float) -> int:
        """Agents started by an earlier daemon that have ended (their exit status is lost
        with that daemon)."""
        changed = 0
        for task_id, adopted in list(self.adopted.items()):
            if adopted.pid > 0 and process_alive(adopted.pid):
                continue
            del self.adopted[task_id]
            log.warning("adopted agent ended", task=task_id, pid=adopted.pid)
            if await self._ended(task_id, adopted.agent, adopted.token, None, adopted.pid, now):
                changed += 1
        return changed

    async def _ended(
        self, task_id: str, agent: str, token: str | None, code: int | None, pid: int, now: float
    ) -> bool:
        """Apply what an agent's end means for its task; True when the task moved."""
        spec = self.model.specs.get(task_id)
        if spec is None:
            return False
        records = await self.store.get_many([spec.status_key, layout.run_key(task_id)])
        ended = agent_ended(
            spec,
            records.get(spec.status_key),
            records.get(layout.run_key(task_id)),
            token=token,
            agent=agent,
            code=code,
            pid=pid,
            now=now,
        )
        if ended.write is None:
            return False
        gone = None if ended.gone is None else (agent, ended.gone)
        return await self._apply(ended.write, now, gone) and gone is not None


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
