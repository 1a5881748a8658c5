"""The dashboard: a Markdown file the daemon keeps current, and what `swarm status` prints.

`render_dashboard` is a pure function of the plain-JSON dashboard view
(`coordinator.views.board.dashboard_view`). It holds nothing that changes with the clock alone:
no "generated at", no store revision and no live duration of running tasks, so the
daemon rewrites the file only when what it shows has changed. Writing the file is in
`coordinator.views.dashboard.files`; the Markdown helpers and the Mermaid graph are in
`coordinator.views.markdown`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from coordinator.claims.conflict_rules import last_seen, repeats_text, sightings
from coordinator.plans.conditions import format_value
from coordinator.timefmt import utc_minute, utc_second
from coordinator.views.markdown import (
    cell,
    code,
    denials_text,
    finished_duration,
    mermaid_graph,
    notes_text,
    progress_text,
    status_text,
    table,
)


def render_dashboard(view: Mapping[str, Any]) -> str:
    """The dashboard view as Markdown: progress, tasks, gates, claims (and refused edits),
    conflicts, escalations, the last events and the dependency graph."""
    phases: list[str] = list(view["phases"])
    sessions: list[str] = list(view.get("sessions") or [])
    summary = view["summary"]
    title = ", ".join(sessions) or ", ".join(phases) or "no plan loaded"
    lines = [f"# Swarm dashboard: {title}", ""]
    if not phases:
        lines += ["No plan is loaded; run `swarm plan load FILE`.", ""]
        return "\n".join(lines)
    total, done = summary["tasks"], summary["complete"]
    percent = int(100 * done / total) if total else 0
    lines += [
        f"**{done}/{total} tasks complete ({percent}%)** · phases {', '.join(phases)} · "
        "kept current by `swarm daemon`",
        "",
    ]
    lines += plan_titles(view.get("plans") or {})
    lines += _progress_section(view)
    lines += _agents_section(view)
    lines += _tasks_section(view)
    lines += _gates_section(view)
    lines += _claims_section(view)
    lines += _conflicts_section(view)
    lines += _escalations_section(view)
    lines += _events_section(view)
    lines += ["## Dependencies", "", "```mermaid", *mermaid_graph(view["tasks"]), "```", ""]
    return "\n".join(lines)


def plan_titles(plans: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per plan that has a title or a description (none: no lines)."""
    lines = []
    for phase, plan in plans.items():
        about = " — ".join(cell(plan[f]) for f in ("title", "description") if plan.get(f))
        if about:
            lines.append(f"- **{phase}**: {about}")
    return [*lines, ""] if lines else []


def _progress_section(view: Mapping[str, Any]) -> list[str]:
    rows = [
        (p["phase"], (view.get("plans") or {}).get(p["phase"], {}).get("session"), *_progress(p))
        for p in view["progress"]
    ]
    return ["## Progress", "", *table(["phase", "session", "done", "percent"], rows), ""]


def _progress(row: Mapping[str, Any]) -> tuple[str, str]:
    percent = int(row["percent"])
    bar = "█" * (percent // 10) + "░" * (10 - percent // 10)
    return f"{row['complete']}/{row['tasks']}", f"{bar} {percent}%"


def _agents_section(view: Mapping[str, Any]) -> list[str]:
    agents = view.get("agents") or []
    live = ", ".join(a["agent"] for a in agents if a.get("live")) or "-"
    stale = ", ".join(a["agent"] for a in agents if not a.get("live") and not a.get("gone")) or "-"
    gone = ", ".join(a["agent"] for a in agents if a.get("gone")) or "-"
    return [f"**Agents** live: {live} · silent while running a task: {stale} · gone: {gone}", ""]


def _tasks_section(view: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            code(t["task"]),
            t.get("title"),
            t.get("priority"),
            status_text(t),
            t.get("agent"),
            progress_text(t.get("progress")),
            utc_minute(t.get("started_at")),
            finished_duration(t),
            notes_text(t),
        )
        for t in view["tasks"]
    ]
    headers = [
        "task",
        "title",
        "priority",
        "status",
        "agent",
        "progress",
        "started",
        "duration",
        "waits on / notes",
    ]
    return ["## Tasks", "", *table(headers, rows), "", *deliverables_section(view["tasks"])]


