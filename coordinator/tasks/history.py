"""Every attempt at a task, and the incidents of a session (crashes, retries, gate
refusals, escalations, cancellations, operator overrides), for the report and
`session-restore`. `incidents` and `history_summary` are pure; `read_*` read the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from coordinator import layout
from coordinator.state import Event
from coordinator.tasks.attempts import Attempt
from memory.store import Store

#: Event types that are incidents, and how each reads in the timeline.
INCIDENT_TYPES = {
    "agent_gone": "agent gone",
    "agent_stale": "agent stale",
    "task_failed": "failed",
    "task_retry_scheduled": "retry",
    "gate_failed": "gate refused",
    "escalated": "escalated",
    "task_cancelled": "cancelled",
    "task_retried": "operator retry",
    "task_reset": "operator reset",
    "task_skipped": "operator skip",
    "agent_adopted": "agent adopted after a daemon restart",
}


def read_attempts(store: Store, phases: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Every attempt record of the phases' tasks, by task id, in order."""
    found: dict[str, list[dict[str, Any]]] = {}
    for phase in phases:
        # Matched by the store: the specs and run records beside them are not decoded
        # (keys hold no glob characters; see memory.keys).
        for record in store.search_keys(f"{layout.TASKS}{phase}/*/attempts/*"):
            head = record.key.rpartition("/attempts/")[0]
            task_id = head[len(layout.TASKS) :]
            found.setdefault(task_id, []).append(Attempt.from_json(record.value).to_json())
    for attempts in found.values():
        attempts.sort(key=lambda a: int(a["number"]))
    return found


def read_attempts_of(store: Store, tasks: Mapping[str, int]) -> dict[str, list[dict[str, Any]]]:
    """The attempt records of the given tasks (task id: its last attempt number), read by
    key: cheap at any store size."""
    keys = [layout.attempt_key(t, n) for t, last in tasks.items() for n in range(1, last + 1)]
    records = store.get_many(keys)
    found: dict[str, list[dict[str, Any]]] = {}
    for task_id, last in tasks.items():
        for number in range(1, last + 1):
            record = records.get(layout.attempt_key(task_id, number))
            if record is not None:
                found.setdefault(task_id, []).append(Attempt.from_json(record.value).to_json())
    return found


def read_events(store: Store, phases: Iterable[str], limit: int | None = None) -> list[Event]:
    """The events about the phases' tasks (and about agents) that may be incidents,
    oldest first; only among the last `limit` events when given."""
    records = (
        store.list_prefix(layout.EVENTS)
        if limit is None
        else store.last_in_prefix(layout.EVENTS, limit)
    )
    return incident_events((Event.from_json(r.value) for r in records), phases)


def incident_events(events: Iterable[Event], phases: Iterable[str]) -> list[Event]:
    """Those of `events` about the phases' tasks (and about agents) that may be incidents
    (pure; `incidents` turns them into the timeline)."""
    wanted = set(phases)
    found = []
    for event in events:
        if event.type not in INCIDENT_TYPES and not event.data.get("forced_by"):
            continue
        if event.task is None or event.task.split("/")[0] in wanted:
            found.append(event)
    return found


def incidents(events: Iterable[Event]) -> list[dict[str, Any]]:
    """The incident timeline: what went wrong or was overridden, oldest first (pure)."""
    timeline: list[dict[str, Any]] = []
    for event in events:
        forced = event.data.get("forced_by") if isinstance(event.data, dict) else None
        if event.type not in INCIDENT_TYPES and not forced:
            continue
        what = INCIDENT_TYPES.get(event.type, event.type.replace("_", " "))
        if forced:
            what = f"{what} (forced by {forced})"
        timeline.append(
            {
                "ts": event.ts,
                "type": event.type,
                "what": what,
                "task": event.task,
                "agent": event.agent,
                "message": event.message,
            }
        )
    timeline.sort(key=lambda i: float(i["ts"]))
    return timeline


def history_summary(
    attempts: Mapping[str, list[dict[str, Any]]], timeline: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """Counts behind "7/7 complete after 2 retries and 1 crash" (pure)."""
    items = list(timeline)
    crashes = sum(1 for runs in attempts.values() for a in runs if a["outcome"] == "agent_died")
    retries = sum(1 for i in items if i["type"] in ("task_retry_scheduled", "task_retried"))
    return {
        "attempts": sum(len(runs) for runs in attempts.values()),
        "retries": retries,
        "crashes": crashes,
        "gate_refusals": sum(1 for i in items if i["type"] == "gate_failed"),
        "escalations": sum(1 for i in items if i["type"] == "escalated"),
        "cancellations": sum(1 for i in items if i["type"] == "task_cancelled"),
        "overrides": sum(
            1 for i in items if i["type"] in ("task_reset", "task_skipped") or "forced" in i["what"]
        ),
    }


def after_text(summary: Mapping[str, Any]) -> str:
    """` after 2 retries and 1 crash`, or `` when nothing went wrong."""
    parts = []
    for key, one, many in (("retries", "retry", "retries"), ("crashes", "crash", "crashes")):
        count = int(summary.get(key) or 0)
        if count:
            parts.append(f"{count} {one if count == 1 else many}")
    return f" after {' and '.join(parts)}" if parts else ""


def attempt_line(attempt: Mapping[str, Any]) -> str:
    """One attempt, for a person: `#2 bob pid 123: agent_died (exit 1) - reason`."""
    outcome = attempt.get("outcome") or "running"
    code = attempt.get("exit_code")
    exit_text = f" (exit {code})" if code is not None else ""
    who = f" {attempt['agent']}" if attempt.get("agent") else ""
    pid = f" pid {attempt['pid']}" if attempt.get("pid") else ""
    reason = f" - {attempt['reason']}" if attempt.get("reason") else ""
    return f"#{attempt['number']}{who}{pid}: {outcome}{exit_text}{reason}"


def attach_history(
    report: dict[str, Any],
    attempts: Mapping[str, list[dict[str, Any]]],
    timeline: list[dict[str, Any]],
) -> dict[str, Any]:
    """Give each task of a report its `attempts` list, and the report its `incidents`
    and `summary.history` (pure; returns `report`)."""
    for task in report["tasks"]:
        task["attempts"] = list(attempts.get(task["task"], []))
    report["incidents"] = timeline
    report["summary"]["history"] = history_summary(attempts, timeline)
    return report


def history_section(data: Mapping[str, Any]) -> list[str]:
    """The report's attempts and incidents, as Markdown."""
    from coordinator.timefmt import utc_second

    lines = ["## Attempts", ""]
    tried = [t for t in data["tasks"] if t.get("attempts")]
    for task in tried:
        lines.append(f"- `{task['task']}`: {len(task['attempts'])} attempt(s)")
        lines += [f"  - {attempt_line(a)}" for a in task["attempts"]]
    if not tried:
        lines.append("None recorded.")
    lines += ["", "## Incidents", ""]
    for item in data.get("incidents") or []:
        task = f" `{item['task']}`" if item.get("task") else ""
        who = f" ({item['agent']})" if item.get("agent") else ""
        message = f": {item['message']}" if item.get("message") else ""
        lines.append(f"- {utc_second(item['ts'])} {item['what']}{task}{who}{message}")
    if not data.get("incidents"):
        lines.append("None.")
    return [*lines, ""]
