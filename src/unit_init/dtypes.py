"""Canonical dtype names and host-side arithmetic on each dtype's value grid.

Backends speak native dtypes; everything above them speaks the canonical names
below. Native dtype objects (``torch.float32``, ``np.float32``, ``tf.bfloat16``,
``jnp.bfloat16``) are recognised by their *name*, so no framework is imported.

The grid helpers answer questions such as "the largest bfloat16 strictly below
0.05", which the samplers need to keep every cast value inside its support
(a uniform never returns its upper bound, a truncated normal never leaves its
bounds, whatever rounding the final cast does).
"""

from __future__ import annotations

import functools
import math
import sys
from typing import Any, Final, Literal

import numpy as np

from unit_init.errors import DTypeError, abbreviate, closest, keywords_checked

__all__ = [
    "COMPLEX_DTYPES",
    "FLOAT_DTYPES",
    "INTEGER_DTYPES",
    "canonical_dtype",
    "grid_bounds",
    "integer_range",
    "is_complex",
    "is_float",
    "largest_at_or_below",
    "largest_below",
    "largest_finite",
    "real_dtype",
    "round_to_grid",
    "smallest_at_or_above",
    "smallest_resolved",
    "smallest_subnormal",
    "work_dtype",
]

FLOAT_DTYPES: Final = ("float16", "bfloat16", "float32", "float64")
INTEGER_DTYPES: Final = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
)
"""The exact dtypes, which deterministic initializers fill and random ones refuse: the integers, and ``bool`` as
the integer type of range 0..1 (``zeros``, ``ones``, ``constant(1)``, ``identity`` masks)."""
COMPLEX_DTYPES: Final = ("complex64", "complex128")
"""Complex dtypes: real and imaginary parts of :func:`real_dtype` (see docs/complex.md)."""
_ALIASES: Final = {
    "half": "float16", "float": "float32", "double": "float64",
    "bf16": "bfloat16", "fp16": "float16", "fp32": "float32", "fp64": "float64",
    "cfloat": "complex64", "cdouble": "complex128",
}
# Significand bits (without the implicit one) of each float dtype.
_MANTISSA_BITS: Final = {"float16": 10, "bfloat16": 7, "float32": 23, "float64": 52}
# ``math.frexp``'s exponent of each float dtype's smallest normal value: subnormals take its grid step.
_MIN_EXPONENT: Final = {"float16": -13, "bfloat16": -125, "float32": -125, "float64": -1021}


@keywords_checked
def canonical_dtype(dtype: Any) -> str:
    """Return the canonical name of ``dtype`` (a name or a native dtype object).

    ``None`` means ``"float32"``. The names are NumPy's, and torch's short ones
    (``"half"``, ``"float"``, ``"double"``, ``"cfloat"``, ``"cdouble"``: ``"float"`` is
    float32, as ``torch.float``, where NumPy's ``"float"`` is float64) and
    ``"bf16"``, ``"fp16"``, ``"fp32"``, ``"fp64"``. Raises :class:`DTypeError` for
    anything else unit_init cannot produce.
    """
    if dtype is None:
        return "float32"
    name = _native_name(dtype)
    name = name.removeprefix("torch.").removeprefix("tf.").removeprefix("jnp.")
    name = _ALIASES.get(name, name)
    known = FLOAT_DTYPES + INTEGER_DTYPES + COMPLEX_DTYPES
    if name in known:
        return name
    msg = (
        f"dtype={abbreviate(dtype)} is not supported; accepted: {', '.join(known)}, torch's short names "
        f"({', '.join(_ALIASES)}) or the matching native dtype object.{closest(name, known)}"
    )
    raise DTypeError(msg)


def _native_name(dtype: Any) -> str:
    """The name a native dtype object goes by, found without importing its framework."""
    if isinstance(dtype, str):
        return dtype
    try:  # an object's own attribute lookup and str() may raise anything: then it names no dtype
        name = getattr(dtype, "name", None)  # numpy and TensorFlow dtypes
        text = name if isinstance(name, str) else str(dtype)
    except Exception:
        return f"<{type(dtype).__name__}>"
    if isinstance(name, str):
        return name
    if text.startswith("torch."):
        return text
    module, _, last = text.rpartition(".")
    if getattr(sys.modules.get(module), last, None) is dtype:  # an Array-API namespace's own dtype (array_api_strict.float64)
        return last
    try:  # numpy / JAX scalar types such as np.float32 or jnp.bfloat16
        return str(np.dtype(dtype).name)
    except Exception:  # an object with a ``.dtype`` NumPy cannot read (a torch tensor: ValueError), or whose own raises
        return text


def is_float(dtype: str) -> bool:
    """Whether the canonical ``dtype`` is a floating-point type."""
    return dtype in FLOAT_DTYPES


