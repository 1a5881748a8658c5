"""The fake model server on its own (no agent CLI): it plays a scenario turn by turn from
the conversation a request carries, holds a gated turn until the test opens the gate, and
answers requests outside any scenario with plain text."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.fake_model import (
    FakeModel,
    FakeModelServer,
    Scenario,
    ToolCall,
    Turn,
    openai_events,
)

TOOLS = [{"name": "Edit", "input_schema": {"type": "object"}}]


@pytest.fixture
def server() -> Iterator[FakeModelServer]:
    server = FakeModelServer(FakeModel()).start()
    try:
        yield server
    finally:
        server.stop()


def post(server: FakeModelServer, path: str, body: dict[str, Any]) -> Any:
    """POST `body` to the server (straight to 127.0.0.1, whatever proxy the environment sets)."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=30)
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        connection.close()


def messages(tag: str, *results: str) -> list[dict[str, Any]]:
    """An Anthropic conversation: the prompt, then one tool call and result per `results`."""
    convo: list[dict[str, Any]] = [{"role": "user", "content": f"{tag} go"}]
    for n, result in enumerate(results):
        call = {"type": "tool_use", "id": f"t{n}", "name": "Edit", "input": {}}
        convo.append({"role": "assistant", "content": [call]})
        answer = {"type": "tool_result", "tool_use_id": f"t{n}", "content": result}
        convo.append({"role": "user", "content": [answer]})
    return convo


def test_scenario_is_played_from_the_conversation(server: FakeModelServer) -> None:
    edit = ToolCall("Edit", {"file_path": "/r/a.py"})
    tag = server.model.add(Scenario("s", [Turn([edit]), Turn([edit]), Turn(text="end")]))
    for done, expected in [(0, "tool_use"), (1, "tool_use"), (2, "end_turn"), (3, "end_turn")]:
        results = [f"result {n}" for n in range(done)]
        body = {"model": "m", "tools": TOOLS, "messages": messages(tag, *results)}
        reply = post(server, "/v1/messages", body)
        assert reply["stop_reason"] == expected
    assert server.model.tool_results("s") == ["result 0", "result 1", "result 2"]
    untagged = post(server, "/v1/messages", {"model": "m", "messages": messages("hi")})
    assert untagged["content"] == [{"type": "text", "text": "OK"}]
    assert server.model.unexpected() == []


def test_a_gated_turn_waits_for_its_gate(server: FakeModelServer) -> None:
    tag = server.model.add(Scenario("g", [Turn(text="released", gate="go")]))
    replies: list[Any] = []
    body = {"model": "m", "tools": TOOLS, "messages": messages(tag)}
    caller = threading.Thread(target=lambda: replies.append(post(server, "/v1/messages", body)))
    caller.start()
    assert server.model.wait_reached("go", timeout=30)
    assert replies == []
    server.model.open_gate("go")
    caller.join(timeout=30)
    assert replies[0]["content"] == [{"type": "text", "text": "released"}]


def test_a_call_in_a_codex_tool_namespace_names_its_namespace() -> None:
    body = {
        "tools": [
            {"type": "function", "name": "exec_command"},
            {"type": "namespace", "name": "mcp__swarm", "tools": [{"name": "claim_files"}]},
        ]
    }
    turn = Turn(
        [ToolCall("mcp__swarm__claim_files", {"paths": ["a"]}), ToolCall("exec_command", {})]
    )
    items = [
        json.loads(chunk.decode().split("data: ", 1)[1])["item"]
        for chunk in openai_events(turn, body, 1)
        if b"response.output_item.done" in chunk
    ]
    assert [(i.get("namespace"), i["name"]) for i in items] == [
        ("mcp__swarm", "claim_files"),
        (None, "exec_command"),
    ]
