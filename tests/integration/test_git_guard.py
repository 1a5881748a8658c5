"""The git pre-commit guard in a real repository: real hooks, real `git commit`, claims made
through `swarm hooks pre-edit` the way agents make them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from coordinator.git.guard import CHAINED_HOOK_NAME, HOOK_MARKER
from tests.integration.conftest import SWARM, Project


def git(
    project: Project, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run git in the project with its isolated environment; never raises."""
    return subprocess.run(
        ["git", *args],
        cwd=project.root,
        env={**project.env, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


def commit(
    project: Project, message: str, agent: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`git commit` as `agent` (SWARM_AGENT_ID), with extra environment variables."""
    extra = dict(env)
    if agent is not None:
        extra["SWARM_AGENT_ID"] = agent
    return git(project, "commit", "-q", "-m", message, env=extra)


def write(project: Project, path: str, text: str) -> None:
    target = project.root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def stage(project: Project, path: str, text: str) -> None:
    write(project, path, text)
    assert git(project, "add", path).returncode == 0


def hook_path(project: Project) -> Path:
    return project.root / ".git" / "hooks" / "pre-commit"


@pytest.fixture
def guarded(project: Project) -> Project:
    """The project with one commit (src/app.py, README), the guard installed, and agent A
    holding src/app.py exclusively for task t1."""
    write(project, "src/app.py", "print('v1')\n")
    write(project, "README", "hello\n")
    assert git(project, "add", "-A").returncode == 0
    assert commit(project, "initial").returncode == 0
    project.ok("init", "--git-hook")
    project.ok("hooks", "pre-edit", "--agent", "A", "--file", "src/app.py", "--task", "t1")
    return project


def test_install_writes_an_executable_hook_calling_this_swarm(project: Project) -> None:
    result = project.ok("init", "--git-hook")
    hook = hook_path(project)
    text = hook.read_text()
    assert "installed git pre-commit guard" in result.stdout
    assert os.access(hook, os.X_OK)
    assert text.startswith("#!/bin/sh\n")
    assert HOOK_MARKER in text
    assert f"swarm={SWARM}\n" in text
    assert 'exec "$swarm" guard pre-commit' in text


def test_installing_twice_gives_the_same_hook(project: Project) -> None:
    project.ok("init", "--git-hook")
    first = hook_path(project).read_bytes()
    second = project.ok("init", "--git-hook")
    assert "already installed" in second.stdout
    assert hook_path(project).read_bytes() == first
    assert not (hook_path(project).parent / CHAINED_HOOK_NAME).exists()


def test_a_commit_by_another_agent_of_a_held_file_is_refused(guarded: Project) -> None:
    stage(guarded, "src/app.py", "print('v2 by B')\n")
    result = commit(guarded, "B edits app", agent="B")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if "src/app.py" in line]
    assert lines == ["swarm guard: src/app.py is held exclusively by A (task adhoc/t1)"]
    assert "swarm: error: commit refused: 1 staged path" in result.stderr
    assert git(guarded, "log", "--format=%s").stdout.splitlines() == ["initial"]


def test_a_commit_without_an_agent_counts_every_exclusive_claim(guarded: Project) -> None:
    stage(guarded, "src/app.py", "print('v2')\n")
    result = commit(guarded, "anonymous edit")
    assert result.returncode != 0
    assert "src/app.py is held exclusively by A" in result.stderr
    assert "SWARM_AGENT_ID is unset" in result.stderr


def test_the_holder_commits_its_own_file(guarded: Project) -> None:
    stage(guarded, "src/app.py", "print('v2 by A')\n")
    result = commit(guarded, "A edits app", agent="A")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_an_unclaimed_file_commits(guarded: Project) -> None:
    stage(guarded, "src/other.py", "x = 1\n")
    result = commit(guarded, "B adds other", agent="B")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_renaming_a_held_file_is_refused(guarded: Project) -> None:
    assert git(guarded, "mv", "src/app.py", "src/main.py").returncode == 0
    result = commit(guarded, "B renames app", agent="B")
    assert result.returncode != 0
    assert "swarm guard: src/app.py is held exclusively by A (task adhoc/t1)" in result.stderr
    assert "src/main.py" not in result.stderr


def test_a_rename_onto_a_held_path_is_refused(guarded: Project) -> None:
    guarded.ok("hooks", "pre-edit", "--agent", "A", "--file", "docs/README")
    (guarded.root / "docs").mkdir()
    assert git(guarded, "mv", "README", "docs/README").returncode == 0
    result = commit(guarded, "B moves README", agent="B")
    assert result.returncode != 0
    assert "swarm guard: docs/README is held exclusively by A" in result.stderr


def test_a_glob_claim_covers_the_files_under_it(guarded: Project) -> None:
    guarded.ok("hooks", "pre-edit", "--agent", "C", "--file", "lib/**", "--task", "t2")
    stage(guarded, "lib/deep/util.py", "y = 2\n")
    result = commit(guarded, "B adds util", agent="B")
    assert result.returncode != 0
    assert (
        "swarm guard: lib/deep/util.py is held exclusively by C (task adhoc/t2; claim lib/**)"
        in result.stderr
    )


def test_a_shared_claim_does_not_block(guarded: Project) -> None:
    guarded.ok("hooks", "pre-edit", "--agent", "C", "--file", "notes.md", "--mode", "shared")
    stage(guarded, "notes.md", "shared notes\n")
    result = commit(guarded, "B edits notes", agent="B")
    assert result.returncode == 0, result.stderr


def test_warn_lets_the_commit_through_and_prints_the_paths(guarded: Project) -> None:
    stage(guarded, "src/app.py", "print('v2 by B')\n")
    result = commit(guarded, "B edits app", agent="B", SWARM_GUARD="warn")
    assert result.returncode == 0, result.stderr
    assert "swarm guard: src/app.py is held exclusively by A (task adhoc/t1)" in result.stderr
    assert "SWARM_GUARD=warn" in result.stderr
    assert git(guarded, "log", "-1", "--format=%s").stdout.strip() == "B edits app"


def test_off_lets_the_commit_through_silently(guarded: Project) -> None:
    stage(guarded, "src/app.py", "print('v2 by B')\n")
    result = commit(guarded, "B edits app", agent="B", SWARM_GUARD="off")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_an_unknown_guard_mode_is_refused_not_ignored(guarded: Project) -> None:
    stage(guarded, "src/app.py", "print('v2 by B')\n")
    result = commit(guarded, "B edits app", agent="B", SWARM_GUARD="of")
    assert result.returncode != 0
    assert "SWARM_GUARD='of' is not one of on, warn, off" in result.stderr


def test_an_existing_hook_is_chained_and_runs_first(project: Project) -> None:
    marker = project.root / "chained-ran"
    hooks = hook_path(project).parent
    hooks.mkdir(parents=True, exist_ok=True)
    hook_path(project).write_text(f"#!/bin/sh\necho ran > '{marker}'\n")
    hook_path(project).chmod(0o755)
    result = project.ok("init", "--git-hook")
    assert CHAINED_HOOK_NAME in result.stdout
    chained = hooks / CHAINED_HOOK_NAME
    assert chained.read_text().startswith("#!/bin/sh\necho ran")
    assert HOOK_MARKER in hook_path(project).read_text()

    stage(project, "a.txt", "a\n")
    assert commit(project, "first", agent="B").returncode == 0
    assert marker.read_text() == "ran\n"

    # Installing again neither re-chains our own hook nor loses the chained one.
    before = hook_path(project).read_bytes()
    project.ok("init", "--git-hook")
    assert hook_path(project).read_bytes() == before
    assert chained.read_text().startswith("#!/bin/sh\necho ran")


def test_a_failing_chained_hook_fails_the_commit_with_its_code(guarded: Project) -> None:
    chained = hook_path(guarded).parent / CHAINED_HOOK_NAME
    chained.write_text("#!/bin/sh\necho 'lint failed' >&2\nexit 7\n")
    chained.chmod(0o755)
    stage(guarded, "src/other.py", "x = 1\n")
    result = commit(guarded, "B adds other", agent="B")
    assert result.returncode != 0
    assert "lint failed" in result.stderr
    hook = subprocess.run(
        [str(hook_path(guarded))],
        cwd=guarded.root,
        env={**guarded.env, "SWARM_AGENT_ID": "B"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert hook.returncode == 7


def test_a_foreign_hook_is_not_overwritten_when_the_chained_slot_is_taken(
    project: Project,
) -> None:
    hooks = hook_path(project).parent
    hooks.mkdir(parents=True, exist_ok=True)
    hook_path(project).write_text("#!/bin/sh\nexit 0\n")
    (hooks / CHAINED_HOOK_NAME).write_text("#!/bin/sh\nexit 0\n")
    result = project.swarm("init", "--git-hook")
    assert result.code == 1
    assert "merge the two hooks by hand" in result.stderr
    assert hook_path(project).read_text() == "#!/bin/sh\nexit 0\n"


def test_core_hooks_path_is_respected(project: Project) -> None:
    assert git(project, "config", "core.hooksPath", "githooks").returncode == 0
    project.ok("init", "--git-hook")
    hook = project.root / "githooks" / "pre-commit"
    assert HOOK_MARKER in hook.read_text()
    assert not hook_path(project).exists()

    write(project, "src/app.py", "v1\n")
    project.ok("hooks", "pre-edit", "--agent", "A", "--file", "src/app.py")
    assert git(project, "add", "src/app.py").returncode == 0
    result = commit(project, "B adds app", agent="B")
    assert result.returncode != 0
    assert "src/app.py is held exclusively by A" in result.stderr


def test_commit_of_named_paths_checks_what_is_committed(guarded: Project) -> None:
    # `git commit PATH` commits through a temporary index; the guard must read that one.
    write(guarded, "src/app.py", "print('v2 by B')\n")
    result = git(guarded, "commit", "-q", "-m", "B", "src/app.py", env={"SWARM_AGENT_ID": "B"})
    assert result.returncode != 0
    assert "src/app.py is held exclusively by A" in result.stderr


def test_the_guard_reads_the_main_store_from_a_linked_worktree(guarded: Project) -> None:
    worktree = guarded.root.parent / "wt"
    assert git(guarded, "worktree", "add", "-q", "-b", "feat", str(worktree)).returncode == 0
    (worktree / "src" / "app.py").write_text("print('from the worktree')\n")
    env = {**guarded.env, "SWARM_AGENT_ID": "B"}
    subprocess.run(["git", "add", "src/app.py"], cwd=worktree, env=env, check=True)
    result = subprocess.run(
        ["git", "commit", "-q", "-m", "B in worktree"],
        cwd=worktree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "src/app.py is held exclusively by A" in result.stderr


def test_guard_help_is_documented(project: Project) -> None:
    result = project.ok("guard", "pre-commit", "--help")
    assert "SWARM_GUARD=warn" in result.stdout
    assert "pre-commit" in project.ok("guard").stdout


def test_a_held_file_named_like_a_glob_is_guarded_as_that_file(guarded: Project) -> None:
    write(guarded, "app/[slug]/page.py", "v1\n")
    guarded.ok("hooks", "pre-edit", "--agent", "A", "--file", "app/[slug]/page.py")
    stage(guarded, "app/s/page.py", "not held\n")
    assert commit(guarded, "other file", agent="B").returncode == 0
    stage(guarded, "app/[slug]/page.py", "v2 by B\n")
    refused = commit(guarded, "held file", agent="B")
    assert refused.returncode != 0
    assert "app/[slug]/page.py is held exclusively by A" in refused.stderr


def test_a_staged_symlink_to_a_held_file_is_refused(guarded: Project) -> None:
    (guarded.root / "alias[1].py").symlink_to(guarded.root / "src" / "app.py")
    assert git(guarded, "add", "alias[1].py").returncode == 0
    refused = commit(guarded, "alias", agent="B")
    assert refused.returncode != 0
    assert "src/app.py" in refused.stderr
