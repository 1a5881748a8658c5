"""The agent adapters (`swarm hooks claude | codex | gemini | cursor`) run as subprocesses
on fixture payloads shaped like each agent's documented hook JSON, the way agents run them.

Fixtures live in tests/fixtures/adapters/<agent>-<event>.json; `__REPO__` in them stands
for the test repository and is substituted at test time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from coordinator import layout
from coordinator.claims.grants import check_agent_name
from coordinator.claims.patches import patch_paths
from hooks.adapters import derived_agent_name, id_hash
from tests.integration.conftest import Project, Result, heavy_modules, import_probe

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "adapters"
NOTICE = "task release_prep is now ready"


@dataclass(frozen=True)
class Protocol:
    """One agent's hook protocol, as far as the tests need it."""

    agent: str
    session_field: str
    start: str
    prompt: str | None
    pre: str
    post: str
    end: str | None
    stop: str
    #: The files the pre/post fixtures edit, relative to the repository.
    files: tuple[str, ...]
    #: Sets the edited path of a pre/post payload.
    set_path: Callable[[dict[str, Any], str], None]

    def fixture(self, event: str, repo: Path, **overrides: Any) -> dict[str, Any]:
        """The fixture payload for `event`, with the repository substituted."""
        return load_fixture(f"{self.agent}-{event}", repo, **overrides)

    def agent_id(self, payload: dict[str, Any]) -> str:
        """The agent name the adapter derives from a payload."""
        return derived_agent_name(self.agent, payload[self.session_field])

    def denial(self, result: Result) -> str | None:
        """The reason of a deny answer, or None when the output is not one."""
        if not result.stdout.strip():
            return None
        out = result.json()
        if self.agent in ("claude", "codex"):
            spec = out["hookSpecificOutput"]
            assert spec["hookEventName"] == "PreToolUse"
            if spec["permissionDecision"] != "deny":
                return None
            return str(spec["permissionDecisionReason"])
        if self.agent == "gemini":
            return str(out["reason"]) if out.get("decision") == "deny" else None
        assert out["user_message"]
        return str(out["agent_message"]) if out.get("permission") == "deny" else None

    def context(self, result: Result, event: str) -> str:
        """The context an answer gives the model."""
        out = result.json()
        if self.agent == "cursor":
            return str(out["additional_context"])
        assert out["hookSpecificOutput"]["hookEventName"] == event
        return str(out["hookSpecificOutput"]["additionalContext"])


def _set_tool_path(payload: dict[str, Any], path: str) -> None:
    payload["tool_input"]["file_path"] = path


def _set_patch_path(payload: dict[str, Any], path: str) -> None:
    payload["tool_input"]["command"] = (
        f"*** Begin Patch\n*** Update File: {path}\n@@\n-a\n+b\n*** End Patch\n"
    )


def _set_cursor_path(payload: dict[str, Any], path: str) -> None:
    if "tool_input" in payload:
        payload["tool_input"]["file_path"] = path
    else:
        payload["file_path"] = path


CLAUDE = Protocol(
    "claude",
    "session_id",
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "SessionEnd",
    "Stop",
    ("src/app.py",),
    _set_tool_path,
)
CODEX = Protocol(
    "codex",
    "session_id",
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "SessionEnd",
    "Stop",
    ("src/app.py", "src/limits.py"),
    _set_patch_path,
)
GEMINI = Protocol(
    "gemini",
    "session_id",
    "SessionStart",
    "BeforeAgent",
    "BeforeTool",
    "AfterTool",
    "SessionEnd",
    "AfterAgent",
    ("src/app.py",),
    _set_tool_path,
)
CURSOR = Protocol(
    "cursor",
    "conversation_id",
    "sessionStart",
    None,
    "preToolUse",
    "afterFileEdit",
    "sessionEnd",
    "stop",
    ("src/app.py",),
    _set_cursor_path,
)
PROTOCOLS = [CLAUDE, CODEX, GEMINI, CURSOR]
by_agent = pytest.mark.parametrize("proto", PROTOCOLS, ids=lambda p: p.agent)


def load_fixture(name: str, repo: Path, **overrides: Any) -> dict[str, Any]:
    """tests/fixtures/adapters/<name>.json with `__REPO__` replaced by `repo`."""
    text = (FIXTURES / f"{name}.json").read_text()
    payload: dict[str, Any] = json.loads(text.replace("__REPO__", json.dumps(str(repo))[1:-1]))
    payload.update(overrides)
    return payload


