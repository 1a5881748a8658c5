"""Validating plans: the YAML an operator writes, checked whole into frozen task specs
(`coordinator.plans.spec`).

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

from collections.abc import Mapping

from coordinator.errors import BadCondition, BadDuration, PlanError
from coordinator.plans.conditions import Condition, parse_condition
from coordinator.plans.spec import (
    DEFAULT_RETRY_DELAY,
    PRIORITIES,
    Plan,
    TaskSpec,
    parse_duration,
)
from memory.errors import InvalidKey
from memory.keys import RESERVED_ROOT, SEGMENT_CHARS, validate_key
from memory.locator import split_path

TYPE_CHECKING = False  # not typing's (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Collection
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
