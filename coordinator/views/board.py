"""What operators read: the session view behind `session-restore` and `plan show`, and the
dashboard view behind `status`, the daemon's dashboard file and `swarm top`.

`session_view` and `dashboard_view` gather plain JSON (that is `--json`);
`coordinator.views.session_text.render_session` and
`coordinator.views.dashboard.render.render_dashboard` turn the same data into text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coordinator import layout
from coordinator.agents.sessions import live_agents
from coordinator.bulk import bulk_allocation
from coordinator.plans.readiness import assess, describe_wait, evaluate_gates
from coordinator.plans.spec import TaskSpec, priority_rank
from coordinator.state import Event, Notification, Progress, TaskRun
from coordinator.tasks.start import plan_phases
from coordinator.tasks.states import read_task_states
from memory.errors import SwarmError
from memory.store import Store

RECENT_EVENTS = 15
#: How many of the latest events the session view searches for incidents.
INCIDENT_WINDOW = 2000
#: Events the dashboard shows.
DASHBOARD_EVENTS = 20


def task_row(
    spec: TaskSpec,
    status: str | None,
    run: TaskRun,
    progress: Progress | None,
    values: Mapping[str, Any],
    now: float,
    *,
    waits: bool = True,
) -> dict[str, Any]:
    """One task as plain JSON: status, agent, timing, progress, waits and gates (pure).

    `values` holds the current value of every key the task's rules read (`keys_of`).
    Without `waits`, what a task waits on is not judged (`waits_on` is empty).
    """
    end = run.ended_at or (now if run.started_at else None)
    gates = [
        {
            "gate": r.condition.text,
            "passes": r.holds,
            "current": r.current,
            "reason": r.observed,
        }
        for r in evaluate_gates(spec, values)
    ]
    # Only a task that has not started waits on anything.
    waiting = status in (None, "pending", "ready", "blocked")
    waits_on = [describe_wait(w) for w in assess(spec, values).waits] if waits and waiting else []
    ticked = progress.ticked if progress is not None else ()
    finished = status == "complete"
    return {
        "task": spec.id,
        "phase": spec.phase,
        "name": spec.name,
        "title": spec.title,
        "status": status,
        "agent": run.agent or spec.agent,
        "ready_at": run.ready_at,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "duration": None if run.started_at is None or end is None else end - run.started_at,
        "progress": None if progress is None else progress.to_json(),
        "requires": list(spec.requires),
        "optional": list(spec.optional),
        "when": [c.text for c in spec.when],
        "waits_on": waits_on,
        # Why the daemon does not start a ready task: files overlap, --max-agents, a retry.
        "held": run.held if status == "ready" else None,
        "attempt": run.attempt,
        "retry_at": run.retry_at if status == "ready" else None,
        "skipped": run.skipped,
        # A complete task's old blockers and gate refusals are history, not its state.
        "reason": None if finished else run.reason,
        "stalled": run.stalled,
        "escalated_at": run.escalated_at,
        "gates": gates,
        "files": list(spec.files),
        "deadline": spec.deadline,
        "description": spec.description,
        "priority": spec.priority,
        "branch": spec.branch,
        "team": spec.team,
        "deliverables": [{"item": item, "done": item in ticked} for item in spec.deliverables],
    }


def task_rows(store: Store, phase: str) -> list[dict[str, Any]]:
    """Every task of a phase with status, agent, timing, progress, waits and gates, most
    urgent first (P0 to P3, then tasks without a priority)."""
    return phases_task_rows(store, [phase])


def phases_task_rows(
    store: Store, phases: list[str], *, waits: bool = True
) -> list[dict[str, Any]]:
    """Every task of `phases`, phase by phase, read at once (`read_task_states`); in a
    phase, most urgent first (P0 to P3, then tasks without a priority). Without `waits`,
    rows leave out what tasks wait on (see `task_row`)."""
    now = store.clock()
    order = {phase: i for i, phase in enumerate(phases)}
    states = sorted(
        read_task_states(store, phases),
        key=lambda sv: (order.get(sv[0].spec.phase, len(order)), priority_rank(sv[0].spec)),
    )
    return [
        task_row(state.spec, state.status, state.run, state.progress, values, now, waits=waits)
        for state, values in states
    ]


def phases_of_session(store: Store, session: str) -> list[str]:
    """The phases whose plan names `session` (or whose phase is called `session`)."""
    phases = [
        phase
        for phase, header in plan_phases(store).items()
        if header.get("session") == session or phase == session
    ]
    if not phases:
        raise SwarmError(f"no plan is loaded for session {session!r}; run `swarm plan load`")
    return sorted(phases)


def phase_progress(phases: list[str], tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Done out of total, and the whole percent done, for each phase (pure)."""
    rows = []
    for phase in phases:
        statuses = [t["status"] for t in tasks if t["phase"] == phase]
        done = statuses.count("complete")
        total = len(statuses)
        rows.append(
            {
                "phase": phase,
                "complete": done,
                "tasks": total,
                "percent": int(100 * done / total) if total else 0,
            }
        )
    return rows


def _in_phases(task: object, phases: set[str] | None) -> bool:
    """Whether a record about `task` (a `phase/task` id or None) belongs to `phases`."""
    if phases is None or not isinstance(task, str) or "/" not in task:
        return True
    return task.split("/")[0] in phases


