"""Large draws split into fixed blocks, each from its own stream, filled in parallel.

An i.i.d. distribution (:attr:`Distribution.iid`) can be drawn block by block:
a draw of at least :data:`PARALLEL_MIN` elements is cut into consecutive
blocks of :data:`BLOCK` elements (the last one shorter), block ``i`` is drawn
— all of it: draw, scaling, truncation, cast — from the ``i``-th of the
generators the backend seeds from the call's generator, and the blocks are
filled by a thread pool (NumPy's and torch's CPU kernels release the GIL).

The block size is a constant, so the values depend only on the seed, never on
the number of threads or cores. Each block's work stays in the CPU cache, and
a block's temporaries (a truncation mask, a float32 draw before a bfloat16
cast) are the size of a block, not of the array.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final

__all__ = ["BLOCK", "PARALLEL_MIN", "block_count", "cpu_count", "for_each_block"]

BLOCK: Final = 1 << 18
"""Elements per independently seeded block of a large draw (a constant: values never depend on the thread count)."""

PARALLEL_MIN: Final = 2 * BLOCK
"""Draws with at least this many elements are filled block by block, in parallel."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def cpu_count() -> int:
    """The cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def block_count(size: int) -> int:
    """How many blocks a draw of ``size`` elements is cut into."""
    return -(-size // BLOCK)


def for_each_block(size: int, fill: Callable[[int, slice], object], threads: int) -> None:
    """Call ``fill(index, block)`` for every :data:`BLOCK`-sized slice of ``range(size)``, on up to ``threads`` threads."""
    global _pool  # one lazily created pool per process, shared by the backends
    blocks = [slice(start, min(start + BLOCK, size)) for start in range(0, size, BLOCK)]
    if min(threads, len(blocks)) < 2:
        for index, block in enumerate(blocks):
            fill(index, block)
        return
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=cpu_count(), thread_name_prefix="unit_init")
    workers = min(threads, len(blocks))

    def fill_every_nth(first: int) -> None:
        for index in range(first, len(blocks), workers):
            fill(index, blocks[index])

    for future in [_pool.submit(fill_every_nth, first) for first in range(workers)]:
        future.result()
