"""From a call's arguments to a native array: the one path every initializer takes.

1. validate the shape and check the initializer accepts its rank;
2. resolve backend, device and dtype (explicit argument, else ``like=``,
   else the framework of a native seed object, else the innermost
   :func:`unit_init.use_backend`, else the defaults);
3. resolve the concrete distribution from the spec (cached per spec, shape,
   layout and fans);
4. build the backend's generator from the seed and let the distribution
   sample itself on the backend — or, for ``rng="portable"`` and ``region=``,
   a portable stream for the block (:mod:`unit_init.portable`); ``sharding=``
   and ``device_mesh=`` draw each shard that way where it lives.
"""

from __future__ import annotations

import functools
import math
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unit_init.backends.base import Backend
from unit_init.backends.registry import Context, backend_for_array, current_context, get_backend
from unit_init.dtypes import canonical_dtype, is_float
from unit_init.errors import DTypeError, ParameterError, closest
from unit_init.portable.draw import draw_block
from unit_init.seeds import normalize_seed, seed_backend
from unit_init.spec.distributions import Distribution, Draw
from unit_init.spec.fans import LayoutLike, ShapeLike, normalize_shape

if TYPE_CHECKING:
    from unit_init.spec.initializer import Initializer

__all__ = ["RNG_MODES", "Target", "draw", "resolve_target"]

RNG_MODES = ("native", "portable")


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved backend, native device and canonical dtype."""

    backend: Backend
    device: Any
    dtype: str


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


@functools.lru_cache(maxsize=4096)
def _distribution(
    spec: Initializer, shape: tuple[int, ...], layout: LayoutLike, fan_in: float | None, fan_out: float | None
) -> Distribution:
    return spec.distribution_for(shape, layout=layout, fan_in=fan_in, fan_out=fan_out)


def draw(
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
    sharding: Any = None,
    device_mesh: Any = None,
    placements: Any = None,
) -> Any:
    """Draw ``spec`` for ``shape`` as a native array (see :meth:`Initializer.__call__`)."""
    dims = normalize_shape(shape)
    spec.check_shape(dims)
    if rng not in RNG_MODES:
        msg = f"rng={rng!r} is not available; accepted: {', '.join(map(repr, RNG_MODES))}.{closest(str(rng), RNG_MODES)}"
        raise ParameterError(msg)
    if sharding is not None or device_mesh is not None or placements is not None:
        from unit_init.portable.sharding import draw_sharded

        return draw_sharded(
            spec, dims, backend=backend, device=device, dtype=dtype, seed=spec.seed if seed is None else seed,
            layout=layout, like=like, fan_in=fan_in, fan_out=fan_out, rng=rng, region=region,
            sharding=sharding, device_mesh=device_mesh, placements=placements,
        )
    given = spec.seed if seed is None else seed
    target = resolve_target(backend, device, dtype, like, given)
    try:
        distribution = _distribution(spec, dims, layout, fan_in, fan_out)
    except TypeError:  # an unhashable layout or fan override: resolve without the cache
        distribution = spec.distribution_for(dims, layout=layout, fan_in=fan_in, fan_out=fan_out)
    if distribution.random and not is_float(target.dtype):
        msg = f"{type(spec).__name__} draws random values and needs a float dtype, not dtype={target.dtype!r}; use float16, bfloat16, float32 or float64."
        raise DTypeError(msg)
    if rng == "portable" or region is not None:
        return draw_block(
            target.backend, distribution, type(spec).__name__, dims, region,
            seed=given, rng=rng, dtype=target.dtype, device=target.device,
        )
    if math.prod(dims) == 0:
        return target.backend.full(dims, 0, target.dtype, target.device)
    if distribution.random:
        generator = target.backend.generator(normalize_seed(given, target.backend.name), target.device)
    else:
        generator = None
    return target.backend.sample(distribution, Draw(dims, target.dtype, target.device, generator))
