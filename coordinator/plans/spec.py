"""Plans as records: the frozen task specs and plans that `coordinator.plans.validate`
builds from an operator's YAML, their stored JSON, task ids and status keys, durations,
priorities and the topological order of a plan's tasks.

Hooks import this module to rebuild stored specs (`TaskSpec.from_json`); validating a plan
is `coordinator.plans.validate`, which they do not import.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from coordinator.errors import BadCondition, BadDuration, PlanError, UnknownTask
from coordinator.plans.conditions import Condition, parse_condition
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, Final

#: Task priorities, most urgent first.
PRIORITIES: Final = ("P0", "P1", "P2", "P3")
#: How long a failed `run:` task waits before its first retry (doubling per attempt).
DEFAULT_RETRY_DELAY: Final = 30.0
_UNIT_SECONDS: Final = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_NUMBER = r"\d+(?:\.\d+)?"
# Patterns as text, compiled (and cached by `re`) on first use: a hook that reads no
# duration does not pay for compiling them.
_DURATION = rf"(?:\s*{_NUMBER}\s*[dhms])+\s*\Z"
_DURATION_PART = rf"({_NUMBER})\s*([dhms])"
_PLAIN_SECONDS = rf"\s*{_NUMBER}\s*\Z"


def task_id(phase: str, name: str) -> str:
    """A task's id, `<phase>/<name>`: the key prefix of everything about the task."""
    return f"{phase}/{name}"


def status_key(phase: str, name: str) -> str:
    """The key that holds a task's status, `<phase>/<name>/status`."""
    return f"{phase}/{name}/status"


