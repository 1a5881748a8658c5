"""A client's interactive terminal UI, run in a pseudo-terminal and driven as a person at a
terminal drives it: what it draws goes to a terminal emulator (pyte), whose screen is what
the test reads, and the questions a UI asks its terminal (cursor position, colours, device
attributes) are answered, so that the UI starts as it would in a real terminal.

A key a UI reads while it is still setting up can be lost, so `press` sends a key again
until what it should bring about shows: a key whose effect is idempotent (move to an
option) or that nothing else would read (Enter on a prompt that has gone) is safe to send
twice. Nothing sleeps: every wait is a deadline on output or on a condition.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pyte

#: What a terminal answers to the questions a UI asks it at start-up.
_ANSWERS = {
    b"\x1b[6n": b"\x1b[1;1R",  # cursor position
    b"\x1b[c": b"\x1b[?62;22c",  # primary device attributes: a VT220 with colour
    b"\x1b]10;?": b"\x1b]10;rgb:ffff/ffff/ffff\x1b\\",  # foreground colour
    b"\x1b]11;?": b"\x1b]11;rgb:0000/0000/0000\x1b\\",  # background colour
    b"\x1b[?1007$p": b"\x1b[?1007;2$y",  # alternate scroll mode: reset
}
ROWS, COLUMNS = 50, 160


class Terminal:
    """A process attached to a pseudo-terminal of its own (its controlling terminal)."""

    def __init__(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))

        def attach() -> None:  # in the child: a session whose terminal is the pty
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            preexec_fn=attach,  # noqa: PLW1509 - setsid and TIOCSCTTY only, before exec
        )
        os.close(slave)
        self.master = master
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)

    def text(self) -> str:
        """What the screen shows now, line by line."""
        return "\n".join(line.rstrip() for line in self.screen.display)

    def read(self, timeout: float) -> None:
        """Take in what the UI writes within `timeout` seconds (at most one read)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the UI has exited: the pty is closed
            data = b""
        if not data:
            if self.proc.poll() is None:
                return
            raise AssertionError(f"the UI exited ({self.proc.returncode}):\n{self.text()}")
        self.stream.feed(data)
        for question, reply in _ANSWERS.items():
            if question in data:
                os.write(self.master, reply)

    def wait_for(self, done: Callable[[], bool] | str, timeout: float = 60.0) -> None:
        """Wait until `done()` (or until the screen shows the text `done`); fail with the
        screen when the deadline passes."""
        check = done if callable(done) else (lambda: done in self.text())
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting; the screen shows:\n{self.text()}")
            self.read(0.05)

    def press(
        self,
        key: str,
        done: Callable[[str], bool],
        *,
        again_after: float = 2.0,
        timeout: float = 60.0,
    ) -> None:
        """Send `key` until `done(the screen)` holds, again each `again_after` seconds
        without it."""
        deadline = time.monotonic() + timeout
        while True:
            os.write(self.master, key.encode())
            resend = time.monotonic() + again_after
            while time.monotonic() < resend:
                if done(self.text()):
                    return
                self.read(0.05)
            if time.monotonic() > deadline:
                raise AssertionError(f"{key!r} had no effect; the screen shows:\n{self.text()}")

    def close(self) -> None:
        """Kill the UI and whatever it started (its session)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        os.close(self.master)
