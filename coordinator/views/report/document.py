"""What makes the completion report the document a coordinator wrote by hand: the status
matrix by team, blockers and risks, the timeline and the go/no-go verdict (gates against
their targets are `coordinator.views.report.metrics`), and the report sections showing them.

`build_document` and the rules it calls are pure functions, tested without a store;
`document_data` reads what they need.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from coordinator.state import Event
from coordinator.timefmt import human_duration, utc_minute, utc_second
from coordinator.views.markdown import code, status_text, table
from coordinator.views.report.metrics import gate_targets, metric_values
from memory.store import Store

# --- matrix, risks, timeline, go/no-go ---------------------------------------------------


#: Events left out of the report's timeline: each repeats an event already in it.
TIMELINE_SKIP = frozenset({"notification"})
#: The most events the timeline shows (the latest); the JSON says how many were left out.
TIMELINE_LIMIT = 500


def status_matrix(
    rows: Iterable[Mapping[str, Any]], events: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The tasks grouped by team (teams in the order their most urgent task comes; tasks
    without a team last), each with title, agent, requirements, deadline, status, attempts
    (the times it was started) and deliverables ticked."""
    attempts: dict[str, int] = {}
    for event in events:
        if event.get("type") == "task_started" and isinstance(event.get("task"), str):
            attempts[event["task"]] = attempts.get(event["task"], 0) + 1
    teams: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        deliverables = row.get("deliverables") or []
        deadline = row.get("deadline")
        ready_at = row.get("ready_at")
        teams.setdefault(row.get("team"), []).append(
            {
                "task": row["task"],
                "title": row.get("title"),
                "priority": row.get("priority"),
                "agent": row.get("agent"),
                "branch": row.get("branch"),
                "requires": [f"{row['phase']}/{dep}" for dep in row.get("requires") or []],
                "when": list(row.get("when") or []),
                "deadline": deadline,
                "due": None if deadline is None or ready_at is None else ready_at + deadline,
                "status": row.get("status"),
                "stalled": row.get("stalled"),
                "escalated_at": row.get("escalated_at"),
                "attempts": attempts.get(row["task"], 0),
                "progress": row.get("progress"),
                "deliverables": deliverables,
                "ticked": sum(1 for d in deliverables if d.get("done")),
            }
        )
    named = [(team, tasks) for team, tasks in teams.items() if team is not None]
    unnamed = [(None, teams[None])] if None in teams else []
    return [{"team": team, "tasks": tasks} for team, tasks in [*named, *unnamed]]


