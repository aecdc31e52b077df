"""From a call's options to a native array: the three paths every initializer takes.

1. validate the call into one :class:`~unit_init.request.Request`
   (:func:`unit_init.request.request`): the shape and the initializer's
   rank, backend, device and dtype (explicit argument, else ``like=``, else
   the framework of a native seed object, else the innermost
   :func:`unit_init.use_backend`, else the defaults), the seed, layout, fans,
   rng and region, and the concrete distribution with its values finite in
   the dtype (one cached plan per spec, shape, layout, fans, backend, device
   and dtype);
2. draw it by one of three paths:

   * **native**: the backend's generator from the seed, and the distribution
     sampled from it by the plan's sampler (:func:`unit_init.sampling.planned`);
   * **region / portable** (``rng="portable"`` or ``region=``): a portable
     stream for the block (:func:`unit_init.sampling.region.draw_block`);
   * **sharded** (``sharding=``, ``device_mesh=``/``placements=``): each
     shard a region drawn where it lives, by the portable path, assembled
     by the backend (:meth:`~unit_init.backends.base.Backend.sharded`); the
     assembled array equals the unsharded portable draw.

Examples
--------
>>> import unit_init as ui
>>> from unit_init.spec.options import Options
>>> draw(ui.HeNormal(), (256, 128), Options(seed=0)).shape
(256, 128)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Final, NamedTuple

from unit_init.backends.base import lacking, quietly
from unit_init.backends.registry import get_backend
from unit_init.dtypes import is_complex, is_float
from unit_init.errors import BackendError, ParameterError, UnitInitError, abbreviate
from unit_init.portable.blocks import Block, RegionLike
from unit_init.request import RNG_MODES, Request, Spec, Target, check_geometry, request, resolve_target
from unit_init.resources import check_allocation, itemsize
from unit_init.sampling.region import check_fits, draw_block
from unit_init.seeds import call_seed, is_keras_seed, normalize_seed, tentative_seed
from unit_init.spec.fans import ShapeLike, normalize_shape
from unit_init.spec.options import Options

__all__ = ["RNG_MODES", "Kept", "Target", "check", "check_shards", "draw", "resolve_target"]

OWN_BACKENDS: Final = "unit_init.backends."
"""The package of unit_init's own backends, whose arrays are returned as drawn; a plugin's are checked (:func:`_check_plugin_output`)."""


def draw(spec: Spec, shape: ShapeLike, options: Options = Options()) -> Any:  # noqa: B008 (an immutable default)
    """Draw ``spec`` for ``shape`` as a native array (see :meth:`unit_init.Initializer.__call__` for the options)."""
    if options.sharded:
        return _sharded(spec, shape, options)
    if not (spec.random and options.seed is None and spec.seed is None):
        return _sample(request(spec, shape, options))
    seed, give_back = tentative_seed()  # given back if the call is refused, also by what only drawing finds
    try:
        return _sample(request(spec, shape, options._replace(seed=seed)))
    except BaseException:
        give_back()
        raise


def check(
    spec: Spec,
    shape: ShapeLike,
    options: Options = Options(),  # noqa: B008 (an immutable default)
    *,
    reserved: Mapping[Hashable, int] | None = None,
    guard: bool = True,
) -> Kept:
    """Every check :func:`draw` makes before it writes, without drawing: the request (shape, seed, backend, device, dtype,
    the law's values representable) and, with ``guard``, the memory guard; the memory pool the output will take, and
    its bytes. ``guard=False`` for a fill that allocates nothing whatever its size: a tensor on torch's ``"meta"``
    (nothing is drawn), or one torch's own ``normal_`` fills in place.

    Whole-model ``initialize`` runs it on every parameter before it writes any,
    so a refused parameter leaves the model as it was; ``reserved`` holds, per
    memory pool, the bytes of the outputs checked before this one that the
    call keeps (:func:`~unit_init.resources.check_bytes`).

    Examples
    --------
    >>> import unit_init as ui
    >>> check(ui.Constant(1e5), (3,), Options(dtype="float16"))
    Traceback (most recent call last):
    ...
    unit_init.errors.ParameterError: Constant(value=100000.0) cannot be drawn in dtype='float16': its values reach 100000 (drawn as PointMass(value=100000.0)), beyond float16's largest finite value 65504, so they round to inf. Choose smaller parameters or a wider dtype.
    """
    call = request(spec, shape, options)
    return _kept(call, call.region, reserved, guard=guard)


def _kept(call: Request, region: RegionLike, reserved: Mapping[Hashable, int] | None, *, guard: bool = True) -> Kept:
    """The pool and bytes of ``call``'s output (its ``region`` of its shape), with ``guard`` checked by the memory guard
    less the bytes ``reserved`` in that pool."""
    target = call.target
    pool = target.backend.memory_pool(target.device)
    if guard:
        check_fits(
            target.backend, call.distribution, call.shape, region, rng=call.rng, dtype=target.dtype, device=target.device,
            reserved=0 if reserved is None else reserved.get(pool, 0),
        )
    output = call.shape if region is None else Block.of(call.shape, region).block_shape
    return Kept(pool, math.prod(output) * itemsize(target.dtype))


class Kept(NamedTuple):
    """The memory pool a checked draw's output will take (:meth:`~unit_init.backends.base.Backend.memory_pool`), and its bytes."""

    pool: Hashable
    bytes: int


def _sample(call: Request) -> Any:
    """Allocate and fill the array of a validated request; a plugin backend's array checked (:func:`_check_plugin_output`).

    A function the backend's namespace lacks (pydata sparse has no ``arange``)
    is a :class:`~unit_init.BackendError` naming it; so is any other exception
    a plugin backend's primitives or namespace raise (a ``normal`` of the wrong
    shape met by a reshape, a ``qr`` that refuses its input): the plugin's fault,
    named, with its exception chained. unit_init's own backends' are raised as
    they are (a bug of ours, which a test should meet as itself).
    """
    backend = call.target.backend
    plugin = not type(backend).__module__.startswith(OWN_BACKENDS)  # a plugin's (also a subclass of ours defined elsewhere)
    try:
        drawn = _filled(call)
        if plugin:
            _check_plugin_output(call, drawn)
    except UnitInitError:
        raise
    except AttributeError as error:
        typed = lacking(backend, error, f"drawing {type(call.spec).__name__}")
        if typed is not None:
            raise typed from None
        if not plugin:
            raise
        raise _plugin_failed(call, error) from error
    except (Exception, SystemExit) as error:  # a plugin primitive's sys.exit() is its failure, not the process's end
        if not plugin or isinstance(error, MemoryError):
            raise
        raise _plugin_failed(call, error) from error
    return drawn


def _plugin_failed(call: Request, error: BaseException) -> BackendError:
    """The :class:`~unit_init.BackendError` of a plugin backend whose primitives or namespace raised ``error``."""
    backend = call.target.backend
    msg = (
        f"backend {backend.name!r} failed drawing {type(call.spec).__name__}: its primitives or namespace raised "
        f"{type(error).__name__} ({abbreviate(str(error), 200)})."
    )
    return BackendError(msg)


def _check_plugin_output(call: Request, drawn: Any) -> None:
    """A :class:`~unit_init.BackendError` where a plugin backend's primitives gave an array of another shape or dtype
    than the request's, or a value that is not finite: a pass over the array, made for plugins only, so that no
    broken third-party primitive hands back a silently wrong array. A traced array (a plugin's draw inside
    ``jax.jit``) has its shape and dtype checked, and its values where they are read."""
    target = call.target
    backend, wanted = target.backend, call.shape if call.region is None else Block.of(call.shape, call.region).block_shape
    name = f"backend {backend.name!r} drew {type(call.spec).__name__}"
    shape = tuple(getattr(drawn, "shape", ()))
    if shape != wanted:
        msg = f"{name} as an array of shape {abbreviate(shape)}, not the {abbreviate(wanted)} requested; its primitives return wrong shapes."
        raise BackendError(msg)
    dtype = backend.dtype_of(drawn)
    if dtype != target.dtype:
        msg = f"{name} as {dtype!r}, not the {target.dtype!r} requested; its primitives return wrong dtypes."
        raise BackendError(msg)
    if not (is_float(dtype) or is_complex(dtype)):
        return
    flag = _finite_flag(backend.xp, drawn, dtype)  # what the namespace raises here is the plugin's (a BackendError)
    try:
        finite = bool(flag)
    except TypeError:  # a traced or symbolic array (inside jax.jit, a tf.function): no values to read yet
        return
    if not finite:
        msg = f"{name} with values that are not finite (nan or inf); its primitives return values outside their laws."
        raise BackendError(msg)


def _finite_flag(xp: Any, array: Any, dtype: str) -> Any:
    """Whether every value of ``array`` is finite, as a 0-d array (``True`` for an empty one): for a real dtype,
    whether its largest and smallest values are (the standard's ``max`` and ``min`` propagate nan): two reductions
    read in one pass of a lazy array's graph, with no temporary of the array's size, which the memory guard does not
    count. A complex ``dtype`` is read by ``isfinite``."""
    if math.prod(array.shape) == 0:
        return True
    if is_complex(dtype):
        return xp.all(xp.isfinite(array))
    return xp.all(xp.isfinite(xp.stack([xp.max(array), xp.min(array)])))


def _filled(call: Request) -> Any:
    """The array of a validated request: the native path, or the region/portable one; underflow quieted (a subnormal
    value is no error), the native path's by its plan where a subnormal can occur (:func:`unit_init.sampling.planned`)."""
    target, distribution, dims = call.target, call.distribution, call.shape
    if call.rng == "portable" or call.region is not None:
        return quietly(
            target.backend, draw_block, target.backend, distribution, type(call.spec).__name__, dims, call.region,
            seed=call.seed, rng=call.rng, dtype=target.dtype, device=target.device,
        )
    held = check_allocation(target.backend, target.device, dims, target.dtype, distribution, hold=True)  # draw_block checks its block
    if held is None:
        return _native(call)
    with held:
        return _native(call)


def _native(call: Request) -> Any:
    """The array of a checked request drawn from its backend's native generator."""
    target, dims = call.target, call.shape
    if 0 in dims:
        if call.distribution.random:  # nothing to draw, but the seed is checked as for any draw (a batch of JAX keys is refused)
            target.backend.generator(call.seed, target.device)
        return target.backend.full(dims, 0, target.dtype, target.device)
    return call.sampler(target.backend.generator(call.seed, target.device) if call.distribution.random else None)


def check_shards(
    spec: Spec, shape: ShapeLike, options: Options, shards: Iterable[tuple[Any, tuple[slice, ...]]],
    *, reserved: Mapping[Hashable, int] | None = None,
) -> list[Kept]:
    """The checks of a draw whose values end up laid out as ``shards`` — ``(device, block)`` pairs, each device holding
    its block of ``shape`` — without drawing: the request on each device, and the memory guard of each block, counting
    the blocks before it in the same memory pool (host devices share one) besides the bytes ``reserved`` there by the
    arrays checked before; the pool and bytes of each block. For a draw compiled with its layout (the JAX adapter's
    ``out_sharding=``), whose compiled computation the guard cannot see into, and a leaf drawn shard by shard."""
    dims = normalize_shape(shape)
    taken: dict[Hashable, int] = dict(reserved or {})
    kept = []
    for device, block in shards:
        call = _checked_shard(spec, dims, options._replace(device=device), block, taken)
        kept.append(Kept(call.target.backend.memory_pool(call.target.device), math.prod(Block.of(dims, block).block_shape) * itemsize(call.target.dtype)))
    return kept


def _checked_shard(spec: Spec, dims: tuple[int, ...], options: Options, block: tuple[slice, ...], reserved: dict[Hashable, int]) -> Request:
    """The request of one shard (``block`` of ``dims`` on ``options.device``), its memory checked with the bytes ``reserved``
    in its pool by the shards checked before it, which its own bytes join."""
    call = request(spec, dims, options)
    kept = _kept(call, block, reserved)
    reserved[kept.pool] = reserved.get(kept.pool, 0) + kept.bytes
    return call


def _sharding_framework(options: Options) -> str:
    """``"jax"`` for ``sharding=``, ``"torch"`` for ``device_mesh=`` with ``placements=``; a :class:`ParameterError`
    where the options mix the two, give one of the torch pair alone, or name a region, device, ``like=`` or
    another backend, which the shard layout decides."""
    jax_wanted = options.sharding is not None
    if jax_wanted and (options.device_mesh is not None or options.placements is not None):
        msg = "pass either sharding= (JAX) or device_mesh= and placements= (torch.distributed), not both."
        raise ParameterError(msg)
    if not jax_wanted and (options.device_mesh is None or options.placements is None):
        msg = "device_mesh= and placements= go together: pass both (a torch DeviceMesh and e.g. [Shard(0)])."
        raise ParameterError(msg)
    framework = "jax" if jax_wanted else "torch"
    if options.region is not None or options.device is not None or options.like is not None:
        msg = f"sharding a {framework} array: the shard layout decides regions and devices; do not pass region=, device= or like=."
        raise ParameterError(msg)
    backend = options.backend
    if backend is not None and backend != framework and getattr(backend, "name", None) != framework:
        flag = "sharding=" if jax_wanted else "device_mesh="
        msg = f"{flag} builds a {framework} array; backend={abbreviate(backend)} is not {framework!r}."
        raise ParameterError(msg)
    return framework


def _sharded(spec: Spec, shape: ShapeLike, options: Options) -> Any:
    """The sharded path: JAX ``sharding=`` or torch ``device_mesh=`` with ``placements=``, each shard drawn as a region where it lives."""
    dims = check_geometry(spec, shape, options)
    framework = _sharding_framework(options)
    jax_wanted = framework == "jax"
    flag = "sharding=" if jax_wanted else "device_mesh="
    random = spec.distribution_for(dims, layout=options.layout, fan_in=options.fan_in, fan_out=options.fan_out).random
    if options.rng != "portable" and random:
        msg = (
            f"{flag} needs rng='portable' for {type(spec).__name__}: "
            "each shard is generated on its own device from a counter-based stream, equal to the unsharded draw."
        )
        raise ParameterError(msg)
    seed = call_seed(options.seed, spec.seed)
    if random and not jax_wanted and seed is None:
        msg = ("device_mesh= with seed=None: each rank would take its seed from its own global stream, so replicas "
               "would differ and the shards would not make one draw; pass seed=<int>, the same on every rank.")
        raise ParameterError(msg)
    taken_later = random and (seed is None or (type(seed) is not int and is_keras_seed(seed)))
    if options.rng == "portable" and seed is not None and not taken_later:
        seed = normalize_seed(seed)  # one seed for every shard
    each = options._replace(backend=framework, sharding=None, device_mesh=None, placements=None)

    reserved: dict[Hashable, int] = {}  # the output bytes of the shards checked so far, per memory pool

    def shard(device: Any, block: tuple[slice, ...]) -> Callable[[], Any]:
        """Check the shard on ``device`` (its memory included, less what the shards checked before it will hold there)
        and return what draws it: the backend checks every shard first."""
        call = _checked_shard(spec, dims, each._replace(device=device, region=block, seed=0 if taken_later else seed), block, reserved)

        def draw() -> Any:
            nonlocal seed, taken_later
            if taken_later:  # the global stream's next seed (or a Keras SeedGenerator's), once every shard is checked
                seed, taken_later = normalize_seed(seed, framework, portable=True), False
            return _sample(call._replace(seed=seed) if random else call)

        return draw

    layout = options.sharding if jax_wanted else (options.device_mesh, options.placements)
    return get_backend(framework).sharded(dims, layout, shard)
