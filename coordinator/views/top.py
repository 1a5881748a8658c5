"""`swarm top`: a live terminal view of tasks, agents, claims and events, built with rich.

`render_top` is a pure function of the dashboard view and `now`. `run_top` is the shell:
it redraws when the store changes (`memory.watch.wakeups`, with a poll timeout as the
backstop), quits on `q` (stdin read in cbreak mode by a thread), and prints a single
snapshot when asked to (`--once`) or when stdin or stdout is not a terminal.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from coordinator.timefmt import human_duration, local_clock
from coordinator.views.board import session_dashboard_view
from coordinator.views.markdown import progress_text
from coordinator.views.session_text import deliverables_text
from memory.backends import open_store
from memory.store import Store

_STYLE = {
    "complete": "green",
    "in_progress": "cyan",
    "ready": "yellow",
    "pending": "dim",
    "blocked": "red",
    "failed": "bold red",
}
#: Keys that quit the live view.
QUIT_KEYS = b"qQ"
#: The width of a snapshot printed to something that is not a terminal.
SNAPSHOT_WIDTH = 160


def _elapsed(task: Mapping[str, Any], now: float) -> str:
    started, ended = task.get("started_at"), task.get("ended_at")
    if started is None:
        return "-"
    if ended is not None:
        return human_duration(float(ended) - float(started))
    return human_duration(now - float(started)) if task.get("status") == "in_progress" else "-"


def render_top(view: Mapping[str, Any], now: float, *, live: bool = False) -> RenderableType:
    """The view as rich tables: a header line, tasks, agents, claims and recent events."""
    summary = view["summary"]
    title = ", ".join(view.get("sessions") or view["phases"]) or "no plan loaded"
    header = Text.assemble(
        ("swarm top", "bold"),
        f"  {title}  ·  {summary['complete']}/{summary['tasks']} tasks complete  ·  ",
        (time.strftime("%H:%M:%S", time.localtime(now)), "dim"),
        ("  ·  press q to quit" if live else "", "dim"),
    )
    tasks = Table(title="Tasks", title_justify="left", expand=True, show_edge=False)
    for name in ("task", "pri", "status", "agent", "progress", "started", "elapsed", "waits on"):
        tasks.add_column(name, overflow="fold", no_wrap=name == "task")
    for t in view["tasks"]:
        status = t.get("status") or "-"
        flags = (" stalled" if t.get("stalled") else "") + (
            " escalated" if t.get("escalated_at") and status != "complete" else ""
        )
        title = t.get("title")
        # Plain Text cells: conditions such as `KEY[field] >= 1` are not rich markup.
        tasks.add_row(
            Text(t["task"] + (f"\n{title}" if title and title != t.get("name") else "")),
            t.get("priority") or "-",
            Text(status + flags, style=_STYLE.get(status, "")),
            t.get("agent") or "-",
            progress_text(t.get("progress"))
            + (f"\n✔ {deliverables_text(t)}" if t.get("deliverables") else ""),
            local_clock(t.get("started_at")),
            _elapsed(t, now),
            Text(
                "; ".join(
                    [*(t.get("waits_on") or []), *([f"held: {t['held']}"] if t.get("held") else [])]
                )
                or (t.get("reason") or "" if status in ("blocked", "failed") else "")
            ),
        )
    agents = Table(title="Agents", title_justify="left", expand=True, show_edge=False)
    for name in ("agent", "state", "session", "branch", "running"):
        agents.add_column(name, overflow="fold")
    for a in view["agents"]:
        running = [
            t["task"]
            for t in view["tasks"]
            if t.get("agent") == a["agent"] and t.get("status") == "in_progress"
        ]
        agents.add_row(
            a["agent"],
            Text("live", style="green")
            if a["live"]
            else Text("gone" if a.get("gone") else "silent", style="red"),
            a.get("session") or "-",
            a.get("branch") or "-",
            ", ".join(running) or "-",
        )
    claims = Table(title="Claims", title_justify="left", expand=True, show_edge=False)
    for name in ("path", "mode", "agent", "task", "since"):
        claims.add_column(name, overflow="fold")
    for c in view["claims"]:
        claims.add_row(
            str(c.get("path")),
            str(c.get("mode")),
            str(c.get("agent")),
            c.get("task") or "-",
            local_clock(c.get("granted_at")),
        )
    events = Table(title="Events", title_justify="left", expand=True, show_edge=False)
    for name in ("time", "event", "task", "agent", "message"):
        events.add_column(name, overflow="fold")
    for e in view["events"]:
        events.add_row(
            local_clock(e.get("ts")),
            str(e.get("type")),
            e.get("task") or "-",
            e.get("agent") or "-",
            Text(e.get("message") or ""),
        )
    parts: list[RenderableType] = [header, tasks, agents, claims]
    if view["conflicts"]:
        parts.append(Text(f"{len(view['conflicts'])} open conflict(s)", style="bold red"))
    parts.append(events)
    return Group(*parts)


def is_interactive(stdin: IO[Any], stdout: IO[Any]) -> bool:
    """Whether both ends are terminals (a live view needs keys in and a screen out)."""
    return stdin.isatty() and stdout.isatty()


def snapshot(store: Store, session: str | None, out: IO[str]) -> None:
    """Print one rendering of the view and return."""
    width = None if out.isatty() else int(os.environ.get("COLUMNS") or SNAPSHOT_WIDTH)
    console = Console(file=out, width=width)
    console.print(render_top(session_dashboard_view(store, session), store.clock()))


@contextlib.contextmanager
def cbreak(fd: int) -> Iterator[None]:
    """Keys arrive one at a time, unechoed; the terminal is restored on the way out."""
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def watch_keys(fd: int, stop: threading.Event) -> None:
    """Set `stop` when a quit key arrives on `fd` or it reaches end of file."""
    while not stop.is_set():
        # A short select lets the thread notice `stop` set by someone else and end.
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        data = os.read(fd, 64)
        if not data or any(key in QUIT_KEYS for key in data):
            stop.set()


def run_top(
    db_path: Path,
    session: str | None,
    *,
    poll: float,
    once: bool = False,
    stdin: IO[Any] | None = None,
    stdout: IO[str] | None = None,
) -> None:
    """Show the live view until `q` (one snapshot with `once` or without a terminal)."""
    from rich.live import Live

    from memory.watch import wakeups

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    with open_store(db_path) as store:
        if once or not is_interactive(stdin, stdout):
            snapshot(store, session, stdout)
            return
        stop = threading.Event()
        fd = stdin.fileno()
        keys = threading.Thread(target=watch_keys, args=(fd, stop), name="swarm-top-keys")
        revision, view = store.revision(), session_dashboard_view(store, session)
        with (
            cbreak(fd),
            Live(
                render_top(view, store.clock(), live=True),
                console=Console(file=stdout),
                screen=True,
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=False,
            ) as live,
        ):
            keys.start()
            try:
                for _ in wakeups(db_path, poll, stop):
                    if stop.is_set():
                        break
                    # A wake-up is a change or the poll timeout; only a change is re-read,
                    # the timeout just moves the clock and the running tasks' elapsed time.
                    if store.revision() != revision:
                        revision, view = store.revision(), session_dashboard_view(store, session)
                    live.update(render_top(view, store.clock(), live=True), refresh=True)
            finally:
                stop.set()
                keys.join()
