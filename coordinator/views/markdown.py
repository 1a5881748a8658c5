"""Markdown for the text views: table cells, inline code, tables, a task's status, progress,
duration and notes, the line on refused edits, and the dependency graph as a Mermaid
flowchart.

The dashboard (`coordinator.views.dashboard.render`), the completion report and `swarm top` use
them; all are pure functions of plain-JSON task rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from coordinator.timefmt import human_duration

#: The status classes of the Mermaid graph, with their colours (GitHub's palette).
STATUS_STYLES: dict[str, str] = {
    "complete": "fill:#dafbe1,stroke:#1a7f37,color:#0f5323",
    "in_progress": "fill:#ddf4ff,stroke:#0969da,color:#0a3069",
    "ready": "fill:#fff8c5,stroke:#9a6700,color:#4d2d00",
    "pending": "fill:#f6f8fa,stroke:#8c959f,color:#24292f",
    "blocked": "fill:#ffebe9,stroke:#cf222e,color:#82071e",
    "failed": "fill:#cf222e,stroke:#82071e,color:#ffffff",
    "unknown": "fill:#ffffff,stroke:#8c959f,color:#57606a,stroke-dasharray:4",
}

_ICON = {
    "complete": "✅",
    "in_progress": "🔄",
    "ready": "🟢",
    "pending": "⏳",
    "blocked": "⛔",
    "failed": "❌",
}


# --- formatting --------------------------------------------------------------------------


def cell(value: object) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped, `-` when empty."""
    text = "" if value is None else str(value)
    text = " ".join(text.split()).replace("|", "\\|")
    return text or "-"


def code(text: str) -> str:
    """`text` as an inline code span (plain when it holds a backtick)."""
    return cell(text) if "`" in text else f"`{cell(text)}`"


def table(headers: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    """A Markdown table; every cell goes through `cell`."""
    heads = list(headers)
    lines = [
        "| " + " | ".join(heads) + " |",
        "| " + " | ".join("---" for _ in heads) + " |",
    ]
    lines.extend(["| " + " | ".join([cell(c) for c in row]) + " |" for row in rows])
    return lines


def status_text(task: Mapping[str, Any]) -> str:
    """A task's status with its icon and flags (stalled, escalated)."""
    status = task.get("status")
    if status is None:
        return "no status"
    text = f"{_ICON.get(status, '❔')} {status}"
    if task.get("stalled"):
        text += " · stalled"
    if task.get("escalated_at") and status != "complete":
        text += " · escalated"
    if task.get("skipped"):
        text += " · skipped"
    return text


def progress_text(progress: Mapping[str, Any] | None) -> str:
    """`3/5 (60%)`, or `-` (also when only deliverables were reported: no total)."""
    if not progress or not progress.get("total"):
        return "-"
    done, total = int(progress.get("done") or 0), int(progress.get("total") or 0)
    percent = int(100 * done / total) if total else 0
    return f"{done}/{total} ({percent}%)"


def finished_duration(task: Mapping[str, Any]) -> str:
    """How long a finished task took; `running` for one still in progress."""
    if task.get("ended_at") is not None and task.get("started_at") is not None:
        return human_duration(float(task["ended_at"]) - float(task["started_at"]))
    if task.get("status") == "in_progress":
        return "running"
    return "-"


def notes_text(task: Mapping[str, Any]) -> str:
    """What a task waits on, why it is blocked or failed, and its progress blocker."""
    notes: list[str] = list(task.get("waits_on") or [])
    if task.get("held"):
        notes.append(f"held: {task['held']}")
    if task.get("reason") and task.get("status") in ("blocked", "failed"):
        notes.append(str(task["reason"]))
    progress = task.get("progress") or {}
    if progress.get("blocker") and task.get("status") != "complete":
        notes.append(f"blocker: {progress['blocker']}")
    return "; ".join(notes)


def denials_text(denials: Mapping[str, Any]) -> str:
    """`3 edits refused (claims held by other agents), by path: `a.py` 2, `b.py` 1`:
    the views' line on refused edits (`coordinator.claims.denials.denial_summary`)."""
    total = int(denials.get("total") or 0)
    paths = ", ".join(f"{code(str(p['path']))} {p['count']}" for p in denials.get("by_path") or [])
    noun = "edit" if total == 1 else "edits"
    return f"{total} {noun} refused (claims held by other agents)" + (
        f", by path: {paths}" if paths else ""
    )


# --- the Mermaid graph -------------------------------------------------------------------


def node_ids(tasks: list[Mapping[str, Any]]) -> dict[str, str]:
    """A Mermaid node id per task id (`t1`, `t2`, ... in view order)."""
    return {t["task"]: f"t{i}" for i, t in enumerate(tasks, start=1)}


def mermaid_graph(tasks: list[Mapping[str, Any]]) -> list[str]:
    """The dependency graph as a Mermaid flowchart, one node per task.

    Each `requires` dependency is a solid edge `dep --> task`; each `optional` one a dashed
    edge `dep -.-> task`. Nodes are coloured by status through `classDef`; tasks of
    several phases are grouped in a subgraph per phase.
    """
    ids = node_ids(tasks)
    lines = ["flowchart LR"]
    phases = sorted({t["phase"] for t in tasks})
    for index, phase in enumerate(phases, start=1):
        indent = "  "
        if len(phases) > 1:
            lines.append(f'  subgraph p{index} ["{phase}"]')
            indent = "    "
        for task in tasks:
            if task["phase"] == phase:
                label = f"{task['name']} · {task.get('status') or 'no status'}"
                lines.append(f'{indent}{ids[task["task"]]}["{_label(label)}"]')
        if len(phases) > 1:
            lines.append("  end")
    lines += _edges(tasks, ids)
    for name, style in STATUS_STYLES.items():
        lines.append(f"  classDef {name} {style}")
    by_class: dict[str, list[str]] = {}
    for task in tasks:
        status = task.get("status")
        klass = status if isinstance(status, str) and status in STATUS_STYLES else "unknown"
        by_class.setdefault(klass, []).append(ids[task["task"]])
    for klass, members in by_class.items():
        lines.append(f"  class {','.join(members)} {klass}")
    return lines


def _edges(tasks: list[Mapping[str, Any]], ids: Mapping[str, str]) -> list[str]:
    """`dep --> task` per `requires` dependency, then `dep -.-> task` per `optional` one,
    task by task (dependencies outside the graph left out)."""
    lines = []
    for task in tasks:
        target = ids[task["task"]]
        phase = task["phase"]
        for dep in task.get("requires") or ():
            source = ids.get(f"{phase}/{dep}")
            if source is not None:
                lines.append(f"  {source} --> {target}")
        for dep in task.get("optional") or ():
            source = ids.get(f"{phase}/{dep}")
            if source is not None:
                lines.append(f"  {source} -.-> {target}")
    return lines


def _label(text: str) -> str:
    # Inside a quoted Mermaid label a double quote ends the label; Mermaid's entity for it
    # keeps a status someone wrote by hand from breaking the graph.
    return " ".join(text.split()).replace('"', "#quot;")