class TaskSpec(NamedTuple):
    """One task of a plan, validated; `deadline`, `retry_delay` and `start_within` are in
    seconds."""

    phase: str
    name: str
    title: str
    agent: str | None
    requires: tuple[str, ...]
    optional: tuple[str, ...]
    when: tuple[Condition, ...]
    gates: tuple[Condition, ...]
    deadline: float | None
    run: str | None
    files: tuple[str, ...]
    description: str | None
    priority: str | None = None
    branch: str | None = None
    team: str | None = None
    deliverables: tuple[str, ...] = ()
    retries: int = 0
    retry_delay: float = DEFAULT_RETRY_DELAY
    start_within: float | None = None

    @property
    def id(self) -> str:
        """The task's id, `<phase>/<name>`."""
        return task_id(self.phase, self.name)

    @property
    def status_key(self) -> str:
        """The key that holds the task's status."""
        return status_key(self.phase, self.name)

    def to_json(self) -> dict[str, Any]:
        """The spec as plain JSON; conditions are stored as their text."""
        return {
            "phase": self.phase,
            "name": self.name,
            "title": self.title,
            "agent": self.agent,
            "requires": list(self.requires),
            "optional": list(self.optional),
            "when": [c.text for c in self.when],
            "gates": [c.text for c in self.gates],
            "deadline": self.deadline,
            "run": self.run,
            "files": list(self.files),
            "description": self.description,
            "priority": self.priority,
            "branch": self.branch,
            "team": self.team,
            "deliverables": list(self.deliverables),
            "retries": self.retries,
            "retry_delay": self.retry_delay,
            "start_within": self.start_within,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaskSpec:
        """Rebuild a spec stored by `to_json`; raise PlanError when it is malformed."""
        try:
            return cls(
                phase=str(data["phase"]),
                name=str(data["name"]),
                title=str(data["title"]),
                agent=data["agent"],
                requires=tuple(data["requires"]),
                optional=tuple(data["optional"]),
                when=tuple(map(parse_condition, data["when"])),
                gates=tuple(map(parse_condition, data["gates"])),
                deadline=None if data["deadline"] is None else float(data["deadline"]),
                run=data["run"],
                files=tuple(data["files"]),
                description=data["description"],
                # Specs stored before these fields existed have none of them.
                priority=data.get("priority"),
                branch=data.get("branch"),
                team=data.get("team"),
                deliverables=tuple(data.get("deliverables") or ()),
                retries=int(data.get("retries") or 0),
                retry_delay=float(data.get("retry_delay") or DEFAULT_RETRY_DELAY),
                start_within=_optional_float(data.get("start_within")),
            )
        except (KeyError, TypeError, ValueError, BadCondition) as err:
            raise PlanError(f"stored task spec is malformed: {_one_line(err)}") from None


class Plan(NamedTuple):
    """A validated plan: its phase, session and tasks (in the order they were written)."""

    phase: str
    session: str
    tasks: dict[str, TaskSpec]
    dashboard: str | None = None
    baseline: str | None = None
    final: str | None = None
    title: str | None = None
    description: str | None = None

    def task(self, name: str) -> TaskSpec:
        """The task called `name`; raise UnknownTask when the plan has none."""
        try:
            return self.tasks[name]
        except KeyError:
            raise UnknownTask(f"no task {name!r} in plan {self.phase}") from None

    def to_json(self) -> dict[str, Any]:
        """The plan as plain JSON, tasks in plan order."""
        return {
            "phase": self.phase,
            "session": self.session,
            "dashboard": self.dashboard,
            "baseline": self.baseline,
            "final": self.final,
            "title": self.title,
            "description": self.description,
            "tasks": {name: spec.to_json() for name, spec in self.tasks.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """Rebuild a plan stored by `to_json`; raise PlanError when it is malformed."""
        try:
            tasks = {str(name): TaskSpec.from_json(spec) for name, spec in data["tasks"].items()}
            return cls(
                phase=str(data["phase"]),
                session=str(data["session"]),
                tasks=tasks,
                dashboard=data.get("dashboard"),
                baseline=data.get("baseline"),
                final=data.get("final"),
                title=data.get("title"),
                description=data.get("description"),
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise PlanError(f"stored plan is malformed: {_one_line(err)}") from None


def parse_duration(text: str | float) -> float:
    """Seconds in `90s`, `30m`, `48h`, `2d`, `1h30m`, `1.5h` or a plain number of seconds.

    Units run from largest to smallest, each at most once; zero, negative and anything
    else raise BadDuration.
    """
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise BadDuration(f"invalid duration {text!r}: expected e.g. 90s, 30m, 48h, 2d, 1h30m")
    if isinstance(text, int | float) or re.match(_PLAIN_SECONDS, text):
        seconds = float(text)
    elif re.match(_DURATION, text):
        seconds = 0.0
        previous = math.inf
        for number, unit in re.findall(_DURATION_PART, text):
            size = _UNIT_SECONDS[unit]
            if size >= previous:
                raise BadDuration(
                    f"invalid duration {text!r}: units must run from days down to seconds, "
                    "each once"
                )
            previous = size
            seconds += float(number) * size
    else:
        raise BadDuration(
            f"invalid duration {text!r}: expected e.g. 90s, 30m, 48h, 2d, 1h30m "
            "or a number of seconds"
        )
    if not math.isfinite(seconds) or seconds <= 0:
        raise BadDuration(f"invalid duration {text!r}: must be positive")
    return seconds


def priority_rank(spec: TaskSpec) -> int:
    """0 for P0 up to 3 for P3; a task without a priority comes after all of them."""
    return PRIORITIES.index(spec.priority) if spec.priority in PRIORITIES else len(PRIORITIES)


def by_priority(specs: Iterable[TaskSpec]) -> list[TaskSpec]:
    """`specs` most urgent first (P0 before P3, then those without); ties keep their order."""
    return sorted(specs, key=priority_rank)


def topological_order(plan: Plan) -> list[str]:
    """Task names with every task after the tasks it requires; ties keep plan order."""
    import heapq

    # Kahn's algorithm, always taking the earliest task (in plan order) whose requirements
    # are all placed: the same order as rescanning the plan each round, in O(n log n).
    position = {name: i for i, name in enumerate(plan.tasks)}
    names = list(plan.tasks)
    waiting = {name: len(set(spec.requires)) for name, spec in plan.tasks.items()}
    dependents: dict[str, list[str]] = {}
    for name, spec in plan.tasks.items():
        for dep in set(spec.requires):
            dependents.setdefault(dep, []).append(name)
    heap = [position[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        name = names[heapq.heappop(heap)]
        order.append(name)
        for dependent in dependents.get(name, ()):
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(heap, position[dependent])
    return order


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _one_line(value: object) -> str:
    return " ".join(str(value).split())
