"""Layouts and the fan computation (docs/design.md#fans-and-layouts).

A :class:`Layout` says which axis of a weight is the input axis, which is the
output axis and which axes are batch axes (stacked experts, heads, …). Every
remaining axis is a *receptive-field* axis::

    receptive = prod(shape[a] for a not in in_axis, out_axis, batch_axis)
    fan_in    = prod(shape[in_axis])  * receptive
    fan_out   = prod(shape[out_axis]) * receptive

Rank 1 gives ``fan_in = fan_out = shape[0]``; rank 0 gives both 1. Explicit
``fan_in=`` / ``fan_out=`` override what the shape says.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Final, SupportsIndex, TypeAlias, TypeGuard, cast

from unit_init.errors import ParameterError, ShapeError, abbreviate, closest, keywords_checked
from unit_init.spec._checks import non_negative, plain_number, plain_sequence, positive

__all__ = [
    "LAYOUTS",
    "MAX_ELEMENTS",
    "MAX_RANK",
    "Fans",
    "Layout",
    "LayoutLike",
    "ShapeLike",
    "compute_fans",
    "fan_override",
    "normalize_shape",
    "resolve_layout",
]

Axes: TypeAlias = "int | tuple[int, ...]"
MAX_RANK: Final = 32
"""The largest rank unit_init draws (NumPy 1 and the Array-API namespaces stop at 32 or 64 dimensions)."""
MAX_ELEMENTS: Final = 2**63 - 1
"""The most elements an array may span: a 64-bit index (zero dimensions left out of the product)."""
ShapeLike: TypeAlias = "int | Sequence[int]"


@dataclass(frozen=True, slots=True)
class Layout:
    """Which axes of a weight are its input, output and batch axes.

    Parameters
    ----------
    in_axis, out_axis:
        An axis or a tuple of axes; negative values count from the end.
    batch_axis:
        Axes that count in neither fan (e.g. stacked experts).

    Examples
    --------
    >>> from unit_init import Layout
    >>> Layout(in_axis=1, out_axis=0)  # PyTorch's Linear and Conv weights
    Layout(in_axis=1, out_axis=0, batch_axis=())
    """

    in_axis: Axes = -2
    out_axis: Axes = -1
    batch_axis: Axes = ()

    def __post_init__(self) -> None:
        for name in ("in_axis", "out_axis", "batch_axis"):
            value = plain_sequence(getattr(self, name))
            if _is_axis(value):  # an int, a NumPy integer (JAX's and NumPy's axis arguments take both)
                object.__setattr__(self, name, operator.index(value))
                continue
            if not isinstance(value, (tuple, list)) or not all(_is_axis(a) for a in value):
                msg = f"Layout {name}={abbreviate(value)} must be an int or a tuple (or list) of ints."
                raise ParameterError(msg)
            object.__setattr__(self, name, tuple(operator.index(a) for a in value))
        seen: set[int] = set()
        for name in ("in_axis", "out_axis", "batch_axis"):  # what no rank can make right is refused here; the rest per shape
            for axis in self._listed(name):  # at most 2·MAX_RANK distinct axes pass, so a long tuple stops early
                if not -MAX_RANK <= axis < MAX_RANK:
                    msg = f"Layout {name}={abbreviate(getattr(self, name))} names axis {abbreviate(axis)}, which no array of rank at most {MAX_RANK} has."
                    raise ParameterError(msg)
                if axis in seen:
                    msg = f"Layout {name}={abbreviate(getattr(self, name))} names axis {axis} a second time; the input, output and batch axes are distinct axes."
                    raise ParameterError(msg)
                seen.add(axis)

    def _listed(self, name: str) -> tuple[int, ...]:
        value = getattr(self, name)
        return (value,) if isinstance(value, int) else value

    def axes(self, rank: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """The (in, out, batch) axes as non-negative ints for an array of ``rank`` (cached: a layout is a value)."""
        return _axes(self, rank)

    def _axes(self, rank: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        resolved = tuple(self._normalize(name, rank) for name in ("in_axis", "out_axis", "batch_axis"))
        flat = [a for group in resolved for a in group]
        if len(flat) != len(set(flat)):
            msg = f"{self} names the same axis twice for a rank-{rank} shape."
            if rank == 2 and resolved[0] == resolved[1] == (0,):  # Flax's Embed default, as JAX reads it
                msg += (" (JAX takes it: Flax's Embed default, variance_scaling(1.0, 'fan_in', 'normal', out_axis=0) on a"
                        " (vocab, features) table, draws with fan_in = features; write that as Layout(in_axis=1, out_axis=0).)")
            raise ParameterError(msg)
        return resolved  # type: ignore[return-value]

    def _normalize(self, name: str, rank: int) -> tuple[int, ...]:
        axes = self._listed(name)
        for axis in axes:
            if not -rank <= axis < rank:
                msg = f"{name}={axis} of {self} does not exist in a rank-{rank} shape."
                raise ShapeError(msg)
        return tuple(operator.index(axis) % rank for axis in axes)


_axes: Final = functools.lru_cache(maxsize=1024)(Layout._axes)
"""``Layout.axes``, computed once per layout and rank (an error, for an axis the rank lacks, is raised every time)."""

Layout.__init__ = keywords_checked(Layout.__init__)  # type: ignore[method-assign]  # a misspelt keyword, an extra argument: ArgumentError


def _is_axis(value: object) -> bool:
    """An integer axis: an int or an integer scalar of NumPy and the like (``__index__``), never a bool."""
    if isinstance(value, (bool, tuple, list)) or "bool" in str(getattr(value, "dtype", "")):  # NumPy, torch, JAX bools
        return False
    try:
        operator.index(cast("SupportsIndex", value))
    except Exception:  # no __index__, an array of several values, or an __index__ that raises
        return False
    return True


LAYOUTS: Final[dict[str, Layout]] = {
    "keras": Layout(in_axis=-2, out_axis=-1),
    "torch": Layout(in_axis=1, out_axis=0),
    "keras_transpose": Layout(in_axis=-1, out_axis=-2),
    "torch_transpose": Layout(in_axis=0, out_axis=1),
}
LayoutLike: TypeAlias = "str | Layout | None"
_UNORDERED: Final = (str, bytes, Mapping, AbstractSet)  # iterables that are not a shape


def resolve_layout(layout: LayoutLike) -> Layout:
    """Turn a layout name (or ``None`` for ``"keras"``) into a :class:`Layout`."""
    if layout is None:
        return LAYOUTS["keras"]
    if isinstance(layout, Layout):
        return layout
    if isinstance(layout, str) and layout in LAYOUTS:
        return LAYOUTS[layout]
    hint = closest(layout[:64], LAYOUTS) if isinstance(layout, str) else ""
    if _has_attributes(layout, "mesh", "spec"):  # a JAX NamedSharding, a Keras TensorLayout
        hint = (" It is a sharding: under keras.distribution, Keras hands its variable's layout to an initializer whose call"
                " takes layout=, as a bare spec's does. Give the layer unit_init.keras.initializer(spec) (its call takes none,"
                " and Keras lays its values out); to draw a sharded JAX array yourself, pass sharding=.")
    msg = f"layout={abbreviate(layout)} is not known; accepted: {', '.join(map(repr, LAYOUTS))} or a ui.Layout(...).{hint}"
    raise ParameterError(msg)


def _has_attributes(value: object, *names: str) -> bool:
    """Whether ``value`` has every attribute of ``names`` (``False`` where looking one up raises)."""
    try:
        return all(hasattr(value, name) for name in names)
    except Exception:
        return False


def _has_index(value: object) -> TypeGuard[SupportsIndex]:
    """Whether ``value`` has ``__index__`` (``False`` where looking it up raises, as a hostile ``__getattr__`` may)."""
    try:
        return hasattr(value, "__index__")
    except Exception:
        return False


def _boolean(value: object) -> bool:
    """A bool, or an array (or array scalar) of a boolean dtype: torch's ``tensor(True)`` has an ``__index__`` (1)."""
    if isinstance(value, bool):
        return True
    try:
        return "bool" in str(getattr(value, "dtype", ""))
    except Exception:  # a hostile dtype or __str__: not a boolean one we can tell
        return False


