"""Seed normalization and the library's global stream (CONTRACT §4).

* ``seed=int`` → the backend builds its own generator from that int, so the
  same call gives bit-identical values in every process.
* ``seed=None`` → the next int of the global stream. :func:`set_seed` restarts
  the stream, making every later unseeded call reproducible in call order, on
  every backend (each call consumes exactly one 63-bit seed).
* a native generator or key → handed to the backend untouched.
"""

from __future__ import annotations

import hashlib
import operator
import secrets
import threading
from typing import Any

import numpy as np

from unit_init.errors import SeedError

__all__ = ["MAX_SEED", "derive_seed", "normalize_seed", "set_seed"]

MAX_SEED = 2**63 - 1
"""Int seeds must lie in ``[0, MAX_SEED]``."""


class _GlobalStream:
    """A thread-safe sequence of seeds for unseeded calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.restart(secrets.randbits(63))

    def restart(self, seed: int) -> None:
        with self._lock:
            self._rng = np.random.default_rng(seed)

    def next(self) -> int:
        with self._lock:
            return int(self._rng.integers(0, MAX_SEED, endpoint=True))


_STREAM = _GlobalStream()


def _check_int(seed: Any) -> int:
    value = operator.index(seed)
    if not 0 <= value <= MAX_SEED:
        msg = f"seed={seed!r} must lie in [0, 2**63 - 1]."
        raise SeedError(msg)
    return value


def set_seed(seed: int) -> None:
    """Restart the global stream, so every later unseeded call is reproducible.

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.set_seed(0); a = ui.he_normal((4, 4))
    >>> ui.set_seed(0); b = ui.he_normal((4, 4))
    >>> bool((a == b).all())
    True
    """
    if isinstance(seed, bool) or not hasattr(seed, "__index__"):
        msg = f"set_seed(seed={seed!r}) needs an int in [0, 2**63 - 1]."
        raise SeedError(msg)
    _STREAM.restart(_check_int(seed))


def normalize_seed(seed: Any) -> Any:
    """An int seed validated, ``None`` replaced by the global stream's next seed.

    Anything else (a native generator or key) is returned unchanged; the
    backend decides whether it is one of its own.
    """
    if seed is None:
        return _STREAM.next()
    if isinstance(seed, bool):
        msg = "seed=True/False is not a seed; pass an int in [0, 2**63 - 1], None, or a native generator/key."
        raise SeedError(msg)
    if isinstance(seed, (int, np.integer)):
        return _check_int(seed)
    return seed


def derive_seed(seed: int, name: str) -> int:
    """An independent int seed for the part ``name`` of a seeded whole (a parameter, a layer's bias).

    ``blake2b(f"{seed}:{name}")`` cut to 63 bits: stable across processes and
    versions, and independent of every other name, so adding a parameter to a
    model leaves the others' values unchanged.

    Examples
    --------
    >>> derive_seed(0, "0.weight") == derive_seed(0, "0.weight") != derive_seed(0, "1.weight")
    True
    """
    digest = hashlib.blake2b(f"{_check_int(seed)}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & MAX_SEED
