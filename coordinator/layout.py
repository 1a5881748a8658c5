"""The coordinator's key layout: where each kind of record lives in the store.

Task statuses live in the users' namespace (`<phase>/<task>/status`) so that agents and
scripts read them like any key; everything else lives under the reserved `swarm/` root.
"""

from __future__ import annotations

import itertools
import os

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from memory.store import Store

# Orders keys made in one process at the same microsecond (one transaction's events).
_sequence = itertools.count()

ROOT = "swarm"
#: The phase of tasks started without a plan (`pre-task --task-id fix_typo`).
ADHOC_PHASE = "adhoc"

PLANS = f"{ROOT}/plans/"
TASKS = f"{ROOT}/tasks/"
RECEIPTS = f"{ROOT}/receipts/"
AGENTS = f"{ROOT}/agents/"
AGENT_TASKS = f"{ROOT}/agent-tasks/"
GONE = f"{ROOT}/gone/"
SESSIONS = f"{ROOT}/sessions/"
INBOX = f"{ROOT}/inbox/"
EVENTS = f"{ROOT}/events/"
ESCALATIONS = f"{ROOT}/escalations/"
CLAIMS = f"{ROOT}/claims/"
CLAIM_QUEUE = f"{ROOT}/claim-queue/"
EDITS = f"{ROOT}/edits/"
#: Each agent's latest edit of each file, so post-edit finds rivals without reading edits.
LAST_EDITS = f"{ROOT}/last-edits/"
CONFLICTS = f"{ROOT}/conflicts/"
#: From each open conflict's identity to its record, so that raising it again finds it.
OPEN_CONFLICTS = f"{ROOT}/open-conflicts/"
#: One record per file written with no post-edit and no other writer (no conflict).
OBSERVATIONS = f"{ROOT}/observations/"
#: Each agent's refused claims on each path: how many, when, who was in the way.
DENIALS = f"{ROOT}/denials/"
DAEMON = f"{ROOT}/daemon/"
DAEMON_CURSOR = f"{DAEMON}cursor"


#: Names under `<phase>/<task>/` the coordinator keeps for itself (the status, and the
#: names of a task's own records), so a metric may not take them.
RESERVED_TASK_NAMES = frozenset({"status", "spec", "run", "progress", "receipt", "attempts"})


def metric_key(task_id: str, name: str) -> str:
    """`<phase>/<task>/<name>`, where post-task and progress write a metric."""
    return f"{task_id}/{name}"


def plan_key(phase: str) -> str:
    """The plan header of a phase."""
    return f"{PLANS}{phase}"


def status_key(task_id: str) -> str:
    """`<phase>/<task>/status`, the status every agent can read."""
    return f"{task_id}/status"


def spec_key(task_id: str) -> str:
    """The task's specification, as loaded from its plan."""
    return f"{TASKS}{task_id}/spec"


def run_key(task_id: str) -> str:
    """The task's run record: agent, timing, block reason, escalation, pid."""
    return f"{TASKS}{task_id}/run"


def progress_key(task_id: str) -> str:
    """The task's latest progress report."""
    return f"{TASKS}{task_id}/progress"


def attempts_prefix(task_id: str) -> str:
    """The prefix of the task's attempt records."""
    return f"{TASKS}{task_id}/attempts/"


def attempt_key(task_id: str, number: int) -> str:
    """The record of one attempt at the task (numbered from 1, sorting in order)."""
    return f"{attempts_prefix(task_id)}{number:04d}"


def gone_key(agent: str) -> str:
    """The record of an agent that died or went silent: why, and when."""
    return f"{GONE}{agent}"


def receipt_key(task_id: str) -> str:
    """The receipt written by post-task."""
    return f"{RECEIPTS}{task_id}"


def escalation_key(task_id: str) -> str:
    """The escalation record of a late task."""
    return f"{ESCALATIONS}{task_id}"


def start_escalation_key(task_id: str) -> str:
    """The record of a start-deadline escalation (beside the deadline's)."""
    return f"{escalation_key(task_id)}/start"


def agent_key(agent: str) -> str:
    """The agent's registration, a lease renewed by each hook call."""
    return f"{AGENTS}{agent}"


def agent_task_key(agent: str) -> str:
    """The task an agent started last and has not finished (written by pre-task)."""
    return f"{AGENT_TASKS}{agent}"


def session_summary_key(session: str, agent: str) -> str:
    """What session-end wrote for one agent of a session."""
    return f"{SESSIONS}{session}/{agent}"


def inbox_prefix(agent: str) -> str:
    """The prefix of an agent's notifications."""
    return f"{INBOX}{agent}/"


def unique_suffix(now: float) -> str:
    """A key segment that sorts by time and does not collide between processes."""
    return f"{int(now * 1_000_000):017d}-{next(_sequence) % 10_000:04d}{os.urandom(3).hex()}"


def time_cutoff_key(prefix: str, cutoff: float) -> str:
    """The first key under `prefix` whose `unique_suffix` is at or after `cutoff`: every
    key under `prefix` that sorts below it was made earlier."""
    return f"{prefix}{max(0, int(cutoff * 1_000_000)):017d}"


def event_key(now: float) -> str:
    """A new event's key, in time order."""
    return f"{EVENTS}{unique_suffix(now)}"


def inbox_key(agent: str, now: float) -> str:
    """A new notification's key in `agent`'s inbox."""
    return f"{inbox_prefix(agent)}{unique_suffix(now)}"


def task_id_parts(task_id: str) -> tuple[str, str]:
    """(phase, task) of a qualified id `phase/task`."""
    phase, _, name = task_id.rpartition("/")
    return phase, name


def qualify_task(store: Store, ref: str) -> str:
    """The id `phase/task` a task reference means: `phase/task` as written; a bare `task`
    is looked up among the loaded plans (it must be in one phase only), else it is ad hoc."""
    from coordinator.errors import UnknownTask
    from memory.errors import InvalidKey
    from memory.keys import validate_key

    try:
        validate_key(ref)
    except InvalidKey:
        raise UnknownTask(f"invalid task id {ref!r}: use TASK or PHASE/TASK") from None
    if ref.count("/") > 1:
        raise UnknownTask(f"invalid task id {ref!r}: use TASK or PHASE/TASK")
    if "/" in ref:
        return ref
    specs = [r.key for r in store.search_keys(f"{TASKS}*/{ref}/spec") if r.key.count("/") == 4]
    phases = sorted(key.split("/")[2] for key in specs)
    if len(phases) > 1:
        raise UnknownTask(
            f"task {ref!r} is in several phases ({', '.join(phases)}); use phase/{ref}"
        )
    return f"{phases[0] if phases else ADHOC_PHASE}/{ref}"
