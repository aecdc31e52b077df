"""What a backend is: the small set of primitives the sampling layer draws with.

A backend is one :class:`Backend` subclass plus one
:class:`~unit_init.backends.registry.BackendRecord` that names it. It must
give eight things; everything else has a generic default written once over
its Array-API namespace ``xp``, which a backend overrides only where its
framework does better or differs.

=============================  ==================================================================
required                       what it does
=============================  ==================================================================
``name``                       the name ``backend=`` takes (a class attribute)
``xp``                         its Array-API namespace (a class attribute)
:meth:`resolve_device`         ``None``, a portable string (parsed by
                               :func:`~unit_init.backends.devices.device_request`) or a native
                               device object -> the native device
:meth:`native_dtype`           a canonical dtype name -> the native dtype
:meth:`generator`              an int seed or a native generator/key -> the generator draws use
:meth:`uniform`                ``U[0, 1)`` in float32 or float64, on the device
:meth:`normal`                 ``N(0, 1)`` in float32 or float64, on the device
:meth:`owns`                   whether an array is one of its own (``like=`` dispatch)
=============================  ==================================================================

=====================================  ============================================================
optional capability                    default
=====================================  ============================================================
:meth:`dtype_on`                       :meth:`native_dtype` (every device has every dtype)
:meth:`erfinv`                         none; needed only with ``truncation = "inverse_cdf"`` (or ``…_or_rejection``)
:meth:`truncated_normal`               none; needed only with ``truncation = "native"``
:meth:`uniform_between`,               :meth:`uniform` or :meth:`normal` then :meth:`affine`;
:meth:`normal_scaled`                  override with a one-kernel draw
:meth:`uniform_extremes`               ``None``: an overridden :meth:`uniform_between` is clipped
:meth:`uniform_to_transform`           :meth:`uniform_between`; another route to its law (torch: from 64-bit words)
:meth:`placement`                      no scope (operators run where their inputs live)
:meth:`quiet_underflow`                ``None``: the framework never raises for a subnormal result
:meth:`free_bytes`                     the host's free memory
:meth:`allocates`                      ``True``: a draw allocates its array as it runs
:meth:`holds_values`                   ``True``: arrays on every device hold values (torch's ``"meta"`` does not)
:meth:`block_streams`                  ``None``: large draws are not split into blocks
:meth:`device_of`, :meth:`dtype_of`    ``array.device``, the canonical name of ``array.dtype``
:meth:`to_numpy`                       ``numpy.asarray``
:meth:`full`, :meth:`eye`,             ``xp``'s functions
:meth:`affine`, :meth:`cast`,
:meth:`clip`, :meth:`qr`
:meth:`smallest`                       ``xp.argsort`` twice: the ranks along the axis (torch: ``topk``)
:meth:`split_seed`                     the same (stateful) generator for every draw
:meth:`numerics`                       ``xp`` (a fuller namespace for diagnostics)
:meth:`sharded`                        refused: the backend builds no sharded arrays
:meth:`compile_sampler`                ``None``: samplers run op by op (needs ``compiles``)
:meth:`compiled`                       the function as is (the portable stream's kernels)
=====================================  ============================================================

Declared capabilities are class attributes: ``mutable`` (arrays take
in-place item assignment and augmented operators, and ``xp``'s
elementwise functions take ``out=``), ``truncation`` (how truncated normals across 0
are drawn: the backend's row of :data:`unit_init.sampling.truncation.METHODS`),
``compiles`` (whole samplers are compiled by :meth:`compile_sampler`),
``word_dtype`` (the 32-bit word dtype of the portable stream),
``threaded_fill`` (the portable stream may fill chunks of one array from
several Python threads: single-threaded kernels that release the GIL),
``shift_in`` (a one-pass shift-and-or of the portable stream's words, where
the framework has one),
``rounded_affine`` (:meth:`affine` is two correctly rounded operations, so
the clip of a uniform scaled by it can be proved the identity),
``narrow_chunk`` (the most values a float16 or bfloat16 draw holds in
float32 at once, where :meth:`rounds_narrow` holds),
``qr_dtype`` (the dtype :meth:`qr` computes in whatever its input's),
``max_sliced_rank`` (the most axes one basic slice cuts: TensorFlow's
strided slice stops at 8),
``switchable_float64`` (float64 comes and goes while the process runs, so
no float32 draw widens its work to it: its values would depend on the switch)
and ``flushes_subnormals`` (float32 and float64 results below the smallest
normal number become 0, so a law whose values mostly lie there is refused).

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
import typing
from collections.abc import Callable, Hashable
from typing import Any, ClassVar, Final, Literal, TypeVar

from unit_init.backends.host import host_free_bytes
from unit_init.dtypes import COMPLEX_DTYPES, FLOAT_DTYPES, INTEGER_DTYPES, canonical_dtype
from unit_init.errors import BackendError, ParameterError, abbreviate
from unit_init.spec._checks import plain_text

__all__ = ["TRUNCATIONS", "Backend", "Truncation", "check_declared", "lacking", "quietly"]


Truncation = Literal["inverse_cdf", "inverse_cdf_or_rejection", "native", "rejection", "host"]
TRUNCATIONS: Final = typing.get_args(Truncation)
"""The values :attr:`Backend.truncation` takes."""


class Backend:
    """Base class of backends. Subclasses set ``name`` and ``xp`` and implement the required primitives (module docstring)."""

    name: str  # a class attribute, or set per instance (the Array-API backend is named after its namespace)
    xp: Any
    mutable: ClassVar[bool] = False  # in-place item assignment and augmented operators; xp's elementwise functions take out=; arrays have .reshape(shape)
    truncation: ClassVar[Truncation] = "rejection"
    """How truncated normals across 0 are drawn: the row of :data:`unit_init.sampling.truncation.METHODS`.

    ``"inverse_cdf"`` and ``"inverse_cdf_or_rejection"`` need :meth:`erfinv`, ``"native"`` :meth:`truncated_normal`."""
    compiles: ClassVar[bool] = False  # compile_sampler compiles whole samplers (JAX, TensorFlow)
    lazy: bool = False  # arrays are graphs computed when read (dask): diagnostics read them once, on the host
    word_dtype: ClassVar[str] = "uint32"  # 32-bit words of the portable stream; "int32" without uint32 arithmetic
    threaded_fill: ClassVar[bool] = False  # portable chunks may be filled by several Python threads (NumPy)
    switchable_float64: ClassVar[bool] = False  # float64 comes and goes while the process runs (JAX's jax_enable_x64)
    flushes_subnormals: ClassVar[bool] = False  # float32/float64 arithmetic flushes subnormal results to 0 (XLA's CPU and GPU code)
    shift_in: ClassVar[Callable[..., Any] | None] = None  # (a, low, r) -> a; a staticmethod where set
    """``(a, low, r) -> (a << r) | low`` on the portable stream's 32-bit words (``low < 2**r``), written into ``a`` in
    one pass: the last step of a rotation on a mutable backend. ``None``: the framework has no one-pass form, and
    the stream shifts ``a`` in place, then ors ``low`` in (two passes)."""
    narrow_chunk: ClassVar[int | None] = None
    """The most values a float16 or bfloat16 uniform or normal drawn in the work dtype (:meth:`rounds_narrow`) holds
    in it at once: a buffer reused chunk by chunk; ``None``: the whole draw at once."""
    max_sliced_rank: ClassVar[int | None] = None
    """The most axes one basic slice (``a[s0, s1, ...]``) cuts; ``None``: any number. A block of a higher rank is cut
    axis by axis with ``xp.take`` (:func:`unit_init.sampling.region._cut`)."""
    qr_dtype: ClassVar[str | None] = None
    """The real dtype :meth:`qr` computes in whatever its input's (NumPy's ``linalg.qr``: ``"float64"``, complex128 for
    complex input); ``None``: the input's own. The memory guard counts an orthogonal draw's temporaries in it
    (:data:`unit_init.resources.FACTORED`)."""
    rounded_affine: ClassVar[bool] = False
    """:meth:`affine` rounds ``x·scale`` and then ``+ shift`` once each in ``x``'s dtype (no fused multiply-add):
    a uniform scaled by it is monotone in ``U``, so the sampling layer skips its clip where the two extreme
    values of ``U`` land inside the output grid (the portable stream's uniforms, and the native ones where
    :meth:`uniform_between` is not overridden; :func:`unit_init.sampling.entry.confine`)."""

    # --- framework-specific: every backend implements these --------------------------

    def resolve_device(self, device: Any) -> Any:
        """The native device for ``None`` (the default), a portable string or a native object.

        A portable string is read with :func:`~unit_init.backends.devices.device_request`;
        errors come from :func:`~unit_init.backends.devices.unknown_device` and
        :func:`~unit_init.backends.devices.absent_device`.
        """
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

    def uniform_to_transform(self, generator: Any, shape: tuple[int, ...], low: float, high: float, dtype: str, device: Any) -> Any:
        """``U[low, high)`` that is transformed at once (the inverse-CDF truncated normal), so only its law matters, not
        :meth:`uniform_between`'s own values (which the torch drop-ins match); by default :meth:`uniform_between`."""
        return self.uniform_between(generator, shape, low, high, dtype, device)

    def uniform_extremes(self, low: float, high: float, dtype: str, device: Any) -> tuple[float, float] | None:
        """The least and the greatest value an overridden :meth:`uniform_between` can return for ``(low, high)`` in ``dtype`` on ``device``.

        ``None`` (the default): not known, and the sampling layer clips the
        draw to the output grid. A backend whose one-kernel draw is known
        arithmetic says where it ends, and the clip is skipped where both
        ends lie inside (torch on the CPU).
        """
        return None

    def normal_scaled(self, generator: Any, shape: tuple[int, ...], mean: float, std: float, dtype: str, device: Any) -> Any:
        """``mean + std·N(0, 1)``; a backend whose framework draws it in one kernel overrides it."""
        return self.affine(self.normal(generator, shape, dtype, device), std, mean)

    def erfinv(self, x: Any) -> Any:
        """The inverse error function, elementwise (in place where the framework allows).

        Needed only with ``truncation = "inverse_cdf"`` or ``"inverse_cdf_or_rejection"``: the Array-API standard has no ``erfinv``.
        A backend whose arrays are ``mutable`` computes it in place: the memory guard counts no array for it there
        (:data:`unit_init.resources.INVERTED`).
        """
        raise NotImplementedError

    def truncated_normal(self, generator: Any, shape: tuple[int, ...], low: float, high: float, dtype: str, device: Any) -> Any:
        """The framework's own ``N(0, 1)`` conditioned on ``[low, high]``, for finite bounds on either side of 0.

        Needed only with ``truncation = "native"``.
        """
        raise NotImplementedError

    def owns(self, array: Any) -> bool:
        """Whether ``array`` is one of this backend's arrays: how ``like=`` finds its backend (:func:`~unit_init.backends.registry.backend_for_array`).

        Checked without importing anything the array's own type does not already need.
        """
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

    def quiet_underflow(self) -> contextlib.AbstractContextManager[Any] | None:
        """A context in which the draw's arithmetic does not signal underflow, entered around every plan, portable
        draw, and native draw whose arithmetic can round to a subnormal number (:func:`quietly`); ``None``: nothing
        to quiet.

        A value or intermediate that rounds to a subnormal number is correct
        rounding, not an error, but NumPy raises ``FloatingPointError`` for it
        under ``np.seterr(under="raise")`` (a float16 draw). A backend that
        quiets is taken to draw from generators whose non-zero values are at
        least 2⁻⁶⁴ in magnitude, as NumPy's are: the sampling layer skips the
        context where a draw only scales them by a large enough factor
        (:func:`unit_init.sampling.entry.planned`).
        """
        return None

    def numerics(self) -> Any:
        """A NumPy-like namespace that computes on this backend's arrays (``matmul``, ``std``, ``tensordot``, …).

        ``xp`` by default; a backend whose ``xp`` holds only what drawing needs
        returns a fuller one (TensorFlow: ``tf.experimental.numpy``). Used with
        :meth:`placement` by :mod:`unit_init.diagnostics.network`.
        """
        return self.xp

    def free_bytes(self, device: Any) -> int | None:
        """The bytes still free on ``device``, as its framework reports them (``None``: unknown or unlimited).

        Defaults to the host's (:func:`unit_init.backends.host.host_free_bytes`);
        backends with accelerators ask their framework. The memory guard
        (:mod:`unit_init.resources`) compares each draw's estimate with it.
        """
        return host_free_bytes()

    def memory_pool(self, device: Any) -> Hashable:
        """What :meth:`free_bytes` of ``device`` reports on: ``"host"`` where it is the host's free memory, which every
        device that reports it shares (a sharded draw counts its shards there together), else the device itself."""
        return "host"

    def allocates(self, device: Any) -> bool:
        """Whether a draw on ``device`` allocates its array as it runs, so the memory guard (:mod:`unit_init.resources`)
        checks it, also against ``UNIT_INIT_MAX_BYTES``: not while JAX traces (``jax.jit``, ``jax.eval_shape``: XLA
        sizes the compiled program, and a result laid out by ``out_shardings`` is never whole on one device)."""
        return True

    def rounds_narrow(self, dtype: str, device: Any) -> bool:
        """Whether :meth:`uniform`, :meth:`uniform_between`, :meth:`normal` and :meth:`normal_scaled` in the narrow
        float ``dtype`` give, on ``device``, the values of the same draws in the work dtype rounded once to ``dtype``,
        leaving the generator where they leave it: a uniform or normal law is then drawn in ``dtype`` itself. ``False``
        by default."""
        return False

    def receives(self, shape: tuple[int, ...], dtype: str, device: Any, *, strided: bool = False) -> bool:
        """Whether a draw of ``shape`` and ``dtype`` on ``device`` writes its values into an array that exists already
        (torch's :func:`~unit_init.backends.torch_backend.drawing_into`), so its output takes no new memory and the
        memory guard (:mod:`unit_init.resources`) does not count it; a constant's values (:meth:`full`) and an
        identity matrix's (:meth:`eye`) are then written there with nothing beside them, whatever its strides
        (``strided``: such a fill asks). ``False`` by default: every draw allocates its output."""
        return False

    def holds_values(self, device: Any) -> bool:
        """Whether arrays on ``device`` hold values (torch's ``"meta"`` holds only shapes and dtypes): a law computed on
        the host (the STFT basis) is not computed for a device that would keep none of it."""
        return True

    def block_streams(self, generator: Any, count: int, device: Any) -> list[Any] | None:
        """``count`` independent generators seeded from ``generator`` (which advances), one per block of a large draw.

        ``None`` (the default) where large draws on ``device`` are not split
        into blocks (see :mod:`unit_init.sampling.blocks`).
        """
        return None

    def compile_sampler(self, sample: Callable[[Any], Any], kind: type, device: Any, size: int = 0) -> Callable[[Any], Any] | None:
        """``sample(generator) -> values`` compiled, for generators of type ``kind``, into one function of the generator.

        Called (once per law, shape, dtype and device) only where ``compiles``
        is true; ``None`` where this kind of generator cannot be compiled
        (a stateful ``tf.random.Generator``) or the sampler cannot be traced.
        ``size``: the values each call draws.
        """
        return None

    def compiled(self, kernel: Callable[..., Any], device: Any, size: int) -> Callable[..., Any]:
        """A pure function of arrays, ready to run repeatedly on ``device`` (JAX compiles it; others run it as is).

        ``size`` counts the values of the whole draw the kernel computes a block of.
        """
        return kernel

    def to_numpy(self, array: Any) -> Any:
        """A NumPy copy of ``array`` (for tests and diagnostics)."""
        import numpy as np

        return np.asarray(array)

    def split_seed(self, seed: Any, count: int) -> tuple[Any, ...]:
        """``count`` seeds for separate draws (a layer's weight and bias) from one native seed object of this backend.

        The default gives the same generator ``count`` times: a stateful
        generator advances on each draw, so the draws differ. A backend whose
        keys are values (JAX) splits them.
        """
        return (seed,) * count

    def sharded(self, shape: tuple[int, ...], layout: Any, shard: Callable[[Any, Any], Callable[[], Any]]) -> Any:
        """The global array of ``shape`` laid out by ``layout``, each shard made on its own device.

        ``layout`` is the framework's description of the sharding (a
        ``jax.sharding.Sharding``; a torch ``(device_mesh, placements)``).
        ``shard(device, block)``, with ``block`` the shard's index into the
        global array, checks that shard and returns a function that draws it:
        call ``shard`` for every shard of this process before drawing any, so
        a shard refused on its own device leaves nothing drawn and no seed
        taken. The default refuses: the backend builds no sharded arrays.
        """
        msg = f"the {self.name} backend builds no sharded arrays; sharding= needs jax, device_mesh= needs torch."
        raise ParameterError(msg)

    # --- generic: written once over ``xp``, overridden where a framework is faster ---

    def full(self, shape: tuple[int, ...], value: float, dtype: str, device: Any) -> Any:
        return self.xp.full(shape, value, dtype=self.dtype_on(dtype, device), device=device)

    def eye(self, rows: int, cols: int, value: float, dtype: str, device: Any) -> Any:
        identity = self.xp.eye(rows, cols, dtype=self.dtype_on(dtype, device), device=device)
        if value == 1:
            return identity
        if dtype == "bool":  # value 0, the only other a bool holds: a product would promote it to an integer
            return self.full((rows, cols), 0, dtype, device)
        return identity * value

    def affine(self, x: Any, scale: float, shift: float) -> Any:
        """``x * scale + shift``."""
        return x * scale + shift

    def cast(self, x: Any, dtype: str) -> Any:
        return self.xp.astype(x, self.native_dtype(dtype))

    def clip(self, x: Any, low: float, high: float) -> Any:
        return self.xp.clip(x, low, high)

    def to_complex(self, real: Any, imag: Any, dtype: str) -> Any:
        """``real + i·imag`` as the complex ``dtype``, from two arrays of its real dtype (the parts a complex law draws)."""
        return self.cast(real, dtype) + self.cast(imag, dtype) * 1j

    def smallest(self, keys: Any, count: int, axis: int) -> Any:
        """The mask of the ``count`` smallest of ``keys`` along ``axis`` (ties: the first by index): their ranks, by
        ``xp.argsort`` of ``xp.argsort``, below ``count``; exactly ``count`` ``True`` in each line along ``axis``."""
        ranks = self.xp.argsort(self.xp.argsort(keys, axis=axis), axis=axis)
        return ranks < count

    def qr(self, x: Any) -> tuple[Any, Any]:
        """Reduced QR of a (batch of) matrices with at least as many rows as columns: the namespace's ``linalg.qr``.

        :class:`~unit_init.BackendError` where the namespace has no ``linalg``
        extension (or it is disabled: ``array_api_strict``'s flags).
        """
        qr = getattr(getattr(self.xp, "linalg", None), "qr", None)
        if qr is None:
            msg = f"this initializer needs a QR decomposition (linalg.qr), which the {self.name} backend's namespace lacks or has disabled; draw on another backend."
            raise BackendError(msg)
        q, r = qr(x)
        return q, r


