"""The verdict: is a network initialized with a spec trainable at this depth?

Two ratios measure how signals change across the depth ``L``::

    forward_ratio  = std(h_L) / std(h_1)            (activations, last over first)
    backward_ratio = std(∂ℓ/∂h_1) / std(∂ℓ/∂h_L)    (gradients, first over last)

Rules, checked in this order:

1. ``symmetric`` — some layer's units all have identical incoming weights
   (a zero or constant initializer). Such units compute the same function,
   receive the same gradient and stay identical under training, whatever the
   ratios say (an overflow is still named in the reason).
2. ``exploding`` — a value overflowed the dtype or became NaN, or a ratio exceeds
   :data:`EXPLODING_ABOVE` (two orders of magnitude of growth).
3. ``vanishing`` — a ratio is below :data:`VANISHING_BELOW` (two orders of
   magnitude of decay).
4. ``stable`` — otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["EXPLODING_ABOVE", "VANISHING_BELOW", "Judgement", "Verdict", "judge", "ratio"]

Verdict = Literal["stable", "vanishing", "exploding", "symmetric"]

VANISHING_BELOW: Final = 1e-2
"""A ratio below this (decay by more than 100×) is ``vanishing``."""
EXPLODING_ABOVE: Final = 1e2
"""A ratio above this (growth by more than 100×) is ``exploding``."""


@dataclass(frozen=True, slots=True)
class Judgement:
    """A verdict, the two ratios it rests on, and a sentence saying why."""

    verdict: Verdict
    forward_ratio: float
    backward_ratio: float
    reason: str


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; ``inf`` when either overflowed, ``0/0`` counts as 0."""
    if not (math.isfinite(numerator) and math.isfinite(denominator)):
        return math.inf
    if denominator == 0:
        return 0.0 if numerator == 0 else math.inf
    return numerator / denominator


def _non_finite(what: str, layer: int, stds: tuple[float, ...]) -> str:
    """Why layer ``layer``'s ``what`` are not finite: an overflow of the dtype (a std of ``inf``), or a NaN an operation
    made (a std of ``nan``: ``sqrt`` of a negative in a model; nothing overflowed)."""
    happened = "overflowed the dtype" if math.isinf(stds[layer - 1]) else "became NaN"
    return f"the {what} {happened} at layer {layer}"


def judge(activation_std: tuple[float, ...], gradient_std: tuple[float, ...], identical_unit_layers: int) -> Judgement:
    """Apply the rules of the module docstring to one network's per-layer statistics."""
    forward = ratio(activation_std[-1], activation_std[0])
    backward = ratio(gradient_std[0], gradient_std[-1])
    depth = len(activation_std)
    span = f"std(h_{depth}) / std(h_1) = {forward:.3g}, std(∂ℓ/∂h_1) / std(∂ℓ/∂h_{depth}) = {backward:.3g}"
    # The forward pass overflows first at its lowest such layer, the backward pass at its highest.
    forward_overflow = [layer for layer, s in enumerate(activation_std, 1) if not math.isfinite(s)]
    backward_overflow = [layer for layer, s in enumerate(gradient_std, 1) if not math.isfinite(s)]
    overflow = (
        _non_finite("activations", forward_overflow[0], activation_std) if forward_overflow
        else _non_finite("gradients", backward_overflow[-1], gradient_std) if backward_overflow
        else ""
    )
    if identical_unit_layers:
        reason = f"{identical_unit_layers} of {depth} layers have identical incoming weights for every unit, so their units never differ"
        return Judgement("symmetric", forward, backward, f"{reason}; {overflow} too" if overflow else reason)
    if overflow:
        return Judgement("exploding", forward, backward, overflow)
    if forward > EXPLODING_ABOVE or backward > EXPLODING_ABOVE:
        return Judgement("exploding", forward, backward, f"{span}; a ratio is above {EXPLODING_ABOVE:g}")
    if forward < VANISHING_BELOW or backward < VANISHING_BELOW:
        return Judgement("vanishing", forward, backward, f"{span}; a ratio is below {VANISHING_BELOW:g}")
    return Judgement("stable", forward, backward, f"{span}; both within [{VANISHING_BELOW:g}, {EXPLODING_ABOVE:g}]")