def hook(project: Project, agent: str, payload: Any, env: dict[str, str] | None = None) -> Result:
    """Run `swarm hooks <agent>` with `payload` (JSON, or raw text) on stdin."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return project.swarm("hooks", agent, input=text, env=env)


def silent(result: Result) -> None:
    """The adapter allowed, or had nothing to say: no output at all, exit 0."""
    assert (result.code, result.stdout, result.stderr) == (0, "", ""), result


def claims(project: Project) -> list[tuple[str, str, str | None]]:
    """(path, agent, task) of every live claim, sorted."""
    with project.store() as store:
        records = store.list_prefix(layout.CLAIMS)
    return sorted((r.value["path"], r.value["agent"], r.value["task"]) for r in records)


def edits(project: Project) -> list[dict[str, Any]]:
    """Every edit record."""
    with project.store() as store:
        return [r.value for r in store.list_prefix(layout.EDITS)]


def unread(project: Project, agent: str) -> list[str]:
    """The messages of `agent`'s unread notifications."""
    with project.store() as store:
        records = store.list_prefix(layout.inbox_prefix(agent))
    return [r.value["message"] for r in records if not r.value.get("read")]


def assert_one_line(stderr: str, start: str = "swarm: ") -> str:
    """stderr is exactly one line, no traceback."""
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(start), stderr
    return lines[0]


@pytest.fixture
def repo(project: Project) -> Project:
    """The project with a source file to edit."""
    (project.root / "src").mkdir()
    (project.root / "src" / "app.py").write_text("limit = 10\n")
    return project


def rival_holds(project: Project, path: str = "src/app.py") -> None:
    """Another agent, `rival`, starts task fix_parser and claims `path` through pre-edit."""
    project.ok("hooks", "pre-task", "--task-id", "fix_parser", "--agent", "rival")
    project.ok("hooks", "pre-edit", "--file", path, "--agent", "rival")


# --- pre-edit: deny a held file, allow silently otherwise ----------------------------------


@by_agent
def test_pre_tool_event_denies_a_file_another_agent_holds(proto: Protocol, repo: Project) -> None:
    rival_holds(repo)
    payload = proto.fixture(proto.pre, repo.root)
    result = hook(repo, proto.agent, payload)
    assert result.code == 0, result.stderr
    reason = proto.denial(result)
    assert reason is not None, result.stdout
    assert "src/app.py" in reason
    assert "rival" in reason
    assert "adhoc/fix_parser" in reason
    # Nothing is left claimed for the refused agent (Codex: not even the patch's other file).
    assert claims(repo) == [("src/app.py", "rival", "adhoc/fix_parser")]


@by_agent
def test_pre_tool_event_allows_silently_and_claims(proto: Protocol, repo: Project) -> None:
    payload = proto.fixture(proto.pre, repo.root)
    agent = proto.agent_id(payload)
    silent(hook(repo, proto.agent, payload))
    assert claims(repo) == sorted((path, agent, None) for path in proto.files)
    # The agent is registered (its liveness lease is what the daemon watches).
    assert repo.value(layout.agent_key(agent))["name"] == agent
    # Renewing is as silent as granting.
    silent(hook(repo, proto.agent, payload))


@by_agent
def test_a_path_outside_the_repository_is_allowed_silently(
    proto: Protocol, repo: Project, tmp_path: Path
) -> None:
    payload = proto.fixture(proto.pre, repo.root)
    outside = tmp_path / "elsewhere" / "notes.py"
    proto.set_path(payload, str(outside) if proto.agent != "codex" else "../elsewhere/notes.py")
    silent(hook(repo, proto.agent, payload))
    assert claims(repo) == []


@by_agent
def test_pre_tool_event_for_another_tool_is_silent(proto: Protocol, repo: Project) -> None:
    rival_holds(repo)
    payload = proto.fixture(proto.pre, repo.root)
    payload["tool_name"] = {
        "claude": "Read",
        "codex": "Bash",
        "gemini": "read_file",
        "cursor": "Read",
    }[proto.agent]
    if proto.agent == "codex":
        payload["tool_input"] = {"command": "cat src/app.py"}
    silent(hook(repo, proto.agent, payload))


def test_claude_pre_tool_use_claims_under_the_task_in_progress(repo: Project) -> None:
    payload = CLAUDE.fixture("PreToolUse", repo.root)
    agent = CLAUDE.agent_id(payload)
    repo.ok("hooks", "pre-task", "--task-id", "fix_parser", "--agent", agent)
    silent(hook(repo, "claude", payload))
    assert claims(repo) == [("src/app.py", agent, "adhoc/fix_parser")]


def test_claude_task_and_agent_come_from_the_environment(repo: Project) -> None:
    payload = CLAUDE.fixture("PreToolUse", repo.root)
    env = {"SWARM_AGENT_ID": "reviewer", "SWARM_TASK_ID": "p1/review"}
    silent(hook(repo, "claude", payload, env=env))
    assert claims(repo) == [("src/app.py", "reviewer", "p1/review")]


