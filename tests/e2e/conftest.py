"""Fixtures for the end-to-end suite: the real agent CLIs (installed once into a cache),
the fake model server, a git repository set up by `swarm init --<client>`, and sessions run
as the CLIs' own processes.

This directory is collected only when asked for by path (`scripts/e2e` runs
`pytest tests/e2e`) or with SWARM_E2E=1: `./scripts/test` stays offline and fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.clients import CLIENTS, cache_dir, describe, install_clients, wanted
from tests.e2e.fake_model import FakeModel, FakeModelServer
from tests.e2e.workspace import Workspace, make_workspace

HERE = Path(__file__).resolve().parent


def _asked_for(config: pytest.Config) -> bool:
    if os.environ.get("SWARM_E2E", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    for arg in config.args:
        target = Path(config.invocation_params.dir, arg.split("::", 1)[0]).resolve()
        if target == HERE or HERE in target.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave the end-to-end tests out of a run that did not ask for them."""
    if collection_path.name.startswith("test_") and not _asked_for(config):
        return True
    return None


def pytest_report_header(config: pytest.Config) -> str | None:
    """Which release of each client the run uses (the pins, or with `--latest` the newest)."""
    return describe(wanted()) if _asked_for(config) else None


@pytest.fixture(scope="session")
def binaries() -> dict[str, Path]:
    """The agent CLIs (pinned, or the newest with SWARM_E2E_LATEST), installed from the npm
    registry into the shared cache."""
    return install_clients(cache_dir(), wanted())


@pytest.fixture
def model() -> Iterator[FakeModelServer]:
    """The fake model server on 127.0.0.1, one per test."""
    server = FakeModelServer(FakeModel()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def workspace_for(
    binaries: dict[str, Path], model: FakeModelServer, tmp_path: Path
) -> Iterator[Callable[[str], Workspace]]:
    """Make a repository with `src/app.py` committed and `swarm init --<client>` run in it
    (one per test); sessions still running at the end are killed, daemons stopped."""
    made: list[Workspace] = []

    def make(name: str) -> Workspace:
        client = next(c for c in CLIENTS if c.name == name)
        space = make_workspace(client, binaries[name], model, tmp_path / name)
        made.append(space)
        return space

    yield make
    for space in made:
        for session in space.sessions:
            session.kill()
        for daemon in space.daemons:
            daemon.stop()
