"""The swarm-coordinator demonstration (run it with ./scripts/demo).

In a temporary git repository: a Phase 7 plan of four tasks where release_prep must wait
for code_quality, the coordinator daemon, and scripted agents that call the hooks as
subprocesses, exactly as real agents would. Watch release_prep unblock the moment
code_quality completes, and the daemon start its agent.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

SWARM = str(Path(sys.executable).with_name("swarm"))

PLAN = """\
phase: phase7
session: swarm-phase7
dashboard: docs/phase7/COORDINATION-DASHBOARD.md
tasks:
  build_infra:
    title: Build infrastructure (sccache, shared target dir)
    agent: cicd-engineer
  config_system:
    title: Configuration system (93 env vars)
    agent: backend-dev
  code_quality:
    title: Code quality (<20 clippy warnings)
    agent: reviewer
    gates: ["phase7/code_quality/clippy_warnings < 20"]
  release_prep:
    title: Release preparation (CHANGELOG, 2.0.0)
    agent: planner
    requires: [code_quality]
    optional: [config_system]
    when: ["phase7/baseline[tests_passing] >= 626"]
    deadline: 24h
    run: "python agents/release.py"
"""

RELEASE_AGENT = """\
# The release planner, started by the daemon when release_prep becomes ready.
import os, subprocess
task = os.environ["SWARM_TASK_ID"]
def hook(*args):
    subprocess.run(["swarm", "hooks", *args], check=True)
hook("session-start", "--session-id", os.environ["SWARM_SESSION_ID"], "--agent", "planner")
hook("pre-task", "--task-id", task)
with open("CHANGELOG.md", "w") as out:
    out.write("# 2.0.0\\n- faster builds\\n- configuration from the environment\\n")
