"""Which session `swarm report` and `session-restore` mean when none is named (pure)."""

from __future__ import annotations

import pytest

from coordinator.errors import NoSessionChosen
from coordinator.views.session_choice import SessionActivity, choose_session


def session(
    name: str, last_rev: int, *, unfinished: int = 0, agents: int = 0, tasks: int = 3
) -> SessionActivity:
    return SessionActivity(name, (f"{name}-phase",), tasks, unfinished, agents, last_rev)


def test_the_only_session_is_meant_finished_or_not() -> None:
    choice = choose_session([session("s", 4)])

    assert choice.session == "s"
    assert choice.note is None  # nothing to say: there was no choice


def test_of_several_the_latest_active_one_is_meant_and_said() -> None:
    sessions = [
        session("old", 3, unfinished=2),
        session("done", 40),  # written last, but finished and nobody in it
        session("live", 12, agents=1),
        session("recent", 20, unfinished=1),
    ]

    choice = choose_session(sessions)

    assert choice.session == "recent"
    assert choice.note == (
        "swarm: session recent, the latest active of 4 (pass --session-id for another)"
    )


def test_a_live_agent_makes_a_finished_session_active() -> None:
    assert choose_session([session("a", 5), session("b", 2, agents=1)]).session == "b"


def test_no_plan_means_no_session() -> None:
    with pytest.raises(NoSessionChosen, match="no plan is loaded"):
        choose_session([])


def test_several_and_none_active_lists_them_latest_first() -> None:
    with pytest.raises(NoSessionChosen) as raised:
        choose_session([session("a", 5), session("b", 9, tasks=1)])

    err = raised.value
    assert err.exit_code == 1
    assert err.message.startswith("2 sessions and none is active")
    assert "--session-id" in err.message
    assert err.details == (
        "b (phase b-phase): 0 of 1 tasks not finished, 0 live agents, last written at revision 9",
        "a (phase a-phase): 0 of 3 tasks not finished, 0 live agents, last written at revision 5",
    )


def test_two_active_sessions_written_last_together_are_not_guessed_between() -> None:
    with pytest.raises(NoSessionChosen, match="no single latest active one") as raised:
        choose_session([session("a", 7, unfinished=1), session("b", 7, agents=2)])

    assert len(raised.value.details) == 2
