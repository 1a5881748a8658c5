"""The dashboard: a Markdown file the daemon keeps current, and what `swarm status` prints.

`render_dashboard` is a pure function of the plain-JSON dashboard view
(`coordinator.views.board.dashboard_view`). It holds nothing that changes with the clock alone:
no "generated at", no store revision and no live duration of running tasks, so the
daemon rewrites the file only when what it shows has changed. The I/O edge is in two
parts: `DashboardWriter` decides where dashboards go and remembers what each holds (on
the daemon's event loop); `write_dashboards` renders them and writes each atomically (a
temporary file in the same directory, then `os.replace`) only when its content differs
from what was last written (in a worker thread, on copies of that state).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from coordinator.claims.conflict_rules import last_seen, repeats_text, sightings
from coordinator.plans.conditions import format_value
from coordinator.timefmt import human_duration, utc_minute, utc_second
from memory.store import Store

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

#: A dashboard's phases: a list, or None for every loaded plan.
Phases = list[str] | None


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


# --- the dashboard -----------------------------------------------------------------------


def render_dashboard(view: Mapping[str, Any]) -> str:
    """The dashboard view as Markdown: progress, tasks, gates, claims, conflicts,
    escalations, the last events and the dependency graph."""
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


# --- writing the file --------------------------------------------------------------------


def new_file_mode() -> int:
    """The mode `open()` gives a new file: 0o666 less the process's umask (mkstemp's files
    are 0o600 whatever the umask, so a replacement must be given the mode explicitly)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` at once: readers see the old file or the new, never half.

    The temporary file lives in the same directory so that `os.replace` is a rename.
    """
    # Imported here: `swarm status` and the views load this module and never write a file.
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = new_file_mode()
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def dashboard_targets(
    plans: Mapping[str, Mapping[str, Any]], repo_root: Path, override: Path | None
) -> dict[Path, Phases]:
    """Where dashboards go and which phases each shows (None: every loaded plan).

    `override` (`swarm daemon --dashboard PATH`) shows every phase; a plan's `dashboard:`
    (relative to the repository root) shows the phases that name the same file.
    """
    targets: dict[Path, Phases] = {}
    for phase, header in sorted(plans.items()):
        name = header.get("dashboard")
        if isinstance(name, str) and name:
            path = (repo_root / name).resolve()
            shown = targets.setdefault(path, [])
            if shown is not None:
                shown.append(phase)
    if override is not None:
        targets[override.resolve()] = None
    return targets


class DashboardWriter:
    """Where the dashboards go and what each file holds, as far as we know.

    Its state belongs to one thread (the daemon's event loop, where the work-tree watcher
    asks `owns`); `write_dashboards` renders and writes elsewhere, on the snapshots that
    `targets` and `known` hand out, and `remember` takes back what it wrote.
    """

    def __init__(self, repo_root: Path, override: Path | None = None) -> None:
        self.repo_root = repo_root
        self.override = override
        #: Every dashboard file this writer has been asked to keep (replaced, never mutated).
        self._paths: frozenset[Path] = frozenset(() if override is None else {override.resolve()})
        #: What each dashboard file holds, as far as we know (read back on first use).
        self._last: dict[Path, str | None] = {}

    def wanted(self, plans: Mapping[str, Mapping[str, Any]]) -> bool:
        """Whether any dashboard is configured (an option or a plan's `dashboard:`)."""
        return self.override is not None or any(h.get("dashboard") for h in plans.values())

    def owns(self, path: str | Path) -> bool:
        """Whether `path` (absolute, or relative to the repository root) is one of our
        dashboards or one of their temporary files, so a work-tree watcher can skip it."""
        absolute = (self.repo_root / path).resolve()
        for target in self._paths:
            if absolute == target:
                return True
            name = absolute.name
            if (
                absolute.parent == target.parent
                and name.startswith(f".{target.name}.")
                and name.endswith(".tmp")
            ):
                return True
        return False

    def targets(self, plans: Mapping[str, Mapping[str, Any]]) -> dict[Path, Phases]:
        """Where the dashboards of `plans` go (see `dashboard_targets`); each is remembered
        as ours before anything is written to it."""
        found = dashboard_targets(plans, self.repo_root, self.override)
        self._paths = self._paths | found.keys()
        return found

    def known(self) -> dict[Path, str | None]:
        """A copy of what each dashboard file holds, as far as we know."""
        return dict(self._last)

    def remember(self, contents: Mapping[Path, str | None]) -> None:
        """Take back what `write_dashboards` found or wrote."""
        self._last.update(contents)

    def refresh(self, store: Store, plans: Mapping[str, Mapping[str, Any]]) -> list[Path]:
        """Render every dashboard; write those whose content changed. Returns them.
        Everything on the calling thread (the daemon splits it; see the class docstring)."""
        contents, written = write_dashboards(store, targets=self.targets(plans), known=self.known())
        self.remember(contents)
        return written


def write_dashboards(
    store: Store, *, targets: Mapping[Path, Phases], known: Mapping[Path, str | None]
) -> tuple[dict[Path, str | None], list[Path]]:
    """Render each target and write it when its content differs from what `known` says the
    file holds (read from disk when unknown). Returns what the files now hold and which
    were written. It shares no state with its caller, so it may run in a worker thread."""
    from coordinator.views.board import dashboard_view

    contents: dict[Path, str | None] = {}
    written = []
    for path, phases in targets.items():
        current = known[path] if path in known else _read_text(path)
        content = render_dashboard(dashboard_view(store, phases))
        if content != current:
            write_atomic(path, content)
            written.append(path)
        contents[path] = content
    return contents, written


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        return None
