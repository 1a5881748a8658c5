"""`swarm report` and `session-restore` without `--session-id` (issue 21, point 7): with one
session they use it; with several, the latest active one, saying so on stderr; when none
can be chosen they list the sessions and exit 1. Run as subprocesses."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Project, load

#: The three ways an operator asks without naming a session.
WAYS = [("report",), ("session-restore",), ("hooks", "session-restore")]


def plan(phase: str, session: str) -> str:
    return f"phase: {phase}\nsession: {session}\ntasks:\n  {phase}_a:\n    title: A\n"


def finish(project: Project, phase: str, agent: str) -> None:
    """Run the phase's one task to completion."""
    project.ok("hooks", "pre-task", "--task-id", f"{phase}/{phase}_a", "--agent", agent)
    project.ok("hooks", "post-task", "--task-id", f"{phase}/{phase}_a", "--agent", agent)


@pytest.mark.parametrize("way", WAYS)
def test_no_plan_means_no_session_to_show(project: Project, way: tuple[str, ...]) -> None:
    result = project.swarm(*way)

    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "swarm: error: no plan is loaded, so there is no session; run `swarm plan load`\n"
    )


@pytest.mark.parametrize("way", WAYS)
def test_the_only_session_is_used_without_a_word(project: Project, way: tuple[str, ...]) -> None:
    load(project, plan("p1", "s1"))
    finish(project, "p1", "alice")  # finished or not, it is the one

    result = project.ok(*way)

    assert result.stderr == ""
    assert ("Completion report: s1" if way == ("report",) else "Session s1") in result.stdout


def test_of_several_sessions_the_latest_active_is_used_and_named(project: Project) -> None:
    load(project, plan("p1", "s1"))
    load(project, plan("p2", "s2"))
    load(project, plan("p3", "s3"))
    finish(project, "p3", "carol")  # s3 is written last, but it is finished
    project.ok("hooks", "session-start", "--session-id", "s1", "--agent", "alice")
    note = "swarm: session s1, the latest active of 3 (pass --session-id for another)\n"

    for way in WAYS:
        result = project.ok(*way)
        assert result.stderr == note, way
    assert project.ok("session-restore", "--json").json()["session"] == "s1"
    report = project.ok("report", "--format", "json").json()
    assert report["session"] == "s1"

    out = project.root / "report.md"
    written = project.ok("report", "-o", str(out))
    assert written.stdout == f"report for s1 written to {out}\n"
    assert out.read_text().startswith("# Completion report: s1")
    # Named, a session is used as named, and nothing is said.
    assert project.ok("report", "--session-id", "s3").stderr == ""


def test_several_sessions_none_active_are_listed(project: Project) -> None:
    load(project, plan("p1", "s1"))
    load(project, plan("p2", "s2"))
    finish(project, "p1", "alice")
    finish(project, "p2", "bob")

    for way in WAYS:
        result = project.swarm(*way)
        assert result.code == 1, way
        assert result.stdout == ""
        first, *listed = result.stderr.splitlines()
        assert first.startswith("swarm: error: 2 sessions and none is active"), first
        assert "--session-id" in first
        assert [line.split(" (")[0] for line in listed] == ["  - s2", "  - s1"]
        assert all("0 of 1 tasks not finished, 0 live agents" in line for line in listed)
