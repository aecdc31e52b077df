"""One validated request per call: every argument checked before anything is allocated.

:func:`request` turns a call's arguments into a frozen :class:`Request`, and
:func:`unit_init.drawing.draw` draws from nothing else. Every argument is
validated on every call, also one the initializer does not use
(``zeros(seed="abc")`` is a :class:`~unit_init.SeedError`):

=================  ==============================================================
argument           accepted
=================  ==============================================================
shape              an int or an ordered sequence of non-negative ints (also a 1-D
                   integer array), rank at most :data:`~unit_init.spec.fans.MAX_RANK`
                   and at least the initializer's
backend, device,   resolved by the backend (:func:`resolve_target`); the dtype must be
dtype, like        one the device holds, and a float for random initializers
seed               ``None``, an int in ``[0, 2**63 − 1]``, or a generator/key the
                   drawing backend accepts
layout             a layout name or a :class:`~unit_init.Layout` whose axes exist
fan_in, fan_out    ``None`` or a finite number >= 1 (read by its value)
rng                ``"native"`` or ``"portable"``
region             ``None`` or a block of the shape (:class:`~unit_init.portable.Block`)
=================  ==============================================================

**Representability.** With a float output dtype, the distribution's
:meth:`~unit_init.spec.distributions.Distribution.reach` — the largest
magnitude an element can take (a normal's taken to ±40 std) and the largest an
intermediate takes in the work dtype — must round to a finite value of the
output dtype, that is lie below the magnitude it rounds to infinity
(:func:`~unit_init.dtypes.overflow_threshold`: 65520 in float16, whose largest
finite value is 65504), and be a finite value of the work dtype
(:func:`~unit_init.dtypes.work_dtype`; computed with, as torch's ``uniform_``
checks its width; a constant's or an identity's value, only stored, as its values)::

    values < overflow(dtype)      work ≤ max_finite(work_dtype(dtype))

else :class:`~unit_init.ParameterError` naming the dtype: a result never
holds an inf or a nan that finite parameters did not ask for.

**The plan.** What depends only on hashable arguments — the rank check, the
layout, the dtype on the device, the distribution for the spec, shape,
layout and fans, its float and representability checks — is resolved once
into a cached :class:`Plan` per (spec, shape, layout, fans, backend, device,
dtype); a warm call normalizes the shape, checks the fans, rng, region and
seed, resolves the backend and device, and looks the plan up. An argument
that cannot be hashed (a list as layout or dtype) is resolved without the
cache, by the same code (:func:`~unit_init.spec._checks.hashable` says which).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol, TypeVar

import numpy as np

from unit_init.backends.base import Backend, quietly
from unit_init.backends.registry import Context, backend_for_array, current_context, get_backend
from unit_init.dtypes import (
    canonical_dtype,
    is_complex,
    is_float,
    largest_finite,
    overflow_threshold,
    real_dtype,
    smallest_normal,
    smallest_resolved,
    smallest_subnormal,
    work_dtype,
)
from unit_init.errors import (
    BackendError,
    BackendUnavailableError,
    DeviceError,
    DTypeError,
    ParameterError,
    SeedError,
    UnitInitError,
    abbreviate,
    closest,
)
from unit_init.portable.blocks import Block, check_addressable
from unit_init.portable.stream import check_resolved
from unit_init.progress import wanted
from unit_init.sampling import planned
from unit_init.sampling.blocks import PROGRESS_MIN
from unit_init.sampling.region import check_fits, check_region_stream
from unit_init.seeds import call_seed, is_keras_seed, normalize_seed, seed_backend
from unit_init.spec._checks import hashable, plain_text
from unit_init.spec.complex_laws import complex_law
from unit_init.spec.distributions import (
    Distribution,
    Gaussian,
    SparseNormal,
    TruncatedGaussian,
    Uniform,
    truncated_standard_normal_moments,
)
from unit_init.spec.fans import LayoutLike, ShapeLike, fan_override, normalize_shape, resolve_layout
from unit_init.spec.options import Options

if TYPE_CHECKING:
    import types

__all__ = [
    "RNG_MODES", "Plan", "Request", "Spec", "Target", "check_geometry", "check_representable", "request",
    "resolve_target",
]

RNG_MODES: Final = ("native", "portable")

T = TypeVar("T")


class Spec(Protocol):
    """What a draw needs of an initializer (every :class:`unit_init.Initializer` is one); hashable."""

    @property
    def seed(self) -> int | None: ...

    @property
    def random(self) -> bool: ...

    def check_shape(self, shape: tuple[int, ...]) -> None: ...

    def distribution_for(
        self, shape: ShapeLike, *, layout: LayoutLike = None, fan_in: float | None = None, fan_out: float | None = None
    ) -> Distribution: ...


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved backend, native device and canonical dtype."""

    backend: Backend
    device: Any
    dtype: str