def test_claude_subagent_has_its_own_name(repo: Project) -> None:
    payload = load_fixture("claude-PreToolUse-subagent", repo.root)
    silent(hook(repo, "claude", payload))
    parent = CLAUDE.agent_id(payload)
    sub = derived_agent_name("claude", payload["session_id"], payload["agent_id"])
    assert sub.startswith(f"{parent}-")
    assert claims(repo) == [("src/app.py", sub, None)]
    # The parent session is another agent: the subagent's claim refuses it.
    reason = CLAUDE.denial(hook(repo, "claude", CLAUDE.fixture("PreToolUse", repo.root)))
    assert reason is not None
    assert sub in reason


# --- post-edit -----------------------------------------------------------------------------


@by_agent
def test_post_tool_event_records_the_edit(proto: Protocol, repo: Project) -> None:
    payload = proto.fixture(proto.pre, repo.root)
    agent = proto.agent_id(payload)
    silent(hook(repo, proto.agent, payload))
    (repo.root / "src" / "app.py").write_text("limit = 11\n")
    (repo.root / "src" / "limits.py").write_text("DEFAULT_LIMIT = 11\n")
    silent(hook(repo, proto.agent, proto.fixture(proto.post, repo.root)))
    recorded = {e["path"]: e for e in edits(repo)}
    assert sorted(recorded) == sorted(proto.files)
    app = recorded["src/app.py"]
    assert app["agent"] == agent
    assert app["claimed"] is True
    assert app["sha256"] == hashlib.sha256(b"limit = 11\n").hexdigest()


def test_claude_post_tool_use_tells_the_model_about_an_unclaimed_edit(repo: Project) -> None:
    rival_holds(repo)
    result = hook(repo, "claude", CLAUDE.fixture("PostToolUse", repo.root))
    assert result.code == 0, result.stderr
    context = CLAUDE.context(result, "PostToolUse")
    assert "without holding a claim" in context
    assert "rival" in context


# --- session start, prompts, notifications -------------------------------------------------


@by_agent
def test_session_start_restores_task_claims_and_notifications(
    proto: Protocol, repo: Project
) -> None:
    payload = proto.fixture(proto.start, repo.root)
    agent = proto.agent_id(payload)
    repo.ok("hooks", "pre-task", "--task-id", "release_prep", "--agent", agent)
    repo.ok("hooks", "pre-edit", "--file", "src/app.py", "--agent", agent)
    repo.ok("hooks", "notify", "--to", agent, "--message", NOTICE, "--agent", "operator")
    result = hook(repo, proto.agent, payload)
    assert result.code == 0, result.stderr
    context = proto.context(result, proto.start)
    assert agent in context
    assert "adhoc/release_prep" in context
    assert "src/app.py" in context
    assert NOTICE in context
    assert "from operator" in context
    assert unread(repo, agent) == []
    registered = repo.value(layout.agent_key(agent))
    assert registered["session"] == payload[proto.session_field]


@pytest.mark.parametrize("proto", [CLAUDE, CODEX, GEMINI], ids=lambda p: p.agent)
def test_prompt_event_delivers_unread_notifications_once(proto: Protocol, repo: Project) -> None:
    assert proto.prompt is not None
    payload = proto.fixture(proto.prompt, repo.root)
    agent = proto.agent_id(payload)
    silent(hook(repo, proto.agent, payload))  # nothing unread: nothing said
    repo.ok("hooks", "notify", "--to", agent, "--message", NOTICE, "--agent", "operator")
    first = hook(repo, proto.agent, payload)
    assert first.code == 0, first.stderr
    assert NOTICE in proto.context(first, proto.prompt)
    silent(hook(repo, proto.agent, payload))  # delivered once, not repeated
    assert unread(repo, agent) == []


# --- session end and stop ------------------------------------------------------------------


@by_agent
def test_session_end_releases_what_the_agent_held(proto: Protocol, repo: Project) -> None:
    assert proto.end is not None
    start = proto.fixture(proto.start, repo.root)
    agent = proto.agent_id(start)
    hook(repo, proto.agent, start)
    silent(hook(repo, proto.agent, proto.fixture(proto.pre, repo.root)))
    assert claims(repo) != []
    silent(hook(repo, proto.agent, proto.fixture(proto.end, repo.root)))
    assert claims(repo) == []
    assert repo.value(layout.agent_key(agent)) is None
    summary = repo.value(layout.session_summary_key(start[proto.session_field], agent))
    assert summary["agent"] == agent


