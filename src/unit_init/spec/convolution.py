"""Orthogonal convolution kernels (Xiao et al. 2018): delta-orthogonal and block-orthogonal.

Both fill a rank-3 to rank-5 kernel (a 1-D, 2-D or 3-D convolution) whose
layout has one in axis and one out axis (default ``"keras"``:
``(*window, in, out)``; ``"torch"``: ``(out, in, *window)``), with
``in <= out``, so that the convolution is ``gain`` times an isometry — the
"dynamical isometry" that lets plain CNNs of thousands of layers train.

* :class:`DeltaOrthogonal` — a Haar-orthogonal ``in × out`` matrix at the
  centre tap, zeros elsewhere (``jax.nn.initializers.delta_orthogonal``, Flax,
  TensorFlow's ``ConvolutionDeltaOrthogonal``);
* :class:`ConvolutionOrthogonal` — every tap non-zero, the convolution
  orthogonal under circular padding (TensorFlow's internal
  ``ConvolutionOrthogonal1D/2D/3D``, Algorithm 1 of the paper).

Reference: L. Xiao, Y. Bahri, J. Sohl-Dickstein, S. Schoenholz, J. Pennington,
"Dynamical Isometry and a Mean Field Theory of CNNs: How to Train
10,000-Layer Vanilla Convolutional Neural Networks", ICML 2018.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from unit_init.errors import ParameterError, ShapeError
from unit_init.spec import distributions as d
from unit_init.spec import kernel_laws as k
from unit_init.spec._checks import finite
from unit_init.spec.fans import LayoutLike, ShapeLike, normalize_shape
from unit_init.spec.initializer import Initializer
from unit_init.spec.structured import _single_axes

__all__ = ["ConvolutionOrthogonal", "DeltaOrthogonal"]


@dataclass(frozen=True, slots=True)
class _OrthogonalKernel(Initializer):
    """A convolution kernel that is ``gain`` times an isometry: rank 3 to 5, ``in <= out``."""

    gain: float = 1.0
    min_rank: ClassVar[int] = 3
    max_rank: ClassVar[int | None] = 5

    def _validate(self) -> None:
        finite("gain", self.gain)

    def _axes(self, shape: ShapeLike, layout: LayoutLike) -> tuple[int, int]:
        """The (in, out) axes of ``shape``; :class:`~unit_init.ShapeError` for a bad rank or ``in > out``."""
        dims = normalize_shape(shape)
        self.check_shape(dims)
        in_axis, out_axis = _single_axes(self, dims, layout)
        if dims[in_axis] > dims[out_axis]:
            msg = (
                f"{type(self).__name__} needs in <= out channels (an isometry), got shape={dims} with in={dims[in_axis]} "
                f"(axis {in_axis}) > out={dims[out_axis]} (axis {out_axis})."
            )
            raise ShapeError(msg)
        return in_axis, out_axis

    def variance(self, shape: ShapeLike, *, layout: LayoutLike = None, **_: object) -> float:
        """Refused: the elements are not identically distributed (their mean square is ``gain² / fan_out``)."""
        msg = (
            f"{type(self).__name__}'s elements are not identically distributed (their mean square is gain²/fan_out); "
            "it has no per-element variance."
        )
        raise ParameterError(msg)


@dataclass(frozen=True, slots=True)
class DeltaOrthogonal(_OrthogonalKernel):
    """A Haar-orthogonal ``in × out`` matrix times ``gain`` at the centre tap, 0 elsewhere (Xiao et al. 2018).

    For window axes of sizes ``k₁ … k_r`` (``r`` = 1, 2 or 3)::

        W[c₁, …, c_r, :, :] = gain · Q,   cₐ = (kₐ − 1) // 2,   Q·Qᵀ = I_in
        W[…] = 0                          at every other tap

    ``Q`` is drawn as :class:`unit_init.Orthogonal` draws an ``(in, out)``
    matrix (QR of a Gaussian with the sign fix, so exactly Haar), which needs
    ``in <= out``. This is ``jax.nn.initializers.delta_orthogonal(scale=gain)``
    (and Flax's); the centre is JAX's and TensorFlow's ``(k − 1) // 2``, which
    differs from :class:`unit_init.Dirac`'s ``k // 2`` for even ``k``.

    Examples
    --------
    >>> import numpy as np
    >>> from unit_init.spec.convolution import DeltaOrthogonal
    >>> w = DeltaOrthogonal(gain=2.0)((3, 3, 4, 8), seed=0)  # a Keras Conv2D kernel
    >>> bool(np.allclose(w[1, 1] @ w[1, 1].T, 4.0 * np.eye(4), atol=1e-5)), float(np.abs(w[0]).max())
    (True, 0.0)
    """

    def distribution_for(self, shape: ShapeLike, *, layout: LayoutLike = None, **_: object) -> d.Distribution:
        in_axis, out_axis = self._axes(shape, layout)
        return k.CentreTap(d.HaarOrthogonal(self.gain, (1,)), in_axis, out_axis)


MAX_STEPS: Final = 256
"""The most two-tap factors a :class:`ConvolutionOrthogonal` kernel takes (``Σ (kₐ − 1)`` over its window axes): each is
a matrix product on the growing kernel, run one after another (eager frameworks pay an op dispatch for each)."""


@dataclass(frozen=True, slots=True)
class ConvolutionOrthogonal(_OrthogonalKernel):
    """A random block-orthogonal kernel: the circular convolution is ``gain`` times an isometry (Xiao et al. 2018, Alg. 1).

    Built from random symmetric projections ``P`` (``P = Pᵀ = P²``): each
    window axis of size ``k`` takes ``k − 1`` two-tap factors ``[P, I − P]``,
    multiplied by matrix convolution starting from the identity, and the
    ``out × out`` result is multiplied on the left by a Haar row-orthonormal
    ``in × out`` matrix and by ``gain`` (see
    :class:`unit_init.spec.kernel_laws.BlockOrthogonal`). Every tap is
    non-zero, and::

        Σ_t W[t]·W[t]ᵀ = gain²·I_in,    Ŵ(ω)·Ŵ(ω)ᴴ = gain²·I_in  for every frequency ω

    so ``‖conv(x)‖ = gain·‖x‖`` for every input under circular padding.
    TensorFlow's ``ConvolutionOrthogonal1D/2D/3D`` (``tensorflow.python.ops.init_ops``)
    draw the same law; unlike its 2-D and 3-D ones, window sizes may differ
    per axis.

    Examples
    --------
    >>> import numpy as np
    >>> from unit_init.spec.convolution import ConvolutionOrthogonal
    >>> w = ConvolutionOrthogonal()((3, 3, 4, 8), seed=0)
    >>> bool(np.allclose(np.einsum("abio,abjo->ij", w, w), np.eye(4), atol=1e-5))
    True
    """

    def distribution_for(self, shape: ShapeLike, *, layout: LayoutLike = None, **_: object) -> d.Distribution:
        in_axis, out_axis = self._axes(shape, layout)
        dims = normalize_shape(shape)
        steps = sum(size - 1 for axis, size in enumerate(dims) if axis not in (in_axis, out_axis) and size > 0)
        if steps > MAX_STEPS:
            msg = (
                f"ConvolutionOrthogonal takes windows of at most {MAX_STEPS} factors in all (Σ(k − 1) over the window axes: one "
                f"factor per tap past the first on each axis, drawn in turn), got shape={dims}: {steps} factors."
            )
            raise ShapeError(msg)
        return k.BlockOrthogonal(self.gain, in_axis, out_axis)
