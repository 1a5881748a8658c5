"""PostgreSQL wake-ups and the daemon lock, over psycopg: LISTEN/NOTIFY with a periodic
backstop (`wakeups`, for `memory watch` and every `--wait`; the daemon's async twin is in
`memory.pg_aio`), and `AdvisoryLock`, one daemon per store across machines."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg

from memory import sql
from memory.errors import NoStore, SwarmError
from memory.locator import redact
from memory.pg import RECONNECT_DELAY, STOP_CHECK, connect_kwargs, translate


def listen_statement(schema: str) -> psycopg.sql.Composed:
    from psycopg import sql as pgsql

    return pgsql.SQL("LISTEN {}").format(pgsql.Identifier(sql.PG_CHANNEL_PREFIX + schema))


def _listen(url: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, **connect_kwargs(url, "swarm-watch"))
    try:
        row = conn.execute("SELECT current_schema()").fetchone()
        if row is None or row[0] is None:
            raise NoStore(f"{redact(url)}: the search_path names no existing schema")
        conn.execute(listen_statement(str(row[0])))
    except BaseException:
        conn.close()
        raise
    return conn


def wakeups(url: str, poll: float, stop: threading.Event | None = None) -> Iterator[None]:
    """Yield once listening, then on every committed write (NOTIFY) or when `poll` seconds
    pass, until `stop` is set. A lost connection is re-made; each (re)connection and each
    failed attempt yields too, so that the caller catches up (or sees the error)."""
    conn: psycopg.Connection[Any] | None = None
    stopped = stop.is_set if stop is not None else (lambda: False)
    try:
        while not stopped():
            try:
                if conn is None:
                    conn = _listen(url)
                    last = time.monotonic()
                    yield None
                    continue
                step = max(0.0, min(STOP_CHECK, poll - (time.monotonic() - last)))
                notified = any(True for _ in conn.notifies(timeout=step, stop_after=1))
                if notified or time.monotonic() - last >= poll:
                    last = time.monotonic()
                    yield None
            except psycopg.Error:
                if conn is not None:
                    conn.close()
                    conn = None
                if stop is not None:
                    stop.wait(RECONNECT_DELAY)
                else:
                    time.sleep(RECONNECT_DELAY)
                last = time.monotonic()
                yield None
    finally:
        if conn is not None:
            conn.close()


# --- one daemon per store ------------------------------------------------------------------


def holder_name() -> str:
    """How this process shows in `pg_stat_activity` while it holds the daemon lock."""
    # application_name keeps 63 bytes: the pid first, so a long host name is what is cut.
    return f"swarm-daemon pid {os.getpid()} on {socket.gethostname()}"


class AdvisoryLock:
    """One daemon per store across machines: a session-level advisory lock on a connection
    of its own, released by the server when that connection ends.

    A keeper thread checks the connection every second; when it was lost (a server
    restart, a killed backend) it takes the lock again. If another daemon took it
    meanwhile, `on_lost` runs; by default it sends this process SIGTERM, the daemon's
    clean stop, since two daemons must not act on one store.
    """

    def __init__(self, url: str, refuse: Callable[[str], SwarmError]) -> None:
        self.url = url
        self._refuse = refuse
        self._conn: psycopg.Connection[Any] | None = None
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None
        self.on_lost: Callable[[], object] | None = None

    def _take(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.url, **connect_kwargs(self.url, holder_name()))
        try:
            row = conn.execute(sql.PG_TRY_DAEMON_LOCK).fetchone()
            if row is None or not row[0]:
                held = conn.execute(sql.PG_DAEMON_LOCK_HOLDER).fetchone()
                holder = str(held[0]) if held and held[0] else "another session"
                holder = holder.removeprefix("swarm-daemon ")
                raise self._refuse(
                    f"another swarm daemon ({holder}) is already running on this store"
                )
        except BaseException:
            conn.close()
            raise
        return conn

    def acquire(self) -> None:
        """Take the lock or raise the refusal naming the host and pid that hold it."""
        try:
            self._conn = self._take()
        except psycopg.Error as err:
            raise translate(err, self.url) from None
        self._keeper = threading.Thread(target=self._keep, name="swarm-lock-keeper", daemon=True)
        self._keeper.start()

    def _keep(self) -> None:
        while not self._stop.wait(1.0):
            conn = self._conn
            try:
                if conn is None or conn.closed:
                    raise psycopg.OperationalError("lock connection closed")
                conn.execute("SELECT 1")
            except psycopg.Error:
                if conn is not None:
                    conn.close()
                self._conn = None
                try:
                    self._conn = self._take()
                except psycopg.Error:
                    continue  # the server is still away: try again
                except SwarmError:
                    if self.on_lost is not None:
                        self.on_lost()
                    else:
                        os.kill(os.getpid(), signal.SIGTERM)
                    return

    def release(self) -> None:
        """Drop the lock (closing its connection)."""
        self._stop.set()
        if self._keeper is not None:
            self._keeper.join(timeout=5)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