class Plan(NamedTuple):
    """What a call resolves once per (spec, shape, layout, fans, backend, device, dtype): where to draw, what, and how.

    ``sampler`` is the native draw as a function of the backend's generator
    (:func:`unit_init.sampling.planned`): the law's sampler, its confinement
    bounds, block and compile decisions taken once.
    """

    target: Target
    distribution: Distribution
    sampler: Callable[[Any], Any]


class Request(NamedTuple):
    """A validated call: what to draw (``distribution`` for the global ``shape``), where, and from which seed.

    ``seed`` is what the backend's generator is built from: for a random
    draw, ``None`` already replaced by the global stream's next seed. A
    named tuple: immutable, and built in a fraction of a frozen dataclass's
    time (one is built per call).
    """

    spec: Spec
    shape: tuple[int, ...]
    target: Target
    distribution: Distribution
    seed: Any
    rng: str
    region: Any
    sampler: Callable[[Any], Any]


def _cached(function: functools._lru_cache_wrapper[T], *key: Any) -> T:
    """``function(*key)``, from its cache where every argument is hashable, else computed afresh.

    The cache is asked first: only where it raises is the key tested, so a
    warm call hashes it once, and an error of ``function`` itself (a
    :class:`~unit_init.DTypeError`) is raised as it is. The caches are typed
    (``lru_cache(typed=True)``): an argument equal to and hashing like another
    of a different type (``dtype=1`` and ``tf.float32``) never answers for it.
    """
    try:
        return function(*key)
    except Exception:
        if hashable(key):  # raised by function, not by the cache
            raise
    return function.__wrapped__(*key)


def _where(
    backend: str | types.ModuleType | Backend | None, device: Any, dtype: Any, like: Any, seed: Any
) -> tuple[Backend, Any, Any]:
    """The backend, native device and dtype (as given) of a call; explicit arguments win over ``like=``, which wins over the seed's framework, then the context.

    A native seed object (:func:`~unit_init.seeds.seed_backend`) selects its
    own backend where neither ``backend=`` nor ``like=`` is given; the
    context's device and dtype still apply when the context names that backend.
    """
    if like is not None:
        owner = backend_for_array(like)
        resolved = get_backend(backend) if backend is not None else owner
        if resolved is owner:
            device = owner.device_of(like) if device is None else device
        dtype = owner.dtype_of(like) if dtype is None else dtype
    elif backend is not None:
        resolved = get_backend(backend)
    else:
        context = _context_for(seed)
        resolved = context.backend_resolved()
        device = context.device if device is None else device
        dtype = context.dtype if dtype is None else dtype
    try:
        native = resolved.resolve_device(device)
    except (TypeError, ValueError) as error:  # no context manager on the hot path
        if isinstance(error, UnitInitError):  # a built-in backend's refusal, typed already
            raise
        raise _typed(DeviceError, f"device={abbreviate(device)} is not a device of the {resolved.name} backend", error) from error
    return resolved, native, dtype


