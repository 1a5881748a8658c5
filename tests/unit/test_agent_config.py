"""The settings merge behind `swarm init --claude | --codex | --gemini | --cursor` (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from coordinator.agents.client_config import (
    AGENTS,
    AgentConfigError,
    command_group,
    entry_commands,
    merge_settings,
    render,
    settings_for,
)

CLAUDE = settings_for("claude")
CURSOR = settings_for("cursor")


def test_merging_into_nothing_gives_exactly_our_entries() -> None:
    merged = merge_settings({}, CLAUDE)
    assert merged == {"hooks": {event: entries for event, entries in CLAUDE.entries.items()}}


def test_other_settings_and_hooks_are_kept_and_ours_come_after_them() -> None:
    theirs = command_group("npx prettier --write .", matcher="Write")
    current: dict[str, Any] = {
        "model": "opus",
        "hooks": {"PostToolUse": [theirs], "Notification": [command_group("notify-send hi")]},
    }
    merged = merge_settings(current, CLAUDE)
    assert merged["model"] == "opus"
    assert merged["hooks"]["Notification"] == current["hooks"]["Notification"]
    assert merged["hooks"]["PostToolUse"] == [theirs, *CLAUDE.entries["PostToolUse"]]
    assert list(merged["hooks"])[:2] == ["PostToolUse", "Notification"]
    assert current["hooks"]["PostToolUse"] == [theirs]  # the input is not modified


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_merging_twice_changes_nothing(agent: str) -> None:
    settings = settings_for(agent)
    once = merge_settings({}, settings)
    assert merge_settings(once, settings) == once
    assert render(merge_settings(once, settings)) == render(once)


def test_an_entry_running_our_command_is_not_added_again() -> None:
    # Someone narrowed our matcher and raised the timeout: theirs stands.
    edited = command_group("swarm  hooks claude", matcher="Edit", timeout=30)
    merged = merge_settings({"hooks": {"PreToolUse": [edited]}}, CLAUDE)
    assert merged["hooks"]["PreToolUse"] == [edited]


def test_cursor_entries_are_flat_and_the_version_is_set_first() -> None:
    merged = merge_settings({"hooks": {"afterFileEdit": [{"command": "./fmt.sh"}]}}, CURSOR)
    assert list(merged) == ["version", "hooks"]
    assert merged["version"] == 1
    assert merged["hooks"]["afterFileEdit"] == [
        {"command": "./fmt.sh"},
        {"command": "swarm hooks cursor"},
    ]
    assert merge_settings({"version": 2}, CURSOR)["version"] == 2


def test_entry_commands_reads_both_layouts() -> None:
    assert entry_commands(command_group("a  b"), flat=False) == {"a b"}
    assert entry_commands({"command": "c"}, flat=True) == {"c"}
    assert entry_commands({"hooks": "nonsense"}, flat=False) == set()
    assert entry_commands("nonsense", flat=True) == set()


@pytest.mark.parametrize(
    ("current", "message"),
    [
        ({"hooks": []}, '"hooks" is not a JSON object'),
        ({"hooks": {"PreToolUse": {}}}, '"hooks.PreToolUse" is not a JSON array'),
    ],
)
def test_a_malformed_hooks_section_is_refused(current: dict[str, Any], message: str) -> None:
    with pytest.raises(AgentConfigError, match=message):
        merge_settings(current, CLAUDE)


def test_render_is_stable_json_with_a_trailing_newline() -> None:
    text = render({"b": 1, "a": ["é"]})
    assert text == '{\n  "b": 1,\n  "a": [\n    "é"\n  ]\n}\n'
    assert json.loads(text) == {"b": 1, "a": ["é"]}


def test_each_agent_has_its_documented_file_and_events() -> None:
    layout = {name: (s.path, sorted(s.entries)) for name, s in map(_named, AGENTS)}
    assert layout == {
        "claude": (
            ".claude/settings.json",
            sorted(
                [
                    "SessionStart",
                    "SubagentStart",
                    "UserPromptSubmit",
                    "PreToolUse",
                    "PostToolUse",
                    "PostToolBatch",
                    "CwdChanged",
                    "Stop",
                    "SubagentStop",
                    "SessionEnd",
                ]
            ),
        ),
        "codex": (
            ".codex/hooks.json",
            sorted(
                [
                    "SessionStart",
                    "SubagentStart",
                    "UserPromptSubmit",
                    "PreToolUse",
                    "PostToolUse",
                    "Stop",
                    "SubagentStop",
                    "SessionEnd",
                ]
            ),
        ),
        "gemini": (
            ".gemini/settings.json",
            sorted(
                [
                    "SessionStart",
                    "BeforeAgent",
                    "BeforeTool",
                    "AfterTool",
                    "AfterAgent",
                    "SessionEnd",
                ]
            ),
        ),
        "cursor": (
            ".cursor/hooks.json",
            sorted(
                [
                    "sessionStart",
                    "preToolUse",
                    "afterFileEdit",
                    "beforeShellExecution",
                    "afterShellExecution",
                    "stop",
                    "sessionEnd",
                ]
            ),
        ),
    }
    with pytest.raises(AgentConfigError):
        settings_for("vim")


def _named(name: str) -> tuple[str, Any]:
    return name, settings_for(name)
