"""What operators read: the session view behind `session-restore`, `plan show` and `status`.

`session_view` gathers plain JSON (that is `--json`); `render_session` turns the same data
into text a person reads in ten seconds.
"""

from __future__ import annotations

import time
from typing import Any

from coordinator import layout
from coordinator.readiness import assess, describe_wait, evaluate_gates
from coordinator.sessions import live_agents
from coordinator.state import Event, Notification, Progress
from coordinator.tasks import load_specs, plan_phases, read_state
from memory.errors import SwarmError
from memory.store import Store

RECENT_EVENTS = 15


def _clock(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%H:%M:%S", time.localtime(ts))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def task_rows(store: Store, phase: str) -> list[dict[str, Any]]:
    """Every task of a phase with status, agent, timing, progress, waits and gates."""
    now = store.clock()
    rows = []
    for spec in load_specs(store, phase).values():
        state, values = read_state(store, spec)
        readiness = assess(spec, values)
        run = state.run
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
        waiting = state.status in (None, "pending", "ready", "blocked")
        rows.append(
            {
                "task": spec.id,
                "name": spec.name,
                "title": spec.title,
                "status": state.status,
                "agent": run.agent or spec.agent,
                "ready_at": run.ready_at,
                "started_at": run.started_at,
                "ended_at": run.ended_at,
                "duration": None if run.started_at is None or end is None else end - run.started_at,
                "progress": None if state.progress is None else state.progress.to_json(),
                "requires": list(spec.requires),
                "waits_on": [describe_wait(w) for w in readiness.waits] if waiting else [],
                "reason": run.reason,
                "stalled": run.stalled,
                "escalated_at": run.escalated_at,
                "gates": gates,
                "files": list(spec.files),
            }
        )
    return rows


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


def session_view(store: Store, session: str | None) -> dict[str, Any]:
    """Everything an operator needs about a session (all phases when `session` is None)."""
    now = store.clock()
    phases = sorted(plan_phases(store)) if session is None else phases_of_session(store, session)
    tasks = [row for phase in phases for row in task_rows(store, phase)]
    live = {a.name: a for a in live_agents(store)}
    busy = {t["agent"] for t in tasks if t["status"] == "in_progress" and t["agent"]}
    agents = [
        {
            "agent": name,
            "live": name in live,
            "session": live[name].session if name in live else None,
            "branch": live[name].branch if name in live else None,
        }
        for name in sorted(set(live) | busy)
    ]
    notes = []
    for record in store.list_prefix(layout.INBOX):
        note = Notification.from_json(record.value)
        if not note.read:
            agent = record.key[len(layout.INBOX) :].split("/")[0]
            notes.append({"to": agent, **note.to_json()})
    events = [
        Event.from_json(r.value).to_json()
        for r in store.last_in_prefix(layout.EVENTS, RECENT_EVENTS)
    ]
    escalations = [r.value for r in store.list_prefix(layout.ESCALATIONS)]
    claims = [r.value for r in store.list_prefix(layout.CLAIMS)]
    conflicts = [
        r.value
        for r in store.list_prefix(layout.CONFLICTS)
        if isinstance(r.value, dict) and not r.value.get("resolved")
    ]
    done = sum(1 for t in tasks if t["status"] == "complete")
    return {
        "session": session,
        "phases": phases,
        "generated_at": now,
        "revision": store.revision(),
        "summary": {"tasks": len(tasks), "complete": done},
        "tasks": tasks,
        "agents": agents,
        "claims": claims,
        "conflicts": conflicts,
        "notifications": notes,
        "escalations": escalations,
        "events": events,
    }


_MARK = {
    "complete": "✔",
    "in_progress": "▶",
    "ready": "●",
    "pending": "○",
    "blocked": "✖",
    "failed": "✖",
}


def render_session(view: dict[str, Any]) -> str:
    """The session view as text for a person."""
    lines: list[str] = []
    summary = view["summary"]
    title = view["session"] or "all sessions"
    lines.append(
        f"Session {title}  ·  phases {', '.join(view['phases'])}  ·  "
        f"{summary['complete']}/{summary['tasks']} tasks complete  ·  rev {view['revision']}"
    )
    lines.append("")
    lines.append("TASKS")
    lines.extend(_task_lines(view["tasks"]))
    lines.append("")
    lines.extend(_other_lines(view))
    return "\n".join(lines) + "\n"


def _task_lines(tasks: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for t in tasks:
        progress = ""
        if t["progress"]:
            p = Progress.from_json(t["progress"])
            progress = f"  {p.done}/{p.total} ({p.percent}%)"
        status = t["status"] or "-"
        flags = " STALLED" if t["stalled"] else ""
        flags += " ESCALATED" if t["escalated_at"] else ""
        lines.append(
            f"  {_MARK.get(status, '?')} {t['task']:<32} {status:<12} {t['agent'] or '-':<14} "
            f"started {_clock(t['started_at'])}  {_duration(t['duration'])}{progress}{flags}"
        )
        if t["reason"] and status in ("blocked", "failed"):
            lines.append(f"      reason: {t['reason']}")
        lines.extend(f"      waits on {w}" for w in t["waits_on"])
        for gate in t["gates"]:
            verdict = "pass" if gate["passes"] else f"FAIL ({gate['reason']})"
            lines.append(f"      gate {gate['gate']}: {verdict}")
    return lines


def _other_lines(view: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    agents = view["agents"]
    live = [a["agent"] for a in agents if a["live"]]
    stale = [a["agent"] for a in agents if not a["live"]]
    lines.append(f"AGENTS  live: {', '.join(live) or '-'}   stale: {', '.join(stale) or '-'}")
    if view["claims"]:
        lines.append("CLAIMS")
        for c in view["claims"]:
            lines.append(
                f"  {c.get('path')}  {c.get('mode')}  held by {c.get('agent')}"
                f"  task {c.get('task') or '-'}  since {_clock(c.get('granted_at'))}"
            )
    if view["conflicts"]:
        lines.append("CONFLICTS")
        for c in view["conflicts"]:
            lines.append(f"  #{c.get('id')} {c.get('path')}: {c.get('description')}")
    if view["escalations"]:
        lines.append("ESCALATIONS")
        for e in view["escalations"]:
            lines.append(f"  {e.get('task')}: {e.get('message')}")
    if view["notifications"]:
        lines.append(f"UNREAD NOTIFICATIONS ({len(view['notifications'])})")
        for n in view["notifications"][-10:]:
            lines.append(f"  → {n['to']}: [{n['level']}] {n['message']}")
    if view["events"]:
        lines.append("RECENT EVENTS")
        for e in view["events"]:
            who = f" {e['agent']}" if e.get("agent") else ""
            what = f" {e['task']}" if e.get("task") else ""
            msg = f" — {e['message']}" if e.get("message") else ""
            lines.append(f"  {_clock(e['ts'])} {e['type']}{what}{who}{msg}")
    return lines