def resolve_target(backend: str | types.ModuleType | Backend | None = None, device: Any = None, dtype: Any = None) -> Target:
    """Resolve where an array goes (see :func:`_where`; no ``like=`` or seed to infer it from), with the dtype checked on the device.

    Examples
    --------
    >>> resolve_target("numpy", dtype="float64").dtype
    'float64'
    """
    resolved, native_device, given = _where(backend, device, dtype, None, None)
    target = Target(resolved, native_device, _cached(_checked_dtype, resolved, given, native_device))
    _check_wide_dtype(target)
    return target


def _context_for(seed: Any) -> Context:
    """The innermost context, unless ``seed`` is a native seed object of another framework: then that framework's defaults."""
    context = current_context()
    owner = seed_backend(seed)
    if owner is None:
        return context
    try:
        same = get_backend(owner) is context.backend_resolved()
    except (BackendError, BackendUnavailableError):  # UNIT_INIT_BACKEND names no usable backend (unknown, or not installed): the seed's own framework decides, as over a valid one
        same = False
    return context if same else Context(owner)


_SWITCHABLE: Final = frozenset({"float64", "complex128", "int64", "uint64"})
"""Dtypes a backend may gain or lose while the process runs (JAX's ``jax_enable_x64``), so a cached check is not enough."""


def _check_wide_dtype(target: Target) -> None:
    """Ask the backend again for a 64-bit dtype: the cached answer (a plan's) may predate a switch of JAX's 64-bit mode."""
    if target.dtype in _SWITCHABLE:
        target.backend.dtype_on(target.dtype, target.device)


@functools.lru_cache(maxsize=1024, typed=True)
def _checked_dtype(backend: Backend, dtype: Any, device: Any) -> str:
    """The canonical name of ``dtype``; :class:`DTypeError` where the backend or ``device`` lacks it (cached)."""
    canonical = canonical_dtype(dtype)
    with _refused_as(DTypeError, f"dtype={canonical!r} is not available on the {backend.name} backend"):
        backend.dtype_on(canonical, device)
    return canonical


@contextlib.contextmanager
def _refused_as(error_type: type[UnitInitError], refusal: str) -> Iterator[None]:
    """A plugin backend's refusal in its framework's words (a ``TypeError`` or ``ValueError``) as ``error_type``:
    ``"<refusal> (<its type>: <its message>)."``; the library's own errors pass unchanged."""
    try:
        yield
    except (TypeError, ValueError) as error:
        if isinstance(error, UnitInitError):
            raise
        raise _typed(error_type, refusal, error) from error


def _typed(error_type: type[UnitInitError], refusal: str, error: Exception) -> UnitInitError:
    """A plugin's ``error`` in its own words as ``error_type``: ``"<refusal> (<its type>: <its message>)."``."""
    return error_type(f"{refusal} ({type(error).__name__}: {error}).")


def _shown(value: object) -> str:
    """``Name(field=value, …)`` of a spec or distribution, each value abbreviated (a spec's unset seed left out)."""
    if not dataclasses.is_dataclass(value):
        return abbreviate(value)
    fields = (f"{f.name}={abbreviate(getattr(value, f.name), 40)}" for f in dataclasses.fields(value))
    return f"{type(value).__name__}({', '.join(field for field in fields if field != 'seed=None')})"


