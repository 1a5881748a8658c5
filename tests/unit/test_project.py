"""Finding the repository and the store from a directory given relative to the working
directory, as an agent's hook payload may give it (`"cwd": "src"`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from coordinator.project import default_store_path, find_repo_root, store_dir_for, store_location


def test_a_relative_start_inside_the_working_directorys_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path)

    assert find_repo_root("src") == "."
    assert default_store_path("src") == ".swarm/memory.db"
    assert store_dir_for("src") == ".swarm"
    url = "postgresql://u:pw@db.example/swarm"
    assert store_location(None, {"SWARM_DB": url}, "src").startswith(".swarm/postgresql%3A")