@by_agent
def test_stop_does_nothing_by_default_and_finishes_the_task_when_configured(
    proto: Protocol, repo: Project
) -> None:
    payload = proto.fixture(proto.stop, repo.root)
    agent = proto.agent_id(payload)
    repo.ok("hooks", "pre-task", "--task-id", "fix_parser", "--agent", agent)
    silent(hook(repo, proto.agent, proto.fixture(proto.pre, repo.root)))
    silent(hook(repo, proto.agent, payload))
    assert repo.value("adhoc/fix_parser/status") == "in_progress"
    env = {f"SWARM_{proto.agent.upper()}_POST_TASK_ON_STOP": "1"}
    silent(hook(repo, proto.agent, payload, env=env))
    assert repo.value("adhoc/fix_parser/status") == "complete"
    assert repo.value(layout.receipt_key("adhoc/fix_parser"))["agent"] == agent
    assert claims(repo) == []  # post-task released the task's claims


def test_claude_subagent_stop_releases_the_subagents_claims(repo: Project) -> None:
    pre = load_fixture("claude-PreToolUse-subagent", repo.root)
    sub = derived_agent_name("claude", pre["session_id"], pre["agent_id"])
    silent(hook(repo, "claude", pre))
    assert claims(repo) == [("src/app.py", sub, None)]
    silent(hook(repo, "claude", CLAUDE.fixture("SubagentStop", repo.root)))
    assert claims(repo) == []
    # The parent session may now edit the file.
    silent(hook(repo, "claude", CLAUDE.fixture("PreToolUse", repo.root)))


def test_claude_session_end_releases_the_subagents_claims_too(repo: Project) -> None:
    pre = load_fixture("claude-PreToolUse-subagent", repo.root)
    silent(hook(repo, "claude", pre))
    (repo.root / "src" / "other.py").write_text("x = 1\n")
    parent = CLAUDE.fixture("PreToolUse", repo.root)
    parent["tool_input"]["file_path"] = str(repo.root / "src" / "other.py")
    silent(hook(repo, "claude", parent))
    assert len(claims(repo)) == 2
    silent(hook(repo, "claude", CLAUDE.fixture("SessionEnd", repo.root)))
    assert claims(repo) == []


def test_two_codex_sessions_started_seconds_apart_are_two_agents(repo: Project) -> None:
    # UUIDv7: the first 8 characters are the top of a millisecond timestamp.
    first = "019a4c2e-7f3b-7d21-a8c4-5e6f7a8b9c0d"
    second = "019a4c2e-a1c0-7e55-9b01-0a1b2c3d4e5f"
    silent(hook(repo, "codex", CODEX.fixture("PreToolUse", repo.root, session_id=first)))
    reason = CODEX.denial(
        hook(repo, "codex", CODEX.fixture("PreToolUse", repo.root, session_id=second))
    )
    assert reason is not None
    assert derived_agent_name("codex", first) in reason
    silent(hook(repo, "codex", CODEX.fixture("SessionEnd", repo.root, session_id=first)))
    silent(hook(repo, "codex", CODEX.fixture("PreToolUse", repo.root, session_id=second)))


def test_claude_subagent_stop_finishes_the_subagents_task(repo: Project) -> None:
    payload = CLAUDE.fixture("SubagentStop", repo.root)
    sub = derived_agent_name("claude", payload["session_id"], payload["agent_id"])
    repo.ok("hooks", "pre-task", "--task-id", "write_tests", "--agent", sub)
    silent(hook(repo, "claude", payload, env={"SWARM_POST_TASK_ON_STOP": "1"}))
    assert repo.value("adhoc/write_tests/status") == "complete"


# --- failures ------------------------------------------------------------------------------


@by_agent
def test_a_malformed_payload_is_one_stderr_line_and_exit_1(proto: Protocol, repo: Project) -> None:
    for text in ("{not json", "[1, 2]", json.dumps({"session_id": "x"}), ""):
        result = hook(repo, proto.agent, text)
        assert result.code == 1, (text, result)
        assert result.stdout == ""
        assert_one_line(result.stderr, "swarm: error:")


@by_agent
def test_fail_closed_denies_a_malformed_tool_call(proto: Protocol, repo: Project) -> None:
    payload = proto.fixture(proto.pre, repo.root)
    payload["tool_input"] = "not an object"
    open_result = hook(repo, proto.agent, payload)
    assert open_result.code == 1
    assert_one_line(open_result.stderr, "swarm: error:")
    closed = hook(repo, proto.agent, payload, env={"SWARM_FAIL_CLOSED": "1"})
    assert closed.code == 0, closed.stderr
    reason = proto.denial(closed)
    assert reason is not None
    assert "tool_input" in reason
    assert "SWARM_FAIL_CLOSED" in reason


@by_agent
def test_fail_closed_blocks_other_events_with_exit_2(proto: Protocol, repo: Project) -> None:
    closed = hook(repo, proto.agent, "{not json", env={"SWARM_FAIL_CLOSED": "1"})
    assert closed.code == 2
    assert closed.stdout == ""
    assert_one_line(closed.stderr, "swarm: error:")


