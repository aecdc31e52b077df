"""Distributions: the "what to draw" half of an initializer.

A distribution (a *law*) here is *concrete*: every parameter is a number,
resolved from an initializer's rule for one shape. Each one knows its
moments, its support and its reach (so tests, users and the request's
representability check can do the arithmetic). This module is pure: it
imports no array library and no backend. How a law is sampled — the work
dtype, the sampler of each law, confinement to the output dtype's grid, the
single cast, the truncation method of each backend — lives in
:mod:`unit_init.sampling`.

Families (:data:`FAMILIES`) build a distribution from a mean and a variance,
which is how variance rules and distributions combine.
"""

from __future__ import annotations

import functools
import math
import numbers
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar, Final

from unit_init.errors import ParameterError, abbreviate
from unit_init.spec._checks import finite, non_negative, positive

__all__ = [
    "FAMILIES",
    "NORMAL_REACH",
    "SMALLEST_MASS",
    "ArrayConstant",
    "DiracKernel",
    "Distribution",
    "Eye",
    "Gaussian",
    "HaarOrthogonal",
    "Normal",
    "PointMass",
    "SparseNormal",
    "TruncatedFamily",
    "TruncatedGaussian",
    "Uniform",
    "ZerOValues",
    "as_floats",
    "centred_cdf",
    "density",
    "hadamard_constants",
    "keeps_mass",
    "leaves",
    "normal_mass",
    "normal_tail",
    "rounded",
    "scaled_interval",
    "truncated_standard_normal_moments",
]


NORMAL_REACH: Final = 40.0
"""How many standard deviations a normal's values are taken to reach when checking they fit a dtype.

No float64 generator reaches it (``P(|Z| > 40) < 10⁻³⁴⁸``; a Box–Muller or
inverse-CDF draw from 2⁻⁶⁴-spaced uniforms stops near 9.4).
"""


def as_floats(law: Distribution, *fields: str) -> None:
    """Store ``law``'s integer ``fields`` as floats, after its checks: a random law's
    parameters are scales, and an integer scale reaching a framework's arithmetic overflows its integer types
    (JAX's ``x * 2**31``, torch's ``mul_(2**64)``) where the float it stands for is an ordinary number.

    Examples
    --------
    >>> from unit_init.spec.distributions import TruncatedGaussian, Uniform
    >>> Uniform(-1, 2**64)
    Uniform(low=-1.0, high=1.8446744073709552e+19)
    >>> TruncatedGaussian(0.0, 1.0, -10**400, 0).support
    (-inf, 0.0)
    """
    for field in fields:
        value = getattr(law, field)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            continue
        number = int(value)
        try:
            converted = float(number)
        except OverflowError:  # an infinite truncation bound given as a huge int
            converted = math.inf if number > 0 else -math.inf
        object.__setattr__(law, field, converted)


class Distribution:
    """Base of the laws: what their samplers (:mod:`unit_init.sampling.laws`) need to know about them.

    A law defined outside unit_init subclasses it and either registers a
    sampler (``@unit_init.sampling.sampler(MyLaw)``) or defines
    ``sample(self, backend, draw)`` returning the array.
    """

    __slots__ = ()
    random: ClassVar[bool] = True
    """Values are drawn from a stream; ``False``: built exactly in the output dtype (integer dtypes too)."""
    iid: ClassVar[bool] = False
    """Elements are independent and identically distributed: any block of the array may be drawn on its own."""
    upper_open: ClassVar[bool] = False
    """The support excludes its upper bound (``U[low, high)``)."""

    @property
    def support(self) -> tuple[float, float] | None:
        """``(low, high)``: every value lies in it on the output dtype's grid; ``None``: values are not confined."""
        return None

    def reach(self) -> tuple[float, float]:
        """``(values, work)``: the largest magnitude an element can take, and the largest an intermediate takes in the work dtype.

        A normal's values are taken to ±:data:`NORMAL_REACH` standard
        deviations. The request (:mod:`unit_init.request`) refuses a draw where
        ``values`` exceeds the output dtype's largest finite value or ``work``
        the work dtype's, so no element is ever inf or nan. The default,
        ``(0, 0)``, claims nothing (a user's own distribution).
        """
        return (0.0, 0.0)


