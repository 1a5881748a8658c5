"""The completion report of a session: receipts, gates, baseline against final metrics,
escalations, conflicts, refused edits and the critical path, with the coordination
document's sections (`coordinator.views.report.document`).

`report_data` gathers plain JSON from the store (that is `swarm report --format json`);
`render_report` turns the same data into Markdown. `build_report` and the rules it uses
(`coordinator.views.report.metrics`, `coordinator.plans.critical_path`) are pure functions, tested
without a store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from coordinator import layout
from coordinator.bulk import bulk_allocation
from coordinator.claims.conflict_rules import last_seen, repeats_text
from coordinator.claims.denials import Denial, denial_summary, read_denials
from coordinator.plans.critical_path import critical_path
from coordinator.timefmt import human_duration, utc_minute
from coordinator.views.dashboard.render import observations_lines
from coordinator.views.markdown import cell, code, status_text, table
from coordinator.views.report.document import (
    document_data,
    go_section,
    header_lines,
    matrix_section,
    risks_section,
    timeline_section,
)
from coordinator.views.report.metrics import (
    compare_metrics,
    metric_values,
    metrics_section,
    numeric_metrics,
    targets_section,
    value_text,
)
from memory.store import Store

# --- gathering ---------------------------------------------------------------------------


def _task_entry(row: Mapping[str, Any], receipt: Mapping[str, Any] | None) -> dict[str, Any]:
    phase = row["phase"]
    receipt = receipt or {}
    start = receipt.get("start", row.get("started_at"))
    end = receipt.get("end", row.get("ended_at"))
    duration = receipt.get("duration")
    if duration is None and start is not None and end is not None:
        duration = round(float(end) - float(start), 3)
    return {
        "task": row["task"],
        "phase": phase,
        "title": row.get("title"),
        "status": row.get("status"),
        "stalled": row.get("stalled"),
        "escalated_at": row.get("escalated_at"),
        "agent": receipt.get("agent") or row.get("agent"),
        "requires": [f"{phase}/{dep}" for dep in row.get("requires") or []],
        "start": start,
        "end": end,
        "duration": duration,
        "summary": receipt.get("summary"),
        "metrics": receipt.get("metrics") or {},
        "receipt": bool(receipt),
        "gates": row.get("gates") or [],
        "gate_failures": receipt.get("gate_failures") or [],
    }


def _escalation_outcome(record: Mapping[str, Any], task: Mapping[str, Any] | None) -> str:
    if task is None:
        return "task no longer in the plan"
    status, end = task.get("status"), task.get("end")
    if status == "complete" and end is not None:
        due = record.get("due_at")
        late = "" if due is None else f", {human_duration(float(end) - float(due))} past due"
        return f"completed {utc_minute(end)}{late}"
    return f"open: the task is {status or 'without status'}"


def _conflict_outcome(record: Mapping[str, Any]) -> str:
    resolution = record.get("resolution")
    if not record.get("resolved") or not isinstance(resolution, Mapping):
        return "unresolved"
    by = f" (by {resolution['by']}" if resolution.get("by") else " ("
    return f"kept {resolution.get('keep')}'s work{by} at {utc_minute(resolution.get('at'))})"


def build_report(
    session: str,
    phases: list[str],
    rows: Iterable[Mapping[str, Any]],
    receipts: Mapping[str, Any],
    metrics: Iterable[tuple[str, str | None, str | None, Mapping[str, Any], Mapping[str, Any]]],
    escalations: Iterable[Mapping[str, Any]],
    conflicts: Iterable[Mapping[str, Any]],
    now: float,
    denials: Iterable[Denial] = (),
) -> dict[str, Any]:
    """The completion report as plain JSON, from data already read (pure).

    `rows` are task rows (`coordinator.views.board.task_row`); `receipts` maps task ids to
    post-task receipts; `metrics` holds `(phase, baseline_key, final_key, baseline,
    final)` per phase; `conflicts` carry their `id`; `denials` are the records of refused
    edits (`coordinator.claims.denials`).
    """
    tasks = []
    for row in rows:
        receipt = receipts.get(row["task"])
        tasks.append(_task_entry(row, receipt if isinstance(receipt, Mapping) else None))
    by_id = {t["task"]: t for t in tasks}
    comparisons = [
        {
            "phase": phase,
            "baseline_key": baseline_key,
            "final_key": final_key,
            "rows": compare_metrics(numeric_metrics(baseline), numeric_metrics(final)),
        }
        for phase, baseline_key, final_key, baseline, final in metrics
    ]
    starts = [t["start"] for t in tasks if t["start"] is not None]
    ends = [t["end"] for t in tasks if t["end"] is not None]
    gates = [g for t in tasks for g in t["gates"]]
    counts: dict[str, int] = {}
    for task in tasks:
        status = task["status"] or "none"
        counts[status] = counts.get(status, 0) + 1
    return {
        "session": session,
        "phases": phases,
        "generated_at": now,
        "summary": {
            "tasks": len(tasks),
            "by_status": counts,
            "gates": len(gates),
            "gates_passing": sum(1 for g in gates if g.get("passes")),
            "started": min(starts, default=None),
            "ended": max(ends, default=None),
            "elapsed": None if not starts or not ends else round(max(ends) - min(starts), 3),
        },
        "tasks": tasks,
        "metrics": comparisons,
        "escalations": [
            {**e, "outcome": _escalation_outcome(e, by_id.get(str(e.get("task"))))}
            for e in escalations
        ],
        "conflicts": [{**c, "outcome": _conflict_outcome(c)} for c in conflicts],
        "denials": denial_summary(denials, phases),
        "critical_path": critical_path(tasks),
    }


def report_data(store: Store, session: str) -> dict[str, Any]:
    """Read what the completion report of `session` needs, and build it."""
    from coordinator.tasks.start import plan_phases
    from coordinator.views.board import phases_of_session

    with bulk_allocation(), store.reading():  # one consistent state for the whole report
        return _read_report(store, session, phases_of_session(store, session), plan_phases(store))


def _read_report(
    store: Store, session: str, phases: list[str], plans: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """`report_data` inside its read transaction."""
    from coordinator.claims.conflicts import list_conflicts, list_observations
    from coordinator.views.board import phases_task_rows

    rows = phases_task_rows(store, phases, waits=False)  # the report shows no waits
    receipts = {
        r.key[len(layout.RECEIPTS) :]: r.value
        for phase in phases
        for r in store.list_prefix(f"{layout.RECEIPTS}{phase}/")
    }
    metrics = []
    for phase in phases:
        header = plans.get(phase, {})
        baseline_key, final_key = header.get("baseline"), header.get("final")
        if baseline_key or final_key:
            metrics.append(
                (
                    phase,
                    baseline_key,
                    final_key,
                    metric_values(store, baseline_key) if baseline_key else {},
                    metric_values(store, final_key) if final_key else {},
                )
            )
    escalations = [
        r.value
        for r in store.list_prefix(layout.ESCALATIONS)
        if isinstance(r.value, dict) and str(r.value.get("task", "")).split("/")[0] in phases
    ]
    conflicts = [c.to_json() for c in list_conflicts(store)]
    denials = read_denials(store)
    report = build_report(
        session, phases, rows, receipts, metrics, escalations, conflicts, store.clock(), denials
    )
    report["observations"] = list_observations(store)
    from coordinator.state import Event
    from coordinator.tasks.history import attach_history, incident_events, incidents, read_attempts

    # Every event, decoded once: the incidents and the document's timeline both read them.
    events = [Event.from_json(r.value) for r in store.list_prefix(layout.EVENTS)]
    timeline = incidents(incident_events(events, phases))
    report = attach_history(report, read_attempts(store, phases), timeline)
    return {**report, **document_data(store, report, rows, plans, events)}


# --- rendering ---------------------------------------------------------------------------


def render_report(data: Mapping[str, Any]) -> str:
    """The completion report as Markdown."""
    from coordinator.tasks.history import after_text, history_section

    summary = data["summary"]
    done = summary["by_status"].get("complete", 0)
    path = data["critical_path"]
    lines = [
        f"# Completion report: {data['session']}",
        "",
        f"- Phases: {', '.join(data['phases'])}",
        f"- Tasks: {done}/{summary['tasks']} complete"
        + after_text(summary.get("history") or {})
        + "".join(
            f", {count} {status}"
            for status, count in sorted(summary["by_status"].items())
            if status != "complete"
        ),
        f"- Gates: {summary['gates_passing']}/{summary['gates']} passing",
        f"- Edits refused: {(data.get('denials') or {}).get('total', 0)}",
        f"- From {utc_minute(summary['started'])} to {utc_minute(summary['ended'])} "
        f"({human_duration(summary['elapsed'])})",
        f"- Critical path: {human_duration(path['duration']) if path['tasks'] else '-'}",
        f"- Generated {utc_minute(data['generated_at'])}",
        *header_lines(data),
        "",
    ]
    lines += matrix_section(data)
    lines += _receipts_section(data)
    lines += _gates_section(data)
    lines += targets_section(data)
    lines += metrics_section(data)
    lines += risks_section(data)
    lines += _escalations_section(data)
    lines += _conflicts_section(data)
    lines += _denials_section(data)
    lines += timeline_section(data)
    lines += _critical_path_section(data)
    lines += go_section(data)
    lines += history_section(data)
    return "\n".join(lines)


def _receipts_section(data: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            code(t["task"]),
            status_text(t),
            t["agent"],
            utc_minute(t["start"]),
            utc_minute(t["end"]),
            human_duration(t["duration"]),
            t["summary"] if t["receipt"] else "no receipt",
        )
        for t in data["tasks"]
    ]
    headers = ["task", "status", "agent", "start", "end", "duration", "summary"]
    lines = ["## Tasks", "", *table(headers, rows), ""]
    measured = [t for t in data["tasks"] if t["metrics"]]
    if measured:
        lines += ["### Metrics reported with each task", ""]
        for task in measured:
            pairs = ", ".join(f"{k} = {cell(v)}" for k, v in sorted(task["metrics"].items()))
            lines.append(f"- {code(task['task'])}: {pairs}")
        lines.append("")
    return lines


def _gates_section(data: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            code(t["task"]),
            code(g["gate"]),
            g.get("current") if isinstance(g.get("current"), str) else value_text(g.get("current")),
            "✅ passes" if g.get("passes") else f"❌ fails ({g.get('reason')})",
        )
        for t in data["tasks"]
        for g in t["gates"]
    ]
    lines = ["## Quality gates", ""]
    lines += table(["task", "gate", "value", "result"], rows) if rows else ["No gates."]
    return [*lines, ""]


def _escalations_section(data: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            code(str(e.get("task"))),
            e.get("agent"),
            utc_minute(e.get("due_at")),
            utc_minute(e.get("escalated_at")),
            e.get("message"),
            e["outcome"],
        )
        for e in data["escalations"]
    ]
    headers = ["task", "agent", "due", "escalated", "message", "resolution"]
    lines = ["## Escalations", ""]
    lines += table(headers, rows) if rows else ["None."]
    return [*lines, "", *observations_lines(data.get("observations") or ())]


def _conflicts_section(data: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            f"#{c.get('id')}",
            c.get("kind"),
            code(str(c.get("path"))),
            ", ".join(c.get("agents") or []),
            utc_minute(c.get("detected_at")),
            f"{c.get('description')}{repeats_text(c, utc_minute(last_seen(c)))}",
            c["outcome"],
        )
        for c in data["conflicts"]
    ]
    headers = ["#", "kind", "path", "agents", "detected", "description", "resolution"]
    lines = ["## Conflicts", ""]
    lines += table(headers, rows) if rows else ["None."]
    return [*lines, "", *observations_lines(data.get("observations") or ())]


def _denials_section(data: Mapping[str, Any]) -> list[str]:
    denials = data.get("denials") or {}
    if not denials.get("by_path"):
        return ["## Edits refused", "", "None.", ""]
    intro = f"Refused because another agent held the file: {denials['total']}."
    rows = [_denial_row(d) for d in denials["by_path"]]
    headers = ["path", "refused", "agents", "held by"]
    return ["## Edits refused", "", intro, "", *table(headers, rows), ""]


def _denial_row(denied: Mapping[str, Any]) -> tuple[str, int, str, str]:
    agents = ", ".join(f"{agent} ({count})" for agent, count in denied["agents"].items())
    return code(str(denied["path"])), denied["count"], agents, ", ".join(denied["holders"])


def _critical_path_section(data: Mapping[str, Any]) -> list[str]:
    path = data["critical_path"]
    if not path["tasks"]:
        return ["## Critical path", "", "No tasks.", ""]
    on_path = set(path["tasks"])
    durations = {t["task"]: t["duration"] for t in data["tasks"] if t["task"] in on_path}
    steps = " → ".join(f"{code(t)} ({human_duration(durations.get(t))})" for t in path["tasks"])
    return [
        "## Critical path",
        "",
        "The longest chain through `requires`, by the durations in the receipts:",
        "",
        f"{steps} = **{human_duration(path['duration'])}**",
        "",
    ]
