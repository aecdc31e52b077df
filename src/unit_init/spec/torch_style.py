"""The spellings PyTorch users type: ``xavier_*`` and ``kaiming_*`` with torch's parameters, ``trunc_normal``, ``eye``.

Each is a fan-scaled law, ``VarianceScaling(gain², mode, distribution)``,
whose scale is written the way ``torch.nn.init`` takes it:

======================  ==============================================  ===================================
name                    spec (defaults)                                 law
======================  ==============================================  ===================================
``xavier_uniform``      ``XavierUniform(gain=1.0)``                     U(±gain·√(6 / (n_in + n_out)))
``xavier_normal``       ``XavierNormal(gain=1.0)``                      N(0, gain²·2 / (n_in + n_out))
``kaiming_uniform``     ``KaimingUniform(a=0.0, mode="fan_in",``        U(±g·√(3 / n)), g = calculate_gain(nonlinearity, a)
                        ``nonlinearity="leaky_relu")``
``kaiming_normal``      ``KaimingNormal(a=0.0, mode="fan_in",``         N(0, g² / n)
                        ``nonlinearity="leaky_relu")``
``trunc_normal``        :class:`~unit_init.BoundedNormal` (the same     N(mean, std²) cut at absolute [a, b]
                        class: torch's defaults are its defaults)
``eye``                 :class:`~unit_init.Identity` (the same class)   the identity matrix
======================  ==============================================  ===================================

``n`` is the fan ``mode`` names (``"fan_in"`` or ``"fan_out"``, the two torch
accepts). The normals are *untruncated*, as in torch. JAX's
``xavier_normal``/``kaiming_normal`` are other names for its
``glorot_normal``/``he_normal`` (a truncated normal): a JAX user who wants
that law writes ``glorot_normal``/``he_normal``. ``KaimingUniform(a=math.sqrt(5))``
is torch's ``nn.Linear``/``nn.Conv*`` default weight: U(±1/√n_in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final, Literal

from unit_init.errors import ParameterError, abbreviate
from unit_init.spec import distributions as d
from unit_init.spec._checks import choice, squarable
from unit_init.spec.catalogue import DistributionName, Identity, VarianceScaling
from unit_init.spec.fans import LayoutLike, ShapeLike
from unit_init.spec.gain import calculate_gain
from unit_init.spec.initializer import Initializer
from unit_init.spec.structured import BoundedNormal

__all__ = ["GAIN_SCALED", "TORCH_STYLE", "KaimingNormal", "KaimingUniform", "XavierNormal", "XavierUniform", "as_variance_scaling"]

TorchMode = Literal["fan_in", "fan_out"]
_TORCH_MODES: Final = ("fan_in", "fan_out")


@dataclass(frozen=True, slots=True)
class _GainScaled(Initializer):
    """A law that is a :class:`~unit_init.VarianceScaling` once torch's parameters are read."""

    distribution: ClassVar[DistributionName]

    @property
    def scaling(self) -> VarianceScaling:
        """The law as a :class:`~unit_init.VarianceScaling`."""
        raise NotImplementedError

    def distribution_for(
        self, shape: ShapeLike, *, layout: LayoutLike = None, fan_in: float | None = None, fan_out: float | None = None
    ) -> d.Distribution:
        try:
            return self.scaling.distribution_for(shape, layout=layout, fan_in=fan_in, fan_out=fan_out)
        except ParameterError as error:  # a variance that underflows float64 for this shape: named with this spec's parameters
            raise ParameterError(f"{self!r}: {error}") from None


@dataclass(frozen=True, slots=True)
class _Xavier(_GainScaled):
    gain: float = 1.0

    def _validate(self) -> None:
        gain = squarable("gain", self.gain)
        if gain == 0:
            msg = f"gain={abbreviate(self.gain)} must be non-zero (a zero gain is ui.Zeros())."
            raise ParameterError(msg)
        if gain * gain == 0:
            msg = f"gain={abbreviate(self.gain)} is too small: Var = gain²·2/(fan_in + fan_out), and its square underflows a float to 0."
            raise ParameterError(msg)

    @property
    def scaling(self) -> VarianceScaling:
        """``VarianceScaling(gain², "fan_avg", distribution)``."""
        return VarianceScaling(float(self.gain) * float(self.gain), "fan_avg", self.distribution)


class XavierUniform(_Xavier):
    """Glorot (Xavier) uniform with torch's ``gain``: ``VarianceScaling(gain², "fan_avg", "uniform")``.

    ``torch.nn.init.xavier_uniform_(w, gain)``; with ``gain=1`` the law of
    :class:`~unit_init.GlorotUniform` (JAX's ``xavier_uniform``).

    Examples
    --------
    >>> from unit_init.spec.torch_style import XavierUniform
    >>> XavierUniform(gain=2.0).distribution_for((300, 300))  # limit 2·√(6/600)
    Uniform(low=-0.2, high=0.2)
    """

    __slots__ = ()
    distribution = "uniform"


