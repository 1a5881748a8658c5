"""The `swarm mcp` tools for an agent's tasks: task_next, task_start, task_progress,
task_finish."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from memory.store import Store

if TYPE_CHECKING:
    from coordinator.mcp.server import Caller, SwarmMCP

TaskRef = Annotated[str, Field(description="The task's id: TASK, or PHASE/TASK.")]


def add_task_tools(server: MCPServer[Any], swarm: SwarmMCP) -> None:
    """task_next, task_start, task_progress, task_finish."""

    @server.tool()
    async def task_next(
        include_others: Annotated[
            bool, Field(description="Also list ready tasks planned for other agents.")
        ] = False,
    ) -> list[dict[str, Any]]:
        """The tasks you may start now (their requirements are complete and nobody runs
        them), best first: by priority, then plan order. Call it when you are looking for
        work; then task_start the first one."""
        from coordinator.tasks.next_up import ready_tasks

        return await swarm.act(
            lambda store, caller: [
                t.to_json() for t in ready_tasks(store, caller.agent, include_others=include_others)
            ]
        )

    @server.tool()
    async def task_start(task_id: TaskRef) -> dict[str, Any]:
        """Start a task before working on it: it becomes in_progress for you. Refused (with
        what it waits on) if it is not ready or another agent runs it. Starting a task you
        already run is harmless."""
        from coordinator.tasks.start import start_task

        def start(store: Store, caller: Caller) -> dict[str, Any]:
            started = start_task(store, task_id, caller.name(), caller.session)
            return started._asdict()

        return await swarm.act(start)

    @server.tool()
    async def task_progress(
        task_id: TaskRef,
        done: Annotated[
            int | None, Field(description="Units of work done (with total).", ge=0)
        ] = None,
        total: Annotated[int | None, Field(description="Units of work in all.", ge=0)] = None,
        blocker: Annotated[str | None, Field(description="What blocks you, if anything.")] = None,
        milestone: Annotated[str | None, Field(description="A milestone just reached.")] = None,
        deliverables_done: Annotated[
            list[str] | None,
            Field(description="Deliverables of the task's plan checklist you just finished."),
        ] = None,
        metrics: Annotated[
            dict[str, Any] | None,
            Field(
                description='Numbers measured so far, e.g. {"clippy_warnings": 12}; each is '
                "stored as the key <phase>/<task>/<name>, where gates read it."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Report progress on a task you run (done out of total, deliverables ticked off the
        plan's checklist, metrics, a milestone, a blocker), so that the dashboard, the gates
        and other agents see where it stands."""
        from coordinator.tasks.start import report_progress

        def report(store: Store, caller: Caller) -> dict[str, Any]:
            progress = report_progress(
                store,
                task_id,
                done,
                total,
                blocker,
                milestone,
                caller.name(),
                metrics=metrics,
                ticked=deliverables_done or (),
            )
            return {**progress.to_json(), "percent": progress.percent}

        return await swarm.act(report)

    @server.tool()
    async def task_finish(
        task_id: TaskRef,
        status: Annotated[
            Literal["complete", "failed"], Field(description="How the task ended.")
        ] = "complete",
        summary: Annotated[str | None, Field(description="One line on what was done.")] = None,
        metrics: Annotated[
            dict[str, Any] | None,
            Field(description='Numbers the task produced, e.g. {"tests_passing": 640}.'),
        ] = None,
    ) -> dict[str, Any]:
        """Finish a task you started: record its outcome, summary and metrics, release the
        files you claimed for it, and let the tasks that depend on it start. Refused if
        another agent runs it, or (status complete) if its gates fail: the error lists each
        failed gate."""
        from coordinator.claims.grants import release_ops
        from coordinator.tasks.finish import finish_task, refuse_gate_failures

        def finish(store: Store, caller: Caller) -> dict[str, Any]:
            done = finish_task(store, task_id, status, caller.name(), summary, metrics, release_ops)
            refuse_gate_failures(done)
            return {
                "task": done.task_id,
                "status": done.status,
                "already": done.already,
                "receipt": done.receipt,
            }

        return await swarm.act(finish)
