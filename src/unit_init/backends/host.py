"""The host memory this process may still allocate, as the OS reports it (no framework asked).

:meth:`Backend.free_bytes <unit_init.backends.base.Backend.free_bytes>`
returns it for host arrays; the memory guard (:mod:`unit_init.resources`)
compares each draw's estimate with it.
"""

from __future__ import annotations

import contextlib
import os
import re
from typing import Final

__all__ = ["host_free_bytes"]


def host_free_bytes() -> int | None:
    """The host memory this process may still allocate: the least of what the OS, the cgroup and ``RLIMIT_AS`` leave.

    ``MemAvailable`` of ``/proc/meminfo`` (else ``os.sysconf`` available
    pages), capped by a cgroup v2 ``memory.max − memory.current`` and by the
    address-space limit minus the address space in use; ``None`` where the
    platform reports none of these.
    """
    known = [free for free in (_available(), _cgroup_free(), _address_space_free()) if free is not None]
    return min(known) if known else None


_READ_BYTES: Final = 256
"""Bytes read of a file: ``MemAvailable`` is ``/proc/meminfo``'s third line (at offset < 100 bytes), the other files
hold one short line; the kernel copies only what is asked (a 4 KiB read costs ~4 µs more)."""

_MEM_AVAILABLE: Final = re.compile(r"^MemAvailable:\s+(\d+) kB", re.MULTILINE)

_descriptors: dict[str, int | None] = {}
"""The descriptor each file read is kept open on (``None``: the file could not be opened), per process."""


def _read(path: str) -> str | None:
    """The first :data:`_READ_BYTES` of the kernel file at ``path`` as it is now; ``None`` where it cannot be read.

    The file is opened once and read from offset 0 on every call (``pread``):
    the kernel generates these files afresh on each read, and opening and
    closing them on every call cost most of the ~45 µs the memory guard
    spent on each large draw. A file that cannot be opened is not tried again
    (no cgroup v2 here, say). A forked child opens its own
    (:func:`_forget_descriptors`): ``/proc/self`` was its parent's.
    """
    if path not in _descriptors:
        try:
            opened: int | None = os.open(path, os.O_RDONLY)
        except OSError:
            opened = None
        if _descriptors.setdefault(path, opened) != opened and opened is not None:
            os.close(opened)  # another thread's descriptor was kept first
    descriptor = _descriptors[path]
    if descriptor is None:
        return None
    try:
        return os.pread(descriptor, _READ_BYTES, 0).decode("ascii", errors="replace")
    except OSError:
        return None


def _forget_descriptors() -> None:
    """In a forked child: close the parent's descriptors (``/proc/self/statm`` names the parent), to be opened again."""
    for descriptor in _descriptors.values():
        if descriptor is not None:
            with contextlib.suppress(OSError):
                os.close(descriptor)
    _descriptors.clear()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_descriptors)


def _available() -> int | None:
    meminfo = _read("/proc/meminfo")
    found = _MEM_AVAILABLE.search(meminfo or "")
    if found:
        return int(found[1]) * 1024
    with contextlib.suppress(AttributeError, ValueError, OSError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return None


def _cgroup_free() -> int | None:
    limit, used = _read("/sys/fs/cgroup/memory.max"), _read("/sys/fs/cgroup/memory.current")
    if limit is None or used is None or not limit.strip().isdigit() or not used.strip().isdigit():
        return None
    return max(0, int(limit) - int(used))


def _address_space_free() -> int | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:  # the common case: no address-space limit, nothing to read
        return None
    statm = _read("/proc/self/statm")
    if statm is None:
        return None
    return max(0, soft - int(statm.split()[0]) * os.sysconf("SC_PAGE_SIZE"))