def _board(
    store: Store,
    plans: dict[str, dict[str, Any]],
    phases: list[str],
    *,
    recent: int,
    only: set[str] | None,
) -> dict[str, Any]:
    """What the session view and the dashboard share: tasks, progress, agents, claims,
    open conflicts, observations, refused edits, escalations and recent events (records of
    other phases left out when `only` names the phases)."""
    from coordinator.claims.conflicts import list_conflicts, list_observations
    from coordinator.claims.denials import denial_summary, read_denials

    tasks = phases_task_rows(store, phases)
    live = {a.name: a for a in live_agents(store)}
    busy = {t["agent"] for t in tasks if t["status"] == "in_progress" and t["agent"]}
    gone = {
        r.key[len(layout.GONE) :]: r.value
        for r in store.list_prefix(layout.GONE)
        if isinstance(r.value, dict)
    }
    agents = [
        {
            "agent": name,
            "live": name in live,
            "session": live[name].session if name in live else None,
            "branch": live[name].branch if name in live else None,
            # Died or went silent, and let go of what it held (not while live again).
            "gone": None if name in live else (gone.get(name) or {}).get("reason"),
        }
        for name in sorted(set(live) | busy | set(gone))
    ]
    # Read further back when filtering by phase, so that other phases' events do not crowd
    # this one's out of the last `recent`.
    window = recent if only is None else recent * 10
    events = [
        event
        for r in store.last_in_prefix(layout.EVENTS, window)
        if _in_phases((event := Event.from_json(r.value).to_json())["task"], only)
    ][-recent:]
    escalated = [
        r.value
        for r in store.list_prefix(layout.ESCALATIONS)
        if isinstance(r.value, dict) and _in_phases(r.value.get("task"), only)
    ]
    status_of = {t["task"]: t["status"] for t in tasks} if escalated else {}
    escalations = [
        # An escalation of a task that has since completed is resolved, not a live problem.
        {**e, "resolved": status_of.get(e.get("task")) == "complete"}
        for e in escalated
    ]
    claims = [
        r.value
        for r in store.list_prefix(layout.CLAIMS)
        if isinstance(r.value, dict) and _in_phases(r.value.get("task"), only)
    ]
    conflicts = [c.to_json() for c in list_conflicts(store, open_only=True)]
    progress = phase_progress(phases, tasks)
    return {
        "phases": phases,
        "plans": {
            phase: {
                field: plans.get(phase, {}).get(field)
                for field in ("session", "dashboard", "baseline", "final", "title", "description")
            }
            for phase in phases
        },
        "summary": {"tasks": len(tasks), "complete": sum(p["complete"] for p in progress)},
        "progress": progress,
        "tasks": tasks,
        "agents": agents,
        "claims": claims,
        "conflicts": conflicts,
        # Unannounced writes to files no agent writes: not conflicts, shown apart.
        "observations": list_observations(store),
        # Edits refused because of a claim: the total and per path (one record per agent
        # and path, so this costs a read of those records, never of the event log).
        "denials": denial_summary(read_denials(store), only),
        "escalations": escalations,
        "events": events,
    }


def session_view(store: Store, session: str | None) -> dict[str, Any]:
    """Everything an operator needs about a session (all phases when `session` is None)."""
    now = store.clock()
    with bulk_allocation(), store.reading():  # one consistent state for every part of the view
        plans = plan_phases(store)
        phases = sorted(plans) if session is None else phases_of_session(store, session)
        board = _board(store, plans, phases, recent=RECENT_EVENTS, only=None)
        notes = []
        for record in store.list_prefix(layout.INBOX):
            note = Notification.from_json(record.value)
            if not note.read:
                agent = record.key[len(layout.INBOX) :].split("/")[0]
                notes.append({"to": agent, **note.to_json()})
        revision = store.revision()
        from coordinator.tasks.history import (
            history_summary,
            incidents,
            read_attempts_of,
            read_events,
        )

        # Attempts worth a look: tasks tried more than once, or whose attempt went wrong.
        eventful = {
            t["task"]: t["attempt"]
            for t in board["tasks"]
            if t["attempt"] > 1 or t["status"] in ("failed", "blocked") or t["stalled"]
        }
        attempts = read_attempts_of(store, eventful)
        for task in board["tasks"]:
            task["attempts"] = attempts.get(task["task"], [])
        timeline = incidents(read_events(store, phases, INCIDENT_WINDOW))
    return {
        "session": session,
        "generated_at": now,
        "revision": revision,
        **board,
        "notifications": notes,
        "incidents": timeline,
        "history": history_summary(attempts, timeline),
    }


def dashboard_view(store: Store, phases: list[str] | None = None) -> dict[str, Any]:
    """The dashboard's content as plain JSON: `phases` (default: every loaded plan) with
    their tasks, gates, claims, open conflicts, refused edits, escalations and the last 20
    events.

    It holds nothing that changes with the clock alone (no "generated at", no store
    revision), so the daemon can rewrite the dashboard file only when it changes.
    """
    with bulk_allocation(), store.reading():  # one consistent state for every part of the view
        plans = plan_phases(store)
        chosen = sorted(plans) if phases is None else sorted(set(phases))
        only = None if set(chosen) >= set(plans) else set(chosen)
        board = _board(store, plans, chosen, recent=DASHBOARD_EVENTS, only=only)
    sessions = sorted({str(plans[p]["session"]) for p in chosen if plans.get(p, {}).get("session")})
    for task in board["tasks"]:
        if task["ended_at"] is None:
            task["duration"] = None  # a running task's duration grows with the clock
    return {"sessions": sessions, **board}


def session_dashboard_view(store: Store, session: str | None) -> dict[str, Any]:
    """The dashboard view of `session`'s phases (every loaded plan when None): what
    `swarm status` and `swarm top` show."""
    phases = None if session is None else phases_of_session(store, session)
    return dashboard_view(store, phases)
