"""An agent a killed daemon started is watched by the next one by pid and start time."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from types import SimpleNamespace
from typing import cast

import anyio
import pytest

from coordinator.agents.processes import process_start
from coordinator.daemon.agents import Adopted, Supervisor
from coordinator.daemon.model import Host, Model


@pytest.fixture
def running() -> Iterator[int]:
    """The pid of a live process (stopped at the end)."""
    proc = subprocess.Popen(["sleep", "60"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_an_adopted_pid_now_naming_a_later_process_is_an_agent_that_ended(running: int) -> None:
    started = process_start(running)
    assert started is not None
    # No spec for either task: reaping only forgets the watch (the task is not ours).
    supervisor = Supervisor(cast(Host, SimpleNamespace(model=Model())), max_agents=1)
    supervisor.adopted = {
        "p/still-running": Adopted(running, "a", None, started=started),
        # The agent recorded under this pid started at another moment: the pid was reused.
        "p/pid-reused": Adopted(running, "b", None, started=started - 1),
    }
    assert anyio.run(supervisor.reap_adopted, 0.0) == 0
    assert list(supervisor.adopted) == ["p/still-running"]
