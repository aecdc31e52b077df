"""``calculate_gain``: the factor a weight is scaled by to keep activations' size through a nonlinearity.

The gain of a nonlinearity ``f`` is the factor by which weights are scaled
so that activations keep their size through a layer. For the names
``torch.nn.init.calculate_gain`` knows, the values are exactly PyTorch's
(linear, conv*, conv_transpose*, sigmoid: 1; tanh: 5/3; relu: √2;
leaky_relu: √(2 / (1 + slope²)), slope 0.01 by default; selu: 3/4).

The extra names take the gain ``g`` that solves::

    E[f(g·z)²] = 1,   z ~ N(0, 1)

With ``Var(W) = g² / fan_in``, a layer whose input has unit second moment
(a standardized batch, or the previous layer) gets pre-activations of
variance ``g²`` and hence activations of unit second moment again: the
network sits on its fixed point from the first layer on. For positively
homogeneous ``f`` this is the same as the rule ``g = 1 / √E[f(z)²]`` (unit
pre-activations stay unit); ReLU gives ``g = √2`` under both, so PyTorch's
relu gain is exactly this rule, and SELU gives 1 (LeCun). For GELU, SiLU
and Mish the fixed point is unstable (they act like a ReLU for large inputs
and like ``x/2`` for small ones), so starting *on* it matters: with
``1 / √E[f(z)²]`` (gelu 1.534, silu 1.677) the first layer starts above it
and a 50-layer network explodes (``unit_init.diagnose`` measures a growth of
about 1000× for silu), while the gains below stay within the ``stable``
band. Values by ``scipy.optimize.brentq`` over ``scipy.integrate.quad``
(``tests/test_diagnostics.py`` recomputes them):

=========  ==================  ==================
name       gain g              g² (VarianceScaling scale)
=========  ==================  ==================
gelu       1.4680112605467932  2.155057061092185  (exact, erf GELU)
silu       1.5587599300694917  2.4297325195902464
mish       1.4514912399603466  2.106826819681624
elu (α=1)  1.2779600754047145  1.6331819543284234
=========  ==================  ==================

``swish`` is another name for ``silu``, ``identity`` for ``linear``.
"""

from __future__ import annotations

import math
from typing import Final

from unit_init.errors import keywords_checked
from unit_init.spec._checks import choice, plain_number, squarable

__all__ = ["FIXED_GAINS", "NONLINEARITIES", "calculate_gain"]

_LINEAR: Final = (
    "linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
)
FIXED_GAINS: Final[dict[str, float]] = {
    **dict.fromkeys(_LINEAR, 1.0),
    "sigmoid": 1.0,
    "tanh": 5.0 / 3,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4,
    "gelu": 1.4680112605467932,
    "silu": 1.5587599300694917,
    "swish": 1.5587599300694917,
    "mish": 1.4514912399603466,
    "elu": 1.2779600754047145,
}
"""Gains that take no parameter (every name but ``leaky_relu``)."""
NONLINEARITIES: Final = (*FIXED_GAINS, "leaky_relu")
"""Every name :func:`calculate_gain` accepts."""
_DEFAULT_SLOPE: Final = 0.01


@keywords_checked
def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity``, as ``torch.nn.init.calculate_gain``.

    ================================  ==================================
    nonlinearity                      gain
    ================================  ==================================
    linear, identity, conv*, sigmoid  1
    tanh                              5/3
    relu                              √2
    leaky_relu                        √(2 / (1 + slope²)), slope = param or 0.01
    selu                              3/4
    gelu, silu (swish), mish, elu     g with E[f(g·z)²] = 1, z ~ N(0, 1) (module docstring)
    ================================  ==================================

    ``param`` is used by ``leaky_relu`` only and ignored otherwise, as in PyTorch.

    Examples
    --------
    >>> from unit_init import calculate_gain
    >>> calculate_gain("relu")
    1.4142135623730951
    >>> calculate_gain("leaky_relu", 0.2)
    1.3867504905630728

    Raises
    ------
    ParameterError
        An unknown name (with a close match), or a leaky_relu slope that is not
        a finite number.
    """
    choice("nonlinearity", nonlinearity, NONLINEARITIES)  # also refuses a non-str before comparing it
    if nonlinearity == "leaky_relu":
        slope = _DEFAULT_SLOPE if param is None else squarable("param (the leaky_relu negative slope)", plain_number(param))
        return math.sqrt(2.0 / (1 + slope**2))
    return FIXED_GAINS[nonlinearity]
