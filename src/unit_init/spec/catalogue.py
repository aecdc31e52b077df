"""The named initializers, each a variance rule plus a distribution (docs/design.md#a-spec-is-a-rule-and-a-law).

Names and defaults follow Keras. :class:`Composed` combines *any* variance
rule with any distribution family, so a new initializer needs no backend code;
:class:`VarianceScaling` is the Composed with a fan-scaled rule, and Glorot, He
and LeCun are its subclasses that only fix its three arguments (as in Keras:
``isinstance(HeNormal(), VarianceScaling)``, ``HeNormal().scale == 2.0``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Final, Literal

from unit_init.errors import ParameterError, UnitInitError, abbreviate, closest
from unit_init.spec import distributions as d
from unit_init.spec._checks import bound, choice, finite, non_negative, plain_number, positive
from unit_init.spec.fans import Fans, LayoutLike, ShapeLike, compute_fans, normalize_shape, resolve_layout
from unit_init.spec.initializer import Initializer
from unit_init.spec.rules import MODES, FanScaled, Mode, VarianceRule

__all__ = [
    "CATALOGUE",
    "Composed",
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
]

DistributionName = Literal["truncated_normal", "untruncated_normal", "normal", "uniform"]


@dataclass(frozen=True, slots=True)
class Zeros(Initializer):
    """Every element is 0."""

    random: ClassVar[bool] = False

    def distribution_for(self, shape: ShapeLike, **_: object) -> d.Distribution:
        return d.PointMass(0.0)


@dataclass(frozen=True, slots=True)
class Ones(Initializer):
    """Every element is 1."""

    random: ClassVar[bool] = False

    def distribution_for(self, shape: ShapeLike, **_: object) -> d.Distribution:
        return d.PointMass(1.0)


@dataclass(frozen=True, slots=True)
class Constant(Initializer):
    """Every element is ``value``.

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.constant((2, 2), value=0.5).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """

    random: ClassVar[bool] = False

    value: float = 0.0

    def _validate(self) -> None:
        finite("value", self.value)

    def distribution_for(self, shape: ShapeLike, **_: object) -> d.Distribution:
        return d.PointMass(self.value)


@dataclass(frozen=True, slots=True)
class RandomNormal(Initializer):
    """``N(mean, stddev²)`` whatever the shape."""

    mean: float = 0.0
    stddev: float = 0.05

    def _validate(self) -> None:
        finite("mean", self.mean)
        non_negative("stddev", self.stddev)

    def distribution_for(self, shape: ShapeLike, **_: object) -> d.Distribution:
        return d.Normal(self.mean, self.stddev)


@dataclass(frozen=True, slots=True)
class RandomUniform(Initializer):
    """``U[minval, maxval)`` whatever the shape (no complex form: an interval has none)."""

    complex_form: ClassVar[bool] = False
    minval: float = -0.05
    maxval: float = 0.05

    def _validate(self) -> None:
        if finite("minval", self.minval) > finite("maxval", self.maxval):
            msg = f"minval={abbreviate(self.minval)} must not exceed maxval={abbreviate(self.maxval)}."
            raise ParameterError(msg)

    def distribution_for(self, shape: ShapeLike, **_: object) -> d.Distribution:
        return d.Uniform(self.minval, self.maxval)


@dataclass(frozen=True, slots=True)
class TruncatedNormal(Initializer):
    """``N(mean, stddev²)`` cut at ``[mean + lower·stddev, mean + upper·stddev]``, never clamped.

    ``stddev`` is the scale before truncation (as in Keras): with the default
    bounds ±2 the result's standard deviation is ``0.8796·stddev``. ``lower``
    and ``upper`` are in units of ``stddev``, as JAX's
    ``truncated_normal(stddev, lower=-2, upper=2)`` and Haiku's
    ``TruncatedNormal(stddev, mean, lower, upper)``; either may be infinite
    and any interval float64 holds is drawn (see
    :class:`unit_init.distributions.TruncatedGaussian`). The config holds them
    only where they are not ±2, so the default's config is Keras's.

    Examples
    --------
    >>> import unit_init as ui
    >>> w = ui.TruncatedNormal(stddev=1.0, lower=0.0, upper=float("inf"))((1000,), seed=0)  # half-normal
    >>> bool(w.min() >= 0.0)
    True
    """

    mean: float = 0.0
    stddev: float = 0.05
    lower: float = -2.0
    upper: float = 2.0

    def _validate(self) -> None:
        finite("mean", self.mean)
        positive("stddev", self.stddev)
        if not bound("lower", self.lower) < bound("upper", self.upper):
            msg = f"lower={abbreviate(self.lower)} must be below upper={abbreviate(self.upper)} (in units of stddev; either may be infinite)."
            raise ParameterError(msg)
        self.distribution_for(())  # an interval with no float64 mass is refused here

    def distribution_for(self, shape: ShapeLike, **_: object) -> d.Distribution:
        return d.TruncatedGaussian(self.mean, self.stddev, float(self.lower), float(self.upper))

    def get_config(self) -> dict[str, object]:
        """The parameters, ``lower``/``upper`` only where they are not the default ±2 (Keras's config has neither)."""
        config = Initializer.get_config(self)
        return {key: value for key, value in config.items() if not (key in ("lower", "upper") and value == _BOUNDS[key])}


_BOUNDS: Final = {"lower": -2.0, "upper": 2.0}


def _check_rule(rule: object) -> None:
    """A :class:`~unit_init.rules.VarianceRule`, not an initializer (whose ``variance`` takes a shape): where
    ``rule.variance(Fans(64, 64))`` answers, a finite real number ``> 0``, as every draw needs (a rule free to refuse
    those fans, a table of widths say, is checked when it is drawn: :func:`rule_variance`)."""
    if isinstance(rule, Initializer):
        msg = (
            f"rule={abbreviate(rule)} is an initializer (its variance takes a shape); pass a variance rule "
            "such as ui.rules.FanScaled(2.0, 'fan_in'), which takes fans."
        )
        raise ParameterError(msg)
    if not isinstance(rule, VarianceRule):
        msg = f"rule={abbreviate(rule)} has no variance(fans) method."
        raise ParameterError(msg)
    probe = Fans(64.0, 64.0)
    try:
        answer = rule.variance(probe)
    except Exception:  # a user's rule may refuse these fans: its draws will say, naming rule= (rule_variance)
        return
    variance = _as_variance(rule, answer, probe)
    if not 0 < variance < math.inf:
        msg = f"rule={abbreviate(rule)} gives Var = {variance!r} for {probe}; a variance must be finite and > 0."
        raise ParameterError(msg)


def rule_variance(rule: VarianceRule, fans: Fans) -> float:
    """``rule.variance(fans)`` as a float (``inf`` past float64), or a :class:`ParameterError` naming ``rule=``: a user's
    rule may raise anything or return something that is not a real number."""
    try:
        answer: object = rule.variance(fans)
    except UnitInitError:
        raise
    except Exception as error:  # a user's rule may raise anything
        msg = f"rule={abbreviate(rule)} failed on {fans}: {type(error).__name__}: {abbreviate(str(error))}."
        raise ParameterError(msg) from error
    return _as_variance(rule, answer, fans)


def _as_variance(rule: object, answer: object, fans: Fans) -> float:
    """A rule's ``answer`` for ``fans`` as a float (``inf`` for an int past float64), or a :class:`ParameterError`."""
    value = plain_number(answer)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"rule={abbreviate(rule)} returned {abbreviate(value)} for {fans}, not a number."
        raise ParameterError(msg)
    try:
        return float(value)
    except OverflowError:  # an int past float64's range
        return math.inf


def _family(name: object, argument: str = "distribution", lead: str = "") -> Callable[[float, float], d.Distribution]:
    """The family a name stands for (or a callable, passed through: see :func:`_check_family`); ``lead`` opens an error's message."""
    if callable(name) and argument == "family":
        return name
    if isinstance(name, str) and name in d.FAMILIES:
        return d.FAMILIES[name]
    hint = closest(name, d.FAMILIES) if isinstance(name, str) else ""
    callables = " or a callable (mean, variance) -> Distribution" if argument == "family" else ""
    msg = f"{lead}{argument}={abbreviate(name)} is not known; accepted: {', '.join(map(repr, d.FAMILIES))}{callables}.{hint}"
    raise ParameterError(msg)


def scaled_law(spec: Initializer, family: Callable[[float, float], d.Distribution], mean: float, variance: float) -> d.Distribution:
    """``family(mean, variance)`` for a variance a rule computed: a :class:`ParameterError` unless it is finite and positive.

    A variance of 0 or inf from positive parameters is an overflow or
    underflow of float64 (``MuP(fan_in_mult=1e-308)``, ``scale=1e-320``),
    which would otherwise draw zeros, or infinities, silently.
    """
    if not 0 < variance < math.inf:
        msg = (
            f"{type(spec).__name__}: its parameters give Var = {variance!r} for this shape "
            "(an overflow or underflow of float64); choose parameters nearer 1."
        )
        raise ParameterError(msg)
    return family(mean, variance)


def _check_family(family: object) -> None:
    """A family name, or a callable that turns ``(0.0, 1.0)`` into a :class:`~unit_init.spec.distributions.Distribution`."""
    build = _family(family, "family")
    try:
        probe: object = build(0.0, 1.0)
    except Exception as error:  # a user's callable may raise anything
        msg = f"family={abbreviate(family)} failed on (mean=0.0, variance=1.0): {type(error).__name__}; it must return a Distribution."
        raise ParameterError(msg) from error
    if not isinstance(probe, d.Distribution):
        msg = f"family={abbreviate(family)} returned {abbreviate(probe)} for (mean=0.0, variance=1.0), not a Distribution."
        raise ParameterError(msg)


@dataclass(frozen=True, slots=True)
class Composed(Initializer):
    """Any variance rule combined with any distribution family.

    ``Var = rule.variance(fans)``; the family turns ``(mean, Var)`` into a
    distribution (a name from ``FAMILIES`` or a callable, called once with
    ``(0.0, 1.0)`` at construction to check it returns a ``Distribution``).
    :class:`VarianceScaling` and its presets are the specialization with a
    :class:`~unit_init.rules.FanScaled` rule and a named family.

    The spec is compared and hashed with its rule, and a draw's plan is
    cached by the spec: a rule must not change once a spec holds it (make
    it a frozen dataclass; a plain object is compared by identity, so a
    changed one keeps drawing its first variance for shapes already drawn).

    Examples
    --------
    >>> import unit_init as ui
    >>> spec = ui.Composed(rule=ui.rules.FanScaled(3.0, "fan_in"), family="uniform")
    >>> spec.distribution_for((256, 256))  # Var = 3/256, limit = √(3·Var) = 3/16
    Uniform(low=-0.1875, high=0.1875)
    """

    rule: VarianceRule
    family: str | Callable[[float, float], d.Distribution] = "truncated_normal"
    mean: float = 0.0

    def _validate(self) -> None:
        _check_rule(self.rule)
        _check_family(self.family)
        finite("mean", self.mean)

    def distribution_for(
        self, shape: ShapeLike, *, layout: LayoutLike = None, fan_in: float | None = None, fan_out: float | None = None
    ) -> d.Distribution:
        fans = compute_fans(normalize_shape(shape), layout, fan_in=fan_in, fan_out=fan_out)
        return scaled_law(self, _family(self.family, "family"), self.mean, rule_variance(self.rule, fans))


@dataclass(frozen=True, slots=True)
class VarianceScaling(Composed):
    """``Var = scale / n``, n = fan_in, fan_out, (fan_in + fan_out) / 2 or √(fan_in·fan_out) (``mode``).

    A :class:`Composed` whose rule is ``FanScaled(scale, mode)`` and whose
    family is ``distribution``, with mean 0 (``rule``, ``family`` and
    ``mean`` are derived from the three parameters, never passed).
    ``distribution``:

    * ``"truncated_normal"``: cut at ±2σ with σ = √Var / 0.87962566103423978,
      so the variance *after* truncation is exactly Var;
    * ``"untruncated_normal"`` (alias ``"normal"``, as in JAX): ``N(0, Var)``;
    * ``"uniform"``: ``U[-√(3·Var), √(3·Var))``.

    Examples
    --------
    >>> import unit_init as ui
    >>> spec = ui.VarianceScaling(2.0, "fan_in", "uniform")
    >>> spec.distribution_for((256, 128))
    Uniform(low=-0.15309310892394862, high=0.15309310892394862)
    >>> spec.rule, spec.family
    (FanScaled(scale=2.0, mode='fan_in'), 'uniform')
    """

    rule: FanScaled = field(init=False, repr=False, compare=False)
    family: str = field(init=False, repr=False, compare=False)
    mean: float = field(default=0.0, init=False, repr=False, compare=False)
    scale: float = 1.0
    mode: Mode = "fan_in"
    distribution: DistributionName = "truncated_normal"

    def _validate(self) -> None:
        # Keras's own words open the three messages (its tests match them); the value received and the accepted ones follow.
        scale: object = self.scale
        if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not 0 < scale < math.inf:
            msg = f"Argument `scale` must be positive float. Received: scale={abbreviate(scale)}."
            raise ParameterError(msg)
        choice("mode", self.mode, MODES, lead="Invalid `mode` argument: ")
        distribution: object = self.distribution
        if isinstance(distribution, str) and distribution.lower() in d.FAMILIES:  # Keras takes any case
            object.__setattr__(self, "distribution", distribution.lower())
        _family(self.distribution, lead="Invalid `distribution` argument: ")
        rule = FanScaled(self.scale, self.mode)
        if self.distribution == "normal":  # one spelling per meaning, so equal specs compare equal
            object.__setattr__(self, "distribution", "untruncated_normal")
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "family", self.distribution)


