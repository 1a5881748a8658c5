"""The coordinator's exceptions, under the store's root `SwarmError`; docstring = default message.

A caller passes a one-line message naming what failed; the CLI and the hooks print it as is.
"""

from __future__ import annotations

from memory.errors import Refused, SwarmError


class PlanError(SwarmError):
    """Invalid plan."""


class TaskNotReady(Refused):
    """Task is not ready."""


class UnknownTask(SwarmError):
    """No such task."""


class ClaimHeld(Refused):
    """File is held by another agent."""

    def __init__(
        self,
        message: str | None = None,
        *,
        details: tuple[str, ...] = (),
        holder: str | None = None,
        holder_task: str | None = None,
    ) -> None:
        super().__init__(message, details=details)
        #: The agent in the way (holding the file, or queued first for it), and its task.
        self.holder = holder
        self.holder_task = holder_task


class PathOutsideRepo(SwarmError):
    """Path is outside the repository."""


class InvalidPath(SwarmError):
    """Invalid path."""


class BadDuration(SwarmError):
    """Invalid duration."""


class BadCondition(SwarmError):
    """Invalid condition."""


class NoSessionChosen(SwarmError):
    """No session is meant; pass --session-id."""