def check_representable(spec: Spec, distribution: Distribution, dtype: str, *, flushes: bool = False) -> None:
    """Raise :class:`~unit_init.ParameterError` where ``distribution`` can reach a value beyond ``dtype``'s finite range.

    Compares :meth:`~unit_init.spec.distributions.Distribution.reach` with
    :func:`~unit_init.dtypes.overflow_threshold` of the output dtype (the values)
    and of the work dtype (the intermediates); integer dtypes are checked where
    they are filled. A random law whose values all round to 0 is refused too
    (reaching below half the smallest subnormal number), and, where the backend
    ``flushes`` subnormal results (JAX, TensorFlow), one whose typical
    magnitude (:func:`_typical_magnitude`) lies below the work dtype's smallest normal number.

    Examples
    --------
    >>> import unit_init as ui
    >>> spec = ui.Constant(1e5)
    >>> check_representable(spec, spec.distribution_for(()), "float16")
    Traceback (most recent call last):
    ...
    unit_init.errors.ParameterError: Constant(value=100000.0) cannot be drawn in dtype='float16': its values reach 100000 (drawn as PointMass(value=100000.0)), beyond float16's largest finite value 65504, so they round to inf. Choose smaller parameters or a wider dtype.
    """
    if not is_float(real_dtype(dtype)):  # a complex dtype: the modulus against its parts' range
        return
    values, work = distribution.reach()
    stored = values < overflow_threshold(real_dtype(dtype))  # stored: what rounds to a finite value is one
    computed = work <= largest_finite(work_dtype(dtype)) or (not distribution.random and work == values and stored)  # a constant's only stored
    checks = (("values", values, real_dtype(dtype), stored), ("intermediates", work, work_dtype(dtype), computed))
    for what, amount, kind, finite in checks:
        if not finite:  # also a nan reach
            msg = (
                f"{_shown(spec)} cannot be drawn in dtype={dtype!r}: its {what} reach {amount:.6g} "
                f"(drawn as {_shown(distribution)}), beyond {kind}'s largest finite value {largest_finite(kind):.6g}"
                f"{', so they round to inf' if what == 'values' else ''}. Choose smaller parameters or a wider dtype."
            )
            raise ParameterError(msg)
    if distribution.random and 0 < values < smallest_subnormal(real_dtype(dtype)) / 2:
        msg = (
            f"{_shown(spec)} cannot be drawn in dtype={dtype!r}: its values reach only {values:.3g} "
            f"(drawn as {_shown(distribution)}), so every one would round to 0. Choose larger parameters or a wider dtype."
        )
        raise ParameterError(msg)
    normal = smallest_normal(work_dtype(real_dtype(dtype)))
    if flushes and distribution.random and 0 < _typical_magnitude(distribution, values) < normal:
        msg = (
            f"{_shown(spec)} cannot be drawn in dtype={dtype!r} on this backend: its values are mostly below {normal:.3g} "
            f"(drawn as {_shown(distribution)}), subnormal numbers, which the backend's arithmetic flushes to 0. "
            "Choose larger parameters, or draw on NumPy or torch."
        )
        raise ParameterError(msg)
    if isinstance(distribution, TruncatedGaussian) and distribution.high - distribution.low < smallest_resolved(work_dtype(dtype)):
        msg = (
            f"{_shown(spec)} cannot be drawn in dtype={dtype!r}: its interval is {distribution.high - distribution.low:.3g} std wide "
            f"(drawn as {_shown(distribution)}), narrower than {work_dtype(dtype)} resolves in units of std "
            f"({smallest_resolved(work_dtype(dtype)):.3g}). Choose a smaller std or a wider interval."
        )
        raise ParameterError(msg)


def _typical_magnitude(distribution: Distribution, reach: float) -> float:
    """How large a law's values typically are, their root mean square ``√(mean² + std²)`` (of the non-zero values of a
    sparse normal): a truncated normal's with the mean and std of the truncated law (one far from 0 has all its values
    there, whatever its parent's); a law with no known moments: its ``reach``.

    (The reach of a uniform or a truncated normal is its farthest bound, twice the std of a ±2σ one: judged by it,
    ``TruncatedNormal(stddev=1e-38)`` was drawn on JAX as all zeros.)
    """
    if isinstance(distribution, (Gaussian, SparseNormal)):
        return math.hypot(getattr(distribution, "mean", 0.0), distribution.std)
    if isinstance(distribution, Uniform):
        return math.hypot(distribution.low / 2 + distribution.high / 2, distribution.standard_deviation)
    if isinstance(distribution, TruncatedGaussian):
        low, high = distribution.low, distribution.high
        shift = (low + high) / 2 if high - low < 1e-50 else truncated_standard_normal_moments(low, high)[0]
        return math.hypot(distribution.mean + shift * distribution.std, distribution.standard_deviation)
    return reach


