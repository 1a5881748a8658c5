"""The daemon's supervision of agents: starting the `run:` agents of ready tasks
(exactly once, with a start token), watching them (and those an earlier daemon started)
until they end, and letting go of what a dead or silent agent held.

The decisions are the pure reconcilers `coordinator.daemon.reconcile.spawn` and
`coordinator.daemon.reconcile.supervise`; this is the shell that starts processes and commits.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from typing import IO

import anyio
import structlog

from coordinator import layout
from coordinator.agents.processes import TOKEN_VAR, find_token, process_start, same_process
from coordinator.daemon.model import Host
from coordinator.daemon.reconcile.spawn import STARTING, intent_write, plan_spawns
from coordinator.daemon.reconcile.supervise import agent_ended, agent_went_silent
from coordinator.plans.readiness import BLOCKED, IN_PROGRESS, TERMINAL
from coordinator.plans.spec import TaskSpec
from coordinator.state import TaskRun, event_op, run_op
from memory.records import Compare

log = structlog.get_logger("swarm.daemon")

#: How often the daemon looks at agents an earlier daemon started (seconds).
ADOPTED_POLL = 2.0
#: Tests only: seconds to pause between starting an agent and recording its pid, to
#: widen the window a `kill -9` of the daemon must not turn into a second start.
SPAWN_PAUSE_VAR = "SWARM_TEST_SPAWN_PAUSE"
#: How the attempt before ended, given to the agent of a retry.
RETRY_REASON_VAR = "SWARM_RETRY_REASON"


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
    #: Known to have ended already (its pid names no process, or another one).
    ended: bool = False
    #: When that process started (see `processes.process_start`): a pid reused by a later
    #: process is an agent that ended, not one still running.
    started: int | None = None


class Supervisor:
    """The agents the daemon started or adopted, and what their ends mean."""

    def __init__(self, host: Host, max_agents: int) -> None:
        self.host = host
        self.max_agents = max_agents
        self.children: dict[str, Child] = {}
        #: Agents an earlier daemon started, by task, watched until they end.
        self.adopted: dict[str, Adopted] = {}
        #: When the earliest retry falls due (the daemon wakes then).
        self.next_retry: float | None = None

    def wake_at(self, now: float) -> list[float]:
        """Moments the daemon must wake for: a retry falling due, a look at adopted
        agents (not our children: their exit is seen only by looking)."""
        moments = [] if self.next_retry is None else [self.next_retry]
        if self.adopted:
            moments.append(now + ADOPTED_POLL)
        return moments

    async def run(self, now: float) -> tuple[int, int]:
        """Reap ended agents, then start those of ready tasks: (transitions, started)."""
        transitions = started = 0
        if self.children:
            transitions += await self.reap_children(now)
        if self.adopted:
            transitions += await self.reap_adopted(now)
        if self.host.model.runnable:
            started = await self.spawn(now)
        return transitions, started

    async def adopt(self, now: float) -> None:
        """Watch the agents a previous daemon (killed or restarted) started. One whose
        intent was recorded but not its pid is found by its start token: adopted, never
        started twice."""
        self.adopted = {}
        for task_id, run in self.host.model.runs.items():
            status = self.host.model.statuses.get(task_id)
            if task_id in self.children or status in TERMINAL or run.exit_code is not None:
                continue
            agent = run.agent or task_id.rsplit("/", 1)[-1]
            if run.pid == STARTING and run.live and run.token:
                pid = find_token(run.token)
                if pid is not None:
                    await self._record_pid(task_id, run.token, pid, now, "agent_adopted")
                    log.info("agent adopted", task=task_id, pid=pid)
                    self.adopted[task_id] = Adopted(
                        pid, agent, run.token, started=process_start(pid)
                    )
                elif status == IN_PROGRESS or (status == BLOCKED and run.blocked_kind == "gates"):
                    # Started (its pre-task ran) and ended while no daemon watched.
                    self.adopted[task_id] = Adopted(STARTING, agent, run.token, ended=True)
            elif run.pid is not None and run.pid != STARTING:
                # A pid now naming another process (reused) is an agent that ended.
                ended = not same_process(run.pid, run.pid_start)
                self.adopted[task_id] = Adopted(run.pid, agent, run.token, ended, run.pid_start)

    async def agent_stale(self, agent: str, now: float) -> bool:
        """An agent's lease ran out: flag its running tasks stalled and let go of all it
        held, in one transaction. Returns False when the agent has registered again since:
        the expiry is old news (read while catching up) and its work is live."""
        if await self.host.store.get(layout.agent_key(agent)) is not None:
            log.info("agent back before its expiry was handled", agent=agent)
            return False
        model = self.host.model
        write = agent_went_silent(agent, model.statuses, model.runs, now)
        if not await self.host.apply(
            write, now, gone=(agent, f"liveness lease of {agent} expired")
        ):
            log.info("agent back before its expiry was handled", agent=agent)
            return False
        log.warning("agent stale", agent=agent, stalled=sorted(write.runs))
        return True

    async def spawn(self, now: float) -> int:
        """Start the `run:` command of ready tasks, up to --max-agents at once; record why
        the others wait."""
        model = self.host.model
        plan = plan_spawns(
            (model.specs[t] for t in model.runnable),
            model.specs,
            model.statuses,
            model.runs,
            set(self.children) | set(self.adopted),
            self.max_agents,
            now,
        )
        self.next_retry = plan.next_retry
        for hold in plan.holds:
            await self.host.apply(hold, now)
        started = 0
        for spec in plan.start:
            token = secrets.token_hex(8)
            run = model.runs.get(spec.id) or TaskRun()
            intent = intent_write(spec, run, now, token)
            if not await self.host.apply(intent, now):
                continue
            child = self._start(spec, token, intent.runs[spec.id].retry_reason)
            self.children[spec.id] = child
            self.host.start_soon(self._await_exit, child)
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
            record = await self.host.store.get(layout.run_key(task_id))
            run = TaskRun.from_json(record.value if record else None)
            if run.token != token:
                return
            run = run._replace(pid=pid, pid_start=process_start(pid))
            guard = Compare.unchanged(layout.run_key(task_id), record)
            spec = self.host.model.specs.get(task_id)
            noted = event_op(
                event,
                now,
                task=task_id,
                agent=run.agent,
                message=(spec.run if spec else None) or "",
                pid=pid,
                attempt=run.attempt,
            )
            if (await self.host.store.txn([guard], [run_op(task_id, run), noted])).succeeded:
                self.host.model.runs[task_id] = run
                return

    def _start(self, spec: TaskSpec, token: str, retry_reason: str | None) -> Child:
        logs = self.host.db_path.resolve().parent / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_file = (logs / f"{spec.phase}.{spec.name}.log").open("ab")
        agent = spec.agent or spec.name
        env = {
            **os.environ,
            "SWARM_TASK_ID": spec.id,
            "SWARM_AGENT_ID": agent,
            "SWARM_SESSION_ID": self.host.model.session_of(spec),
            "SWARM_DB": str(self.host.db_path.resolve()),
            TOKEN_VAR: token,
        }
        env.pop(SPAWN_PAUSE_VAR, None)
        env.pop(RETRY_REASON_VAR, None)
        if retry_reason:
            env[RETRY_REASON_VAR] = retry_reason
        # `run:` is a command line the plan's author wrote, so a shell runs it.
        process = subprocess.Popen(  # noqa: S602
            spec.run or "",
            shell=True,
            cwd=self.host.repo_root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return Child(spec.id, agent, token, process, log_file)

    def watch_exits(self) -> None:
        """Watch the exit of every child (those started before the daemon's task group
        existed, in its catch-up pass): an exit wakes the daemon at once."""
        for child in self.children.values():
            self.host.start_soon(self._await_exit, child)

    async def _await_exit(self, child: Child) -> None:
        await anyio.to_thread.run_sync(child.process.wait, abandon_on_cancel=True)
        self.host.wake()

    async def reap_children(self, now: float) -> int:
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

    async def reap_adopted(self, now: float) -> int:
        """Agents started by an earlier daemon that have ended (their exit status is lost
        with that daemon)."""
        changed = 0
        for task_id, adopted in list(self.adopted.items()):
            if not adopted.ended and same_process(adopted.pid, adopted.started):
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
        spec = self.host.model.specs.get(task_id)
        if spec is None:
            return False
        records = await self.host.store.get_many([spec.status_key, layout.run_key(task_id)])
        run_record = records.get(layout.run_key(task_id))
        run = TaskRun.from_json(None if run_record is None else run_record.value)
        attempt_record = await self.host.store.get(layout.attempt_key(task_id, run.attempt))
        ended = agent_ended(
            spec,
            records.get(spec.status_key),
            run_record,
            attempt_record,
            token=token,
            agent=agent,
            code=code,
            pid=pid,
            now=now,
        )
        if ended.write is None:
            return False
        gone = None if ended.gone is None else (agent, ended.gone)
        return await self.host.apply(ended.write, now, gone) and gone is not None