@by_agent
def test_a_missing_store_fails_open_or_closed(
    proto: Protocol, repo: Project, tmp_path: Path
) -> None:
    bare = tmp_path / "bare"  # a directory with no store
    bare.mkdir()
    payload = proto.fixture(proto.pre, bare)
    proto.set_path(payload, "x.py" if proto.agent == "codex" else str(bare / "x.py"))
    missing = {"SWARM_DB": str(tmp_path / "nowhere" / "memory.db")}
    result = hook(repo, proto.agent, payload, env=missing)
    assert result.code == 1
    assert "no swarm store" in assert_one_line(result.stderr, "swarm: error:")
    closed = hook(repo, proto.agent, payload, env={**missing, "SWARM_FAIL_CLOSED": "1"})
    reason = proto.denial(closed)
    assert reason is not None
    assert "no swarm store" in reason


# --- two Claude Code sessions, end to end ---------------------------------------------------


def test_two_claude_sessions_editing_one_file(repo: Project) -> None:
    first_id = "aaaaaaaa-1111-4111-8111-111111111111"
    second_id = "bbbbbbbb-2222-4222-8222-222222222222"

    def send(session: str, event: str) -> Result:
        return hook(repo, "claude", CLAUDE.fixture(event, repo.root, session_id=session))

    first = derived_agent_name("claude", first_id)
    second = derived_agent_name("claude", second_id)
    assert first in CLAUDE.context(send(first_id, "SessionStart"), "SessionStart")
    assert second in CLAUDE.context(send(second_id, "SessionStart"), "SessionStart")

    silent(send(first_id, "PreToolUse"))
    (repo.root / "src" / "app.py").write_text("limit = 11\n")
    silent(send(first_id, "PostToolUse"))

    reason = CLAUDE.denial(send(second_id, "PreToolUse"))
    assert reason is not None
    assert first in reason
    assert claims(repo) == [("src/app.py", first, None)]

    silent(send(first_id, "SessionEnd"))
    assert claims(repo) == []

    silent(send(second_id, "PreToolUse"))
    (repo.root / "src" / "app.py").write_text("limit = 12\n")
    # Two agents editing one file inside the edit window is recorded, and the model is told.
    context = CLAUDE.context(send(second_id, "PostToolUse"), "PostToolUse")
    assert f"{second} and {first} edited src/app.py" in context
    assert claims(repo) == [("src/app.py", second, None)]
    assert sorted(e["agent"] for e in edits(repo)) == sorted([first, second])
    silent(send(second_id, "SessionEnd"))
    assert claims(repo) == []
    for session, agent in ((first_id, first), (second_id, second)):
        assert repo.value(layout.session_summary_key(session, agent))["agent"] == agent


# --- the hook path stays light ---------------------------------------------------------------


def test_the_adapter_path_imports_nothing_heavy(repo: Project) -> None:
    probe = (
        "import io, json, sys\n"
        "sys.stdin = io.StringIO(sys.argv[1])\n"
        "from coordinator.cli.entry import main\n"
        "code = main(['hooks', 'claude'])\n"
        "heavy = sorted(set(json.loads(sys.argv[2])) & set(sys.modules))\n"
        "sys.stderr.write(f'{code} {heavy}\\n')\n"
    )
    payload = json.dumps(CLAUDE.fixture("PreToolUse", repo.root))
    heavy = json.dumps(heavy_modules("sqlite"))
    assert import_probe(repo, "sqlite", probe, payload, heavy) == "0 []"


# --- init --<agent> ------------------------------------------------------------------------

#: An unrelated hook already in each agent's settings file, in its own shape.
EXISTING = {
    "claude": (
        ".claude/settings.json",
        {
            "permissions": {"allow": ["Bash(npm test)"]},
            "hooks": {
                "PostToolUse": [
                    {
                        "matcher": "Write",
                        "hooks": [{"type": "command", "command": "npx prettier --write ."}],
                    }
                ]
            },
        },
    ),
    "codex": (
        ".codex/hooks.json",
        {
            "hooks": {
                "PreToolUse": [
                    {
                        "matcher": "Bash",
                        "hooks": [{"type": "command", "command": "python3 .codex/guard.py"}],
                    }
                ]
            }
        },
    ),
    "gemini": (
        ".gemini/settings.json",
        {
            "theme": "GitHub",
            "hooks": {
                "AfterTool": [
                    {
                        "matcher": "write_file",
                        "hooks": [{"name": "fmt", "type": "command", "command": "make fmt"}],
                    }
                ]
            },
        },
    ),
    "cursor": (
        ".cursor/hooks.json",
        {"version": 1, "hooks": {"afterFileEdit": [{"command": "./hooks/format.sh"}]}},
    ),
}


