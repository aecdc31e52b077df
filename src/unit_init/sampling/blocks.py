"""Large draws split into fixed blocks, each from its own stream, filled in parallel.

An i.i.d. distribution (:attr:`Distribution.iid`) can be drawn block by block:
a draw of at least :data:`PARALLEL_MIN` elements is cut into consecutive
blocks of :data:`BLOCK` elements (the last one shorter), block ``i`` is drawn
— all of it: draw, scaling, truncation, cast — from the ``i``-th of the
generators the backend seeds from the call's generator, and the blocks are
filled by a thread pool (NumPy's kernels release the GIL and run on one
thread each). A backend without :meth:`~unit_init.backends.base.Backend.block_streams`
(torch, whose kernels are multi-threaded already) draws the whole array at once.

The block size is a constant, so the values depend only on the seed, never on
the number of threads or cores. Each block's work stays in the CPU cache, and
a block's temporaries (a truncation mask, a float32 draw before a bfloat16
cast) are the size of a block, not of the array.

A draw of at least :data:`PROGRESS_MIN` elements counts its blocks on a
progress bar, shown under the policy of :mod:`unit_init.progress` (a terminal
or notebook, ``UNIT_INIT_PROGRESS``) and never inside another bar (an ``initialize``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from unit_init.progress import bar
from unit_init.threads import cpu_count, for_each

__all__ = ["BLOCK", "PARALLEL_MIN", "PROGRESS_MIN", "block_count", "cpu_count", "for_each_block"]

BLOCK: Final = 1 << 18
"""Elements per independently seeded block of a large draw (a constant: values never depend on the thread count)."""

PARALLEL_MIN: Final = 2 * BLOCK
"""Draws with at least this many elements are filled block by block, in parallel."""

PROGRESS_MIN: Final = 64 * BLOCK
"""Draws with at least this many elements (16.8 M) may show a progress bar (see :mod:`unit_init.progress`)."""


def block_count(size: int) -> int:
    """How many blocks a draw of ``size`` elements is cut into."""
    return -(-size // BLOCK)


def for_each_block(size: int, fill: Callable[[int, slice], object], threads: int) -> None:
    """Call ``fill(index, block)`` for every :data:`BLOCK`-sized slice of ``range(size)``, on up to ``threads`` threads.

    The calling thread fills blocks too, and every thread takes the next
    unfilled block until none is left (:func:`unit_init.threads.for_each`),
    so the result is the same whoever fills which block.
    """
    with bar(size if size >= PROGRESS_MIN else 0, "draw", unit="values") as advance:

        def fill_one(item: tuple[int, slice]) -> None:
            index, block = item
            fill(index, block)
            advance(block.stop - block.start)

        for_each(enumerate(slice(start, min(start + BLOCK, size)) for start in range(0, size, BLOCK)), fill_one, threads)