_R = TypeVar("_R")


def quietly(backend: Backend, function: Callable[..., _R], *arguments: Any, **keywords: Any) -> _R:
    """``function(*arguments, **keywords)``, inside ``backend.quiet_underflow`` where the backend has one."""
    quiet = backend.quiet_underflow()
    if quiet is None:
        return function(*arguments, **keywords)
    with quiet:
        return function(*arguments, **keywords)


def check_declared(backend: Backend) -> None:
    """:class:`BackendError` where ``backend`` declares a ``truncation`` that is none of :data:`TRUNCATIONS`, or one whose
    primitive it lacks: ``"inverse_cdf"``/``"inverse_cdf_or_rejection"`` need :meth:`~Backend.erfinv`, ``"native"``
    :meth:`~Backend.truncated_normal`, ``"host"`` a ``host`` backend and an ``on_device(make, dtype, device)`` transfer
    (the Array-API backend's). Asked of a plugin when it is loaded, before any draw meets the gap."""
    truncation, named = plain_text(backend.truncation), f"backend {abbreviate(getattr(backend, 'name', type(backend).__name__))}"
    if not isinstance(truncation, str) or truncation not in TRUNCATIONS:
        msg = f"{named} declares truncation={abbreviate(truncation)}; accepted: {', '.join(map(repr, TRUNCATIONS))}."
        raise BackendError(msg)
    needs = {"inverse_cdf": "erfinv", "inverse_cdf_or_rejection": "erfinv", "native": "truncated_normal"}.get(truncation)
    if needs is not None and getattr(type(backend), needs) is getattr(Backend, needs):
        msg = f"{named} declares truncation={truncation!r}, which draws with its {needs}(), and does not implement it."
        raise BackendError(msg)
    if truncation == "host" and not (isinstance(getattr(backend, "host", None), Backend) and callable(getattr(backend, "on_device", None))):
        msg = (f"{named} declares truncation='host', which draws on its `host` backend (a Backend) and moves the values "
               "with its on_device(make, dtype, device); it has not both.")
        raise BackendError(msg)


def lacking(backend: Backend, error: AttributeError, purpose: str) -> BackendError | None:
    """The :class:`~unit_init.BackendError` for ``error`` where it is a function ``backend``'s namespace lacks
    (pydata sparse has no ``arange``, no ``count_nonzero``), naming it and ``purpose``; ``None`` for any other error."""
    if backend.xp is None or getattr(error, "obj", None) is not backend.xp:
        return None
    needed = f"the dtype {error.name}" if error.name in (*FLOAT_DTYPES, *INTEGER_DTYPES, *COMPLEX_DTYPES) else f"{error.name}()"
    msg = (
        f"{purpose} on the {backend.name} backend needs {needed} from its Array-API namespace, which it lacks; "
        "use another backend (e.g. backend='numpy') and convert."
    )
    return BackendError(msg)
