"""Codex's hook trust with the pinned Codex and without `--dangerously-bypass-hook-trust`.

Before anyone trusts them, the hooks `swarm init --codex` wrote do not run: a `codex exec`
session edits the file with no registration, claim or edit record, and Codex says nothing
about it; `swarm doctor` reports them untrusted. Then the trust is recorded the way a
user does it: Codex's own terminal UI is started in the repository and "Trust all and
continue" chosen at its start-up prompt (keys in a pseudo-terminal, `tests/e2e/terminal.py`).
Codex writes a hash per hook to the user's config.toml, which must be the hashes swarm
computes (`coordinator.agents.codex_trust`); `swarm doctor` is then content, and the next
`codex exec` session, still without the bypass, runs the hooks.

The project itself is trusted in the user's config from the start (as in every Codex test
here): trusting the folder is Codex's question before this one.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

from coordinator.agents.codex_trust import read_codex_trust
from tests.e2e.fake_model import FakeModelServer, Scenario, Turn
from tests.e2e.terminal import Terminal
from tests.e2e.test_agents import agents_by_session
from tests.e2e.workspace import Workspace

PATH = "src/app.py"
#: Codex's start-up prompt when hooks need review, and its option that trusts them all.
REVIEW_PROMPT = "Hooks need review"
TRUST_ALL = "Trust all and continue"
#: What Codex's terminal UI fetches at start-up (refused by the fake server, the proxy).
ANNOUNCEMENT = "outside raw.githubusercontent.com:443"
#: How Codex marks the selected option.
SELECTED = "\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}"


def trusted_keys(config: Path, repo: Path) -> set[str]:
    """The hooks of the repository's `.codex/hooks.json` that the config holds a trusted
    hash for (Codex's `[hooks.state."<path>:<event>:<group>:<handler>"]` tables)."""
    data = tomllib.loads(config.read_text(encoding="utf-8")) if config.exists() else {}
    states = data.get("hooks", {}).get("state", {})
    prefix = f"{repo.resolve()}/.codex/hooks.json:"
    return {
        key for key, state in states.items() if key.startswith(prefix) and "trusted_hash" in state
    }


def processes_under(directory: Path) -> list[str]:
    """The command lines of the running processes whose executable or arguments name a
    path under `directory` (a client home: what a client left running there)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            words = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone, or not a process
        line = " ".join(w.decode("utf-8", "replace") for w in words if w)
        if str(directory) in line:
            found.append(line)
    return found


def trust_all_in_codex(space: Workspace, home: Path, config: Path, hooks: int) -> None:
    """Start Codex's terminal UI in the repository as the user, choose "Trust all and
    continue" at its prompt, and wait until Codex has recorded every hook's trust."""
    env = space.client.env(home, space.server.url, space.repo) | {"TERM": "xterm-256color"}
    # --no-daemon: else the UI starts Codex's shared app-server, which outlives it.
    terminal = Terminal([str(space.binary), "--no-daemon"], space.repo, env)
    try:
        terminal.wait_for(TRUST_ALL)
        assert f"{hooks} hooks are new or changed" in terminal.text(), terminal.text()
        terminal.press("2", lambda screen: f"{SELECTED} 2. {TRUST_ALL}" in screen)
        # Enter once the prompt has gone reaches the next screen: give it time to go.
        terminal.press("\r", lambda screen: REVIEW_PROMPT not in screen, again_after=5.0)
        terminal.wait_for(lambda: len(trusted_keys(config, space.repo)) == hooks)
    finally:
        terminal.close()
    assert processes_under(home) == []  # nothing of the UI's outlives it


def test_codex_skips_untrusted_hooks_until_the_user_trusts_them_in_codex(
    workspace_for: Callable[[str], Workspace], model: FakeModelServer
) -> None:
    space = workspace_for("codex")
    client = space.client
    home = space.home / "user"  # one user: the sessions and the terminal UI share it
    home.mkdir(parents=True)
    config = home / ".codex" / "config.toml"
    as_user = {"CODEX_HOME": str(config.parent)}
    hooks = json.loads((space.repo / ".codex" / "hooks.json").read_text(encoding="utf-8"))
    count = sum(len(groups) for groups in hooks["hooks"].values())

    # Untrusted: the session edits, and no hook runs (no registration, no edit record).
    tag = model.model.add(
        Scenario("untrusted", [*client.edit(space.repo, PATH, "first = 0", "first = 1"), Turn()])
    )
    untrusted = space.start("untrusted", f"{tag} Set first.", home=home, bypass_hook_trust=False)
    assert untrusted.wait() == 0, untrusted.output()
    assert space.read(PATH) == "first = 1\nsecond = 0\n"
    assert agents_by_session(space) == {}
    assert space.edits() == set()
    report = json.loads(space.swarm("doctor", "--json", env=as_user, code=1))
    [line] = report["agent_hook_problems"]
    assert f"{count} swarm hooks" in line
    assert "not trusted" in line
    assert 'choose "Trust all and continue"' in line

    # The user trusts them in Codex; Codex records the hashes swarm computes for them.
    trust_all_in_codex(space, home, config, count)
    trust = read_codex_trust(space.repo, as_user)
    assert trust is not None
    assert trust.runs, trust.problems()
    assert "agent hooks     ok" in space.swarm("doctor", env=as_user)

    # Trusted: the next session, still without the bypass, runs the hooks.
    tag = model.model.add(
        Scenario("trusted", [*client.edit(space.repo, PATH, "second = 0", "second = 2"), Turn()])
    )
    trusted = space.start("trusted", f"{tag} Set second.", home=home, bypass_hook_trust=False)
    assert trusted.wait() == 0, trusted.output()
    assert space.read(PATH) == "first = 1\nsecond = 2\n"
    [agent] = agents_by_session(space).values()
    assert agent.startswith("codex-")
    assert space.edits() == {(agent, PATH)}
    assert {(e["agent"], e["message"]) for e in space.events("claim_granted")} == {(agent, PATH)}
    assert space.claims() == []  # its SessionEnd hook gave the file back
    # Codex's terminal UI asks for its announcement tip at every start, and no setting stops
    # it: that request, refused by the fake proxy, is the only one that left for elsewhere.
    assert set(model.model.unexpected()) <= {ANNOUNCEMENT}
