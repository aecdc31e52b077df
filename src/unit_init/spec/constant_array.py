"""An array-valued constant: Haiku's ``Constant(array)`` and Keras's ``Constant(array)``, on every backend.

The core :class:`~unit_init.Constant` holds one number. :class:`ConstantArray`
holds an array — stored as nested tuples of Python numbers, so the spec stays
immutable, hashable and compared by value, and its config is plain JSON (nested
lists; a config holds at most :data:`unit_init.serialization.MAX_VALUES`
values, so about a thousand elements) — and broadcasts it to the requested
shape by NumPy's rules::

    W = broadcast_to(value, shape)        (ShapeError if value's shape does not broadcast)

The law, :class:`~unit_init.spec.distributions.ArrayConstant`, is made on
the device in the call's dtype and broadcast there
(:mod:`unit_init.sampling.broadcast`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from unit_init.errors import ParameterError, ShapeError, abbreviate
from unit_init.spec._checks import plain_sequence
from unit_init.spec.distributions import ArrayConstant, Distribution, leaves
from unit_init.spec.fans import ShapeLike, normalize_shape
from unit_init.spec.initializer import Initializer

__all__ = ["MAX_ELEMENTS", "ConstantArray", "holds_at_most"]

_INTEGERS: Final = (-(2**63), 2**64)
"""The integers a value may hold, ``[−2⁶³, 2⁶⁴)``: what NumPy stores as ``int64`` or ``uint64``."""

_MAX_RANK: Final = 64
"""The most axes a value may have (NumPy's limit)."""


class _NotAnArray(ValueError):
    """A value that is not a finite real number or a rectangular array of them."""


MAX_ELEMENTS: Final = 1 << 20
"""The most numbers a :class:`ConstantArray` holds: they are kept as Python numbers (about a second to convert a million)."""


def holds_at_most(value: Any, limit: int) -> bool:
    """Whether ``value`` holds at most ``limit`` numbers, counted before any conversion: an array by its shape, a list by
    walking it, which visits at most ``4·limit`` sequences (a list holding itself many times over is refused quickly)."""
    pending, numbers, sequences = [value], 0, 0
    while pending:
        item = plain_sequence(pending.pop())
        if isinstance(item, (list, tuple)):
            sequences += len(item)
            if sequences > 4 * limit:
                return False
            pending.extend(item)
            continue
        try:
            shape = getattr(item, "shape", None)
            numbers += math.prod(int(size) for size in shape) if shape is not None and not callable(shape) else 1
        except Exception:  # a shape that raises or has unknown sizes: read through tolist(), which says what it is
            numbers += 1
        if numbers > limit:
            return False
    return True


def _tupled(item: Any, depth: int = 0) -> tuple[Any, tuple[int, ...]]:
    """``item`` as nested tuples of Python ints and floats (bools as 0/1), and its shape.

    Arrays of any library (and NumPy scalars) are read through their
    ``tolist()``, TensorFlow's tensors and variables through ``numpy()``;
    :class:`_NotAnArray` for a ragged nesting, one deeper than
    :data:`_MAX_RANK`, a non-finite float or anything that is not a real number.
    """
    if not isinstance(item, (list, tuple, type)) and not hasattr(item, "tolist") and callable(getattr(item, "numpy", None)):
        try:
            item = item.numpy()
        except (AttributeError, NotImplementedError, TypeError, ValueError):  # a symbolic tensor (inside tf.function) holds no values
            raise _NotAnArray from None
    if not isinstance(item, (list, tuple, type)) and callable(getattr(item, "tolist", None)):  # a class has an unbound tolist
        try:
            item = item.tolist()
        except TypeError:  # an array with no values yet (a JAX tracer inside jax.jit: ConcretizationTypeError)
            raise _NotAnArray from None
    if isinstance(item, (list, tuple)):
        if depth == _MAX_RANK:
            raise _NotAnArray
        parts = [_tupled(x, depth + 1) for x in plain_sequence(item)]
        shapes = {shape for _, shape in parts}
        if len(shapes) > 1:
            raise _NotAnArray
        return tuple(part for part, _ in parts), (len(parts), *(shapes.pop() if shapes else ()))
    if isinstance(item, bool):
        return int(item), ()
    if isinstance(item, int) and _INTEGERS[0] <= (value := int.__index__(item)) < _INTEGERS[1]:
        return value, ()  # the value, never a subclass's own comparisons or conversions (which may raise or lie)
    if isinstance(item, float) and math.isfinite(item):
        return float.__float__(item), ()
    raise _NotAnArray


def _floats(value: Any) -> Any:
    """Nested tuples with every number a float (a number: a float), zero as ``+0.0`` (``−0.0 + 0.0``: equal specs draw alike)."""
    return tuple(map(_floats, value)) if isinstance(value, tuple) else float(value) + 0.0


def _checked(value: Any) -> Any:
    """``value`` as nested tuples of finite reals — all floats if one is (NumPy's rule), else ints — or :class:`ParameterError`."""
    if not holds_at_most(value, MAX_ELEMENTS):
        msg = (
            f"value={abbreviate(value)} holds more than {MAX_ELEMENTS} numbers (2**20), which a ConstantArray keeps as Python "
            "numbers; write a larger array into the weight itself (unit_init.torch.init_ takes a tensor to fill)."
        )
        raise ParameterError(msg)
    try:
        nested, _ = _tupled(value)
    except _NotAnArray:
        msg = f"value={abbreviate(value)} must be a number or a (nested, rectangular) array of finite real numbers."
        raise ParameterError(msg) from None
    return _floats(nested) if any(isinstance(v, float) for v in leaves(nested)) else nested


def _shape(value: Any) -> tuple[int, ...]:
    """The shape of checked nested tuples (rectangular: the first item's shape is every item's)."""
    if not isinstance(value, tuple):
        return ()
    return (len(value), *(_shape(value[0]) if value else ()))


def _broadcasts(small: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Whether an array of shape ``small`` broadcasts to ``shape`` (NumPy's rules: aligned on the right, sizes equal or 1)."""
    return len(small) <= len(shape) and all(s in (1, n) for s, n in zip(reversed(small), reversed(shape), strict=False))


def _empty_broadcasts(small: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Whether an empty value whose nested tuples give ``small`` (its axes up to the first of length 0; later ones are not
    kept) broadcasts to ``shape`` with some trailing axes: the result is empty whatever those axes were."""
    return any(_broadcasts(small, shape[: len(shape) - kept]) for kept in range(len(shape) - len(small) + 1))


@dataclass(frozen=True, slots=True)
class ConstantArray(Initializer):
    """``broadcast_to(value, shape)``: an array constant, broadcast by NumPy's rules.

    ``value`` is a number, nested lists or tuples, or a NumPy array of finite
    real numbers (bools are 0/1); it is stored as nested tuples, so the spec
    is hashable and its config is JSON. The dtype is the call's: integer
    dtypes take integer values in their range, floating ones round to
    nearest. ``ConstantArray(x)`` draws what ``hk.initializers.Constant(x)``
    and ``keras.initializers.Constant(x)`` draw.

    An empty value (an axis of length 0) keeps its axes up to that one —
    nested tuples, as NumPy's ``tolist()``, hold no axes after it — and fills
    every shape it broadcasts to with some trailing axes: ``ConstantArray(
    np.zeros((2, 0, 3)))`` fills ``(2, 0, 3)``, and ``(2, 0, 5)`` too (an
    empty array either way).

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

    random: ClassVar[bool] = False

    value: Any = 0.0
    array_fields: ClassVar[tuple[str, ...]] = ("value",)

    def _validate(self) -> None:
        object.__setattr__(self, "value", _checked(self.value))

    @property
    def value_shape(self) -> tuple[int, ...]:
        """The shape of ``value``."""
        return _shape(self.value)

    def distribution_for(self, shape: ShapeLike, **_: object) -> Distribution:
        dims = normalize_shape(shape)
        if 0 in self.value_shape:
            if not _empty_broadcasts(self.value_shape, dims):
                kept = ", ".join(map(str, self.value_shape))
                msg = f"ConstantArray: an empty value of shape ({kept}, …) does not broadcast to shape={dims}."
                raise ShapeError(msg)
            return ArrayConstant(0)  # the result is empty
        if not _broadcasts(self.value_shape, dims):
            msg = f"ConstantArray: a value of shape {self.value_shape} does not broadcast to shape={dims}."
            raise ShapeError(msg)
        return ArrayConstant(self.value)
