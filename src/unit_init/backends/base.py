"""What a backend is: the small set of primitives the specification layer draws with.

Invariants every backend keeps:

* it imports its framework only when it is instantiated (the registry does that
  lazily, on first use) and never imports another framework;
* arrays are created directly on the resolved device, never drawn on the host
  and copied (the generic Array-API backend is the one exception: its
  namespace has no RNG);
* ``uniform`` draws ``U[0, 1)`` and ``normal`` draws ``N(0, 1)`` in the work
  dtype (float32 or float64) asked for; every generator advances on each draw;
* dtypes cross this interface as canonical names (``"bfloat16"``), devices as
  the native objects returned by :meth:`Backend.resolve_device`.

:class:`Backend` gives generic implementations of the deterministic
primitives on top of the backend's Array-API namespace ``xp``; a backend
overrides them where its framework has something faster (in-place scaling, a
native truncated normal).

How a law becomes values — the work dtype, truncation, confinement to the
output grid, the single cast, block-parallel fills, compiled samplers —
is written once above the backends, in :mod:`unit_init.sampling`, on top of
these primitives; a backend declares what it can do (``mutable``,
``truncation``, ``compiles``). The portable stream
(:mod:`unit_init.portable.stream`) computes Threefry over ``xp`` in 32-bit
words of ``word_dtype``; a backend only says how to run a pure array
function (:meth:`Backend.compiled`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from unit_init.dtypes import canonical_dtype
from unit_init.resources import host_free_bytes

__all__ = ["Backend"]


class Backend:
    """Base class of backends. Subclasses set ``name``, ``extra``, ``xp`` and the RNG primitives."""

    name: str  # a class attribute, or set per instance (the Array-API backend is named after its namespace)
    extra: ClassVar[str | None] = None  # the ``pip install "unit-init[extra]"`` that brings the framework
    xp: Any
    mutable: ClassVar[bool] = False  # arrays support in-place item assignment
    truncation: ClassVar[Literal["inverse_cdf", "native", "rejection", "host"]] = "rejection"
    """How truncated normals across 0 are drawn: the row of :data:`unit_init.sampling.truncation.METHODS`.

    ``"inverse_cdf"`` needs :meth:`erfinv`, ``"native"`` :meth:`truncated_normal`."""
    compiles: ClassVar[bool] = False  # compile_sampler compiles whole samplers (JAX, TensorFlow)
    word_dtype: ClassVar[str] = "uint32"  # 32-bit words of the portable stream; "int32" without uint32 arithmetic

    # --- framework-specific: every backend implements these --------------------------

    def resolve_device(self, device: Any) -> Any:
        """The native device for a portable string, a native object or ``None`` (the default)."""
        raise NotImplementedError

    def native_dtype(self, dtype: str) -> Any:
        """The native dtype for a canonical name; :class:`DTypeError` if unsupported here."""
        raise NotImplementedError

    def dtype_on(self, dtype: str, device: Any) -> Any:
        """The native dtype for a canonical name on ``device``; :class:`DTypeError` if that device lacks it.

        Defaults to :meth:`native_dtype`; backends whose devices differ (no
        float64 on Apple MPS, Array-API devices) override it.
        """
        return self.native_dtype(dtype)

    def generator(self, seed: Any, device: Any) -> Any:
        """A generator from an int seed, or the user's native generator/key validated."""
        raise NotImplementedError

    def uniform(self, generator: Any, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        """``U[0, 1)`` samples."""
        raise NotImplementedError

    def normal(self, generator: Any, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        """``N(0, 1)`` samples."""
        raise NotImplementedError

    def uniform_between(self, generator: Any, shape: tuple[int, ...], low: float, high: float, dtype: str, device: Any) -> Any:
        """``low + (high − low)·U[0, 1)``; a backend whose framework draws it in one kernel overrides it."""
        return self.affine(self.uniform(generator, shape, dtype, device), high - low, low)

    def normal_scaled(self, generator: Any, shape: tuple[int, ...], mean: float, std: float, dtype: str, device: Any) -> Any:
        """``mean + std·N(0, 1)``; a backend whose framework draws it in one kernel overrides it."""
        return self.affine(self.normal(generator, shape, dtype, device), std, mean)

    def erfinv(self, x: Any) -> Any:
        """The inverse error function, elementwise (in place where the framework allows).

        Needed only with ``truncation = "inverse_cdf"``: the Array-API standard has no ``erfinv``.
        """
        raise NotImplementedError

    def truncated_normal(self, generator: Any, shape: tuple[int, ...], low: float, high: float, dtype: str, device: Any) -> Any:
        """The framework's own ``N(0, 1)`` conditioned on ``[low, high]``, for finite bounds on either side of 0.

        Needed only with ``truncation = "native"``.
        """
        raise NotImplementedError

    def owns(self, array: Any) -> bool:
        """Whether ``array`` belongs to this backend (checked without importing anything)."""
        raise NotImplementedError

    def device_of(self, array: Any) -> Any:
        """The native device ``array`` lives on."""
        return array.device

    def dtype_of(self, array: Any) -> str:
        """The canonical dtype name of ``array``."""
        return canonical_dtype(array.dtype)

    def placement(self, device: Any) -> contextlib.AbstractContextManager[Any]:
        """A context in which plain operators (``a * b``) on this backend's arrays run on ``device``.

        Most frameworks run an operator where its inputs live, so the default
        does nothing; TensorFlow runs unscoped eager ops on its default device.
        """
        return contextlib.nullcontext()

    def free_bytes(self, device: Any) -> int | None:
        """The bytes still free on ``device``, as its framework reports them (``None``: unknown or unlimited).

        Defaults to the host's (:func:`unit_init.resources.host_free_bytes`);
        backends with accelerators ask their framework. The memory guard
        (:mod:`unit_init.resources`) compares each draw's estimate with it.
        """
        return host_free_bytes()

    def block_streams(self, generator: Any, count: int, device: Any) -> list[Any] | None:
        """``count`` independent generators seeded from ``generator`` (which advances), one per block of a large draw.

        ``None`` (the default) where large draws on ``device`` are not split
        into blocks (see :mod:`unit_init.sampling.blocks`).
        """
        return None

    def compile_sampler(self, sample: Callable[[Any], Any], kind: type, device: Any) -> Callable[[Any], Any] | None:
        """``sample(generator) -> values`` compiled, for generators of type ``kind``, into one function of the generator.

        Called (once per law, shape, dtype and device) only where ``compiles``
        is true; ``None`` where this kind of generator cannot be compiled
        (a stateful ``tf.random.Generator``) or the sampler cannot be traced.
        """
        return None

    def compiled(self, kernel: Callable[..., Any], device: Any) -> Callable[..., Any]:
        """A pure function of arrays, ready to run repeatedly on ``device`` (JAX compiles it; others run it as is)."""
        return kernel

    def to_numpy(self, array: Any) -> Any:
        """A NumPy copy of ``array`` (for tests and diagnostics)."""
        import numpy as np

        return np.asarray(array)

    # --- generic: written once over ``xp``, overridden where a framework is faster ---

    def full(self, shape: tuple[int, ...], value: float, dtype: str, device: Any) -> Any:
        return self.xp.full(shape, value, dtype=self.dtype_on(dtype, device), device=device)

    def eye(self, rows: int, cols: int, value: float, dtype: str, device: Any) -> Any:
        identity = self.xp.eye(rows, cols, dtype=self.dtype_on(dtype, device), device=device)
        return identity if value == 1 else identity * value

    def affine(self, x: Any, scale: float, shift: float) -> Any:
        """``x * scale + shift``."""
        return x * scale + shift

    def cast(self, x: Any, dtype: str) -> Any:
        return self.xp.astype(x, self.native_dtype(dtype))

    def clip(self, x: Any, low: float, high: float) -> Any:
        return self.xp.clip(x, low, high)

    def qr(self, x: Any) -> tuple[Any, Any]:
        """Reduced QR of a (batch of) matrices with at least as many rows as columns."""
        q, r = self.xp.linalg.qr(x)
        return q, r