@pytest.mark.parametrize("agent", sorted(EXISTING))
def test_init_merges_keeps_other_hooks_is_idempotent_and_keeps_a_backup(
    agent: str, project: Project
) -> None:
    relative, existing = EXISTING[agent]
    path = project.root / relative
    path.parent.mkdir(parents=True)
    original = json.dumps(existing, indent=4) + "\n"
    path.write_text(original)

    first = project.ok("init", f"--{agent}")
    assert f"{agent}: added the swarm hooks to {relative}" in first.stdout
    merged_text = path.read_text()
    merged = json.loads(merged_text)
    assert merged_text == json.dumps(merged, indent=2, ensure_ascii=False) + "\n"
    assert (path.parent / (path.name + ".bak")).read_text() == original
    # The unrelated hook and settings are kept, in place, and ours were added.
    for key, value in existing.items():
        if key != "hooks":
            assert merged[key] == value
    for event, entries in existing["hooks"].items():
        assert merged["hooks"][event][: len(entries)] == entries
    commands = json.dumps(merged["hooks"])
    assert f"swarm hooks {agent}" in commands

    second = project.ok("init", f"--{agent}")
    assert f"{agent}: {relative} already has the swarm hooks" in second.stdout
    assert path.read_text() == merged_text  # byte-identical
    assert (path.parent / (path.name + ".bak")).read_text() == original


def test_init_claude_writes_the_documented_configuration(project: Project) -> None:
    result = project.ok("init", "--claude")
    assert "claude: created .claude/settings.json" in result.stdout
    settings = json.loads((project.root / ".claude" / "settings.json").read_text())
    hooks = settings["hooks"]
    assert set(hooks) == {
        "SessionStart",
        "SubagentStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PostToolBatch",
        "CwdChanged",
        "Stop",
        "SubagentStop",
        "SessionEnd",
    }
    command = {"type": "command", "command": "swarm hooks claude", "timeout": 10}
    edits = "Edit|Write|MultiEdit|NotebookEdit|Bash"
    for event in ("PreToolUse", "PostToolUse"):
        assert hooks[event] == [{"matcher": edits, "hooks": [command]}]
    for event in ("SessionStart", "UserPromptSubmit", "SessionEnd"):
        assert hooks[event] == [{"hooks": [command]}]
    assert not (project.root / ".claude" / "settings.json.bak").exists()


def test_init_refuses_a_settings_file_that_is_not_json(project: Project) -> None:
    path = project.root / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text("{ not json\n")
    result = project.swarm("init", "--claude")
    assert result.code == 1
    assert "is not valid JSON" in assert_one_line(result.stderr, "swarm: error:")
    assert path.read_text() == "{ not json\n"


def test_init_several_agents_at_once(project: Project) -> None:
    project.ok("init", "--claude", "--codex", "--gemini", "--cursor")
    cursor = json.loads((project.root / ".cursor" / "hooks.json").read_text())
    assert cursor["version"] == 1
    assert cursor["hooks"]["preToolUse"][0]["command"] == "swarm hooks cursor"
    gemini = json.loads((project.root / ".gemini" / "settings.json").read_text())
    assert gemini["hooks"]["BeforeTool"][0]["matcher"] == "write_file|replace|run_shell_command"
    assert gemini["hooks"]["BeforeTool"][0]["hooks"][0]["timeout"] == 10_000
    codex = json.loads((project.root / ".codex" / "hooks.json").read_text())
    assert codex["hooks"]["PreToolUse"][0]["matcher"] == "apply_patch|Bash"
    assert cursor["hooks"]["beforeShellExecution"][0]["command"] == "swarm hooks cursor"
    assert codex["hooks"]["SessionEnd"][0]["hooks"][0]["command"] == "swarm hooks codex"


# --- pure pieces ---------------------------------------------------------------------------


def test_patch_paths_reads_every_file_header() -> None:
    patch = (
        "*** Begin Patch\n"
        "*** Update File: src/app.py\n"
        "*** Move to: src/main.py\n"
        "@@\n-a\n+b\n"
        "  *** Add File: docs/new.md\n"
        "+hello\n"
        "*** Delete File: old.txt\n"
        "*** Update File: src/app.py\n"
        "*** End Patch\n"
    )
    assert patch_paths(patch) == ["src/app.py", "src/main.py", "docs/new.md", "old.txt"]


def test_derived_agent_names_are_key_segments_from_the_whole_id() -> None:
    session = derived_agent_name("claude", "3f2a9c1e-8b7d")
    assert session == f"claude-{id_hash('3f2a9c1e-8b7d')}"
    assert derived_agent_name("claude", "3f2a9c1e-8b7d", "a7c3e9f1b2d4") == (
        f"{session}-{id_hash('a7c3e9f1b2d4')}"
    )
    odd = derived_agent_name("cursor", "a/b c:d+e-f.g_hij\udc80")
    assert check_agent_name(odd) == odd
    # Codex ids are UUIDv7: two sessions started seconds apart share their first 8 characters.
    first = derived_agent_name("codex", "019a1b2c-3d4e-7f00-8000-000000000001")
    second = derived_agent_name("codex", "019a1b2c-3d4f-7a11-9000-000000000002")
    assert first != second