hook("progress", "--task-id", task, "--done", "3", "--total", "3", "--milestone", "CHANGELOG")
hook("post-task", "--task-id", task, "--summary", "CHANGELOG and version 2.0.0 ready")
hook("session-end", "--session-id", os.environ["SWARM_SESSION_ID"], "--agent", "planner")
"""


def say(title: str) -> None:
    """Print a section heading."""
    print(f"\n\033[1m== {title}\033[0m", flush=True)


def swarm(root: Path, env: dict[str, str], *args: str, check: bool = True) -> str:
    """Run `swarm ARGS` the way an agent does, echoing the command and its output."""
    print(f"$ swarm {' '.join(args)}", flush=True)
    proc = subprocess.run(
        [SWARM, *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    out = (proc.stdout + proc.stderr).rstrip()
    if out:
        print(textwrap.indent(out, "  "), flush=True)
    if check and proc.returncode != 0:
        raise SystemExit(f"demo failed: swarm {' '.join(args)} exited {proc.returncode}")
    if not check:
        print(f"  (exit {proc.returncode})", flush=True)
    return proc.stdout


def status(root: Path, env: dict[str, str], key: str) -> str | None:
    """A task status read straight from the store."""
    proc = subprocess.run(
        [SWARM, "memory", "get", key],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def wait_for(predicate: object, timeout: float, what: str) -> float:
    """Poll until `predicate()` holds; return how long it took."""
    start = time.monotonic()
    while not predicate():  # type: ignore[operator]
        if time.monotonic() - start > timeout:
            raise SystemExit(f"demo failed: timed out waiting for {what}")
        time.sleep(0.002)
    return time.monotonic() - start


def main() -> None:
    """Run the demonstration in a temporary repository."""
    with tempfile.TemporaryDirectory(prefix="swarm-demo-") as tmp:
        root = Path(tmp) / "eventmesh"
        root.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        (root / "agents").mkdir()
        (root / "agents" / "release.py").write_text(RELEASE_AGENT)
        (root / "plan.yaml").write_text(PLAN)

        say("A shared memory in a git repository")
        swarm(root, env, "init")
        swarm(
            root,
            env,
            "memory",
            "put",
            "phase7/baseline",
            '{"clippy_warnings": 12, "tests_passing": 626}',
        )
        swarm(root, env, "memory", "put", "phase7/coordinator/heartbeat", "alive", "--ttl", "300")
        swarm(root, env, "memory", "get", "phase7/baseline", "--json")
        swarm(root, env, "memory", "list", "phase7/")
        swarm(root, env, "memory", "watch", "phase7/", "--from-rev", "1", "--count", "2")

        say("Load the Phase 7 plan: three parallel tasks, release_prep waits for code_quality")
        swarm(root, env, "plan", "load", "plan.yaml")
        swarm(root, env, "plan", "show")

        say("Start the coordinator daemon (backstop poll: one hour; changes wake it at once)")
        log_path = Path(tmp) / "daemon.log"
        with log_path.open("w") as log:
            daemon = subprocess.Popen(
                [SWARM, "daemon", "--interval", "3600", "--log-format", "json"],
                cwd=root,
                env=env,
                stdout=log,
                stderr=log,
            )
        try:
            wait_for(lambda: '"watching"' in log_path.read_text(), 15, "the daemon to watch")
            print(f"  daemon running (pid {daemon.pid})")
            run_agents(root, env)
        finally:
            daemon.terminate()
            daemon.wait(10)

        say("What the operator sees: swarm session-restore")
        swarm(root, env, "session-restore", "--session-id", "swarm-phase7")
        print(f"CHANGELOG.md written by the spawned agent:\n{(root / 'CHANGELOG.md').read_text()}")
        dashboard = (root / "docs" / "phase7" / "COORDINATION-DASHBOARD.md").read_text()
        say("The dashboard the daemon kept current: docs/phase7/COORDINATION-DASHBOARD.md")
        print("\n".join(dashboard.splitlines()[:24]) + "\n  ...")


def run_agents(root: Path, env: dict[str, str]) -> None:
    """Three scripted agents work in parallel; release_prep is refused until it is ready."""

    def hook(args: str, check: bool = True) -> str:
        return swarm(root, env, *shlex.split(args), check=check)

    say("Agents register and start their tasks")
    for agent, task in (
        ("cicd-engineer", "build_infra"),
        ("backend-dev", "config_system"),
        ("reviewer", "code_quality"),
    ):
        hook(f"hooks session-start --session-id swarm-phase7 --agent {agent}")
        hook(f"hooks pre-task --task-id {task} --agent {agent}")

    say("The planner tries to start release_prep too early: refused (exit 3), with reasons")
    hook("hooks pre-task --task-id release_prep --agent planner", check=False)

    say("Two agents want the same file: the second is refused, then queues for it")
    (root / "src").mkdir()
    (root / "src" / "config.rs").write_text('pub const VERSION: &str = "1.9.0";\n')
    hook("hooks pre-edit --file src/config.rs --agent backend-dev --task config_system")
    hook("hooks pre-edit --file src/config.rs --agent reviewer", check=False)
    print("$ swarm hooks pre-edit --file src/config.rs --agent reviewer --wait 30  (in background)")
    waiter = subprocess.Popen(
        [
            SWARM,
            "hooks",
            "pre-edit",
            "--file",
            "src/config.rs",
            "--agent",
            "reviewer",
            "--wait",
            "30",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for(lambda: "queued" in hook_quiet(root, env, "claims"), 10, "the queued request")
    hook("claims")
    (root / "src" / "config.rs").write_text('pub const VERSION: &str = "2.0.0";\n')
    hook("hooks post-edit --file src/config.rs --agent backend-dev")

    say("Work happens; agents report progress and results (post-task releases claims)")
    hook("hooks progress --task-id build_infra --done 2 --total 3 --agent cicd-engineer")
    hook(
        "hooks post-task --task-id build_infra --agent cicd-engineer "
        "--summary 'sccache on, 31% faster builds' --metrics '{\"build_time_gain\": 0.31}'"
    )
    hook(
        "hooks post-task --task-id config_system --agent backend-dev "
        "--summary '93/93 env vars' --metrics '{\"env_vars\": 93}'"
    )
    out, _ = waiter.communicate(timeout=30)
    print(textwrap.indent(f"(the waiting reviewer) {out.strip()}", "  "))
    say("code_quality completes: the daemon unblocks release_prep and starts its agent")
    hook(
        "hooks post-task --task-id code_quality --agent reviewer "
        "--summary '9 clippy warnings, 512 LOC removed' "
        '--metrics \'{"clippy_warnings": 9, "loc_removed": 512}\''
    )
    wait_for(
        lambda: status(root, env, "phase7/release_prep/status") == "complete",
        20,
        "the spawned planner to complete release_prep",
    )
    hook("inbox planner")
    events = hook_quiet(root, env, "events --json --limit 500")
    log = [json.loads(line) for line in events.splitlines()]
    done = next(
        e for e in log if e["type"] == "task_completed" and e["task"].endswith("code_quality")
    )
    ready = next(e for e in log if e["type"] == "task_ready" and e["task"].endswith("release_prep"))
    print(
        f"  release_prep was marked ready {(ready['ts'] - done['ts']) * 1000:.1f} ms after "
        "code_quality's post-task committed"
    )


def hook_quiet(root: Path, env: dict[str, str], args: str) -> str:
    """Run `swarm ARGS` without echoing it; return its stdout."""
    proc = subprocess.run(
        [SWARM, *shlex.split(args)], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    return proc.stdout


if __name__ == "__main__":
    main()
