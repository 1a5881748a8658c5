"""The critical path of a session: the longest chain of tasks through `requires`,
weighted by the durations in their receipts (a pure rule, tested without a store)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def critical_path(tasks: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The longest chain through `requires`, weighted by each task's duration.

    Each task is `{"task": id, "requires": [ids], "duration": seconds or None}`; a task
    without a duration (no receipt) weighs nothing. Returns the chain, first task first,
    and its length in seconds. Ties go to the task listed first.
    """
    by_id = {t["task"]: t for t in tasks}
    # best[id] = (length of the longest chain ending at id, the dependency before id on it).
    # Iterative depth-first, so that a chain of thousands of tasks stays within Python's
    # recursion limit; `on_path` keeps a hand-edited store's cycle from looping forever.
    best: dict[str, tuple[float, str | None]] = {}
    for root, root_task in by_id.items():
        if root in best:
            continue
        on_path = {root}
        stack = [(root, iter(root_task.get("requires") or []))]
        while stack:
            task_id, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                stack.pop()
                on_path.discard(task_id)
                best[task_id] = _longest_ending_at(by_id[task_id], best, by_id)
            elif dep in by_id and dep not in best and dep not in on_path:
                on_path.add(dep)
                stack.append((dep, iter(by_id[dep].get("requires") or [])))

    winner: str | None = None
    for task_id in by_id:
        if winner is None or best[task_id][0] > best[winner][0]:
            winner = task_id
    chain: list[str] = []
    step = winner
    while step is not None:
        chain.append(step)
        step = best[step][1]
    chain.reverse()
    return {"tasks": chain, "duration": round(best[winner][0], 3) if winner else 0.0}


def _longest_ending_at(
    task: Mapping[str, Any],
    best: Mapping[str, tuple[float, str | None]],
    by_id: Mapping[str, Any],
) -> tuple[float, str | None]:
    """(length, previous task) of the longest chain ending at `task`, from its dependencies'
    chains already in `best` (ties go to the dependency listed first)."""
    own = float(task.get("duration") or 0.0)
    chosen: str | None = None
    for dep in task.get("requires") or []:
        if dep in by_id and dep in best and (chosen is None or best[dep][0] > best[chosen][0]):
            chosen = dep
    return own + (best[chosen][0] if chosen else 0.0), chosen
