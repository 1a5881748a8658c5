"""The dashboard file: where dashboards go, and writing each only when it changed.

The I/O edge of the dashboard (`coordinator.views.dashboard.render.render_dashboard`) is in two
parts: `DashboardWriter` decides where dashboards go and remembers what each holds (on
the daemon's event loop); `write_dashboards` renders them and writes each atomically (a
temporary file in the same directory, then `os.replace`) only when its content differs
from what was last written (in a worker thread, on copies of that state).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coordinator.project import make_directories
from coordinator.views.dashboard.render import render_dashboard
from memory.store import Store

#: A dashboard's phases: a list, or None for every loaded plan.
Phases = list[str] | None


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
    # Imported here: `swarm report` and the daemon load this module and may write no file.
    import tempfile

    make_directories(path.parent)
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
