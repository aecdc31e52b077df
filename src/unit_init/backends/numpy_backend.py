"""The NumPy backend: the reference implementation, always available.

Draws with a ``numpy.random.Generator`` (PCG64 from an int seed), scales and
clips in place. bfloat16 comes from ``ml_dtypes`` when it is installed.

Large draws (at least :data:`PARALLEL_MIN` elements) are split into blocks of
:data:`BLOCK` elements, each drawn from its own PCG64 stream seeded with 128
bits taken from the call's generator, and filled by a thread pool (NumPy's
generators and ufuncs release the GIL). The block size is a constant, so the
values depend only on the seed, never on the number of threads or cores; the
generator advances by the block seeds it hands out. Smaller draws use the
generator directly.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import array_api_compat
import array_api_compat.numpy
import numpy as np

from unit_init.backends.base import Backend, redraw_rejected
from unit_init.errors import DeviceError, DTypeError, SeedError

__all__ = ["BLOCK", "PARALLEL_MIN", "NumpyBackend"]

BLOCK: Final = 1 << 18
"""Elements per independently seeded block of a large draw (a constant: values never depend on the thread count)."""

PARALLEL_MIN: Final = 2 * BLOCK
"""Draws with at least this many elements are filled block by block, in parallel."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _workers() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _for_each_block(size: int, fill: Callable[[int, slice], object]) -> None:
    """Call ``fill(index, block)`` for every :data:`BLOCK`-sized slice of ``range(size)``, in parallel where cores allow."""
    global _pool  # one lazily created pool per process
    blocks = [slice(start, min(start + BLOCK, size)) for start in range(0, size, BLOCK)]
    if min(_workers(), len(blocks)) < 2:
        for index, block in enumerate(blocks):
            fill(index, block)
        return
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="unit_init")
    for future in [_pool.submit(fill, index, block) for index, block in enumerate(blocks)]:
        future.result()


def _block_streams(generator: np.random.Generator, size: int) -> list[np.random.Generator]:
    """One PCG64 generator per block, seeded with 128 bits drawn from ``generator`` (which advances)."""
    words = generator.integers(0, 1 << 32, size=(-(-size // BLOCK), 4), dtype=np.uint64)
    return [np.random.Generator(np.random.PCG64(np.random.SeedSequence(row))) for row in words.tolist()]


def _draw(generator: np.random.Generator, method: str, shape: tuple[int, ...], native: np.dtype[Any]) -> Any:
    """``generator.<method>(shape)``; large draws block by block, each block from its own stream, in parallel."""
    size = math.prod(shape)
    if size < PARALLEL_MIN:
        return getattr(generator, method)(shape, dtype=native)
    out = np.empty(size, dtype=native)
    streams = _block_streams(generator, size)
    _for_each_block(size, lambda i, block: getattr(streams[i], method)(dtype=native, out=out[block]))
    return out.reshape(shape)


def _in_place(x: Any, apply: Callable[[Any], object]) -> None:
    """``apply`` to ``x`` in place: whole if small, else block by block (in parallel) over its flat view."""
    if x.size < PARALLEL_MIN or not x.flags.c_contiguous:
        apply(x)
        return
    flat = x.reshape(-1)
    _for_each_block(flat.size, lambda _, block: apply(flat[block]))


class NumpyBackend(Backend):
    name = "numpy"
    extra = None
    xp = array_api_compat.numpy
    mutable = True

    def resolve_device(self, device: Any) -> Any:
        if device is None or device in ("cpu", "cpu:0"):
            return "cpu"
        msg = f"device={device!r} is not available on the numpy backend; present: 'cpu'."
        raise DeviceError(msg)

    def native_dtype(self, dtype: str) -> Any:
        if dtype == "bfloat16":
            try:
                import ml_dtypes
            except ImportError:
                msg = 'bfloat16 on the numpy backend needs ml_dtypes: pip install ml-dtypes (JAX installs it too).'
                raise DTypeError(msg) from None
            return np.dtype(ml_dtypes.bfloat16)
        return np.dtype(dtype)

    def generator(self, seed: Any, device: Any) -> np.random.Generator:
        if isinstance(seed, int):
            return np.random.Generator(np.random.PCG64(seed))
        if isinstance(seed, np.random.Generator):
            return seed
        msg = f"seed={seed!r} is not a seed for the numpy backend; pass an int, None or a numpy.random.Generator."
        raise SeedError(msg)

    def uniform(self, generator: np.random.Generator, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return _draw(generator, "random", shape, self.native_dtype(dtype))

    def normal(self, generator: np.random.Generator, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return _draw(generator, "standard_normal", shape, self.native_dtype(dtype))

    def truncated_normal(
        self, generator: np.random.Generator, shape: tuple[int, ...], low: float, high: float, dtype: str, device: Any
    ) -> Any:
        """Large draws re-draw each block's rejected values from that block's own stream, in parallel."""
        native, size = self.native_dtype(dtype), math.prod(shape)
        if size < PARALLEL_MIN:
            return super().truncated_normal(generator, shape, low, high, dtype, device)
        out = np.empty(size, dtype=native)
        streams = _block_streams(generator, size)

        def fill(index: int, block: slice) -> None:
            values, stream = out[block], streams[index]
            stream.standard_normal(dtype=native, out=values)
            redraw_rejected(np, values, low, high, lambda n: stream.standard_normal(n, dtype=native))

        _for_each_block(size, fill)
        return out.reshape(shape)

    def owns(self, array: Any) -> bool:
        return bool(array_api_compat.is_numpy_array(array))

    def device_of(self, array: Any) -> Any:
        return "cpu"

    def full(self, shape: tuple[int, ...], value: float, dtype: str, device: Any) -> Any:
        return np.full(shape, value, dtype=self.native_dtype(dtype))

    def affine(self, x: Any, scale: float, shift: float) -> Any:
        def apply(values: Any) -> None:
            if scale != 1:
                values *= scale
            if shift != 0:
                values += shift

        _in_place(x, apply)
        return x

    def cast(self, x: Any, dtype: str) -> Any:
        return x.astype(self.native_dtype(dtype), copy=False)

    def clip(self, x: Any, low: float, high: float) -> Any:
        _in_place(x, lambda values: np.clip(values, low, high, out=values))
        return x
