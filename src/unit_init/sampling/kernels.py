"""Samplers of the convolution-kernel laws (:mod:`unit_init.spec.kernel_laws`).

Each builds its kernel in ``(…, in, out)`` order and lays it out in the
draw's shape (:func:`~unit_init.sampling.laws.laid_out`). The random ones
(:class:`~unit_init.spec.kernel_laws.CentreTap`,
:class:`~unit_init.spec.kernel_laws.BlockOrthogonal`) return work-dtype
values, their Haar matrices drawn by the
:class:`~unit_init.spec.distributions.HaarOrthogonal` sampler; the Fourier
basis is computed in float64 on the host and returned in the output dtype.
Besides backend primitives, only what every namespace has is used (``@``,
``*``, ``-``, ``<``, slicing, ``reshape``, ``permute_dims``,
``matrix_transpose``, ``asarray``), so they draw on every backend.

Examples
--------
>>> import numpy as np, unit_init as ui
>>> w = ui.convolution_orthogonal((3, 4, 8), seed=0)  # a Keras Conv1D kernel
>>> bool(np.allclose(np.einsum("tio,tjo->ij", w, w), np.eye(4), atol=1e-5))
True
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from unit_init.dtypes import is_complex, real_dtype, round_to_grid
from unit_init.sampling.laws import Draw, at_centre_tap, dispatch, laid_out, one_hot_tap, sampler
from unit_init.spec.distributions import HaarOrthogonal
from unit_init.spec.kernel_laws import BlockOrthogonal, CentreTap, FourierKernel

if TYPE_CHECKING:
    from unit_init.backends.base import Backend

__all__: list[str] = []


def _window_axes(shape: tuple[int, ...], in_axis: int, out_axis: int) -> tuple[int, ...]:
    return tuple(a for a in range(len(shape)) if a not in (in_axis, out_axis))


def _haar(draw: Draw, shape: tuple[int, ...], gain: float, out_axes: tuple[int, ...], batch_axes: tuple[int, ...] = ()) -> Any:
    """A :class:`HaarOrthogonal` draw of ``shape`` from ``draw``'s stream (work dtype)."""
    law = HaarOrthogonal(gain, out_axes, batch_axes)
    return dispatch(law)(law, draw._replace(shape=shape))


@sampler(CentreTap)
def _centre_tap(law: CentreTap, draw: Draw) -> Any:
    """The ``(in, out)`` matrix drawn from the stream at the lower-middle tap of every window axis.

    A real matrix comes in the work dtype, a complex one (a unitary centre) in the output dtype: the taps take its dtype.
    """
    backend, shape = draw.backend, draw.shape
    matrix = dispatch(law.matrix)(law.matrix, draw._replace(shape=(shape[law.in_axis], shape[law.out_axis])))
    dtype = draw.dtype if is_complex(draw.dtype) else draw.work
    with backend.placement(draw.device):
        return at_centre_tap(draw, backend.xp.matrix_transpose(matrix), law.in_axis, law.out_axis, dtype, "lower")


@sampler(BlockOrthogonal)
def _block_orthogonal(law: BlockOrthogonal, draw: Draw) -> Any:
    """``gain·R·K[t]``: the identity at tap 0 convolved with one ``[P, I − P]`` factor per step, ``R`` Haar ``in × out``.

    The steps take the window axes in rounds, one step per axis per round
    (TensorFlow's order, which the law depends on), axis ``a`` taking
    ``kₐ − 1`` of them; ``P = Q·diag(m)·Qᵀ`` with ``Q`` Haar and ``m`` Bernoulli(½)
    (uniforms below ½). The kernel grows to ``(*window, out, out)`` before
    ``R`` makes it ``(*window, in, out)``.
    """
    backend, shape, work, device = draw.backend, draw.shape, draw.work, draw.device
    xp = backend.xp
    window_axes = _window_axes(shape, law.in_axis, law.out_axis)
    sizes, n = tuple(shape[a] for a in window_axes), shape[law.out_axis]
    steps = [a for r in range(max(sizes, default=1) - 1) for a in range(len(sizes)) if r < sizes[a] - 1]
    rows = _haar(draw, (shape[law.in_axis], n), law.gain, (1,))
    with backend.placement(device):
        start = one_hot_tap(backend, sizes, (0,) * len(sizes), work, device)
        kernel = xp.reshape(start, (*sizes, 1, 1)) * xp.reshape(backend.eye(n, n, 1, work, device), (*(1 for _ in sizes), n, n))
        if steps:
            q = _haar(draw, (len(steps), n, n), 1.0, (2,), (0,))
            keep = backend.cast(draw.stream.uniform((len(steps), 1, n), work) < 0.5, work)
            projections = (q * keep) @ xp.matrix_transpose(q)
            for index, axis in enumerate(steps):
                kept = kernel @ projections[index, ...]
                kernel = kept + _shifted(backend, kernel - kept, axis, work, device)
        return laid_out(xp, rows @ kernel, shape, (*window_axes, law.in_axis, law.out_axis))


def _shifted(backend: Backend, kernel: Any, axis: int, dtype: str, device: Any) -> Any:
    """``kernel`` moved one tap along ``axis`` (tap 0 becomes 0; the last tap, 0 while the kernel grows, drops off)."""
    xp, shape = backend.xp, tuple(kernel.shape)
    size, rest = shape[axis], math.prod(shape) // max(shape[axis], 1)
    front = (axis, *(a for a in range(len(shape)) if a != axis))
    taps = xp.reshape(xp.permute_dims(kernel, front), (size, rest))
    moved = xp.concat([backend.full((1, rest), 0, dtype, device), taps[: size - 1, :]], axis=0)  # a copy: no size² shift matrix
    return laid_out(xp, moved, shape, front)


@sampler(FourierKernel)
def _fourier(law: FourierKernel, draw: Draw) -> Any:
    """``trig(−π·t·f / (F − 1))·w[t] / divisor`` in float64 on the host, rounded there once onto the output dtype's
    grid (:func:`~unit_init.dtypes.round_to_grid`), moved to the device in the work dtype (exactly) and cast (exactly)."""
    backend, shape, work = draw.backend, draw.shape, draw.work
    if not backend.holds_values(draw.device):  # the basis would be computed on the host for nothing
        return backend.full(shape, 0, draw.dtype, draw.device)
    window_axes = _window_axes(shape, law.in_axis, law.out_axis)
    (taps,) = (shape[a] for a in window_axes)
    bands, period = shape[law.out_axis], 2 * (shape[law.out_axis] - 1)
    phase = np.outer(np.arange(taps, dtype=np.int64), np.arange(bands, dtype=np.int64)) % period
    angle = -np.pi * phase / (bands - 1)
    values = np.cos(angle) if law.side == "real" else np.sin(angle)
    if law.window is not None:
        values *= np.asarray(law.window, dtype=np.float64)[:, None] / law.divisor
    round_to_grid(values, real_dtype(draw.dtype))
    with backend.placement(draw.device):
        kernel = backend.xp.asarray(values[:, None, :].astype(work), dtype=backend.dtype_on(work, draw.device), device=draw.device)
        kernel = kernel * backend.full((1, shape[law.in_axis], 1), 1, work, draw.device)
        return backend.cast(laid_out(backend.xp, kernel, shape, (*window_axes, law.in_axis, law.out_axis)), draw.dtype)
