"""Building and running the `swarm mcp` server: the process's state (`SwarmMCP`), the agent
it speaks for (`Caller`, `agent_identity`), library calls whose swarm errors become tool
errors, and the watcher that tells subscribed clients when a resource changed."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

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

from coordinator.agents.liveness import renew_agent
from coordinator.mcp.claim_tools import add_claim_tools
from coordinator.mcp.memory_tools import add_memory_tools
from coordinator.mcp.message_tools import add_message_tools
from coordinator.mcp.resources import add_resources, changed_uris, digest, resource_contents
from coordinator.mcp.task_tools import add_task_tools
from memory.backends import open_store
from memory.errors import SwarmError
from memory.store import Store

if TYPE_CHECKING:
    from coordinator.state import Agent

T = TypeVar("T")

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
        from coordinator.agents.identity import agent_for, own_ancestors
        from coordinator.agents.sessions import live_agents

        self.found = agent_for(own_ancestors(), live_agents(store)) or self.found
        if self.found is None:
            return Caller(None, self.session)
        return Caller(self.found.name, self.session or self.found.session)

    def on_store(self, work: Callable[[Store], T]) -> T:
        """Run `work` on a freshly opened store (as a hook does); a swarm error becomes the
        tool error a model reads."""
        try:
            with open_store(self.db_path, actor=self.agent) as store:
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
            if caller.agent:
                # A tool call is a sign of life, like a hook call: an agent that works
                # through MCP alone must not be taken for gone and lose its claims.
                store.txn([], renew_agent(store, caller.agent))
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
        from coordinator.agents.liveness import current_task
        from coordinator.layout import qualify_task

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


def agent_identity(flag: str | None, environ: Mapping[str, str]) -> str | None:
    """The agent a server is told it speaks for: `SWARM_AGENT_ID`, else the name given at
    start-up; None when neither is (it is then found from its client's hooks, see
    `SwarmMCP.caller`)."""
    from coordinator.claims.grants import check_agent_name

    name = environ.get("SWARM_AGENT_ID") or flag
    return check_agent_name(name) if name else None


def serve_stdio(db_path: Path, agent: str | None, session: str | None) -> None:
    """Serve over stdin/stdout until the client closes them."""
    if not db_path.is_file():
        from memory.errors import NoStore

        raise NoStore(f"no swarm store at {db_path}; run `swarm init` first")
    build_server(db_path, agent, session).run("stdio")