def test_codex_patch_is_refused_whole_when_one_of_its_files_is_held(repo: Project) -> None:
    rival_holds(repo, "src/limits.py")
    reason = CODEX.denial(hook(repo, "codex", CODEX.fixture("PreToolUse", repo.root)))
    assert reason is not None
    assert "src/limits.py" in reason
    # src/app.py, granted before src/limits.py was found held, was given back.
    assert claims(repo) == [("src/limits.py", "rival", "adhoc/fix_parser")]


# --- every spelling of a held path is the held file (issue 13) -----------------------------


def _spelled(proto: Protocol, repo: Project, spelling: str, cwd: Path | None = None) -> Result:
    """Run the pre-tool event of `proto` editing `spelling` (relative to `cwd`, the repo by
    default), with fail-closed off."""
    payload = proto.fixture(proto.pre, repo.root)
    if cwd is not None:
        payload["cwd"] = str(cwd)
        if proto.agent == "cursor":
            payload["workspace_roots"] = [str(cwd)]
    proto.set_path(payload, spelling)
    return hook(repo, proto.agent, payload)


@by_agent
def test_a_glob_looking_directory_and_dot_dot_reach_the_held_file(
    proto: Protocol, repo: Project
) -> None:
    (repo.root / "app" / "[slug]").mkdir(parents=True)
    rival_holds(repo)
    for spelling in ("app/[slug]/../../src/app.py", "app/*/../../src/app.py", "src//./app.py"):
        relative = spelling if proto.agent == "codex" else str(repo.root / spelling)
        reason = proto.denial(_spelled(proto, repo, relative))
        assert reason is not None, spelling
        assert "rival" in reason


@by_agent
def test_a_symlink_with_glob_characters_reaches_the_held_file(
    proto: Protocol, repo: Project
) -> None:
    (repo.root / "x[1].py").symlink_to(repo.root / "src" / "app.py")
    rival_holds(repo)
    target = "x[1].py" if proto.agent == "codex" else str(repo.root / "x[1].py")
    reason = proto.denial(_spelled(proto, repo, target))
    assert reason is not None
    assert "src/app.py" in reason