def normalize_shape(shape: ShapeLike) -> tuple[int, ...]:
    """Validate ``shape`` into a tuple of non-negative ints.

    Accepted: an int, or an ordered sequence of ints of rank at most
    :data:`MAX_RANK` (a tuple, a list, ``torch.Size``, a 1-D integer NumPy
    array, …). Refused with :class:`~unit_init.ShapeError`: bools, floats,
    strings, mappings and sets (no order), arrays of another rank or dtype.

    Examples
    --------
    >>> import numpy as np
    >>> normalize_shape(np.array([64, 32])), normalize_shape(5)
    ((64, 32), (5,))
    """
    if type(shape) is tuple and len(shape) <= MAX_RANK:  # the common case, checked in one loop (no generator to build)
        for dim in shape:
            if type(dim) is not int or dim < 0:
                break
        else:
            return _checked_size(shape, shape)
    try:
        ndim = getattr(shape, "ndim", None)  # an array: a 0-d one is an int, a 1-D one a sequence
        scalar = ndim == 0 or (ndim is None and hasattr(shape, "__index__"))
        ordered = ndim == 1 or (ndim is None and isinstance(shape, Iterable) and not isinstance(shape, _UNORDERED))
    except Exception:  # an object whose attributes raise (a __getattr__ or ndim that is not AttributeError)
        scalar = ordered = False
    if _boolean(shape) or not (scalar or ordered):
        msg = f"shape={abbreviate(shape)} must be an int or a sequence of at most {MAX_RANK} non-negative ints."
        raise ShapeError(msg)
    try:
        dims = (shape,) if scalar else tuple(itertools.islice(cast("Iterable[int]", shape), MAX_RANK + 1))  # bounded: a generator may not end
    except Exception as error:  # an iterable that refuses iteration (tf.TensorShape(None): unknown rank) or raises while it yields
        msg = f"shape={abbreviate(shape)} could not be read as dimensions ({type(error).__name__}: {abbreviate(str(error))})."
        raise ShapeError(msg) from None
    if len(dims) > MAX_RANK:
        msg = f"shape={abbreviate(shape)} has more than {MAX_RANK} dimensions; unit_init draws arrays of rank at most {MAX_RANK}."
        raise ShapeError(msg)
    result = []
    for dim in dims:
        if _boolean(dim) or not _has_index(dim):
            msg = f"shape={abbreviate(shape)} has {abbreviate(dim)}; every dimension must be a non-negative int."
            raise ShapeError(msg)
        try:
            size = operator.index(dim)
        except Exception:  # an object with an ``__index__`` that refuses (np.bool_) or raises anything else
            size = -1
        if size < 0:
            msg = f"shape={abbreviate(shape)} has the dimension {abbreviate(dim)}; every dimension must be a non-negative int."
            raise ShapeError(msg)
        result.append(size)
    return _checked_size(shape, tuple(result))


