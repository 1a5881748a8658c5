"""Plans: the YAML an operator writes, validated whole into frozen task specs.

    phase: phase7
    session: swarm-phase7          # optional, default: the phase
    title: Phase 7 release         # optional, for views and the report
    description: free text         # optional
    dashboard: docs/phase7/COORDINATION-DASHBOARD.md   # optional
    baseline: phase7/baseline      # optional key names, for reports
    final: phase7/final            # optional
    tasks:
      release_prep:
        title: Release preparation          # default: the task name
        agent: planner                      # optional
        requires: [code_quality]            # hard: wait until their status is complete
        optional: [config_system]           # soft: an ordering hint, never blocks
        when: ["phase7/baseline/tests_passing >= 626"]
        gates: ["phase7/release_prep/changelog exists"]
        deadline: 48h                       # escalate if not complete this long after ready
        start_within: 4h                    # escalate if ready this long and not started
        retries: 2                          # a failed `run:` agent is started again (default 0)
        retry_delay: 30s                    # before the first retry; doubles per attempt
        run: "scripts/agents/release.sh"    # optional: started by the daemon when ready
        files: ["CHANGELOG.md", "docs/release/**"]
        description: free text
        priority: P1                        # P0 (first) to P3; listing and spawning order
        branch: feature/release-2.0         # the git branch the work lands on
        team: release                       # a group of tasks, for the report's matrix
        deliverables: [CHANGELOG updated, Version 2.0.0 everywhere]

`parse_plan` checks everything before it returns, so a plan in hand is always consistent;
each problem is one line naming the source and the task.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from coordinator.errors import BadCondition, BadDuration, PlanError, UnknownTask
from coordinator.plans.conditions import Condition, parse_condition
from memory.errors import InvalidKey
from memory.keys import RESERVED_ROOT, SEGMENT_CHARS, validate_key
from memory.locator import split_path
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Collection, Iterable
    from typing import Any, Final

_PLAN_FIELDS: Final = (
    "phase",
    "session",
    "dashboard",
    "baseline",
    "final",
    "tasks",
    "title",
    "description",
)
_TASK_FIELDS: Final = (
    "title",
    "agent",
    "requires",
    "optional",
    "when",
    "gates",
    "deadline",
    "run",
    "files",
    "description",
    "priority",
    "branch",
    "team",
    "deliverables",
    "retries",
    "retry_delay",
    "start_within",
)
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


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    """Parse and validate a YAML plan; any problem raises PlanError naming `source` and task."""
    # PyYAML is imported only here: hooks read stored specs and never parse YAML.
    from coordinator.bulk import bulk_allocation
    from coordinator.plans.yaml_reader import load_yaml

    with bulk_allocation():
        return plan_from_data(load_yaml(text, source), source)


def plan_from_data(data: Any, source: str = "<plan>") -> Plan:
    """Validate an already-parsed plan (a mapping as YAML or JSON gives it) into a Plan."""
    if data is None:
        raise PlanError(f"{source}: the plan is empty")
    if not isinstance(data, Mapping):
        raise PlanError(f"{source}: a plan must be a mapping with phase and tasks")
    unknown = [str(k) for k in data if k not in _PLAN_FIELDS]
    if unknown:
        raise PlanError(
            f"{source}: unknown field(s) {', '.join(map(repr, unknown))}; "
            f"expected {', '.join(_PLAN_FIELDS)}"
        )
    for required in ("phase", "tasks"):
        if data.get(required) is None:
            raise PlanError(f"{source}: missing {required!r}")
    phase = _segment(source, "phase", data["phase"])
    if phase == RESERVED_ROOT:
        raise PlanError(f"{source}: phase {phase!r} is reserved for the coordinator's records")
    session = _optional_str(source, "session", data.get("session")) or phase
    dashboard = _optional_str(source, "dashboard", data.get("dashboard"))
    if dashboard is not None and not _relative_file(dashboard):
        # The daemon writes this file: it must stay inside the repository.
        raise PlanError(
            f"{source}: dashboard: {dashboard!r} must be a file path relative to the "
            "repository root, without '..'"
        )
    baseline = _optional_key(source, "baseline", data.get("baseline"))
    final = _optional_key(source, "final", data.get("final"))

    raw_tasks = data["tasks"]
    if not isinstance(raw_tasks, Mapping):
        raise PlanError(f"{source}: 'tasks' must be a mapping of task name to task")
    if not raw_tasks:
        raise PlanError(f"{source}: 'tasks' is empty")
    names = [_segment(source, "task name", name) for name in raw_tasks]
    known = frozenset(names)
    tasks = {
        name: _task_from_data(source, phase, name, body, known)
        for name, body in zip(names, raw_tasks.values(), strict=True)
    }
    _check_cycles(source, tasks)
    return Plan(
        phase=phase,
        session=session,
        tasks=tasks,
        dashboard=dashboard,
        baseline=baseline,
        final=final,
        title=_optional_str(source, "title", data.get("title")),
        description=_optional_str(source, "description", data.get("description")),
    )


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


def _task_from_data(
    source: str, phase: str, name: str, body: Any, names: Collection[str]
) -> TaskSpec:
    where = f"{source}: task {name}"
    if body is None:
        body = {}  # `name:` with nothing under it is a task with every default
    if not isinstance(body, Mapping):
        raise PlanError(f"{where}: must be a mapping of fields")
    unknown = [str(k) for k in body if k not in _TASK_FIELDS]
    if unknown:
        raise PlanError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; "
            f"expected {', '.join(_TASK_FIELDS)}"
        )
    requires = _task_refs(where, "requires", body.get("requires"), names)
    optional = _task_refs(where, "optional", body.get("optional"), names)
    if name in requires:
        raise PlanError(f"{where}: requires itself")
    if name in optional:
        raise PlanError(f"{where}: lists itself in optional")
    both = [dep for dep in requires if dep in optional]
    if both:
        raise PlanError(f"{where}: {both[0]!r} is in both requires and optional")
    deadline = body.get("deadline")
    if deadline is not None:
        try:
            deadline = parse_duration(deadline)
        except BadDuration as err:
            raise PlanError(f"{where}: deadline: {err.message}") from None
    start_within = _optional_duration(where, "start_within", body.get("start_within"))
    retry_delay = _optional_duration(where, "retry_delay", body.get("retry_delay"))
    retries = body.get("retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise PlanError(f"{where}: retries must be a whole number >= 0, not {retries!r}")
    files = _str_list(where, "files", body.get("files"))
    for pattern in files:
        if not pattern or pattern.startswith("/") or ".." in pattern.split("/"):
            raise PlanError(
                f"{where}: files: {pattern!r} must be a path relative to the repository root"
            )
    # The agent names an inbox and a registration: one key segment, as `--agent` is.
    agent = _optional_str(where, "agent", body.get("agent"))
    if agent is not None:
        _segment(where, "agent", agent)
    return TaskSpec(
        phase=phase,
        name=name,
        title=_optional_str(where, "title", body.get("title")) or name,
        agent=agent,
        requires=requires,
        optional=optional,
        when=_conditions(where, "when", body.get("when")),
        gates=_conditions(where, "gates", body.get("gates")),
        deadline=deadline,
        run=_optional_str(where, "run", body.get("run")),
        files=files,
        description=_optional_str(where, "description", body.get("description")),
        priority=_priority(where, body.get("priority")),
        branch=_optional_str(where, "branch", body.get("branch")),
        team=_optional_str(where, "team", body.get("team")),
        deliverables=_deliverables(where, body.get("deliverables")),
        retries=retries,
        retry_delay=DEFAULT_RETRY_DELAY if retry_delay is None else retry_delay,
        start_within=start_within,
    )


def _optional_duration(where: str, field: str, value: Any) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except BadDuration as err:
        raise PlanError(f"{where}: {field}: {err.message}") from None


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _check_cycles(source: str, tasks: dict[str, TaskSpec]) -> None:
    # Depth-first search over `requires`, in plan order so the reported cycle is stable.
    # Iterative: a chain of thousands of tasks must not hit Python's recursion limit.
    state: dict[str, str] = {}  # name -> "visiting" | "done"
    for root, root_spec in tasks.items():
        if root in state:
            continue
        state[root] = "visiting"
        path = [root]
        pending = [iter(root_spec.requires)]
        while pending:
            dep = next(pending[-1], None)
            if dep is None:
                state[path.pop()] = "done"
                pending.pop()
            elif state.get(dep) == "visiting":
                cycle = [*path[path.index(dep) :], dep]
                raise PlanError(f"{source}: task {dep}: dependency cycle: {' -> '.join(cycle)}")
            elif dep not in state:
                state[dep] = "visiting"
                path.append(dep)
                pending.append(iter(tasks[dep].requires))


def _segment(where: str, what: str, value: Any) -> str:
    if not isinstance(value, str):
        raise PlanError(f"{where}: {what} {value!r} must be a string (quote it)")
    if not value or not SEGMENT_CHARS.issuperset(value):
        raise PlanError(f"{where}: {what} {value!r} may only hold letters, digits, '.', '_', '-'")
    return value


def _relative_file(path: str) -> bool:
    """Whether `path` names a file under the repository root: relative, no `..`, and not
    the root itself (`.`)."""
    root, parts = split_path(path)
    return bool(parts) and not root and ".." not in parts


def _optional_str(where: str, field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PlanError(f"{where}: {field} must be a string, not {_type_name(value)}")
    return value


def _optional_key(where: str, field: str, value: Any) -> str | None:
    key = _optional_str(where, field, value)
    if key is None:
        return None
    try:
        return validate_key(key)
    except InvalidKey as err:
        raise PlanError(f"{where}: {field}: {err.message}") from None


def _str_list(where: str, field: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PlanError(f"{where}: {field} must be a list of strings, not {value!r}")
    return tuple(value)


def _task_refs(where: str, field: str, value: Any, names: Collection[str]) -> tuple[str, ...]:
    refs = _str_list(where, field, value)
    seen: set[str] = set()
    for ref in refs:
        if ref not in names:
            raise PlanError(f"{where}: {field} unknown task {ref!r}")
        if ref in seen:
            raise PlanError(f"{where}: {field} lists {ref!r} twice")
        seen.add(ref)
    return refs


def _conditions(where: str, field: str, value: Any) -> tuple[Condition, ...]:
    conditions = []
    for text in _str_list(where, field, value):
        try:
            conditions.append(parse_condition(text))
        except BadCondition as err:
            raise PlanError(f"{where}: {field}: {err.message}") from None
    return tuple(conditions)


def _priority(where: str, value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip().upper() if isinstance(value, str) else None
    if text not in PRIORITIES:
        raise PlanError(f"{where}: priority {value!r} must be one of {', '.join(PRIORITIES)}")
    return text


def _deliverables(where: str, value: Any) -> tuple[str, ...]:
    items = tuple(" ".join(item.split()) for item in _str_list(where, "deliverables", value))
    if any(not item for item in items):
        raise PlanError(f"{where}: deliverables: an item is empty")
    duplicated = next((item for item in items if items.count(item) > 1), None)
    if duplicated is not None:
        raise PlanError(f"{where}: deliverables lists {duplicated!r} twice")
    return items


def _type_name(value: Any) -> str:
    return "a list" if isinstance(value, list) else type(value).__name__


def _one_line(value: object) -> str:
    return " ".join(str(value).split())
