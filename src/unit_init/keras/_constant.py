"""Array-valued constants for Keras: ``keras.initializers.Constant(array)`` and a tensor used as an initializer.

The core :class:`unit_init.Constant` holds one finite scalar: a spec is a
small, value-compared, JSON-described law, and an array is data. Keras also
accepts an array there, so the Keras adapter keeps arrays here, in a
:class:`KerasConstant` (a ``keras.initializers.Constant``):

* ``broadcast=True`` (a ``Constant`` config with an array value): the value is
  broadcast to the weight's shape, ``broadcast_to(value, shape)``;
* ``broadcast=False`` (an array or tensor passed as the initializer, as
  ``keras.initializers.get`` accepts): the weight must have the value's shape.

Either way the value is cast to the dtype Keras asks for. The value is held
as a NumPy array (a tensor of any backend is copied to the host once) and
saved as a nested list with its dtype.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import keras
import numpy as np

from unit_init.backends.registry import get_backend
from unit_init.dtypes import (
    COMPLEX_DTYPES,
    FLOAT_DTYPES,
    INTEGER_DTYPES,
    canonical_dtype,
    integer_range,
    largest_finite,
    overflow_threshold,
    real_dtype,
)
from unit_init.errors import ParameterError, ShapeError, abbreviate, keywords_checked
from unit_init.keras._call import call_arguments, keras_backend, keras_device
from unit_init.resources import check_allocation
from unit_init.serialization import MAX_VALUES, check_envelope, plain_config
from unit_init.spec.constant_array import MAX_ELEMENTS, holds_at_most

__all__ = ["KerasConstant", "is_array_constant", "plain_constant_config"]

_KERAS_ARRAYS: Final = ("__numpy__", "__tensor__")  # how keras.saving writes an array value
_KINDS: Final = "biuf"  # bool, ints, floats (and bfloat16, a NumPy void kind: ml_dtypes)
_MOST_CONFIG_VALUES: Final = 5 * MAX_ELEMENTS + 16
"""What a Constant config may hold in all once its value holds at most 2²⁰ numbers in at most 2²² lists (the bound
:func:`~unit_init.spec.constant_array.holds_at_most` walks), with its few other entries."""


def _is_array(value: Any) -> bool:
    return isinstance(value, (np.ndarray, np.generic)) or bool(keras.ops.is_tensor(value))


def is_array_constant(identifier: Any) -> bool:
    """An array or tensor, or a ``Constant`` config whose value is not one number.

    The value of such a config is nested lists, Keras's array config, or an
    array or tensor of one or more dimensions (``{"value": np_array}``, as
    ``keras.initializers.Constant(np_array)`` takes it); a 0-d one is one number.
    A config is read as :func:`plain_constant_config` gives it.
    """
    if _is_array(identifier):
        return True
    if not _is_class(identifier, "Constant"):
        return False
    fields = identifier.get("config")
    if not isinstance(fields, dict):
        return False
    value = fields.get("value")
    return isinstance(value, (list, dict)) or (value is not None and _is_array(value) and len(value.shape) > 0)


def plain_constant_config(where: str, config: object, *, fields: bool = False, seeds: bool = False) -> Any:
    """:func:`~unit_init.serialization.plain_config` for a config that may be a Constant one (or, with ``fields``, a
    Constant config's ``"config"``): an array or tensor in it is kept (data, not JSON), and a Constant's has room for a
    value of nested lists of up to 2²⁰ numbers (a ConstantArray's limit: Keras saves an array value as nested lists, so
    a saved model's constants must read back), also in the adapter's own envelope (``"KerasConstant"``). ``seeds``:
    a ``keras.random.SeedGenerator`` is kept too (a live seed in an envelope's config, as ``from_config`` takes it)."""
    name = _class_name_of(config)
    constant = fields or (type(name) is str and name in ("Constant", "KerasConstant"))
    keep = _is_array_or_seed if seeds else _is_array
    return plain_config(where, config, max_values=_MOST_CONFIG_VALUES if constant else MAX_VALUES, keep=keep)


def _is_array_or_seed(value: Any) -> bool:
    return _is_array(value) or isinstance(value, keras.random.SeedGenerator)


def _class_name_of(config: object) -> object:
    """A config's ``class_name`` read by ``dict``'s own ``get`` (a dict subclass's, a mapping proxy's too), so that no
    method of a caller's class runs before the config is copied; ``None`` for any other mapping or where it raises."""
    try:
        if isinstance(config, dict):
            return dict.get(config, "class_name")
        if isinstance(config, MappingProxyType):
            return config.get("class_name")
    except Exception:  # a key's own __eq__, met by the look-up
        return None
    return None


def _is_class(config: Any, *names: str) -> bool:
    """Whether ``config`` is a plain config whose ``class_name`` is one of ``names`` (an array there is none)."""
    return isinstance(config, dict) and isinstance(name := config.get("class_name"), str) and name in names


def _keras_array(value: Any) -> dict[str, Any] | None:
    """The fields of Keras's own array config (``{"class_name": "__numpy__", "config": {"value": …, "dtype": …}}``)."""
    fields = value.get("config") if _is_class(value, *_KERAS_ARRAYS) else None
    return fields if isinstance(fields, dict) else None


def _reject(value: Any, dtype: Any) -> ParameterError:
    msg = f"value={abbreviate(value)} (dtype={abbreviate(dtype)}) must be a real number or an array of them; accepted dtypes: bool, ints, floats."
    return ParameterError(msg)


def _check_size(where: str, config: dict[str, Any]) -> None:
    """At most 2²⁰ numbers in a Constant config's value of nested lists (a ConstantArray's limit)."""
    value = config.get("value")
    fields = _keras_array(value)
    if fields is not None:
        value = fields.get("value")  # Keras's own array config around the lists
    if isinstance(value, list) and not holds_at_most(value, MAX_ELEMENTS):
        msg = f"{where}'s value holds more than {MAX_ELEMENTS} numbers (2**20); write a larger array into the weight itself."
        raise ParameterError(msg)


def _array(value: Any, dtype: Any = None) -> np.ndarray[Any, Any]:
    """``value`` (a number, nested lists, an array, a tensor, or Keras's array config) as a checked NumPy array."""
    if isinstance(value, Mapping):
        fields = _keras_array(value)
        if fields is None:
            raise _reject(value, dtype)
        return _array(fields.get("value"), fields.get("dtype"))
    if _is_array(value) and not isinstance(value, (np.ndarray, np.generic)):
        value = keras.ops.convert_to_numpy(value)
    if dtype is not None:
        canonical_dtype(dtype)  # a DTypeError naming the dtype, with a close match (the value was blamed)
    try:
        kind = None if dtype is None else np.dtype(str(dtype))
        if kind is not None and (kind.shape or kind.fields):  # "(10000000,)f4" multiplies the value's size
            raise TypeError(kind)
        array = np.asarray(value, dtype=kind)
    except (TypeError, ValueError, OverflowError, RecursionError):
        raise _reject(value, dtype) from None
    if array.dtype.kind not in _KINDS and array.dtype.name != "bfloat16":
        raise _reject(value, array.dtype)
    if array.dtype.kind not in "biu" and not np.isfinite(array.astype(np.float32) if array.dtype.kind == "V" else array).all():
        msg = f"value={abbreviate(value)} holds a nan or an infinity; a constant's values must be finite real numbers."
        raise ParameterError(msg)
    return array


@keras.saving.register_keras_serializable(package="unit_init", name="Constant")
class KerasConstant(keras.initializers.Constant):  # type: ignore[misc]  # keras ships no type information
    """An array-valued constant initializer (see the module docstring).

    Parameters
    ----------
    value:
        A number, nested lists, a NumPy array or a tensor of any Keras backend.
    broadcast:
        Broadcast ``value`` to the requested shape (``True``, as
        ``keras.initializers.Constant``), or require that shape (``False``).

    Examples
    --------
    >>> import keras
    >>> import unit_init.keras
    >>> init = unit_init.keras.initializer({"class_name": "Constant", "config": {"value": [1.0, 2.0, 3.0]}})
    >>> keras.ops.convert_to_numpy(init((2, 3))).tolist()
    [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    """

    @keywords_checked
    def __init__(self, value: Any = 0.0, *, broadcast: bool = True) -> None:
        self.value = _array(value)
        self.broadcast = bool(broadcast)

    @classmethod
    def _from_plain_config(cls, config: Any) -> KerasConstant:
        """From a ``Constant`` config already read by :func:`plain_constant_config` (as ``unit_init.keras.initializer`` reads it)."""
        if not _is_class(config, "Constant") or "config" not in config:
            msg = f"{abbreviate(config)} is neither an array nor a Constant config {{'class_name': 'Constant', 'config': {{'value': ...}}}}."
            raise ParameterError(msg)
        check_envelope("the Constant config", config)
        return cls._from_plain_fields(config["config"])

    def __call__(self, shape: Any, dtype: Any = None) -> Any:
        """``value`` broadcast to ``shape`` (or checked against it), cast to ``dtype`` (default ``keras.config.floatx()``)."""
        dims, dtype = call_arguments(shape, dtype)
        fits = self.value.shape == dims if not self.broadcast else _broadcasts(self.value.shape, dims)
        if not fits:
            # "Expected `shape` to be" is Keras's own wording for a tensor used as an initializer
            expected = f"{self.value.shape}" if not self.broadcast else f"a shape that {self.value.shape} broadcasts to"
            msg = f"Expected `shape` to be {expected} for this constant of shape {self.value.shape}. Received shape={dims}."
            raise ShapeError(msg)
        _check_representable(self.value, dtype)
        _check_memory(dims, dtype)
        values = keras.ops.convert_to_tensor(self.value, dtype=dtype)
        if keras.backend.standardize_dtype(values.dtype) != dtype:  # torch's keeps a bfloat16 array's dtype
            values = keras.ops.cast(values, dtype)
        if self.value.shape == dims:
            return values
        # broadcast, then copied: torch's broadcast is a view of the value's memory (stride 0), which a weight cannot be
        return keras.ops.copy(keras.ops.broadcast_to(values, dims))

    def get_config(self) -> dict[str, Any]:
        """``{"value": nested lists, "dtype": ..., "broadcast": ...}``; a value of more than 2²⁰ numbers, which its
        config could not be read back with, is a :class:`~unit_init.ParameterError` (saving fails, not loading)."""
        if self.value.size > MAX_ELEMENTS:
            msg = (f"a constant of {self.value.size} values cannot be saved in a config (at most {MAX_ELEMENTS}: 2**20); "
                   "write the array into the weight after building the model instead.")
            raise ParameterError(msg)
        return {"value": self.value.tolist(), "dtype": str(self.value.dtype), "broadcast": self.broadcast}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> KerasConstant:
        """Rebuild from :meth:`get_config` or from Keras's ``Constant`` config (nothing is imported)."""
        return cls._from_plain_fields(plain_constant_config("the Constant config", config, fields=True) if isinstance(config, Mapping) else config)

    @classmethod
    def _from_plain_fields(cls, config: Any) -> KerasConstant:
        if not isinstance(config, dict) or not set(config) <= {"value", "dtype", "broadcast"}:
            msg = f"a Constant config must be a dict with 'value' (and 'dtype', 'broadcast'), not {abbreviate(config)}."
            raise ParameterError(msg)
        _check_size("the Constant config", config)
        broadcast = config.get("broadcast", True)
        if not isinstance(broadcast, bool):
            msg = f"broadcast={abbreviate(broadcast)} in a Constant config must be true or false."
            raise ParameterError(msg)
        return cls(_array(config.get("value", 0.0), config.get("dtype")), broadcast=broadcast)

    def __repr__(self) -> str:
        return f"unit_init.keras.KerasConstant(shape={self.value.shape}, dtype={self.value.dtype}, broadcast={self.broadcast})"


def _check_memory(dims: tuple[int, ...], dtype: str) -> None:
    """The memory guard, before anything is made, as for every draw: the output is the one large array (the value is
    small, its broadcast a view). A dtype unit_init draws none of (Keras's float8 and string ones) is a
    :class:`~unit_init.DTypeError` first, as for every unit_init initializer (a float8 constant would round 1000 to nan)."""
    name = keras_backend()
    backend = get_backend(name)
    check_allocation(backend, backend.resolve_device(keras_device(name)), dims, canonical_dtype(dtype), None)


def _broadcasts(source: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of shape ``source`` broadcasts to exactly ``target`` (NumPy refuses more than 64 axes: not)."""
    try:
        return np.broadcast_shapes(source, target) == target
    except (ValueError, RuntimeError):
        return False


def _check_representable(value: np.ndarray[Any, Any], dtype: str) -> None:
    """:class:`ParameterError` where a value lies beyond ``dtype``'s finite range, or the real range of a complex
    ``dtype`` (it would be inf, silently), is a nan, or an integer or bool ``dtype`` cannot hold it exactly (it would
    wrap or be truncated), or is a bool for another dtype than bool (a bool scalar is refused for every dtype). A bfloat16 value (ml_dtypes', no NumPy number type) is checked as the float32 it widens to."""
    if value.size == 0:
        return
    if value.dtype.kind == "b" and dtype != "bool":  # as Constant(True) is refused: a bool is no number (Keras: 1.0)
        msg = f"Constant: the value holds bools, which dtype={dtype!r} takes as 1 and 0; give numbers, or ask for dtype='bool'."
        raise ParameterError(msg)
    if value.dtype.name in FLOAT_DTYPES and value.dtype.kind != "f":
        value = value.astype(np.float32)
    if dtype in INTEGER_DTYPES:
        low, high = integer_range(dtype)
        refused = (value < low) | (value > high)
        if value.dtype.kind == "f":
            refused |= value != np.floor(value)
        if refused.any():
            shown = abbreviate(value[refused].flat[0].item())
            msg = f"Constant: the value holds {shown}, which cannot be stored exactly in dtype={dtype!r} (integers {low}..{high})."
            raise ParameterError(msg)
        return
    real = real_dtype(dtype) if dtype in COMPLEX_DTYPES else dtype
    if real not in FLOAT_DTYPES or not np.issubdtype(value.dtype, np.number):
        return
    largest = float(np.max(np.abs(value)))
    if not largest < overflow_threshold(real):  # 65519 rounds to float16's 65504, 65520 to inf
        msg = f"Constant: a value reaches {largest:.6g}, beyond {real}'s largest finite value {largest_finite(real):.6g}; use a wider dtype."
        raise ParameterError(msg)


KerasConstant.__module__ = "unit_init.keras"
