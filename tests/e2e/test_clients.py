"""Which client releases a run uses: the pins, or with `scripts/e2e --latest`
(SWARM_E2E_LATEST=1) the newest each package has on the npm registry, installed into a
cache of their own. No network: the registry's answer is stood in for."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import clients


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No SWARM_E2E_* from the calling run, a cache home of the test's own, and `wanted`
    asked again."""
    for name in ("SWARM_E2E_LATEST", "SWARM_E2E_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    clients.wanted.cache_clear()
    yield
    clients.wanted.cache_clear()


def test_a_plain_run_uses_the_pins_in_the_pinned_cache(tmp_path: Path) -> None:
    assert clients.wanted() == clients.PACKAGES
    assert clients.cache_dir() == tmp_path / "swarm-e2e" / "npm"
    assert clients.describe(clients.wanted()).startswith("agent CLIs (pinned): ")


def test_a_latest_run_asks_the_registry_once_and_installs_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asked: list[str] = []

    def newest(package: str) -> str:
        asked.append(package)
        return f"9.9.{len(asked)}"

    monkeypatch.setenv("SWARM_E2E_LATEST", "1")
    monkeypatch.setattr(clients, "newest_version", newest)
    versions = clients.wanted()
    assert versions == {
        "claude": ("@anthropic-ai/claude-code", "9.9.1"),
        "codex": ("@openai/codex", "9.9.2"),
        "gemini": ("@google/gemini-cli", "9.9.3"),
    }
    assert clients.wanted() is versions
    assert len(asked) == 3
    assert clients.cache_dir() == tmp_path / "swarm-e2e" / "latest"
    line = clients.describe(versions)
    assert line.startswith("agent CLIs (the newest on the npm registry): ")
    assert "@openai/codex 9.9.2" in line


def test_an_explicit_cache_wins_in_either_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SWARM_E2E_CACHE", str(tmp_path / "mine"))
    assert clients.cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("SWARM_E2E_LATEST", "1")
    assert clients.cache_dir() == tmp_path / "mine"


def test_the_script_with_latest_runs_the_suite_against_the_newest(tmp_path: Path) -> None:
    # `npm` is a stand-in that answers `npm view PKG version` with 9.9.9; only the header
    # (which names the versions) and the collection run, so nothing is installed.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "npm").write_text('#!/bin/sh\n[ "$1" = view ] && echo 9.9.9\n', encoding="utf-8")
    (fake / "npm").chmod(0o755)
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_E2E")}
    env["PATH"] = f"{fake}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        [str(root / "scripts" / "e2e"), "--latest", "--collect-only", "tests/e2e/test_clients.py"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "== e2e (the newest agent CLIs)" in proc.stdout
    assert (
        "agent CLIs (the newest on the npm registry): @anthropic-ai/claude-code 9.9.9, "
        "@openai/codex 9.9.9, @google/gemini-cli 9.9.9"
    ) in proc.stdout
