"""Parameter validation shared by the specification layer; messages name the argument."""

from __future__ import annotations

import itertools
import math
import numbers
import operator
from collections.abc import Iterable, Sized
from typing import Any, Final

from unit_init.errors import ParameterError, abbreviate, closest

__all__ = [
    "CONFIG_INT_BITS", "bound", "choice", "finite", "hashable", "listed", "non_negative", "plain_number", "plain_sequence", "plain_text", "positive", "real",
    "squarable",
]

CONFIG_INT_BITS: Final = 64
"""A config holds ints below ``2**64`` in absolute value (seeds are below ``2**63``; no field needs more)."""


def real(value: Any) -> float:
    """The value of an ``int`` or ``float`` (also of a subclass) as a float; ``nan`` for anything else, ``inf`` for an int beyond floats.

    The value itself is read, never a subclass's own ``__float__``, which may
    raise or lie.

    Examples
    --------
    >>> real(3), real(0.5), real(True), real("1"), real(10**400)
    (3.0, 0.5, nan, nan, inf)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    if isinstance(value, float):
        return float.__float__(value)
    try:
        return int.__float__(value)
    except OverflowError:
        return math.inf


def plain_sequence(value: Any) -> Any:
    """A ``tuple`` or ``list`` subclass as the plain tuple or list it holds, read without its own methods (an
    ``__iter__`` or ``__len__`` that raises or lies); anything else as it is.

    Examples
    --------
    >>> class Hostile(tuple):
    ...     def __iter__(self): raise RuntimeError("no")
    >>> plain_sequence(Hostile((1, 2))), plain_sequence([3])
    ((1, 2), [3])
    """
    if type(value) in (tuple, list) or not isinstance(value, (tuple, list)):
        return value
    return tuple(tuple.__iter__(value)) if isinstance(value, tuple) else list(list.__iter__(value))


def plain_text(value: Any) -> Any:
    """A ``str`` subclass as the plain ``str`` it holds, read without its own methods (an ``__eq__``, ``__hash__`` or
    ``startswith`` that raises or lies); anything else as it is.

    Examples
    --------
    >>> class Hostile(str):
    ...     def __eq__(self, other): raise RuntimeError("no")
    >>> type(plain_text(Hostile("relu"))), plain_text(3)
    (<class 'str'>, 3)
    """
    return str.__str__(value) if isinstance(value, str) and type(value) is not str else value


def plain_number(value: Any) -> Any:
    """``value`` as a Python ``int``/``float`` where it is a real scalar of another kind, else ``value`` itself.

    A NumPy scalar (``np.float32(0.1)``, ``np.int64(3)``) or a 0-d array of
    any framework with a real, non-bool value (``jnp.array(1.0)``,
    ``torch.tensor(2)``) is a number to Keras, JAX and torch alike; the
    spec keeps the Python number, so its config stays plain. Anything else
    is left for the field's own check to refuse.

    Examples
    --------
    >>> import numpy as np
    >>> plain_number(np.float32(0.5)), plain_number(np.array(3)), plain_number(np.array([1.0]))
    (0.5, 3, array([1.]))
    """
    if isinstance(value, float):  # also a subclass: its value, not its own __float__
        return float.__float__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__index__(value)
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        try:
            return float(value)
        except Exception:  # Fraction(10**400, 3), a foreign __float__ that fails: left for the field's check, which names it
            return value
    if isinstance(value, numbers.Integral) and type(value).__name__ not in ("bool", "bool_"):
        try:
            return int(value)
        except Exception:  # a foreign __int__ that fails
            return value
    try:
        if getattr(value, "shape", None) != ():
            return value
        read = getattr(value, "item", None)
        item = read() if callable(read) else None
        kind = getattr(value, "dtype", "bool")
        dtype = str(getattr(kind, "name", kind))  # TensorFlow's str(tf.float32) is "<dtype: 'float32'>", its name "float32"
    except Exception:  # a foreign object (its __getattr__, item() or dtype raises): left for the field's check
        return value
    if type(item) in (int, float):
        return item
    if item is None and "bool" not in dtype:
        return _array_api_scalar(value, dtype)
    return value


def _array_api_scalar(value: Any, dtype: str) -> Any:
    """A 0-d Array-API array's number by the standard's conversions (it defines no ``item``), chosen by its dtype's
    name: ``__index__`` for an integer dtype, ``__float__`` for a real floating one (pydata sparse's ``__index__``
    truncates a float: 0.5 would be 0); anything else left for the field's check."""
    kind = dtype.rsplit(".", 1)[-1]
    convert = operator.index if kind.startswith(("int", "uint")) else float if kind.startswith("float") else None
    if convert is None:
        return value
    try:
        return convert(value)
    except Exception:  # a foreign object: left for the field's check
        return value


