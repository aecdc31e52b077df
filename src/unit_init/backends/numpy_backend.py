"""The NumPy backend: the reference implementation, always available.

Draws with a ``numpy.random.Generator`` (PCG64 from an int seed), scales and
clips in place. bfloat16 comes from ``ml_dtypes`` when it is installed.

Large i.i.d. draws are filled block by block in parallel
(:mod:`unit_init.sampling.blocks`): block ``i`` is drawn from its own PCG64
stream, seeded with 128 bits taken from the call's generator, which advances
by the block seeds it hands out.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from unit_init.backends.base import Backend
from unit_init.backends.devices import absent_device, device_request, unknown_device
from unit_init.errors import DTypeError, SeedError, abbreviate

__all__ = ["NumpyBackend"]


class NumpyBackend(Backend):
    name = "numpy"
    xp = np
    mutable = True
    threaded_fill = True  # its ufuncs release the GIL and run on one thread each
    qr_dtype = "float64"  # numpy.linalg.qr computes a float32 (complex64) QR in float64 (complex128)
    rounded_affine = True  # in-place ufuncs, each rounded once; uniform_between is the base's

    def resolve_device(self, device: Any) -> Any:
        """``"cpu"`` for ``None``, ``"cpu"`` or ``"cpu:0"``: NumPy has one device."""
        if device is None:
            return "cpu"
        request = device_request(device)
        if request is not None and request.platform == "cpu" and not request.index:
            return "cpu"
        if request is not None:
            raise absent_device(device, "numpy", "'cpu'")
        raise unknown_device(device, "numpy", "None, 'cpu' or 'cpu:0'", "'cpu'")

    def quiet_underflow(self) -> Any:
        return np.errstate(under="ignore")

    def native_dtype(self, dtype: str) -> Any:
        """NumPy's dtype of ``dtype`` (cached: every draw asks, and ``np.dtype(name)`` costs ~0.3 µs)."""
        return _native_dtype(dtype)

    def generator(self, seed: Any, device: Any) -> np.random.Generator:
        if isinstance(seed, int):
            return np.random.default_rng(seed)  # Generator(PCG64(seed)), built in one compiled call: ~0.5 µs less
        if isinstance(seed, np.random.Generator):
            return seed
        msg = f"seed={abbreviate(seed)} is not a seed for the numpy backend; pass an int, None or a numpy.random.Generator."
        raise SeedError(msg)

    def uniform(self, generator: np.random.Generator, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return generator.random(shape, dtype=self.native_dtype(dtype))

    def normal(self, generator: np.random.Generator, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return generator.standard_normal(shape, dtype=self.native_dtype(dtype))

    def block_streams(self, generator: np.random.Generator, count: int, device: Any) -> list[np.random.Generator]:
        """One PCG64 generator per block, seeded with 128 bits drawn from ``generator`` (which advances)."""
        words = generator.integers(0, 1 << 32, size=(count, 4), dtype=np.uint64)
        return [np.random.Generator(np.random.PCG64(np.random.SeedSequence(row))) for row in words.tolist()]

    def owns(self, array: Any) -> bool:
        return isinstance(array, (np.ndarray, np.generic))

    def device_of(self, array: Any) -> Any:
        return "cpu"

    def full(self, shape: tuple[int, ...], value: float, dtype: str, device: Any) -> Any:
        return np.full(shape, value, dtype=self.native_dtype(dtype))

    def affine(self, x: Any, scale: float, shift: float) -> Any:
        if scale != 1:
            x *= scale
        if shift != 0:
            x += shift
        return x

    def cast(self, x: Any, dtype: str) -> Any:
        native = _native_dtype(dtype)
        return x if x.dtype == native else x.astype(native)

    def clip(self, x: Any, low: float, high: float) -> Any:
        """In place; the array's own method (``np.clip`` adds ~1 µs of dispatch per call). A NumPy scalar (what some
        samplers' arithmetic gives for a 0-d shape) is not writable: clipped as a 0-d array, the type a draw returns."""
        if not isinstance(x, np.ndarray):
            x = np.asarray(x)
        return x.clip(low, high, out=x)


@functools.cache
def _native_dtype(dtype: str) -> Any:
    """The NumPy dtype named ``dtype``; bfloat16 from ml_dtypes (:class:`DTypeError` without it)."""
    if dtype == "bfloat16":
        try:
            import ml_dtypes
        except ImportError:
            msg = 'bfloat16 on the numpy backend needs ml_dtypes: pip install ml-dtypes (JAX installs it too).'
            raise DTypeError(msg) from None
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(dtype)
