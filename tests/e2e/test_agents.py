"""The real Claude Code, Codex and Gemini CLI, driven by the scripted fake model, on one
repository configured by `swarm init --<client>`, with no SWARM_AGENT_ID.

Two sessions of one client edit the same file: the second is refused with a reason naming
the first, the first's claim is given back when it ends, and then the second's edit goes
through. Sessions are kept alive (or held back) with the fake model's gates, so nothing
here sleeps: each step waits on a condition with a deadline.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.fake_model import FakeModelServer, Scenario, Turn
from tests.e2e.workspace import Workspace

PATH = "src/app.py"


def agents_by_session(space: Workspace) -> dict[str, str]:
    """Which agent each session became, from the store's agent_started events."""
    return {e["data"]["session"]: e["agent"] for e in space.events("agent_started")}


@pytest.mark.parametrize("name", ["claude", "codex", "gemini"])
def test_second_session_is_refused_naming_the_first_until_the_first_ends(
    name: str, workspace_for: Callable[[str], Workspace], model: FakeModelServer
) -> None:
    space = workspace_for(name)
    client = space.client
    first_tag = model.model.add(
        Scenario(
            "first",
            [
                *client.edit(space.repo, PATH, "first = 0", "first = 1"),
                Turn(text="first done", gate="first-ends"),
            ],
        )
    )
    second_tag = model.model.add(
        Scenario(
            "second",
            [
                *client.edit(space.repo, PATH, "second = 0", "second = 2"),
                *client.edit(space.repo, PATH, "second = 0", "second = 2", gate="second-retries"),
                Turn(text="second done"),
            ],
        )
    )

    # The first session edits the file, then its model "thinks" until the gate opens.
    first = space.start("first", f"{first_tag} Set first to 1 in {PATH}.")
    first.wait_at_gate(model, "first-ends")
    assert space.read(PATH) == "first = 1\nsecond = 0\n", first.output()
    [held] = space.claims()
    holder = held["agent"]
    assert held["path"] == PATH
    assert holder.startswith(f"{name}-")

    # The second session's edit is refused, naming the first, and the file is untouched.
    second = space.start("second", f"{second_tag} Set second to 2 in {PATH}.")
    second.wait_at_gate(model, "second-retries")
    refusal = model.model.tool_results("second")[-1]
    assert "swarm:" in refusal, second.output()
    assert f"held exclusive by {holder}" in refusal
    assert space.read(PATH) == "first = 1\nsecond = 0\n"
    assert [c["agent"] for c in space.claims()] == [holder]

    # The first session ends: its SessionEnd hook gives the file back.
    model.model.open_gate("first-ends")
    assert first.wait() == 0, first.output()
    assert space.claims() == []

    # The second session tries again, and now it may.
    model.model.open_gate("second-retries")
    assert second.wait() == 0, second.output()
    assert space.read(PATH) == "first = 1\nsecond = 2\n"
    assert "swarm:" not in model.model.tool_results("second")[-1]

    agents = agents_by_session(space)
    assert len(agents) == 2
    assert holder in agents.values()
    [other] = set(agents.values()) - {holder}
    granted = {(e["agent"], e["message"]) for e in space.events("claim_granted")}
    assert granted == {(holder, PATH), (other, PATH)}
    assert space.edits() == {(holder, PATH), (other, PATH)}
    assert model.model.unexpected() == []


def test_codex_sessions_started_seconds_apart_are_two_agents(
    workspace_for: Callable[[str], Workspace], model: FakeModelServer
) -> None:
    # Codex session ids are UUIDv7: the first 8 characters are the time in units of about
    # 65 s. Sessions are started one after the other until two share them (two at most,
    # three if the first two straddle such a boundary), as two real sessions did in issue 13.
    space = workspace_for("codex")
    seen: dict[str, str] = {}
    pair: list[str] = []
    for n in range(3):
        tag = model.model.add(Scenario(f"codex-{n}", [Turn(text="nothing to do")]))
        session = space.start(f"codex-{n}", f"{tag} Say hello.")
        assert session.wait() == 0, session.output()
        agents = agents_by_session(space)
        [session_id] = set(agents) - set(seen)
        seen[session_id] = agents[session_id]
        pair = [s for s in seen if s[:8] == session_id[:8]]
        if len(pair) == 2:
            break
    assert len(pair) == 2, f"no two sessions shared their first 8 characters: {list(seen)}"
    assert seen[pair[0]] != seen[pair[1]], f"sessions {pair} both became agent {seen[pair[0]]}"