def _check_layout(shape: tuple[int, ...], layout: LayoutLike) -> None:
    """The layout, and that its axes exist in ``shape`` (a rank below 2 has no layout axes)."""
    layout_of = resolve_layout(layout)
    if len(shape) >= 2:
        layout_of.axes(len(shape))


def _plain_strings(options: Options) -> Options:
    """``options`` with a ``str`` subclass given as ``backend=``, ``layout=`` or ``rng=`` read as the plain string it
    holds: its own ``__hash__`` or ``__eq__`` (which the registries' look-ups call) may raise or lie."""
    backend, layout, rng = options.backend, options.layout, options.rng
    if type(rng) is str and (type(backend) is str or not isinstance(backend, str)) and (type(layout) is str or not isinstance(layout, str)):
        return options  # the common case, three type checks
    return options._replace(backend=plain_text(backend), layout=plain_text(layout), rng=plain_text(rng))


def _checked_call(shape: ShapeLike, options: Options) -> tuple[tuple[int, ...], float | None, float | None]:
    """The shape normalized, the fan overrides read as floats (``None``, or finite and at least 1:
    :func:`~unit_init.spec.fans.fan_override`) and the rng mode checked: what no cache can answer.

    The fans are read on every call, and the plan is keyed by their float values: ``True`` would hit the plan of ``1``,
    a NumPy scalar is its value, and a hostile ``__hash__`` of a ``float`` subclass is never asked.
    """
    dims = normalize_shape(shape)
    fan_in = None if options.fan_in is None else fan_override("fan_in", options.fan_in)
    fan_out = None if options.fan_out is None else fan_override("fan_out", options.fan_out)
    rng = options.rng
    if not isinstance(rng, str) or rng not in RNG_MODES:
        shown = rng[:64] if isinstance(rng, str) else ""
        msg = f"rng={abbreviate(rng)} is not available; accepted: {', '.join(map(repr, RNG_MODES))}.{closest(shown, RNG_MODES)}"
        raise ParameterError(msg)
    return dims, fan_in, fan_out


def check_geometry(spec: Spec, shape: ShapeLike, options: Options) -> tuple[int, ...]:
    """What a sharded draw checks before its shards: the shape for ``spec``, rng, layout and fans (each shard is a full :func:`request`)."""
    options = _plain_strings(options)
    dims, _, _ = _checked_call(shape, options)
    spec.check_shape(dims)
    _check_layout(dims, options.layout)
    return dims


def _plan(
    spec: Spec,
    shape: tuple[int, ...],
    layout: LayoutLike,
    fan_in: float | None,
    fan_out: float | None,
    backend: Backend,
    device: Any,
    dtype: Any,
) -> Plan:
    """The target and distribution of a call, every check that depends only on these arguments done (cached)."""
    spec.check_shape(shape)
    canonical = _cached(_checked_dtype, backend, dtype, device)
    _check_layout(shape, layout)
    found: object = spec.distribution_for(shape, layout=layout, fan_in=fan_in, fan_out=fan_out)
    if not isinstance(found, Distribution):
        msg = f"{_shown(spec)} gave {abbreviate(found)} for shape {shape}, which is not a Distribution (check its family)."
        raise ParameterError(msg)
    if is_complex(canonical):  # the law's complex form, or a DTypeError naming the spec (docs/complex.md)
        found = complex_law(spec, found)
    if found.random and not is_float(real_dtype(canonical)):
        msg = f"{type(spec).__name__} draws random values and needs a float dtype, not dtype={canonical!r}; use float16, bfloat16, float32 or float64 (or complex64, complex128 where the initializer has a complex form)."
        raise DTypeError(msg)
    check_representable(spec, found, canonical, flushes=backend.flushes_subnormals)
    return Plan(Target(backend, device, canonical), found, quietly(backend, planned, backend, found, shape, canonical, device))


