"""What a user installs: a built wheel (and `pipx` / `uv tool` installs of the clone) run
from a directory outside the source tree, so nothing can be imported from the checkout.

These tests build and install for real; they need the package registry for the
dependencies (pip's and uv's caches make repeated runs fast).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("memory", "coordinator", "hooks")
BIN = Path(sys.executable).parent

PLAN = """\
phase: smoke
session: swarm-smoke
tasks:
  build:
    agent: builder
  ship:
    agent: shipper
    requires: [build]
"""


def clean_env(home: Path) -> dict[str, str]:
    """An environment with no trace of the checkout or of the test's virtual environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SWARM_", "GIT_", "PYTHON", "VIRTUAL_ENV", "PIP_", "UV_", "PIPX_"))
    }
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != BIN]
    env.update(
        {
            "PATH": os.pathsep.join(path),
            "HOME": str(home),
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "Smoke",
            "GIT_AUTHOR_EMAIL": "smoke@example.invalid",
            "GIT_COMMITTER_NAME": "Smoke",
            "GIT_COMMITTER_EMAIL": "smoke@example.invalid",
            # Reuse the machine's download caches: the point is what gets installed, not
            # downloading it again.
            "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache/pip")),
            "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache/uv")),
        }
    )
    return env


def run(args: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> str:
    """Run a command; fail the test with its output unless it exits 0."""
    proc = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"{args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def smoke(swarm: Path, work: Path, env: dict[str, str]) -> None:
    """The scenario a new user runs first, with an installed `swarm`, outside the source."""
    repo = work / "repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], repo, env)
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text("limit = 10\n")
    (repo / "plan.yaml").write_text(PLAN)
    sw = str(swarm)

    version = run([sw, "--version"], repo, env)
    assert "swarm, version" in version
    run([sw, "init"], repo, env)
    run([sw, "memory", "put", "smoke/baseline", '{"tests": 3}'], repo, env)
    got = json.loads(run([sw, "memory", "get", "smoke/baseline", "--json"], repo, env))
    assert got["value"] == {"tests": 3}
    run([sw, "plan", "load", "plan.yaml"], repo, env)
    run([sw, "daemon", "--once"], repo, env)
    run([sw, "hooks", "pre-task", "--task-id", "build", "--agent", "builder"], repo, env)
    run([sw, "hooks", "post-task", "--task-id", "build", "--agent", "builder"], repo, env)
    run([sw, "daemon", "--once"], repo, env)
    status = json.loads(run([sw, "memory", "get", "smoke/ship/status", "--json"], repo, env))
    assert status["value"] == "ready"

    fixture = (ROOT / "tests/fixtures/adapters/claude-PreToolUse.json").read_text()
    payload = fixture.replace("__REPO__", str(repo))
    run([sw, "hooks", "claude"], repo, env, stdin=payload)
    claims = run([sw, "claims", "--json"], repo, env)
    assert "src/app.py" in claims

    report = run([sw, "report", "--session-id", "swarm-smoke"], repo, env)
    assert "smoke/build" in report
    top = run([sw, "top", "--once", "--session-id", "swarm-smoke"], repo, env)
    assert "ship" in top


def source_modules() -> set[str]:
    """Every module and typing marker of the packages, as paths relative to the root."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            wanted = path.suffix == ".py" or path.name == "py.typed"
            if wanted and "__pycache__" not in path.parts:
                found.add(path.relative_to(ROOT).as_posix())
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A wheel built from the checkout, the way `pip install .` builds it."""
    out = tmp_path_factory.mktemp("dist")
    env = clean_env(tmp_path_factory.mktemp("home"))
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        out,
        env,
    )
    (built,) = out.glob("swarm_coordinator-*.whl")
    yield built


def test_wheel_holds_every_module(wheel: Path) -> None:
    """No subpackage, module or py.typed of the source is missing from the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = sorted(source_modules() - names)
    assert not missing, f"left out of the wheel: {missing}"


def test_installed_wheel_runs_outside_the_source(wheel: Path, tmp_path: Path) -> None:
    """A wheel in a fresh virtual environment runs the whole smoke scenario."""
    env = clean_env(tmp_path / "home")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    run([str(venv / "bin/python"), "-m", "pip", "install", "-q", str(wheel)], tmp_path, env)
    smoke(venv / "bin/swarm", tmp_path, env)


def test_uv_tool_install_from_a_clone(tmp_path: Path) -> None:
    """`uv tool install .` from the clone gives a working `swarm`."""
    env = clean_env(tmp_path / "home")
    bin_dir = tmp_path / "bin"
    env |= {"UV_TOOL_DIR": str(tmp_path / "tools"), "UV_TOOL_BIN_DIR": str(bin_dir)}
    run([str(BIN / "uv"), "tool", "install", "--python", sys.executable, "."], ROOT, env)
    smoke(bin_dir / "swarm", tmp_path, env)


def test_pipx_install_from_a_clone(tmp_path: Path) -> None:
    """`pipx install .` from the clone gives a working `swarm`."""
    env = clean_env(tmp_path / "home")
    bin_dir = tmp_path / "bin"
    env |= {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(bin_dir)}
    run([str(BIN / "pipx"), "install", "--python", sys.executable, "."], ROOT, env)
    smoke(bin_dir / "swarm", tmp_path, env)
