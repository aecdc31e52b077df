"""Threefry-2x32 with 20 rounds, written once over :class:`~unit_init.portable.words.Words`.

The counter-based generator of Random123 (J. K. Salmon, M. A. Moraes,
R. O. Dror and D. E. Shaw, "Parallel random numbers: as easy as 1, 2, 3",
SC'11, https://doi.org/10.1145/2063384.2063405), the one ``jax.random`` uses.
It maps a key ``(k0, k1)`` and a counter ``(c0, c1)`` to two pseudo-random
32-bit words, a bijection of the counter for each key::

    k2 = k0 ^ k1 ^ 0x1BD11BDA
    x0, x1 = c0 + k0, c1 + k1
    for i in 0 .. 19:
        x0 += x1;  x1 = rotl(x1, R[i mod 8]);  x1 ^= x0
        if i mod 4 == 3:                      # key injection s = (i + 1) / 4
            x0 += k[s mod 3];  x1 += k[(s + 1) mod 3] + s

with rotations ``R = 13, 15, 26, 6, 17, 29, 16, 24`` and all additions mod 2³².
Every element is computed independently of the others, so any block of
counters can be evaluated anywhere, in any order.
"""

from __future__ import annotations

from typing import Any, Final

from unit_init.portable.words import Words

__all__ = ["ROTATIONS", "ROUNDS", "threefry2x32"]

ROTATIONS: Final = (13, 15, 26, 6, 17, 29, 16, 24)
ROUNDS: Final = 20
_PARITY: Final = 0x1BD11BDA


def threefry2x32(words: Words, key: tuple[Any, Any], counter: tuple[Any, Any]) -> tuple[Any, Any]:
    """Threefry-2x32-20 of ``counter`` under ``key``; all four are word arrays (broadcastable).

    Examples
    --------
    The Random123 known-answer test for key 0, counter 0:

    >>> import numpy as np
    >>> w = Words(np, "uint32", "cpu")
    >>> x0, x1 = threefry2x32(w, (w.constant(0), w.constant(0)), (w.constant(0), w.constant(0)))
    >>> f"{int(x0):08x} {int(x1):08x}"
    '6b200159 99ba4efe'
    """
    k0, k1 = key
    schedule = (k0, k1, words.xor(words.xor(k0, k1), words.constant(_PARITY)))
    injections = [  # (to x0, to x1) after rounds 3, 7, …: on the (small) key words, once
        (schedule[s % 3], words.add(schedule[(s + 1) % 3], words.constant(s))) for s in range(1, ROUNDS // 4 + 1)
    ]
    x1 = words.add(counter[1], k1)
    x0 = words.iadd(words.add(counter[0], k0), x1)  # round 0, written so that x1 may be a broadcast scalar
    x1 = words.xor(x0, words.rotl(x1, ROTATIONS[0]))
    for i in range(1, ROUNDS):
        x0 = words.iadd(x0, x1)
        x1 = words.ixor(words.irotl(x1, ROTATIONS[i % 8]), x0)
        if i % 4 == 3:
            to_x0, to_x1 = injections[i // 4]
            x0 = words.iadd(x0, to_x0)
            x1 = words.iadd(x1, to_x1)
    return x0, x1
