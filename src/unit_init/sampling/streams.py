"""Streams: where random values come from, as values a sampler draws from.

A :class:`Stream` draws uniform, normal and truncated normal values in a work
dtype (float32 or float64) on its backend's device. Two kinds implement it:

* :class:`~unit_init.sampling.native.NativeStream`: a backend's own generator (``numpy.random.Generator``,
  ``torch.Generator``, a JAX key stream, TensorFlow stateless seeds) drawn
  through the backend's primitives; its truncated normals follow the
  truncation table (:mod:`unit_init.sampling.truncation`);
* :class:`~unit_init.portable.stream.PortableStream`: Threefry counters, the
  same values on every backend (``rng="portable"``).

Samplers (:mod:`unit_init.sampling.laws`) see only this protocol, so one law
is sampled by the same code from either kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from unit_init.backends.base import Backend

__all__ = ["GeneratorStream", "Stream"]


class Stream(Protocol):
    """Random draws in a work dtype on one backend and device; every draw advances the stream.

    ``low`` and ``high`` of :meth:`truncated_normal` are in units of ``std``
    around ``mean``; its values may overshoot ``mean + std·[low, high]`` by
    the last bit of rounding (the sampling entry confines them to the output
    dtype's grid).
    """

    backend: Backend
    device: Any
    positional: ClassVar[bool]
    """Each value is a function of its position in the whole array (the portable stream), so a block drawn alone
    (``region=``) must equal that block of the whole draw: samplers evaluate what may round differently by position
    (a framework's vectorized ``log``, ``sin``) in float64 where the device has it."""

    def uniform(self, shape: tuple[int, ...], dtype: str, low: float = 0.0, high: float = 1.0) -> Any:
        """``U[low, high)``."""

    def normal(self, shape: tuple[int, ...], dtype: str, mean: float = 0.0, std: float = 1.0) -> Any:
        """``N(mean, std²)``."""

    def rounds_once(self, dtype: str) -> bool:
        """Whether :meth:`uniform` and :meth:`normal` in the narrow float ``dtype`` (float16, bfloat16) give the values of
        the same draw in the work dtype rounded once to ``dtype``, and leave the stream where that draw does: a sampler
        then draws in ``dtype`` itself, and the stream needs no work-dtype array of the whole draw."""

    def truncated_normal(
        self, shape: tuple[int, ...], dtype: str, low: float, high: float, mean: float = 0.0, std: float = 1.0
    ) -> Any:
        """``mean + std·Z``, ``Z`` the standard normal conditioned on ``[low, high]`` (either bound may be infinite)."""


class GeneratorStream(Stream, Protocol):
    """A stream over a backend's native ``generator`` (what the truncation table's native methods need)."""

    generator: Any
