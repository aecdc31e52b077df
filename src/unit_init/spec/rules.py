"""Variance rules: the "how large" half of an initializer.

A rule maps the fans of a shape to the variance every element should have.
Combined with a distribution family (``unit_init.spec.distributions.FAMILIES``)
it gives a concrete distribution for any shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal, Protocol, runtime_checkable

from unit_init.spec._checks import choice, non_negative, positive
from unit_init.spec.fans import Fans

__all__ = ["MODES", "FanScaled", "FixedVariance", "Mode", "VarianceRule"]

Mode = Literal["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]
MODES: Final = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")


@runtime_checkable
class VarianceRule(Protocol):
    """Anything that turns fans into a variance."""

    def variance(self, fans: Fans) -> float:
        """The variance of every element of a weight with these fans."""
        ...


@dataclass(frozen=True, slots=True)
class FixedVariance:
    """A variance that does not depend on the shape."""

    value: float

    def __post_init__(self) -> None:
        non_negative("variance", self.value)

    def variance(self, fans: Fans) -> float:
        return float(self.value)


@dataclass(frozen=True, slots=True)
class FanScaled:
    """``Var = scale / n`` with ``n`` = fan_in, fan_out, (fan_in + fan_out) / 2 or √(fan_in · fan_out).

    ``"fan_geo_avg"``, the geometric mean, is JAX's (``jax.nn.initializers.variance_scaling``).

    ``n`` is floored at 1, as Keras does, so a zero-size shape never divides by zero.

    Examples
    --------
    >>> from unit_init import Fans
    >>> from unit_init.spec.rules import FanScaled
    >>> FanScaled(2.0, "fan_in").variance(Fans(fan_in=256, fan_out=128))
    0.0078125
    """

    scale: float = 1.0
    mode: Mode = "fan_in"

    def __post_init__(self) -> None:
        positive("scale", self.scale)
        choice("mode", self.mode, MODES)

    def variance(self, fans: Fans) -> float:
        n = {"fan_in": fans.fan_in, "fan_out": fans.fan_out, "fan_avg": fans.fan_avg, "fan_geo_avg": math.sqrt(fans.fan_in * fans.fan_out)}[self.mode]
        return float(self.scale) / max(1.0, n)
