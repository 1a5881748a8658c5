"""Every bad input issue 13 found is one documented line on stderr, exit 1, and the store
unchanged (never `internal error: <Python exception>`)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import SWARM, Project

DEEP = "[" * 5000 + "]" * 5000


def snapshot(project: Project) -> tuple[int, list[tuple[str, object]]]:
    """The store's revision and every key with its value."""
    with project.store() as store:
        return store.revision(), [(r.key, r.value) for r in store.list_prefix("")]


def refused(project: Project, *args: str, says: str, input: str | None = None) -> str:
    """Run `swarm ARGS`: exit 1, one `swarm: error:` line naming `says`, store unchanged."""
    before = snapshot(project)
    result = project.swarm(*args, input=input)
    assert result.code == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("swarm: error: "), result.stderr
    assert "internal error" not in lines[0]
    assert "swarm: error: swarm:" not in lines[0]
    assert says in lines[0], lines[0]
    assert snapshot(project) == before
    return lines[0]


@pytest.mark.parametrize("ttl", ["nan", "inf", "-inf", "1e400"])
def test_a_non_finite_ttl_is_refused(project: Project, ttl: str) -> None:
    refused(project, "memory", "put", "k", "1", "--ttl", ttl, says="ttl")


@pytest.mark.parametrize("ttl", ["-5", "0", "nan", "inf"])
def test_session_start_refuses_a_ttl_that_is_not_a_positive_number(
    project: Project, ttl: str
) -> None:
    args = ("hooks", "session-start", "--session-id", "s", "--agent", "a", "--ttl", ttl)
    refused(project, *args, says="--ttl")


def test_deeply_nested_and_lone_surrogate_values_are_refused(project: Project) -> None:
    refused(project, "memory", "put", "k", DEEP, says="nested too deeply")
    refused(project, "memory", "put", "k", '"\\ud800"', says="lone surrogate")
    refused(project, "memory", "put", "k", '{"a": "x\\udfff"}', says="lone surrogate")
    metrics = '{"a":' * 3000 + "1" + "}" * 3000
    project.ok("hooks", "pre-task", "--task-id", "t", "--agent", "a")
    refused(project, "hooks", "post-task", "--task-id", "t", "--metrics", metrics, says="metrics")


def test_an_empty_or_directory_db_is_refused(project: Project, tmp_path: Path) -> None:
    refused(project, "--db", "", "memory", "list", says="--db is empty")
    refused(project, "hooks", "--db", "", "notify", "--message", "x", says="--db is empty")
    refused(project, "--db", str(tmp_path), "memory", "list", says="is a directory")
    refused(project, "hooks", "--db", str(tmp_path), "notify", "--message", "x", says="directory")


def _export(project: Project, lines: list[dict[str, object]], name: str = "in.jsonl") -> Path:
    header = {"format": "swarm-export", "version": 1, "revision": 5, "exported_at": 0}
    path = project.root / name
    path.write_text("".join(json.dumps(x) + "\n" for x in [header, *lines]))
    return path


def test_import_merge_refuses_the_reserved_root_without_force(project: Project) -> None:
    project.ok("memory", "put", "mine", "1")
    claim = {
        "key": "swarm/claims/0123456789abcdef/mallory",
        "value": {"path": "src/app.py", "agent": "mallory", "mode": "exclusive"},
        "version": 1,
        "create_rev": 1,
        "mod_rev": 1,
    }
    path = _export(project, [claim])
    refused(project, "memory", "import", "--merge", str(path), says="reserved")
    project.ok("memory", "import", "--merge", "--force", str(path))
    assert project.value(str(claim["key"])) == claim["value"]


def test_bad_import_files_are_refused(project: Project) -> None:
    project.ok("memory", "put", "mine", "1")
    record = {"key": "k", "value": 1, "version": 1, "create_rev": 1, "mod_rev": 2**63}
    huge = _export(project, [record])
    refused(project, "memory", "import", "--merge", str(huge), says="mod_rev")
    header = project.root / "rev.jsonl"
    header.write_text(
        json.dumps({"format": "swarm-export", "version": 1, "revision": 2**64, "exported_at": 0})
        + "\n"
    )
    refused(project, "memory", "import", "--merge", str(header), says="revision")
    binary = project.root / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage\n")
    refused(project, "memory", "import", "--merge", str(binary), says="not UTF-8")
    deep = _export(project, [{"key": "k", "value": 1, "version": 1, "create_rev": 1, "mod_rev": 1}])
    deep.write_text(deep.read_text() + '{"key": "d", "value": ' + DEEP + "}\n")
    refused(project, "memory", "import", "--merge", str(deep), says="nested too deeply")
    odd = _export(
        project,
        [{"key": "k", "value": "\ud800", "version": 1, "create_rev": 1, "mod_rev": 1}],
        "odd.jsonl",
    )
    refused(project, "memory", "import", "--merge", str(odd), says="lone surrogate")


def test_a_plan_that_is_not_utf8_is_refused(project: Project) -> None:
    plan = project.root / "plan.yaml"
    plan.write_bytes(b"phase: p\ntasks:\n  a: {title: \xff}\n")
    refused(project, "plan", "load", str(plan), says="not UTF-8")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_export_to_a_full_disk_is_one_line(project: Project) -> None:
    project.ok("memory", "put", "mine", "1")
    refused(project, "memory", "export", "-o", "/dev/full", says="No space left")


def test_a_path_with_a_control_character_is_refused(project: Project) -> None:
    line = refused(
        project, "hooks", "pre-edit", "--file", "src/a\nb.py", "--agent", "a", says="control"
    )
    assert "\n" not in line
    refused(project, "claims", "release", "src/a\rb.py", says="control")


def test_written_report_files_honour_the_umask(project: Project) -> None:
    plan = "phase: p\nsession: s\ntasks:\n  a:\n    title: A\n"
    project.ok("plan", "load", str(project.write_plan(plan)))
    out = project.root / "report.md"
    subprocess.run(
        ["sh", "-c", f'umask 077 && "{SWARM}" report --session-id s -o "{out}"'],
        cwd=project.root,
        env=project.env,
        check=True,
        capture_output=True,
    )
    assert out.stat().st_mode & 0o777 == 0o600
    os.chmod(out, 0o640)  # an existing file keeps its mode
    project.ok("report", "--session-id", "s", "-o", str(out))
    assert out.stat().st_mode & 0o777 == 0o640
