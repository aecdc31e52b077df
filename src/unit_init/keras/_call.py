"""What every Keras initializer call checks first: its ``shape`` and its ``dtype``, with unit_init's typed errors."""

from __future__ import annotations

from typing import Any

import keras

from unit_init.errors import DTypeError, abbreviate
from unit_init.spec.fans import normalize_shape

__all__ = ["call_arguments"]


def call_arguments(shape: Any, dtype: Any) -> tuple[tuple[int, ...], str]:
    """``shape`` as a tuple of non-negative ints (:class:`~unit_init.ShapeError`) and ``dtype`` as Keras names it.

    ``dtype=None`` is ``keras.config.floatx()``; one Keras does not know is a
    :class:`~unit_init.DTypeError` (Keras raises a bare ``ValueError``).

    Examples
    --------
    >>> call_arguments([3, 4], None)
    ((3, 4), 'float32')
    >>> call_arguments((None, 4), None)
    Traceback (most recent call last):
    ...
    unit_init.errors.ShapeError: shape=(None, 4) has None; every dimension must be a non-negative int.
    """
    dims = normalize_shape(shape)
    try:
        return dims, keras.backend.standardize_dtype(dtype if dtype is not None else keras.config.floatx())
    except (ValueError, TypeError) as error:
        msg = f"dtype={abbreviate(dtype)} is not a dtype Keras knows ({error})."
        raise DTypeError(msg) from None
