"""Codex's hook trust through the real `swarm`: `swarm init --codex` says when Codex will
not run the hooks yet and names the one step, and `swarm doctor` reports hooks that are
untrusted, or trusted for a different hash after they changed. The user's Codex config is
written the way Codex's own "Trust all and continue" writes it (tests/e2e/test_codex_trust.py
does it through the real Codex)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import Project
from tests.unit.test_codex_trust import CODEX_HASHES

STEP = 'run `codex` in {root} once and choose "Trust all and continue"'


@pytest.fixture
def codex_home(project: Project, tmp_path: Path) -> Path:
    """A CODEX_HOME of the test's own (the user's config, where Codex records trust)."""
    home = tmp_path / "codex-home"
    home.mkdir()
    project.env["CODEX_HOME"] = str(home)
    return home


def trust_as_codex_does(project: Project, codex_home: Path) -> None:
    """What choosing "Trust all and continue" (after trusting the folder) leaves in the
    user's config.toml, with the hashes Codex 0.171.0 recorded for our hooks."""
    root = project.root.resolve()
    lines = [f'[projects."{root}"]', 'trust_level = "trusted"', "", "[hooks.state]", ""]
    for label, current in CODEX_HASHES.items():
        key = f"{root}/.codex/hooks.json:{label}:0:0"
        lines += [f'[hooks.state."{key}"]', f'trusted_hash = "{current}"', ""]
    (codex_home / "config.toml").write_text("\n".join(lines), encoding="utf-8")


def test_init_names_the_one_step_until_the_hooks_are_trusted(
    project: Project, codex_home: Path
) -> None:
    step = STEP.format(root=project.root.resolve())
    first = project.ok("init", "--codex")
    assert (
        "codex: Codex runs these hooks only once you trust them, and until then skips them "
        f"without a word: {step}"
    ) in first.stdout.splitlines()
    trust_as_codex_does(project, codex_home)
    again = project.ok("init", "--codex")
    assert "trust" not in again.stdout
    assert "codex: .codex/hooks.json already has the swarm hooks" in again.stdout


def test_doctor_reports_untrusted_hooks_then_ok_then_a_changed_hook(
    project: Project, codex_home: Path
) -> None:
    project.ok("init", "--codex")
    step = STEP.format(root=project.root.resolve())

    untrusted = project.swarm("doctor")
    assert untrusted.code == 1
    assert "agent hooks     PROBLEMS" in untrusted.stdout
    assert "is not a trusted project" in untrusted.stdout
    assert (
        "8 swarm hooks (SessionStart, UserPromptSubmit, PreToolUse, PostToolUse, "
        "SubagentStart, Stop, SubagentStop, SessionEnd) in .codex/hooks.json not trusted in "
        f"{codex_home / 'config.toml'}, so Codex skips them without a word; {step}"
    ) in untrusted.stdout
    assert "2 problem(s) found" in untrusted.stderr

    trust_as_codex_does(project, codex_home)
    trusted = project.ok("doctor")
    assert "agent hooks     ok" in trusted.stdout
    assert project.ok("doctor", "--json").json()["agent_hook_problems"] == []

    # An update that changes one of our hooks (here its timeout): Codex holds it trusted
    # for the old definition's hash, so it skips it until it is trusted again.
    path = project.root / ".codex" / "hooks.json"
    hooks = json.loads(path.read_text(encoding="utf-8"))
    hooks["hooks"]["PreToolUse"][0]["hooks"][0]["timeout"] = 20
    path.write_text(json.dumps(hooks, indent=2), encoding="utf-8")
    changed = project.swarm("doctor", "--json")
    assert changed.code == 1
    [line] = changed.json()["agent_hook_problems"]
    assert line.startswith(
        "codex: 1 swarm hook (PreToolUse) in .codex/hooks.json trusted for a different hash"
    )
    assert line.endswith(step)


def test_doctor_says_nothing_of_agent_hooks_where_none_need_trust(project: Project) -> None:
    project.ok("init", "--claude")
    result = project.ok("doctor")
    assert "agent hooks" not in result.stdout