@by_agent
def test_an_agent_outside_the_repository_editing_a_held_file_is_denied(
    proto: Protocol, repo: Project, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    rival_holds(repo)
    reason = proto.denial(_spelled(proto, repo, str(repo.root / "src" / "app.py"), elsewhere))
    assert reason is not None
    assert "rival" in reason


@by_agent
def test_a_file_named_like_a_glob_is_claimed_as_that_file_only(
    proto: Protocol, repo: Project
) -> None:
    page = repo.root / "app" / "[slug]" / "page.py"
    page.parent.mkdir(parents=True)
    page.write_text("x = 1\n")
    (repo.root / "app" / "s").mkdir()
    name = "app/[slug]/page.py" if proto.agent == "codex" else str(page)
    silent(_spelled(proto, repo, name))
    assert [c[0] for c in claims(repo)] == ["app/[[]slug]/page.py"]
    # It covers that file and not the files the name would match as a pattern.
    repo.ok("hooks", "pre-edit", "--file", "app/s/page.py", "--agent", "rival")
    refused = repo.swarm("hooks", "pre-edit", "--file", "app/[slug]/page.py", "--agent", "rival")
    assert refused.code == 3
    assert "app/[slug]/page.py is held" in refused.stderr


def test_a_path_with_a_control_character_is_denied(repo: Project) -> None:
    payload = CLAUDE.fixture("PreToolUse", repo.root)
    payload["tool_input"]["file_path"] = str(repo.root / "src" / "a\nb.py")
    reason = CLAUDE.denial(hook(repo, "claude", payload))
    assert reason is not None
    assert "control character" in reason
    assert claims(repo) == []


def test_a_patch_refused_for_a_later_path_keeps_no_claim_on_an_earlier_one(repo: Project) -> None:
    payload = CODEX.fixture("PreToolUse", repo.root)
    payload["tool_input"]["command"] = (
        "*** Begin Patch\n*** Update File: src/app.py\n@@\n-a\n+b\n"
        "*** Update File: src/a\x01b.py\n@@\n-a\n+b\n*** End Patch\n"
    )
    reason = CODEX.denial(hook(repo, "codex", payload))
    assert reason is not None
    assert "control character" in reason
    assert claims(repo) == []  # src/app.py was not claimed on the way


# --- Cursor's edit tools, byte order marks, stop-like events (issue 13) --------------------


@pytest.mark.parametrize(
    ("tool", "tool_input"),
    [
        ("StrReplace", {"path": "__FILE__", "old_string": "10", "new_string": "11"}),
        ("ApplyPatch", {"file_path": "__FILE__", "patch": "@@\n-limit = 10\n+limit = 11\n"}),
        (
            "ApplyPatch",
            {"patch": "*** Begin Patch\n*** Update File: src/app.py\n@@\n-a\n+b\n*** End Patch\n"},
        ),
        ("ApplyPatch", {"patch": "--- a/src/app.py\n+++ b/src/app.py\n@@ -1 +1 @@\n-a\n+b\n"}),
        ("Delete", {"target_file": "__FILE__"}),
    ],
)
def test_cursor_edit_tools_are_claimed(
    repo: Project, tool: str, tool_input: dict[str, str]
) -> None:
    rival_holds(repo)
    payload = CURSOR.fixture("preToolUse", repo.root, tool_name=tool)
    held = str(repo.root / "src" / "app.py")
    payload["tool_input"] = {k: v.replace("__FILE__", held) for k, v in tool_input.items()}
    reason = CURSOR.denial(hook(repo, "cursor", payload))
    assert reason is not None
    assert "rival" in reason


def test_init_cursor_matches_every_edit_tool(project: Project) -> None:
    project.ok("init", "--cursor")
    cursor = json.loads((project.root / ".cursor" / "hooks.json").read_text())
    matcher = cursor["hooks"]["preToolUse"][0]["matcher"].split("|")
    assert sorted(matcher) == sorted(
        ["Write", "Edit", "MultiEdit", "StrReplace", "ApplyPatch", "Delete"]
    )


@by_agent
def test_a_payload_starting_with_a_byte_order_mark_is_read(proto: Protocol, repo: Project) -> None:
    rival_holds(repo)
    text = "\ufeff" + json.dumps(proto.fixture(proto.pre, repo.root))
    for env in ({}, {"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "latin-1"}):
        reason = proto.denial(hook(repo, proto.agent, text, env=env))
        assert reason is not None
        assert "rival" in reason


STOP_LIKE = [(CLAUDE, "Stop"), (CLAUDE, "SubagentStop"), (CODEX, "Stop"), (GEMINI, "AfterAgent")]


@pytest.mark.parametrize(("proto", "event"), STOP_LIKE, ids=lambda x: getattr(x, "agent", x))
def test_fail_closed_never_answers_a_stop_like_event_with_continue(
    proto: Protocol, event: str, repo: Project, tmp_path: Path
) -> None:
    closed = {"SWARM_FAIL_CLOSED": "1"}
    # A failure acting on the event (the store is unreadable) ...
    bad = tmp_path / "bad.db"
    bad.write_text("not a database")
    payload = proto.fixture(event, repo.root)
    payload["cwd"] = str(tmp_path)
    env = {**closed, "SWARM_DB": str(bad), "SWARM_POST_TASK_ON_STOP": "1"}
    result = hook(repo, proto.agent, payload, env=env)
    assert result.code == 1, result
    assert_one_line(result.stderr, "swarm: error:")
    # ... and a payload that is not JSON but says which event it is.
    broken = json.dumps(payload)[:-1] + ", oops}"
    result = hook(repo, proto.agent, broken, env=closed)
    assert result.code == 1, result
    assert_one_line(result.stderr, "swarm: error:")


def test_cursor_stop_is_never_answered_with_continue(repo: Project) -> None:
    broken = json.dumps(CURSOR.fixture("stop", repo.root))[:-1] + " oops"
    result = hook(repo, "cursor", broken, env={"SWARM_FAIL_CLOSED": "1"})
    assert result.code == 1, result


def test_claims_show_a_glob_named_file_by_its_name_and_release_it(repo: Project) -> None:
    page = repo.root / "app" / "[slug]" / "page.py"
    page.parent.mkdir(parents=True)
    page.write_text("")
    silent(
        hook(
            repo,
            "claude",
            CLAUDE.fixture("PreToolUse", repo.root, tool_input={"file_path": str(page)}),
        )
    )
    listed = repo.ok("claims").stdout
    assert listed.startswith("app/[slug]/page.py ")
    released = repo.ok("claims", "release", "app/[slug]/page.py", "--force").stdout
    assert "released app/[slug]/page.py" in released
    assert claims(repo) == []


@by_agent
def test_post_tool_event_records_the_edit_however_it_is_spelled(
    proto: Protocol, repo: Project
) -> None:
    (repo.root / "app" / "[slug]").mkdir(parents=True)
    spelling = "app/[slug]/../../src/app.py"
    post = proto.fixture(proto.post, repo.root)
    proto.set_path(post, spelling if proto.agent == "codex" else str(repo.root / spelling))
    result = hook(repo, proto.agent, post)
    assert result.code == 0, result.stderr
    assert "src/app.py" in {e["path"] for e in edits(repo)}
