"""The daemon's chores beside the tasks: granting queued claims, judging unannounced
edits (conflicts, or observations when nobody else writes the file), predicting merge
conflicts, writing the dashboards (debounced, off the passes' path), compacting the change
log and pruning old records. Each runs only when something it depends on changed or fell
due.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.to_process
import structlog

from coordinator.claims.edits import check_unannounced, edit_grace
from coordinator.claims.queue import grant_queued
from coordinator.daemon.debounce import dashboard_interval, render_due, render_gap
from coordinator.daemon.model import ChangeBatch, Host
from coordinator.daemon.retention import PRUNE_PERIOD, next_prune, prune_old_records, retention
from coordinator.views.dashboard.files import DashboardWriter, Phases, write_dashboards
from memory.backends import open_store
from memory.errors import SwarmError
from memory.store import Store

log = structlog.get_logger("swarm.daemon")

#: Seconds a stopping daemon gives its last dashboard render.
FLUSH_TIMEOUT = 10.0


class Upkeep:
    """Claims, edits, merges, dashboards and compaction, for one daemon."""

    def __init__(self, host: Host, *, dashboard: Path | None, keep_changes: int | None) -> None:
        self.host = host
        #: Compact the change log to about this many changes (None: never).
        self.keep_changes = keep_changes
        #: Work-tree paths changed on disk, and when, awaiting their post-edit.
        self.pending_edits: dict[str, float] = {}
        #: The branch heads the last merge prediction saw.
        self.merge_heads: tuple[tuple[str, str | None], ...] = ()
        #: The dashboard files: `--dashboard PATH` (every phase) and the plans' `dashboard:`.
        #: Used on the event loop only; the worker thread gets snapshots (write_dashboards).
        self.dashboards = DashboardWriter(host.repo_root, dashboard)
        #: Plans' `dashboard:` paths refused for leaving the repository (warned once each).
        self.refused_dashboards: set[str] = set()
        #: About how many changes the log holds (None: not counted yet).
        self.log_size: int | None = None
        #: How old events, notifications and edit records are pruned (checked at start).
        self.retention = retention()
        #: When the last prune ran (None: not yet; the first pass prunes).
        self.last_prune: float | None = None
        #: Whether `render_dashboards` writes the dashboards (else each pass does).
        self._deferred = False
        #: A change the dashboards may show has not been rendered yet.
        self.dashboard_pending = False
        #: What the last render in a worker process took, measured there (None: unknown).
        self.last_render_seconds: float | None = None
        self._dashboard_wake = anyio.Event()

    def wake_at(self) -> list[float]:
        """When the earliest unannounced edit falls due for its check, and the next prune."""
        moments = []
        if self.last_prune is not None:
            moments.append(self.last_prune + PRUNE_PERIOD)
        if self.pending_edits:
            moments.append(min(self.pending_edits.values()) + edit_grace())
        return moments

    async def run(self, batch: ChangeBatch, now: float, *, full: bool) -> tuple[int, int]:
        """Queued claims, due edits and merge prediction: (claims granted, merge conflicts)."""
        granted = merges = 0
        if batch.claims_changed or full:
            granted = await self.host.sync(self._grant_queued)
        if self.pending_edits and min(self.pending_edits.values()) + edit_grace() <= now:
            await self._check_due_edits(now)
        if len(self.host.model.workspaces) >= 2:
            merges = await self.host.sync(self._predict_merges)
        if next_prune(self.last_prune, now) <= now:
            await self.prune(now)
        return granted, merges

    async def prune(self, now: float) -> None:
        """Delete events, notifications and edit records older than the retention
        (`coordinator.daemon.retention`), in batches, in a worker thread."""
        self.last_prune = now
        work = partial(prune_old_records, older_than=self.retention, now=now)
        pruned = await self.host.sync(work)
        if pruned.total:
            log.info("old records pruned", **pruned._asdict(), older_than=self.retention)

    async def compact_log(self, batch: ChangeBatch, cursor: int) -> None:
        """Keep the change log near `keep_changes` entries (DESIGN: compacted by count),
        never compacting past our own cursor, so that a restart can always catch up.

        The log's size is counted once, then tracked from the changes each pass reads
        (every change passes through the daemon); it is recounted after a compaction.
        A tenth of slack keeps a busy store from compacting on every pass.
        """
        if self.keep_changes is None:
            return
        if self.log_size is None or batch.reloaded:
            self.log_size = await self.host.store.change_count()
        else:
            self.log_size += batch.logged
        if self.log_size <= self.keep_changes + self.keep_changes // 10:
            return
        point = await self.host.store.compact_keeping(self.keep_changes, max_rev=cursor)
        self.log_size = await self.host.store.change_count()
        log.info("change log compacted", through=point, cursor=cursor, kept=self.log_size)

    def defer_dashboards(self) -> None:
        """From now on passes only note that the dashboards changed; `render_dashboards`,
        run beside the loop, writes them (a one-pass run writes them within the pass)."""
        self._deferred = True

    async def dashboards_changed(self) -> None:
        """Something a dashboard shows may have changed: have it rendered soon (deferred),
        or render it now (one-pass runs and tests that drive passes by hand)."""
        if self._deferred:
            self.dashboard_pending = True
            self._dashboard_wake.set()
        else:
            await self.write_dashboards()

    async def render_dashboards(self) -> None:
        """Render the dashboards when `render_due` says, until cancelled: never on a pass's
        path (unblocking never waits for a render), at a bounded rate, and always once
        after the last change. Each render runs in a worker process, so that it holds
        neither the event loop nor its interpreter lock while passes run."""
        interval = dashboard_interval()
        last_end: float | None = None
        took = 0.0
        while True:
            now = anyio.current_time()
            due = render_due(last_end, self.dashboard_pending, now, render_gap(interval, took))
            if due is None:
                await self._dashboard_wake.wait()
                self._dashboard_wake = anyio.Event()
                continue
            if due > now:
                await anyio.sleep(due - now)
                continue
            self.dashboard_pending = False
            self.last_render_seconds = None
            await self.write_dashboards(in_process=True)
            last_end = anyio.current_time()
            # The render's own cost (a worker's start-up is not repeated by the next one).
            took = last_end - now if self.last_render_seconds is None else self.last_render_seconds

    async def flush_dashboards(self) -> None:
        """The trailing render a stopping daemon still owes, if any (shielded, bounded)."""
        if not self.dashboard_pending:
            return
        self.dashboard_pending = False
        with anyio.CancelScope(shield=True), anyio.move_on_after(FLUSH_TIMEOUT):
            await self.write_dashboards()

    async def write_dashboards(self, *, in_process: bool = False) -> None:
        """Render the dashboards in a worker thread (or process) and write those whose
        content changed."""
        plans = self.dashboard_plans()
        if not self.dashboards.wanted(plans):
            return
        try:
            # The writer's state stays on the event loop, where the work-tree watcher asks
            # it which files are ours; the worker gets copies and hands back what it wrote.
            targets = self.dashboards.targets(plans)
            known = self.dashboards.known()
            if in_process:
                contents, written, took = await anyio.to_process.run_sync(
                    render_at, self.host.db_path, targets, known
                )
                self.last_render_seconds = took
            else:
                contents, written = await self.host.sync(
                    partial(write_dashboards, targets=targets, known=known)
                )
        except (OSError, SwarmError, anyio.BrokenWorkerProcess) as err:
            # An unwritable dashboard must not stop the coordination it reports on; the
            # next change renders it again.
            message = err.message if isinstance(err, SwarmError) else str(err)
            log.warning("dashboard not written", error=message)
            return
        self.dashboards.remember(contents)
        for path in written:
            log.info("dashboard written", path=str(path))

    def dashboard_plans(self) -> dict[str, dict[str, Any]]:
        """The plans, less any `dashboard:` that leads out of the repository (plan load
        refuses those; a plan stored before it did, or a symlink, may still name one)."""
        root = self.host.repo_root.resolve()
        plans = {}
        for phase, header in self.host.model.plans.items():
            name = header.get("dashboard")
            if isinstance(name, str) and name and not _inside(root, name):
                if name not in self.refused_dashboards:
                    self.refused_dashboards.add(name)
                    log.warning("dashboard outside the repository refused", phase=phase, path=name)
                continue
            plans[phase] = header
        return plans

    def _predict_merges(self, store: Store) -> int:
        """Agents on separate branches: predict merge conflicts between their branches, but
        only when some branch moved since the last prediction (one `git rev-parse`)."""
        from coordinator.git.predict import (
            agent_branch_owners,
            predict_conflicts,
            record_merge_conflicts,
            resolve_commit,
        )

        owners = agent_branch_owners(store, self.host.repo_root)
        heads = {branch: resolve_commit(self.host.repo_root, branch) for branch in owners}
        known = sorted(branch for branch, commit in heads.items() if commit)
        signature = tuple((branch, heads[branch]) for branch in known)
        if len(known) < 2 or signature == self.merge_heads:
            return 0
        self.merge_heads = signature
        try:
            predictions = predict_conflicts(self.host.repo_root, known)
        except SwarmError as err:
            log.warning("merge prediction failed", error=err.message)
            return 0
        recorded = record_merge_conflicts(store, predictions, self.host.clock(), owners=owners)
        for pair in recorded:
            log.warning("merge conflict predicted", branches=[pair.a, pair.b], files=pair.files)
        return len(recorded)

    def _grant_queued(self, store: Store) -> int:
        granted = grant_queued(store)
        for grant in granted:
            log.info("claim granted", path=grant.claim.path, agent=grant.claim.agent)
        return len(granted)

    async def _check_due_edits(self, now: float) -> int:
        """Judge disk changes no post-edit announced within the grace period: conflicts,
        or observations of files nobody else writes.

        The due paths are taken out of `_pending_edits` here, on the event loop that adds
        to it; the worker thread sees only its own copy."""
        grace = edit_grace()
        due = {path: seen for path, seen in self.pending_edits.items() if seen + grace <= now}
        for path in due:
            del self.pending_edits[path]
        try:
            return await self.host.sync(
                partial(_check_edits, repo_root=self.host.repo_root, due=due)
            )
        except BaseException:
            for path, seen in due.items():  # not checked: keep them for the next pass
                self.pending_edits.setdefault(path, seen)
            raise

    async def watch_worktree(self, stop: anyio.Event) -> None:
        """Note every file changed in the work tree (not .git, .swarm or ignored paths)."""
        from coordinator.daemon.tree_watch import changed_paths

        async for paths in changed_paths(self.host.repo_root, stop):
            now = self.host.clock()
            for path in paths:
                if not self.dashboards.owns(path):  # our own writes are no agent's edit
                    self.pending_edits.setdefault(path, now)
            self.host.wake()


def render_at(
    db_path: Path, targets: Mapping[Path, Phases], known: Mapping[Path, str | None]
) -> tuple[dict[Path, str | None], list[Path], float]:
    """`write_dashboards` on a store of its own: what a worker process runs. Also returns
    how long the render itself took, without the worker's start-up (its first call
    imports the coordinator), which is not a cost the next render repeats."""
    started = time.perf_counter()
    with open_store(db_path, actor="swarm-daemon") as store:
        contents, written = write_dashboards(store, targets=targets, known=known)
    return contents, written, time.perf_counter() - started


def _inside(root: Path, name: str) -> bool:
    """Whether `name`, relative to the resolved `root`, resolves to a file inside it."""
    target = (root / name).resolve()
    return target != root and target.is_relative_to(root)


def _check_edits(store: Store, *, repo_root: Path, due: Mapping[str, float]) -> int:
    """Judge each due path no post-edit announced (`check_unannounced`): a conflict or an
    observation, each logged when first seen only; returns how many were recorded."""
    found = 0
    for path, seen in due.items():
        recorded = check_unannounced(store, repo_root, path, seen)
        if recorded is None:
            continue
        found += 1
        if recorded.seen > 1:
            log.debug("seen again", description=recorded.description, count=recorded.seen)
        elif recorded.conflict:
            log.warning("conflict", description=recorded.description)
        else:
            log.info("unannounced write observed", description=recorded.description)
    return found
