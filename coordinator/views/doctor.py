"""`swarm doctor`'s rule for the coordinator's own records: which are malformed, orphaned
(the task they name is gone) or holderless (no lease, so nothing will ever release them).
A claim of an agent that never registered is not a problem: its lease still runs out.
A pure function of the records and `now`; the store's own health is `memory.health`.
Also what keeps an agent client from running the swarm hooks `swarm init` installed
(Codex's hook trust, `coordinator.agents.codex_trust`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from coordinator import layout
from coordinator.claims.grants import Claim, Request, path_hash
from memory.records import Record


def record_problems(records: Iterable[Record], now: float) -> list[str]:
    """One line per coordinator record (keys under `swarm/`) that is malformed, orphaned
    or holderless, in key order."""
    live = [r for r in records if r.expires_at is None or r.expires_at > now]
    by_key = {r.key: r for r in live}
    problems: list[str] = []
    for record in sorted(live, key=lambda r: r.key):
        if record.key.startswith(layout.CLAIMS):
            problems += _claim_problems(record)
        elif record.key.startswith(layout.CLAIM_QUEUE):
            request = Request.from_record(record)
            if record.expires_at is None:
                problems.append(
                    f"{record.key}: queued request of {request.agent or '?'} has no lease "
                    "(holderless: it would stay first in line forever)"
                )
        elif record.key.startswith(layout.AGENT_TASKS):
            task = record.value.get("task") if isinstance(record.value, dict) else record.value
            if isinstance(task, str) and layout.status_key(task) not in by_key:
                problems.append(f"{record.key}: names task {task}, which has no status (orphaned)")
    return problems


def _claim_problems(record: Record) -> list[str]:
    claim = Claim.from_record(record)
    if not claim.path or not claim.agent:
        return [f"{record.key}: a claim with no path or agent (malformed)"]
    problems = []
    if record.key != f"{layout.CLAIMS}{path_hash(claim.path)}/{claim.agent}":
        problems.append(
            f"{record.key}: claim on {claim.path} by {claim.agent} is not stored under its own "
            "key (written by hand or imported)"
        )
    if record.expires_at is None:
        problems.append(
            f"{record.key}: claim on {claim.path} by {claim.agent} has no lease (holderless: "
            f"it would hold the file forever; `swarm claims release --agent {claim.agent} "
            "--force`)"
        )
    return problems


def agent_hook_problems(root: Path, environ: Mapping[str, str]) -> list[str] | None:
    """One line per swarm hook of the repository at `root` that its agent client will not
    run (Codex: an untrusted project, hooks not trusted or trusted for another hash,
    hooks turned off); None when no client there has hooks that need trusting."""
    from coordinator.agents.codex_trust import read_codex_trust

    trust = read_codex_trust(root, environ)
    return None if trust is None else trust.problems()
