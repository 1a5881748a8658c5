"""A real Claude Code session whose scripted model writes a held file through its shell
(`Bash` with `echo x >> src/app.py`) is denied, naming the holder; once the holder's
session ends the same command runs. The hooks are the ones `swarm init --claude`
installed (their matcher includes Bash)."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e.fake_model import FakeModelServer, Scenario, ToolCall, Turn
from tests.e2e.workspace import Workspace

PATH = "src/app.py"
COMMAND = f"echo 'second = 2' >> {PATH}"


def test_a_shell_write_to_a_held_file_is_denied_until_the_holder_ends(
    workspace_for: Callable[[str], Workspace], model: FakeModelServer
) -> None:
    space = workspace_for("claude")
    client = space.client
    first_tag = model.model.add(
        Scenario(
            "holder",
            [
                *client.edit(space.repo, PATH, "first = 0", "first = 1"),
                Turn(text="holder done", gate="holder-ends"),
            ],
        )
    )
    bash = ToolCall("Bash", {"command": COMMAND, "description": "append a line"})
    second_tag = model.model.add(
        Scenario(
            "shell",
            [
                Turn([bash]),
                Turn([bash], gate="shell-retries"),
                Turn(text="shell done"),
            ],
        )
    )

    holder = space.start("holder", f"{first_tag} Set first to 1 in {PATH}.")
    holder.wait_at_gate(model, "holder-ends")
    [held] = space.claims()
    assert held["path"] == PATH

    # Bash is allowed without asking, so only the hook can stop it.
    shell = space.start("shell", f"{second_tag} Append a line to {PATH}.", "--allowedTools", "Bash")
    shell.wait_at_gate(model, "shell-retries")
    refusal = model.model.tool_results("shell")[-1]
    assert "swarm:" in refusal, shell.output()
    assert f"held exclusive by {held['agent']}" in refusal
    assert space.read(PATH) == "first = 1\nsecond = 0\n"

    model.model.open_gate("holder-ends")
    assert holder.wait() == 0, holder.output()
    model.model.open_gate("shell-retries")
    assert shell.wait() == 0, shell.output()
    assert space.read(PATH) == "first = 1\nsecond = 0\nsecond = 2\n"
    assert "swarm:" not in model.model.tool_results("shell")[-1]
    assert model.model.unexpected() == []
