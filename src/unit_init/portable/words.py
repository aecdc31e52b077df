"""Unsigned 32-bit words with wrap-around arithmetic, over any backend's Array-API namespace.

The portable stream (:mod:`unit_init.portable`) computes Threefry on 32-bit
words. Every operation here is exact modulo 2³², so the same bits come out on
every backend and device.

Words live in ``uint32`` arrays. A framework without ``uint32`` arithmetic
(PyTorch implements only a few ops for it) stores the same 32 bits in
``int32`` (two's complement, ``Backend.word_dtype = "int32"``): addition,
multiplication, xor, or, and left shift give the same bits there, and right
shifts mask off the sign extension, so the result is identical bit for bit.

Backends with mutable arrays (NumPy, torch) also get in-place variants
(``iadd``, ``ixor``, ``irotl``, ``ishr``, ``ifield``): they overwrite their first argument,
which the caller must own, and avoid one allocation per operation. Elsewhere
they are the plain operations, so code written with them runs everywhere.
A backend whose framework shifts and adds in one pass gives ``shift_in``
(:meth:`unit_init.backends.base.Backend.shift_in`), and ``irotl`` takes one
pass fewer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final

__all__ = ["MASK", "Words", "cached_constant"]

MASK: Final = 0xFFFFFFFF
"""All 32 bits set."""


class Words:
    """32-bit word arithmetic on one device.

    Parameters
    ----------
    xp:
        The backend's Array-API namespace.
    dtype:
        ``"uint32"``, or ``"int32"`` for frameworks without uint32 arithmetic.
    device:
        The native device the words are created on.
    inplace:
        Whether the ``i…`` methods may overwrite their first argument (mutable arrays).
    shift_in:
        ``(a, low, r) -> (a << r) | low`` written into ``a`` in one pass, or
        ``None`` (only used where ``inplace``).
    """

    __slots__ = ("device", "dtype", "inplace", "python_scalars", "shift_in", "signed", "xp")

    def __init__(
        self, xp: Any, dtype: str, device: Any, *, inplace: bool = False, shift_in: Callable[[Any, Any, int], Any] | None = None
    ) -> None:
        self.xp = xp
        self.dtype = getattr(xp, dtype)
        self.signed = dtype == "int32"
        self.device = device
        self.inplace = inplace
        self.shift_in = shift_in
        self.python_scalars = getattr(xp, "__array_api_version__", "2024.12") >= "2024.12"

    def _bits(self, value: int) -> int:
        """``value`` (in ``[0, 2³²)``) as the Python int the word dtype stores it as."""
        value &= MASK
        return value - (1 << 32) if self.signed and value >= 1 << 31 else value

    def _operand(self, value: int) -> Any:
        """``value`` as a cached 0-d word array (torch wraps a Python int into a new tensor on every op)."""
        return cached_constant(self.xp, self.dtype, self.device, self._bits(value))

    def _scalar(self, value: int) -> Any:
        """``value`` (in ``[0, 2³¹)``) as the second operand of a bitwise function: the Python int, or a 0-d word array
        for a namespace of a standard before 2024.12, which takes no Python scalars there."""
        return value if self.python_scalars else self.constant(value)

    def constant(self, value: int) -> Any:
        """A 0-d word array holding ``value mod 2³²``."""
        return self.xp.asarray(self._bits(value), dtype=self.dtype, device=self.device)

    def arange(self, start: int, stop: int) -> Any:
        """The words ``start, start + 1, …, stop - 1`` (all below 2³¹)."""
        return self.xp.arange(start, stop, dtype=self.dtype, device=self.device)

    def add(self, a: Any, b: Any) -> Any:
        """``(a + b) mod 2³²``."""
        return self.xp.add(a, b)

    def mul(self, a: Any, k: int) -> Any:
        """``(a · k) mod 2³²`` for a Python int ``k``."""
        return self.xp.multiply(a, self.constant(k))

    def xor(self, a: Any, b: Any) -> Any:
        return self.xp.bitwise_xor(a, b)

    def mask(self, a: Any, bits: int) -> Any:
        """The low ``bits`` bits of ``a`` (``bits <= 31``): a non-negative value in both representations."""
        return self.xp.bitwise_and(a, self._scalar((1 << bits) - 1))

    def shr(self, a: Any, r: int) -> Any:
        """Logical right shift by ``r`` (1 to 31): the top ``32 - r`` bits, non-negative."""
        shifted = self.xp.bitwise_right_shift(a, self._scalar(r))
        return self.mask(shifted, 32 - r) if self.signed else shifted

    def rotl(self, a: Any, r: int) -> Any:
        """Rotate left by ``r`` (1 to 31): ``(a << r) | (a >> (32 - r))``."""
        return self.xp.bitwise_or(self.xp.bitwise_left_shift(a, self._scalar(r)), self.shr(a, 32 - r))

    # --- in place where the arrays are mutable: ``a`` must be owned by the caller and have the result's shape ---

    def iadd(self, a: Any, b: Any) -> Any:
        """``add(a, b)``, overwriting ``a`` where possible."""
        if not self.inplace:
            return self.add(a, b)
        a += b
        return a

    def ixor(self, a: Any, b: Any) -> Any:
        """``xor(a, b)``, overwriting ``a`` where possible."""
        if not self.inplace:
            return self.xor(a, b)
        a ^= b
        return a

    def ishr(self, a: Any, r: int) -> Any:
        """``shr(a, r)``, overwriting ``a`` where possible."""
        if not self.inplace:
            return self.shr(a, r)
        a >>= self._operand(r)
        if self.signed:
            a &= self._operand((1 << (32 - r)) - 1)
        return a

    def ifield(self, a: Any, shift: int, bits: int) -> Any:
        """Bits ``shift`` to ``shift + bits − 1`` of ``a`` as a non-negative word (``shift + bits < 32``), overwriting
        ``a`` where possible: a shift and one mask, which also clears the sign extension of int32 words."""
        if not self.inplace:
            return self.mask(self.xp.bitwise_right_shift(a, self._scalar(shift)), bits)
        a >>= self._operand(shift)
        a &= self._operand((1 << bits) - 1)
        return a

    def irotl(self, a: Any, r: int) -> Any:
        """``rotl(a, r)``, overwriting ``a`` where possible: one temporary (the bits rotated in)."""
        if not self.inplace:
            return self.rotl(a, r)
        low = a >> self._operand(32 - r)
        if self.signed:
            low &= self._operand((1 << r) - 1)
        if self.shift_in is not None:
            return self.shift_in(a, low, r)
        a <<= self._operand(r)
        a |= low
        return a

    def to_float(self, a: Any, dtype: Any) -> Any:
        """Non-negative words below 2³¹ as floats of the native ``dtype`` (exact below 2²⁴ / 2⁵³)."""
        return self.xp.astype(a, dtype)


@functools.lru_cache(maxsize=1024)
def cached_constant(xp: Any, dtype: Any, device: Any, value: float) -> Any:
    """``value`` as a 0-d array of ``dtype`` on ``device``, made once (read-only by convention: an operand, never a target)."""
    return xp.asarray(value, dtype=dtype, device=device)
