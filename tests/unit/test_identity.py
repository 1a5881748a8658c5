"""Which agent an MCP server speaks for: the client of a hook, the agent of an ancestor, and
/proc read from a directory laid out like it (no real processes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from coordinator.agents.identity import (
    ProcessId,
    ProcessInfo,
    agent_for,
    ancestry,
    client_of,
    read_process,
)
from coordinator.state import Agent

CLAUDE = ProcessId(4200, 9100)
OTHER = ProcessId(5300, 9800)


def proc_info(pid: int, started: int, parent: int, name: str) -> ProcessInfo:
    return ProcessInfo(ProcessId(pid, started), parent, name)


def agent(name: str, client: ProcessId | None, started_at: float = 1.0) -> Agent:
    return Agent(
        name,
        session=f"s-{name}",
        started_at=started_at,
        client_pid=None if client is None else client.pid,
        client_started=None if client is None else client.started,
    )


def test_the_client_of_a_hook_is_its_nearest_ancestor_that_is_not_a_shell() -> None:
    run_by_shells = [
        proc_info(4301, 9300, 4300, "sh"),
        proc_info(4300, 9290, 4200, "bash"),
        proc_info(4200, 9100, 4100, "claude"),
        proc_info(4100, 9000, 1, "bash"),
    ]
    assert client_of(run_by_shells) == CLAUDE
    assert client_of([proc_info(4200, 9100, 4100, "node"), *run_by_shells]) == CLAUDE
    assert client_of([proc_info(1, 5, 0, "sh")]) is None
    assert client_of([]) is None


def test_the_client_is_found_without_reading_past_it() -> None:
    def tree() -> Iterator[ProcessInfo]:
        yield proc_info(4200, 9100, 4100, "codex")
        raise AssertionError("read past the client")

    assert client_of(tree()) == CLAUDE


def test_an_mcp_server_speaks_for_the_agent_whose_client_is_its_ancestor() -> None:
    agents = [agent("claude-aaa", OTHER), agent("claude-bbb", CLAUDE), agent("scripted", None)]
    assert agent_for([ProcessId(4400, 9500), CLAUDE, ProcessId(4100, 9000)], agents) == agents[1]
    assert agent_for([ProcessId(4400, 9500)], agents) is None
    assert agent_for([], agents) is None


def test_a_reused_pid_is_not_the_client() -> None:
    # The client died and its pid went to another process: same pid, later start.
    agents = [agent("claude-bbb", CLAUDE)]
    assert agent_for([ProcessId(CLAUDE.pid, CLAUDE.started + 1)], agents) is None


def test_the_nearest_client_wins_then_the_latest_registration() -> None:
    # A client run from within another client's session (a shell tool starting `claude`).
    outer = agent("claude-outer", OTHER, started_at=1.0)
    inner = agent("claude-inner", CLAUDE, started_at=0.5)
    assert agent_for([CLAUDE, OTHER], [outer, inner]) == inner
    # One client process, two sessions (cleared or resumed): the later one.
    cleared = agent("claude-old", CLAUDE, started_at=1.0)
    fresh = agent("claude-new", CLAUDE, started_at=2.0)
    assert agent_for([CLAUDE], [fresh, cleared]) == fresh
    assert agent_for([CLAUDE], [cleared, fresh]) == fresh


def write_stat(proc: Path, pid: int, name: str, parent: int, started: int) -> None:
    fields = ["S", str(parent), *["0"] * 17, str(started), "0"]
    (proc / str(pid)).mkdir(parents=True)
    (proc / str(pid) / "stat").write_text(f"{pid} ({name}) {' '.join(fields)}\n")


def test_proc_is_read_up_to_init(tmp_path: Path) -> None:
    write_stat(tmp_path, 30, "swarm", 20, 700)
    write_stat(tmp_path, 20, "sh", 10, 600)
    write_stat(tmp_path, 10, "a (weird) name", 1, 500)
    write_stat(tmp_path, 1, "init", 0, 1)
    assert read_process(10, tmp_path) == proc_info(10, 500, 1, "a (weird) name")
    assert read_process(99, tmp_path) is None
    assert [p.id.pid for p in ancestry(30, tmp_path)] == [20, 10, 1]
    assert client_of(ancestry(30, tmp_path)) == ProcessId(10, 500)


def test_no_proc_means_no_ancestors(tmp_path: Path) -> None:
    assert list(ancestry(30, tmp_path)) == []
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "stat").write_text("7 (x) S\n")
    assert read_process(7, tmp_path) is None