def _checked_size(shape: ShapeLike, dims: tuple[int, ...]) -> tuple[int, ...]:
    """``dims``, or :class:`~unit_init.ShapeError` if its non-zero dimensions multiply past :data:`MAX_ELEMENTS`.

    Zero dimensions are left out of the product: ``(0, 2**70)`` holds no element
    but no framework can index it, and fans are computed from the other axes.
    """
    if (math.prod(dims) if 0 not in dims else math.prod(dim for dim in dims if dim)) > MAX_ELEMENTS:
        msg = f"shape={abbreviate(shape)} spans more than 2**63 - 1 elements (a 64-bit index); draw a smaller shape."
        raise ShapeError(msg)
    return dims


@dataclass(frozen=True, slots=True)
class Fans:
    """The fans of a shape under a layout, and their average: finite numbers >= 0, held as floats."""

    fan_in: float
    fan_out: float

    def __post_init__(self) -> None:
        for name in ("fan_in", "fan_out"):
            value = getattr(self, name)
            if type(value) is not float or not 0.0 <= value < math.inf:  # the fans computed here are floats already
                object.__setattr__(self, name, non_negative(name, plain_number(value)))

    @property
    def fan_avg(self) -> float:
        """``(fan_in + fan_out) / 2``."""
        return (self.fan_in + self.fan_out) / 2


Fans.__init__ = keywords_checked(Fans.__init__)  # type: ignore[method-assign]  # a misspelt keyword, a missing argument: ArgumentError


def fan_override(name: str, value: Any) -> float:
    """An explicit ``fan_in=`` or ``fan_out=`` as a float, read by its value (a NumPy scalar or a 0-d array is the number
    it holds); :class:`~unit_init.ParameterError` unless it is finite and at least 1.

    Every variance rule floors a fan at 1 (as Keras does, for a shape with a zero dimension), so an override below 1
    would be taken as 1 without a word; it is refused instead.

    Examples
    --------
    >>> import numpy as np
    >>> fan_override("fan_in", np.int64(64))
    64.0
    """
    number = positive(name, plain_number(value))
    if number < 1:
        msg = (
            f"{name}={abbreviate(value)} is below 1, the least fan a variance rule takes (each floors a fan at 1, as Keras); "
            f"pass {name} >= 1, or change the initializer's scale."
        )
        raise ParameterError(msg)
    return number


def _override(name: str, value: float | None, computed: float) -> float:
    return computed if value is None else fan_override(name, value)


@keywords_checked
def compute_fans(
    shape: ShapeLike,
    layout: LayoutLike = None,
    *,
    fan_in: float | None = None,
    fan_out: float | None = None,
) -> Fans:
    """Compute ``(fan_in, fan_out)`` of ``shape`` under ``layout``.

    Examples
    --------
    >>> from unit_init import compute_fans
    >>> compute_fans((3, 3, 64, 128))                  # Keras conv kernel
    Fans(fan_in=576.0, fan_out=1152.0)
    >>> compute_fans((128, 64, 3, 3), layout="torch")  # PyTorch conv weight
    Fans(fan_in=576.0, fan_out=1152.0)

    A shape that is not one (negative, float or bool dimensions, …) is a
    :class:`~unit_init.ShapeError`, as for every draw.
    """
    computed_in, computed_out = _computed_fans(normalize_shape(shape), resolve_layout(layout))
    return Fans(_override("fan_in", fan_in, computed_in), _override("fan_out", fan_out, computed_out))


@functools.lru_cache(maxsize=1024)
def _computed_fans(shape: tuple[int, ...], layout: Layout) -> tuple[float, float]:
    """``(fan_in, fan_out)`` of a valid shape under ``layout`` (cached; see the module docstring for the formula)."""
    rank = len(shape)
    if rank == 0:
        return 1.0, 1.0
    if rank == 1:
        return float(shape[0]), float(shape[0])
    in_axes, out_axes, batch_axes = layout.axes(rank)
    named = set(in_axes) | set(out_axes) | set(batch_axes)
    receptive = math.prod(shape[a] for a in range(rank) if a not in named)
    return float(math.prod(shape[a] for a in in_axes) * receptive), float(math.prod(shape[a] for a in out_axes) * receptive)
