"""A read-only disk is one documented line, exit 1 (issue 13): the store on it is not
changed and nothing prints a Python exception. The disk is a real read-only file system:
a tmpfs mounted for the test and remounted read-only (root only, as in CI)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import Project, git_env

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a file system needs root")


class Mount:
    """A tmpfs at `path` that the test can turn read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_only(self) -> None:
        """Remount the file system read-only."""
        subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Mount]:
    """A fresh tmpfs, unmounted at the end of the test whatever happened."""
    path = tmp_path / "disk"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "none", str(path)], check=True)
    try:
        yield Mount(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def one_line(result: object, says: str) -> str:
    """The single `swarm: error:` line of a refused command."""
    code, stderr = result.code, result.stderr  # type: ignore[attr-defined]
    assert code == 1, result
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("swarm: error: "), stderr
    assert "internal error" not in lines[0] and "Traceback" not in stderr
    assert says in lines[0], lines[0]
    return str(lines[0])


def digest(directory: Path) -> dict[str, str]:
    """Every file under `directory` with a hash of its bytes."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_export_to_a_read_only_disk_is_one_line(project: Project, mount: Mount) -> None:
    project.ok("memory", "put", "mine", "1")
    mount.read_only()
    line = one_line(
        project.swarm("memory", "export", "-o", str(mount.path / "out.jsonl")),
        says="Read-only file system",
    )
    assert str(mount.path / "out.jsonl") in line
    assert project.value("mine") == 1


def test_the_daemon_on_a_store_on_a_read_only_disk_is_one_line(mount: Mount) -> None:
    root = mount.path / "repo"
    root.mkdir()
    env = git_env()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=env)
    repo = Project(root, env)
    repo.ok("init")
    plan = repo.write_plan("phase: p\nsession: s\ntasks:\n  a: {}\n  b:\n    requires: [a]\n")
    repo.ok("plan", "load", str(plan))
    before = digest(root / ".swarm")
    mount.read_only()
    result = repo.swarm("daemon", "--once")
    one_line(result, says="read-only")
    # Reads and hooks say the same, not "corrupt" or a driver's bare message.
    one_line(repo.swarm("memory", "list"), says="read-only file system")
    one_line(repo.swarm("hooks", "pre-edit", "--file", "x.py", "--agent", "a"), says="read-only")
    assert digest(root / ".swarm") == before
