"""The `swarm mcp` tools for file claims: claim_files, release_files, who_holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from memory.store import Store

if TYPE_CHECKING:
    from coordinator.mcp.server import Caller, SwarmMCP

Paths = Annotated[
    list[str],
    Field(
        description="Files to claim, relative to the repository root (or absolute); a glob "
        "such as src/api/** claims every file it matches.",
        min_length=1,
    ),
]


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
        from coordinator.claims.queue import claim_paths

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
        from coordinator.claims.grants import release_claims

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
        from coordinator.claims.globs import globs_overlap
        from coordinator.claims.grants import list_claims, queued_requests

        def holders(store: Store) -> dict[str, Any]:
            root = swarm.repo_root()
            wanted = normalize(root, path)
            queue = [
                {k: v for k, v in r._asdict().items() if k != "key"}
                for r in queued_requests(store)
                if r.path == wanted or globs_overlap(r.path, wanted)
            ]
            # `wanted` may be a glob: a claim counts when the two can name one file.
            claims = [
                c.to_json()
                for c in list_claims(store)
                if c.path == wanted or globs_overlap(c.path, wanted)
            ]
            return {"path": wanted, "claims": claims, "queue": queue}

        return await swarm.call(holders)


def normalize(root: Path, path: str) -> str:
    """A path an agent names, relative to the repository root (see `normalize_path`)."""
    from coordinator.claims.grants import normalize_path

    return normalize_path(root, path, cwd=root)
