"""`swarm mcp`: the swarm as MCP tools and resources, for agents that would rather ask than
be checked.

Hooks enforce at fixed moments; these tools let an agent act when it chooses (claim files
before a refactor, read a decision another agent stored, report progress, message another
agent, find its next task). Every tool makes the same library call the matching hook makes,
so a refusal is the hook's refusal: the tool result is an error whose text is the one-line
reason `swarm hooks` prints (with the detail lines under it).

It speaks for `SWARM_AGENT_ID` or `--agent`, else for the agent its own client's hooks
registered (found from the client process, on each call: coordinator.identity), so that
the hooks see its claims as the agent's own.

Resources (the dashboard, the event log, each plan) are re-read whenever the store changes
(the same WAL watcher the daemon wakes on), and a subscribed client is told when one's
content changed: on `subscriptions/listen` streams (2026-07-28 clients) and through
`resources/subscribe` (earlier clients, which is what coding agents speak today).

Built on the official SDK (`mcp`); imported only by `swarm mcp`, never on the hook path.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, TypeVar

import anyio
import anyio.to_thread
import mcp.types as mcp_types
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.server.session import ServerSession
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ResourcesListChanged,
    ResourceUpdated,
)
from pydantic import Field

from memory.errors import InvalidKey, SwarmError
from memory.keys import RESERVED_ROOT
from memory.store import Store

if TYPE_CHECKING:
    from coordinator.state import Agent

T = TypeVar("T")

DASHBOARD_URI = "swarm://dashboard"
EVENTS_URI = "swarm://events"
PLANS_URI = "swarm://plans"
PLAN_URI_PREFIX = "swarm://plans/"
#: How many of the newest events the event-log resource holds.
EVENT_LOG_SIZE = 50
#: Seconds between the watcher's backstop polls when the store is quiet.
WATCH_POLL = 5.0

INSTRUCTIONS = """\
You are one of several agents working on this repository at once; these tools are how you
coordinate with the others through the shared swarm memory.
- Before editing files another agent may touch, claim them (claim_files); release them
  (release_files) when done. A refusal names the agent holding the file: work on something
  else, message it (send_message), or claim with wait_seconds to queue.
