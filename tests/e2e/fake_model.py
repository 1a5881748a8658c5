"""A scripted fake model server on 127.0.0.1 for the real agent CLIs.

It speaks just enough of three vendors' APIs for a client to run a session:

- Anthropic Messages (`POST /v1/messages`, streamed as server-sent events) for Claude Code;
- OpenAI Responses (`POST /v1/responses`, streamed) for Codex;
- Gemini (`POST /v1beta/models/M:streamGenerateContent` and `:generateContent`) for
  Gemini CLI.

What the model "says" is a `Scenario`: a script of turns, each a list of tool calls (or
the final text). The client's prompt names its scenario (`scenario_tag`), and the server
answers each request with the turn after the tool calls already in the conversation, so
it keeps no per-connection state and any number of sessions run at once. A turn may wait
on a named gate, which the test opens: that is how a test keeps a session alive (its
model "thinking") while another session runs. Requests that carry no tools, or name no
scenario (titles, summaries, classifiers), get a short plain answer.

The tool results a client sends back are kept per scenario, so a test can read what the
client told the model, such as a hook's refusal.

A call names the client's own tool, MCP tools included. Claude Code calls them
`mcp__<server>__<tool>`, so a session using swarm's MCP tools is

    Scenario("mcp", [Turn([ToolCall("mcp__swarm__claim_files", {...})]),
                     Turn([ToolCall("mcp__swarm__task_finish", {...})]), Turn(text="done")])

started with `--allowedTools mcp__swarm__claim_files mcp__swarm__task_finish`
(`Workspace.start(name, prompt, *options)`); Claude Code loads the project's `.mcp.json`
(written by `swarm init --claude`) in `-p` mode. Gemini CLI calls them `mcp_swarm_<tool>`
(`Client.mcp_tool`). Codex declares them as functions in a namespace tool (`mcp__swarm`):
a call of `mcp__swarm__<tool>` is answered as a function call in that namespace.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: How a prompt names its scenario: `[swarm-e2e scenario=NAME]`.
_TAG = re.compile(r"\[swarm-e2e scenario=([A-Za-z0-9_.-]+)\]")
#: How long a gated turn waits for its gate before failing the request.
GATE_TIMEOUT = 120.0


def scenario_tag(name: str) -> str:
    """The text to put in a prompt so that the server plays scenario `name`."""
    return f"[swarm-e2e scenario={name}]"


@dataclass(frozen=True)
class ToolCall:
    """One call of a client tool, by the client's own tool name and arguments."""

    name: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Turn:
    """One model reply: tool calls, or (with none) the final text. With `gate`, the reply
    is held until the test opens that gate."""

    calls: Sequence[ToolCall] = ()
    text: str = "Done."
    gate: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A script of turns; after the last one the model only says `Done.`."""

    name: str
    turns: Sequence[Turn]

    def turn_after(self, calls_made: int) -> Turn:
        """The turn that follows `calls_made` tool calls already in the conversation."""
        seen = 0
        for turn in self.turns:
            if seen >= calls_made:
                return turn
            seen += len(turn.calls)
        return Turn()


@dataclass
class Exchange:
    """One request the server answered."""

    vendor: str
    path: str
    scenario: str | None
    turn: Turn | None
    #: The names of the tools the client offered the model.
    tools: list[str] = field(default_factory=list)


@dataclass
class FakeModel:
    """The scripts, the gates, and what the clients sent back."""

    scenarios: dict[str, Scenario] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)
    #: Per scenario, the text of every tool result the client sent, in call order.
    results: dict[str, list[str]] = field(default_factory=dict)
    _gates: dict[str, threading.Event] = field(default_factory=dict)
    _reached: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, scenario: Scenario) -> str:
        """Register `scenario`; returns the tag for the client's prompt."""
        with self._lock:
            self.scenarios[scenario.name] = scenario
        return scenario_tag(scenario.name)

    def _event(self, table: dict[str, threading.Event], name: str) -> threading.Event:
        with self._lock:
            return table.setdefault(name, threading.Event())

    def open_gate(self, name: str) -> None:
        """Let the turns waiting on gate `name` go on."""
        self._event(self._gates, name).set()

    def open_all_gates(self) -> None:
        """Let every held turn go on (when the server stops)."""
        with self._lock:
            gates = list(self._gates.values())
        for gate in gates:
            gate.set()

    def wait_reached(self, gate: str, timeout: float) -> bool:
        """Wait until a client's request is held at `gate` (its earlier turns are done)."""
        return self._event(self._reached, gate).wait(timeout)

    def tool_results(self, scenario: str) -> list[str]:
        """What the client answered to each of the scenario's tool calls so far."""
        with self._lock:
            return list(self.results.get(scenario, []))

    def unexpected(self) -> list[str]:
        """The requests the server did not serve: unknown routes, and requests for the
        outside network that came through it as a proxy (`unknown|outside PATH`)."""
        with self._lock:
            return [
                f"{e.vendor} {e.path}" for e in self.exchanges if e.vendor in ("unknown", "outside")
            ]

    def unserved(self, kind: str, path: str) -> None:
        """Record a request the server did not serve (`unknown` route, or `outside`)."""
        with self._lock:
            self.exchanges.append(Exchange(kind, path, None, None))

    # --- one request ------------------------------------------------------------------------

    def play(self, vendor: str, path: str, body: Mapping[str, Any]) -> Turn | None:
        """The turn answering `body`, or None for a request outside any scenario."""
        name = _find_tag(body)
        scenario = self.scenarios.get(name) if name else None
        turn: Turn | None = None
        if scenario is not None and body.get("tools"):
            calls, results = HISTORY[vendor](body)
            with self._lock:
                # A retried or side request may carry less of the conversation.
                if len(results) >= len(self.results.get(scenario.name, [])):
                    self.results[scenario.name] = results
            turn = scenario.turn_after(calls)
        with self._lock:
            self.exchanges.append(Exchange(vendor, path, name, turn, _tool_names(body)))
        if turn is not None and turn.gate is not None:
            self._event(self._reached, turn.gate).set()
            if not self._event(self._gates, turn.gate).wait(GATE_TIMEOUT):
                raise TimeoutError(f"gate {turn.gate} was never opened")
        return turn