@dataclass(frozen=True, slots=True)
class PointMass(Distribution):
    """Every element equals ``value``."""

    value: float
    random: ClassVar[bool] = False

    def __post_init__(self) -> None:
        finite("value", self.value)

    @property
    def mean(self) -> float:
        return float(self.value)

    def reach(self) -> tuple[float, float]:
        return (abs(self.value), abs(self.value))

    @property
    def variance(self) -> float:
        return 0.0

    @property
    def standard_deviation(self) -> float:
        return 0.0


def leaves(value: Any) -> Iterator[Any]:
    """The numbers of nested tuples, row-major (a number: itself).

    Examples
    --------
    >>> from unit_init.spec.distributions import leaves
    >>> list(leaves(((1, 2.5), (3, 4)))), list(leaves(7))
    ([1, 2.5, 3, 4], [7])
    """
    if isinstance(value, tuple):
        for item in value:
            yield from leaves(item)
    else:
        yield value


@dataclass(frozen=True, slots=True)
class ArrayConstant(Distribution):
    """``value`` (nested tuples of numbers, or one number) broadcast to the shape by NumPy's rules.

    The initializer :class:`~unit_init.ConstantArray` checks the value and its
    shape against the shape drawn.
    """

    value: Any
    random: ClassVar[bool] = False

    def reach(self) -> tuple[float, float]:
        largest = float(max((abs(v) for v in leaves(self.value)), default=0.0))
        return (largest, largest)


@dataclass(frozen=True, slots=True)
class Uniform(Distribution):
    """``U[low, high)``: mean ``(low + high) / 2``, variance ``(high - low)² / 12``."""

    iid: ClassVar[bool] = True
    upper_open: ClassVar[bool] = True

    low: float
    high: float

    def __post_init__(self) -> None:
        if finite("low", self.low) > finite("high", self.high):
            msg = f"low={abbreviate(self.low)} must not exceed high={abbreviate(self.high)}."
            raise ParameterError(msg)
        as_floats(self, "low", "high")

    @classmethod
    def from_moments(cls, mean: float, variance: float) -> Uniform:
        """The uniform with this mean and variance: limit ``√(3·variance)``."""
        limit = math.sqrt(3.0 * variance)
        return cls(mean - limit, mean + limit)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) * (self.high - self.low) / 12

    @property
    def standard_deviation(self) -> float:
        """``(high − low)/√12``, halved first so that no intermediate overflows (``U[−1e308, 1e308)``)."""
        return (self.high / 2 - self.low / 2) / math.sqrt(3.0)

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def reach(self) -> tuple[float, float]:
        """The bounds; the work dtype also holds the width ``high − low`` (``low + (high − low)·u``)."""
        values = max(abs(self.low), abs(self.high))
        return (values, max(values, self.high - self.low))


@dataclass(frozen=True, slots=True)
class Gaussian(Distribution):
    """What the real and the complex normal law share: ``mean``, ``std``, ``E|w − mean|² = std²`` and the reach.

    A complex normal's parts each reach ``NORMAL_REACH·std/√2``, its modulus
    less than twice that, so both reach ``|mean| + NORMAL_REACH·std``.
    """

    iid: ClassVar[bool] = True

    mean: float
    std: float

    def __post_init__(self) -> None:
        finite("mean", self.mean)
        non_negative("std", self.std)
        as_floats(self, "mean", "std")

    @property
    def variance(self) -> float:
        return self.std * self.std

    @property
    def standard_deviation(self) -> float:
        """``std``, where ``variance`` may overflow (a std of 1e200) or underflow (1e-200)."""
        return self.std

    def reach(self) -> tuple[float, float]:
        """``|mean| + NORMAL_REACH·std``."""
        values = abs(self.mean) + NORMAL_REACH * self.std
        return (values, values)


@dataclass(frozen=True, slots=True)
class Normal(Gaussian):
    """``N(mean, std²)``."""

    @classmethod
    def from_moments(cls, mean: float, variance: float) -> Normal:
        return cls(mean, math.sqrt(variance))

    @property
    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)


