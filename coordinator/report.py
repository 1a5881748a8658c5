"""The completion report of a session: receipts, gates, baseline against final metrics,
escalations, conflicts and the critical path.

`report_data` gathers plain JSON from the store (that is `swarm report --format json`);
`render_report` turns the same data into Markdown. The rules (`compare_metrics`,
`critical_path`, `numeric_metrics`) are pure functions, tested without a store.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from coordinator import layout
from coordinator.dashboard import cell, code, status_text, table
from coordinator.timefmt import human_duration, utc_minute, utc_second
from memory.store import Store

# --- pure rules --------------------------------------------------------------------------


def numeric_metrics(value: Any, prefix: str = "") -> dict[str, float | int]:
    """The numbers in a JSON object, nested objects flattened with dots (`build.seconds`).

    Booleans, strings and lists are not metrics and are left out.
    """
    found: dict[str, float | int] = {}
    if not isinstance(value, Mapping):
        return found
    for name, item in value.items():
        key = f"{prefix}{name}"
        if isinstance(item, Mapping):
            found.update(numeric_metrics(item, f"{key}."))
        elif isinstance(item, int | float) and not isinstance(item, bool) and math.isfinite(item):
            found[key] = item
    return found


def _round(value: float | int) -> float | int:
    # Float subtraction leaves noise (0.30000000000000004); ten digits keep what matters.
    return value if isinstance(value, int) else round(value, 10)


def compare_metrics(
    baseline: Mapping[str, float | int], final: Mapping[str, float | int]
) -> list[dict[str, Any]]:
    """One row per metric in either: baseline, final, delta (final - baseline) and percent
    change against the baseline (None when a side is missing or the baseline is zero)."""
    rows = []
    for name in sorted(set(baseline) | set(final)):
        before, after = baseline.get(name), final.get(name)
        delta = None if before is None or after is None else _round(after - before)
        percent = (
            None
            if delta is None or before is None or before == 0
            else round(100 * delta / abs(before), 2)
        )
        rows.append(
            {"metric": name, "baseline": before, "final": after, "delta": delta, "percent": percent}
        )
    return rows


def critical_path(tasks: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The longest chain through `requires`, weighted by each task's duration.

    Each task is `{"task": id, "requires": [ids], "duration": seconds or None}`; a task
    without a duration (no receipt) weighs nothing. Returns the chain, first task first,
    and its length in seconds. Ties go to the task listed first.
    """
    by_id = {t["task"]: t for t in tasks}
    # best[id] = (length of the longest chain ending at id, the dependency before id on it).
    # Iterative depth-first, so that a chain of thousands of tasks stays within Python's
    # recursion limit; `on_path` keeps a hand-edited store's cycle from looping forever.
    best: dict[str, tuple[float, str | None]] = {}
    for root, root_task in by_id.items():
        if root in best:
            continue
        on_path = {root}
        stack = [(root, iter(root_task.get("requires") or []))]
        while stack:
            task_id, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                stack.pop()
                on_path.discard(task_id)
                best[task_id] = _longest_ending_at(by_id[task_id], best, by_id)
            elif dep in by_id and dep not in best and dep not in on_path:
                on_path.add(dep)
                stack.append((dep, iter(by_id[dep].get("requires") or [])))

    winner: str | None = None
    for task_id in by_id:
        if winner is None or best[task_id][0] > best[winner][0]:
            winner = task_id
    chain: list[str] = []
    step = winner
    while step is not None:
        chain.append(step)
        step = best[step][1]
    chain.reverse()
    return {"tasks": chain, "duration": round(best[winner][0], 3) if winner else 0.0}


def _longest_ending_at(
    task: Mapping[str, Any],
    best: Mapping[str, tuple[float, str | None]],
    by_id: Mapping[str, Any],
) -> tuple[float, str | None]:
    """(length, previous task) of the longest chain ending at `task`, from its dependencies'
    chains already in `best` (ties go to the dependency listed first)."""
    own = float(task.get("duration") or 0.0)
    chosen: str | None = None
    for dep in task.get("requires") or []:
        if dep in by_id and dep in best and (chosen is None or best[dep][0] > best[chosen][0]):
            chosen = dep
    return own + (best[chosen][0] if chosen else 0.0), chosen


# --- gathering ---------------------------------------------------------------------------


