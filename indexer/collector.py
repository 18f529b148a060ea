"""Python's cycle collector, fitted to a batch indexer (the writer and the backfill worker)."""

from __future__ import annotations

import gc


def tune_garbage_collector() -> None:
    """Fit Python's cycle collector to a batch indexer.

    A batch allocates a few hundred thousand short-lived, acyclic objects (parsed logs, events,
    rows) that reference counting frees. With the default first-generation threshold (700) the
    collector walks them again and again while they are alive: measured here, over a third of
    the decoding time. Objects alive after start-up are frozen out of collections, and the first
    generation is collected every 100,000 allocations, so cycles are still collected.
    """
    gc.freeze()
    gc.set_threshold(100_000, 20, 100)
