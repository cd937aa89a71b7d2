"""How Python's cyclic garbage collector runs during a simulation and while its output
folder and report are written.

A run builds its world (routers, links, command tables: hundreds of thousands of objects
at 10,000 routers) and then allocates a great many short-lived ones (events, trace
records, DER views). With CPython's defaults (a young collection every 700 net
allocations) the collector rescans the young objects thousands of times and the whole
heap every so often: 16 % of a 3,000-router hierarchy's CPU time, measured with
`gc.callbacks`, and growing with the heap; writing the folder and the report after a
1,000-router run, the collector (walking the finished world again and again) was a third
of the time. Inside `batch_collection()`:

- what exists on entry (the built world; after the run, the finished one) is frozen
  (`gc.freeze()`): it outlives the block, so scanning it can never free anything;
- young collections run every 50,000 net allocations instead of 700, and older ones
  proportionally less often. Cycles are still collected, only in bigger batches.

Nested and concurrent uses (runs in threads of one sweep worker) share one setting: the
first to enter applies it, the last to leave restores what was there.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BATCH_THRESHOLDS = (50_000, 20, 100)
"""Young-generation allocations, then collections of each generation before the next
older one is looked at (CPython's defaults: 700, 10, 10)."""

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def batch_collection() -> Iterator[None]:
    """Collect garbage in big batches, and never rescan what existed on entry."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(*BATCH_THRESHOLDS)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                gc.unfreeze()
                _saved = None