def metric_values(store: Store, key: str) -> dict[str, float | int]:
    """The numbers under a plan's `baseline:` or `final:` key: the key's own JSON object,
    and any number stored under `KEY/...` (`phase7/baseline/tests_passing`)."""
    record = store.get(key)
    found = numeric_metrics(record.value if record is not None else None)
    prefix = f"{key}/"
    for child in store.list_prefix(prefix):
        name = child.key[len(prefix) :].replace("/", ".")
        if isinstance(child.value, Mapping):
            found.update(numeric_metrics(child.value, f"{name}."))
        else:
            found.update(numeric_metrics({name: child.value}))
    return found


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
) -> dict[str, Any]:
    """The completion report as plain JSON, from data already read (pure).

    `rows` are task rows (`coordinator.views.task_row`); `receipts` maps task ids to
    post-task receipts; `metrics` holds `(phase, baseline_key, final_key, baseline,
    final)` per phase; `conflicts` carry their `id`.
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
        "critical_path": critical_path(tasks),
    }


def report_data(store: Store, session: str) -> dict[str, Any]:
    """Read what the completion report of `session` needs, and build it."""
    from coordinator.tasks import plan_phases
    from coordinator.views import phases_of_session

    with store.reading():  # one consistent state for the whole report
        return _read_report(store, session, phases_of_session(store, session), plan_phases(store))


def _read_report(
    store: Store, session: str, phases: list[str], plans: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """`report_data` inside its read transaction."""
    from coordinator.edits import list_conflicts
    from coordinator.views import phases_task_rows

    rows = phases_task_rows(store, phases)
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
    report = build_report(
        session, phases, rows, receipts, metrics, escalations, conflicts, store.clock()
    )
    from coordinator.history import attach_history, incidents, read_attempts, read_events

    timeline = incidents(read_events(store, phases))
    report = attach_history(report, read_attempts(store, phases), timeline)
    return {**report, **document_data(store, report, rows, plans)}


# --- rendering ---------------------------------------------------------------------------


def _number(value: float | int | None) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:g}"


def _signed(value: float | int | None) -> str:
    return "-" if value is None else ("+" if value > 0 else "") + _number(value)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{'+' if value > 0 else ''}{value:g}%"


def render_report(data: Mapping[str, Any]) -> str:
    """The completion report as Markdown."""
    from coordinator.history import after_text, history_section

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
        f"- From {utc_minute(summary['started'])} to {utc_minute(summary['ended'])} "
        f"({human_duration(summary['elapsed'])})",
        f"- Critical path: {human_duration(path['duration']) if path['tasks'] else '-'}",
        f"- Generated {utc_minute(data['generated_at'])}",
        *_header_lines(data),
        "",
    ]
    lines += _matrix_section(data)
    lines += _receipts_section(data)
    lines += _gates_section(data)
    lines += _targets_section(data)
    lines += _metrics_section(data)
    lines += _risks_section(data)
    lines += _escalations_section(data)
    lines += _conflicts_section(data)
    lines += _timeline_section(data)
    lines += _critical_path_section(data)
    lines += _go_section(data)
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
            g.get("current") if isinstance(g.get("current"), str) else _json(g.get("current")),
            "✅ passes" if g.get("passes") else f"❌ fails ({g.get('reason')})",
        )
        for t in data["tasks"]
        for g in t["gates"]
    ]
    lines = ["## Quality gates", ""]
    lines += table(["task", "gate", "value", "result"], rows) if rows else ["No gates."]
    return [*lines, ""]


def _json(value: Any) -> str:
    from coordinator.conditions import format_value

    return "missing" if value is None else format_value(value)


def _metrics_section(data: Mapping[str, Any]) -> list[str]:
    lines = ["## Baseline and final metrics", ""]
    if not data["metrics"]:
        return [*lines, "No plan names `baseline:` and `final:` keys.", ""]
    for group in data["metrics"]:
        lines += [
            f"### {group['phase']}: {code(str(group['baseline_key']))} → "
            f"{code(str(group['final_key']))}",
            "",
        ]
        rows = [
            (
                code(r["metric"]),
                _number(r["baseline"]),
                _number(r["final"]),
                _signed(r["delta"]),
                _percent(r["percent"]),
            )
            for r in group["rows"]
        ]
        headers = ["metric", "baseline", "final", "delta", "change"]
        lines += [*table(headers, rows), ""] if rows else ["No metrics recorded.", ""]
    return lines


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
    return [*lines, ""]


def _conflicts_section(data: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            f"#{c.get('id')}",
            c.get("kind"),
            code(str(c.get("path"))),
            ", ".join(c.get("agents") or []),
            utc_minute(c.get("detected_at")),
            c.get("description"),
            c["outcome"],
        )
        for c in data["conflicts"]
    ]
    headers = ["#", "kind", "path", "agents", "detected", "description", "resolution"]
    lines = ["## Conflicts", ""]
    lines += table(headers, rows) if rows else ["None."]
    return [*lines, ""]


def _critical_path_section(data: Mapping[str, Any]) -> list[str]:
    path = data["critical_path"]
    if not path["tasks"]:
        return ["## Critical path", "", "No tasks.", ""]
    durations = {t["task"]: t["duration"] for t in data["tasks"]}
    steps = " → ".join(f"{code(t)} ({human_duration(durations.get(t))})" for t in path["tasks"])
    return [
        "## Critical path",
        "",
        "The longest chain through `requires`, by the durations in the receipts:",
        "",
        f"{steps} = **{human_duration(path['duration'])}**",
        "",
    ]


# --- the coordination document: matrix, targets, risks, timeline, go/no-go ---------------

#: Events left out of the report's timeline: each repeats an event already in it.
TIMELINE_SKIP = frozenset({"notification"})
#: The most events the timeline shows (the latest); the JSON says how many were left out.
TIMELINE_LIMIT = 500
_FINISHED = frozenset({"complete", "blocked", "failed"})


def _number_or_none(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def gate_metric_names(gate: str) -> list[str]:
    """The names a gate's metric may have among baseline metrics (nested objects flattened
    with dots), best first: `p/t/clippy_warnings < 20` -> `clippy_warnings`;
    `p/t/tests[passing] >= 626` -> `tests.passing`, then `passing`."""
    from coordinator.conditions import parse_condition

    cond = parse_condition(gate)
    segment = cond.key.rsplit("/", 1)[-1]
    if not cond.path:
        return [segment]
    dotted = ".".join(cond.path)
    return [f"{segment}.{dotted}", dotted, cond.path[-1]]


def gate_targets(
    rows: Iterable[Mapping[str, Any]], baselines: Mapping[str, Mapping[str, float | int]]
) -> list[dict[str, Any]]:
    """Each gate against its target: the target (`>= 800`), the baseline of the metric it
    measures (by name, from the phase's `baseline:` key), the final value, the delta and
    `pass`, `fail` (the task finished and the gate does not hold) or `open`."""
    from coordinator.conditions import parse_condition

    targets = []
    for row in rows:
        for gate in row.get("gates") or []:
            cond = parse_condition(gate["gate"])
            phase_baseline = baselines.get(row["phase"]) or {}
            baseline = next(
                (
                    phase_baseline[name]
                    for name in gate_metric_names(gate["gate"])
                    if name in phase_baseline
                ),
                None,
            )
            final = _number_or_none(gate.get("current"))
            delta = None if baseline is None or final is None else _round(final - baseline)
            if gate.get("passes"):
                result = "pass"
            else:
                result = "fail" if row.get("status") in _FINISHED else "open"
            targets.append(
                {
                    "task": row["task"],
                    "gate": gate["gate"],
                    "metric": cond.target,
                    "target": cond.op if cond.op == "exists" else f"{cond.op} {_lit(cond)}",
                    "baseline": baseline,
                    "final": gate.get("current"),
                    "delta": delta,
                    "result": result,
                    "reason": "" if gate.get("passes") else gate.get("reason"),
                }
            )
    return targets


def _lit(cond: Any) -> str:
    from coordinator.conditions import format_value

    return format_value(cond.literal)


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
) -> dict[str, Any]:
    """Read the rest of what `build_document` needs for `report`, given its task rows and
    plan headers, and build it."""
    from coordinator.sessions import live_agents
    from coordinator.state import Event

    phases = list(report["phases"])
    baselines = {
        phase: metric_values(store, plans[phase]["baseline"])
        for phase in phases
        if (plans.get(phase) or {}).get("baseline")
    }
    events = [
        event
        for r in store.list_prefix(layout.EVENTS)
        if _in_report(event := Event.from_json(r.value).to_json(), set(phases))
    ]
    live = {agent.name for agent in live_agents(store)}
    return build_document(report, rows, plans, baselines, events, live)


def _header_lines(data: Mapping[str, Any]) -> list[str]:
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


def _matrix_section(data: Mapping[str, Any]) -> list[str]:
    from coordinator.dashboard import deliverables_section

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


def _targets_section(data: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            code(t["task"]),
            code(t["metric"]),
            t["target"],
            _number(t["baseline"]),
            _json(t["final"]),
            _signed(t["delta"]),
            {"pass": "✅ pass", "fail": "❌ fail", "open": "⏳ open"}[t["result"]]
            + (f" ({t['reason']})" if t["reason"] else ""),
        )
        for t in data.get("targets") or []
    ]
    headers = ["task", "metric", "target", "baseline", "final", "delta", "result"]
    lines = ["## Metrics against targets", ""]
    lines += table(headers, rows) if rows else ["No gates."]
    return [*lines, ""]


def _risks_section(data: Mapping[str, Any]) -> list[str]:
    rows = [
        (r["kind"], code(str(r["task"])) if r["task"] else "-", r["agent"], r["detail"])
        for r in data.get("risks") or []
    ]
    lines = ["## Blockers and risks", ""]
    lines += table(["kind", "task", "agent", "detail"], rows) if rows else ["None."]
    return [*lines, ""]


def _timeline_section(data: Mapping[str, Any]) -> list[str]:
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


def _go_section(data: Mapping[str, Any]) -> list[str]:
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
