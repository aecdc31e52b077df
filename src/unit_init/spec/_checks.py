"""Parameter validation shared by the specification layer; messages name the argument."""

from __future__ import annotations

import math
from typing import Any

from unit_init.errors import ParameterError

__all__ = ["finite", "non_negative", "positive"]


def finite(name: str, value: Any) -> float:
    """``value`` as a float, or :class:`ParameterError` unless it is a finite real number."""
    try:
        number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number):
        msg = f"{name}={_short(value)} must be a finite real number."
        raise ParameterError(msg)
    return number


def _short(value: Any) -> str:
    """``repr(value)``, cut to a readable length (configs may carry huge values)."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def positive(name: str, value: Any) -> float:
    """``value`` as a float, or :class:`ParameterError` unless it is finite and > 0."""
    if finite(name, value) <= 0:
        msg = f"{name}={value!r} must be > 0."
        raise ParameterError(msg)
    return float(value)


def non_negative(name: str, value: Any) -> float:
    """``value`` as a float, or :class:`ParameterError` unless it is finite and >= 0."""
    if finite(name, value) < 0:
        msg = f"{name}={value!r} must be >= 0."
        raise ParameterError(msg)
    return float(value)