class XavierNormal(_Xavier):
    """Glorot (Xavier) normal with torch's ``gain``: ``VarianceScaling(gain², "fan_avg", "untruncated_normal")``.

    ``torch.nn.init.xavier_normal_(w, gain)``: N(0, gain²·2/(n_in + n_out)),
    *not* truncated (JAX's ``xavier_normal`` is its truncated ``glorot_normal``).

    Examples
    --------
    >>> from unit_init.spec.torch_style import XavierNormal
    >>> XavierNormal().distribution_for((100, 100))
    Normal(mean=0.0, std=0.1)
    """

    __slots__ = ()
    distribution = "untruncated_normal"


@dataclass(frozen=True, slots=True)
class _Kaiming(_GainScaled):
    a: float = 0.0
    mode: TorchMode = "fan_in"
    nonlinearity: str = "leaky_relu"

    def _validate(self) -> None:
        squarable("a", self.a)
        choice("mode", self.mode, _TORCH_MODES, " (as torch)")
        if self.gain == 0:  # a leaky_relu slope of ±inf is refused by squarable(); no listed nonlinearity has gain 0
            msg = f"nonlinearity={self.nonlinearity!r} with a={abbreviate(self.a)} gives gain 0."
            raise ParameterError(msg)

    @property
    def gain(self) -> float:
        """``calculate_gain(nonlinearity, a)``, as torch's ``kaiming_*_`` (``a`` is the leaky_relu slope)."""
        return calculate_gain(self.nonlinearity, float(self.a))

    @property
    def scaling(self) -> VarianceScaling:
        """``VarianceScaling(gain², mode, distribution)``."""
        return VarianceScaling(self.gain * self.gain, self.mode, self.distribution)


class KaimingUniform(_Kaiming):
    """He (Kaiming) uniform with torch's parameters: ``VarianceScaling(g², mode, "uniform")``.

    ``torch.nn.init.kaiming_uniform_(w, a, mode, nonlinearity)``: U(±g·√(3/n))
    with ``g = calculate_gain(nonlinearity, a)`` and ``n`` the ``mode`` fan.
    The defaults (``a=0``, leaky_relu, so g = √2) give :class:`~unit_init.HeUniform`'s
    law; ``a=math.sqrt(5)`` gives torch's ``nn.Linear`` default, U(±1/√n_in).

    Examples
    --------
    >>> import math
    >>> from unit_init.spec.torch_style import KaimingUniform
    >>> KaimingUniform(a=math.sqrt(5)).distribution_for((64, 10))  # keras layout: n_in = 64
    Uniform(low=-0.125, high=0.125)
    """

    __slots__ = ()
    distribution = "uniform"


class KaimingNormal(_Kaiming):
    """He (Kaiming) normal with torch's parameters: ``VarianceScaling(g², mode, "untruncated_normal")``.

    ``torch.nn.init.kaiming_normal_(w, a, mode, nonlinearity)``: N(0, g²/n),
    *not* truncated (JAX's ``kaiming_normal`` is its truncated ``he_normal``).

    Examples
    --------
    >>> from unit_init.spec.torch_style import KaimingNormal
    >>> KaimingNormal(nonlinearity="relu", mode="fan_out").distribution_for((3, 3, 16, 8))  # n_out = 9·8
    Normal(mean=0.0, std=0.16666666666666669)
    """

    __slots__ = ()
    distribution = "untruncated_normal"


TORCH_STYLE: Final[dict[str, type[Initializer]]] = {
    "xavier_uniform": XavierUniform,
    "xavier_normal": XavierNormal,
    "kaiming_uniform": KaimingUniform,
    "kaiming_normal": KaimingNormal,
    "trunc_normal": BoundedNormal,
    "eye": Identity,
}
"""The names torch users type (``torch.nn.init`` without the trailing ``_``) → spec class."""

GAIN_SCALED: Final = (XavierUniform, XavierNormal, KaimingUniform, KaimingNormal)
"""torch's spellings of the fan-scaled laws: each is a :class:`~unit_init.VarianceScaling` once its parameters are read."""


def as_variance_scaling(spec: Initializer) -> Initializer:
    """``spec`` as the ``VarianceScaling`` it draws where it is one of torch's spellings (:data:`GAIN_SCALED`), else as it is.

    Examples
    --------
    >>> from unit_init.spec.torch_style import XavierUniform
    >>> as_variance_scaling(XavierUniform(gain=2.0))
    VarianceScaling(seed=None, scale=4.0, mode='fan_avg', distribution='uniform')
    """
    return spec.scaling if isinstance(spec, GAIN_SCALED) else spec