def deliverables_section(tasks: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each task's deliverables as a Markdown checklist, ticked/total in its heading."""
    lines: list[str] = []
    for task in tasks:
        items = task.get("deliverables") or []
        if not items:
            continue
        done = sum(1 for d in items if d.get("done"))
        lines += [f"**{code(task['task'])} deliverables {done}/{len(items)}**", ""]
        lines += [f"- [{'x' if d.get('done') else ' '}] {cell(d.get('item'))}" for d in items]
        lines.append("")
    return lines


def _gates_section(view: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            code(t["task"]),
            code(g["gate"]),
            "missing" if g.get("current") is None and not g.get("passes") else _value(g),
            "✅ passes" if g.get("passes") else f"❌ fails ({g.get('reason')})",
        )
        for t in view["tasks"]
        for g in t.get("gates") or []
    ]
    lines = ["## Quality gates", ""]
    lines += table(["task", "gate", "current", "result"], rows) if rows else ["No gates."]
    return [*lines, ""]


def _value(gate: Mapping[str, Any]) -> str:
    current = gate.get("current")
    return current if isinstance(current, str) else format_value(current)


def _claims_section(view: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            code(str(c.get("path"))),
            c.get("mode"),
            c.get("agent"),
            c.get("task"),
            utc_minute(c.get("granted_at")),
        )
        for c in view["claims"]
    ]
    lines = ["## Open claims", ""]
    lines += table(["path", "mode", "agent", "task", "since"], rows) if rows else ["None."]
    denials = view.get("denials") or {}
    if denials.get("total"):
        lines += ["", denials_text(denials) + "."]
    return [*lines, ""]


def _conflicts_section(view: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            f"#{c.get('id')}",
            c.get("kind"),
            code(str(c.get("path"))),
            ", ".join(c.get("agents") or []),
            utc_minute(c.get("detected_at")),
            f"{c.get('description')}{repeats_text(c, utc_minute(last_seen(c)))}",
        )
        for c in view["conflicts"]
    ]
    headers = ["#", "kind", "path", "agents", "detected", "description"]
    lines = ["## Open conflicts", "", *(table(headers, rows) if rows else ["None."]), ""]
    return lines + observations_lines(view.get("observations") or ())


def observations_lines(observations: Iterable[Mapping[str, Any]]) -> list[str]:
    """One paragraph on the files changed with no post-edit and no other writer (not
    conflicts), each with its count and last sighting; no lines when there are none."""
    seen = [
        f"{code(str(o.get('path')))} ({_times(sightings(o))}, last {utc_minute(last_seen(o))})"
        for o in observations
    ]
    if not seen:
        return []
    intro = "Changed on disk with no post-edit, by no agent that holds or edited them"
    return [f"{intro} (observations, not conflicts): {', '.join(seen)}.", ""]


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _escalations_section(view: Mapping[str, Any]) -> list[str]:
    statuses = {t["task"]: t.get("status") for t in view["tasks"]} if view["escalations"] else {}
    rows = [
        (
            code(str(e.get("task"))),
            e.get("agent"),
            statuses.get(str(e.get("task")), e.get("status")),
            utc_minute(e.get("due_at")),
            utc_minute(e.get("escalated_at")),
            e.get("message"),
        )
        for e in view["escalations"]
    ]
    headers = ["task", "agent", "status now", "due", "escalated", "message"]
    lines = ["## Escalations", ""]
    lines += table(headers, rows) if rows else ["None."]
    return [*lines, ""]


def _events_section(view: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            utc_second(e.get("ts")),
            e.get("type"),
            e.get("task"),
            e.get("agent"),
            e.get("message"),
        )
        for e in reversed(view["events"])
    ]
    lines = [f"## Last {len(rows)} events (newest first)", ""]
    lines += table(["time", "event", "task", "agent", "message"], rows) if rows else ["None."]
    return [*lines, ""]