def blockers_and_risks(
    rows: Iterable[Mapping[str, Any]],
    live_agents: Collection[str],
    escalations: Iterable[Mapping[str, Any]],
    conflicts: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """What stands in the way: failed gates, failed and blocked tasks, blockers agents
    reported, open escalations, stale or dead agents, and open conflicts."""
    risks: list[dict[str, Any]] = []

    def add(kind: str, task: Any, agent: Any, detail: Any) -> None:
        risks.append({"kind": kind, "task": task, "agent": agent, "detail": detail})

    for row in rows:
        status, task, agent = row.get("status"), row["task"], row.get("agent")
        failed_gates = [g for g in row.get("gates") or [] if not g.get("passes")]
        if status == "blocked" and failed_gates:
            for gate in failed_gates:
                add("failed gate", task, agent, f"{gate['gate']}: {gate.get('reason')}")
        elif status in ("blocked", "failed"):
            add(f"{status} task", task, agent, row.get("reason") or status)
        blocker = (row.get("progress") or {}).get("blocker")
        if blocker and status != "complete":
            add("blocker", task, agent, blocker)
        if status == "in_progress" and (row.get("stalled") or (agent and agent not in live_agents)):
            add("stale agent", task, agent, f"{agent} holds the task but its lease ran out")
    for escalation in escalations:
        outcome = str(escalation.get("outcome") or "")
        if not outcome.startswith("completed"):
            detail = f"{escalation.get('message') or 'past its deadline'} ({outcome})"
            add("escalation", escalation.get("task"), escalation.get("agent"), detail)
    for conflict in conflicts:
        if not conflict.get("resolved"):
            detail = f"{conflict.get('path')}: {conflict.get('description')}"
            add("open conflict", None, ", ".join(conflict.get("agents") or []), detail)
    return risks


def go_no_go(rows: Iterable[Mapping[str, Any]], phases: Iterable[str]) -> dict[str, Any]:
    """GO when, in every phase, the last tasks (those no task of the phase requires) are
    complete and their gates pass; otherwise NO-GO, with the reasons."""
    all_rows = list(rows)
    verdicts = []
    for phase in phases:
        tasks = [r for r in all_rows if r["phase"] == phase]
        required = {dep for r in tasks for dep in r.get("requires") or []}
        last = [r for r in tasks if r["name"] not in required]
        reasons = []
        gates = 0
        for row in last:
            if row.get("status") != "complete":
                reasons.append(f"{row['task']} is {row.get('status') or 'without status'}")
            for gate in row.get("gates") or []:
                gates += 1
                if not gate.get("passes"):
                    reasons.append(f"gate {gate['gate']}: {gate.get('reason')}")
        verdicts.append(
            {
                "phase": phase,
                "go": not reasons,
                "last_tasks": [r["task"] for r in last],
                "gates": gates,
                "reasons": reasons,
            }
        )
    return {"go": all(v["go"] for v in verdicts), "phases": verdicts}


def timeline(
    events: Iterable[Mapping[str, Any]], limit: int = TIMELINE_LIMIT
) -> tuple[list[dict[str, Any]], int]:
    """The events worth a line, oldest first, and how many earlier ones were left out."""
    kept = [
        {
            "ts": e.get("ts"),
            "type": e.get("type"),
            "task": e.get("task"),
            "agent": e.get("agent"),
            "message": e.get("message") or "",
        }
        for e in events
        if e.get("type") not in TIMELINE_SKIP
    ]
    return kept[-limit:], max(0, len(kept) - limit)


def build_document(
    report: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    plans: Mapping[str, Mapping[str, Any]],
    baselines: Mapping[str, Mapping[str, float | int]],
    events: Iterable[Mapping[str, Any]],
    live_agents: Collection[str],
) -> dict[str, Any]:
    """What the report adds to `build_report` to stand for the document a coordinator wrote
    by hand: plan titles, the status matrix by team, gate targets, blockers and risks, the
    timeline and the go/no-go verdict (pure)."""
    all_rows, all_events = list(rows), list(events)
    shown, omitted = timeline(all_events)
    return {
        "plans": {
            phase: {f: (plans.get(phase) or {}).get(f) for f in ("title", "description")}
            for phase in report["phases"]
        },
        "matrix": status_matrix(all_rows, all_events),
        "targets": gate_targets(all_rows, baselines),
        "risks": blockers_and_risks(
            all_rows, live_agents, report["escalations"], report["conflicts"]
        ),
        "timeline": shown,
        "timeline_omitted": omitted,
        "go_no_go": go_no_go(all_rows, report["phases"]),
    }


def _in_report(event: Mapping[str, Any], phases: Collection[str]) -> bool:
    task = event.get("task")
    if isinstance(task, str):
        return task.split("/")[0] in phases
    message = str(event.get("message") or "")
    return event.get("type") == "plan_loaded" and any(
        message.startswith(f"plan {phase} ") for phase in phases
    )


def document_data(
    store: Store,
    report: Mapping[str, Any],
    rows: list[dict[str, Any]],
    plans: Mapping[str, Mapping[str, Any]],
    events: Iterable[Event],
) -> dict[str, Any]:
    """Read the rest of what `build_document` needs for `report`, given its task rows,
    plan headers and every event (oldest first), and build it."""
    from coordinator.agents.sessions import live_agents

    phases = list(report["phases"])
    baselines = {
        phase: metric_values(store, plans[phase]["baseline"])
        for phase in phases
        if (plans.get(phase) or {}).get("baseline")
    }
    wanted = set(phases)
    shown = [event for e in events if _in_report(event := e.to_json(), wanted)]
    live = {agent.name for agent in live_agents(store)}
    return build_document(report, rows, plans, baselines, shown, live)


# --- rendering ---------------------------------------------------------------------------


def header_lines(data: Mapping[str, Any]) -> list[str]:
    """The plans' titles and the go/no-go line, for the top of the report."""
    lines = []
    for phase, plan in (data.get("plans") or {}).items():
        about = " — ".join(str(plan[f]) for f in ("title", "description") if plan.get(f))
        if about:
            lines.append(f"- Plan {phase}: {about}")
    verdict = data.get("go_no_go")
    if verdict is not None:
        word = "GO" if verdict["go"] else "NO-GO"
        why = "; ".join(r for v in verdict["phases"] for r in v["reasons"])
        lines.append(f"- **Go/no-go: {word}**" + (f" ({why})" if why else ""))
    return lines


def matrix_section(data: Mapping[str, Any]) -> list[str]:
    """The report's status matrix: a table of tasks per team, then their deliverables."""
    from coordinator.views.dashboard.render import deliverables_section

    lines = ["## Status by team", ""]
    headers = [
        "task",
        "title",
        "priority",
        "agent",
        "requirements",
        "deadline",
        "status",
        "attempts",
        "deliverables",
    ]
    for group in data.get("matrix") or []:
        lines += [f"### {group['team'] or 'No team'}", ""]
        rows = [
            (
                code(t["task"]),
                t["title"],
                t["priority"],
                t["agent"],
                ", ".join([*t["requires"], *t["when"]]) or "none",
                _deadline_text(t),
                status_text(t),
                t["attempts"],
                f"{t['ticked']}/{len(t['deliverables'])}" if t["deliverables"] else "-",
            )
            for t in group["tasks"]
        ]
        lines += [*table(headers, rows), ""]
        lines += deliverables_section(group["tasks"])
    return lines


def _deadline_text(task: Mapping[str, Any]) -> str:
    if task.get("deadline") is None:
        return "-"
    due = f", due {utc_minute(task['due'])}" if task.get("due") is not None else ""
    return f"{human_duration(task['deadline'])}{due}"


def risks_section(data: Mapping[str, Any]) -> list[str]:
    """The report's section of blockers and risks."""
    rows = [
        (r["kind"], code(str(r["task"])) if r["task"] else "-", r["agent"], r["detail"])
        for r in data.get("risks") or []
    ]
    lines = ["## Blockers and risks", ""]
    lines += table(["kind", "task", "agent", "detail"], rows) if rows else ["None."]
    return [*lines, ""]


def timeline_section(data: Mapping[str, Any]) -> list[str]:
    """The report's timeline of events, oldest first."""
    lines = ["## Timeline", ""]
    if data.get("timeline_omitted"):
        lines += [f"{data['timeline_omitted']} earlier events left out.", ""]
    rows = [
        (
            utc_second(e["ts"]),
            e["type"],
            code(e["task"]) if e["task"] else "-",
            e["agent"],
            e["message"],
        )
        for e in data.get("timeline") or []
    ]
    lines += table(["time", "event", "task", "agent", "message"], rows) if rows else ["None."]
    return [*lines, ""]


def go_section(data: Mapping[str, Any]) -> list[str]:
    """The report's go/no-go verdict, phase by phase, with the reasons."""
    verdict = data.get("go_no_go")
    if verdict is None:
        return []
    lines = ["## Go/no-go", ""]
    for phase in verdict["phases"]:
        last = ", ".join(code(t) for t in phase["last_tasks"]) or "no tasks"
        word = "GO" if phase["go"] else "NO-GO"
        lines.append(
            f"- {phase['phase']}: **{word}**: last tasks {last}; {phase['gates']} gate(s)"
            + "".join(f"\n  - {reason}" for reason in phase["reasons"])
        )
    return [*lines, ""]
