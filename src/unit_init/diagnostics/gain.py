"""``recommend``: which spec suits an activation, with the gains of :mod:`unit_init.spec.gain`."""

from __future__ import annotations

from typing import cast

from unit_init.diagnostics.activations import ACTIVATIONS, ALIASES
from unit_init.errors import ParameterError, abbreviate, closest, keywords_checked
from unit_init.spec.catalogue import GlorotNormal, HeNormal, LecunNormal, VarianceScaling
from unit_init.spec.gain import calculate_gain
from unit_init.spec.initializer import Initializer

__all__ = ["calculate_gain", "recommend"]  # calculate_gain re-exported from the spec layer


@keywords_checked
def recommend(activation: str, param: float | None = None) -> Initializer:
    """The spec that keeps a deep network of ``activation`` layers trainable.

    * ``relu``, ``leaky_relu`` with the default slope, ``softplus`` →
      :class:`~unit_init.HeNormal` (Var = 2 / fan_in): ReLU cuts half of a
      unit Gaussian, so the variance is doubled back. Softplus, a smooth
      ReLU, gets He as the closest standard choice, but no fan-in scale keeps
      a deep softplus network both ways: its slope σ(z) is small where its
      large positive mean puts the inputs, so its gradients shrink over 50
      layers (a backward ratio of 0.056 at width 512, ``stable`` but near the
      0.01 edge; 0.0065, ``vanishing``, at width 256 and batch 32).
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
    >>> from unit_init import recommend
    >>> recommend("relu")
    HeNormal(seed=None)
    >>> recommend("gelu")
    VarianceScaling(seed=None, scale=2.155057061092185, mode='fan_in', distribution='truncated_normal')

    Raises
    ------
    ParameterError
        An unknown activation (with a close match).
    """
    if not isinstance(cast("object", activation), str):
        msg = f"activation={abbreviate(activation)} must be an activation's name (a str), such as 'relu'."
        raise ParameterError(msg)
    if param is not None and activation != "leaky_relu":
        msg = f"param={abbreviate(param)} was given, but only leaky_relu's recommendation takes one (its negative slope), not activation={abbreviate(activation)}."
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
    msg = f"activation={abbreviate(activation)} has no recommendation; accepted: {', '.join(known)}.{closest(activation, known)}"
    raise ParameterError(msg)
