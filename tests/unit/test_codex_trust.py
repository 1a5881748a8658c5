"""Codex's hook trust, the pure part behind `swarm init --codex`'s advice and `swarm doctor`:
the hash Codex records for each hook, and each hook's status against the user's config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coordinator.agents.client_config import command_group, merge_settings, settings_for
from coordinator.agents.codex_trust import (
    DISABLED,
    MODIFIED,
    TRUSTED,
    UNTRUSTED,
    CodexTrust,
    HookTrust,
    event_label,
    hook_hash,
    hook_statuses,
    our_hooks,
    project_trusted,
)

SOURCE = "/repo/.codex/hooks.json"
#: What Codex 0.171.0's `codex app-server` (`hooks/list`, `currentHash`) reported for the
#: hooks `swarm init --codex` writes; the trust key's path is the hooks file's.
CODEX_HASHES = {
    "session_start": "sha256:5a3240aa106d73d319037ba515de76e2f135b7e789de9deb446b53ef47b3f213",
    "user_prompt_submit": (
        "sha256:5a4719e8b0566f9955f32d9e3ccba947583514908076d55e89e6da050b4b2b9d"
    ),
    "pre_tool_use": "sha256:7fdf501814d63d261141d7823fe76528787ba40728068f2f78783728f71898d5",
    "post_tool_use": "sha256:28ac9eae8c6d3d0b79a9582718b3c74f5abc7e74dc5415efe19c5ebbf64a8875",
    "subagent_start": "sha256:e92f5186a8c44da18976715d78a8d12fa2d95c439ba96a56ab64e21b4b68c17e",
    "stop": "sha256:1d7f8d971807ef840ed25688a9d34da410e665e53a2225465b9b3895f1bd5374",
    "subagent_stop": "sha256:ebe9a55be71deb99e78eadff356d471e96c34a02dd5f139240a4616afb63ba48",
    "session_end": "sha256:5973f4543c56ae8a5d866677fc7346f7276baa9f6b51007336bd6de1e129f913",
}


def installed() -> dict[str, Any]:
    """The hooks.json `swarm init --codex` writes into an empty repository."""
    return merge_settings({}, settings_for("codex"))


def trusting(hooks: list[tuple[str, str, str]], **overrides: dict[str, Any]) -> dict[str, Any]:
    """A user config trusting each hook at its current hash, with some states replaced."""
    state = {key: {"trusted_hash": current} for key, _, current in hooks}
    state.update(overrides)
    return {"hooks": {"state": state}}


def test_our_hashes_are_the_ones_codex_records() -> None:
    hooks = our_hooks(installed(), SOURCE)
    assert {key: current for key, _, current in hooks} == {
        f"{SOURCE}:{label}:0:0": current for label, current in CODEX_HASHES.items()
    }


def test_event_labels_are_codexs_snake_case() -> None:
    assert event_label("PreToolUse") == "pre_tool_use"
    assert event_label("UserPromptSubmit") == "user_prompt_submit"
    assert event_label("SubagentStart") == "subagent_start"
    assert event_label("Stop") == "stop"


def test_the_hash_follows_what_codex_hashes_and_nothing_else() -> None:
    base = {"type": "command", "command": "swarm hooks codex", "timeout": 10}
    same = hook_hash("PreToolUse", "apply_patch", base)
    # Fields Codex does not hash, and its defaults spelled out, change nothing.
    assert hook_hash("PreToolUse", "apply_patch", {**base, "async": False}) == same
    assert hook_hash("PreToolUse", "apply_patch", {**base, "commandWindows": "x"}) == same
    # What it does hash changes the hash: the timeout, the matcher, the command.
    assert hook_hash("PreToolUse", "apply_patch", {**base, "timeout": 11}) != same
    assert hook_hash("PreToolUse", "Bash", base) != same
    assert hook_hash("PreToolUse", "apply_patch", {**base, "command": "other"}) != same
    # A matcher on an event that ignores matchers is not hashed; SessionEnd's timeout is
    # cut to 3 s, and a hook with none gets 600 s.
    assert hook_hash("Stop", "anything", base) == hook_hash("Stop", None, base)
    assert hook_hash("SessionEnd", None, base) == hook_hash(
        "SessionEnd", None, {**base, "timeout": 3}
    )
    untimed = {"type": "command", "command": "swarm hooks codex"}
    assert hook_hash("Stop", None, untimed) == hook_hash("Stop", None, {**base, "timeout": 600})


def test_only_our_command_counts_and_keys_name_group_and_handler() -> None:
    mine = command_group("swarm hooks codex", matcher="apply_patch|Bash", timeout=10)
    theirs = command_group("./lint.sh", matcher="apply_patch")
    file = {"hooks": {"PreToolUse": [theirs, mine], "Stop": [{"hooks": [{"type": "prompt"}]}]}}
    [(key, event, current)] = our_hooks(file, SOURCE)
    assert key == f"{SOURCE}:pre_tool_use:1:0"
    assert event == "PreToolUse"
    assert current == CODEX_HASHES["pre_tool_use"]
    assert our_hooks({"hooks": "nonsense"}, SOURCE) == []


def test_each_hook_is_trusted_untrusted_modified_or_off() -> None:
    hooks = our_hooks(installed(), SOURCE)
    keys = [key for key, _, _ in hooks]
    assert {h.status for h in hook_statuses(hooks, {})} == {UNTRUSTED}
    assert {h.status for h in hook_statuses(hooks, trusting(hooks))} == {TRUSTED}
    config = trusting(
        hooks,
        **{
            keys[0]: {"trusted_hash": "sha256:" + "0" * 64},
            keys[1]: {"trusted_hash": CODEX_HASHES["user_prompt_submit"], "enabled": False},
            keys[2]: {"enabled": True},
        },
    )
    statuses = [h.status for h in hook_statuses(hooks, config)]
    assert statuses == [MODIFIED, DISABLED, UNTRUSTED, *[TRUSTED] * (len(keys) - 3)]


def test_a_project_is_trusted_under_any_spelling_of_its_root() -> None:
    config = {"projects": {"/real/repo": {"trust_level": "trusted"}, "/other": {}}}
    assert project_trusted(config, ["/link/repo", "/real/repo"])
    assert not project_trusted(config, ["/other"])
    assert not project_trusted({"projects": {"/r": {"trust_level": "untrusted"}}}, ["/r"])
    assert not project_trusted({}, ["/r"])


def trust(project: bool, *statuses: str) -> CodexTrust:
    events = ["SessionStart", "PreToolUse", "Stop"]
    hooks = tuple(HookTrust(f"k{i}", events[i], s) for i, s in enumerate(statuses))
    return CodexTrust(Path("/repo"), Path("/home/u/.codex/config.toml"), project, hooks)


def test_trusted_hooks_in_a_trusted_project_run_and_say_nothing() -> None:
    done = trust(True, TRUSTED, TRUSTED, TRUSTED)
    assert done.runs
    assert done.problems() == []


def test_each_reason_codex_skips_hooks_is_one_line_naming_the_step() -> None:
    step = 'run `codex` in /repo once and choose "Trust all and continue"'
    [untrusted] = trust(True, UNTRUSTED, UNTRUSTED, TRUSTED).problems()
    assert untrusted == (
        "codex: 2 swarm hooks (SessionStart, PreToolUse) in .codex/hooks.json not trusted in "
        f"/home/u/.codex/config.toml, so Codex skips them without a word; {step}"
    )
    [modified] = trust(True, TRUSTED, MODIFIED, TRUSTED).problems()
    assert modified.startswith(
        "codex: 1 swarm hook (PreToolUse) in .codex/hooks.json trusted for a different hash "
        "in /home/u/.codex/config.toml: they changed since they were trusted"
    )
    assert modified.endswith(step)
    [project] = trust(False, TRUSTED, TRUSTED, TRUSTED).problems()
    assert "/repo is not a trusted project" in project
    assert step in project
    [off] = trust(True, TRUSTED, TRUSTED, DISABLED).problems()
    assert "1 swarm hook (Stop)" in off
    assert "turned off" in off
    assert not trust(True, TRUSTED, MODIFIED, TRUSTED).runs
