"""Codex CLI's hook trust: whether Codex will run the hooks `swarm init --codex` wrote to
`.codex/hooks.json`, and the one step that makes it.

Codex (measured on 0.171.0) runs a project's command hooks only in a trusted project
(`[projects."<root>"] trust_level = "trusted"` in the user's `$CODEX_HOME/config.toml`,
default `~/.codex`) and only once a person has trusted each hook: choosing "Trust all and
continue" when Codex starts (or `t` in its `/hooks`) writes
`[hooks.state."<hooks.json path>:<event>:<group>:<handler>"] trusted_hash = "sha256:..."`
to that file, the hash of the hook's definition. A hook with no such entry is untrusted;
one whose entry holds another hash changed since it was trusted (a swarm update, an edit)
and needs trusting again; `enabled = false` turns a hook off. `codex exec` skips all of
these without a word (unless run with `--dangerously-bypass-hook-trust`).

The hash is Codex's `version_for_toml` of the hook's normalised identity,
`{"event_name": <snake_case event>, "matcher": ..., "hooks": [<the one handler>]}`: the
SHA-256 of its JSON with sorted keys and no blanks. tests/e2e/test_codex_trust.py checks
it against the hashes the real Codex records, and `scripts/e2e --latest` against its
newest release.

The rules are pure functions of the parsed files; `read_codex_trust` is the I/O around
them, for `swarm init --codex` and `swarm doctor`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coordinator.agents.client_config import hook_command, settings_for

TRUSTED = "trusted"
UNTRUSTED = "untrusted"
MODIFIED = "modified"
DISABLED = "disabled"
#: Codex's timeout for a hook that sets none, in seconds.
DEFAULT_TIMEOUT = 600
#: Codex cuts a SessionEnd hook's timeout to this many seconds (and warns at every start).
SESSION_END_TIMEOUT = 3
#: Events whose matcher Codex ignores (and leaves out of the hash).
MATCHERLESS = frozenset({"UserPromptSubmit", "Stop", "PreCompact", "PostCompact"})
#: What a person does once so that the hooks run (a `{root}` to fill in).
TRUST_STEP = 'run `codex` in {root} once and choose "Trust all and continue"'


@dataclass(frozen=True)
class HookTrust:
    """One of our hooks as Codex sees it: its trust key, event and status."""

    key: str
    event: str
    status: str


@dataclass(frozen=True)
class CodexTrust:
    """Whether Codex will run the swarm hooks of one repository."""

    root: Path
    #: The user's Codex configuration, where trust is recorded.
    config: Path
    #: Whether the repository is a trusted project there (else Codex loads no project hooks).
    project_trusted: bool
    hooks: tuple[HookTrust, ...]

    @property
    def runs(self) -> bool:
        """Whether Codex runs every swarm hook of the repository."""
        return self.project_trusted and all(h.status == TRUSTED for h in self.hooks)

    def problems(self) -> list[str]:
        """One line per reason Codex would skip swarm hooks here, naming what to do."""
        return trust_problems(self)


def event_label(event: str) -> str:
    """Codex's snake_case name of a hook event (`PreToolUse` -> `pre_tool_use`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event).lower()


def normalised_handler(event: str, handler: Mapping[str, Any]) -> dict[str, Any]:
    """A command handler as Codex hashes it: type, command, timeout (its default, at
    least 1 s, SessionEnd's cut to 3 s), async, and the status message when it has one."""
    timeout = handler.get("timeout", handler.get("timeoutSec"))
    seconds = max(1, timeout if isinstance(timeout, int) else DEFAULT_TIMEOUT)
    if event == "SessionEnd":
        seconds = min(seconds, SESSION_END_TIMEOUT)
    normal: dict[str, Any] = {
        "type": "command",
        "command": handler.get("command"),
        "timeout": seconds,
        "async": bool(handler.get("async", False)),
    }
    message = handler.get("statusMessage")
    if message is not None:
        normal["statusMessage"] = message
    return normal


