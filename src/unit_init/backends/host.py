"""The host memory this process may still allocate, as the OS reports it (no framework asked).

:meth:`Backend.free_bytes <unit_init.backends.base.Backend.free_bytes>`
returns it for host arrays; the memory guard (:mod:`unit_init.resources`)
compares each draw's estimate with it.
"""

from __future__ import annotations

import contextlib
import os
import re

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


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as file:
            return file.read()
    except OSError:
        return None


def _available() -> int | None:
    meminfo = _read("/proc/meminfo")
    found = re.search(r"^MemAvailable:\s+(\d+) kB", meminfo or "", re.MULTILINE)
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
    if soft == resource.RLIM_INFINITY:  # the common case: no limit, no file to read
        return None
    statm = _read("/proc/self/statm")
    if statm is None:
        return None
    return max(0, soft - int(statm.split()[0]) * os.sysconf("SC_PAGE_SIZE"))
