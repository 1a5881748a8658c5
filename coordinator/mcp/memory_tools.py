"""The `swarm mcp` tools over the shared memory: memory_get, memory_put, memory_list,
memory_history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from memory.errors import InvalidKey
from memory.exchange import MAX_INT
from memory.keys import RESERVED_ROOT
from memory.store import Store

if TYPE_CHECKING:
    from coordinator.mcp.server import Caller, SwarmMCP

Key = Annotated[str, Field(description="A key: segments joined by '/', e.g. phase7/api/decision.")]


def check_user_key(key: str) -> str:
    """Agents write their own keys; the coordinator's records under `swarm/` are written only
    through the task, claim and message tools."""
    if key.split("/", 1)[0] == RESERVED_ROOT:
        raise InvalidKey(
            f"{key}: the {RESERVED_ROOT}/ root is reserved for the coordinator's own records"
        )
    return key


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
        limit: Annotated[int, Field(description="At most this many keys.", ge=1, le=MAX_INT)] = 100,
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
            int | None,
            Field(description="Only changes at or after this revision.", ge=0, le=MAX_INT),
        ] = None,
    ) -> list[dict[str, Any]]:
        """Every recorded change of a key, oldest first (who wrote what, when): to see how a
        decision or a metric evolved."""
        return await swarm.call(lambda store: [c.to_json() for c in store.history(key, from_rev)])
