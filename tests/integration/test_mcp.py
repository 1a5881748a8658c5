"""`swarm mcp` through the SDK's own client over stdio, spawned the way an agent's MCP client
spawns it: every tool, every refusal (with the hooks' own one-line reason), two agents
contending for one file, and resource change notifications on both protocol eras.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import CallToolResult, TextContent, TextResourceContents

from coordinator.mcp.server import NO_IDENTITY
from tests.integration.conftest import SWARM, Project, wait_until

PLAN = """\
phase: p
session: s
tasks:
  build:
    title: Build it
    agent: alice
    deliverables: [compile, package]
  deploy:
    agent: alice
    requires: [build]
  lint:
    agent: alice
    gates: ["p/lint/errors == 0"]
  docs:
    agent: bob
"""

TOOLS = {
    "memory_get",
    "memory_put",
    "memory_list",
    "memory_history",
    "task_next",
    "task_start",
    "task_progress",
    "task_finish",
    "claim_files",
    "release_files",
    "who_holds",
    "send_message",
    "read_inbox",
    "swarm_status",
}


@pytest.fixture
def planned(project: Project) -> Project:
    """A project with PLAN loaded."""
    project.ok("plan", "load", str(project.write_plan(PLAN)))
    return project


@asynccontextmanager
async def mcp(
    project: Project, agent: str | None, *args: str, mode: str = "auto", **options: Any
) -> AsyncIterator[Client]:
    """A client talking to `swarm mcp ARGS` started for `agent` (via SWARM_AGENT_ID)."""
    env = dict(project.env)
    if agent is not None:
        env["SWARM_AGENT_ID"] = agent
    params = StdioServerParameters(
        command=SWARM, args=["mcp", *args], env=env, cwd=str(project.root)
    )
    async with Client(params, mode=mode, **options) as client:
        yield client


def text(result: CallToolResult) -> str:
    """The text of a tool result (one content block)."""
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def ok(client: Client, tool: str, **arguments: Any) -> Any:
    """Call a tool that must succeed; return its structured result."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, text(result)
    data = result.structured_content
    assert data is not None
    return data.get("result", data) if set(data) == {"result"} else data


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    """Call a tool that must fail; return the reason it gives (after the SDK's prefix)."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} succeeded: {text(result)}"
    prefix = f"Error executing tool {tool}: "
    assert text(result).startswith(prefix), text(result)
    return text(result)[len(prefix) :]


async def read_text(client: Client, uri: str) -> str:
    """The text of a resource."""
    contents = (await client.read_resource(uri)).contents
    assert len(contents) == 1
    assert isinstance(contents[0], TextResourceContents)
    return contents[0].text


def hook_reason(project: Project, *args: str) -> str:
    """The one-line reason a refused hook prints (`swarm: error: REASON`)."""
    result = project.swarm("hooks", *args)
    assert result.code != 0, result.stdout
    first = result.stderr.splitlines()[0]
    assert first.startswith("swarm: error: ")
    return first[len("swarm: error: ") :]


# --- what a model sees ------------------------------------------------------------------------


async def test_the_tools_a_model_sees_are_named_and_described(project: Project) -> None:
    async with mcp(project, "alice") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert tool.description and len(tool.description) > 60, tool.name
            for name, schema in tool.input_schema.get("properties", {}).items():
                assert schema.get("description"), f"{tool.name}.{name} has no description"
        claim = tools["claim_files"].input_schema
        assert claim["required"] == ["paths"]
        assert {"paths", "mode", "wait_seconds", "task"} <= set(claim["properties"])
        assert "if_version" in tools["memory_put"].input_schema["properties"]
        assert {"status", "summary", "metrics"} <= set(
            tools["task_finish"].input_schema["properties"]
        )
        assert client.instructions and "claim_files" in client.instructions


# --- memory -----------------------------------------------------------------------------------


async def test_memory_tools(project: Project) -> None:
    async with mcp(project, "alice") as client:
        first = await ok(client, "memory_put", key="p/api/decision", value={"style": "rest"})
        assert first["version"] == 1
        assert project.value("p/api/decision") == {"style": "rest"}

        got = await ok(client, "memory_get", key="p/api/decision")
        assert got["value"] == {"style": "rest"}
        assert got["version"] == 1

        second = await ok(client, "memory_put", key="p/api/decision", value="grpc", if_version=1)
        assert second["version"] == 2
        await ok(client, "memory_put", key="p/api/owner", value="alice", if_version=0)

        listed = await ok(client, "memory_list", prefix="p/api/")
        assert [(r["key"], r["value"]) for r in listed] == [
            ("p/api/decision", "grpc"),
            ("p/api/owner", "alice"),
        ]
        history = await ok(client, "memory_history", key="p/api/decision")
        assert [(c["op"], c["value"]) for c in history] == [
            ("put", {"style": "rest"}),
            ("put", "grpc"),
        ]
        assert {c["actor"] for c in history} == {"alice"}


async def test_memory_refusals(project: Project) -> None:
    async with mcp(project, "alice") as client:
        await ok(client, "memory_put", key="p/x", value=1)

        assert await refused(client, "memory_get", key="p/absent") == "no such key: p/absent"
        stale = await refused(client, "memory_put", key="p/x", value=2, if_version=7)
        assert stale == "version mismatch on p/x: expected version 7, found version 1"
        taken = await refused(client, "memory_put", key="p/x", value=2, if_version=0)
        assert taken.startswith("version mismatch on p/x")
        reserved = await refused(client, "memory_put", key="swarm/claims/x", value=1)
        assert "reserved for the coordinator" in reserved
        bad = await refused(client, "memory_get", key="p//x")
        assert "invalid key" in bad.lower()
        # Over the largest integer the store holds: refused by the schema, not by SQLite.
        huge = await client.call_tool("memory_history", {"key": "p/x", "from_rev": 2**63})
        assert huge.is_error
        assert "less than or equal to 9223372036854775807" in text(huge)
    assert project.value("p/x") == 1  # no refusal changed the store


# --- tasks ------------------------------------------------------------------------------------


async def test_task_tools_walk_a_task_through_and_unblock_its_dependent(planned: Project) -> None:
    async with mcp(planned, "alice") as client:
        ready = await ok(client, "task_next")
        # Plan order; deploy waits for build; docs belongs to bob.
        assert [t["task"] for t in ready] == ["p/build", "p/lint"]
        assert ready[0]["title"] == "Build it"
        assert [t["task"] for t in await ok(client, "task_next", include_others=True)] == [
            "p/build",
            "p/lint",
            "p/docs",
        ]

        started = await ok(client, "task_start", task_id="build")
        assert started["task_id"] == "p/build"
        assert started["already"] is False
        assert (await ok(client, "task_start", task_id="build"))["already"] is True
        assert planned.value("p/build/status") == "in_progress"

        progress = await ok(client, "task_progress", task_id="build", done=3, total=4)
        assert progress["percent"] == 75
        ticked = await ok(
            client,
            "task_progress",
            task_id="build",
            deliverables_done=["compile"],
            metrics={"warnings": 3},
        )
        assert ticked["ticked"] == ["compile"]
        assert planned.value("p/build/warnings") == 3  # a metric is a key gates can read
        unknown = await refused(
            client, "task_progress", task_id="build", deliverables_done=["deploy"]
        )
        assert "deploy" in unknown
        await ok(client, "claim_files", paths=["src/app.py"])

        finished = await ok(
            client,
            "task_finish",
            task_id="build",
            summary="built",
            metrics={"tests_passing": 640},
        )
        assert finished["status"] == "complete"
        assert finished["receipt"]["metrics"] == {"tests_passing": 640}
        assert finished["receipt"]["agent"] == "alice"
        assert planned.value("p/build/status") == "complete"
        # Its claims went with it, and the dependent task is now the first to start.
        assert await ok(client, "who_holds", path="src/app.py") == {
            "path": "src/app.py",
            "claims": [],
            "queue": [],
        }
        assert [t["task"] for t in await ok(client, "task_next")] == ["p/deploy", "p/lint"]


async def test_with_the_daemon_claim_then_finish_makes_the_dependent_ready(
    planned: Project, start_daemon: Callable[..., Any]
) -> None:
    start_daemon("--interval", "3600")
    wait_until(lambda: planned.value("p/build/status") == "ready", what="build ready")
    async with mcp(planned, "alice") as client:
        await ok(client, "task_start", task_id="build")
        await ok(client, "claim_files", paths=["src/app.py"])
        await ok(client, "task_finish", task_id="build", summary="built")
        wait_until(lambda: planned.value("p/deploy/status") == "ready", what="deploy ready")
        messages = [n["message"] for n in await ok(client, "read_inbox")]
        assert "task p/deploy is now ready" in messages
        assert [t["task"] for t in await ok(client, "task_next")] == ["p/deploy", "p/lint"]


async def test_task_refusals_carry_the_hooks_reason(planned: Project) -> None:
    async with mcp(planned, "alice") as alice, mcp(planned, "bob") as bob:
        not_ready = await refused(alice, "task_start", task_id="deploy")
        assert not_ready.splitlines()[0] == hook_reason(
            planned, "pre-task", "--task-id", "deploy", "--agent", "carol"
        )
        assert not_ready.splitlines()[0] == "task p/deploy is not ready; it waits on:"
        assert "requires build: status is pending" in not_ready  # the detail line

        await ok(alice, "task_start", task_id="build")
        taken = await refused(bob, "task_start", task_id="build")
        assert taken == "task p/build is in progress by alice"
        assert taken == hook_reason(planned, "pre-task", "--task-id", "build", "--agent", "bob")

        not_yours = await refused(bob, "task_finish", task_id="build")
        assert not_yours == hook_reason(
            planned, "post-task", "--task-id", "build", "--agent", "bob"
        )
        assert not_yours.startswith("task p/build is in_progress (held by alice), not by bob")
        assert planned.value("p/build/status") == "in_progress"

        bad_progress = await refused(alice, "task_progress", task_id="build", done=5, total=4)
        assert bad_progress == "progress needs 0 <= done <= total, got 5/4"

        await ok(alice, "task_start", task_id="lint")
        gates = await refused(alice, "task_finish", task_id="lint")
        assert gates.splitlines()[0] == "task p/lint is blocked: its gates failed"
        assert "gate failed: p/lint/errors == 0" in gates
        assert planned.value("p/lint/status") == "blocked"
        # Fixed and reported again, the completion is recorded.
        await ok(alice, "memory_put", key="p/lint/errors", value=0)
        assert (await ok(alice, "task_finish", task_id="lint"))["status"] == "complete"

        bad_status = await alice.call_tool("task_finish", {"task_id": "docs", "status": "done"})
        assert bad_status.is_error  # the schema allows complete or failed only


# --- claims -----------------------------------------------------------------------------------


async def test_two_agents_contend_for_one_file(project: Project) -> None:
    async with mcp(project, "alice") as alice, mcp(project, "bob") as bob:
        granted = await ok(alice, "claim_files", paths=["src/app.py", "src/lib/**"])
        assert [(c["path"], c["agent"], c["renewed"]) for c in granted] == [
            ("src/app.py", "alice", False),
            ("src/lib/**", "alice", False),
        ]
        again = await ok(alice, "claim_files", paths=["src/app.py"])
        assert again[0]["renewed"] is True

        held = await refused(bob, "claim_files", paths=["./src/app.py"])
        assert held.startswith("src/app.py is held exclusive by alice since ")
        assert held == hook_reason(project, "pre-edit", "--file", "src/app.py", "--agent", "bob")
        # All or nothing: bob's free file was not kept either.
        assert (await refused(bob, "claim_files", paths=["README.md", "src/lib/x.py"])).startswith(
            "src/lib/** is held exclusive by alice"
        )
        holders = await ok(bob, "who_holds", path="README.md")
        assert holders["claims"] == []

        holders = await ok(bob, "who_holds", path="src/lib/util.py")
        assert [c["agent"] for c in holders["claims"]] == ["alice"]

        released = await ok(alice, "release_files", paths=["src/app.py"])
        assert [c["path"] for c in released] == ["src/app.py"]
        mine = await ok(bob, "claim_files", paths=["src/app.py"])
        assert [(c["path"], c["agent"]) for c in mine] == [("src/app.py", "bob")]
        assert (await refused(alice, "claim_files", paths=["src/app.py"])).startswith(
            "src/app.py is held exclusive by bob"
        )
        assert await refused(alice, "release_files", paths=["src/app.py"]) == (
            "no claim on src/app.py"
        )
        outside = await refused(alice, "claim_files", paths=["../elsewhere.txt"])
        assert "is outside the repository" in outside


async def test_a_waiting_claim_is_granted_when_the_holder_releases(project: Project) -> None:
    async with mcp(project, "alice") as alice, mcp(project, "bob") as bob:
        await ok(alice, "claim_files", paths=["src/app.py"])
        results: list[Any] = []

        async def wait_for_it() -> None:
            results.append(await ok(bob, "claim_files", paths=["src/app.py"], wait_seconds=30))

        async with anyio.create_task_group() as group:
            group.start_soon(wait_for_it)
            with anyio.fail_after(20):
                while not (await ok(alice, "who_holds", path="src/app.py"))["queue"]:
                    await anyio.sleep(0.02)  # polling a condition against a deadline
            await ok(alice, "release_files")
        assert [(c["path"], c["agent"], c["renewed"]) for c in results[0]] == [
            ("src/app.py", "bob", False)
        ]


async def test_a_wait_that_runs_out_is_refused_naming_the_holder(project: Project) -> None:
    async with mcp(project, "alice") as alice, mcp(project, "bob") as bob:
        await ok(alice, "claim_files", paths=["src/app.py"])
        held = await refused(bob, "claim_files", paths=["src/app.py"], wait_seconds=0.2)
        assert held.startswith("src/app.py is held exclusive by alice")
        assert (await ok(bob, "who_holds", path="src/app.py"))["queue"] == []


async def test_refused_claims_are_counted_and_logged_once_per_window(project: Project) -> None:
    from coordinator.claims.denials import denial_key

    async with mcp(project, "alice") as alice, mcp(project, "bob") as bob:
        await ok(alice, "claim_files", paths=["src/app.py"])
        for _ in range(3):
            await refused(bob, "claim_files", paths=["README.md", "src/app.py"])
    assert project.value(denial_key("src/app.py", "bob"))["refusals"] == 3
    assert project.value(denial_key("README.md", "bob")) is None  # granted, then given back
    events = project.ok("events", "--type", "edit_refused", "--json").stdout.splitlines()
    assert [json.loads(e)["agent"] for e in events] == ["bob"]


# --- messages and status ----------------------------------------------------------------------


async def test_messages_and_status(planned: Project) -> None:
    async with mcp(planned, "alice") as alice, mcp(planned, "bob") as bob:
        sent = await ok(alice, "send_message", message="may I have src/app.py?", to="bob")
        assert sent == {"recipients": ["bob"]}
        inbox = await ok(bob, "read_inbox")
        assert [(n["message"], n["sender"]) for n in inbox] == [("may I have src/app.py?", "alice")]
        assert await ok(bob, "read_inbox") == []
        assert len(await ok(bob, "read_inbox", include_read=True)) == 1

        await ok(alice, "task_start", task_id="build")
        await ok(bob, "send_message", message="build is slow", task="build", level="warn")
        assert [n["level"] for n in await ok(alice, "read_inbox")] == ["warn"]
        both = await refused(bob, "send_message", message="x", to="alice", task="build")
        assert both == "give `to` or `task`, not both"

        status = await ok(alice, "swarm_status")
        rows = {t["task"]: t for t in status["tasks"]}
        assert rows["p/build"]["status"] == "in_progress"
        assert rows["p/build"]["agent"] == "alice"
        assert await refused(alice, "swarm_status", session_id="nope") == (
            "no plan is loaded for session 'nope'; run `swarm plan load`"
        )


# --- identity ---------------------------------------------------------------------------------


async def test_identity_comes_from_the_environment_else_the_start_up_name(
    project: Project,
) -> None:
    async with mcp(project, None) as nameless:
        assert (await ok(nameless, "memory_put", key="p/x", value=1))["version"] == 1
        reason = await refused(nameless, "claim_files", paths=["a.txt"])
        assert reason == NO_IDENTITY
    async with mcp(project, None, "--agent", "carol") as carol:
        assert (await ok(carol, "claim_files", paths=["a.txt"]))[0]["agent"] == "carol"
    async with mcp(project, "dave", "--agent", "carol") as dave:
        assert (await ok(dave, "claim_files", paths=["b.txt"]))[0]["agent"] == "dave"


def test_without_a_store_the_server_exits_with_one_line(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    proc = subprocess.run(
        [SWARM, "--db", str(tmp_path / "none.db"), "mcp"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"swarm: error: no swarm store at {tmp_path / 'none.db'}; run `swarm init` first"
    ]


# --- resources --------------------------------------------------------------------------------


async def test_resources_dashboard_plans_and_events(planned: Project) -> None:
    async with mcp(planned, "alice") as client:
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
        assert {"swarm://dashboard", "swarm://events", "swarm://plans"} <= listed
        templates = (await client.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["swarm://plans/{phase}"]

        assert "p/build" in await read_text(client, "swarm://dashboard")
        plans = json.loads(await read_text(client, "swarm://plans"))
        assert [(p["phase"], p["uri"]) for p in plans] == [("p", "swarm://plans/p")]
        plan = json.loads(await read_text(client, "swarm://plans/p"))
        assert [t["task"] for t in plan["tasks"]] == ["p/build", "p/deploy", "p/docs", "p/lint"]
        events = json.loads(await read_text(client, "swarm://events"))
        assert events[-1]["type"] == "plan_loaded"
        with pytest.raises(Exception, match="no plan is loaded for phase 'q'"):
            await client.read_resource("swarm://plans/q")


async def test_a_listening_client_is_told_when_a_resource_changes(planned: Project) -> None:
    async with mcp(planned, "alice") as client:
        async with client.listen(resource_subscriptions=["swarm://plans/p"]) as subscription:
            # Another agent's hook changes the plan's state.
            planned.ok("hooks", "pre-task", "--task-id", "build", "--agent", "bob")
            with anyio.fail_after(20):
                async for event in subscription:
                    assert getattr(event, "uri", None) == "swarm://plans/p"
                    break
        plan = json.loads(await read_text(client, "swarm://plans/p"))
        assert {t["task"]: t["status"] for t in plan["tasks"]}["p/build"] == "in_progress"


async def test_a_2025_client_subscribed_to_a_resource_is_told_when_it_changes(
    planned: Project,
) -> None:
    updates: list[str] = []

    async def on_message(message: Any) -> None:
        uri = getattr(getattr(message, "params", None), "uri", None)
        if uri is not None:
            updates.append(str(uri))

    async with mcp(planned, "alice", mode="legacy", message_handler=on_message) as client:
        assert client.protocol_version < "2026"
        assert client.server_capabilities.resources is not None
        assert client.server_capabilities.resources.subscribe
        with pytest.warns(Warning):  # the SDK marks the 2025 verb deprecated
            await client.subscribe_resource("swarm://events")
        planned.ok("hooks", "notify", "--message", "hello", "--to", "bob")
        with anyio.fail_after(20):
            while "swarm://events" not in updates:
                await anyio.sleep(0.02)  # polling a condition against a deadline
        assert "swarm://dashboard" not in updates  # only what was subscribed


# --- registration by swarm init ---------------------------------------------------------------


async def test_init_registers_the_server_for_each_agent_merge_safe_and_idempotent(
    project: Project,
) -> None:
    other = {"command": "db-mcp", "args": ["--ro"]}
    (project.root / ".mcp.json").write_text(json.dumps({"mcpServers": {"db": other}}))
    (project.root / ".gemini").mkdir()
    gemini_original = json.dumps({"theme": "GitHub"}) + "\n"
    (project.root / ".gemini" / "settings.json").write_text(gemini_original)
    (project.root / ".codex").mkdir()
    codex_original = '# mine\nmodel = "o3"\n'
    (project.root / ".codex" / "config.toml").write_text(codex_original)

    first = project.ok("init", "--claude", "--codex", "--gemini", "--cursor")
    assert "claude: added the swarm MCP server to .mcp.json" in first.stdout
    assert "cursor: created .cursor/mcp.json with the swarm MCP server" in first.stdout
    ours = {"command": "swarm", "args": ["mcp"]}
    claude = json.loads((project.root / ".mcp.json").read_text())
    assert claude == {"mcpServers": {"db": other, "swarm": ours}}
    cursor = json.loads((project.root / ".cursor" / "mcp.json").read_text())
    assert cursor == {"mcpServers": {"swarm": ours}}
    gemini = json.loads((project.root / ".gemini" / "settings.json").read_text())
    assert gemini["theme"] == "GitHub"
    assert gemini["mcpServers"] == {"swarm": ours}
    assert "hooks" in gemini  # the hooks and the server share Gemini's file
    # One backup per file, holding what was there before this run.
    assert (project.root / ".gemini" / "settings.json.bak").read_text() == gemini_original
    codex = (project.root / ".codex" / "config.toml").read_text()
    assert codex.startswith(codex_original)
    assert tomllib.loads(codex)["mcp_servers"] == {"swarm": ours}

    files = [".mcp.json", ".cursor/mcp.json", ".gemini/settings.json", ".codex/config.toml"]
    before = {name: (project.root / name).read_text() for name in files}
    second = project.ok("init", "--claude", "--codex", "--gemini", "--cursor")
    assert second.stdout.count("already has the swarm MCP server") == 4
    assert {name: (project.root / name).read_text() for name in files} == before

    # The registered command is a working server.
    entry = claude["mcpServers"]["swarm"]
    params = StdioServerParameters(
        command=entry["command"],
        args=entry["args"],
        env={**project.env, "SWARM_AGENT_ID": "alice"},
        cwd=str(project.root),
    )
    async with Client(params) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS


def test_every_tool_is_documented() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "mcp.md").read_text(encoding="utf-8")
    for tool in TOOLS:
        assert f"`{tool}(" in page, f"docs/mcp.md does not list {tool}"


async def test_a_tool_call_renews_the_agents_lease_like_a_hook_call(project: Project) -> None:
    from coordinator import layout

    project.ok("hooks", "session-start", "--session-id", "s1", "--agent", "alice", "--ttl", "60")
    with project.store() as store:
        before = store.require(layout.agent_key("alice")).expires_at
    assert before is not None
    async with mcp(project, "alice") as client:
        await ok(client, "memory_put", key="p/notes", value="working")
    with project.store() as store:
        after = store.require(layout.agent_key("alice")).expires_at
    assert after is not None and after > before
    # Renewed by its own length, not stretched to the default.
    assert after - before < 60