def hook_hash(event: str, matcher: str | None, handler: Mapping[str, Any]) -> str:
    """Codex's hash of one command handler of a matcher group of `event`."""
    identity: dict[str, Any] = {"event_name": event_label(event)}
    if matcher is not None and event not in MATCHERLESS:
        identity["matcher"] = matcher
    identity["hooks"] = [normalised_handler(event, handler)]
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def our_hooks(hooks_file: Mapping[str, Any], source: str) -> list[tuple[str, str, str]]:
    """(trust key, event, current hash) of each handler in a parsed hooks.json that runs
    `swarm hooks codex`; `source` is the file's absolute path as Codex names it."""
    ours = " ".join(hook_command("codex").split())
    found: list[tuple[str, str, str]] = []
    events = hooks_file.get("hooks")
    if not isinstance(events, dict):
        return found
    for event, groups in events.items():
        if not isinstance(groups, list):
            continue
        for g, group in enumerate(groups):
            handlers = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(handlers, list):
                continue
            matcher = group.get("matcher")
            for h, handler in enumerate(handlers):
                if not isinstance(handler, dict) or handler.get("type", "command") != "command":
                    continue
                command = handler.get("command")
                if not isinstance(command, str) or " ".join(command.split()) != ours:
                    continue
                key = f"{source}:{event_label(event)}:{g}:{h}"
                found.append((key, event, hook_hash(event, matcher, handler)))
    return found


def hook_statuses(
    hooks: list[tuple[str, str, str]], user_config: Mapping[str, Any]
) -> tuple[HookTrust, ...]:
    """Each hook's status against the `hooks.state` table of the user's config."""
    table = user_config.get("hooks")
    states = table.get("state") if isinstance(table, dict) else None
    states = states if isinstance(states, dict) else {}
    statuses = []
    for key, event, current in hooks:
        state = states.get(key)
        state = state if isinstance(state, dict) else {}
        trusted = state.get("trusted_hash")
        if state.get("enabled") is False:
            status = DISABLED
        elif trusted is None:
            status = UNTRUSTED
        elif trusted == current:
            status = TRUSTED
        else:
            status = MODIFIED
        statuses.append(HookTrust(key, event, status))
    return tuple(statuses)


def project_trusted(user_config: Mapping[str, Any], roots: list[str]) -> bool:
    """Whether any spelling of the repository root is a trusted project in the config."""
    projects = user_config.get("projects")
    if not isinstance(projects, dict):
        return False
    for root in roots:
        entry = projects.get(root)
        if isinstance(entry, dict) and entry.get("trust_level") == "trusted":
            return True
    return False


def trust_problems(trust: CodexTrust) -> list[str]:
    """The lines `swarm doctor` prints for hooks Codex would skip, each naming the step."""
    step = TRUST_STEP.format(root=trust.root)
    hooks_file = settings_for("codex").path
    problems = []
    if not trust.project_trusted:
        problems.append(
            f"codex: {trust.root} is not a trusted project in {trust.config}, so Codex loads "
            f"none of the hooks in {hooks_file}; {step} (trust the folder when it asks)"
        )
    by_status: dict[str, list[str]] = {}
    for hook in trust.hooks:
        by_status.setdefault(hook.status, []).append(hook.event)
    if UNTRUSTED in by_status:
        problems.append(
            f"codex: {_count(by_status[UNTRUSTED])} in {hooks_file} not trusted in "
            f"{trust.config}, so Codex skips them without a word; {step}"
        )
    if MODIFIED in by_status:
        problems.append(
            f"codex: {_count(by_status[MODIFIED])} in {hooks_file} trusted for a different "
            f"hash in {trust.config}: they changed since they were trusted (a swarm update "
            f"or an edit), so Codex skips them; {step}"
        )
    if DISABLED in by_status:
        problems.append(
            f"codex: {_count(by_status[DISABLED])} in {hooks_file} turned off in "
            f"{trust.config}; turn them on in Codex's /hooks"
        )
    return problems


def _count(events: list[str]) -> str:
    noun = "swarm hook" if len(events) == 1 else "swarm hooks"
    return f"{len(events)} {noun} ({', '.join(events)})"


# --- the files ----------------------------------------------------------------------------


def codex_home(environ: Mapping[str, str]) -> Path:
    """Codex's own directory: CODEX_HOME, else ~/.codex."""
    explicit = environ.get("CODEX_HOME")
    if explicit:
        return Path(explicit)
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".codex"


def read_codex_trust(root: Path, environ: Mapping[str, str] = os.environ) -> CodexTrust | None:
    """Whether Codex will run the swarm hooks of the repository at `root`; None when it
    has none (no `.codex/hooks.json`, or none of its hooks is ours). A user config that
    is absent or does not parse trusts nothing."""
    physical = root.resolve()
    path = physical / settings_for("codex").path
    try:
        hooks_file = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    hooks = our_hooks(hooks_file if isinstance(hooks_file, dict) else {}, str(path))
    if not hooks:
        return None
    config = codex_home(environ) / "config.toml"
    try:
        user_config: dict[str, Any] = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        user_config = {}
    roots = list(dict.fromkeys([str(root), str(physical)]))
    return CodexTrust(
        physical,
        config,
        project_trusted(user_config, roots),
        hook_statuses(hooks, user_config),
    )
