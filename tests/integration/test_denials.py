"""Refused edits leave a trace (issue 21, point 8): each refusal is counted on one record per
agent and path, logged as an `edit_refused` event once per window, and shown by `swarm
status --json` and the completion report. The hooks and adapters run as subprocesses."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from coordinator import layout
from coordinator.claims.denials import denial_key
from memory.errors import StoreError
from memory.records import WriteOp
from tests.integration.conftest import Project, Result, heavy_modules, import_probe
from tests.integration.test_adapters import CLAUDE, hook
from tests.unit.test_dashboard import parse_table, section

#: Every test of this suite that uses a project runs on SQLite and on PostgreSQL.
RUN_ON_EVERY_BACKEND = True

PLAN = """\
phase: p
session: s
tasks:
  build:
    agent: alice
  docs:
    agent: bob
"""


@pytest.fixture
def held(project: Project) -> Project:
    """alice runs p/build and holds src/app.py; bob runs p/docs."""
    (project.root / "src").mkdir()
    (project.root / "src" / "app.py").write_text("limit = 10\n")
    project.ok("plan", "load", str(project.write_plan(PLAN)))
    project.ok("hooks", "pre-task", "--task-id", "build", "--agent", "alice")
    project.ok("hooks", "pre-task", "--task-id", "docs", "--agent", "bob")
    project.ok("hooks", "pre-edit", "--file", "src/app.py", "--agent", "alice")
    return project


def bob_edits(project: Project, env: dict[str, str] | None = None) -> Result:
    """bob's pre-edit of src/app.py, refused."""
    result = project.swarm("hooks", "pre-edit", "--file", "src/app.py", "--agent", "bob", env=env)
    assert result.code == 3, result
    return result


def refused_events(project: Project) -> list[dict[str, Any]]:
    """The `edit_refused` events, oldest first."""
    out = project.ok("events", "--type", "edit_refused", "--limit", "1000", "--json").stdout
    return [json.loads(line) for line in out.splitlines()]


def denial_records(project: Project) -> list[Any]:
    """Every record under swarm/denials/."""
    with project.store() as store:
        return [r.value for r in store.list_prefix(layout.DENIALS)]


def test_repeated_refusals_are_one_event_and_an_exact_count(held: Project) -> None:
    answers = [bob_edits(held) for _ in range(4)]
    # Every refusal is answered as before: exit 3, naming the holder and its task.
    assert {a.stderr for a in answers} == {answers[0].stderr}
    assert "src/app.py is held exclusive by alice for task p/build since" in answers[0].stderr

    (event,) = refused_events(held)  # one event within the window
    assert (event["agent"], event["task"], event["message"]) == (
        "bob",
        "p/docs",
        "src/app.py held by alice",
    )
    assert event["data"]["count"] == 1
    assert held.value(denial_key("src/app.py", "bob"))["refusals"] == 4

    view = held.ok("status", "--json").json()
    assert view["denials"] == {
        "total": 4,
        "by_path": [{"path": "src/app.py", "count": 4, "agents": {"bob": 4}, "holders": ["alice"]}],
    }
    board = held.ok("status").stdout
    assert "4 edits refused (claims held by other agents), by path: `src/app.py` 4" in board

    report = held.ok("report", "--session-id", "s", "--format", "json").json()
    assert report["denials"] == view["denials"]
    markdown = held.ok("report", "--session-id", "s").stdout
    assert "- Edits refused: 4\n" in markdown
    assert parse_table(section(markdown, "Edits refused")) == [
        {"path": "src/app.py", "refused": "4", "agents": "bob (4)", "held by": "alice"}
    ]


def test_a_zero_window_logs_every_refusal(held: Project) -> None:
    for _ in range(3):
        bob_edits(held, env={"SWARM_DENIAL_WINDOW": "0"})
    events = refused_events(held)
    assert [(e["data"]["count"], e["data"]["unlogged"]) for e in events] == [(1, 0), (2, 0), (3, 0)]


def test_concurrent_refusals_are_all_counted(held: Project) -> None:
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: bob_edits(held), range(6)))
    assert held.value(denial_key("src/app.py", "bob"))["refusals"] == 6
    assert len(refused_events(held)) == 1


def test_a_wait_that_runs_out_is_one_refusal(held: Project) -> None:
    result = held.swarm(
        "hooks", "pre-edit", "--file", "src/app.py", "--agent", "bob", "--wait", "0.2"
    )
    assert result.code == 3
    assert held.value(denial_key("src/app.py", "bob"))["refusals"] == 1


def test_grants_and_renewals_leave_no_denial_and_load_no_denial_code(
    held: Project, backend: str
) -> None:
    held.ok("hooks", "pre-edit", "--file", "src/app.py", "--agent", "alice")  # renewal
    held.ok("hooks", "pre-edit", "--file", "src/other.py", "--agent", "bob")  # grant
    assert denial_records(held) == []
    assert held.ok("status", "--json").json()["denials"] == {"total": 0, "by_path": []}
    probe = (
        "import json, sys\n"
        "from coordinator.cli.entry import main\n"
        "code = main(['hooks', 'pre-edit', '--file', 'src/app.py', '--agent', 'alice'])\n"
        "loaded = 'coordinator.claims.denials' in sys.modules\n"
        "heavy = sorted(set(json.loads(sys.argv[1])) & set(sys.modules))\n"
        "sys.stderr.write(f'{code} {loaded} {heavy}\\n')\n"
    )
    assert import_probe(held, backend, probe, json.dumps(heavy_modules(backend))) == "0 False []"


def test_a_refusal_that_cannot_be_recorded_is_answered_as_always(
    held: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coordinator.claims.queue import acquire_claim
    from coordinator.errors import ClaimHeld

    expected = bob_edits(held).stderr
    bad_window = bob_edits(held, env={"SWARM_DENIAL_WINDOW": "soon"})
    assert bad_window.stderr == expected
    assert held.value(denial_key("src/app.py", "bob"))["refusals"] == 1

    with held.store() as store:
        txn = store.txn

        def failing(compares: Any, ops: list[WriteOp]) -> Any:
            if any(op.key.startswith(layout.DENIALS) for op in ops):
                raise StoreError("the disk is full")
            return txn(compares, ops)

        monkeypatch.setattr(store, "txn", failing)
        with pytest.raises(ClaimHeld) as refused:
            acquire_claim(store, "src/app.py", "bob", task="p/docs")
        assert refused.value.render() == expected
    assert held.value(denial_key("src/app.py", "bob"))["refusals"] == 1


def test_an_adapter_refusal_and_a_refused_shell_command_are_counted(held: Project) -> None:
    payload = CLAUDE.fixture("PreToolUse", held.root)
    agent = CLAUDE.agent_id(payload)
    reason = CLAUDE.denial(hook(held, "claude", payload))
    assert reason is not None and "alice" in reason
    shell = {**payload, "tool_name": "Bash", "tool_input": {"command": "echo 1 > src/app.py"}}
    assert CLAUDE.denial(hook(held, "claude", shell)) is not None
    assert held.value(denial_key("src/app.py", agent))["refusals"] == 2
    (event,) = refused_events(held)
    assert event["agent"] == agent
