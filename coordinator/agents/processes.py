"""The daemon's dealings with operating-system processes: whether an agent still runs,
and finding an agent by the start token in its environment."""

from __future__ import annotations

import os
from pathlib import Path

#: The environment variable that carries an agent's start token.
TOKEN_VAR = "SWARM_START_TOKEN"  # noqa: S105 - a variable name, not a secret


def process_alive(pid: int) -> bool:
    """Whether a process with this pid is running (signal 0 checks without sending). An
    exited agent whose parent, the killed daemon, can no longer reap it lingers as a zombie
    where nothing adopts orphans: that counts as ended."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def process_start(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot, from /proc), or None where that
    cannot be read. With the pid it names one process: a pid reused later differs here."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    # Field 22 of stat(5); the split starts at field 3 (state).
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else None


def same_process(pid: int, started: int | None) -> bool:
    """Whether `pid` still runs and is the process that started at `started` (unknown
    start: the pid alone decides)."""
    if pid <= 0 or not process_alive(pid):
        return False
    return started is None or process_start(pid) in (None, started)


def find_token(token: str, proc: Path = Path("/proc")) -> int | None:
    """The pid of a live process whose environment carries start token `token` (the
    agent a killed daemon started after recording its intent), or None. Where there is no
    /proc, None: the start is then made again."""
    needle = f"{TOKEN_VAR}={token}".encode()
    try:
        entries = list(proc.iterdir())
    except OSError:
        return None
    found = []
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and process_alive(int(entry.name)):
            found.append(int(entry.name))
    # The shell the daemon started is the oldest of the agent's processes (lowest pid,
    # barring wrap-around); its children inherit the token.
    return min(found, default=None)
