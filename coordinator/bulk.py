"""Building many objects at once without the cyclic garbage collector's repeated scans.

Parsing a 10,000-task plan or reading every task of one allocates hundreds of thousands
of objects that all stay alive; each collection the allocations trigger scans the ones
made so far, which makes the work grow faster than the plan (measured: 0.6 s of YAML
becomes 0.2 s with the collector paused). The objects hold no reference cycles, so
nothing is lost by not scanning them while they are made, nor afterwards: on leaving,
they are handed to the oldest generation unscanned (a view of 10,000 tasks was scanned
once more by the first young collection after the block, 30-70 ms of a 0.5 s command).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """Pause the cyclic collector inside the block (nested blocks keep it paused); on
    leaving, move what it made to the oldest generation without scanning it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        # freeze() then unfreeze() moves every tracked object (those made before the block
        # too) to the oldest generation in constant time, two list splices, and zeroes the
        # allocation count that would start the next young collection. Cyclic garbage
        # among them is still found by the full collections, which are paced by what
        # survives the young ones, as before.
        gc.freeze()
        gc.unfreeze()
        gc.enable()