def _find_tag(body: Mapping[str, Any]) -> str | None:
    match = _TAG.search(json.dumps(body))
    return match.group(1) if match else None


def _tool_names(body: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for tool in body.get("tools", []):
        if not isinstance(tool, dict):
            continue
        declared = tool.get("functionDeclarations") or [tool.get("function") or tool]
        names += [str(d.get("name")) for d in declared if isinstance(d, dict)]
    return names


def _text_of(content: Any) -> str:
    """Tool result content (a string, or a list of text blocks) as one string."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_text_of(part.get("text", part)) for part in content)
    return json.dumps(content)


# --- reading the conversation: (tool calls made, tool results returned) -----------------------


def _anthropic_history(body: Mapping[str, Any]) -> tuple[int, list[str]]:
    calls = 0
    results: list[str] = []
    for message in body.get("messages", []):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for block in content:
            if block.get("type") == "tool_use":
                calls += 1
            elif block.get("type") == "tool_result":
                results.append(_text_of(block.get("content", "")))
    return calls, results


def _openai_history(body: Mapping[str, Any]) -> tuple[int, list[str]]:
    calls = 0
    results: list[str] = []
    items = body.get("input", [])
    for item in items if isinstance(items, list) else []:
        kind = item.get("type")
        if kind in ("function_call", "custom_tool_call", "local_shell_call"):
            calls += 1
        elif kind in ("function_call_output", "custom_tool_call_output"):
            results.append(_text_of(item.get("output", "")))
    return calls, results


def _gemini_history(body: Mapping[str, Any]) -> tuple[int, list[str]]:
    calls = 0
    results: list[str] = []
    for content in body.get("contents", []):
        for part in content.get("parts", []):
            if "functionCall" in part:
                calls += 1
            elif "functionResponse" in part:
                results.append(json.dumps(part["functionResponse"].get("response", {})))
    return calls, results


HISTORY = {"anthropic": _anthropic_history, "openai": _openai_history, "gemini": _gemini_history}


# --- writing the answer -------------------------------------------------------------------------


def _sse(event: str | None, data: Mapping[str, Any]) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


def anthropic_events(turn: Turn, model: str, seq: int) -> Iterator[bytes]:
    """A Messages API stream: message_start, one content block per call (or the text),
    message_delta with the stop reason, message_stop."""
    usage = {"input_tokens": 10, "output_tokens": 1}
    yield _sse(
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": f"msg_e2e_{seq}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": usage,
            },
        },
    )
    if turn.calls:
        for index, call in enumerate(turn.calls):
            block = {"type": "tool_use", "id": f"toolu_e2e_{seq}_{index}", "name": call.name}
            yield _sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": block | {"input": {}},
                },
            )
            delta = {"type": "input_json_delta", "partial_json": json.dumps(call.args)}
            yield _sse(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
            yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
        stop = "tool_use"
    else:
        yield _sse(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        )
        yield _sse(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": turn.text},
            },
        )
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        stop = "end_turn"
    yield _sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": 1},
        },
    )
    yield _sse("message_stop", {"type": "message_stop"})


def anthropic_message(turn: Turn, model: str, seq: int) -> dict[str, Any]:
    """The same reply, not streamed."""
    content: list[dict[str, Any]] = [
        {"type": "tool_use", "id": f"toolu_e2e_{seq}_{i}", "name": c.name, "input": dict(c.args)}
        for i, c in enumerate(turn.calls)
    ] or [{"type": "text", "text": turn.text}]
    return {
        "id": f"msg_e2e_{seq}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if turn.calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 1},
    }


def _openai_tool_kinds(body: Mapping[str, Any]) -> dict[str, str]:
    """Each tool's kind (`function` or `custom`) as the client declared it."""
    kinds: dict[str, str] = {}
    for tool in body.get("tools", []):
        name = tool.get("name") or tool.get("function", {}).get("name")
        if isinstance(name, str):
            kinds[name] = str(tool.get("type", "function"))
    return kinds


def openai_events(turn: Turn, body: Mapping[str, Any], seq: int) -> Iterator[bytes]:
    """A Responses API stream: response.created, one output item per call (a
    `custom_tool_call` for a freeform tool, whose input is `args["input"]`, else a
    `function_call`) or the message, then response.completed."""
    response_id = f"resp_e2e_{seq}"
    yield _sse(
        "response.created",
        {"type": "response.created", "response": {"id": response_id, "status": "in_progress"}},
    )
    kinds = _openai_tool_kinds(body)
    items: list[dict[str, Any]] = []
    for index, call in enumerate(turn.calls):
        call_id = f"call_e2e_{seq}_{index}"
        if kinds.get(call.name) == "custom":
            items.append(
                {
                    "type": "custom_tool_call",
                    "id": f"ctc_e2e_{seq}_{index}",
                    "call_id": call_id,
                    "name": call.name,
                    "input": str(call.args.get("input", "")),
                    "status": "completed",
                }
            )
        else:
            namespace, _, short = call.name.rpartition("__")
            named = (
                {"name": short, "namespace": namespace}
                if kinds.get(namespace) == "namespace"
                else {"name": call.name}
            )
            items.append(
                {
                    "type": "function_call",
                    "id": f"fc_e2e_{seq}_{index}",
                    "call_id": call_id,
                    **named,
                    "arguments": json.dumps(call.args),
                    "status": "completed",
                }
            )
    if not turn.calls:
        items.append(
            {
                "type": "message",
                "id": f"msg_e2e_{seq}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": turn.text, "annotations": []}],
            }
        )
    for index, item in enumerate(items):
        yield _sse(
            "response.output_item.added",
            {"type": "response.output_item.added", "output_index": index, "item": item},
        )
        yield _sse(
            "response.output_item.done",
            {"type": "response.output_item.done", "output_index": index, "item": item},
        )
    usage = {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 1,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 11,
    }
    yield _sse(
        "response.completed",
        {
            "type": "response.completed",
            "response": {"id": response_id, "status": "completed", "output": items, "usage": usage},
        },
    )


