"""Building many objects at once without the cyclic garbage collector's repeated scans.

Parsing a 10,000-task plan or reading every task of one allocates hundreds of thousands
of objects that all stay alive; each collection the allocations trigger scans the ones
made so far, which makes the work grow faster than the plan (measured: 0.6 s of YAML
becomes 0.2 s with the collector paused). The objects hold no reference cycles, so
nothing is lost by collecting once afterwards instead.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """Pause the cyclic collector inside the block (nested blocks keep it paused)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
