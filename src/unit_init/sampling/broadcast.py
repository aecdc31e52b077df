"""Deterministic fills that broadcast a small array over the requested shape (NumPy's rules).

Used by the samplers (:mod:`unit_init.sampling.laws`) of the batched identity
(:class:`~unit_init.spec.distributions.Eye`, drawn by :class:`unit_init.Identity`
of rank >= 3 as Haiku's ``Identity``) and of the array constant
(:class:`~unit_init.spec.distributions.ArrayConstant`, drawn by
:class:`unit_init.ConstantArray`).
Only backend primitives are used: the small array is made on the device, then
given the rank of the shape (leading axes of size 1: JAX's
``jax_numpy_rank_promotion="raise"`` refuses to broadcast across ranks), then
multiplied by ``full(shape, 1)``, which broadcasts it (exact: ``x·1 = x``,
also for ``-0.0``; :func:`exact_product`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unit_init.backends.base import Backend

__all__ = ["batched_eye", "broadcast", "exact_product"]


def exact_product(xp: Any, a: Any, b: Any, dtype: str) -> Any:
    """``a · b`` of two arrays in ``dtype`` (broadcast), staying in it: ``logical_and`` for ``bool``, which the
    Array-API standard and TensorFlow refuse to multiply (NumPy, torch and JAX multiply two bool arrays into bool)."""
    return xp.logical_and(a, b) if dtype == "bool" else a * b


def broadcast(backend: Backend, x: Any, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
    """``x`` (on ``device``, in ``dtype``, of a shape that broadcasts to ``shape``) broadcast to ``shape``."""
    if tuple(x.shape) == shape:
        return x
    with backend.placement(device):
        same_rank = backend.xp.reshape(x, (1,) * (len(shape) - len(x.shape)) + tuple(x.shape))  # JAX may refuse rank promotion
        return exact_product(backend.xp, same_rank, backend.full(shape, 1, dtype, device), dtype)


def batched_eye(backend: Backend, gain: float, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
    """``gain · eye(rows, cols)`` for ``shape = (..., rows, cols)``, the same matrix at every leading index."""
    rows, cols = shape[-2:]
    return broadcast(backend, backend.eye(rows, cols, gain, dtype, device), shape, dtype, device)
