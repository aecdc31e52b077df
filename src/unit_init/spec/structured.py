"""Initializers beyond the Keras list (docs/design.md#a-spec-is-a-rule-and-a-law): Dirac, Sparse and BoundedNormal.

They are specs like any other (immutable, serializable, drawn on every
backend by the same path); they live apart from :data:`~unit_init.CATALOGUE`
because the catalogue is the Keras list, and these need shapes it does not
promise (Dirac: rank >= 3; Sparse: rank 2). :data:`EXTRAS` names them.

* :class:`Dirac` — the identity convolution kernel (``torch.nn.init.dirac_``);
* :class:`Sparse` — ``N(0, stddev²)`` with a fixed fraction of zeros per
  column (``torch.nn.init.sparse_``, Martens 2010);
* :class:`BoundedNormal` — a normal cut at *absolute* bounds
  (``torch.nn.init.trunc_normal_``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar, Final

from unit_init.errors import ParameterError, ShapeError, abbreviate
from unit_init.spec import distributions as d
from unit_init.spec._checks import bound, finite, non_negative, positive
from unit_init.spec.fans import LayoutLike, ShapeLike, normalize_shape, resolve_layout
from unit_init.spec.initializer import Initializer

__all__ = ["EXTRAS", "BoundedNormal", "Dirac", "Sparse"]

MAX_GROUPS: Final = 2**31 - 1
"""The most groups :class:`Dirac` takes: frameworks store conv groups as int32."""


def _single_axes(spec: Initializer, shape: tuple[int, ...], layout: LayoutLike) -> tuple[int, int]:
    """The layout's (in, out) axes of ``shape``, each a single axis, with no batch axes."""
    in_axes, out_axes, batch_axes = resolve_layout(layout).axes(len(shape))
    if len(in_axes) != 1 or len(out_axes) != 1 or batch_axes:
        msg = f"{type(spec).__name__} needs a layout with one in axis, one out axis and no batch axes, got layout={abbreviate(layout)}."
        raise ParameterError(msg)
    return in_axes[0], out_axes[0]


@dataclass(frozen=True, slots=True)
class Dirac(Initializer):
    """The identity convolution kernel: a convolution with it returns its input.

    For a kernel with ``out = groups · o`` output channels, ``in`` input
    channels per group and window axes ``k₁ … k_r``::

        W[g·o + j, j, ⌊k₁/2⌋, …, ⌊k_r/2⌋] = 1   for j < min(o, in), g < groups
        W[…] = 0                              elsewhere

    (written in PyTorch's ``(out, in, *window)`` order; the layout says where
    the in and out axes are, default ``"keras"``: ``(*window, in, out)``).
    With ``out > in`` per group the extra output channels are 0; with
    ``out < in`` only the first ``o`` inputs pass through. Rank >= 3.

    Examples
    --------
    >>> import unit_init as ui
    >>> w = ui.dirac((3, 2, 3), layout="torch")  # a conv1d weight (out=3, in=2, width=3)
    >>> w[:, :, 1].tolist()                       # out x in at the centre tap
    [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    """

    random: ClassVar[bool] = False

    groups: int = 1
    min_rank: ClassVar[int] = 3

    def _validate(self) -> None:
        if isinstance(self.groups, bool) or not isinstance(self.groups, int) or not 1 <= self.groups <= MAX_GROUPS:
            msg = f"groups={abbreviate(self.groups)} must be an int in [1, 2**31 - 1]."
            raise ParameterError(msg)

    def distribution_for(self, shape: ShapeLike, *, layout: LayoutLike = None, **_: object) -> d.Distribution:
        dims = normalize_shape(shape)
        self.check_shape(dims)
        in_axis, out_axis = _single_axes(self, dims, layout)
        if dims[out_axis] % self.groups:
            msg = f"Dirac(groups={self.groups}) needs the out axis (size {dims[out_axis]}) of shape={dims} to be divisible by groups."
            raise ShapeError(msg)
        return d.DiracKernel(self.groups, in_axis, out_axis)


@dataclass(frozen=True, slots=True)
class Sparse(Initializer):
    """``N(0, stddev²)`` with ``⌈sparsity · fan_out⌉`` zeros for every input unit; rank 2.

    ``rows`` (``fan_out``) is the size of the layout's out axis and a *column*
    one index of its in axis: a column of PyTorch's ``(out, in)`` weight
    (``sparse_``: ``rows, cols = weight.shape``), a row of Keras's
    ``(in, out)`` kernel. The zeroed positions are a uniformly random subset
    per column, so::

        mean = 0,   Var = stddev² · (rows − zeros) / rows

    Examples
    --------
    >>> import unit_init as ui
    >>> w = ui.sparse((10, 4), sparsity=0.3, layout="torch", seed=0)
    >>> (w == 0).sum(axis=0).tolist()
    [3, 3, 3, 3]
    >>> (ui.sparse((4, 10), sparsity=0.3, seed=0) == 0).sum(axis=1).tolist()  # the default layout, Keras's (in, out)
    [3, 3, 3, 3]
    """

    sparsity: float
    stddev: float = 0.01
    min_rank: ClassVar[int] = 2
    max_rank: ClassVar[int | None] = 2

    def _validate(self) -> None:
        if not 0.0 <= finite("sparsity", self.sparsity) <= 1.0:
            msg = f"sparsity={abbreviate(self.sparsity)} must lie in [0, 1] (the fraction of each column set to zero)."
            raise ParameterError(msg)
        non_negative("stddev", self.stddev)

    def distribution_for(self, shape: ShapeLike, *, layout: LayoutLike = None, **_: object) -> d.Distribution:
        dims = normalize_shape(shape)
        self.check_shape(dims)
        out_axis = _single_axes(self, dims, layout)[1]
        rows = dims[out_axis]
        return d.SparseNormal(float(self.stddev), math.ceil(self.sparsity * rows), rows, out_axis)


