"""`swarm init` and `swarm memory ...` run as subprocesses, the way agents and scripts run them.

Every failure must be one `swarm: error:` line on stderr with the documented exit code
(1 for errors, 3 for refusals) and must leave the store file byte-for-byte as it was.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from coordinator.project import find_repo_root
from memory.errors import EXIT_ERROR, EXIT_REFUSED
from tests.integration.conftest import SWARM, Project, Result, git_env, wait_until
from tests.integration.test_hooks import assert_one_error_line

# --- helpers -----------------------------------------------------------------------------


def store_files(db: Path) -> dict[str, bytes]:
    """The bytes of the store file and of its WAL, if there is one.

    The shared-memory index (`-shm`) is left out: it is a cache SQLite rebuilds, not data.
    """
    files = {}
    for path in (db, db.with_name(db.name + "-wal")):
        if path.exists():
            files[path.name] = path.read_bytes()
    return files


def store_files_read_elsewhere(db: Path) -> dict[str, bytes]:
    """`store_files`, read by a child process.

    While this process holds a connection to the store, it must not open and close the
    file itself: closing any descriptor drops every POSIX lock the process holds on it
    (SQLite's "posix advisory locks are broken" caveat), and another connection closing
    would then take the WAL for unused and delete it under ours.
    """
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "db = Path(sys.argv[1])\n"
        "files = [db, db.with_name(db.name + '-wal')]\n"
        "print(json.dumps({p.name: p.read_bytes().hex() for p in files if p.exists()}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(db)], check=True, capture_output=True, text=True
    ).stdout
    return {name: bytes.fromhex(data) for name, data in json.loads(out).items()}


def assert_one_error(result: Result, code: int) -> str:
    """`result` failed with `code` and printed exactly one `swarm: error:` line; return it."""
    assert result.code == code, f"exit {result.code}, expected {code}: {result.stderr!r}"
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
    assert lines[0].startswith("swarm: error:"), lines[0]
    return lines[0]


def refused_unchanged(
    project: Project, *args: str, code: int, db: Path | None = None, **kwargs: Any
) -> str:
    """Run `swarm ARGS`, expect one error line and `code`, and the store left untouched."""
    db = db or project.db
    before = store_files(db)
    assert before, f"no store at {db} to compare"
    line = assert_one_error(project.swarm(*args, **kwargs), code)
    assert store_files(db) == before, f"swarm {' '.join(args)} changed the store"
    return line


def put_json(project: Project, key: str, value: str, *flags: str) -> dict[str, Any]:
    """`swarm memory put KEY VALUE --json`: the written record."""
    record: dict[str, Any] = project.ok("memory", "put", key, value, "--json", *flags).json()
    return record


def get_json(project: Project, key: str, **kwargs: Any) -> dict[str, Any]:
    """`swarm memory get KEY --json`: the whole record."""
    record: dict[str, Any] = project.ok("memory", "get", key, "--json", **kwargs).json()
    return record


def plain_project(root: Path) -> Project:
    """A directory (not a git repository, no store) to run `swarm` in."""
    root.mkdir(parents=True, exist_ok=True)
    return Project(root, git_env())


def foreign_database(path: Path) -> None:
    """Another tool's SQLite file: a table of its own, application_id 0."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('not yours')")
        conn.commit()
    finally:
        conn.close()


class LineReader:
    """Collects a process's stdout lines on a thread, so a test can wait on them."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._proc = proc
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            with self._lock:
                self.lines.append(line)

    def snapshot(self) -> list[str]:
        """The lines read so far."""
        with self._lock:
            return list(self.lines)


@contextmanager
def watching(project: Project, *args: str) -> Iterator[tuple[subprocess.Popen[str], LineReader]]:
    """A running `swarm memory watch ARGS`, killed at the end if it has not exited."""
    proc = subprocess.Popen(
        [SWARM, "memory", "watch", *args],
        cwd=project.root,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, LineReader(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


# --- init --------------------------------------------------------------------------------


def test_init_from_a_subdirectory_creates_the_store_at_the_git_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    sub = root / "src" / "pkg"
    sub.mkdir(parents=True)
    proj = Project(root, git_env())
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=proj.env)

    result = proj.ok("init", cwd=sub)

    assert proj.db.is_file()
    assert not (sub / ".swarm").exists()
    assert str(proj.db) in result.stdout
    assert "created" in result.stdout
    ignore = root / ".swarm" / ".gitignore"
    assert ignore.read_text().splitlines()[-1] == "*"
    # Commands run from the subdirectory find the store at the root.
    proj.ok("memory", "put", "from/sub", "1", cwd=sub)
    assert proj.value("from/sub") == 1


def test_init_is_idempotent(project: Project) -> None:
    project.ok("memory", "put", "kept", '"yes"')
    ignore = project.db.with_name(".gitignore")
    ignore.write_text("# edited by hand\n*\n")
    before = store_files(project.db)

    result = project.ok("init")

    assert "already initialised" in result.stdout
    assert store_files(project.db) == before
    assert ignore.read_text() == "# edited by hand\n*\n"
    assert project.value("kept") == "yes"


def test_init_outside_git_creates_the_store_in_the_current_directory(tmp_path: Path) -> None:
    here = tmp_path / "plain"
    if find_repo_root(here.parent) is not None:
        pytest.skip(f"{tmp_path} is inside a git repository")
    proj = plain_project(here)

    proj.ok("init")

    assert (here / ".swarm" / "memory.db").is_file()
    assert (here / ".swarm" / ".gitignore").is_file()
    proj.ok("memory", "put", "k", "v")
    assert proj.value("k") == "v"


def test_init_max_value_bytes_sets_the_limit(project: Project) -> None:
    project.ok("init", "--max-value-bytes", "16")

    # The limit counts the encoded JSON: 14 letters and two quotes is exactly 16 bytes.
    project.ok("memory", "put", "small", "a" * 14)
    line = refused_unchanged(project, "memory", "put", "big", "a" * 15, code=EXIT_ERROR)

    assert "17 bytes" in line
    assert "16 bytes" in line
    assert project.value("big") is None


def test_init_max_value_bytes_must_be_positive(project: Project) -> None:
    refused_unchanged(project, "init", "--max-value-bytes", "0", code=EXIT_ERROR)


# --- put and get -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored", "printed"),
    [
        ("42", 42, "42"),
        ("3.5", 3.5, "3.5"),
        ('{"a":1}', {"a": 1}, '{"a": 1}'),
        ("[1, 2]", [1, 2], "[1, 2]"),
        ("true", True, "true"),
        ("null", None, "null"),
        ("hello", "hello", "hello"),
        ("hello world", "hello world", "hello world"),
        ('"quoted"', "quoted", "quoted"),
        ('"42"', "42", "42"),
        ('"NaN"', "NaN", "NaN"),
        ("{not json", "{not json", "{not json"),
    ],
)
def test_put_stores_json_when_it_parses_and_get_prints_strings_raw(
    project: Project, typed: str, stored: Any, printed: str
) -> None:
    result = project.ok("memory", "put", "k", typed)
    assert result.stdout == "k v1 rev 1\n"

    assert project.ok("memory", "get", "k").stdout == printed + "\n"
    record = get_json(project, "k")
    assert record["value"] == stored
    assert type(record["value"]) is type(stored)


def test_get_json_prints_the_whole_record(project: Project) -> None:
    project.ok("memory", "put", "other", "0")
    project.ok("memory", "put", "k", "1")
    project.ok("memory", "put", "k", '{"b": [true]}')

    assert get_json(project, "k") == {
        "key": "k",
        "value": {"b": [True]},
        "version": 2,
        "create_rev": 2,
        "mod_rev": 3,
        "expires_at": None,
    }


def test_put_json_prints_the_written_record(project: Project) -> None:
    record = put_json(project, "agents/a1", '"idle"')

    assert record == {
        "key": "agents/a1",
        "value": "idle",
        "version": 1,
        "create_rev": 1,
        "mod_rev": 1,
        "expires_at": None,
    }
    assert get_json(project, "agents/a1") == record


def test_put_with_ttl_sets_a_lease(project: Project) -> None:
    before = time.time()
    record = put_json(project, "lease", "1", "--ttl", "3600")
    after = time.time()

    assert before + 3600 <= record["expires_at"] <= after + 3600
    assert get_json(project, "lease")["expires_at"] == record["expires_at"]


def test_a_key_whose_lease_ran_out_is_gone(project: Project) -> None:
    project.ok("memory", "put", "brief", "1", "--ttl", "0.001")

    wait_until(
        lambda: project.swarm("memory", "get", "brief").code == EXIT_ERROR,
        what="the lease on 'brief' to run out",
    )
    assert project.ok("memory", "list").stdout == ""


def test_if_version_and_if_absent_write_when_they_hold(project: Project) -> None:
    assert put_json(project, "lock", '"a1"', "--if-absent")["version"] == 1
    assert put_json(project, "lock", '"a2"', "--if-version", "1")["version"] == 2
    assert put_json(project, "lock", '"a3"', "--if-version", "2")["value"] == "a3"


def test_delete_removes_the_key(project: Project) -> None:
    project.ok("memory", "put", "k", "1")

    assert project.ok("memory", "delete", "k").stdout == "deleted k\n"

    line = assert_one_error(project.swarm("memory", "get", "k"), EXIT_ERROR)
    assert "no such key: k" in line
    # The key can be created again; it starts over at version 1.
    assert put_json(project, "k", "2")["version"] == 1


def test_delete_if_version(project: Project) -> None:
    project.ok("memory", "put", "k", "1")
    project.ok("memory", "put", "k", "2")

    line = refused_unchanged(
        project, "memory", "delete", "k", "--if-version", "1", code=EXIT_REFUSED
    )
    assert "version mismatch" in line

    project.ok("memory", "delete", "k", "--if-version", "2")
    assert project.value("k") is None


# --- list, search, history ---------------------------------------------------------------


def _fill(project: Project) -> None:
    project.ok("memory", "put", "agents/a1", '{"state": "busy"}')
    project.ok("memory", "put", "agents/a2", '"idle"')
    project.ok("memory", "put", "tasks/t1", '"todo: write the parser"')
    project.ok("memory", "put", "tasks/t2", "7")


def test_list_all_and_by_prefix(project: Project) -> None:
    _fill(project)

    assert project.ok("memory", "list").stdout.splitlines() == [
        'agents/a1  v1  {"state": "busy"}',
        "agents/a2  v1  idle",
        "tasks/t1  v1  todo: write the parser",
        "tasks/t2  v1  7",
    ]
    listed = project.ok("memory", "list", "agents/", "--json").json()
    assert [(r["key"], r["value"]) for r in listed] == [
        ("agents/a1", {"state": "busy"}),
        ("agents/a2", "idle"),
    ]
    assert set(listed[0]) == {"key", "value", "version", "create_rev", "mod_rev", "expires_at"}
    assert project.ok("memory", "list", "nothing/", "--json").json() == []


def test_search_keys_by_glob(project: Project) -> None:
    _fill(project)

    found = project.ok("memory", "search", "*/a?", "--json").json()
    assert [r["key"] for r in found] == ["agents/a1", "agents/a2"]
    found = project.ok("memory", "search", "tasks/t[2-9]", "--json").json()
    assert [r["key"] for r in found] == ["tasks/t2"]
    assert project.ok("memory", "search", "tasks/*").stdout.splitlines() == [
        "tasks/t1  v1  todo: write the parser",
        "tasks/t2  v1  7",
    ]


def test_search_values_by_text(project: Project) -> None:
    _fill(project)

    found = project.ok("memory", "search", "--value", "busy", "--json").json()
    assert [r["key"] for r in found] == ["agents/a1"]
    found = project.ok("memory", "search", "--value", "parser", "--json").json()
    assert [r["key"] for r in found] == ["tasks/t1"]
    assert project.ok("memory", "search", "--value", "absent-text").stdout == ""


def test_history_shows_every_change_of_a_key(project: Project) -> None:
    project.ok("memory", "put", "k", "1")
    project.ok("memory", "put", "other", "1")
    project.ok("memory", "put", "k", '"two"')
    project.ok("memory", "delete", "k")

    changes = project.ok("memory", "history", "k", "--json").json()
    assert [(c["rev"], c["op"], c["version"], c["value"]) for c in changes] == [
        (1, "put", 1, 1),
        (3, "put", 2, "two"),
        (4, "delete", 2, None),
    ]
    lines = project.ok("memory", "history", "k").stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("rev 1 ")
    assert lines[1].split()[-1] == "two"
    assert " delete " in lines[2]


def test_history_records_the_agent(project: Project) -> None:
    project.ok("memory", "put", "k", "1", env={"SWARM_AGENT_ID": "agent-7"})

    [change] = project.ok("memory", "history", "k", "--json").json()
    assert change["actor"] == "agent-7"


# --- watch -------------------------------------------------------------------------------


def test_watch_from_rev_replays_changes_as_json_lines(project: Project) -> None:
    project.ok("memory", "put", "a", "1")
    project.ok("memory", "put", "b", '"x"')
    project.ok("memory", "delete", "a")

    result = project.ok("memory", "watch", "--from-rev", "1", "--count", "3", timeout=30)

    changes = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(c["rev"], c["key"], c["op"], c["value"]) for c in changes] == [
        (1, "a", "put", 1),
        (2, "b", "put", "x"),
        (3, "a", "delete", None),
    ]
    assert set(changes[0]) == {"rev", "key", "op", "value", "version", "actor", "ts"}


def test_watch_replays_only_its_prefix(project: Project) -> None:
    project.ok("memory", "put", "tasks/t1", "1")
    project.ok("memory", "put", "agents/a1", "1")
    project.ok("memory", "put", "tasks/t2", "2")

    result = project.ok("memory", "watch", "tasks/", "--from-rev", "1", "--count", "2")

    assert [json.loads(line)["key"] for line in result.stdout.splitlines()] == [
        "tasks/t1",
        "tasks/t2",
    ]


def test_watch_waits_for_a_change_after_its_from_rev(project: Project) -> None:
    project.ok("memory", "put", "before", "1")

    # From revision 2, which does not exist yet: no race with the watcher's start.
    with watching(project, "--from-rev", "2", "--count", "1") as (proc, reader):
        project.ok("memory", "put", "after", '"live"')
        [line] = wait_until(reader.snapshot, what="the watcher to print the change")
        assert proc.wait(10) == 0

    change = json.loads(line)
    assert (change["rev"], change["key"], change["op"], change["value"]) == (
        2,
        "after",
        "put",
        "live",
    )


def test_live_watch_prints_a_change_made_after_it_started(project: Project) -> None:
    project.ok("memory", "put", "before", "1")
    revs: dict[int, str] = {}

    with watching(project, "--count", "1") as (proc, reader):

        def write_then_look() -> list[str]:
            # Changes made before the watcher is live are not its to report: keep writing
            # until one of them arrives.
            lines = reader.snapshot()
            if not lines:
                key = f"live/k{len(revs)}"
                revs[put_json(project, key, "1")["mod_rev"]] = key
            return lines

        [line] = wait_until(write_then_look, what="the live watcher to print a change")
        assert proc.wait(10) == 0

    change = json.loads(line)
    assert change["rev"] in revs
    assert change["key"] == revs[change["rev"]]
    assert change["op"] == "put"


# --- export, import, backup --------------------------------------------------------------


def test_export_then_import_into_a_fresh_store_is_exact(project: Project) -> None:
    _fill(project)
    project.ok("memory", "put", "tasks/t2", "8")
    project.ok("memory", "put", "leases/l1", '"held"', "--ttl", "3600")
    project.ok("memory", "delete", "agents/a2")
    dump = project.root / "dump.jsonl"

    assert "exported 4 keys" in project.ok("memory", "export", "-o", str(dump)).stdout
    # Exporting to stdout gives the same records (the header carries its own timestamp).
    streamed = project.ok("memory", "export").stdout.splitlines()
    assert streamed[1:] == dump.read_text().splitlines()[1:]
    project.ok("--db", "other.db", "init")
    result = project.ok("--db", "other.db", "memory", "import", str(dump))

    assert result.stdout == "imported 4 keys\n"
    original = project.ok("memory", "list", "--json").json()
    copied = project.ok("--db", "other.db", "memory", "list", "--json").json()
    assert copied == original
    assert len(original) == 4


def test_import_from_stdin(project: Project) -> None:
    _fill(project)
    exported = project.ok("memory", "export").stdout
    project.ok("--db", "other.db", "init")

    project.ok("--db", "other.db", "memory", "import", "-", input=exported)

    assert (
        project.ok("--db", "other.db", "memory", "list", "--json").json()
        == project.ok("memory", "list", "--json").json()
    )


def test_import_into_a_used_store_needs_merge(project: Project) -> None:
    project.ok("memory", "put", "from/export", "1")
    dump = project.root / "dump.jsonl"
    project.ok("memory", "export", "-o", str(dump))
    project.ok("--db", "other.db", "init")
    project.ok("--db", "other.db", "memory", "put", "already/here", "1")

    line = refused_unchanged(
        project,
        "--db",
        "other.db",
        "memory",
        "import",
        str(dump),
        code=EXIT_ERROR,
        db=project.root / "other.db",
    )
    assert "--merge" in line

    project.ok("--db", "other.db", "memory", "import", "--merge", str(dump))
    keys = [r["key"] for r in project.ok("--db", "other.db", "memory", "list", "--json").json()]
    assert keys == ["already/here", "from/export"]


@pytest.mark.parametrize(
    ("lines", "bad_line"),
    [
        (["{header}", '{"key":"a","value":1,"version":1,"create_rev":1,"mod_rev":1}', "{oops"], 3),
        (["{header}", '{"key":"bad key","value":1,"version":1,"create_rev":1,"mod_rev":1}'], 2),
        (["{header}", '{"key":"a","value":1,"version":-1,"create_rev":1,"mod_rev":1}'], 2),
        (["{header}", "[1, 2]"], 2),
        (['{"key":"a","value":1,"version":1,"create_rev":1,"mod_rev":1}'], 1),
        (["not json at all"], 1),
    ],
)
def test_import_of_a_malformed_file_names_the_line(
    project: Project, lines: list[str], bad_line: int
) -> None:
    header = json.dumps({"format": "swarm-export", "version": 1, "revision": 1})
    bad = project.root / "bad.jsonl"
    bad.write_text("".join(line.replace("{header}", header) + "\n" for line in lines))

    line = refused_unchanged(project, "memory", "import", str(bad), code=EXIT_ERROR)

    assert f"line {bad_line}" in line
    assert project.ok("memory", "list", "--json").json() == []


def test_import_of_a_missing_file_is_one_error(project: Project) -> None:
    refused_unchanged(project, "memory", "import", "no-such-file.jsonl", code=EXIT_ERROR)


def test_backup_copies_the_store(project: Project) -> None:
    _fill(project)
    copy = project.root / "backup.db"

    assert str(copy) in project.ok("memory", "backup", str(copy)).stdout

    assert (
        project.ok("--db", str(copy), "memory", "list", "--json").json()
        == project.ok("memory", "list", "--json").json()
    )
    # The copy is a store of its own: writing to it leaves the original alone.
    project.ok("--db", str(copy), "memory", "put", "only/in/copy", "1")
    assert project.value("only/in/copy") is None


def test_backup_refuses_to_overwrite(project: Project) -> None:
    existing = project.root / "existing.db"
    existing.write_bytes(b"precious")

    line = refused_unchanged(project, "memory", "backup", str(existing), code=EXIT_ERROR)

    assert "already exists" in line
    assert existing.read_bytes() == b"precious"


# --- choosing the store: --db and SWARM_DB -----------------------------------------------


def test_global_db_option_and_swarm_db_select_the_store(project: Project) -> None:
    other = project.root / "elsewhere" / "other.db"
    project.ok("--db", str(other), "init")

    project.ok("--db", str(other), "memory", "put", "k", '"via --db"')
    assert project.ok("memory", "get", "k", env={"SWARM_DB": str(other)}).stdout == "via --db\n"
    project.ok("memory", "put", "k2", '"via env"', env={"SWARM_DB": str(other)})
    assert project.ok("--db", str(other), "memory", "get", "k2").stdout == "via env\n"

    # --db wins over SWARM_DB; without either, the repository's own store is used.
    assert (
        project.ok(
            "--db", str(other), "memory", "get", "k", env={"SWARM_DB": str(project.db)}
        ).stdout
        == "via --db\n"
    )
    assert project.value("k") is None
    assert project.swarm("memory", "get", "k").code == EXIT_ERROR


def test_swarm_db_init_creates_the_store_there(project: Project) -> None:
    target = project.root / "from-env.db"

    project.ok("init", env={"SWARM_DB": str(target)})

    assert target.is_file()
    project.ok("memory", "put", "k", "1", env={"SWARM_DB": str(target)})
    assert project.value("k") is None


# --- errors: one line, an exit code, the store untouched ---------------------------------


@pytest.mark.parametrize("key", ["bad key", "/lead", "trail/", "a//b", "ünï", "a/b c"])
def test_an_invalid_key_is_an_error(project: Project, key: str) -> None:
    project.ok("memory", "put", "good", "1")

    line = refused_unchanged(project, "memory", "put", key, "1", code=EXIT_ERROR)
    assert "invalid key" in line
    assert "invalid key" in refused_unchanged(project, "memory", "get", key, code=EXIT_ERROR)


def test_a_value_over_the_size_limit_is_an_error(project: Project) -> None:
    project.ok("init", "--max-value-bytes", "16")
    project.ok("memory", "put", "k", "1")

    line = refused_unchanged(project, "memory", "put", "k", "x" * 100, code=EXIT_ERROR)

    assert "over the limit of 16 bytes" in line
    assert project.value("k") == 1


def test_a_version_mismatch_is_refused(project: Project) -> None:
    project.ok("memory", "put", "k", "1")
    project.ok("memory", "put", "k", "2")

    line = refused_unchanged(
        project, "memory", "put", "k", "3", "--if-version", "1", code=EXIT_REFUSED
    )

    assert "version mismatch on k" in line
    assert "expected version 1, found version 2" in line
    assert project.value("k") == 2


def test_if_absent_on_an_existing_key_is_refused(project: Project) -> None:
    project.ok("memory", "put", "k", '"first"')

    line = refused_unchanged(project, "memory", "put", "k", '"second"', "--if-absent", code=3)

    assert "expected absent, found version 1" in line
    assert project.value("k") == "first"


def test_if_version_on_a_missing_key_is_refused(project: Project) -> None:
    project.ok("memory", "put", "other", "1")

    line = refused_unchanged(
        project, "memory", "put", "k", "1", "--if-version", "1", code=EXIT_REFUSED
    )

    assert "found absent" in line


@pytest.mark.parametrize(
    "args",
    [
        ("memory", "put", "k", "1"),
        ("memory", "get", "k"),
        ("memory", "list"),
        ("memory", "history", "k"),
        ("memory", "export"),
        ("memory", "watch", "--count", "1"),
    ],
)
def test_without_a_store_commands_say_to_run_init(tmp_path: Path, args: tuple[str, ...]) -> None:
    proj = plain_project(tmp_path / "empty")
    missing = tmp_path / "nowhere" / "memory.db"

    via_env = proj.swarm(*args, env={"SWARM_DB": str(missing)})
    in_dir = proj.swarm(*args)

    for result in (via_env, in_dir):
        line = assert_one_error(result, EXIT_ERROR)
        assert "swarm init" in line
    assert str(missing) in via_env.stderr
    assert not missing.parent.exists()
    assert sorted(os.listdir(proj.root)) == []


def test_without_a_store_in_a_git_repository_nothing_is_created(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    proj = Project(root, git_env())
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=proj.env)

    line = assert_one_error(proj.swarm("memory", "put", "k", "1"), EXIT_ERROR)

    assert "swarm init" in line
    assert not (root / ".swarm").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("memory", "put", "k", "1"),
        ("memory", "get", "k"),
        ("memory", "list"),
        ("memory", "export"),
        ("init",),
        ("init", "--max-value-bytes", "16"),
    ],
)
def test_another_tools_database_is_refused_and_untouched(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    proj = plain_project(tmp_path / "theirs")
    foreign_database(proj.db)

    line = refused_unchanged(proj, *args, code=EXIT_ERROR)

    assert "not a swarm store" in line
    # The same file named with --db is refused the same way.
    line = refused_unchanged(proj, "--db", str(proj.db), *args, code=EXIT_ERROR)
    assert "not a swarm store" in line


def _corrupt_header(db: Path) -> None:
    with db.open("r+b") as f:
        f.write(os.urandom(100))


def _corrupt_first_page(db: Path) -> None:
    with db.open("r+b") as f:
        f.seek(100)
        f.write(os.urandom(4096 - 100))


def _random_bytes(db: Path) -> None:
    db.write_bytes(os.urandom(32 * 1024))


@pytest.mark.parametrize("damage", [_corrupt_header, _corrupt_first_page, _random_bytes])
@pytest.mark.parametrize(
    "args",
    [("memory", "put", "k", "2"), ("memory", "get", "k"), ("memory", "list")],
)
def test_a_corrupt_store_is_an_error(project: Project, damage: Any, args: tuple[str, ...]) -> None:
    project.ok("memory", "put", "k", "1")
    # The writer has exited: its WAL was checkpointed into the file and removed.
    assert list(store_files(project.db)) == ["memory.db"]
    damage(project.db)

    line = refused_unchanged(project, *args, code=EXIT_ERROR)

    assert "corrupt" in line


def test_a_store_locked_past_the_busy_timeout_is_refused(project: Project) -> None:
    project.ok("memory", "put", "k", "1")
    quick = {"SWARM_BUSY_TIMEOUT": "0.2"}
    holder = sqlite3.connect(project.db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")

        before = store_files_read_elsewhere(project.db)
        assert "memory.db-wal" in before
        result = project.swarm("memory", "put", "k", "2", env=quick)

        assert "locked" in assert_one_error(result, EXIT_REFUSED)
        assert store_files_read_elsewhere(project.db) == before
        # Readers are not blocked by a writer.
        assert project.ok("memory", "get", "k", env=quick).stdout == "1\n"
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    project.ok("memory", "put", "k", "2", env=quick)
    assert project.value("k") == 2


def test_a_bad_busy_timeout_is_one_error(project: Project) -> None:
    line = refused_unchanged(
        project, "memory", "put", "k", "1", code=EXIT_ERROR, env={"SWARM_BUSY_TIMEOUT": "soon"}
    )
    assert "SWARM_BUSY_TIMEOUT" in line


def test_get_of_a_missing_key_is_one_error(project: Project) -> None:
    project.ok("memory", "put", "present", "1")

    line = refused_unchanged(project, "memory", "get", "absent", code=EXIT_ERROR)

    assert line == "swarm: error: no such key: absent"


def test_delete_of_a_missing_key_is_one_error(project: Project) -> None:
    line = refused_unchanged(project, "memory", "delete", "absent", code=EXIT_ERROR)
    assert "no such key" in line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("memory", "put", "only-a-key"), "Missing argument 'VALUE'"),
        (("memory", "get"), "Missing argument 'KEY'"),
        (("memory", "list", "--bogus"), "No such option"),
        (("--bogus", "memory", "list"), "No such option"),
        (("memory", "nosuch"), "No such command"),
        (("nosuch",), "No such command"),
        (("memory",), "missing command"),
        (("memory", "put", "k", "1", "--ttl", "-1"), "--ttl"),
        (("memory", "put", "k", "1", "--if-version", "x"), "--if-version"),
        (("memory", "put", "k", "1", "--if-version", "1", "--if-absent"), "exclude"),
        (("memory", "compact"), "--keep"),
    ],
)
def test_usage_errors_are_one_line(project: Project, args: tuple[str, ...], says: str) -> None:
    line = refused_unchanged(project, *args, code=EXIT_ERROR)
    assert says in line


def test_the_reserved_swarm_root_is_refused_without_force(project: Project) -> None:
    refused = project.swarm("memory", "put", "swarm/agents/mallory", "{}")
    assert refused.code == 1
    assert refused.stderr.count("\n") == 1
    assert "reserved" in refused.stderr
    assert project.value("swarm/agents/mallory") is None
    project.ok("memory", "put", "swarm/notes/x", "1", "--force")
    assert project.value("swarm/notes/x") == 1
    assert project.swarm("memory", "delete", "swarm/notes/x").code == 1
    project.ok("memory", "delete", "swarm/notes/x", "--force")


@pytest.mark.parametrize(
    "typed", ["NaN", "Infinity", "-Infinity", "1e999", '{"a": NaN}', "[1, -Infinity]"]
)
def test_put_refuses_non_finite_numbers_and_leaves_the_store_unchanged(
    project: Project, typed: str
) -> None:
    project.ok("memory", "put", "k", "1")
    result = project.swarm("memory", "put", "--", "k", typed)
    assert result.code == 1
    line = assert_one_error_line(result.stderr)
    assert "is not a JSON number" in line
    assert get_json(project, "k")["version"] == 1
    export = project.ok("memory", "export").stdout
    assert "NaN" not in export and "Infinity" not in export


@pytest.mark.parametrize("ttl", ["nan", "inf", "Infinity"])
def test_put_refuses_a_non_finite_ttl(project: Project, ttl: str) -> None:
    result = project.swarm("memory", "put", "k", "1", "--ttl", ttl)
    assert result.code != 0
    assert "--ttl" in assert_one_error_line(result.stderr)
    assert project.swarm("memory", "get", "k").code != 0


def test_import_refuses_non_finite_numbers(project: Project, tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    header = '{"format": "swarm-export", "version": 1, "revision": 1, "exported_at": 0}'
    record = '{"key": "k", "value": NaN, "version": 1, "create_rev": 1, "mod_rev": 1}'
    dump.write_text(f"{header}\n{record}\n")
    result = project.swarm("memory", "import", str(dump))
    assert result.code == 1
    assert "line 2: record: NaN is not a JSON number" in assert_one_error_line(result.stderr)
    assert project.swarm("memory", "get", "k").code != 0
