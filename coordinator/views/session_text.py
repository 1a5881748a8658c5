"""The session view as text for a person: what `session-restore` prints without `--json`,
and the task lines (`about_lines`, `deliverables_text`) other text views share.

`render_session` is a pure function of the plain-JSON session view
(`coordinator.views.board.session_view`).
"""

from __future__ import annotations

from collections.abc import Mapping

from coordinator.claims.conflict_rules import last_seen, repeats_text, sightings
from coordinator.state import Progress
from coordinator.tasks.history import attempt_line
from coordinator.timefmt import human_duration, local_clock
from coordinator.views.board import RECENT_EVENTS

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from typing import Any

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
    for phase, plan in (view.get("plans") or {}).items():
        if plan.get("title") or plan.get("description"):
            about = " — ".join(str(plan[f]) for f in ("title", "description") if plan.get(f))
            lines.append(f"  {phase}: {about}")
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
        if t["progress"] and t["progress"].get("total"):
            p = Progress.from_json(t["progress"])
            progress = f"  {p.done}/{p.total} ({p.percent}%)"
        status = t["status"] or "-"
        flags = " STALLED" if t["stalled"] else ""
        flags += " ESCALATED" if t["escalated_at"] and status != "complete" else ""
        flags += " SKIPPED" if t.get("skipped") else ""
        lines.append(
            f"  {_MARK.get(status, '?')} {t['task']:<32} {status:<12} {t['agent'] or '-':<14} "
            f"started {local_clock(t['started_at'])}  "
            f"{human_duration(t['duration'])}{progress}{flags}"
        )
        lines.extend(about_lines(t, "      "))
        if t["reason"] and status in ("blocked", "failed"):
            lines.append(f"      reason: {t['reason']}")
        lines.extend(f"      waits on {w}" for w in t["waits_on"])
        if t.get("held"):
            lines.append(f"      held: {t['held']}")
        tries = t.get("attempts") or []
        if len(tries) > 1 or any(a.get("outcome") not in (None, "complete") for a in tries):
            lines.extend(f"      attempt {attempt_line(a)}" for a in tries)
        for gate in t["gates"]:
            verdict = "pass" if gate["passes"] else f"FAIL ({gate['reason']})"
            lines.append(f"      gate {gate['gate']}: {verdict}")
    return lines


def deliverables_text(task: Mapping[str, Any]) -> str:
    """`2/3` deliverables ticked, or empty when the task lists none."""
    items = task.get("deliverables") or []
    return f"{sum(1 for d in items if d['done'])}/{len(items)}" if items else ""


def about_lines(task: Mapping[str, Any], indent: str) -> list[str]:
    """A task's title, priority, team, branch and deliverables checklist, for text views."""
    facts = [
        task.get("priority") or "",
        task["title"] if task.get("title") and task["title"] != task.get("name") else "",
        f"team {task['team']}" if task.get("team") else "",
        f"branch {task['branch']}" if task.get("branch") else "",
    ]
    lines = [indent + "  ·  ".join(f for f in facts if f)] if any(facts) else []
    if task.get("description"):
        lines.append(f"{indent}{' '.join(str(task['description']).split())}")
    if task.get("deliverables"):
        lines.append(f"{indent}deliverables {deliverables_text(task)}")
        lines.extend(
            f"{indent}  [{'x' if d['done'] else ' '}] {d['item']}" for d in task["deliverables"]
        )
    return lines


def _conflict_lines(view: dict[str, Any]) -> list[str]:
    """The open conflicts, then the observations (no other writer: not conflicts)."""
    lines = []
    if view["conflicts"]:
        lines.append("CONFLICTS")
        for c in view["conflicts"]:
            again = repeats_text(c, local_clock(last_seen(c)))
            lines.append(f"  #{c.get('id')} {c.get('path')}: {c.get('description')}{again}")
    if view.get("observations"):
        lines.append("OBSERVATIONS (changed with no post-edit, no other writer: not conflicts)")
        for o in view["observations"][-10:]:
            when = local_clock(last_seen(o))
            lines.append(f"  {o.get('path')}: {sightings(o)} unannounced write(s), last {when}")
    return lines


def _other_lines(view: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    agents = view["agents"]
    live = [a["agent"] for a in agents if a["live"]]
    stale = [a["agent"] for a in agents if not a["live"] and not a.get("gone")]
    gone = [a["agent"] for a in agents if a.get("gone")]
    lines.append(
        f"AGENTS  live: {', '.join(live) or '-'}   stale: {', '.join(stale) or '-'}"
        f"   gone: {', '.join(gone) or '-'}"
    )
    if view["claims"]:
        lines.append("CLAIMS")
        for c in view["claims"]:
            lines.append(
                f"  {c.get('path')}  {c.get('mode')}  held by {c.get('agent')}"
                f"  task {c.get('task') or '-'}  since {local_clock(c.get('granted_at'))}"
            )
    lines += _conflict_lines(view)
    if view["escalations"]:
        lines.append("ESCALATIONS")
        for e in view["escalations"]:
            state = " (resolved: the task completed)" if e.get("resolved") else ""
            lines.append(f"  {e.get('task')}: {e.get('message')}{state}")
    if view.get("incidents"):
        lines.append("INCIDENTS")
        for i in view["incidents"][-RECENT_EVENTS:]:
            what = f" {i['task']}" if i.get("task") else ""
            msg = f" — {i['message']}" if i.get("message") else ""
            lines.append(f"  {local_clock(i['ts'])} {i['what']}{what}{msg}")
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
            lines.append(f"  {local_clock(e['ts'])} {e['type']}{what}{who}{msg}")
    return lines