def is_complex(dtype: str) -> bool:
    """Whether the canonical ``dtype`` is a complex type."""
    return dtype in COMPLEX_DTYPES


def real_dtype(dtype: str) -> str:
    """The dtype of a complex ``dtype``'s real and imaginary parts; any other ``dtype`` unchanged.

    Examples
    --------
    >>> real_dtype("complex64"), real_dtype("complex128"), real_dtype("bfloat16")
    ('float32', 'float64', 'bfloat16')
    """
    return {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)
def integer_range(dtype: str) -> tuple[int, int]:
    """``(smallest, largest)`` value of the integer ``dtype``: ``(−2ⁿ⁻¹, 2ⁿ⁻¹ − 1)``, ``(0, 2ⁿ − 1)`` unsigned, ``(0, 1)`` for ``bool``.

    Examples
    --------
    >>> integer_range("int8"), integer_range("uint16"), integer_range("bool")
    ((-128, 127), (0, 65535), (0, 1))
    """
    if dtype == "bool":
        return (0, 1)
    bits = int(dtype.removeprefix("u").removeprefix("int"))
    return (0, 2**bits - 1) if dtype.startswith("u") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def largest_finite(dtype: str) -> float:
    """The largest finite value of the float ``dtype``: ``(2 − 2^−m) · 2^emax`` with ``m`` significand bits.

    Examples
    --------
    >>> largest_finite("float16"), largest_finite("bfloat16") < largest_finite("float32")
    (65504.0, True)
    """
    emax = {"float16": 15, "bfloat16": 127, "float32": 127, "float64": 1023}[dtype]
    return (2.0 - 2.0 ** -_MANTISSA_BITS[dtype]) * 2.0**emax


def overflow_threshold(dtype: str) -> float:
    """The least magnitude the float ``dtype`` rounds to infinity: its largest finite value plus half a step there,
    ``(2 − 2^−(m+1)) · 2^emax`` (the tie rounds to the even significand, which is the infinity).

    Examples
    --------
    >>> overflow_threshold("float16"), float(np.float16(65519.0))
    (65520.0, 65504.0)
    """
    emax = {"float16": 15, "bfloat16": 127, "float32": 127, "float64": 1023}[dtype]
    if dtype == "float64":
        return math.inf  # no float64 lies at or beyond it: float64's largest finite value is where reaching stops
    return (2.0 - 2.0 ** -(_MANTISSA_BITS[dtype] + 1)) * 2.0**emax


def smallest_subnormal(dtype: str) -> float:
    """The smallest positive value of the float ``dtype``: half of it and less round to 0.

    Examples
    --------
    >>> smallest_subnormal("float16"), smallest_subnormal("float32") == 2.0**-149
    (5.960464477539063e-08, True)
    """
    return smallest_resolved(dtype) * 2.0 ** (-2 * _MANTISSA_BITS[dtype])


def smallest_normal(dtype: str) -> float:
    """The smallest positive normal value of the float ``dtype``, ``2^emin``: below it a backend that flushes subnormals gives 0.

    Examples
    --------
    >>> smallest_normal("float16"), smallest_normal("float32") == 2.0**-126
    (6.103515625e-05, True)
    """
    return smallest_resolved(dtype) * 2.0 ** -_MANTISSA_BITS[dtype]


def smallest_resolved(dtype: str) -> float:
    """The smallest magnitude ``dtype`` holds with its full precision: its smallest normal number times ``2^m`` (``m`` significand bits).

    An interval narrower than this (in units of a law's scale) cannot be
    sampled in ``dtype``: its values would underflow into the subnormals.

    Examples
    --------
    >>> smallest_resolved("float32") == 2.0**-126 * 2.0**23
    True
    """
    emin = {"float16": -14, "bfloat16": -126, "float32": -126, "float64": -1022}[dtype]
    return 2.0**emin * 2.0 ** _MANTISSA_BITS[dtype]


def work_dtype(dtype: str) -> Literal["float32", "float64"]:
    """The dtype to sample in before the single final cast to ``dtype`` (a complex dtype's parts are drawn in its :func:`real_dtype`)."""
    return "float64" if real_dtype(dtype) == "float64" else "float32"


@functools.lru_cache(maxsize=1024)
def _round_to(value: float, dtype: str, mode: Literal["down", "up"]) -> float:
    """Round ``value`` to a neighbouring value of ``dtype``'s grid, toward -inf or +inf (cached: every draw asks)."""
    if value == 0.0 or not math.isfinite(value):
        return value
    _, exponent = math.frexp(abs(value))  # abs(value) = mantissa * 2**exponent, mantissa in [0.5, 1)
    step = 2.0 ** (max(exponent, _MIN_EXPONENT[dtype]) - 1 - _MANTISSA_BITS[dtype])  # float64 bounds are exact
    toward_zero = math.floor(abs(value) / step) * step
    away = toward_zero if toward_zero == abs(value) else toward_zero + step
    if value > 0:
        return toward_zero if mode == "down" else away
    return -away if mode == "down" else -toward_zero


