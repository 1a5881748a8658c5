"""Settings read from the environment, such as `SWARM_BUSY_TIMEOUT=0.5`."""

from __future__ import annotations

import math
import os

from memory.errors import SwarmError

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Mapping


#: Seconds a writer waits for a locked store before giving up (SWARM_BUSY_TIMEOUT).
DEFAULT_BUSY_TIMEOUT = 5.0


class BadSetting(SwarmError):
    """An environment setting has a value that cannot be used."""


def env_seconds(
    name: str, default: float, environ: Mapping[str, str] | None = None, *, positive: bool = False
) -> float:
    """`name` from the environment as a number of seconds, or `default` when it is unset.

    A value that is not a finite number, is negative, or (with `positive`) is zero is an
    error naming the variable: a typo must not silently become the default.
    """
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0 or (positive and seconds == 0):
        kind = "a positive" if positive else "a non-negative"
        raise BadSetting(f"{name} must be {kind} number of seconds, not {raw!r}")
    return seconds


def resolve_timeout(busy_timeout: float | None) -> float:
    """The busy timeout to open with: the caller's, else `SWARM_BUSY_TIMEOUT`, else 5 s."""
    if busy_timeout is not None:
        return busy_timeout
    return env_seconds("SWARM_BUSY_TIMEOUT", DEFAULT_BUSY_TIMEOUT)
