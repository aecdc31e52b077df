"""Streams: where random values come from, as values a sampler draws from.

A :class:`Stream` draws uniform, normal and truncated normal values in a work
dtype (float32 or float64) on its backend's device. Two kinds implement it:

* :class:`NativeStream`: a backend's own generator (``numpy.random.Generator``,
  ``torch.Generator``, a JAX key stream, TensorFlow stateless seeds) drawn
  through the backend's primitives; its truncated normals follow the
  truncation table (:mod:`unit_init.sampling.truncation`);
* :class:`~unit_init.portable.stream.PortableStream`: Threefry counters, the
  same values on every backend (``rng="portable"``).

Samplers (:mod:`unit_init.sampling.laws`) see only this protocol, so one law
is sampled by the same code from either kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from unit_init.sampling import truncation

if TYPE_CHECKING:
    from unit_init.backends.base import Backend

__all__ = ["NativeStream", "Stream"]


class Stream(Protocol):
    """Random draws in a work dtype on one backend and device; every draw advances the stream.

    ``low`` and ``high`` of :meth:`truncated_normal` are in units of ``std``
    around ``mean``; its values may overshoot ``mean + std·[low, high]`` by
    the last bit of rounding (the sampling entry confines them to the output
    dtype's grid).
    """

    backend: Backend
    device: Any

    def uniform(self, shape: tuple[int, ...], dtype: str, low: float = 0.0, high: float = 1.0) -> Any:
        """``U[low, high)``."""

    def normal(self, shape: tuple[int, ...], dtype: str, mean: float = 0.0, std: float = 1.0) -> Any:
        """``N(mean, std²)``."""

    def truncated_normal(
        self, shape: tuple[int, ...], dtype: str, low: float, high: float, mean: float = 0.0, std: float = 1.0
    ) -> Any:
        """``mean + std·Z``, ``Z`` the standard normal conditioned on ``[low, high]`` (either bound may be infinite)."""


class NativeStream:
    """A backend's native ``generator`` on ``device``, drawn through the backend's primitives.

    Examples
    --------
    >>> from unit_init.backends.registry import get_backend
    >>> numpy = get_backend("numpy")
    >>> stream = NativeStream(numpy, numpy.generator(0, "cpu"), "cpu")
    >>> stream.uniform((2, 3), "float32", -1.0, 1.0).shape
    (2, 3)
    """

    __slots__ = ("backend", "device", "generator")

    def __init__(self, backend: Backend, generator: Any, device: Any) -> None:
        self.backend = backend
        self.generator = generator
        self.device = device

    def uniform(self, shape: tuple[int, ...], dtype: str, low: float = 0.0, high: float = 1.0) -> Any:
        if low == 0.0 and high == 1.0:
            return self.backend.uniform(self.generator, shape, dtype, self.device)
        return self.backend.uniform_between(self.generator, shape, low, high, dtype, self.device)

    def normal(self, shape: tuple[int, ...], dtype: str, mean: float = 0.0, std: float = 1.0) -> Any:
        if mean == 0.0 and std == 1.0:
            return self.backend.normal(self.generator, shape, dtype, self.device)
        return self.backend.normal_scaled(self.generator, shape, mean, std, dtype, self.device)

    def truncated_normal(
        self, shape: tuple[int, ...], dtype: str, low: float, high: float, mean: float = 0.0, std: float = 1.0
    ) -> Any:
        """Drawn by the method the truncation table gives the backend (:func:`unit_init.sampling.truncation.truncated_normal`)."""
        return truncation.truncated_normal(self, shape, dtype, low, high, mean, std)
