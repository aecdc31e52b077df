"""Activation functions and their derivatives, written once over an Array-API namespace.

Each :class:`Activation` computes ``h = f(z)`` and ``f'(z)`` with the
functions every Array-API namespace has (``exp``, ``expm1``, ``log1p``,
``tanh``, ``where``, ``abs``), so the same code runs on NumPy, PyTorch and JAX
arrays (and on ``tf.experimental.numpy``). Each form is chosen so that no
intermediate overflows for finite ``z``: the sigmoid and softplus are evaluated
through ``exp(-|z|)``, the exponential branches of ELU and SELU through
``expm1(min(z, 0))``.

GELU is the tanh approximation ``0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³)))``:
the Array-API standard has no ``erf``. It differs from the exact GELU by less
than 5e-4 everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from unit_init.errors import ParameterError, abbreviate, closest
from unit_init.spec._checks import finite, plain_number, plain_text

__all__ = ["ACTIVATIONS", "ALIASES", "Activation", "get_activation"]

Forward = Callable[[Any, Any, float], Any]
"""``(xp, z, param) -> f(z)``."""
Derivative = Callable[[Any, Any, Any, float], Any]
"""``(xp, z, h, param) -> f'(z)`` where ``h = f(z)`` is already known."""

SELU_LAMBDA: Final = 1.0507009873554804934193349852946
SELU_ALPHA: Final = 1.6732632423543772848170429916717
_GELU_C: Final = math.sqrt(2.0 / math.pi)
_GELU_K: Final = 0.044715


@dataclass(frozen=True, slots=True)
class Activation:
    """A named activation ``f`` with its derivative and the default of its parameter.

    ``default_param`` is ``None`` for activations that take no parameter
    (``leaky_relu`` takes its negative slope, ``elu`` its α).
    """

    name: str
    forward: Forward
    derivative: Derivative
    default_param: float | None = None


def _zero(xp: Any, z: Any) -> Any:
    return xp.zeros_like(z)


def _positive_part(xp: Any, z: Any) -> Any:
    return xp.where(z > 0, z, _zero(xp, z))


def _negative_part(xp: Any, z: Any) -> Any:
    return xp.where(z < 0, z, _zero(xp, z))


def _sigmoid(xp: Any, z: Any) -> Any:
    """``1 / (1 + e^(-z))`` through ``e = exp(-|z|)``, which never overflows."""
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(xp: Any, z: Any) -> Any:
    """``log(1 + e^z) = max(z, 0) + log1p(e^(-|z|))``."""
    return _positive_part(xp, z) + xp.log1p(xp.exp(-xp.abs(z)))


def _step(xp: Any, z: Any, below: float) -> Any:
    """``1`` where ``z > 0``, ``below`` elsewhere."""
    ones = xp.ones_like(z)
    return xp.where(z > 0, ones, ones * below)


def _elu(xp: Any, z: Any, alpha: float) -> Any:
    return xp.where(z > 0, z, alpha * xp.expm1(_negative_part(xp, z)))


def _elu_derivative(xp: Any, z: Any, alpha: float) -> Any:
    return xp.where(z > 0, xp.ones_like(z), alpha * xp.exp(_negative_part(xp, z)))


def _gelu(xp: Any, z: Any, _: float) -> Any:
    return 0.5 * z * (1.0 + xp.tanh(_GELU_C * (z + _GELU_K * z * z * z)))


def _gelu_derivative(xp: Any, z: Any, h: Any, _: float) -> Any:
    t = xp.tanh(_GELU_C * (z + _GELU_K * z * z * z))
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * _GELU_C * (1.0 + 3.0 * _GELU_K * z * z)


def _mish(xp: Any, z: Any, _: float) -> Any:
    return z * xp.tanh(_softplus(xp, z))


def _mish_derivative(xp: Any, z: Any, h: Any, _: float) -> Any:
    t = xp.tanh(_softplus(xp, z))
    return t + z * (1.0 - t * t) * _sigmoid(xp, z)


ACTIVATIONS: Final[dict[str, Activation]] = {
    a.name: a
    for a in (
        Activation("linear", lambda xp, z, _: z, lambda xp, z, h, _: xp.ones_like(z)),
        Activation("relu", lambda xp, z, _: _positive_part(xp, z), lambda xp, z, h, _: _step(xp, z, 0.0)),
        Activation(
            "leaky_relu",
            lambda xp, z, a: xp.where(z > 0, z, a * z),
            lambda xp, z, h, a: _step(xp, z, a),
            default_param=0.01,
        ),
        Activation("tanh", lambda xp, z, _: xp.tanh(z), lambda xp, z, h, _: 1.0 - h * h),
        Activation("sigmoid", lambda xp, z, _: _sigmoid(xp, z), lambda xp, z, h, _: h * (1.0 - h)),
        Activation(
            "selu",
            lambda xp, z, _: SELU_LAMBDA * _elu(xp, z, SELU_ALPHA),
            lambda xp, z, h, _: SELU_LAMBDA * _elu_derivative(xp, z, SELU_ALPHA),
        ),
        Activation("elu", _elu, lambda xp, z, h, a: _elu_derivative(xp, z, a), default_param=1.0),
        Activation("gelu", _gelu, _gelu_derivative),
        Activation(
            "silu",
            lambda xp, z, _: z * _sigmoid(xp, z),
            lambda xp, z, h, _: _sigmoid(xp, z) * (1.0 + z * (1.0 - _sigmoid(xp, z))),
        ),
        Activation("softplus", lambda xp, z, _: _softplus(xp, z), lambda xp, z, h, _: _sigmoid(xp, z)),
        Activation("mish", _mish, _mish_derivative),
    )
}
"""Every activation :func:`unit_init.diagnose` accepts, by canonical name."""

ALIASES: Final = {"identity": "linear", "swish": "silu"}
"""Other spellings accepted for an activation name."""


def get_activation(name: str, param: float | None = None) -> tuple[Activation, float]:
    """The activation called ``name`` and its parameter (the default when ``param`` is ``None``).

    Raises
    ------
    ParameterError
        ``name`` is unknown (with a close match), or ``param`` is given to an
        activation without a parameter, or is not a finite number.
    """
    name = plain_text(name)
    canonical = ALIASES.get(name, name) if isinstance(name, str) else None  # a list or dict is no name (nor hashable)
    if canonical not in ACTIVATIONS:
        known = [*ACTIVATIONS, *ALIASES]
        hint = closest(name.lower(), known) if isinstance(name, str) else ""  # torch's class names too: ReLU, Tanh
        msg = f"activation={abbreviate(name)} is not known; accepted: {', '.join(known)}.{hint}"
        raise ParameterError(msg)
    activation = ACTIVATIONS[canonical]
    if param is None:
        return activation, activation.default_param if activation.default_param is not None else 0.0
    if activation.default_param is None:
        msg = f"activation_param={abbreviate(param)} was given, but activation={name!r} takes no parameter; only leaky_relu (negative slope) and elu (alpha) do."
        raise ParameterError(msg)
    return activation, finite("activation_param", plain_number(param))