- task_next lists the tasks you may start; task_start, task_progress and task_finish report
  your work on one (task_finish releases that task's claims and unblocks dependent tasks).
- memory_get / memory_put / memory_list read and write decisions and results other agents
  can read; memory_put with if_version updates a key only if nobody changed it meanwhile.
- read_inbox shows messages for you; swarm_status shows the whole board.
"""


def refusal_text(err: SwarmError) -> str:
    """What a tool error says: the one-line reason the hooks print, then its detail lines."""
    return "\n".join([err.message, *(f"  - {line}" for line in err.details)])


def check_user_key(key: str) -> str:
    """Agents write their own keys; the coordinator's records under `swarm/` are written only
    through the task, claim and message tools."""
    if key.split("/", 1)[0] == RESERVED_ROOT:
        raise InvalidKey(
            f"{key}: the {RESERVED_ROOT}/ root is reserved for the coordinator's own records"
        )
    return key


# --- what the resources hold ---------------------------------------------------------------


def plan_uri(phase: str) -> str:
    """The resource of one loaded plan."""
    return f"{PLAN_URI_PREFIX}{phase}"


def dashboard_text(store: Store) -> str:
    """The dashboard, as `swarm status` prints it (Markdown)."""
    from coordinator.dashboard import render_dashboard
    from coordinator.views import session_dashboard_view

    return render_dashboard(session_dashboard_view(store, None))


def events_json(store: Store) -> str:
    """The newest events of the log, oldest first, as JSON."""
    from coordinator import layout
    from coordinator.state import Event

    records = store.last_in_prefix(layout.EVENTS, EVENT_LOG_SIZE)
    return _dump([Event.from_json(r.value).to_json() for r in records])


def plans_json(store: Store) -> str:
    """Every loaded plan's header (phase, session, tasks) with its resource URI, as JSON."""
    from coordinator.tasks import plan_phases

    return _dump(
        [{"uri": plan_uri(phase), **header} for phase, header in sorted(plan_phases(store).items())]
    )


def plan_json(store: Store, phase: str) -> str:
    """One plan: its header and every task's status, agent, waits and gates, as JSON."""
    from coordinator.tasks import plan_phases
    from coordinator.views import task_rows

    header = plan_phases(store).get(phase)
    if header is None:
        raise SwarmError(f"no plan is loaded for phase {phase!r}")
    return _dump({"phase": phase, "plan": header, "tasks": task_rows(store, phase)})


def resource_contents(store: Store) -> dict[str, str]:
    """The content of every resource the server has now, by URI."""
    from coordinator.tasks import plan_phases

    contents = {
        DASHBOARD_URI: dashboard_text(store),
        EVENTS_URI: events_json(store),
        PLANS_URI: plans_json(store),
    }
    for phase in plan_phases(store):
        contents[plan_uri(phase)] = plan_json(store, phase)
    return contents


def changed_uris(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """The URIs whose content digest differs between two snapshots, or that appeared or
    went away (pure)."""
    return sorted(uri for uri in {*before, *after} if before.get(uri) != after.get(uri))


def digest(text: str) -> str:
    """A short fingerprint of a resource's content."""
    return hashlib.sha256(text.encode()).hexdigest()


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


# --- the server -------------------------------------------------------------------------------


NO_IDENTITY = (
    "an agent name is required: no hook of this server's client has registered its session "
    "yet; set SWARM_AGENT_ID or start `swarm mcp --agent NAME`"
)


class Caller(NamedTuple):
    """Who a tool call is made for: the agent, and the session its tasks are started in."""

    agent: str | None
    session: str | None

    def name(self) -> str:
        """The agent's name; the error a model reads when the server does not know it."""
        if not self.agent:
            raise SwarmError(NO_IDENTITY)
        return self.agent


@dataclass
class SwarmMCP:
    """One `swarm mcp` process: the store it serves, the agent it speaks for (named, or
    found from its client's hooks), and the clients subscribed (the 2025 way) to each
    resource."""

    db_path: Path
    agent: str | None
    session: str | None = None
    bus: InMemorySubscriptionBus = field(default_factory=InMemorySubscriptionBus)
    legacy_subscribers: dict[str, ServerSession] = field(default_factory=dict)
    #: The agent last found from the client's hooks.
    found: Agent | None = None

    # --- calling the library ---------------------------------------------------------------

    def caller(self, store: Store) -> Caller:
        """`SWARM_AGENT_ID` or `--agent`, else the agent whose client process (recorded by
        its hooks) is an ancestor of this server, looked up on every call: the model may
        call a tool before the session's first hook has run. A client whose agent went away
        (ended, or expired while idle) keeps the name last found."""
        if self.agent:
            return Caller(self.agent, self.session)
        from coordinator.identity import agent_for, own_ancestors
        from coordinator.sessions import live_agents

        self.found = agent_for(own_ancestors(), live_agents(store)) or self.found
        if self.found is None:
            return Caller(None, self.session)
        return Caller(self.found.name, self.session or self.found.session)

    def on_store(self, work: Callable[[Store], T]) -> T:
        """Run `work` on a freshly opened store (as a hook does); a swarm error becomes the
        tool error a model reads."""
        try:
            with Store.open(self.db_path, actor=self.agent) as store:
                return work(store)
        except SwarmError as err:
            raise ToolError(refusal_text(err)) from None

    async def call(self, work: Callable[[Store], T]) -> T:
        """`on_store` in a worker thread: store calls block (a claim may wait), the server
        must not."""
        return await anyio.to_thread.run_sync(self.on_store, work)

    async def act(self, work: Callable[[Store, Caller], T]) -> T:
        """`call` for work done on the agent's behalf: `work` is told who the caller is,
        and the store records the writes as the agent's."""

        def as_caller(store: Store) -> T:
            caller = self.caller(store)
            store.actor = caller.agent
            return work(store, caller)

        return await self.call(as_caller)

    async def read(self, render: Callable[[Store], str]) -> str:
        """A resource's content; a swarm error becomes a resource error."""
        try:
            return await self.call(render)
        except ToolError as err:
            raise ResourceError(str(err)) from None

    def repo_root(self) -> Path:
        """The repository the store coordinates; relative paths are taken from here."""
        from coordinator.project import project_root_for

        return project_root_for(self.db_path)

    def task_for_claims(self, store: Store, agent: str, task: str | None) -> str | None:
        """The task claims are made for: the one named, else `SWARM_TASK_ID`, else the task
        the agent has in progress (as the edit hooks decide)."""
        from coordinator.layout import qualify_task
        from coordinator.liveness import current_task

        named = task or os.environ.get("SWARM_TASK_ID")
        return qualify_task(store, named) if named else current_task(store, agent)

    # --- change notifications --------------------------------------------------------------

    async def subscribe(
        self, ctx: ServerRequestContext[Any, Any], params: mcp_types.SubscribeRequestParams
    ) -> mcp_types.EmptyResult:
        """`resources/subscribe` (clients before 2026-07-28): remember who to tell."""
        self.legacy_subscribers[str(params.uri)] = ctx.session
        return mcp_types.EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: mcp_types.UnsubscribeRequestParams
    ) -> mcp_types.EmptyResult:
        """`resources/unsubscribe`."""
        self.legacy_subscribers.pop(str(params.uri), None)
        return mcp_types.EmptyResult()

    async def announce(self, uris: list[str]) -> None:
        """Tell subscribers of each URI that its content changed, on both kinds of channel."""
        for uri in uris:
            await self.bus.publish(ResourceUpdated(uri=uri))
            session = self.legacy_subscribers.get(uri)
            if session is not None:
                try:
                    await session.send_resource_updated(uri)
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    self.legacy_subscribers.pop(uri, None)  # the client went away

    def snapshot(self, store: Store) -> tuple[int, dict[str, str]]:
        """The store's revision and each resource's digest."""
        revision = store.revision()
        return revision, {uri: digest(text) for uri, text in resource_contents(store).items()}

    async def watch(self, *, poll: float = WATCH_POLL) -> None:
        """Re-read the resources whenever the store changes and announce those that did;
        runs for the server's lifetime."""
        from memory.watch import awakeups

        revision, digests = -1, dict[str, str]()
        async for _ in awakeups(self.db_path, poll):
            try:
                current = await self.call(lambda store: store.revision())
                if current == revision:
                    continue  # a backstop poll with nothing new
                revision, after = await self.call(self.snapshot)
            except ToolError:
                continue  # the store is busy (or briefly unreadable): the next wake-up retries
            if digests:
                if set(after) != set(digests):
                    await self.bus.publish(ResourcesListChanged())  # a plan came or went
                await self.announce(changed_uris(digests, after))
            digests = after

    @asynccontextmanager
    async def lifespan(self, _server: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
        """Run the watcher beside the server; stop it with the server."""
        async with anyio.create_task_group() as group:
            group.start_soon(self.watch)
            try:
                yield {}
            finally:
                group.cancel_scope.cancel()


def build_server(db_path: Path, agent: str | None, session: str | None = None) -> MCPServer[Any]:
    """The MCP server for one agent on one store: its tools and resources."""
    swarm = SwarmMCP(db_path, agent, session)
    server: MCPServer[Any] = MCPServer(
        "swarm-coordinator",
        instructions=INSTRUCTIONS,
        subscriptions=swarm.bus,
        lifespan=swarm.lifespan,
        log_level="WARNING",
    )
    # MCPServer has no public hook for the 2025 `resources/subscribe` pair yet; the SDK's
    # migration guide registers them on its low-level server this way.
    lowlevel = server._lowlevel_server
    lowlevel.add_request_handler(
        "resources/subscribe", mcp_types.SubscribeRequestParams, swarm.subscribe
    )
    lowlevel.add_request_handler(
        "resources/unsubscribe", mcp_types.UnsubscribeRequestParams, swarm.unsubscribe
    )
    add_memory_tools(server, swarm)
    add_task_tools(server, swarm)
    add_claim_tools(server, swarm)
    add_message_tools(server, swarm)
    add_resources(server, swarm)
    return server


# --- tools ------------------------------------------------------------------------------------

Key = Annotated[str, Field(description="A key: segments joined by '/', e.g. phase7/api/decision.")]
TaskRef = Annotated[str, Field(description="The task's id: TASK, or PHASE/TASK.")]
Paths = Annotated[
    list[str],
    Field(
        description="Files to claim, relative to the repository root (or absolute); a glob "
        "such as src/api/** claims every file it matches.",
        min_length=1,
    ),
]


def add_memory_tools(server: MCPServer[Any], swarm: SwarmMCP) -> None:
    """memory_get, memory_put, memory_list, memory_history."""

    @server.tool()
    async def memory_get(key: Key) -> dict[str, Any]:
        """Read one key of the shared memory: a decision, result or status another agent
        stored. Returns its value and version (pass the version to memory_put's if_version
        to update it safely). An absent key is an error."""
        return await swarm.call(lambda store: store.require(key).to_json())

    @server.tool()
    async def memory_put(
        key: Key,
        value: Annotated[
            Any, Field(description="Any JSON value: object, list, string, number, bool.")
        ],
        if_version: Annotated[
            int | None,
            Field(
                description="Write only if the key's version is still this (0: only if the "
                "key does not exist yet); refused if another agent changed it meanwhile."
            ),
        ] = None,
        ttl_seconds: Annotated[
            float | None,
            Field(description="Let the key vanish after this many seconds.", gt=0),
        ] = None,
    ) -> dict[str, Any]:
        """Store a JSON value under a key for other agents to read (decisions, findings,
        results). Use if_version to update a key someone else may also be updating. Keys
        under swarm/ belong to the coordinator and are refused."""

        def put(store: Store, _caller: Caller) -> dict[str, Any]:
            check_user_key(key)
            return store.put(key, value, ttl=ttl_seconds, if_version=if_version).to_json()

        return await swarm.act(put)

    @server.tool()
    async def memory_list(
        prefix: Annotated[
            str, Field(description="Only keys starting with this, e.g. phase7/ (default: all).")
        ] = "",
        limit: Annotated[int, Field(description="At most this many keys.", ge=1)] = 100,
    ) -> list[dict[str, Any]]:
        """List keys (with values and versions) under a prefix, in key order: to see what
        other agents have stored about a phase or a topic."""
        return await swarm.call(
            lambda store: [r.to_json() for r in store.list_prefix(prefix, limit)]
        )

    @server.tool()
    async def memory_history(
        key: Key,
        from_rev: Annotated[
            int | None, Field(description="Only changes at or after this revision.", ge=0)
        ] = None,
    ) -> list[dict[str, Any]]:
        """Every recorded change of a key, oldest first (who wrote what, when): to see how a
        decision or a metric evolved."""
        return await swarm.call(lambda store: [c.to_json() for c in store.history(key, from_rev)])


def add_task_tools(server: MCPServer[Any], swarm: SwarmMCP) -> None:
    """task_next, task_start, task_progress, task_finish."""

    @server.tool()
    async def task_next(
        include_others: Annotated[
            bool, Field(description="Also list ready tasks planned for other agents.")
        ] = False,
    ) -> list[dict[str, Any]]:
        """The tasks you may start now (their requirements are complete and nobody runs
        them), best first: by priority, then plan order. Call it when you are looking for
        work; then task_start the first one."""
        from coordinator.next_tasks import ready_tasks

        return await swarm.act(
            lambda store, caller: [
                t.to_json() for t in ready_tasks(store, caller.agent, include_others=include_others)
            ]
        )

    @server.tool()
    async def task_start(task_id: TaskRef) -> dict[str, Any]:
        """Start a task before working on it: it becomes in_progress for you. Refused (with
        what it waits on) if it is not ready or another agent runs it. Starting a task you
        already run is harmless."""
        from coordinator.tasks import start_task

        def start(store: Store, caller: Caller) -> dict[str, Any]:
            started = start_task(store, task_id, caller.name(), caller.session)
            return started._asdict()

        return await swarm.act(start)

    @server.tool()
    async def task_progress(
        task_id: TaskRef,
        done: Annotated[
            int | None, Field(description="Units of work done (with total).", ge=0)
        ] = None,
        total: Annotated[int | None, Field(description="Units of work in all.", ge=0)] = None,
        blocker: Annotated[str | None, Field(description="What blocks you, if anything.")] = None,
        milestone: Annotated[str | None, Field(description="A milestone just reached.")] = None,
        deliverables_done: Annotated[
            list[str] | None,
            Field(description="Deliverables of the task's plan checklist you just finished."),
        ] = None,
        metrics: Annotated[
            dict[str, Any] | None,
            Field(
                description='Numbers measured so far, e.g. {"clippy_warnings": 12}; each is '
                "stored as the key <phase>/<task>/<name>, where gates read it."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Report progress on a task you run (done out of total, deliverables ticked off the
        plan's checklist, metrics, a milestone, a blocker), so that the dashboard, the gates
        and other agents see where it stands."""
        from coordinator.tasks import report_progress

        def report(store: Store, caller: Caller) -> dict[str, Any]:
            progress = report_progress(
                store,
                task_id,
                done,
                total,
                blocker,
                milestone,
                caller.name(),
                metrics=metrics,
                ticked=deliverables_done or (),
            )
            return {**progress.to_json(), "percent": progress.percent}

        return await swarm.act(report)

    @server.tool()
    async def task_finish(
        task_id: TaskRef,
        status: Annotated[
            Literal["complete", "failed"], Field(description="How the task ended.")
        ] = "complete",
        summary: Annotated[str | None, Field(description="One line on what was done.")] = None,
        metrics: Annotated[
            dict[str, Any] | None,
            Field(description='Numbers the task produced, e.g. {"tests_passing": 640}.'),
        ] = None,
    ) -> dict[str, Any]:
        """Finish a task you started: record its outcome, summary and metrics, release the
        files you claimed for it, and let the tasks that depend on it start. Refused if
        another agent runs it, or (status complete) if its gates fail: the error lists each
        failed gate."""
        from coordinator.claims import release_ops
        from coordinator.tasks import finish_task, refuse_gate_failures

        def finish(store: Store, caller: Caller) -> dict[str, Any]:
            done = finish_task(store, task_id, status, caller.name(), summary, metrics, release_ops)
            refuse_gate_failures(done)
            return {
                "task": done.task_id,
                "status": done.status,
                "already": done.already,
                "receipt": done.receipt,
            }

        return await swarm.act(finish)


def add_claim_tools(server: MCPServer[Any], swarm: SwarmMCP) -> None:
    """claim_files, release_files, who_holds."""

    @server.tool()
    async def claim_files(
        paths: Paths,
        mode: Annotated[
            Literal["exclusive", "shared"],
            Field(description="exclusive (default) to edit; shared to read while others read."),
        ] = "exclusive",
        wait_seconds: Annotated[
            float | None,
            Field(
                description="If a file is held, queue for it and wait up to this long "
                "(default: refuse at once).",
                ge=0,
            ),
        ] = None,
        task: Annotated[
            str | None,
            Field(description="The task the claim is for (default: the task you run)."),
        ] = None,
    ) -> list[dict[str, Any]]:
        """Claim files before editing them, so that no other agent edits them meanwhile:
        all or nothing. Refused naming the agent (and task) holding a file; then work on
        something else, message that agent, or claim again with wait_seconds. Your claims
        are released by task_finish or release_files."""
        from coordinator.claims import claim_paths

        def claim(store: Store, caller: Caller) -> list[dict[str, Any]]:
            agent = caller.name()
            root = swarm.repo_root()
            wanted = list(dict.fromkeys(normalize(root, p) for p in paths))
            grants = claim_paths(
                store,
                wanted,
                agent,
                task=swarm.task_for_claims(store, agent, task),
                mode=mode,
                wait=wait_seconds,
            )
            return [{**g.claim.to_json(), "renewed": g.renewed} for g in grants]

        return await swarm.act(claim)

    @server.tool()
    async def release_files(
        paths: Annotated[
            list[str] | None,
            Field(description="The claimed paths or globs to release (default: all yours)."),
        ] = None,
    ) -> list[dict[str, Any]]:
        """Release your claims on files you no longer need to edit, so that waiting agents
        get them; without paths, release every claim you hold."""
        from coordinator.claims import release_claims

        def release(store: Store, caller: Caller) -> list[dict[str, Any]]:
            agent = caller.name()
            if not paths:
                chosen = release_claims(store, path=None, agent=agent, actor=agent, force=False)
                return [c.to_json() for c in chosen]
            root = swarm.repo_root()
            released = []
            for raw in dict.fromkeys(paths):
                path = normalize(root, raw)
                released += release_claims(store, path=path, agent=agent, actor=agent, force=False)
            return [c.to_json() for c in released]

        return await swarm.act(release)

    @server.tool()
    async def who_holds(
        path: Annotated[str, Field(description="A file (or glob), relative to the repository.")],
    ) -> dict[str, Any]:
        """Who holds claims on a file or on globs overlapping it, and who is queued for it:
        to check before planning an edit."""
        from coordinator.claims import holders_of, list_claims, queued_requests
        from coordinator.globs import globs_overlap

        def holders(store: Store) -> dict[str, Any]:
            root = swarm.repo_root()
            wanted = normalize(root, path)
            queue = [
                {k: v for k, v in r._asdict().items() if k != "key"}
                for r in queued_requests(store)
                if r.path == wanted or globs_overlap(r.path, wanted)
            ]
            claims = [c.to_json() for c in holders_of(list_claims(store), wanted)]
            return {"path": wanted, "claims": claims, "queue": queue}

        return await swarm.call(holders)


def normalize(root: Path, path: str) -> str:
    """A path an agent names, relative to the repository root (see `normalize_path`)."""
    from coordinator.claims import normalize_path

    return normalize_path(root, path, cwd=root)


def add_message_tools(server: MCPServer[Any], swarm: SwarmMCP) -> None:
    """send_message, read_inbox, swarm_status."""

    @server.tool()
    async def send_message(
        message: Annotated[str, Field(description="What to tell them.")],
        to: Annotated[str | None, Field(description="One agent, by name.")] = None,
        task: Annotated[
            str | None, Field(description="Instead of `to`: the agent running this task.")
        ] = None,
        level: Annotated[Literal["info", "warn", "error"], Field(description="Urgency.")] = "info",
    ) -> dict[str, Any]:
        """Send a message to another agent's inbox (by name, or whoever runs a task), or to
        every live agent when neither is given: to ask for a file, warn of a change, or hand
        over work."""
        from coordinator.sessions import notify

        if to is not None and task is not None:
            raise ToolError("give `to` or `task`, not both")

        def send(store: Store, caller: Caller) -> dict[str, Any]:
            recipients = notify(store, message, to=to, task=task, level=level, sender=caller.agent)
            return {"recipients": recipients}

        return await swarm.act(send)

    @server.tool()
    async def read_inbox(
        include_read: Annotated[
            bool, Field(description="Also show messages already read.")
        ] = False,
        mark_read: Annotated[bool, Field(description="Mark the shown messages read.")] = True,
    ) -> list[dict[str, Any]]:
        """Messages other agents and the coordinator sent you (claims granted to your wait,
        requests, warnings), oldest first; shown messages are marked read."""
        from coordinator.sessions import ack, inbox

        def read(store: Store, caller: Caller) -> list[dict[str, Any]]:
            items = inbox(store, caller.name(), unread_only=not include_read)
            if mark_read:
                ack(store, [i for i in items if not i.note.read])
            return [i.note.to_json() for i in items]

        return await swarm.act(read)

    @server.tool()
    async def swarm_status(
        session_id: Annotated[
            str | None, Field(description="Only this session's plans (default: all).")
        ] = None,
    ) -> dict[str, Any]:
        """The whole board as `swarm status` shows it: progress by phase, every task's status
        and agent, gates, claims, conflicts, escalations and the latest events."""
        from coordinator.views import session_dashboard_view

        return await swarm.call(lambda store: session_dashboard_view(store, session_id))


# --- resources --------------------------------------------------------------------------------


def add_resources(server: MCPServer[Any], swarm: SwarmMCP) -> None:
    """The dashboard, the event log, the plans and each plan."""

    @server.resource(DASHBOARD_URI, name="dashboard", mime_type="text/markdown")
    async def dashboard() -> str:
        """The dashboard: progress, tasks, gates, claims, conflicts, escalations, events."""
        return await swarm.read(dashboard_text)

    @server.resource(EVENTS_URI, name="events", mime_type="application/json")
    async def events() -> str:
        """The newest events of the swarm's event log, oldest first."""
        return await swarm.read(events_json)

    @server.resource(PLANS_URI, name="plans", mime_type="application/json")
    async def plans() -> str:
        """Every loaded plan, with the URI of each."""
        return await swarm.read(plans_json)

    @server.resource(f"{PLAN_URI_PREFIX}{{phase}}", name="plan", mime_type="application/json")
    async def plan(phase: str) -> str:
        """One plan: every task's status, agent, what it waits on and its gates."""
        return await swarm.read(lambda store: plan_json(store, phase))


def agent_identity(flag: str | None, environ: Mapping[str, str]) -> str | None:
    """The agent a server is told it speaks for: `SWARM_AGENT_ID`, else the name given at
    start-up; None when neither is (it is then found from its client's hooks, see
    `SwarmMCP.caller`)."""
    from coordinator.claims import check_agent_name

    name = environ.get("SWARM_AGENT_ID") or flag
    return check_agent_name(name) if name else None


def serve_stdio(db_path: Path, agent: str | None, session: str | None) -> None:
    """Serve over stdin/stdout until the client closes them."""
    if not db_path.is_file():
        from memory.errors import NoStore

        raise NoStore(f"no swarm store at {db_path}; run `swarm init` first")
    build_server(db_path, agent, session).run("stdio")
