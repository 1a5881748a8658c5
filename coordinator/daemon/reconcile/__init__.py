"""The daemon's reconcilers: one concern each, pure functions from a snapshot of the
records they need and `now` to the writes they want.

A reconciler never touches the store or a process. It returns `Write`s: guarded
transactions (the guards hold only while the records it read are unchanged) and what
each means for the daemon's model once committed. The daemon (`coordinator.daemon.loop`)
reads the snapshot, calls the reconciler and commits the writes; one that fails its
guards is dropped, and the change that beat it wakes the daemon for another look.
Running a reconciler twice on the same state yields no write the second time.

- `settle`: a task's status follows its readiness, and gates are checked on completion;
- `spawn`: which ready `run:` tasks to start, and why the others are held back;
- `supervise`: what an agent's end means for its task (retry, failure, nothing);
- `escalate`: deadlines and start deadlines;
- `notices`: notifications, shared by the others.

May import: `tasks`, `claims`, `plans`, `agents`, the coordinator's root modules and
`memory`'s records; never the store's I/O, the daemon's loop or anything above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from coordinator.state import TaskRun
from memory.records import Compare, WriteOp


class Write(NamedTuple):
    """One guarded transaction a reconciler wants, and its meaning for the model."""

    guards: tuple[Compare, ...]
    ops: tuple[WriteOp, ...]
    #: Statuses the write sets, by task id.
    statuses: Mapping[str, str] = {}
    #: Run records the write sets, by task id.
    runs: Mapping[str, TaskRun] = {}
    #: What to log once committed (an event name and its fields), if anything.
    log: tuple[str, Mapping[str, Any]] | None = None