_plan_cached: Final = functools.lru_cache(maxsize=4096, typed=True)(_plan)


def _checked_seed(seed: Any, target: Target, random: bool, portable: bool) -> Any:
    """The seed to draw from, validated also for a deterministic draw.

    Only a random draw replaces ``None`` by the global stream's next seed and
    advances a Keras ``SeedGenerator``; a native generator or key is left to
    the drawing backend, which accepts its own and raises :class:`~unit_init.SeedError` for anything else.
    A random draw builds its generator from an object of its own backend
    later; a deterministic one builds none, so its own kind is checked here
    too (``zeros(seed=<a batch of JAX keys>)`` is refused as ``he_normal``
    refuses it), but for a Keras ``SeedGenerator``, which it leaves as it is.
    """
    name = target.backend.name
    if random:
        seed = normalize_seed(seed, name, portable=portable)
    elif isinstance(seed, (int, np.integer)):
        normalize_seed(seed)  # the range (and bools): an int consumes nothing
    if seed is None or isinstance(seed, (int, np.integer)):
        return seed
    if seed_backend(seed) != name or not (random or is_keras_seed(seed)):
        with _refused_as(SeedError, f"seed={abbreviate(seed)} is not a seed for the {name} backend"):
            target.backend.generator(seed, target.device)
    return seed


def request(spec: Spec, shape: ShapeLike, options: Options = Options()) -> Request:  # noqa: B008 (an immutable default)
    """Validate one call's options into a :class:`Request` (see the module docstring for what is accepted).

    A random draw's seed is taken from the global stream last, so a refused
    call consumes nothing.

    Examples
    --------
    >>> import unit_init as ui
    >>> r = request(ui.HeNormal(), (256, 128), Options(seed=0))
    >>> r.shape, r.target.dtype, r.distribution.std > 0
    ((256, 128), 'float32', True)
    >>> request(ui.Zeros(), (4,), Options(seed="abc"))
    Traceback (most recent call last):
    ...
    unit_init.errors.SeedError: seed='abc' is not a seed for the numpy backend; pass an int, None or a numpy.random.Generator.
    """
    options = _plain_strings(options)
    dims, fan_in, fan_out = _checked_call(shape, options)
    seed = call_seed(options.seed, spec.seed)
    backend, device, dtype = _where(options.backend, options.device, options.dtype, options.like, seed)
    plan = _cached(_plan_cached, spec, dims, options.layout, fan_in, fan_out, backend, device, dtype)
    if options.region is not None:
        Block.of(dims, options.region)
    target, distribution, sampler = plan
    _check_wide_dtype(target)
    check_region_stream(distribution, options.region, options.rng)  # before the stream's seed is taken
    if options.rng == "portable":  # before the memory guard: a larger limit would not help an array it cannot address
        check_addressable(dims)
        if isinstance(distribution, TruncatedGaussian):  # before a whole-model initialize writes
            check_resolved(distribution.low, distribution.high, work_dtype(target.dtype))
    if distribution.random and (seed is None or (type(seed) is not int and is_keras_seed(seed))):  # a stream's seed: only for a draw that fits
        check_fits(target.backend, distribution, dims, options.region, rng=options.rng, dtype=target.dtype, device=target.device)
        if math.prod(dims) >= PROGRESS_MIN:
            wanted()  # UNIT_INIT_PROGRESS, read where a bar may show, refused before the stream's seed is taken
    seed = _checked_seed(seed, target, distribution.random, options.rng == "portable")
    return Request(spec, dims, target, distribution, seed, options.rng, options.region, sampler)
