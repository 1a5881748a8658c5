"""Merge-conflict prediction between the agents' branches, recorded as conflicts.

`predict_conflicts` runs `git merge-tree --write-tree` between each pair of
branches, which merges in memory and touches no work tree, index or ref, and returns the
pairs that would conflict with their files. `record_merge_conflicts` turns the new ones into
conflict records under `swarm/conflicts/` (kind `merge`), with an event and a notification
to the agents owning the two branches; an unresolved record with the same pair and the same
files is not recorded again, so the daemon may call it on every pass:

    owners = agent_branch_owners(store, repo_root)
    known, _ = split_known_branches(repo_root, list(owners))
    record_merge_conflicts(store, predict_conflicts(repo_root, known), now, owners=owners)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coordinator.claims.conflicts import RaisedConflict, raise_conflicts
from coordinator.git.repo import run_git
from coordinator.project import project_root_for
from coordinator.state import Agent
from memory.errors import SwarmError
from memory.store import Store


@dataclass(frozen=True)
class PairConflict:
    """Two branches that would conflict if merged, and the files that would."""

    a: str
    b: str
    files: tuple[str, ...]

    def signature(self) -> tuple[frozenset[str], frozenset[str]]:
        """The pair and the file set, in no order: what deduplicates records."""
        return frozenset((self.a, self.b)), frozenset(self.files)

    def describe(self) -> str:
        """One line: which branches, how many files, the first few of them."""
        shown = ", ".join(self.files[:5])
        more = f" and {len(self.files) - 5} more" if len(self.files) > 5 else ""
        count = "1 file" if len(self.files) == 1 else f"{len(self.files)} files"
        return f"branches {self.a} and {self.b} would conflict on merge in {count}: {shown}{more}"

    def to_json(self) -> dict[str, Any]:
        """The prediction as plain JSON."""
        return {"branches": [self.a, self.b], "files": list(self.files)}


def parse_merge_tree(output: str) -> tuple[str, ...]:
    """The conflicted files in `git merge-tree --write-tree --name-only` output: the
    records after the first (the tree OID), up to the blank one before any messages.
    Records are NUL-separated with `-z`, else one per line."""
    separator = "\0" if "\0" in output else "\n"
    records = output.split(separator)
    tree = records[0].strip()
    if not tree or any(c not in "0123456789abcdef" for c in tree):
        raise SwarmError(f"unexpected `git merge-tree` output: {tree[:60]!r}")
    files: list[str] = []
    for record in records[1:]:
        if not record:
            break
        files.append(record)
    return tuple(dict.fromkeys(files))


def resolve_commit(repo_root: Path, branch: str) -> str | None:
    """The commit a branch (or any revision) names, or None when there is none."""
    if not branch or branch.startswith("-"):
        return None
    spec = f"{branch}^{{commit}}"
    proc = run_git(["rev-parse", "--verify", "--quiet", spec], repo_root, ok=(0, 1))
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and commit else None


def split_known_branches(repo_root: Path, branches: Iterable[str]) -> tuple[list[str], list[str]]:
    """(branches that name a commit, branches that do not), each in order, once each."""
    known: list[str] = []
    unknown: list[str] = []
    for branch in dict.fromkeys(branches):
        (known if resolve_commit(repo_root, branch) else unknown).append(branch)
    return known, unknown


def predict_conflicts(repo_root: Path, branches: Sequence[str]) -> list[PairConflict]:
    """Merge each pair of `branches` in memory (`git merge-tree --write-tree`) and return
    the pairs that would conflict; nothing on disk changes. An unknown branch, or a pair
    git cannot merge (unrelated histories), is a SwarmError."""
    names = list(dict.fromkeys(branches))
    commits: dict[str, str] = {}
    for name in names:
        commit = resolve_commit(repo_root, name)
        if commit is None:
            raise SwarmError(f"unknown branch {name!r}")
        commits[name] = commit
    conflicts: list[PairConflict] = []
    for a, b in itertools.combinations(names, 2):
        args = ["merge-tree", "--write-tree", "-z", "--name-only", "--no-messages"]
        try:
            proc = run_git([*args, commits[a], commits[b]], repo_root, ok=(0, 1))
        except SwarmError as err:
            raise SwarmError(f"cannot predict a merge of {a} and {b}: {err.message}") from None
        if proc.returncode == 1:
            conflicts.append(PairConflict(a, b, parse_merge_tree(proc.stdout)))
    return conflicts


def worktree_branch(worktree: Path) -> str | None:
    """The branch checked out in `worktree`, or None (detached, or not a work tree)."""
    if not worktree.is_dir():
        return None
    proc = run_git(["rev-parse", "--abbrev-ref", "HEAD"], worktree, ok=(0, 128))
    branch = proc.stdout.strip()
    return branch if proc.returncode == 0 and branch and branch != "HEAD" else None


def branch_owners(agents: Iterable[Agent], repo_root: Path) -> dict[str, list[str]]:
    """Branch -> the agents working on it, from their session-start registrations: the
    registered branch, else the branch checked out in the registered worktree."""
    owners: dict[str, list[str]] = {}
    for agent in agents:
        branch = agent.branch
        if not branch and agent.worktree:
            branch = worktree_branch(repo_root / agent.worktree)
        if branch:
            owners.setdefault(branch, []).append(agent.name)
    return owners


def agent_branch_owners(store: Store, repo_root: Path) -> dict[str, list[str]]:
    """`branch_owners` of the live agents in `store`."""
    from coordinator.agents.sessions import live_agents

    return branch_owners(live_agents(store), repo_root)


def record_merge_conflicts(
    store: Store,
    predictions: Iterable[PairConflict],
    now: float,
    *,
    owners: Mapping[str, Sequence[str]] | None = None,
) -> list[PairConflict]:
    """Record each new predicted conflict (kind `merge`) with an event and a notification to
    the agents owning its branches, in one transaction; return those recorded. A pair whose
    same file set is already recorded and unresolved is seen again (its count goes up), not
    recorded anew. `owners` maps branch -> agents (default: the live agents' registered
    branches)."""
    pending = [p for p in predictions if p.files]
    if not pending:
        return []
    if owners is None:
        owners = agent_branch_owners(store, project_root_for(store.path))
    raised = []
    for prediction in pending:
        agents = list(dict.fromkeys([*owners.get(prediction.a, ()), *owners.get(prediction.b, ())]))
        extra = {"files": list(prediction.files), "branches": [prediction.a, prediction.b]}
        raised.append(
            RaisedConflict(
                "merge", prediction.files[0], tuple(agents), prediction.describe(), extra
            )
        )
    outcomes = raise_conflicts(store, raised, now)
    return [p for p, outcome in zip(pending, outcomes, strict=True) if outcome.new]
