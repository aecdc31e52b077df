"""Complex laws: what each real law becomes when the output dtype is complex64 or complex128.

A real law keeps its mean and its second moment about it, and takes the
circular form of its family (Trabelsi et al. 2018, "Deep Complex Networks";
JAX's ``variance_scaling``): with ``Var`` the real law's variance and ``w`` an
element,

=====================  ==========================================================  =====================
real law               complex law                                                 support of ``w − mean``
=====================  ==========================================================  =====================
``N(mean, Var)``       :class:`ComplexNormal`: parts independent ``N(·, Var/2)``   the plane
``U`` (fan-scaled)     :class:`UniformDisk`: uniform on the disk of radius         ``|w − mean| < √(2·Var)``
                       ``√(2·Var)``
truncated at ``±b·σ``  :class:`ModulusTruncatedNormal`: a complex normal whose     ``|w − mean| ≤ b·s``
                       modulus is cut at ``b`` of its scale ``s``
orthogonal             :class:`Unitary`: ``QᴴQ = gain²·I`` (Haar)                  ``|w| ≤ |gain|``
delta orthogonal       a :class:`Unitary` matrix at the centre tap, 0 elsewhere    ``|w| ≤ |gain|``
deterministic          :class:`RealValued`: the same values, imaginary part 0      the real law's
=====================  ==========================================================  =====================

so ``E w = mean`` and ``E|w − mean|² = Var`` for every random law, and every
phase is uniform. :func:`complex_law` maps a real law to its complex form for
the request (:mod:`unit_init.request`); a law with none (a sparse matrix,
an interval the user gave to :class:`~unit_init.RandomUniform`, a truncation
with unequal bounds) is refused with :class:`~unit_init.DTypeError`.

Their samplers (:mod:`unit_init.sampling.complex`) draw the real and
imaginary parts in the work dtype (float32 for complex64, float64 for
complex128) and combine them once. See docs/complex.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from unit_init.errors import DTypeError, abbreviate
from unit_init.spec import distributions as d
from unit_init.spec._checks import finite, non_negative, positive
from unit_init.spec.kernel_laws import CentreTap

__all__ = [
    "ComplexNormal",
    "ModulusTruncatedNormal",
    "RealValued",
    "UniformDisk",
    "Unitary",
    "complex_law",
    "kept_over_square",
    "modulus_truncated_moment",
    "moment_over_square",
]


@dataclass(frozen=True, slots=True)
class ComplexNormal(d.Gaussian):
    """``mean + std·(X + iY)/√2`` with ``X, Y ~ N(0, 1)`` independent: ``E|w − mean|² = std²``.

    ``|w − mean|²/std²`` is exponential with mean 1 and the phase is uniform;
    ``jax.random.normal`` draws the same law for complex dtypes.

    Examples
    --------
    >>> import unit_init as ui
    >>> w = ui.random_normal((256, 256), stddev=0.5, dtype="complex64", seed=0)
    >>> w.dtype, round(float((abs(w) ** 2).mean()), 2)
    (dtype('complex64'), 0.25)
    """


@dataclass(frozen=True, slots=True)
class UniformDisk(d.Distribution):
    """Uniform on the disk of ``radius`` around ``mean``: ``w = mean + radius·√u·e^{iθ}``, ``u ~ U[0, 1)``, ``θ ~ U[0, 2π)``.

    ``E|w − mean|² = radius²/2``, so the disk of a variance ``Var`` has radius
    ``√(2·Var)`` (JAX's complex ``"uniform"`` of ``variance_scaling``).

    Examples
    --------
    >>> UniformDisk.from_moments(0.0, 0.5)
    UniformDisk(mean=0.0, radius=1.0)
    """

    iid: ClassVar[bool] = True

    mean: float
    radius: float

    def __post_init__(self) -> None:
        finite("mean", self.mean)
        non_negative("radius", self.radius)
        d.as_floats(self, "mean", "radius")

    @classmethod
    def from_moments(cls, mean: float, variance: float) -> UniformDisk:
        """The disk with ``E|w − mean|² = variance``: radius ``√(2·variance)``."""
        return cls(mean, math.sqrt(2.0 * variance))

    @property
    def variance(self) -> float:
        """``E|w − mean|² = radius²/2``."""
        return self.radius * self.radius / 2

    def reach(self) -> tuple[float, float]:
        return (abs(self.mean) + self.radius, abs(self.mean) + self.radius)


def modulus_truncated_moment(bound: float) -> float:
    """``E|z|²`` of a complex normal with ``E|z|² = 1`` conditioned on ``|z| ≤ bound``: ``1 − b²/(e^{b²} − 1)``.

    ``|z|²`` is exponential with mean 1, so conditioned on ``|z|² ≤ b²`` its
    mean is ``1 − b²·e^{−b²}/(1 − e^{−b²})``. For ``b = 2``: 0.92537055854490385
    (square root 0.96196182800821353). JAX divides by 0.95311164380491208 =
    √(1 − 5·e⁻⁴), which leaves out the division by the kept mass
    ``1 − e⁻⁴``: its complex truncated normals have ``E|w|² = Var/(1 − e⁻⁴)``
    = 1.0187·Var (docs/complex.md).

    Examples
    --------
    >>> round(modulus_truncated_moment(2.0), 12), round(math.sqrt(1 - 5 * math.exp(-4)), 12)
    (0.925370558545, 0.953111643805)
    >>> modulus_truncated_moment(40.0)   # e^{1600} overflows a float; its reciprocal is 0
    1.0
    """
    squared = bound * bound
    if squared < 1e-2:
        return squared * moment_over_square(bound)
    return 1.0 - squared * math.exp(-squared) / -math.expm1(-squared)


def moment_over_square(bound: float) -> float:
    """``m(b)/b²`` (``m`` = :func:`modulus_truncated_moment`), accurate for every ``b > 0``: ``½ − b²/12 + b⁶/720`` below ``b² = 10⁻²``.

    A narrow cut (``b`` tiny, as for a huge ``std`` with bounds of a few
    units) makes ``m(b)`` underflow while the variance ``scale²·m(b) =
    (b·scale)²·m(b)/b²`` is an ordinary number; this ratio keeps it one.

    Examples
    --------
    >>> moment_over_square(1e-200), round(moment_over_square(2.0) * 4, 12)
    (0.5, 0.925370558545)
    """
    squared = bound * bound
    if squared < 1e-2:  # m(x)/x = 1/2 − x/12 + x³/720 − …: 1 − x/(eˣ − 1) would cancel (to 0 for b = 1e-8)
        return 0.5 - squared / 12 + squared**3 / 720
    return modulus_truncated_moment(bound) / squared


def kept_over_square(bound: float) -> float:
    """``(1 − e^{−b²})/b²``, accurate for every ``b > 0`` (``1 − b²/2 + b⁴/6`` below ``b² = 10⁻⁸``): the kept mass of ``ρ²`` over ``b²``.

    Examples
    --------
    >>> kept_over_square(1e-200), round(kept_over_square(2.0), 12)
    (1.0, 0.245421090278)
    """
    squared = bound * bound
    if squared < 1e-8:  # the series' next term, b⁶/24, is below 1e-25; expm1 is exact above
        return 1.0 - squared / 2 + squared * squared / 6
    return -math.expm1(-squared) / squared


@dataclass(frozen=True, slots=True)
class ModulusTruncatedNormal(d.Distribution):
    """``mean + scale·ρ·e^{iθ}``: a complex normal with ``E|z|² = scale²`` whose modulus is cut at ``bound·scale``.

    ``ρ²`` is exponential with mean 1 conditioned on ``ρ ≤ bound``, drawn by
    its inverse CDF, ``ρ = √(−log(1 − t))`` with ``t = u·(1 − e^{−bound²})``
    (``log1p``, accurate for small ``ρ``), and ``θ ~ U[0, 2π)`` (Trabelsi et
    al. 2018; JAX's ``_complex_truncated_normal``)::

        E|w − mean|² = scale² · m(bound),   m(b) = 1 − b²/(e^{b²} − 1)

    (:func:`modulus_truncated_moment`); ``from_moments`` picks ``scale`` so
    that this is the variance asked for.

    Examples
    --------
    >>> law = ModulusTruncatedNormal.from_moments(0.0, 1.0)
    >>> round(law.scale, 12), law.bound, round(law.variance, 12)
    (1.039542288357, 2.0, 1.0)
    """

    iid: ClassVar[bool] = True

    mean: float
    scale: float
    bound: float = 2.0

    def __post_init__(self) -> None:
        finite("mean", self.mean)
        positive("scale", self.scale)
        positive("bound", self.bound)
        d.as_floats(self, "mean", "scale", "bound")

    @classmethod
    def from_moments(cls, mean: float, variance: float, bound: float = 2.0) -> ModulusTruncatedNormal:
        """The law cut at ``bound`` whose ``E|w − mean|²`` *after* truncation is ``variance``: ``scale = √(variance/m(b))``."""
        return cls(mean, math.sqrt(variance) / (bound * math.sqrt(moment_over_square(bound))), bound)

    @property
    def radius(self) -> float:
        """``bound·scale``: the largest modulus of ``w − mean``."""
        return self.bound * self.scale

    @property
    def variance(self) -> float:
        return self.radius * self.radius * moment_over_square(self.bound)

    def reach(self) -> tuple[float, float]:
        """``|mean| + bound·scale``."""
        values = abs(self.mean) + self.radius
        return (values, values)


@dataclass(frozen=True, slots=True)
class Unitary(d.Distribution):
    """Haar-distributed (semi-)unitary matrices times ``gain``: the complex :class:`~unit_init.spec.distributions.HaarOrthogonal`.

    The array is viewed as a matrix (one per batch index) as for the real
    law; the smaller side is orthonormal, ``QᴴQ = gain²·I`` (or ``QQᴴ``). It is
    drawn as ``Q·diag(r_ii/|r_ii|)`` from the QR factorization ``QR`` of a
    matrix of independent complex normals (Mezzadri 2007): the phase fix makes
    ``Q`` exactly Haar-distributed on the unitary group.

    Examples
    --------
    >>> import numpy as np, unit_init as ui
    >>> q = ui.orthogonal((6, 3), gain=2.0, dtype="complex64", seed=0)
    >>> bool(np.abs(q.conj().T @ q - 4 * np.eye(3)).max() < 1e-5)
    True
    """

    gain: float
    out_axes: tuple[int, ...]
    batch_axes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        d.as_floats(self, "gain")

    def reach(self) -> tuple[float, float]:
        """``1.001·|gain|``: no entry of a unitary matrix exceeds 1 in modulus, a computed one by a few ulp at most."""
        return (1.001 * abs(self.gain), 1.001 * abs(self.gain))


@dataclass(frozen=True, slots=True)
class RealValued(d.Distribution):
    """A deterministic real ``law``'s values as complex numbers with imaginary part 0 (constants, identity, dirac).

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.identity((2, 2), gain=0.5, dtype="complex64").tolist()
    [[(0.5+0j), 0j], [0j, (0.5+0j)]]
    """

    law: d.Distribution
    random: ClassVar[bool] = False

    def reach(self) -> tuple[float, float]:
        return self.law.reach()


_ACCEPTED = (
    "the variance-scaling family (normal, truncated normal, uniform), RandomNormal, TruncatedNormal, "
    "BoundedNormal with bounds symmetric about its mean, Orthogonal, DeltaOrthogonal and the deterministic initializers"
)


def _refused(spec: object, why: str) -> DTypeError:
    return DTypeError(
        f"{type(spec).__name__} has no complex form ({why}); complex64 and complex128 are drawn by {_ACCEPTED} "
        "(docs/complex.md). Use a float dtype."
    )


def complex_law(spec: object, law: d.Distribution) -> d.Distribution:
    """The complex counterpart of ``law``, which ``spec`` draws for a real dtype (see the module docstring's table).

    Raises :class:`~unit_init.DTypeError` naming ``spec`` for a law with no
    complex form.

    Examples
    --------
    >>> import unit_init as ui
    >>> complex_law(ui.HeUniform(), ui.HeUniform().distribution_for((6, 4)))
    UniformDisk(mean=0.0, radius=0.816496580927726)
    >>> complex_law(ui.RandomUniform(), ui.RandomUniform().distribution_for((2,)))
    Traceback (most recent call last):
    ...
    unit_init.errors.DTypeError: RandomUniform has no complex form (an interval [minval, maxval) has none: JAX refuses complex dtypes there, torch's uniform_ fills each part); complex64 and complex128 are drawn by the variance-scaling family (normal, truncated normal, uniform), RandomNormal, TruncatedNormal, BoundedNormal with bounds symmetric about its mean, Orthogonal, DeltaOrthogonal and the deterministic initializers (docs/complex.md). Use a float dtype.
    """
    if not law.random:
        return RealValued(law)
    if isinstance(law, d.Normal):
        return ComplexNormal(law.mean, law.std)
    if isinstance(law, d.Uniform):
        if not getattr(spec, "complex_form", True):
            raise _refused(spec, "an interval [minval, maxval) has none: JAX refuses complex dtypes there, torch's uniform_ fills each part")
        return UniformDisk.from_moments(law.mean, law.variance)
    if isinstance(law, d.TruncatedGaussian):
        if law.low != -law.high:
            raise _refused(spec, (
                f"a modulus is cut at one distance from the mean, and these bounds lie at {abbreviate(law.low)} and "
                f"{abbreviate(law.high)} standard deviations from it: unequal"
            ))
        if math.isinf(law.high):
            return ComplexNormal(law.mean, law.std)
        return ModulusTruncatedNormal.from_moments(law.mean, law.variance, law.high)
    if isinstance(law, d.HaarOrthogonal):
        return Unitary(law.gain, law.out_axes, law.batch_axes)
    if isinstance(law, CentreTap) and isinstance(law.matrix, d.HaarOrthogonal):  # DeltaOrthogonal: a unitary centre tap
        return CentreTap(complex_law(spec, law.matrix), law.in_axis, law.out_axis)
    raise _refused(spec, f"its law {type(law).__name__} is defined for real dtypes only")