# A preset fixes the three parameters of VarianceScaling: fields out of __init__
# (``HeNormal(scale=3)`` is refused), of the repr and of the config, as in Keras.


@dataclass(frozen=True, slots=True)
class GlorotNormal(VarianceScaling):
    """Glorot (Xavier) normal: ``VarianceScaling(1.0, "fan_avg", "truncated_normal")``, Var = 2 / (fan_in + fan_out).

    Examples
    --------
    >>> import unit_init as ui
    >>> spec = ui.GlorotNormal()
    >>> isinstance(spec, ui.VarianceScaling), spec.scale, spec.mode, spec.distribution
    (True, 1.0, 'fan_avg', 'truncated_normal')
    >>> spec.get_config()
    {'seed': None}
    """

    scale: float = field(default=1.0, init=False, repr=False, compare=False)
    mode: Mode = field(default="fan_avg", init=False, repr=False, compare=False)
    distribution: DistributionName = field(default="truncated_normal", init=False, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class GlorotUniform(VarianceScaling):
    """Glorot (Xavier) uniform: ``VarianceScaling(1.0, "fan_avg", "uniform")``, limit √(6 / (fan_in + fan_out))."""

    scale: float = field(default=1.0, init=False, repr=False, compare=False)
    mode: Mode = field(default="fan_avg", init=False, repr=False, compare=False)
    distribution: DistributionName = field(default="uniform", init=False, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class HeNormal(VarianceScaling):
    """He (Kaiming) normal: ``VarianceScaling(2.0, "fan_in", "truncated_normal")``, Var = 2 / fan_in."""

    scale: float = field(default=2.0, init=False, repr=False, compare=False)
    mode: Mode = field(default="fan_in", init=False, repr=False, compare=False)
    distribution: DistributionName = field(default="truncated_normal", init=False, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class HeUniform(VarianceScaling):
    """He (Kaiming) uniform: ``VarianceScaling(2.0, "fan_in", "uniform")``, limit √(6 / fan_in)."""

    scale: float = field(default=2.0, init=False, repr=False, compare=False)
    mode: Mode = field(default="fan_in", init=False, repr=False, compare=False)
    distribution: DistributionName = field(default="uniform", init=False, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class LecunNormal(VarianceScaling):
    """LeCun normal: ``VarianceScaling(1.0, "fan_in", "truncated_normal")``, Var = 1 / fan_in."""

    scale: float = field(default=1.0, init=False, repr=False, compare=False)
    mode: Mode = field(default="fan_in", init=False, repr=False, compare=False)
    distribution: DistributionName = field(default="truncated_normal", init=False, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class LecunUniform(VarianceScaling):
    """LeCun uniform: ``VarianceScaling(1.0, "fan_in", "uniform")``, limit √(3 / fan_in)."""

    scale: float = field(default=1.0, init=False, repr=False, compare=False)
    mode: Mode = field(default="fan_in", init=False, repr=False, compare=False)
    distribution: DistributionName = field(default="uniform", init=False, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Orthogonal(Initializer):
    """A Haar-random (semi-)orthogonal matrix times ``gain``; rank >= 2.

    The shape is viewed as a matrix with the layout's out axis on one side and
    every other axis (batch axes excepted) flattened on the other; the smaller
    side is orthonormal: ``QᵀQ = gain²·I``. Each entry has variance
    ``gain² / max(rows, cols)``.
    """

    gain: float = 1.0
    min_rank: ClassVar[int] = 2

    def _validate(self) -> None:
        finite("gain", self.gain)

    def distribution_for(self, shape: ShapeLike, *, layout: LayoutLike = None, **fans: object) -> d.Distribution:
        dims = normalize_shape(shape)
        self.check_shape(dims)
        _, out_axes, batch_axes = resolve_layout(layout).axes(len(dims))
        return d.HaarOrthogonal(self.gain, out_axes, batch_axes)

    def variance(self, shape: ShapeLike, *, layout: LayoutLike = None, **fans: object) -> float:
        """``gain² / max(rows, cols)``: a unit vector of length n has mean square 1/n (fan overrides are ignored)."""
        dims = normalize_shape(shape)
        self.check_shape(dims)
        _, out_axes, batch_axes = resolve_layout(layout).axes(len(dims))
        cols = math.prod(dims[a] for a in out_axes)
        rows = math.prod(dims[a] for a in range(len(dims)) if a not in out_axes and a not in batch_axes)
        return float(self.gain) * float(self.gain) / max(rows, cols, 1)


@dataclass(frozen=True, slots=True)
class Identity(Initializer):
    """``gain · eye(rows, cols)`` (also non-square); rank >= 2, broadcast over leading axes as Haiku's ``Identity``.

    A shape ``(..., rows, cols)`` holds the same matrix at every leading index.

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.identity((2, 2, 3), gain=2.0)[1].tolist()
    [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """

    random: ClassVar[bool] = False

    gain: float = 1.0
    min_rank: ClassVar[int] = 2

    def _validate(self) -> None:
        finite("gain", self.gain)

    def distribution_for(self, shape: ShapeLike, **_: object) -> d.Distribution:
        self.check_shape(normalize_shape(shape))
        return d.Eye(self.gain)


CATALOGUE: Final[dict[str, type[Initializer]]] = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_normal": GlorotNormal,
    "glorot_uniform": GlorotUniform,
    "he_normal": HeNormal,
    "he_uniform": HeUniform,
    "lecun_normal": LecunNormal,
    "lecun_uniform": LecunUniform,
    "orthogonal": Orthogonal,
    "identity": Identity,
}
"""Every named initializer: snake-case name → spec class."""
