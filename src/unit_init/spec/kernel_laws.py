"""Laws of convolution kernels: a matrix at the centre tap, block-orthogonal kernels, a Fourier basis.

Each law receives resolved, non-negative ``in_axis`` and ``out_axis``; every
other axis of the shape is a window (tap) axis. The kernel is built in
``(*window, in, out)`` order in the work dtype (float32, float64 for float64
outputs), arranged into the caller's layout, then cast once. Only backend
primitives are used (the :class:`Orthogonal` law's draws, ``uniform``,
``eye``, ``full``, ``cast``) and what every namespace has (``@``, ``*``,
``-``, ``<``, slicing, ``reshape``, ``permute_dims``, ``matrix_transpose``,
``asarray``), so they draw on every backend.

* :class:`CentreTap` — any matrix law (here: :class:`Orthogonal`) at the tap
  ``((k₁ − 1) // 2, …)``, zero elsewhere: the delta-orthogonal kernel.
* :class:`BlockOrthogonal` — Xiao et al. 2018, Algorithm 1: an orthogonal
  convolution built from random symmetric projections.
* :class:`FourierKernel` — the deterministic STFT basis of Keras's ``STFT``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from unit_init.dtypes import is_float, work_dtype
from unit_init.errors import DTypeError
from unit_init.spec.distributions import Distribution, Draw, Orthogonal

if TYPE_CHECKING:
    from unit_init.backends.base import Backend

__all__ = ["BlockOrthogonal", "CentreTap", "FourierKernel", "Side"]

Side = Literal["real", "imag"]


def _window_axes(shape: tuple[int, ...], in_axis: int, out_axis: int) -> tuple[int, ...]:
    return tuple(a for a in range(len(shape)) if a not in (in_axis, out_axis))


def _one_hot(backend: Backend, sizes: tuple[int, ...], position: tuple[int, ...], dtype: str, device: Any) -> Any:
    """An array of shape ``sizes`` that is 1 at ``position`` and 0 elsewhere (one small ``eye`` row per axis)."""
    xp, tap = backend.xp, backend.full((), 1, dtype, device)
    for size, index in zip(sizes, position, strict=True):
        row = xp.reshape(backend.eye(size, size, 1, dtype, device)[index : index + 1, :], (size,))
        tap = xp.reshape(tap, (*tap.shape, 1)) * row
    return tap


def _arrange(backend: Backend, kernel: Any, shape: tuple[int, ...], in_axis: int, out_axis: int, dtype: str) -> Any:
    """A ``(*window, in, out)`` kernel permuted into ``shape``'s layout and cast once to ``dtype``."""
    order = (*_window_axes(shape, in_axis, out_axis), in_axis, out_axis)
    permutation = tuple(order.index(a) for a in range(len(shape)))
    if permutation != tuple(range(len(shape))):
        kernel = backend.xp.permute_dims(kernel, permutation)
    return backend.cast(kernel, dtype)