def finite(name: str, value: Any) -> float:
    """``value`` as a float, or :class:`ParameterError` unless it is a finite real number."""
    number = real(value)
    if not math.isfinite(number):
        msg = f"{name}={abbreviate(value)} must be a finite real number."
        raise ParameterError(msg)
    return number


def squarable(name: str, value: Any) -> float:
    """``value`` as a float, or :class:`ParameterError` unless it is finite with a finite square (a gain, a slope)."""
    number = finite(name, value)
    if not math.isfinite(number * number):
        msg = f"{name}={abbreviate(value)} is too large: its square overflows a float."
        raise ParameterError(msg)
    return number


def choice(name: str, value: Any, accepted: tuple[str, ...], note: str = "", *, lead: str = "") -> str:
    """``value`` if it is one of the names ``accepted``; else :class:`ParameterError` naming them (and the closest).

    Anything but a ``str`` is refused before it is compared (an array's ``in`` would be ambiguous); a ``str``
    subclass (``numpy.str_``) is read by its value, never through its own methods, and the plain name is returned.
    ``lead`` opens the message (a peer library's own words, which its tests match).
    """
    text = str.__str__(value) if isinstance(value, str) else None
    if text in accepted:
        return text
    hint = closest(text, accepted) if text is not None else ""
    msg = f"{lead}{name}={abbreviate(value)} is not known; accepted: {', '.join(map(repr, accepted))}{note}.{hint}"
    raise ParameterError(msg)


def bound(name: str, value: Any) -> float:
    """``value`` as a float, or :class:`ParameterError` unless it is a real number or ±inf (an interval's end).

    An int too large for a float is refused rather than taken as infinite: write ``math.inf``.
    """
    number = real(value)
    if math.isnan(number) or (math.isinf(number) and isinstance(value, int)):
        msg = f"{name}={abbreviate(value)} must be a real number or ±inf (math.inf)."
        raise ParameterError(msg)
    return number


def positive(name: str, value: Any) -> float:
    """``value`` as a float, or :class:`ParameterError` unless it is finite and > 0."""
    number = finite(name, value)
    if number <= 0:
        msg = f"{name}={abbreviate(value)} must be > 0."
        raise ParameterError(msg)
    return number


def non_negative(name: str, value: Any) -> float:
    """``value`` as a float, or :class:`ParameterError` unless it is finite and >= 0."""
    number = finite(name, value)
    if number < 0:
        msg = f"{name}={abbreviate(value)} must be >= 0."
        raise ParameterError(msg)
    return number


def hashable(key: tuple[Any, ...]) -> bool:
    """Whether ``key`` can be a cache key: only :func:`hash` is asked, so a library error is never taken for "unhashable".

    A value whose own ``__hash__`` raises anything (a hostile ``str``
    subclass) is no key either: it is resolved without the cache.

    Examples
    --------
    >>> hashable(("torch", None)), hashable((["torch"], None))
    (True, False)
    """
    try:
        hash(key)
    except Exception:
        return False
    return True


def listed(value: object, *, most: int | None = None, name: str = "") -> list[Any] | None:
    """The items of an iterable that is not a ``str`` or ``bytes``, read once; ``None`` for anything else, also for a 0-d
    array (Python counts it as ``Iterable``, but it refuses iteration with ``TypeError``). With ``most``, an iterator
    with no length yielding more items (an endless generator, which ``list`` would read until memory runs out) is a
    :class:`ParameterError` naming the argument ``name``, read no further; a sized collection is in memory already.

    Examples
    --------
    >>> import itertools, numpy as np
    >>> listed(("a", "b")), listed("ab"), listed(np.array(2.0))
    (['a', 'b'], None, None)
    >>> listed(itertools.repeat("a"), most=3, name="skip")
    Traceback (most recent call last):
    unit_init.errors.ParameterError: skip=repeat('a') holds more than 3 items.
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) or getattr(value, "shape", None) == ():
        return None
    iterable: Iterable[Any] = plain_sequence(value)  # a tuple or list subclass by its items, not its own __iter__
    if most is None or isinstance(iterable, Sized):
        return list(iterable)  # an error of the iterable itself (a generator's) is the caller's, raised as it is
    items = list(itertools.islice(iterable, most + 1))
    if len(items) > most:
        msg = f"{name}={abbreviate(value)} holds more than {most} items."
        raise ParameterError(msg)
    return items
