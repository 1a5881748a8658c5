"""The project's exceptions: one root, a subclass per failure, the docstring as default message.

Every layer raises these; the CLI and the hooks catch `SwarmError` once, print `str(err)`
on one line and exit with `err.exit_code`.
"""

from __future__ import annotations

#: Exit code for an error: bad input, a missing key or store, a broken store.
EXIT_ERROR = 1
#: Exit code for a refusal by the current state of the store; a script may retry.
EXIT_REFUSED = 3


class SwarmError(Exception):
    """swarm-coordinator failed."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str | None = None, *, details: tuple[str, ...] = ()) -> None:
        super().__init__(message or (self.__doc__ or "").strip())
        #: Further lines a person needs (what a task waits on), printed under the message.
        self.details = details

    def render(self) -> str:
        """The error as shown on stderr: `swarm: error: ...`, then any detail lines."""
        lines = [f"swarm: error: {self.message}", *(f"  - {line}" for line in self.details)]
        return "\n".join(lines) + "\n"

    @property
    def message(self) -> str:
        """The one-line message shown to a person or an agent."""
        return str(self.args[0]).splitlines()[0] if self.args else ""


class Refused(SwarmError):
    """Refused by the current state of the store."""

    exit_code = EXIT_REFUSED


class InvalidKey(SwarmError):
    """Invalid key."""


class InvalidValue(SwarmError):
    """Invalid value."""


class ValueTooLarge(InvalidValue):
    """Value is over the size limit."""


class KeyNotFound(SwarmError):
    """No such key."""


class VersionMismatch(Refused):
    """Compare-and-set failed: the key's version is not the expected one."""


class StoreError(SwarmError):
    """The store cannot be used."""


class NoStore(StoreError):
    """No swarm store here; run `swarm init` first."""


class NotASwarmStore(StoreError):
    """This file is not a swarm store; refusing to touch it."""


class CorruptStore(StoreError):
    """The store's database is corrupt; run `swarm doctor`."""


class ReadOnlyStore(StoreError):
    """The store is on a read-only file system."""


class SchemaTooNew(StoreError):
    """The store was written by a newer swarm-coordinator."""


class StoreLocked(Refused):
    """The store is still locked by another writer after the busy timeout; retry."""


class CompactedRevision(SwarmError):
    """That revision has been compacted away; history before it is gone."""


class BadImportFile(SwarmError):
    """Cannot import this file: it is not a swarm export."""


class StoreUnreachable(StoreError):
    """The store's PostgreSQL server cannot be reached."""