@dataclass(frozen=True, slots=True)
class BoundedNormal(Initializer):
    """``N(mean, stddev²)`` conditioned on the absolute bounds ``[minval, maxval]``.

    PyTorch's ``trunc_normal_(mean, std, a, b)``. In units of ``stddev`` the
    bounds are ``α = (minval − mean) / stddev`` and
    ``β = (maxval − mean) / stddev``; the density is::

        f(x) = φ((x − mean) / stddev) / (stddev · (Φ(β) − Φ(α)))   on [minval, maxval]

    and the result has variance ``stddev² · v(α, β)`` (see
    :func:`unit_init.distributions.truncated_standard_normal_moments`). Any
    interval whose law float64 holds is drawn — narrow
    (``[0, 0.01]``), one-sided (``maxval=inf``) or far in a tail
    (``[6, 7]``, ``[30, inf]`` in units of ``stddev``) — by the inverse CDF,
    never by clamping; an interval beyond about 37.6 ``stddev``, whose mass
    and density float64 holds only as subnormals, is a :class:`~unit_init.errors.ParameterError`.

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.BoundedNormal(stddev=0.02, minval=-0.04, maxval=0.04).distribution_for((3, 3))
    TruncatedGaussian(mean=0.0, std=0.02, low=-2.0·std, high=2.0·std)
    >>> w = ui.BoundedNormal(minval=6.0, maxval=7.0)((1000,), seed=0)   # far in the upper tail
    >>> bool(w.min() >= 6.0 and w.max() <= 7.0)
    True
    """

    mean: float = 0.0
    stddev: float = 1.0
    minval: float = -2.0
    maxval: float = 2.0

    def _validate(self) -> None:
        finite("mean", self.mean)
        positive("stddev", self.stddev)
        if not bound("minval", self.minval) < bound("maxval", self.maxval):
            msg = f"minval={abbreviate(self.minval)} must be below maxval={abbreviate(self.maxval)} (either may be infinite)."
            raise ParameterError(msg)
        self.distribution_for(())

    def distribution_for(self, shape: ShapeLike, **_: object) -> d.Distribution:
        mean, std = float(self.mean), float(self.stddev)
        return d.TruncatedGaussian(mean, std, *_in_std_units(self.minval, self.maxval, mean, std))


@functools.lru_cache(maxsize=1024)
def _in_std_units(minval: float, maxval: float, mean: float, std: float) -> tuple[float, float]:
    """``[minval, maxval]`` in units of ``std`` around ``mean`` (:func:`_std_units`), cached: exact arithmetic costs ~10 µs.

    :class:`~unit_init.errors.ParameterError` where float64 cannot hold the
    interval that way: its width is below the resolution of ``(x − mean) / std`` there.
    """
    low, high = _std_units(minval, mean, std, lower=True), _std_units(maxval, mean, std, lower=False)
    if not low < high:
        msg = (
            f"[minval, maxval] = [{minval!r}, {maxval!r}] is narrower than float64 resolves it in units of stddev around "
            f"mean={mean!r} ((x − mean) / stddev = {low!r} there, which every draw starts from, moves in steps of "
            f"{math.ulp(low):.3g}); widen it or bring mean nearer."
        )
        raise ParameterError(msg)
    return low, high


def _std_units(bound: float, mean: float, std: float, *, lower: bool) -> float:
    """``(bound − mean) / std`` as a float64 whose support end (``mean + ·std``, rounded inward) is ``bound`` itself, or
    the float64 next inside it where none rounds back to ``bound``: never outside.

    The quotient rounded outward mostly gives ``bound`` back (the inward
    rounding of the support's end recovers what the quotient lost); where
    the end lies beyond ``bound`` even so, one step inward puts the exact end
    inside, so the end rounds inside too.
    """
    if math.isinf(bound):
        return bound
    factor = d.rounded((Fraction(bound) - Fraction(mean)) / Fraction(std), upward=not lower)
    end = d.scaled_interval(mean, std, factor, math.inf)[0] if lower else d.scaled_interval(mean, std, -math.inf, factor)[1]
    if end < bound if lower else end > bound:
        factor = math.nextafter(factor, math.inf if lower else -math.inf)
    return factor


EXTRAS: Final[dict[str, type[Initializer]]] = {"dirac": Dirac, "sparse": Sparse, "bounded_normal": BoundedNormal}
"""The initializers beyond the Keras list: snake-case name → spec class."""