def normal_tail(x: float) -> float:
    """``Q(x) = P(Z > x) = ½·erfc(x/√2)`` for the standard normal ``Z``, accurate in the far upper tail."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


CENTRAL: Final = 0.5
"""``|x|`` below which ``Φ(x) − ½`` is taken as ``½·erf(x/√2)`` (accurate however small ``x``) rather than from a tail."""


def centred_cdf(x: float) -> float:
    """``Φ(x) − ½`` in float64, accurate for every ``x``: ``½·erf(x/√2)`` near 0, ``±(½ − Q(|x|))`` beyond :data:`CENTRAL`."""
    if abs(x) < CENTRAL:
        return 0.5 * math.erf(x / math.sqrt(2.0))
    return math.copysign(0.5 - normal_tail(abs(x)), x)


SMALLEST_MASS: Final = sys.float_info.min
"""2⁻¹⁰²², the least normal float64: a truncated normal's interval beyond about 37.6 std keeps at least this mass
(:func:`keeps_mass`)."""


def density(x: float) -> float:
    """The standard normal density ``φ(x) = e^(−x²/2) / √(2π)``."""
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def keeps_mass(low: float, high: float) -> bool:
    """Whether float64 holds the standard normal conditioned on ``[low, high]``: a positive mass, and one of at least
    :data:`SMALLEST_MASS` where the density is subnormal too (beyond about 37.6 std: there the moments and quantiles,
    ratios of subnormals, lose their digits). A narrow interval where the density is an ordinary number keeps its law
    at any mass.

    Examples
    --------
    >>> import math
    >>> from unit_init.spec.distributions import keeps_mass
    >>> keeps_mass(37.4, math.inf), keeps_mass(38.2, math.inf), keeps_mass(37.6, 37.61)
    (True, False, True)
    """
    mass = normal_mass(low, high)
    nearest = 0.0 if low <= 0.0 <= high else min(abs(low), abs(high))
    return mass > 0 and (mass >= SMALLEST_MASS or density(nearest) >= SMALLEST_MASS)


def normal_mass(low: float, high: float) -> float:
    """``P(low ≤ Z ≤ high)`` in float64, from the form accurate on the interval's side (no cancellation of near-equal values).

    ``Q(low) − Q(high)`` above 0, ``Q(−high) − Q(−low)`` below 0,
    ``1 − Q(−low) − Q(high)`` across it, but ``½·(erf(high/√2) − erf(low/√2))``
    where both bounds lie within :data:`CENTRAL` of 0 (the tails there are
    near ½ and their difference would lose the interval: ``[1e-17, 7e-17]``);
    0 for an interval beyond float64's reach (``[40, 41]``).

    Examples
    --------
    >>> from unit_init.spec.distributions import normal_mass
    >>> normal_mass(-2.0, 2.0), normal_mass(1e-17, 7e-17)
    (0.9544997361036416, 2.393653682408596e-17)
    """
    if max(abs(low), abs(high)) < CENTRAL:
        return centred_cdf(high) - centred_cdf(low)
    if low >= 0:
        return normal_tail(low) - normal_tail(high)
    if high <= 0:
        return normal_tail(-high) - normal_tail(-low)
    return 1.0 - normal_tail(-low) - normal_tail(high)


def rounded(exact: Fraction, *, upward: bool) -> float:
    """``exact`` rounded to the float64 next above it (``upward``) or next below it; beyond float64's range, the
    infinity of its sign.

    Examples
    --------
    >>> from fractions import Fraction
    >>> from unit_init.spec.distributions import rounded
    >>> rounded(Fraction(1, 10), upward=True) == 0.1 > rounded(Fraction(1, 10), upward=False)   # the float 0.1 lies above 1/10
    True
    """
    try:
        nearest = float(exact)
    except OverflowError:
        return math.inf if exact > 0 else -math.inf
    if nearest < exact if upward else nearest > exact:
        return math.nextafter(nearest, math.inf if upward else -math.inf)
    return nearest


@functools.lru_cache(maxsize=1024)
def scaled_interval(mean: float, std: float, low: float, high: float) -> tuple[float, float]:
    """``[mean + low·std, mean + high·std]`` computed exactly, its ends rounded inward to float64 (cached).

    Every float64 in the result lies in the exact interval, so a value clipped
    to it never leaves it by a rounding: an end that is itself a float64 (an
    absolute bound :class:`~unit_init.BoundedNormal` was given) comes out as
    it is. An interval holding no float64 comes out with its ends crossed;
    an end beyond float64's range is infinite.

    Examples
    --------
    >>> from unit_init.spec.distributions import scaled_interval
    >>> scaled_interval(0.9220625604792223, 0.3780941633809023, -8.406306012113838, 2.0)[0] > -2.256629013453411
    True
    """

    def end(factor: float, *, upward: bool) -> float:
        return factor if math.isinf(factor) else rounded(Fraction(mean) + Fraction(factor) * Fraction(std), upward=upward)

    return (end(low, upward=True), end(high, upward=False))


def truncated_standard_normal_moments(low: float, high: float) -> tuple[float, float]:
    """Mean and variance of a standard normal conditioned on ``[low, high]`` (either bound may be infinite).

    With φ the standard normal density and ``Z = Φ(high) − Φ(low)``::

        mean     = (φ(low) − φ(high)) / Z
        variance = 1 + (low·φ(low) − high·φ(high)) / Z − mean²

    (``x·φ(x) = 0`` at ``x = ±∞``). For ``[-2, 2]`` the standard deviation is
    0.87962566103423978, the constant Keras and JAX divide by.
    """
    if _narrow(low, high):
        return _narrow_moments(low, high)

    def x_pdf(x: float) -> float:
        return 0.0 if math.isinf(x) else x * density(x)

    mass = normal_mass(low, high)
    mean = (density(low) - density(high)) / mass
    variance = 1 + (x_pdf(low) - x_pdf(high)) / mass - mean**2
    return mean, variance


def _narrow(low: float, high: float) -> bool:
    """An interval whose closed-form moments cancel (width at most 1, density varying less than ``e⁴`` across it)."""
    width = high - low
    return width <= 1.0 and abs(low + high) * width <= 8.0


_GAUSS_LEGENDRE_8: Final = (
    (0.1834346424956498, 0.3626837833783620), (0.5255324099163290, 0.3137066458778873),
    (0.7966664774136267, 0.2223810344533745), (0.9602898564975363, 0.1012285362903763),
)
"""Nodes in ``(0, 1)`` (each also negated) and weights of the 8-point Gauss–Legendre rule on ``[−1, 1]``."""


def _narrow_moments(low: float, high: float) -> tuple[float, float]:
    """Mean and variance of ``Z`` on a narrow ``[low, high]`` by quadrature about its midpoint ``m``: no cancellation.

    With ``Z = m + t``, ``t ∈ [−d, d]``, the density is proportional to
    ``w(t) = exp(−m·t − t²/2)``; ``E[t]`` and ``E[(t − E[t])²]`` are integrated by
    the 8-point Gauss–Legendre rule on 8 equal pieces (64 nodes, symmetric about ``m``), which is exact
    for polynomials of degree 15 on each piece and far below float64's
    resolution here (``|m|·2d <= 8``). The variance of ``[−1e-6, 1e-6]`` is
    ``(1e-6)²/3`` to 15 digits where the closed form returned a negative number.
    """
    middle, half = (low + high) / 2, (high - low) / 2
    pieces = 4  # on [0, d], mirrored onto [−d, 0]: the nodes are symmetric, so a symmetric interval's mean is exactly 0
    nodes, weights = [], []
    for piece in range(pieces):
        centre = (2 * piece + 1) * half / (2 * pieces)
        for node, weight in _GAUSS_LEGENDRE_8:
            for offset in (-node, node):
                for t in (centre + offset * half / (2 * pieces), -(centre + offset * half / (2 * pieces))):
                    nodes.append(t)
                    weights.append(weight * math.exp(-middle * t - 0.5 * t * t))
    total = math.fsum(weights)
    shift = math.fsum(w * t for w, t in zip(weights, nodes, strict=True)) / total
    variance = math.fsum(w * (t - shift) ** 2 for w, t in zip(weights, nodes, strict=True)) / total
    return middle + shift, variance


@dataclass(frozen=True, slots=True)
class TruncatedGaussian(Distribution):
    """``N(mean, std²)`` conditioned on ``[mean + low·std, mean + high·std]``.

    ``low`` and ``high`` are in units of ``std`` (default ±2); either may be
    infinite, and any interval whose law float64 holds (:func:`keeps_mass`:
    up to about 37.6 std from the mean) is accepted: narrow, one-sided or far in a tail
    (see :mod:`unit_init.sampling.truncation` for how each is drawn).
    ``std`` is the scale *before* truncation; the result's variance is
    ``std² · v(low, high)`` with ``v`` from
    :func:`truncated_standard_normal_moments`. (The initializer
    :class:`~unit_init.BoundedNormal` takes absolute bounds instead.)

    Examples
    --------
    >>> from unit_init.spec.distributions import TruncatedGaussian
    >>> law = TruncatedGaussian(mean=1.0, std=0.5)
    >>> law
    TruncatedGaussian(mean=1.0, std=0.5, low=-2.0·std, high=2.0·std)
    >>> law.support
    (0.0, 2.0)
    """

    iid: ClassVar[bool] = True

    mean: float
    std: float
    low: float = -2.0
    high: float = 2.0

    def __repr__(self) -> str:
        """The bounds shown in units of ``std``, as the law takes them (relative to ``mean``)."""
        return f"TruncatedGaussian(mean={self.mean!r}, std={self.std!r}, low={self.low!r}·std, high={self.high!r}·std)"

    def __post_init__(self) -> None:
        finite("mean", self.mean)
        positive("std", self.std)
        as_floats(self, "low", "high")  # first: an int bound beyond floats is an infinite one (math.isnan would overflow)
        if math.isnan(self.low) or math.isnan(self.high) or not self.low < self.high:
            msg = f"low={abbreviate(self.low)} must be below high={abbreviate(self.high)} (bounds in units of std; either may be infinite)."
            raise ParameterError(msg)
        as_floats(self, "mean", "std")
        if not keeps_mass(self.low, self.high):
            msg = (
                f"bounds [{self.low}, {self.high}] (in units of std) keep no float64 mass of the normal (beyond about 37.6 std "
                "float64 holds it, and the density, only as subnormals; or narrower than float64 resolves); choose bounds nearer the mean."
            )
            raise ParameterError(msg)
        low, high = self.support
        if low > high and math.isfinite(low) and math.isfinite(high):  # crossed: no float64 inside (an overflow: the reach check's)
            msg = (
                f"the support [mean + low·std, mean + high·std] (mean={self.mean}, std={self.std}, bounds [{self.low}, "
                f"{self.high}]) is narrower than float64 resolves there and holds no float64 value; widen it."
            )
            raise ParameterError(msg)

    @classmethod
    def from_moments(cls, mean: float, variance: float, low: float = -2.0, high: float = 2.0) -> TruncatedGaussian:
        """The ±bound truncated normal whose variance *after* truncation is ``variance``."""
        _, unit_variance = truncated_standard_normal_moments(low, high)
        return cls(mean, math.sqrt(variance / unit_variance), low, high)

    @property
    def variance(self) -> float:
        width = self.high - self.low
        if width < 1e-50:  # the density is flat across the cut to 1e-100: the uniform's variance (the moment would underflow)
            spread = width * self.std
            return spread * spread / 12
        return self.std * (self.std * truncated_standard_normal_moments(self.low, self.high)[1])  # no overflow for a huge std cut narrow

    @property
    def standard_deviation(self) -> float:
        """``std·√m₂(low, high)`` (the unit law's variance), never squaring ``std``."""
        width = self.high - self.low
        if width < 1e-50:
            return width * self.std / math.sqrt(12.0)
        return self.std * math.sqrt(truncated_standard_normal_moments(self.low, self.high)[1])

    @property
    def support(self) -> tuple[float, float]:
        """``[mean + low·std, mean + high·std]``, its ends rounded inward (:func:`scaled_interval`): no value clipped to it leaves the law."""
        return scaled_interval(self.mean, self.std, self.low, self.high)

    def reach(self) -> tuple[float, float]:
        """The support (an infinite side taken at NORMAL_REACH std); the work dtype also holds ``std`` times the bounds."""
        low, high = max(self.low, -NORMAL_REACH), min(self.high, NORMAL_REACH)
        values = max(abs(self.mean + low * self.std), abs(self.mean + high * self.std))
        return (values, max(values, self.std * max(abs(low), abs(high))))


@dataclass(frozen=True, slots=True)
class HaarOrthogonal(Distribution):
    """Haar-distributed (semi-)orthogonal matrices times ``gain``.

    The array is viewed as a matrix (one per batch index) with the ``out_axes``
    flattened on one side and every other axis flattened on the other; the
    smaller side is orthonormal, so ``QᵀQ = gain²·I`` (or ``QQᵀ``). It is drawn
    as ``Q·diag(sign(diag(R)))`` from the QR factorization of a Gaussian
    matrix, the sign fix making Q exactly Haar-distributed.
    """

    gain: float
    out_axes: tuple[int, ...]
    batch_axes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        as_floats(self, "gain")

    def reach(self) -> tuple[float, float]:
        """``1.001·|gain|``: no entry of an orthonormal matrix exceeds 1 in magnitude, a computed one by a few ulp at most."""
        return (1.001 * abs(self.gain), 1.001 * abs(self.gain))


@dataclass(frozen=True, slots=True)
class Eye(Distribution):
    """``gain · eye(rows, cols)`` for a shape ``(..., rows, cols)``, broadcast over the leading axes."""

    gain: float
    random: ClassVar[bool] = False

    def reach(self) -> tuple[float, float]:
        return (abs(self.gain), abs(self.gain))


@dataclass(frozen=True, slots=True)
class DiracKernel(Distribution):
    """The identity convolution kernel, per group: convolving with it returns its input.

    With ``o = out / groups`` output channels per group, the element at
    output channel ``g·o + k``, input channel ``k`` (``k < min(o, in)``) and
    the centre tap ``(size // 2, …)`` of every window axis is 1; every other
    element is 0. ``in_axis``/``out_axis`` are resolved, non-negative axes;
    the remaining axes form the window.
    """

    groups: int
    in_axis: int
    out_axis: int
    random: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class SparseNormal(Distribution):
    """``N(0, std²)`` with exactly ``zeros`` elements set to 0 in every column.

    A *column* is one index of the input axis of a rank-2 weight; its ``rows``
    elements run along ``out_axis``. Which elements are zeroed is a uniformly
    random subset per column (the ranks of i.i.d. uniform keys), so::

        mean = 0,   variance = std² · (rows − zeros) / rows

    Needs ``argsort`` in the backend's namespace.
    """

    std: float
    zeros: int
    rows: int
    out_axis: int

    def __post_init__(self) -> None:
        non_negative("std", self.std)
        if not 0 <= self.zeros <= self.rows:
            msg = f"zeros={abbreviate(self.zeros)} must lie in [0, rows={self.rows}]."
            raise ParameterError(msg)
        as_floats(self, "std")

    @property
    def mean(self) -> float:
        return 0.0

    def reach(self) -> tuple[float, float]:
        """``NORMAL_REACH·std``."""
        return (NORMAL_REACH * self.std, NORMAL_REACH * self.std)

    @property
    def variance(self) -> float:
        return self.std * self.std * (self.rows - self.zeros) / max(self.rows, 1)

    @property
    def standard_deviation(self) -> float:
        return self.std * math.sqrt((self.rows - self.zeros) / max(self.rows, 1))


Family = Callable[[float, float], Distribution]


@dataclass(frozen=True, slots=True)
class TruncatedFamily:
    """The family ``(mean, variance) -> TruncatedGaussian`` cut at ``[low, high]`` in units of its std: the
    ``"truncated_normal"`` family with other bounds than ±2, a value (compared and hashed by its bounds).

    Examples
    --------
    >>> from unit_init.spec.distributions import TruncatedFamily
    >>> TruncatedFamily(-3.0, 3.0)(0.0, 1.0).low, TruncatedFamily(-3.0, 3.0) == TruncatedFamily(-3.0, 3.0)
    (-3.0, True)
    """

    low: float
    high: float

    def __call__(self, mean: float, variance: float) -> TruncatedGaussian:
        return TruncatedGaussian.from_moments(mean, variance, self.low, self.high)


FAMILIES: Final[dict[str, Family]] = {
    "truncated_normal": TruncatedGaussian.from_moments,
    "untruncated_normal": Normal.from_moments,
    "normal": Normal.from_moments,
    "uniform": Uniform.from_moments,
}
"""Distribution families by name: ``(mean, variance) -> Distribution``."""


def hadamard_constants(rows: int) -> tuple[float, int]:
    """ZerO's constants for an ``out × in`` block: ``(c, 2^m)`` with ``m = ⌈log₂ out⌉``, ``c = 2^(−(m−1)/2)``."""
    m = max(0, math.ceil(math.log2(max(rows, 1))))
    return 2.0 ** (-(m - 1) / 2), 2**m


@dataclass(frozen=True, slots=True)
class ZerOValues(Distribution):
    """ZerO's deterministic matrix at the centre tap of every window (0 elsewhere).

    With ``out × in`` the (out axis × in axis) block: the partial identity when
    ``out <= in``; else ``c · H[:out, :in]`` with ``H`` the ``2^m`` Sylvester
    Hadamard matrix (entries ±1), ``m = ⌈log₂ out⌉``, ``c = 2^(−(m−1)/2)``.
    """

    in_axis: int
    out_axis: int
    random: ClassVar[bool] = False
