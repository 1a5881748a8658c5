"""Shell tool calls judged like edits, through the real `swarm hooks <agent>` processes:
Claude Code's and Codex's `Bash`, Gemini CLI's `run_shell_command` and Cursor's
`beforeShellExecution` / `afterShellExecution`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Project
from tests.integration.test_adapters import (
    PROTOCOLS,
    Protocol,
    claims,
    edits,
    hook,
    repo,
    rival_holds,
    silent,
)

__all__ = ["repo"]  # the fixture, shared with test_adapters
by_agent = pytest.mark.parametrize("proto", PROTOCOLS, ids=lambda p: p.agent)
RIVAL = ("src/app.py", "rival", "adhoc/fix_parser")


def shell_payload(proto: Protocol, project: Project, command: str, *, after: bool = False) -> Any:
    """The agent's payload for running `command` in its shell, before (or after) it runs."""
    payload = proto.fixture(proto.post if after else proto.pre, project.root)
    if proto.agent == "cursor":
        for key in ("tool_name", "tool_input", "tool_use_id", "file_path", "edits"):
            payload.pop(key, None)
        event = "afterShellExecution" if after else "beforeShellExecution"
        payload.update(hook_event_name=event, command=command, cwd=str(project.root))
        return payload
    payload["tool_name"] = "run_shell_command" if proto.agent == "gemini" else "Bash"
    payload["tool_input"] = {"command": command}
    payload["cwd"] = str(project.root)
    return payload


@by_agent
@pytest.mark.parametrize(
    "command",
    [
        "echo x >> src/app.py",
        "sed -i 's/10/20/' src/app.py",
        "cd src && tee app.py < /dev/null",
        "git checkout -- src/app.py",
        "rm -f src/*.py",
        "bash -c 'mv src/app.py /tmp/gone.py'",
    ],
)
def test_a_shell_write_to_a_held_file_is_denied_naming_the_holder(
    proto: Protocol, repo: Project, command: str
) -> None:
    rival_holds(repo)
    before = (repo.root / "src" / "app.py").read_text()
    result = hook(repo, proto.agent, shell_payload(proto, repo, command))
    assert result.code == 0, result.stderr
    reason = proto.denial(result)
    assert reason is not None, (command, result.stdout)
    assert "src/app.py" in reason and "rival" in reason
    assert claims(repo) == [RIVAL]  # nothing claimed for the refused agent
    assert (repo.root / "src" / "app.py").read_text() == before


@by_agent
def test_a_shell_write_to_a_free_file_is_claimed_and_recorded(
    proto: Protocol, repo: Project
) -> None:
    command = "echo 'limit = 1' > src/new.py"
    payload = shell_payload(proto, repo, command)
    silent(hook(repo, proto.agent, payload))
    agent = proto.agent_id(payload)
    assert claims(repo) == [("src/new.py", agent, None)]
    (repo.root / "src" / "new.py").write_text("limit = 1\n")  # the command ran
    after = hook(repo, proto.agent, shell_payload(proto, repo, command, after=True))
    assert after.code == 0, after.stderr
    assert [(e["path"], e["agent"]) for e in edits(repo)] == [("src/new.py", agent)]


@by_agent
@pytest.mark.parametrize("command", ["ls -la src", "grep -n limit src/app.py", "pytest -q"])
def test_a_command_that_writes_nothing_is_silent(
    proto: Protocol, repo: Project, command: str
) -> None:
    rival_holds(repo)
    silent(hook(repo, proto.agent, shell_payload(proto, repo, command)))
    assert claims(repo) == [RIVAL]


@by_agent
def test_a_write_it_cannot_locate_is_allowed(proto: Protocol, repo: Project) -> None:
    rival_holds(repo)
    command = "python3 -c \"open('src/app.py', 'a').write('x')\""
    silent(hook(repo, proto.agent, shell_payload(proto, repo, command)))
    assert claims(repo) == [RIVAL]


@pytest.mark.parametrize("proto", [PROTOCOLS[0]], ids=["claude"])
def test_an_unreadable_command_naming_a_held_file_is_refused_only_when_failing_closed(
    proto: Protocol, repo: Project
) -> None:
    rival_holds(repo)
    command = "echo 'unterminated >> src/app.py"
    silent(hook(repo, proto.agent, shell_payload(proto, repo, command)))
    result = hook(
        repo, proto.agent, shell_payload(proto, repo, command), env={"SWARM_FAIL_CLOSED": "1"}
    )
    reason = proto.denial(result)
    assert reason is not None and "rival" in reason and "SWARM_FAIL_CLOSED" in reason
    assert claims(repo) == [RIVAL]
