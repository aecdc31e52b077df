"""``calculate_gain`` and ``recommend``: which scale, and which spec, suits an activation.

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

from unit_init.diagnostics.activations import ACTIVATIONS, ALIASES
from unit_init.errors import ParameterError, closest
from unit_init.spec._checks import finite
from unit_init.spec.catalogue import GlorotNormal, HeNormal, LecunNormal, VarianceScaling
from unit_init.spec.initializer import Initializer

__all__ = ["FIXED_GAINS", "NONLINEARITIES", "calculate_gain", "recommend"]

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
    if nonlinearity == "leaky_relu":
        slope = _DEFAULT_SLOPE if param is None else finite("param (the leaky_relu negative slope)", param)
        return math.sqrt(2.0 / (1 + slope**2))
    if isinstance(nonlinearity, str) and nonlinearity in FIXED_GAINS:
        return FIXED_GAINS[nonlinearity]
    hint = closest(nonlinearity, NONLINEARITIES) if isinstance(nonlinearity, str) else ""
    msg = f"nonlinearity={nonlinearity!r} is not supported; accepted: {', '.join(NONLINEARITIES)}.{hint}"
    raise ParameterError(msg)


def recommend(activation: str, param: float | None = None) -> Initializer:
    """The spec that keeps a deep network of ``activation`` layers trainable.

    * ``relu``, ``leaky_relu`` with the default slope, ``softplus`` →
      :class:`~unit_init.HeNormal` (Var = 2 / fan_in): ReLU cuts half of a
      unit Gaussian, so the variance is doubled back. Softplus, a smooth
      ReLU, gets He as the closest standard choice, but no fan-in scale keeps
      a deep softplus network both ways: its slope σ(z) is small where its
      large positive mean puts the inputs, so at depth 50 its gradients
      still vanish (like sigmoid's).
    * ``leaky_relu`` with a given slope → ``VarianceScaling(scale=2 / (1 + slope²))``
      (PyTorch's ``kaiming_normal_(a=slope)``).
    * ``tanh``, ``sigmoid``, ``linear`` (``identity``) →
      :class:`~unit_init.GlorotNormal` (Var = 2 / (fan_in + fan_out)): these
      are linear with slope 1 (tanh) near 0, and Glorot balances the forward
      and backward variances there. No scale keeps a deep sigmoid network's
      gradients alive (its slope is at most 1/4); use it in shallow networks.
    * ``selu`` → :class:`~unit_init.LecunNormal` (Var = 1 / fan_in), the
      variance SELU's self-normalizing fixed point assumes.
    * ``gelu``, ``silu`` (``swish``), ``mish``, ``elu`` →
      ``VarianceScaling(scale=gain², mode="fan_in")`` with the gain of
      :func:`calculate_gain`, which starts the network on its fixed point:
      activations of unit second moment stay so.

    ``param`` is the negative slope of ``leaky_relu``; no other activation takes one.

    Examples
    --------
    >>> recommend("relu")
    HeNormal(seed=None)
    >>> recommend("gelu")
    VarianceScaling(seed=None, scale=2.155057061092185, mode='fan_in', distribution='truncated_normal')

    Raises
    ------
    ParameterError
        An unknown activation (with a close match).
    """
    if param is not None and activation != "leaky_relu":
        msg = f"param={param!r} was given, but only leaky_relu's recommendation takes one (its negative slope), not activation={activation!r}."
        raise ParameterError(msg)
    if activation in ("relu", "softplus") or (activation == "leaky_relu" and param is None):
        return HeNormal()
    if activation == "leaky_relu":
        return VarianceScaling(scale=calculate_gain("leaky_relu", param) ** 2, mode="fan_in")
    if activation in ("tanh", "sigmoid", "linear", "identity"):
        return GlorotNormal()
    if activation == "selu":
        return LecunNormal()
    if activation in ("gelu", "silu", "swish", "mish", "elu"):
        return VarianceScaling(scale=calculate_gain(activation) ** 2, mode="fan_in")
    known = [*ACTIVATIONS, *ALIASES]
    hint = closest(activation, known) if isinstance(activation, str) else ""
    msg = f"activation={activation!r} has no recommendation; accepted: {', '.join(known)}.{hint}"
    raise ParameterError(msg)
