"""The agent-facing commands: `swarm hooks pre-task | post-task | pre-edit | post-edit | ...`
and the adapters for agents' own hook protocols (`adapters/`). Thin and fast: each
turns an agent's call into one coordinator or memory call.

This module holds the commands' handlers, one function per hook, each given the parsed
call and the open store; `hooks.run` reads a call and runs its handler, and
`hooks.argparser` prints the help and the usage errors. The handlers are the package's
own module because every hook call imports it anyway: a module of their own would cost
every hook one more import.

May import: `coordinator.views` and the coordinator packages below it, the root modules and
`memory`; never `coordinator.cli`, `coordinator.mcp` or `coordinator.daemon`.
"""

from __future__ import annotations

import json
import os
import sys

from memory.errors import SwarmError

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from types import SimpleNamespace
    from typing import Any

    from memory.store import Store


def _agent(args: SimpleNamespace, required: bool = True) -> str | None:
    agent = getattr(args, "agent", None) or os.environ.get("SWARM_AGENT_ID")
    if required and not agent:
        raise SwarmError("an agent name is required: pass --agent or set SWARM_AGENT_ID")
    return agent


def _print_json(data: Any) -> None:
    # Indented on a terminal only: the C encoder, which cannot indent, is many times faster.
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(data, indent=indent, ensure_ascii=False, default=str) + "\n")


# --- handlers ----------------------------------------------------------------------------


def pre_task(args: SimpleNamespace, store: Store) -> int:
    """Start a task if it is ready; with --wait, wait for it to become ready."""
    from coordinator.errors import TaskNotReady
    from coordinator.tasks.start import start_task

    agent = _agent(args) or ""
    session = args.session_id or os.environ.get("SWARM_SESSION_ID")
    if args.wait is None:
        started = start_task(store, args.task_id, agent, session)
    else:
        from memory.watch import retry_until

        started = retry_until(
            store.path,
            args.wait,
            lambda: start_task(store, args.task_id, agent, session),
            TaskNotReady,
        )
    verb = "already in progress" if started.already else "started"
    print(f"task {started.task_id} {verb} by {agent} (rev {started.revision})")
    return 0


def post_task(args: SimpleNamespace, store: Store) -> int:
    """Record a task's outcome, receipt and timing; release the agent's claims on it."""
    from coordinator.tasks.finish import finish_task, refuse_gate_failures

    done = finish_task(
        store,
        args.task_id,
        args.status,
        _agent(args, required=False),
        args.summary,
        _metrics(args),
        _claim_release(),
        force=args.force,
        operator=_operator(args) if args.force else None,
    )
    refuse_gate_failures(done)
    note = " (already recorded)" if done.already else ""
    print(f"task {done.task_id} {done.status}{note}")
    return 0


def _metrics(args: SimpleNamespace) -> dict[str, Any] | None:
    """`--metrics` as a JSON object (NaN and Infinity refused), or None when not given."""
    if args.metrics is None:
        return None
    from memory.errors import InvalidValue
    from memory.keys import loads_json

    try:
        metrics = loads_json(args.metrics, "--metrics")
    except InvalidValue as err:
        if "NaN" in args.metrics or "Infinity" in args.metrics or "JSON number" in err.message:
            raise
        metrics = None
    if not isinstance(metrics, dict):
        raise SwarmError("--metrics must be a JSON object, e.g. '{\"throughput_ops\": 850}'")
    return metrics


def _operator(args: SimpleNamespace) -> str:
    """Who forces an outcome: the --agent named, else the OS user."""
    import getpass

    return getattr(args, "agent", None) or getpass.getuser()


def _claim_release() -> Any:
    from coordinator.claims.grants import release_ops

    return release_ops


def _repo_root(store: Store) -> str:
    from coordinator.project import project_root

    return project_root(store.location)


def _task_of(args: SimpleNamespace, store: Store, agent: str) -> str | None:
    task = getattr(args, "task", None) or os.environ.get("SWARM_TASK_ID")
    if task:
        from coordinator.layout import qualify_task

        # Claims and edits name tasks by id, as post-task does when it releases them.
        return qualify_task(store, str(task))
    from coordinator.agents.liveness import current_task

    return current_task(store, agent)


