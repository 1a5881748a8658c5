"""1. Hook latency: each hook as a whole process, beside `python -c "import sqlite3"` and
the least a hook process can do (MINIMAL_HOOK)."""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from typing import Any

from memory.backends import open_store

from . import SWARM, BenchFailure, check, env_for, repo, run_checked, summary, timed_run

#: The least a hook process can do, run beside the hooks for comparison (no target): import
#: sqlite3 and json, open a WAL store with the store's durability, read one row and upsert
#: a JSON value in one write transaction, close. What a hook costs beyond this is ours.
MINIMAL_HOOK = """
import json, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("PRAGMA synchronous = NORMAL")
conn.execute("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
conn.execute("BEGIN IMMEDIATE")
conn.execute("SELECT value FROM kv WHERE key = ?", (sys.argv[2],)).fetchone()
conn.execute(
    "INSERT INTO kv (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    (sys.argv[2], json.dumps({"agent": "bench", "n": sys.argv[2]})),
)
conn.execute("COMMIT")
conn.close()
"""

#: A hook's median may be at most this many times `python -c "import sqlite3"`.
HOOK_TARGET = 1.6
#: The row of MINIMAL_HOOK in the hooks section.
MINIMAL = "minimal hook (comparison)"


def bench_hooks(runs: int) -> dict[str, Any]:
    """Each hook as a whole process, interleaved with the reference so both see one
    machine. Every sample must exit 0: each pre-edit claims a file nobody holds (a grant),
    each adapter call edits another fresh file, each pre-task starts a ready task."""
    with repo() as root:
        db = root / ".swarm" / "memory.db"
        env = env_for(db)
        (root / "src").mkdir()
        for i in range(runs):
            (root / "src" / f"f{i}.py").write_text("x = 1\n")
            (root / "src" / f"c{i}.py").write_text("x = 1\n")
        plan = root / "plan.yaml"
        plan.write_text(
            "phase: bench\ntasks:\n"
            + "".join(f"  t{i}:\n    agent: bench\n" for i in range(runs + 1))
        )
        run_checked([SWARM, "plan", "load", str(plan)], root, env)

        def payload(i: int) -> str:
            return json.dumps(
                {
                    "session_id": "bench-session-0001",
                    "transcript_path": "/dev/null",
                    "cwd": str(root),
                    "hook_event_name": "PreToolUse",
                    "tool_name": "Edit",
                    "tool_input": {
                        "file_path": str(root / "src" / f"c{i}.py"),
                        "old_string": "x",
                        "new_string": "y",
                    },
                }
            )

        reference = [sys.executable, "-c", "import sqlite3"]
        minimal_db = str(root / "minimal.db")
        edit = ["--agent", "bench", "--task", "bench/t0"]
        cases: dict[str, Callable[[int], tuple[list[str], str | None]]] = {
            "pre-task": lambda i: (
                [SWARM, "hooks", "pre-task", "--task-id", f"bench/t{i}", "--agent", "bench"],
                None,
            ),
            "pre-edit (granted)": lambda i: (
                [SWARM, "hooks", "pre-edit", "--file", f"src/f{i}.py", *edit],
                None,
            ),
            "post-edit": lambda i: (
                [SWARM, "hooks", "post-edit", "--file", f"src/f{i}.py", *edit],
                None,
            ),
            "post-task": lambda i: (
                [SWARM, "hooks", "post-task", "--task-id", f"bench/t{i}", "--agent", "bench"],
                None,
            ),
            "claude PreToolUse": lambda i: ([SWARM, "hooks", "claude"], payload(i)),
        }
        timings: dict[str, list[float]] = {"reference": [], MINIMAL: []}
        for name in cases:
            timings[name] = []
        for i in range(runs):
            timings["reference"].append(timed_run(reference, root, env))
            minimal = [sys.executable, "-c", MINIMAL_HOOK, minimal_db, f"k{i}"]
            timings[MINIMAL].append(timed_run(minimal, root, env))
            for name, make in cases.items():
                cmd, stdin = make(i)
                timings[name].append(timed_run(cmd, root, env, stdin))
        # The adapter answers in Claude's convention; a denial would be a refusal.
        with open_store(db) as store:
            claims = store.list_prefix("swarm/claims/")
            granted = [r for r in claims if str(r.value.get("path")).startswith("src/c")]
        if len(granted) < runs:
            raise BenchFailure(f"claude PreToolUse granted {len(granted)} of {runs} edits")
    ref = statistics.median(timings["reference"])
    out: dict[str, Any] = {"reference": summary(timings["reference"])}
    out[MINIMAL] = summary(timings[MINIMAL])
    out[MINIMAL]["ratio_median"] = round(statistics.median(timings[MINIMAL]) / ref, 2)
    for name in cases:
        stats: dict[str, Any] = summary(timings[name])
        ratio = round(statistics.median(timings[name]) / ref, 2)
        stats["ratio_median"] = ratio
        stats["target"] = check("hooks", name, ratio, f"<= {HOOK_TARGET}x", ratio <= HOOK_TARGET)
        out[name] = stats
    return out