def gemini_response(turn: Turn) -> dict[str, Any]:
    """A generateContent response: one candidate with the calls (or the text)."""
    parts: list[dict[str, Any]] = [
        {"functionCall": {"name": c.name, "args": dict(c.args)}} for c in turn.calls
    ] or [{"text": turn.text}]
    return {
        "candidates": [
            {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 1, "totalTokenCount": 11},
        "modelVersion": "gemini-2.5-flash",
    }


# --- the HTTP server ------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: FakeModelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the exchanges are recorded; no access log on stderr

    def do_GET(self) -> None:
        if not self.path.startswith("/"):
            self._outside()
            return
        self._unknown({})

    def do_CONNECT(self) -> None:
        self._outside()

    def do_POST(self) -> None:
        if not self.path.startswith("/"):
            self._outside()
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        path = self.path.split("?", 1)[0]
        model = self.server.model
        seq = self.server.next_seq()
        if path.endswith("/messages/count_tokens"):
            self._json({"input_tokens": 10})
        elif path.endswith("/messages"):
            turn = model.play("anthropic", path, body) or Turn(text="OK")
            name = str(body.get("model", "claude"))
            if body.get("stream"):
                self._stream(anthropic_events(turn, name, seq))
            else:
                self._json(anthropic_message(turn, name, seq))
        elif path.endswith("/responses"):
            turn = model.play("openai", path, body) or Turn(text="OK")
            self._stream(openai_events(turn, body, seq))
        elif ":streamGenerateContent" in path:
            turn = model.play("gemini", path, body) or Turn(text="OK")
            self._stream(iter([_sse(None, gemini_response(turn))]))
        elif ":generateContent" in path:
            turn = model.play("gemini", path, body) or Turn(text="OK")
            self._json(gemini_response(turn))
        elif ":countTokens" in path:
            self._json({"totalTokens": 10})
        else:
            self._unknown(body)

    def _outside(self) -> None:
        """A request through the proxy (the clients' HTTPS_PROXY is this server): refused,
        so that nothing leaves the machine, and recorded."""
        self.server.model.unserved("outside", self.path)
        self._json({"error": {"message": "fake model server: no outside network"}}, 403)
        self.close_connection = True

    def _unknown(self, body: Mapping[str, Any]) -> None:
        self.server.model.unserved("unknown", self.path)
        self._json({"error": {"message": f"fake model server: no route {self.path}"}}, 404)

    def _json(self, data: Mapping[str, Any], status: int = 200) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, chunks: Iterator[bytes]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(chunk)
            self.wfile.flush()
        self.close_connection = True


class FakeModelServer(ThreadingHTTPServer):
    """The HTTP server, bound to 127.0.0.1 on a free port, serving `model`."""

    daemon_threads = True

    def __init__(self, model: FakeModel) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.model = model
        self._seq = 0
        self._seq_lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def next_seq(self) -> int:
        """A number for the next reply's ids."""
        with self._seq_lock:
            self._seq += 1
            return self._seq

    def start(self) -> FakeModelServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, releasing any held turn."""
        self.model.open_all_gates()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
