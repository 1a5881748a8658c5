"""Property: each adapter's parser, fed random payloads, never raises (no `internal error`,
no traceback) and never allows an edit of a held file, however the payload spells it and
whatever else it carries. Run in-process through `hooks.adapters.run`, the
function `swarm hooks <agent>` calls, on a real repository and store."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from coordinator.claims.grants import grant_claim
from hooks.adapters import Adapter, claude, codex, cursor, gemini, run
from memory.backends import open_store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "adapters"
#: Per adapter: its pre-tool fixture, and how a payload names the file (a spelling, a tool).
PRE = {
    "claude": "PreToolUse",
    "codex": "PreToolUse",
    "gemini": "BeforeTool",
    "cursor": "preToolUse",
}
TOOLS = {
    "claude": [("Edit", "file_path"), ("Write", "file_path"), ("MultiEdit", "file_path"),
               ("NotebookEdit", "notebook_path")],
    "codex": [("apply_patch", "command")],
    "gemini": [("write_file", "file_path"), ("replace", "file_path"),
               ("write_file", "absolute_path")],
    "cursor": [("Write", "file_path"), ("Edit", "path"), ("StrReplace", "path"),
               ("Delete", "target_file"), ("ApplyPatch", "file_path"), ("MultiEdit", "file_path")],
}  # fmt: skip
ADAPTERS: dict[str, Adapter] = {
    "claude": claude.ADAPTER,
    "codex": codex.ADAPTER,
    "gemini": gemini.ADAPTER,
    "cursor": cursor.ADAPTER,
}
SPELLINGS = [
    "src/a.py",
    "./src/a.py",
    "src//a.py",
    "app/[slug]/../../src/a.py",
    "app/*/../../src/a.py",
    "x[1].py",
    "lib/a.py",
    "src/./a.py/",
]
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


class Repo(NamedTuple):
    root: Path
    db: Path


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repo]:
    root = tmp_path_factory.mktemp("payloads") / "repo"
    for directory in ("src", "app/[slug]", "app/*", ".swarm", ".git"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / "src" / "a.py").write_text("held\n")
    (root / "lib").symlink_to(root / "src")
    (root / "x[1].py").symlink_to(root / "src" / "a.py")
    db = root / ".swarm" / "memory.db"
    with open_store(db, create=True) as store:
        grant_claim(store, "src/a.py", "rival")
    yield Repo(root, db)


def _answer(name: str, text: bytes | str, environ: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    stream: Any = io.BytesIO(text) if isinstance(text, bytes) else io.StringIO(text)
    with redirect_stdout(out), redirect_stderr(err):
        code = run(ADAPTERS[name], stream, environ=environ)
    return code, out.getvalue(), err.getvalue()


def _denied(name: str, code: int, stdout: str) -> bool:
    if code != 0 or not stdout.strip():
        return False
    answer = json.loads(stdout)
    if name in ("claude", "codex"):
        return bool(answer["hookSpecificOutput"]["permissionDecision"] == "deny")
    if name == "gemini":
        return bool(answer.get("decision") == "deny")
    return bool(answer.get("permission") == "deny")


@st.composite
def edit_payloads(draw: st.DrawFn, repo: Repo) -> tuple[str, bytes]:
    """A well-formed pre-tool payload of a random adapter editing a spelling of the held
    file, with random session ids, random extra fields and maybe a byte order mark."""
    name = draw(st.sampled_from(sorted(ADAPTERS)))
    text = (FIXTURES / f"{name}-{PRE[name]}.json").read_text()
    payload: dict[str, Any] = json.loads(text.replace("__REPO__", str(repo.root)))
    tool, field = draw(st.sampled_from(TOOLS[name]))
    spelling = draw(st.sampled_from(SPELLINGS))
    cwd = draw(st.sampled_from([repo.root, repo.root / "app", repo.root.parent]))
    path = spelling if draw(st.booleans()) and cwd == repo.root else f"{repo.root}/{spelling}"
    payload["cwd"] = str(cwd)
    if name == "cursor":
        payload["workspace_roots"] = [str(cwd)]
    payload["tool_name"] = tool
    extra = draw(st.dictionaries(st.text(max_size=8), JSON, max_size=3))
    if field == "command":
        patch = f"*** Begin Patch\n*** Update File: {path}\n@@\n-a\n+b\n*** End Patch\n"
        payload["tool_input"] = {**extra, "command": patch}
    else:
        payload["tool_input"] = {**extra, field: path}
    session = draw(st.text(min_size=1, max_size=40))
    payload["conversation_id" if name == "cursor" else "session_id"] = session
    payload.update(draw(st.dictionaries(st.sampled_from(["model", "turn_id", "x"]), JSON)))
    raw = json.dumps(payload, ensure_ascii=draw(st.booleans())).encode()
    return name, (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + raw


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_an_edit_of_the_held_file_is_always_denied(repo: Repo, data: st.DataObject) -> None:
    name, raw = data.draw(edit_payloads(repo))
    for environ in ({}, {"SWARM_FAIL_CLOSED": "1"}):
        code, stdout, stderr = _answer(name, raw, environ)
        assert _denied(name, code, stdout), (name, raw, code, stdout, stderr)
        assert "rival" in stdout


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(sorted(ADAPTERS)),
    payload=st.dictionaries(st.text(max_size=12), JSON, max_size=6),
    event=st.sampled_from(["PreToolUse", "BeforeTool", "preToolUse", "Stop", "AfterAgent", "x"]),
    tool_input=JSON | st.fixed_dictionaries({"file_path": st.text(max_size=20)}),
    raw_prefix=st.sampled_from(["", "\ufeff", " "]),
)
@example(name="cursor", payload={}, event="preToolUse", tool_input={}, raw_prefix="\ufeff")
@example(name="claude", payload={"session_id": "\ud800"}, event="PreToolUse",
         tool_input={"file_path": "a\ud800"}, raw_prefix="")  # fmt: skip
@example(name="gemini", payload={}, event="BeforeTool", tool_input=[[[[[]]]]], raw_prefix="")
@example(name="claude", payload={"tool_name": "Edit"}, event="PreToolUse",
         tool_input={"file_path": "src/a\ud800.py"}, raw_prefix="")  # fmt: skip
@example(name="cursor", payload={"tool_name": "Write"}, event="preToolUse",
         tool_input={"file_path": "src/a\x00.py"}, raw_prefix="")  # fmt: skip
@example(name="gemini", payload={"tool_name": "write_file"}, event="BeforeTool",
         tool_input={"file_path": "src/a\nb.py"}, raw_prefix="")  # fmt: skip
def test_random_payloads_never_raise(
    repo: Repo, name: str, payload: dict[str, Any], event: str, tool_input: Any, raw_prefix: str
) -> None:
    payload = {**payload, "hook_event_name": event, "tool_input": tool_input}
    if isinstance(tool_input, dict) and "file_path" in tool_input:
        payload.setdefault(
            "tool_name", {"cursor": "Write", "gemini": "write_file"}.get(name, "Edit")
        )
    payload.setdefault("cwd", str(repo.root))
    text = raw_prefix + json.dumps(payload)
    for environ in ({}, {"SWARM_FAIL_CLOSED": "1"}, {"SWARM_DB": str(repo.db)}):
        code, stdout, stderr = _answer(name, text, environ)
        assert code in (0, 1, 2)
        assert "internal error" not in stderr, stderr
        assert "Traceback" not in stderr
        assert len(stderr.strip().splitlines()) <= 1, stderr
        if stdout.strip():
            json.loads(stdout)


def test_a_deeply_nested_payload_is_a_bad_payload(repo: Repo) -> None:
    text = '{"hook_event_name": "PreToolUse", "tool_input": ' + "[" * 100_000 + "]" * 100_000 + "}"
    code, stdout, stderr = _answer("claude", text, {"SWARM_FAIL_CLOSED": "1"})
    assert "internal error" not in stderr
    assert _denied("claude", code, stdout)