@dataclass(frozen=True, slots=True)
class CentreTap(Distribution):
    """``matrix`` drawn for the ``(in, out)`` shape, placed at the centre tap; every other tap is 0.

    The centre of a window axis of size ``k`` is ``(k − 1) // 2`` (JAX's
    ``delta_orthogonal`` and TensorFlow's ``ConvolutionDeltaOrthogonal``; for
    odd ``k`` the middle tap). ``matrix`` is a random law (it draws from the
    call's generator).
    """

    matrix: Distribution
    in_axis: int
    out_axis: int

    def reach(self) -> tuple[float, float]:
        return self.matrix.reach()

    def sample(self, backend: Backend, draw: Draw) -> Any:
        shape, work, xp = draw.shape, work_dtype(draw.dtype), backend.xp
        sizes = tuple(shape[a] for a in _window_axes(shape, self.in_axis, self.out_axis))
        inputs, outputs = shape[self.in_axis], shape[self.out_axis]
        with backend.placement(draw.device):
            matrix = self.matrix.sample(backend, Draw((inputs, outputs), work, draw.device, draw.generator))
            tap = _one_hot(backend, sizes, tuple((k - 1) // 2 for k in sizes), work, draw.device)
            kernel = xp.reshape(tap, (*sizes, 1, 1)) * matrix
            return _arrange(backend, kernel, shape, self.in_axis, self.out_axis, draw.dtype)


@dataclass(frozen=True, slots=True)
class BlockOrthogonal(Distribution):
    """A random orthogonal convolution kernel (Xiao et al. 2018, Algorithm 1), times ``gain``.

    With ``n = out`` channels, each window axis ``a`` of size ``kₐ`` takes
    ``kₐ − 1`` two-tap factors ``[P, I − P]``, ``P = Q·diag(m)·Qᵀ`` a random
    symmetric projection (``Q`` Haar-orthogonal ``n × n``, ``m`` i.i.d.
    Bernoulli(½)). Starting from ``I`` at tap 0, the factors multiply on the
    right by matrix convolution, one per axis in turn (TensorFlow's
    ``ConvolutionOrthogonal{1,2,3}D`` order for equal sizes)::

        K'[t] = K[t]·P + K[t − eₐ]·(I − P)

    and the kernel is ``W[t] = gain · R·K[t]`` with ``R`` the ``in × out``
    Haar row-orthonormal matrix. Each factor is paraunitary, so for ``in ≤ out``
    the circular convolution with ``W`` is ``gain`` times an isometry:
    ``Σ_t W[t]·W[t]ᵀ = gain²·I`` and, per frequency, ``Ŵ(ω)·Ŵ(ω)ᴴ = gain²·I``.
    """

    gain: float
    in_axis: int
    out_axis: int

    def reach(self) -> tuple[float, float]:
        """The taps of an isometry have entries of magnitude at most ``|gain|`` (``1`` before scaling)."""
        return (1.001 * abs(self.gain), 1.001 * max(abs(self.gain), 1.0))

    def sample(self, backend: Backend, draw: Draw) -> Any:
        shape, work, xp = draw.shape, work_dtype(draw.dtype), backend.xp
        sizes = tuple(shape[a] for a in _window_axes(shape, self.in_axis, self.out_axis))
        n = shape[self.out_axis]
        steps = [a for r in range(max(sizes, default=1) - 1) for a in range(len(sizes)) if r < sizes[a] - 1]
        with backend.placement(draw.device):
            rows = Orthogonal(self.gain, (1,)).sample(backend, Draw((shape[self.in_axis], n), work, draw.device, draw.generator))
            eye = backend.eye(n, n, 1, work, draw.device)
            kernel = xp.reshape(_one_hot(backend, sizes, (0,) * len(sizes), work, draw.device), (*sizes, 1, 1)) * eye
            if steps:
                q = Orthogonal(1.0, (2,), (0,)).sample(backend, Draw((len(steps), n, n), work, draw.device, draw.generator))
                keep = backend.cast(backend.uniform(draw.generator, (len(steps), 1, n), work, draw.device) < 0.5, work)
                projections = (q * keep) @ xp.matrix_transpose(q)
                for index, axis in enumerate(steps):
                    kept = kernel @ projections[index]
                    kernel = kept + _shifted(backend, kernel - kept, axis, work, draw.device)
            return _arrange(backend, rows @ kernel, shape, self.in_axis, self.out_axis, draw.dtype)


def _shifted(backend: Backend, kernel: Any, axis: int, dtype: str, device: Any) -> Any:
    """``kernel`` moved one tap along ``axis`` (tap 0 becomes 0; the last tap, 0 while the kernel grows, drops off)."""
    xp, shape = backend.xp, tuple(kernel.shape)
    size, rest = shape[axis], math.prod(shape) // max(shape[axis], 1)
    front = (axis, *(a for a in range(len(shape)) if a != axis))
    shift = backend.eye(size + 1, size + 1, 1, dtype, device)[:size, 1:]  # shift[i, j] = 1 where i = j + 1
    moved = shift @ xp.reshape(xp.permute_dims(kernel, front), (size, rest))
    moved = xp.reshape(moved, tuple(shape[a] for a in front))
    return xp.permute_dims(moved, tuple(front.index(a) for a in range(len(shape))))


@dataclass(frozen=True, slots=True)
class FourierKernel(Distribution):
    """The real or imaginary part of the DFT basis, windowed: ``W[t, c, f] = trig(−π·t·f / (F − 1)) · w[t] / divisor``.

    ``trig`` is ``cos`` (``side="real"``) or ``sin`` (``"imag"``), ``t`` the
    tap (the one window axis, of size ``T``), ``f < F`` the out channel, the
    same for every in channel ``c``; ``window`` holds ``w`` (``None``: 1). The
    phase ``t·f`` is reduced modulo ``2(F − 1)`` in integers and evaluated in
    float64, so each value is the correctly rounded one up to a float64 ulp.
    """

    side: Side
    window: tuple[float, ...] | None
    divisor: float
    in_axis: int
    out_axis: int
    random: ClassVar[bool] = False

    def reach(self) -> tuple[float, float]:
        largest = 1.0 if self.window is None else max(map(abs, self.window), default=0.0) / self.divisor
        return (largest, largest)

    def sample(self, backend: Backend, draw: Draw) -> Any:
        if not is_float(draw.dtype):
            msg = f"the STFT kernel holds cosines and sines, which need a floating dtype, not dtype={draw.dtype!r}."
            raise DTypeError(msg)
        shape, work, xp = draw.shape, work_dtype(draw.dtype), backend.xp
        (taps,) = (shape[a] for a in _window_axes(shape, self.in_axis, self.out_axis))
        bands, period = shape[self.out_axis], 2 * (shape[self.out_axis] - 1)
        phase = np.outer(np.arange(taps, dtype=np.int64), np.arange(bands, dtype=np.int64)) % period
        angle = -np.pi * phase / (bands - 1)
        values = np.cos(angle) if self.side == "real" else np.sin(angle)
        if self.window is not None:
            values *= np.asarray(self.window, dtype=np.float64)[:, None] / self.divisor
        host = values[:, None, :].astype(work)
        with backend.placement(draw.device):
            kernel = xp.asarray(host, dtype=backend.dtype_on(work, draw.device), device=draw.device)
            kernel = kernel * backend.full((1, shape[self.in_axis], 1), 1, work, draw.device)
            return _arrange(backend, kernel, shape, self.in_axis, self.out_axis, draw.dtype)
