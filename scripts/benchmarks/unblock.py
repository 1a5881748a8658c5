"""2. Unblock latency: from post-task's commit of `complete` to an observer reading the
dependent task as `ready`, with a real daemon woken by its watcher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memory.backends import open_store

from . import SWARM, Observer, commit_ts, env_for, repo, run_checked, running_daemon, summary


def unblock_trial(
    db: Path, root: Path, env: dict[str, str], req: str, dep: str, agent: str
) -> float:
    """Start and finish `req`; return the seconds from post-task's commit of `complete`
    to an observer (started before post-task) reading `dep` as `ready`."""
    run_checked([SWARM, "hooks", "pre-task", "--task-id", req, "--agent", agent], root, env)
    observer = Observer(db, f"{dep}/status", "ready")
    run_checked([SWARM, "hooks", "post-task", "--task-id", req, "--agent", agent], root, env)
    seen = observer.result()
    with open_store(db) as store:
        committed = commit_ts(store, f"{req}/status", "complete")
    return seen - committed


def bench_unblock(trials: int) -> dict[str, Any]:
    """Unblock latency on a small store without a dashboard (the scale section measures
    it at 100 / 1k / 10k tasks with one): post-task's commit to an observer seeing
    `ready`, daemon polling hourly (so the watcher is what wakes it)."""
    with repo() as root:
        db = root / ".swarm" / "memory.db"
        env = env_for(db)
        lines = ["phase: ub", "tasks:"]
        for i in range(trials):
            lines += [f"  req{i}:", "    agent: a", f"  dep{i}:", "    agent: b"]
            lines += [f"    requires: [req{i}]"]
        (root / "plan.yaml").write_text("\n".join(lines) + "\n")
        run_checked([SWARM, "plan", "load", "plan.yaml"], root, env)
        with running_daemon(db, root):
            latencies = [
                unblock_trial(db, root, env, f"ub/req{i}", f"ub/dep{i}", "a") for i in range(trials)
            ]
    return {"from_post_task_commit_to_observed_ready": summary(latencies)}
