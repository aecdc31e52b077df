"""Blocks of a global array: what ``region=`` selects, and the global flat index of each of its elements.

A block is a box ``[start_i, stop_i)`` per axis of the global shape. It is
given as a tuple of slices (step 1; missing trailing axes are whole; this is
the form ``jax.sharding`` shard indices take) or as an ``(offset, shape)``
pair. Element ``(j_0, …, j_{n−1})`` of the block is element
``(start_0 + j_0, …)`` of the global array, whose row-major flat index is::

    flat = Σ_i (start_i + j_i) · stride_i,     stride_i = Π_{k > i} shape_k
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from unit_init.errors import ParameterError, abbreviate
from unit_init.portable.words import Words
from unit_init.spec._checks import plain_sequence

__all__ = ["MAX_ELEMENTS", "Block", "RegionLike", "check_addressable"]

MAX_ELEMENTS: Final = 2**32
"""The largest global array a portable stream addresses: flat indices are one 32-bit counter word."""

RegionLike = Any  # tuple[slice, ...] | tuple[Sequence[int], Sequence[int]] | None


def check_addressable(shape: tuple[int, ...]) -> None:
    """:class:`ParameterError` for a global shape of more than :data:`MAX_ELEMENTS` elements."""
    if math.prod(shape) > MAX_ELEMENTS:
        msg = f"rng='portable' addresses at most 2**32 elements per array; shape {shape} has {math.prod(shape)}."
        raise ParameterError(msg)


def _is_int(value: object) -> bool:
    """An int by ``__index__`` (a NumPy integer too), not a bool; an array or an ``__index__`` that raises is none."""
    if isinstance(value, bool):
        return False
    try:
        operator.index(value)  # type: ignore[arg-type]  # any object: whether it converts is the question
    except Exception:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Block:
    """The box ``[start, stop)`` of an array of global shape ``shape``."""

    shape: tuple[int, ...]
    start: tuple[int, ...]
    stop: tuple[int, ...]

    @classmethod
    def whole(cls, shape: tuple[int, ...]) -> Block:
        return cls(shape, (0,) * len(shape), shape)

    @classmethod
    def of(cls, shape: tuple[int, ...], region: RegionLike) -> Block:
        """The block ``region`` selects in an array of ``shape`` (the whole array for ``None``)."""
        if region is None:
            return cls.whole(shape)
        region = plain_sequence(region)
        accepted = "a tuple of slices (step 1), e.g. (slice(0, 512), slice(None)), or an (offset, shape) pair of int sequences"
        if isinstance(region, slice):
            region = (region,)
        if not isinstance(region, Sequence) or isinstance(region, str):
            msg = f"region={abbreviate(region)} is not a region; pass {accepted}."
            raise ParameterError(msg)
        if all(isinstance(item, slice) for item in region):
            if len(region) > len(shape):
                msg = f"region={abbreviate(region)} has {len(region)} slices for a rank-{len(shape)} shape {shape}."
                raise ParameterError(msg)
            starts, stops = [], []
            for axis, dim in enumerate(shape):
                item = region[axis] if axis < len(region) else slice(None)
                if not all(v is None or _is_int(v) for v in (item.start, item.stop, item.step)):
                    msg = f"region={abbreviate(region)}: slice on axis {axis} has a bound that is not an int; pass {accepted}."
                    raise ParameterError(msg)
                if item.step not in (None, 1):
                    msg = f"region={abbreviate(region)}: the slice on axis {axis} has step {abbreviate(item.step)}; only step 1 is supported."
                    raise ParameterError(msg)
                if not all(v is None or -dim <= operator.index(v) <= dim for v in (item.start, item.stop)):
                    msg = f"region={abbreviate(region)}: the slice on axis {axis} reaches outside that axis of size {dim} (shape {shape})."
                    raise ParameterError(msg)
                start, stop, _ = item.indices(dim)
                if start > stop:
                    msg = f"region={abbreviate(region)}: the slice on axis {axis} starts at {start}, after its stop {stop} (shape {shape})."
                    raise ParameterError(msg)
                starts.append(start)
                stops.append(stop)
            return cls(shape, tuple(starts), tuple(stops))
        if (
            len(region) == 2
            and all(isinstance(part, Sequence) and all(_is_int(v) for v in part) for part in region)
            and len(region[0]) == len(region[1]) == len(shape)
        ):
            offset, size = (tuple(operator.index(v) for v in part) for part in region)
            if all(o >= 0 and n >= 0 and o + n <= d for o, n, d in zip(offset, size, shape, strict=True)):
                return cls(shape, offset, tuple(o + n for o, n in zip(offset, size, strict=True)))
            msg = f"region=(offset={abbreviate(offset)}, shape={abbreviate(size)}) does not lie inside the global shape {shape}."
            raise ParameterError(msg)
        msg = f"region={abbreviate(region)} is not a region of the rank-{len(shape)} shape {shape}; pass {accepted}."
        raise ParameterError(msg)

    @property
    def block_shape(self) -> tuple[int, ...]:
        return tuple(b - a for a, b in zip(self.start, self.stop, strict=True))

    @property
    def is_whole(self) -> bool:
        return self.start == (0,) * len(self.shape) and self.stop == self.shape

    @property
    def slices(self) -> tuple[slice, ...]:
        return tuple(slice(a, b) for a, b in zip(self.start, self.stop, strict=True))

    def chunks(self, size: int) -> Iterator[tuple[Block, tuple[slice, ...]]]:
        """Sub-blocks of about ``size`` elements covering this block, each with its slices inside the block.

        The trailing axes that fit in ``size`` stay whole, the next axis is cut
        into runs, and the leading axes are taken one index at a time.
        """
        shape = self.block_shape
        inner, axis = 1, len(shape)
        while axis > 0 and inner * shape[axis - 1] <= size:
            inner *= shape[axis - 1]
            axis -= 1
        whole = tuple(slice(0, n) for n in shape)
        if axis == 0:
            yield self, whole
            return
        axis -= 1
        step = max(1, size // inner)
        for lead in itertools.product(*(range(n) for n in shape[:axis])):
            for begin in range(0, shape[axis], step):
                inside = (
                    *(slice(i, i + 1) for i in lead), slice(begin, min(begin + step, shape[axis])), *whole[axis + 1 :]
                )
                start = tuple(a + r.start for a, r in zip(self.start, inside, strict=True))
                stop = tuple(a + r.stop for a, r in zip(self.start, inside, strict=True))
                yield Block(self.shape, start, stop), inside

    def flat_index(self, words: Words, start: Sequence[Any]) -> Any:
        """Each element's global row-major flat index, as words of the block's shape.

        ``start`` holds the block's start per axis as word arrays (so a compiled
        kernel serves every block of one shape). Built from one ``arange`` per
        axis, broadcast and added: no full-size index ever crosses from the host.
        """
        check_addressable(self.shape)
        xp = words.xp
        rank = len(self.shape)
        index = words.constant(0)
        stride = 1
        for axis in reversed(range(rank)):
            along = words.add(words.arange(0, self.stop[axis] - self.start[axis]), start[axis])
            if stride != 1:
                along = words.mul(along, stride)
            view = tuple(-1 if a == axis else 1 for a in range(rank))
            index = words.add(index, xp.reshape(along, view))
            stride *= self.shape[axis]
        return index
