"""The coordinator daemon: one anyio task group that watches the store and acts.

Wake-ups come from watchfiles (a committed write touches the store's WAL file), from
spawned agents exiting, and from a timer set to the earliest of the poll interval, the
next lease expiry, the next escalation and the next retry. Each pass reads only the
changes since its cursor (persisted in the store), so an idle pass costs the same at any
store size, and a restart after `kill -9` catches up from where the last pass left off.

This loop decides nothing itself. Each concern is a reconciler in `coordinator.daemon.reconcile`
(a pure function from the model, `coordinator.daemon.model`, and `now` to guarded
writes); the loop reads for them and commits their writes (`apply`). Agents are started
and watched by `coordinator.daemon.agents`; claims, edits, merges, dashboards and
compaction are `coordinator.daemon.upkeep`.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio
import structlog

from coordinator import layout
from coordinator.daemon.agents import SPAWN_PAUSE_VAR, Supervisor
from coordinator.daemon.departures import commit_letting_go
from coordinator.daemon.model import (
    BATCH,
    ChangeBatch,
    Model,
    load_model,
    read_changes,
    settle_tasks,
)
from coordinator.daemon.reconcile import Write
from coordinator.daemon.reconcile.escalate import escalations, next_due
from coordinator.daemon.reconcile.notices import OPERATOR
from coordinator.daemon.reconcile.spawn import STARTING
from coordinator.daemon.upkeep import Upkeep
from memory.aio import AsyncStore
from memory.backends import open_async_store, open_store
from memory.errors import CompactedRevision, SwarmError
from memory.locator import describe
from memory.lock import daemon_lock
from memory.store import Store

log = structlog.get_logger("swarm.daemon")

T = TypeVar("T")

__all__ = ["BATCH", "OPERATOR", "SPAWN_PAUSE_VAR", "STARTING", "Daemon"]

#: How many changes the daemon keeps in the log by default (`--keep-changes`).
DEFAULT_KEEP_CHANGES = 100_000
#: A failed pass is retried after this many seconds, doubling up to `RETRY_MAX`.
RETRY_FIRST = 0.1
RETRY_MAX = 30.0


async def stop_on_signals(scope: anyio.CancelScope) -> None:
    """Cancel `scope` on the first SIGTERM or SIGINT."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("stopping", signal=signal.Signals(signum).name)
            scope.cancel()
            return


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
        self.watch_worktree = watch_worktree
        self.repo_root = repo_root
        self.interval = interval
        self.clock = clock
        self.model = Model()
        self.cursor = 0
        self.agents = Supervisor(self, max_agents)
        self.upkeep = Upkeep(self, dashboard=dashboard, keep_changes=keep_changes)
        self._wake = anyio.Event()
        self._stop = anyio.Event()
        self._store: AsyncStore | None = None
        self._next_expiry: float | None = None
        self._next_deadline: float | None = None
        self._group: anyio.abc.TaskGroup | None = None
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

    def wake(self) -> None:
        """Ask for another pass soon."""
        self._wake.set()

    def start_soon(self, func: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        """Run `func(*args)` in the daemon's task group (not in a one-pass run)."""
        if self._group is not None:
            self._group.start_soon(func, *args)

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
            self._store = await open_async_store(self.db_path, actor="swarm-daemon")
            try:
                if not once:
                    # Rendered beside the loop (once its task group runs), off every pass.
                    self.upkeep.defer_dashboards()
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
                    group.start_soon(stop_on_signals, group.cancel_scope)
                    group.start_soon(self.upkeep.render_dashboards)
                    # Agents the catch-up pass started, before there was a group to
                    # watch their exit in.
                    self.agents.watch_exits()
                    if self.watch_worktree:
                        group.start_soon(self.upkeep.watch_worktree, self._stop)
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
                await self.upkeep.flush_dashboards()
                await self.store.close()
                self._store = None
        finally:
            lock.release()

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
        moments = [now + self.interval, *self.agents.wake_at(now), *self.upkeep.wake_at()]
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

    # --- the model -----------------------------------------------------------------------

    async def _load(self) -> None:
        """Read plans, specs, statuses, runs and the cursor from the store; find the
        agents an earlier daemon started."""
        store = self.store
        cursor = await store.get(layout.DAEMON_CURSOR)
        self.cursor = int(cursor.value) if cursor and isinstance(cursor.value, int) else 0
        self.model = await load_model(store)
        self._next_expiry = await store.next_expiry()
        await self.agents.adopt(self.clock())

    async def apply(self, write: Write, now: float, gone: tuple[str, str] | None = None) -> bool:
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
            done = await self.sync(work)
        if not done:
            # Someone changed the task meanwhile; their change wakes us for another look.
            return False
        self.model.statuses.update(write.statuses)
        self.model.runs.update(write.runs)
        if write.log is not None:
            event, fields = write.log
            log.info(event, **fields)
        return True

    async def sync(self, work: Callable[[Store], T]) -> T:
        """Run work written for the sync store (claims, edits) in a worker thread, with a
        connection of its own: one implementation serves the hooks and the daemon.

        `work` gets its inputs as arguments and returns its results: it must not touch
        state the event loop uses meanwhile (the work-tree watcher keeps running)."""

        def run() -> T:
            with open_store(self.db_path, actor="swarm-daemon") as store:
                return work(store)

        return await anyio.to_thread.run_sync(run)

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
            if await self.agents.agent_stale(agent, now):
                stats.stale += 1
        # Gate checks go first: a dependent settled before its requirement's failing gate
        # was checked would be marked ready (and notified, or spawned) on a stale `complete`.
        order = sorted(affected, key=lambda t: (t not in batch.completed, t))
        stats.transitions += await settle_tasks(self, order, batch.completed, now)
        await self._housekeeping(stats, batch, now, full=full)
        if full or any(vars(stats).values()):  # an idle pass renders nothing
            await self.upkeep.dashboards_changed()
        self.cursor = batch.cursor
        if stats.changes or batch.reloaded:
            # Persist only after real work: the cursor's own write is skipped above, so
            # writing it on every pass would wake the daemon forever.
            await store.put(layout.DAEMON_CURSOR, batch.cursor)
            self._next_deadline = next_due(self.model.specs, self.model.statuses, self.model.runs)
            await self.upkeep.compact_log(batch, self.cursor)
        return stats

    async def _housekeeping(
        self, stats: PassStats, batch: ChangeBatch, now: float, *, full: bool
    ) -> None:
        """Claims, unannounced edits, merge prediction, agents, then escalations; each
        step runs only when something it depends on changed or fell due."""
        stats.granted, stats.merge_conflicts = await self.upkeep.run(batch, now, full=full)
        transitions, stats.spawned = await self.agents.run(now)
        stats.transitions += transitions
        # After spawning: a task just started, or just held back, escalates accordingly.
        model = self.model
        if full:
            self._next_deadline = next_due(model.specs, model.statuses, model.runs)
        if self._next_deadline is not None and self._next_deadline <= now:
            # Each late task once: an escalation is recorded in its run record.
            for write in escalations(model.specs, model.statuses, model.runs, now):
                if await self.apply(write, now):
                    stats.escalated += 1
            self._next_deadline = next_due(model.specs, model.statuses, model.runs)

    async def _catch_up(self) -> ChangeBatch:
        """The changes since the cursor; when the log before them has been compacted away
        (`swarm memory compact`, an exact import), the model rebuilt from the keys instead."""
        try:
            return await read_changes(self.store, self.model, self.cursor)
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
