"""An array-valued constant: Haiku's ``Constant(array)`` and Keras's ``Constant(array)``, on every backend.

The core :class:`~unit_init.Constant` holds one number. :class:`ConstantArray`
holds an array — stored as nested tuples of Python numbers, so the spec stays
immutable, hashable and compared by value, and its config is plain JSON (nested
lists; a config holds at most :data:`unit_init.serialization.MAX_VALUES`
values, so about a thousand elements) — and broadcasts it to the requested
shape by NumPy's rules::

    W = broadcast_to(value, shape)        (ShapeError if value's shape does not broadcast)

The law, :class:`ArrayConstant`, makes the array on the device in the call's
dtype and broadcasts it there (:func:`unit_init.spec.broadcast.broadcast`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

import numpy as np

from unit_init.dtypes import is_float
from unit_init.errors import ParameterError, ShapeError, abbreviate
from unit_init.spec.broadcast import broadcast
from unit_init.spec.distributions import Distribution, Draw
from unit_init.spec.fans import ShapeLike, normalize_shape
from unit_init.spec.initializer import Initializer

if TYPE_CHECKING:
    from unit_init.backends.base import Backend

__all__ = ["ArrayConstant", "ConstantArray"]

_KINDS: Final = "biuf"  # bool, ints, floats: what a weight can hold


def _nested(array: np.ndarray[Any, Any]) -> Any:
    """``array`` as nested tuples of Python floats or ints (a 0-d array: one number)."""
    def tupled(item: Any) -> Any:
        return tuple(tupled(x) for x in item) if isinstance(item, list) else item

    return tupled(array.tolist())


def _checked(value: Any) -> np.ndarray[Any, Any]:
    """``value`` as a NumPy array of finite reals (ints kept as ints, bools as 0/1), or :class:`ParameterError`."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        array = np.asarray(None)
    if array.dtype.kind not in _KINDS or (array.size and array.dtype.kind == "f" and not np.isfinite(array).all()):
        msg = f"value={abbreviate(value)} must be a number or a (nested, rectangular) array of finite real numbers."
        raise ParameterError(msg)
    if array.dtype.kind == "b":
        return array.astype(np.int64)
    return array.astype(np.float64) if array.dtype.kind == "f" else array


@dataclass(frozen=True, slots=True)
class ArrayConstant(Distribution):
    """Every position holds ``value`` broadcast to the shape (``value``: nested tuples, see :class:`ConstantArray`)."""

    value: Any
    random: ClassVar[bool] = False

    def reach(self) -> tuple[float, float]:
        largest = float(np.abs(np.asarray(self.value, dtype=np.float64)).max(initial=0.0))
        return (largest, largest)

    def sample(self, backend: Backend, draw: Draw) -> Any:
        array = np.asarray(self.value)
        if not is_float(draw.dtype) and not np.array_equal(array, np.round(array)):
            msg = f"value={abbreviate(self.value)} holds non-integers, which dtype={draw.dtype!r} cannot store exactly."
            raise ParameterError(msg)
        if not is_float(draw.dtype):
            info = np.iinfo(draw.dtype)
            if array.size and not (info.min <= array.min() and array.max() <= info.max):
                msg = f"value={abbreviate(self.value)} lies outside dtype={draw.dtype!r}'s range {info.min}..{info.max}."
                raise ParameterError(msg)
            array = array.astype(np.int64)
        with backend.placement(draw.device):
            x = backend.xp.asarray(array.tolist(), dtype=backend.dtype_on(draw.dtype, draw.device), device=draw.device)
        return broadcast(backend, x, draw.shape, draw.dtype, draw.device)


@dataclass(frozen=True, slots=True)
class ConstantArray(Initializer):
    """``broadcast_to(value, shape)``: an array constant, broadcast by NumPy's rules.

    ``value`` is a number, nested lists or tuples, or a NumPy array of finite
    real numbers (bools are 0/1); it is stored as nested tuples, so the spec
    is hashable and its config is JSON. The dtype is the call's: integer
    dtypes take integer values in their range, floating ones round to
    nearest. ``ConstantArray(x)`` draws what ``hk.initializers.Constant(x)``
    and ``keras.initializers.Constant(x)`` draw.

    Raises
    ------
    ParameterError
        A value that is not a finite real number or a rectangular array of them.
    ShapeError
        A shape the value does not broadcast to.

    Examples
    --------
    >>> import numpy as np
    >>> from unit_init.spec.constant_array import ConstantArray
    >>> spec = ConstantArray(np.array([[1.0], [2.0]]))
    >>> spec
    ConstantArray(seed=None, value=((1.0,), (2.0,)))
    >>> spec((2, 3)).tolist()
    [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    >>> spec((3, 3))
    Traceback (most recent call last):
    ...
    unit_init.errors.ShapeError: ConstantArray: a value of shape (2, 1) does not broadcast to shape=(3, 3).
    """

    value: Any = 0.0

    def _validate(self) -> None:
        object.__setattr__(self, "value", _nested(_checked(self.value)))

    @property
    def value_shape(self) -> tuple[int, ...]:
        """The shape of ``value``."""
        return tuple(np.shape(self.value))

    def distribution_for(self, shape: ShapeLike, **_: object) -> Distribution:
        dims = normalize_shape(shape)
        try:
            fits = np.broadcast_shapes(self.value_shape, dims) == dims
        except ValueError:
            fits = False
        if not fits:
            msg = f"ConstantArray: a value of shape {self.value_shape} does not broadcast to shape={dims}."
            raise ShapeError(msg)
        return ArrayConstant(self.value)