def round_to_grid(values: np.ndarray, dtype: str) -> np.ndarray:
    """Round float64 ``values`` in place, once, to the nearest value of the float ``dtype`` (ties to even), and return
    them, still float64, where every value of every float dtype is exact: ``round(x / step)·step`` with
    ``step = 2^(e − 1 − p)`` for ``x = m·2^e`` (``m`` in ``[0.5, 1)``) and ``p`` the dtype's significand bits;
    subnormals take the smallest normal's step. Values beyond the largest finite one are left to the cast (they may
    round to inf here, quietly). A later cast of the result to ``dtype``, also through float32 (which holds every
    float16 and bfloat16 value), is exact: the values are rounded once, not twice. Besides ``values`` it holds their
    int32 exponents, and for a moment ``frexp``'s float64 mantissas.

    Examples
    --------
    >>> round_to_grid(np.array([1 + 2**-11, 1 + 3 * 2**-11, 0.1]), "float16").tolist()  # two ties, to even
    [1.0, 1.001953125, 0.0999755859375]
    """
    exponent = np.frexp(values)[1]
    np.maximum(exponent, _MIN_EXPONENT[dtype], out=exponent)
    exponent -= 1 + _MANTISSA_BITS[dtype]  # log2 of each value's grid step
    np.negative(exponent, out=exponent)
    np.ldexp(values, exponent, out=values)  # in steps: exact
    np.round(values, out=values)
    np.negative(exponent, out=exponent)
    with np.errstate(over="ignore"):  # a value past float64's range after rounding up: inf, as the cast would give
        rounded: np.ndarray = np.ldexp(values, exponent, out=values)
    return rounded


def largest_at_or_below(value: float, dtype: str) -> float:
    """The largest value of ``dtype`` that is ``<= value``."""
    return _round_to(value, dtype, "down")


def smallest_at_or_above(value: float, dtype: str) -> float:
    """The smallest value of ``dtype`` that is ``>= value``."""
    return _round_to(value, dtype, "up")


def largest_below(value: float, dtype: str) -> float:
    """The largest value of ``dtype`` that is strictly ``< value``."""
    # One float64 step below ``value`` is above the next grid point of any
    # narrower dtype, so rounding it down lands exactly on that point.
    return largest_at_or_below(math.nextafter(value, -math.inf), dtype)


@functools.lru_cache(maxsize=1024)
def grid_bounds(support: tuple[float, float] | None, upper_open: bool, dtype: str) -> tuple[float, float] | None:
    """The values of ``dtype`` a law's ``support`` keeps: its smallest and largest ones inside, or ``None`` where values are only cast (cached: every draw asks).

    ``None`` for no support, the whole line, a complex dtype (a support is
    an interval of the real line), or the point mass ``U[x, x)``
    (upper-open: the cast rounds ``x``, as torch and Keras give it). A closed
    single point (a truncated normal whose interval holds one float64) is
    kept as ``(x, x)``: its draws, ``mean + std·z``, land beside it and are
    clipped onto it. An end beyond the finite range
    is met by every value. :class:`~unit_init.DTypeError` where no value of
    ``dtype`` lies inside, a closed point included (a truncated normal
    narrower than float64 resolves at its mean).

    Examples
    --------
    >>> grid_bounds((-1.0, 1.0), True, "bfloat16"), grid_bounds((-math.inf, math.inf), False, "float32")
    ((-1.0, 0.99609375), None)
    >>> grid_bounds((0.1, 0.1), True, "float32"), grid_bounds((0.5, 0.5), False, "float32")
    (None, (0.5, 0.5))
    >>> grid_bounds((0.1, 0.1), False, "float32")
    Traceback (most recent call last):
    ...
    unit_init.errors.DTypeError: no float32 value lies in the support [0.1, 0.1]; use a wider dtype.
    """
    if support is None or support == (-math.inf, math.inf) or is_complex(dtype):
        return None
    if support[0] == support[1] and upper_open:
        return None
    top = largest_finite(dtype)
    low = max(smallest_at_or_above(support[0], dtype), -top)
    high = min(largest_below(support[1], dtype) if upper_open else largest_at_or_below(support[1], dtype), top)
    if low > high:
        msg = f"no {dtype} value lies in the support [{support[0]}, {support[1]}]; use a wider dtype."
        raise DTypeError(msg)
    return low, high
