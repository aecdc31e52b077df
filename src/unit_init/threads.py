"""One lazily created thread pool, and a parallel loop over independent pieces of work.

NumPy's kernels release the GIL and run on one thread each, so pieces of one
large NumPy draw (the blocks of a native draw, :mod:`unit_init.sampling.blocks`;
the chunks of a portable draw, :mod:`unit_init.portable.stream`) run on several
cores from Python threads (torch's kernels are multi-threaded themselves). The values never depend on the number of threads: each piece
is a pure function of its index.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["cpu_count", "for_each"]

T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.RLock()  # re-entrant: a signal handler that draws runs on the thread that may hold it
_running = threading.local()  # .inside: whether this thread runs a parallel loop (a signal handler's draw may re-enter it)


def _forget_pool() -> None:
    """In a forked child: the parent's pool threads do not exist there, so the child makes its own pool when it needs one."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.RLock()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_pool)


def cpu_count() -> int:
    """The cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def for_each(items: Iterable[T], work: Callable[[T], object], threads: int) -> None:
    """Call ``work(item)`` for every item, on up to ``threads`` threads (the calling one included).

    Every thread takes the next item until none is left, so a pool thread
    that is slow to wake up never holds the loop back (a helper that has not
    started when the items run out is cancelled, not waited for). The first
    exception raised by any ``work`` is raised here, after every thread has
    stopped; an exception or an interrupt in one thread stops the others after
    the item each holds. A forked child process gets a pool of its own; while the
    interpreter shuts down (no new thread may start), the calling thread does
    all the work, and so does a loop started on a thread already in one (a
    signal handler that draws, run while the loop it interrupted was handing
    work to the pool, whose ``submit`` holds a lock of its own that is not
    re-entrant).

    Examples
    --------
    >>> done = []
    >>> for_each(range(5), done.append, threads=2)
    >>> sorted(done)
    [0, 1, 2, 3, 4]
    """
    global _pool  # one pool per process, shared by every caller
    pending = collections.deque(items)

    def drain() -> None:
        while True:
            try:
                item = pending.popleft()  # atomic: each item is taken once
            except IndexError:
                return
            try:
                work(item)
            except BaseException:  # an error or an interrupt (Ctrl-C) in any thread abandons the loop: the others stop
                pending.clear()  # after the item they hold, not after every item left
                raise

    helpers_wanted = min(threads, len(pending)) - 1
    if helpers_wanted < 1 or getattr(_running, "inside", False):
        drain()
        return
    helpers: list[Future[None]] = []
    _running.inside = True
    try:
        try:
            with _pool_lock:
                if _pool is None:  # concurrent.futures is imported on the first parallel loop: it costs ~10 ms
                    from concurrent.futures import ThreadPoolExecutor

                    _pool = ThreadPoolExecutor(max_workers=cpu_count(), thread_name_prefix="unit_init")
            helpers.extend(_pool.submit(drain) for _ in range(helpers_wanted))
        except RuntimeError:  # the interpreter is shutting down: no new threads; the calling one does all the work
            pass
        drain()
    except BaseException:  # also an interrupt while helpers were handed the loop: any of them, recorded or not, stops
        pending.clear()
        raise
    finally:
        _running.inside = False
        errors = [None if helper.cancel() else helper.exception() for helper in helpers]  # waits for the helpers that started
    for error in errors:
        if error is not None:
            raise error
