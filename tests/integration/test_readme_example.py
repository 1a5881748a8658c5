"""The README's Phase 7 example works as written: its plan and `run:` script (the first
examples of docs/plans.md) and the commands of "In thirty seconds", run one by one with the
real daemon."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

from tests.integration.conftest import DaemonProcess, Project, wait_until

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PLANS = ROOT / "docs" / "plans.md"


def block(page: Path, heading: str, lang: str) -> str:
    """The first ```lang block after the `heading` line of `page`."""
    text = page.read_text(encoding="utf-8")
    heading_line = re.compile(rf"^{re.escape(heading)}$", re.M).search(text)
    assert heading_line, f"no {heading} in {page.name}"
    start = heading_line.end()
    match = re.compile(rf"^```{lang}\n(.*?)^```$", re.M | re.S).search(text, start)
    assert match, f"no {lang} block under {heading}"
    return match.group(1)


def commands(script: str) -> list[list[str]]:
    """Each command line of a shell block, split as the shell would (comments dropped)."""
    return [argv for line in script.splitlines() if (argv := shlex.split(line, comments=True))]


def test_the_readme_phase7_example_works_as_written(
    project: Project, start_daemon: Callable[..., DaemonProcess]
) -> None:
    (project.root / "phase7.yaml").write_text(block(PLANS, "# Plans", "yaml"))
    agents = project.root / "scripts" / "agents"
    agents.mkdir(parents=True)
    (agents / "config.sh").write_text(block(PLANS, "# Plans", "sh"))

    outputs: dict[str, str] = {}
    for argv in commands(block(README, "## In thirty seconds", "bash")):
        assert argv[0] == "swarm", argv
        if argv[-1] == "&":
            assert argv[1:-1] == ["daemon"]
            start_daemon()
            continue
        if argv[1] == "inbox":
            # "a moment later": the daemon marks the task ready on its own.
            wait_until(
                lambda: project.value("phase7/release_prep/status") == "ready",
                what="release_prep ready",
            )
        outputs[" ".join(argv[1:3])] = project.ok(*argv[1:]).stdout

    assert "task phase7/release_prep is now ready" in outputs["inbox planner"]
    assert project.value("phase7/code_quality/clippy_warnings") == 9
    assert project.value("phase7/code_quality/status") == "complete"
    assert project.value("phase7/release_prep/status") == "in_progress"
    # The daemon started config_system's `run:` script, which finished the task.
    wait_until(lambda: project.value("phase7/config_system/status") == "complete")
    assert project.value("phase7/config_system/env_vars") == 93

    restore = outputs["session-restore --session-id"]
    assert "Phase 7 release" in restore
    assert "phase7/release_prep" in restore and "planner" in restore
    report = outputs["report --session-id"]
    assert "| `phase7/code_quality/clippy_warnings` | < 20 | 12 | 9 | -3 | ✅ pass |" in report
    assert "**Go/no-go: NO-GO** (phase7/release_prep is in_progress)" in report