def pre_edit(args: SimpleNamespace, store: Store) -> int:
    """Claim a file (or glob) before editing it; exit 3 naming the holder if it is held."""
    from coordinator.claims.grants import normalize_path
    from coordinator.claims.queue import acquire_claim

    agent = _agent(args) or ""
    path = normalize_path(_repo_root(store), args.file)
    task = _task_of(args, store, agent)
    grant = acquire_claim(store, path, agent, task=task, mode=args.mode, wait=args.wait)
    claim = grant.claim
    verb = "renewed" if grant.renewed else "granted"
    print(f"{verb} {claim.mode} claim on {claim.path} to {agent} (fencing token {claim.token})")
    return 0


def post_edit(args: SimpleNamespace, store: Store) -> int:
    """Record an edit (who, when, file, content hash) and renew the agent's claim."""
    from coordinator.claims.edits import record_edit
    from coordinator.claims.paths import repo_path

    agent = _agent(args) or ""
    root = _repo_root(store)
    path = repo_path(root, args.file)
    result = record_edit(
        store,
        root,
        path,
        agent,
        task=_task_of(args, store, agent),
        memory_key=args.memory_key,
    )
    print(f"edit of {path} by {agent} recorded")
    for conflict in result.conflicts:
        print(f"  conflict: {conflict}", file=sys.stderr)
    for repeat in result.repeats:
        print(f"  conflict {repeat}", file=sys.stderr)
    return 0


def progress(args: SimpleNamespace, store: Store) -> int:
    """Report progress on a task: counts, ticked deliverables, metrics."""
    from coordinator.tasks.start import report_progress

    done_items: list[str] = args.done or []
    count: int | None = None
    if args.total is not None:
        if len(done_items) != 1 or not done_items[0].strip().isdigit():
            raise SwarmError("--total M goes with one --done N, a whole number")
        count, done_items = int(done_items[0]), []
    if not (done_items or args.total is not None or args.metrics or args.blocker or args.milestone):
        raise SwarmError("progress needs --done, --total, --metrics, --blocker or --milestone")
    result = report_progress(
        store,
        args.task_id,
        count,
        args.total,
        args.blocker,
        args.milestone,
        _agent(args, required=False),
        metrics=_metrics(args),
        ticked=done_items,
    )
    parts = [f"{result.done}/{result.total} ({result.percent}%)"] if result.total else []
    if done_items or result.ticked:
        parts.append(f"deliverables ticked: {len(result.ticked)}")
    print(f"progress {args.task_id}: {', '.join(parts) or 'recorded'}")
    return 0


def notify(args: SimpleNamespace, store: Store) -> int:
    """Send a notification to an agent, a task's agent, or every live agent."""
    from coordinator.agents.sessions import notify as send

    recipients = send(
        store,
        args.message,
        to=args.to,
        task=args.task,
        level=args.level,
        sender=_agent(args, required=False),
    )
    print(f"notified {', '.join(recipients) if recipients else 'nobody (no live agents)'}")
    return 0


def session_start(args: SimpleNamespace, store: Store) -> int:
    """Register the agent for a session; its lease is renewed by every hook call."""
    from coordinator.agents.sessions import start_session

    agent = _agent(args) or ""
    info = start_session(
        store,
        args.session_id,
        agent,
        branch=args.branch,
        worktree=args.worktree,
        ttl=args.ttl,
    )
    print(f"agent {info.name} registered in session {args.session_id}")
    return 0


def session_end(args: SimpleNamespace, store: Store) -> int:
    """Write the agent's session summary and release what it held."""
    from coordinator.agents.sessions import end_session

    summary = end_session(store, args.session_id, _agent(args) or "", _claim_release())
    if args.json:
        _print_json(summary)
    else:
        print(
            f"session {args.session_id} ended for {summary['agent']}: "
            f"{len(summary['tasks_done'])} task(s) done"
        )
    return 0


def session_restore(args: SimpleNamespace, store: Store) -> int:
    """The operator's view of a session (the only one, or the latest active, when none is
    named: `coordinator.views.session_choice`): tasks, waits, gates, agents, claims, events."""
    from coordinator.views.board import session_view
    from coordinator.views.session_text import render_session

    session = args.session_id
    if session is None:
        from coordinator.views.session_choice import resolve_session

        choice = resolve_session(store, None)
        if choice.note is not None:
            print(choice.note, file=sys.stderr)
        session = choice.session
    view = session_view(store, session)
    if args.json:
        _print_json(view)
    else:
        sys.stdout.write(render_session(view))
    return 0
