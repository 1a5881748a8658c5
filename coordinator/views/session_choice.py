"""Which session an operator means when they name none (`swarm report`, `swarm
session-restore` without `--session-id`).

A session is the `session:` of one or more loaded plans (a plan without one is its own
phase's session). With one session, that one is meant. With several, the latest active
one is: a session is active while a live agent is registered in it or one of its tasks
is not finished (neither complete nor failed), and the latest is the one whose records
(its plans; its tasks' statuses, runs, progress and metrics; its live agents'
registrations; the summaries its agents' session-end wrote) were written last, at the
highest store revision. When no session is active, or two were written last in one
transaction, none is chosen: the error lists them all, one line each.

`choose_session` is that rule, a pure function of each session's `SessionActivity`;
`session_activity` reads those from the store and `resolve_session` does both.
"""

from __future__ import annotations

from collections.abc import Sequence

from coordinator import layout
from coordinator.agents.sessions import live_agents
from coordinator.errors import NoSessionChosen
from coordinator.tasks.start import plan_phases
from memory.store import Store
from memory.tuples import NamedTuple

#: Task statuses that end a task's work (a failed task waits for an operator, not an agent).
FINISHED = frozenset({"complete", "failed"})


class SessionActivity(NamedTuple):
    """What the choice of a session reads about one: its phases, its tasks not finished,
    its live agents, and the newest revision at which any of its records was written."""

    session: str
    phases: tuple[str, ...]
    tasks: int
    unfinished: int
    live_agents: int
    last_rev: int

    @property
    def active(self) -> bool:
        """Whether work goes on in the session: a live agent, or a task not finished."""
        return self.live_agents > 0 or self.unfinished > 0

    def line(self) -> str:
        """The session as one line of a list."""
        phases = f"phase{'s' if len(self.phases) > 1 else ''} {', '.join(self.phases)}"
        agents = "1 live agent" if self.live_agents == 1 else f"{self.live_agents} live agents"
        return (
            f"{self.session} ({phases}): {self.unfinished} of {self.tasks} tasks not "
            f"finished, {agents}, last written at revision {self.last_rev}"
        )


class SessionChoice(NamedTuple):
    """The session meant, and the line saying so when it was chosen among several."""

    session: str
    note: str | None = None


def choose_session(sessions: Sequence[SessionActivity]) -> SessionChoice:
    """The session meant when none is named: the only one, else the latest active one
    (pure). NoSessionChosen when there is none, or no single latest active one; its
    detail lines list the sessions."""
    if not sessions:
        raise NoSessionChosen("no plan is loaded, so there is no session; run `swarm plan load`")
    if len(sessions) == 1:
        return SessionChoice(sessions[0].session)
    ordered = sorted(sessions, key=lambda s: (-s.last_rev, s.session))
    active = [s for s in ordered if s.active]
    listing = tuple(s.line() for s in ordered)
    if not active:
        raise NoSessionChosen(
            f"{len(sessions)} sessions and none is active (no live agent, every task "
            "complete or failed); pass --session-id with one of them:",
            details=listing,
        )
    if len(active) > 1 and active[1].last_rev == active[0].last_rev:
        raise NoSessionChosen(
            f"{len(sessions)} sessions and no single latest active one; pass --session-id "
            "with one of them:",
            details=listing,
        )
    chosen = active[0].session
    note = (
        f"swarm: session {chosen}, the latest active of {len(sessions)} "
        "(pass --session-id for another)"
    )
    return SessionChoice(chosen, note)


def session_activity(store: Store) -> list[SessionActivity]:
    """Each session of the loaded plans with its tasks, live agents and last revision,
    read in one read transaction."""
    with store.reading():
        headers = {r.key[len(layout.PLANS) :]: r for r in store.list_prefix(layout.PLANS)}
        plans = plan_phases(store)
        agents = {a.name: a.session for a in live_agents(store)}
        agent_revs = {
            r.key[len(layout.AGENTS) :]: r.mod_rev for r in store.list_prefix(layout.AGENTS)
        }
        # What session-end wrote, under swarm/sessions/<session>/<agent>.
        summary_revs: dict[str, int] = {}
        for record in store.list_prefix(layout.SESSIONS):
            name = record.key[len(layout.SESSIONS) :].rpartition("/")[0]
            summary_revs[name] = max(summary_revs.get(name, 0), record.mod_rev)
        by_session: dict[str, list[str]] = {}
        for phase, header in plans.items():
            by_session.setdefault(str(header.get("session") or phase), []).append(phase)
        sessions = []
        for session, phases in sorted(by_session.items()):
            tasks = unfinished = 0
            last = 0
            for phase in phases:
                names = [str(n) for n in plans[phase].get("tasks") or []]
                records = store.list_prefix(f"{phase}/")
                records += store.list_prefix(f"{layout.TASKS}{phase}/")
                statuses = {r.key: r.value for r in records}
                tasks += len(names)
                unfinished += sum(
                    statuses.get(layout.status_key(f"{phase}/{n}")) not in FINISHED for n in names
                )
                last = max([last, headers[phase].mod_rev, *(r.mod_rev for r in records)])
            members = [name for name, of in agents.items() if of == session]
            last = max([last, summary_revs.get(session, 0), *(agent_revs[m] for m in members)])
            sessions.append(
                SessionActivity(
                    session, tuple(sorted(phases)), tasks, unfinished, len(members), last
                )
            )
    return sessions


def resolve_session(store: Store, session: str | None) -> SessionChoice:
    """The session named, else the one `choose_session` picks from the store."""
    if session is not None:
        return SessionChoice(session)
    return choose_session(session_activity(store))
