"""`swarm doctor`, the daemon's start-up check and the corruption message, on real stores
with bytes flipped in one page."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.integration.conftest import Project

PAGE = 4096


def _filled(project: Project) -> bytes:
    """20 keys of 400 bytes each; the store file's bytes once its WAL is checkpointed."""
    with project.store() as store:
        for i in range(20):
            store.put(f"k/{i:02}", f"v{i:02}" + "x" * 397)
    conn = sqlite3.connect(project.db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return project.db.read_bytes()


def _flip(db: Path, original: bytes, page: int, offset: int) -> None:
    data = bytearray(original)
    start = (page - 1) * PAGE + offset
    data[start : start + 16] = bytes(b ^ 0xFF for b in data[start : start + 16])
    db.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)


def _integrity(db: Path) -> str:
    try:
        conn = sqlite3.connect(db)
        try:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        return str(err)


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("swarm: error: "), stderr
    return lines[0]


def test_a_sound_store_is_ok(project: Project) -> None:
    project.ok("memory", "put", "a", "1")
    result = project.ok("doctor")
    assert "integrity       ok" in result.stdout
    assert "records         ok" in result.stdout
    data = json.loads(project.ok("doctor", "--json").stdout)
    assert data["store_problems"] == [] and data["record_problems"] == []
    assert data["application_id"] is not None


def test_flipped_bytes_are_found_by_doctor_and_refused_by_the_daemon(project: Project) -> None:
    original = _filled(project)
    pages = len(original) // PAGE
    silent = None  # a page whose damage `memory list` does not notice
    for page in range(2, pages + 1):
        _flip(project.db, original, page, 8)
        if _integrity(project.db) == "ok":
            continue
        listed = project.swarm("memory", "list")
        if listed.code == 0:
            silent = page
            break
        assert "swarm doctor" in _one_line(listed.stderr)
    assert silent is not None, "no page's damage went unnoticed by a plain read"
    doctor = project.swarm("doctor")
    assert doctor.code == 1
    assert "integrity       PROBLEMS" in doctor.stdout
    assert "problem(s) found" in _one_line(doctor.stderr)
    daemon = project.swarm("daemon", "--once", timeout=30)
    assert daemon.code == 1
    line = _one_line(daemon.stderr)
    assert str(project.db) in line
    assert "swarm doctor" in line


def test_a_value_that_does_not_decode_is_one_line_naming_doctor(project: Project) -> None:
    original = _filled(project)
    for page in range(2, len(original) // PAGE + 1):
        _flip(project.db, original, page, PAGE - 96)
        listed = project.swarm("memory", "list")
        if listed.code != 0:
            line = _one_line(listed.stderr)
            assert str(project.db) in line
            assert "swarm doctor" in line
            assert project.swarm("doctor").code == 1
            return
    pytest.fail("no flipped value page made a read fail")


def test_a_foreign_file_is_reported(project: Project) -> None:
    shutil.copy(project.db, project.root / "copy.db")
    conn = sqlite3.connect(project.root / "copy.db")
    conn.execute("PRAGMA application_id = 12345")
    conn.close()
    result = project.swarm("--db", str(project.root / "copy.db"), "doctor")
    assert result.code == 1
    assert "not a swarm store" in result.stdout


def test_holderless_and_orphaned_claims_are_reported(project: Project) -> None:
    (project.root / "src").mkdir()
    (project.root / "src" / "a.py").write_text("")
    project.ok("hooks", "pre-edit", "--file", "src/a.py", "--agent", "alice")
    header = {"format": "swarm-export", "version": 1, "revision": 5, "exported_at": 0}
    forged = {
        "key": "swarm/claims/0123456789abcdef/mallory",
        "value": {"path": "src/b.py", "agent": "mallory", "mode": "exclusive"},
        "version": 1,
        "create_rev": 1,
        "mod_rev": 1,
    }
    path = project.root / "in.jsonl"
    path.write_text(json.dumps(header) + "\n" + json.dumps(forged) + "\n")
    project.ok("memory", "import", "--merge", "--force", str(path))
    result = project.swarm("doctor")
    assert result.code == 1
    assert "has no lease" in result.stdout
    assert "not stored under its own key" in result.stdout
    assert "alice" not in result.stdout  # a registered holder with a lease is fine
