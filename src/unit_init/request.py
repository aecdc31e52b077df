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
fan_in, fan_out    ``None`` or a finite number > 0
rng                ``"native"`` or ``"portable"``
region             ``None`` or a block of the shape (:class:`~unit_init.portable.Block`)
=================  ==============================================================

**Representability.** With a float output dtype, the distribution's
:meth:`~unit_init.spec.distributions.Distribution.reach` — the largest
magnitude an element can take (a normal's taken to ±40 std) and the largest an
intermediate takes in the work dtype — must not exceed the largest finite value
of the output dtype and of the work dtype (:func:`~unit_init.dtypes.work_dtype`)::

    values ≤ max_finite(dtype)      work ≤ max_finite(work_dtype(dtype))

else :class:`~unit_init.ParameterError` naming the dtype: a result never
holds an inf or a nan that finite parameters did not ask for.

What depends only on hashable arguments (the distribution for a spec, shape,
layout, fans and dtype, its checks, the dtype on the device) is cached, so a
warm call costs a few dictionary look-ups.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import numpy as np

from unit_init.backends.base import Backend
from unit_init.backends.registry import Context, backend_for_array, current_context, get_backend
from unit_init.dtypes import canonical_dtype, is_float, largest_finite, work_dtype
from unit_init.errors import DTypeError, ParameterError, abbreviate, closest
from unit_init.portable.blocks import Block
from unit_init.seeds import normalize_seed, seed_backend
from unit_init.spec._checks import positive
from unit_init.spec.distributions import Distribution
from unit_init.spec.fans import LayoutLike, ShapeLike, normalize_shape, resolve_layout

if TYPE_CHECKING:
    from unit_init.spec.initializer import Initializer

__all__ = ["RNG_MODES", "Request", "Target", "check_geometry", "check_representable", "request", "resolve_target"]

RNG_MODES: Final = ("native", "portable")


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved backend, native device and canonical dtype."""

    backend: Backend
    device: Any
    dtype: str


class Request(NamedTuple):
    """A validated call: what to draw (``distribution`` for the global ``shape``), where, and from which seed.

    ``seed`` is what the backend's generator is built from: for a random
    draw, ``None`` already replaced by the global stream's next seed. A
    named tuple: immutable, and built in a fraction of a frozen dataclass's
    time (one is built per call).
    """

    spec: Initializer
    shape: tuple[int, ...]
    target: Target
    distribution: Distribution
    seed: Any
    rng: str
    region: Any


def resolve_target(
    backend: str | types.ModuleType | Backend | None = None,
    device: Any = None,
    dtype: Any = None,
    like: Any = None,
    seed: Any = None,
) -> Target:
    """Resolve where an array goes; explicit arguments win over ``like=``, which wins over the seed's framework, then the context.

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
        resolved = get_backend(context.backend)
        device = context.device if device is None else device
        dtype = context.dtype if dtype is None else dtype
    native_device = resolved.resolve_device(device)
    try:
        canonical = _checked_dtype(resolved, dtype, native_device)
    except TypeError:  # an unhashable dtype: checked (or rejected) without the cache
        canonical = _checked_dtype.__wrapped__(resolved, dtype, native_device)
    return Target(resolved, native_device, canonical)


def _context_for(seed: Any) -> Context:
    """The innermost context, unless ``seed`` is a native seed object of another framework: then that framework's defaults."""
    context = current_context()
    owner = seed_backend(seed)
    if owner is None or get_backend(owner) is get_backend(context.backend):
        return context
    return Context(owner)


@functools.lru_cache(maxsize=1024)
def _checked_dtype(backend: Backend, dtype: Any, device: Any) -> str:
    """The canonical name of ``dtype``; :class:`DTypeError` where the backend or ``device`` lacks it (cached)."""
    canonical = canonical_dtype(dtype)
    backend.dtype_on(canonical, device)
    return canonical


def _shown(value: object) -> str:
    """``Name(field=value, …)`` of a spec or distribution, each value abbreviated (a spec's unset seed left out)."""
    if not dataclasses.is_dataclass(value):
        return abbreviate(value)
    fields = (f"{f.name}={abbreviate(getattr(value, f.name), 40)}" for f in dataclasses.fields(value))
    return f"{type(value).__name__}({', '.join(field for field in fields if field != 'seed=None')})"


def check_representable(spec: Initializer, distribution: Distribution, dtype: str) -> None:
    """Raise :class:`~unit_init.ParameterError` where ``distribution`` can reach a value beyond ``dtype``'s finite range.

    Compares :meth:`~unit_init.spec.distributions.Distribution.reach` with
    :func:`~unit_init.dtypes.largest_finite` of the output dtype (the values)
    and of the work dtype (the intermediates); integer dtypes are checked where
    they are filled.

    Examples
    --------
    >>> import unit_init as ui
    >>> spec = ui.Constant(1e5)
    >>> check_representable(spec, spec.distribution_for(()), "float16")
    Traceback (most recent call last):
    ...
    unit_init.errors.ParameterError: Constant(value=100000.0) cannot be drawn in dtype='float16': its values reach 100000 (drawn as Constant(value=100000.0)), beyond float16's largest finite value 65504. Choose smaller parameters or a wider dtype.
    """
    if not is_float(dtype):
        return
    values, work = distribution.reach()
    for what, amount, kind in (("values", values, dtype), ("intermediates", work, work_dtype(dtype))):
        if not amount <= largest_finite(kind):  # also refuses a nan reach
            msg = (
                f"{_shown(spec)} cannot be drawn in dtype={dtype!r}: its {what} reach {amount:.6g} "
                f"(drawn as {_shown(distribution)}), beyond {kind}'s largest finite value {largest_finite(kind):.6g}. "
                "Choose smaller parameters or a wider dtype."
            )
            raise ParameterError(msg)


def _check_layout(shape: tuple[int, ...], layout: LayoutLike) -> None:
    """The layout, and that its axes exist in ``shape`` (a rank below 2 has no layout axes)."""
    layout_of = resolve_layout(layout)
    if len(shape) >= 2:
        layout_of.axes(len(shape))


def _checked_call(
    spec: Initializer, shape: ShapeLike, rng: str, fan_in: float | None, fan_out: float | None
) -> tuple[int, ...]:
    """The shape validated for ``spec``, the rng mode and the fan overrides (``None`` or finite and > 0).

    The fans are checked here, not in the cache: ``True`` would hit the entry of ``1``.
    """
    dims = normalize_shape(shape)
    spec.check_shape(dims)
    if fan_in is not None:
        positive("fan_in", fan_in)
    if fan_out is not None:
        positive("fan_out", fan_out)
    if not isinstance(rng, str) or rng not in RNG_MODES:
        shown = rng[:64] if isinstance(rng, str) else ""
        msg = f"rng={abbreviate(rng)} is not available; accepted: {', '.join(map(repr, RNG_MODES))}.{closest(shown, RNG_MODES)}"
        raise ParameterError(msg)
    return dims


def check_geometry(
    spec: Initializer, shape: ShapeLike, *, layout: LayoutLike, fan_in: float | None, fan_out: float | None, rng: str
) -> tuple[int, ...]:
    """What a sharded draw checks before its shards: the shape, rng, layout and fans (each shard is a full :func:`request`)."""
    dims = _checked_call(spec, shape, rng, fan_in, fan_out)
    _check_layout(dims, layout)
    return dims


def _resolve(
    spec: Initializer,
    shape: tuple[int, ...],
    layout: LayoutLike,
    fan_in: float | None,
    fan_out: float | None,
    dtype: str,
    finite: bool,
) -> Distribution:
    """The distribution ``spec`` draws for ``shape``, with the layout checked even where the spec ignores it."""
    _check_layout(shape, layout)
    found: object = spec.distribution_for(shape, layout=layout, fan_in=fan_in, fan_out=fan_out)
    if not isinstance(found, Distribution):
        msg = f"{_shown(spec)} gave {abbreviate(found)} for shape {shape}, which is not a Distribution (check its family)."
        raise ParameterError(msg)
    distribution = found
    if distribution.random and not is_float(dtype):
        msg = f"{type(spec).__name__} draws random values and needs a float dtype, not dtype={dtype!r}; use float16, bfloat16, float32 or float64."
        raise DTypeError(msg)
    if finite:
        check_representable(spec, distribution, dtype)
    return distribution


_resolve_cached = functools.lru_cache(maxsize=4096)(_resolve)


def _checked_seed(seed: Any, target: Target, random: bool) -> Any:
    """The seed to draw from, validated also for a deterministic draw.

    Only a random draw replaces ``None`` by the global stream's next seed and
    advances a Keras ``SeedGenerator``; a native generator or key is left to
    the drawing backend, which accepts its own and raises :class:`~unit_init.SeedError` for anything else.
    """
    name = target.backend.name
    if random:
        seed = normalize_seed(seed, name)
    elif isinstance(seed, (int, np.integer)):
        normalize_seed(seed)  # the range (and bools): an int consumes nothing
    if seed is not None and not isinstance(seed, (int, np.integer)) and seed_backend(seed) != name:
        target.backend.generator(seed, target.device)
    return seed


def request(
    spec: Initializer,
    shape: ShapeLike,
    *,
    backend: str | types.ModuleType | Backend | None = None,
    device: Any = None,
    dtype: Any = None,
    seed: Any = None,
    layout: LayoutLike = None,
    like: Any = None,
    fan_in: float | None = None,
    fan_out: float | None = None,
    rng: str = "native",
    region: Any = None,
    finite: bool = True,
) -> Request:
    """Validate one call's arguments into a :class:`Request` (see the module docstring for what is accepted).

    ``finite=False`` skips the representability check (for drop-ins that
    follow a framework which returns inf). A random draw's seed is taken
    from the global stream last, so a refused call consumes nothing.

    Examples
    --------
    >>> import unit_init as ui
    >>> r = request(ui.HeNormal(), (256, 128), seed=0)
    >>> r.shape, r.target.dtype, r.distribution.std > 0
    ((256, 128), 'float32', True)
    >>> request(ui.Zeros(), (4,), seed="abc")
    Traceback (most recent call last):
    ...
    unit_init.errors.SeedError: seed='abc' is not a seed for the numpy backend; pass an int, None or a numpy.random.Generator.
    """
    dims = _checked_call(spec, shape, rng, fan_in, fan_out)
    given = spec.seed if seed is None else seed
    target = resolve_target(backend, device, dtype, like, given)
    try:
        distribution = _resolve_cached(spec, dims, layout, fan_in, fan_out, target.dtype, finite)
    except TypeError:  # an unhashable layout or fan override: resolve without the cache
        distribution = _resolve(spec, dims, layout, fan_in, fan_out, target.dtype, finite)
    if region is not None:
        Block.of(dims, region)
    return Request(spec, dims, target, distribution, _checked_seed(given, target, distribution.random), rng, region)
