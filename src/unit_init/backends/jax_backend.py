"""The JAX backend: ``jax.Array`` results, drawn by compiled samplers on the target device.

* **Devices**: ``None`` gives what ``jax.random`` gives: an *uncommitted*
  array on JAX's default device (``jax.default_device`` honoured), which JAX
  moves freely and which works inside any user ``jit``, ``vmap``,
  ``shard_map`` or sharded computation. An explicit device — a
  ``jax.Device`` or the portable strings ``"cpu"``, ``"cpu:N"``, ``"gpu"``,
  ``"gpu:N"``, ``"cuda:N"`` (≡ ``"gpu:N"``), ``"tpu"``, ``"tpu:N"`` (``N``
  indexes this process's devices of that platform) — gives an array
  committed to that device.
* **Randomness**: a seed becomes a :class:`KeyStream`, which splits its key
  once per draw, so the several draws of one call (orthogonal, truncation) are
  independent. An int seed is the threefry key ``[seed >> 32, seed & 0xFFFFFFFF]``
  whatever ``jax_enable_x64`` and ``jax_default_prng_impl`` say; a user key
  (typed ``jax.random.key`` or raw ``uint32[2]`` ``PRNGKey``) is the stream's root.
* **Compilation**: the whole sampling of a law (:mod:`unit_init.sampling`) is
  one ``jax.jit`` function (:meth:`JaxBackend.compile_sampler`), cached per
  (law, shape, dtype, device), as is each single draw: repeated calls never
  retrace (:data:`TRACES` counts traces). With no device it is a plain ``jit`` (no device pinned), so
  inside a user's trace it is inlined into the user's computation and takes
  the user's shardings; with a device its outputs have a
  ``SingleDeviceSharding`` there, so values are born on it.
* **dtypes**: 64-bit dtypes need ``jax_enable_x64``; without it they raise
  :class:`~unit_init.DTypeError` instead of being narrowed with only a warning.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import importlib
import math
from collections.abc import Callable, Hashable
from typing import Any, Final

import array_api_compat
import jax
import jax.numpy as jnp
import numpy as np

from unit_init.backends.base import Backend
from unit_init.backends.devices import absent_device, accepted_forms, device_request, unknown_device
from unit_init.dtypes import COMPLEX_DTYPES, FLOAT_DTYPES, INTEGER_DTYPES
from unit_init.errors import DeviceError, DTypeError, ParameterError, SeedError, abbreviate

__all__ = ["TRACES", "JaxBackend", "KeyStream", "assembled", "check_fits", "scoped_abstract_mesh", "scoped_mesh", "transformed"]

TRACES: Final[collections.Counter[str]] = collections.Counter()
"""How many times each sampler kind was traced (compiled); it grows only for new shapes, dtypes or devices."""

_PLATFORMS: Final = ("cpu", "gpu", "tpu")  # JAX's platform names are the portable ones
_ACCEPTED: Final = accepted_forms(_PLATFORMS, "a jax.Device")
_WIDE: Final = ("float64", "int64", "uint64", "complex128")


def _platform_devices(platform: str) -> list[jax.Device]:
    try:
        return list(jax.local_devices(backend=platform))
    except RuntimeError:  # the platform's runtime is not installed
        return []


def _present() -> str:
    names = [f"{d.platform}:{i}" for p in ("cpu", "gpu", "tpu") for i, d in enumerate(_platform_devices(p))]
    return ", ".join(map(repr, names))


def _narrowed(dtype: str) -> bool:
    """Whether JAX would give a narrower dtype, with only a warning (64-bit types without ``jax_enable_x64``)."""
    return bool(jax.dtypes.canonicalize_dtype(np.dtype(dtype)) != np.dtype(dtype))


def _placed(function: Callable[..., Any], device: jax.Device | None, outputs: int = 1) -> Callable[..., Any]:
    """``function`` jitted so that each of its ``outputs`` is created on ``device``; uncommitted where ``device`` is ``None``."""
    if device is None:
        plain: Callable[..., Any] = jax.jit(function)
        return plain
    sharding = jax.sharding.SingleDeviceSharding(device)
    jitted: Callable[..., Any] = jax.jit(function, out_shardings=sharding if outputs == 1 else (sharding,) * outputs)
    inline: Callable[..., Any] = jax.jit(function)

    def on_device(*arguments: Any) -> Any:
        if transformed():  # inside a user's jit (which refuses an inner jit committed to one device when it spans
            # several: "incompatible devices") or another transform: drawn as part of it; jax.device_put places the
            # value where the transform lets it (eager vmap/grad), and jit places it as jnp.ones(device=) there
            return jax.device_put(inline(*arguments), device)
        with _no_mesh():  # a mesh in scope (jax.set_mesh) refuses a computation committed to one device
            return jitted(*arguments)

    return on_device


def _tracing() -> bool:
    """Whether JAX is tracing (``jax.jit``, ``jax.eval_shape``): an array made now is a tracer (~0.1 ms: ask rarely)."""
    return isinstance(jnp.zeros(()), jax.core.Tracer)


_trace_state_clean: Callable[[], bool] = getattr(
    importlib.import_module("jax._src.core"), "trace_state_clean", lambda: not _tracing()
)
"""Whether no JAX transform is tracing: JAX's own test (0.4 µs), where this JAX has it; else :func:`_tracing`'s."""


def transformed() -> bool:
    """Whether a JAX transform (``jit``, ``vmap``, ``grad``, ``eval_shape``, …) is tracing the code that calls it."""
    return not _trace_state_clean()


RAW_KEY_SHAPES: Final = ((2,), (4,))
"""Shapes of raw ``jax.random.PRNGKey`` data: threefry's ``uint32[2]``, and ``uint32[4]`` for ``rbg``/``unsafe_rbg``."""


def _is_raw_key(seed: Any) -> bool:
    """Raw key words: a ``jax.Array`` of dtype ``uint32`` and a shape of :data:`RAW_KEY_SHAPES`."""
    return isinstance(seed, jax.Array) and seed.dtype == jnp.uint32 and seed.shape in RAW_KEY_SHAPES


def _is_typed_key(seed: Any) -> bool:
    """A ``jax.Array`` of a key dtype (``jax.random.key``), one key or a batch."""
    return isinstance(seed, jax.Array) and bool(jnp.issubdtype(seed.dtype, jax.dtypes.prng_key))


def is_single_key(seed: Any) -> bool:
    """One PRNG key: a typed key of shape ``()`` (``jax.random.key``) or raw key words (``jax.random.PRNGKey``), traced or not."""
    return (_is_typed_key(seed) and seed.shape == ()) or _is_raw_key(seed)


def _wrapped(raw: jax.Array) -> jax.Array:
    """A raw key's words as a typed key of JAX's default implementation (``jax_default_prng_impl``), as ``jax.random`` reads them."""
    try:
        key: jax.Array = jax.random.wrap_key_data(raw)
    except TypeError:  # words of another implementation's shape
        implementation = jax.config.jax_default_prng_impl  # type: ignore[attr-defined]  # a config flag, read as an attribute
        msg = (
            f"seed=a raw key of shape {raw.shape} does not fit JAX's default PRNG implementation "
            f"{implementation!r}; pass a typed key (jax.random.key(n)), which carries its implementation."
        )
        raise SeedError(msg) from None
    return key


def _typed(key: Any) -> jax.Array:
    """A typed threefry key from raw ``uint32[2]`` words; a typed key unchanged."""
    typed: jax.Array = key if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else jax.random.wrap_key_data(key, impl="threefry2x32")
    return typed


@functools.lru_cache(maxsize=1024)
def _seed_words(seed: int, device: jax.Device | None) -> jax.Array:
    """The threefry words ``[seed >> 32, seed & 0xFFFFFFFF]`` of an int seed, placed on ``device`` once (uncommitted for ``None``).

    A host array would be transferred on every call (≈30 µs, a fifth of a
    64² draw); JAX arrays are immutable, so one placed copy serves every call.
    Placed eagerly even when first asked for inside a user's trace, so the
    cached copy is a concrete array, never that trace's value.
    """
    with jax.ensure_compile_time_eval():
        placed: jax.Array = jax.device_put(np.array([seed >> 32, seed & 0xFFFFFFFF], dtype=np.uint32), device)
    return placed


def int_seed_key(seed: int) -> jax.Array:
    """The typed key an int ``seed`` draws with on this backend (its words, :func:`_seed_words`, as a threefry key):
    a compiled draw given it as an argument gives the values of ``seed=seed``."""
    return _typed(_seed_words(seed, None))


class KeyStream:
    """A JAX key that is split on every draw: each draw gets a fresh subkey, the stream keeps the rest.

    Parameters
    ----------
    key:
        A typed key (``jax.random.key``) placed on the target device, or the
        raw threefry words ``uint32[2]`` of an int seed, which the compiled
        sampler wraps into a key itself (no eager op per call).
    """

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def draw(self, kind: str, shape: tuple[int, ...], dtype: str, device: jax.Device | None, bounds: tuple[float, float] = (0.0, 1.0)) -> jax.Array:
        """One draw of ``kind`` (``"uniform"`` on ``[bounds)``, ``"normal"``, ``"truncated_normal"`` on ``[bounds]``) on ``device``; advances the key.

        Inside a compiled sampler (the key is a tracer) the draw is traced in
        place, so XLA fuses it with the scaling and clipping around it;
        outside, it runs as its own cached jitted function.
        """
        if isinstance(self.key, jax.core.Tracer):
            values, self.key = _draw(kind, shape, dtype, bounds, self.key)
        else:
            values, self.key = _sampler(kind, shape, dtype, device, bounds)(self.key)
        return values


def _draw(kind: str, shape: tuple[int, ...], dtype: str, bounds: tuple[float, float], key: Any) -> tuple[jax.Array, jax.Array]:
    """``(values, next_key)``: one draw of ``kind`` from a split of ``key``."""
    TRACES[kind] += 1  # runs only while tracing
    native = jnp.dtype(dtype)
    key, sub = jax.random.split(_typed(key))
    if kind == "uniform":
        values = jax.random.uniform(sub, shape, native, bounds[0], bounds[1])
    elif kind == "normal":
        values = jax.random.normal(sub, shape, native)
    else:
        values = jax.random.truncated_normal(sub, bounds[0], bounds[1], shape, native)
    return values, key


@functools.lru_cache(maxsize=512)
def _sampler(
    kind: str, shape: tuple[int, ...], dtype: str, device: jax.Device | None, bounds: tuple[float, float]
) -> Callable[[Any], tuple[jax.Array, jax.Array]]:
    """:func:`_draw` jitted as ``key -> (values, next_key)``, its outputs created on ``device``."""
    return _placed(functools.partial(_draw, kind, shape, dtype, bounds), device, outputs=2)


class JaxBackend(Backend):
    name = "jax"
    xp = jnp
    truncation = "native"  # jax.random.truncated_normal across 0; the log-space inverse CDF elsewhere
    compiles = True
    switchable_float64 = True  # jax_enable_x64
    flushes_subnormals = True  # XLA: a float32 or float64 subnormal result is 0 (float16 keeps its own)

    def resolve_device(self, device: Any) -> jax.Device | None:
        """``None`` stays ``None`` (uncommitted, as ``jax.random``); a string or ``jax.Device`` is the device to commit to."""
        if device is None or isinstance(device, jax.Device):
            return device
        request = device_request(device)
        if request is None or request.platform not in _PLATFORMS:
            raise unknown_device(device, "jax", _ACCEPTED, _present())
        devices = _platform_devices(request.platform)
        if (request.index or 0) >= len(devices):
            raise absent_device(device, "jax", _present())
        return devices[request.index or 0]

    def native_dtype(self, dtype: str) -> Any:
        if dtype not in FLOAT_DTYPES + INTEGER_DTYPES + COMPLEX_DTYPES:
            msg = f"dtype={dtype!r} is not supported by the jax backend; accepted: {', '.join(FLOAT_DTYPES + INTEGER_DTYPES + COMPLEX_DTYPES)}."
            raise DTypeError(msg)
        if dtype in _WIDE and _narrowed(dtype):
            msg = (
                f"dtype={dtype!r} needs JAX's 64-bit mode, which is off (JAX would give "
                f"{jax.dtypes.canonicalize_dtype(np.dtype(dtype)).name} with only a warning); enable it at startup with "
                'jax.config.update("jax_enable_x64", True) or the environment variable JAX_ENABLE_X64=1.'
            )
            raise DTypeError(msg)
        return jnp.dtype(dtype)

    def generator(self, seed: Any, device: Any) -> KeyStream:
        if isinstance(seed, int) and not isinstance(seed, bool):
            return KeyStream(_seed_words(seed, device))  # wrapped into a key inside the jit
        if _is_typed_key(seed) and seed.shape == ():
            key = seed
        elif _is_raw_key(seed):
            key = _wrapped(seed)
        elif isinstance(seed, np.ndarray) and seed.dtype == np.uint32 and seed.shape in RAW_KEY_SHAPES:
            key = _wrapped(jnp.asarray(seed))  # raw key words held as NumPy (a checkpoint, device_get), as jax.random takes them
        else:
            shown = f"a jax.Array of shape {seed.shape} and dtype {seed.dtype}" if isinstance(seed, jax.Array) else abbreviate(seed)
            msg = (
                f"seed={shown} is not a seed for the jax backend; pass an int, None, a single key from "
                "jax.random.key(n), or a raw key from jax.random.PRNGKey(n) (uint32[2]; uint32[4] for the rbg implementations)."
            )
            raise SeedError(msg)
        return KeyStream(key if device is None else jax.device_put(key, device))

    def uniform(self, generator: KeyStream, shape: tuple[int, ...], dtype: str, device: Any) -> jax.Array:
        return generator.draw("uniform", shape, dtype, device)

    def normal(self, generator: KeyStream, shape: tuple[int, ...], dtype: str, device: Any) -> jax.Array:
        return generator.draw("normal", shape, dtype, device)

    def uniform_between(
        self, generator: KeyStream, shape: tuple[int, ...], low: float, high: float, dtype: str, device: Any
    ) -> jax.Array:
        """``jax.random.uniform(key, shape, dtype, low, high)``, as a JAX user would write it."""
        return generator.draw("uniform", shape, dtype, device, (float(low), float(high)))

    def truncated_normal(
        self, generator: KeyStream, shape: tuple[int, ...], low: float, high: float, dtype: str, device: Any
    ) -> jax.Array:
        """JAX's own truncated normal (``erfinv``, values strictly inside ``(low, high)``), for finite bounds across 0.

        Elsewhere ``erf`` of both bounds rounds to the same value in the
        tail (JAX would pile values at a bound), so the truncation table
        (:mod:`unit_init.sampling.truncation`) takes the log-space inverse CDF there.
        """
        return generator.draw("truncated_normal", shape, dtype, device, (float(low), float(high)))

    def compile_sampler(self, sample: Callable[[Any], Any], kind: type, device: Any, size: int = 0) -> Callable[[KeyStream], jax.Array] | None:
        """The whole sampling — draws, scaling, clip, cast, QR — as one jitted ``key -> values`` (:data:`TRACES` ``"fused"``).

        The stream's last key is not returned: the stream belongs to this one
        call (a user's key is immutable and never advances), so nobody could read it.
        """
        if kind is not KeyStream:
            return None

        def kernel(key: Any) -> jax.Array:
            TRACES["fused"] += 1  # runs only while tracing
            values: jax.Array = sample(KeyStream(_typed(key)))
            return values

        jitted = _placed(kernel, device)
        return lambda stream: jitted(stream.key)

    def allocates(self, device: jax.Device | None) -> bool:
        """Not while JAX traces (``jax.jit``, ``jax.eval_shape``): nothing is allocated then."""
        return not _tracing()

    def free_bytes(self, device: jax.Device | None) -> int | None:
        """The host's free memory on CPUs; ``bytes_limit − bytes_in_use`` of ``memory_stats()`` on accelerators (``None`` without stats)."""
        target = device if device is not None else jax.devices()[0]
        if target.platform == "cpu":
            return super().free_bytes(device)
        stats = target.memory_stats()
        return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0)) if stats and "bytes_limit" in stats else None

    def memory_pool(self, device: jax.Device | None) -> Hashable:
        """The host's memory for CPU devices (forced host devices share it), each accelerator's own otherwise."""
        target = device if device is not None else jax.devices()[0]
        return "host" if target.platform == "cpu" else target

    def compiled(self, kernel: Callable[..., Any], device: Any, size: int) -> Callable[..., Any]:
        """``kernel`` jitted with its output born on ``device`` (the portable stream is one fused computation)."""
        return _placed(kernel, device)

    def placement(self, device: jax.Device | None) -> contextlib.AbstractContextManager[Any]:
        """Outside the mesh ``jax.set_mesh`` put in scope where ``device`` is one device: JAX refuses operations
        committed to a single device inside a mesh context, and ``device=`` commits the draw there."""
        return contextlib.nullcontext() if device is None else _no_mesh()

    def full(self, shape: tuple[int, ...], value: float, dtype: str, device: jax.Device | None) -> Any:
        """``jnp.full``; an array with no element is made on the host and put on ``device`` (uncommitted for ``None``):
        XLA lays out a zero-size shape's other dimensions, so ``jnp.zeros((2**30, 0))`` aborted the process
        (``std::bad_alloc``; 16 s and 1.9 GiB at ``2**28``), where ``device_put`` of NumPy's empty array takes nothing."""
        if 0 in shape:
            return jax.device_put(np.zeros(shape, self.dtype_on(dtype, device)), device)
        return super().full(shape, value, dtype, device)

    def owns(self, array: Any) -> bool:
        return bool(array_api_compat.is_jax_array(array))

    def device_of(self, array: Any) -> jax.Device | None:
        """The one device ``array`` lives on; ``None`` (uncommitted) for a tracer inside ``jit``/``vmap``, which has none."""
        if isinstance(array, jax.Array) and not isinstance(array, jax.core.Tracer) and array.is_deleted():
            msg = "like= got a jax.Array that was deleted (or donated to a jitted call); pass a live array, or device=."
            raise ParameterError(msg)
        try:
            devices = array.devices()
        except jax.errors.ConcretizationTypeError:
            return None
        if len(devices) != 1:
            msg = f"like= got a jax.Array sharded over {len(devices)} devices; pass device= to choose one."
            raise DeviceError(msg)
        device: jax.Device = next(iter(devices))
        return device

    def to_numpy(self, array: Any) -> Any:
        return np.asarray(jax.device_get(array))

    def split_seed(self, seed: Any, count: int) -> tuple[Any, ...]:
        """A key split into ``count`` keys with ``jax.random.split``; any other seed object given ``count`` times."""
        if _is_typed_key(seed) or _is_raw_key(seed):
            return tuple(jax.random.split(seed, count))
        return (seed,) * count  # a non-key JAX array too: each draw refuses it, naming the keys it takes

    def sharded(self, shape: tuple[int, ...], layout: Any, shard: Callable[[Any, Any], Callable[[], Any]]) -> jax.Array:
        """One shard per addressable device of the ``jax.sharding.Sharding`` ``layout`` (replicated shards on each of their devices).

        The shards are assembled with ``jax.make_array_from_single_device_arrays``. A ``PartitionSpec`` lays the
        array out on the mesh in scope (``jax.set_mesh``), as the adapter's ``out_sharding=`` takes it.
        """
        if isinstance(jax.numpy.zeros(0), jax.core.Tracer):  # inside jit: shards are concrete per-device arrays
            msg = "sharding= draws each shard on its device and cannot run inside jax.jit; call it outside, or use jax.lax.with_sharding_constraint."
            raise ParameterError(msg)
        if isinstance(layout, jax.sharding.PartitionSpec):
            mesh = scoped_mesh()
            if mesh is None:
                msg = f"sharding={layout} is a PartitionSpec, which needs a mesh in scope: call it inside `with jax.set_mesh(mesh):`, or pass NamedSharding(mesh, spec)."
                raise ParameterError(msg)
            check_fits("sharding", layout, shape)  # an axis the mesh lacks, typed before NamedSharding raises it raw
            layout = jax.sharding.NamedSharding(mesh, layout)
        if not isinstance(layout, jax.sharding.Sharding):
            msg = f"sharding={abbreviate(layout)} is not a jax.sharding.Sharding (e.g. NamedSharding(mesh, PartitionSpec('x'))) or a PartitionSpec under jax.set_mesh."
            raise ParameterError(msg)
        check_fits("sharding", layout, shape)
        indices = layout.addressable_devices_indices_map(shape)
        with _no_mesh():  # each shard is drawn on one device, which a mesh in scope (jax.set_mesh) refuses
            draws = [shard(device, index) for device, index in indices.items()]  # every shard checked before any is drawn
            shards = [draw() for draw in draws]
        return assembled(shape, layout, dict(zip(indices, shards, strict=True)))


def assembled(shape: tuple[int, ...], sharding: jax.sharding.Sharding, shards: dict[Any, Any]) -> jax.Array:
    """The array of ``shape`` laid out by ``sharding`` from its shard on each addressable device (``{device: shard}``),
    each moved first into the memory kind the sharding names (``"pinned_host"``), as ``jax.device_put`` places it."""
    if sharding.memory_kind is not None:
        shards = {device: jax.device_put(x, jax.sharding.SingleDeviceSharding(device, memory_kind=sharding.memory_kind))
                  for device, x in shards.items()}
    return jax.make_array_from_single_device_arrays(shape, sharding, list(shards.values()))


def scoped_mesh() -> Any:
    """The concrete mesh ``jax.set_mesh`` put in scope; ``None`` where none is (or this JAX has no ``set_mesh``).

    Raises ``ValueError`` inside ``jax.jit``, where the computation's placement is jit's to decide.
    """
    get_mesh = getattr(jax.sharding, "get_mesh", None)
    mesh = None if get_mesh is None else get_mesh()
    return None if mesh is None or mesh.empty else mesh


def scoped_abstract_mesh() -> Any:
    """The mesh in scope as ``jax.jit`` sees it (also while it traces); ``None`` where none is (or this JAX has none)."""
    mesh = getattr(jax.sharding, "get_abstract_mesh", lambda: None)()
    return None if mesh is None or mesh.empty else mesh


def _no_mesh() -> contextlib.AbstractContextManager[Any]:
    """A context without the mesh ``jax.set_mesh`` put in scope (nothing to leave where none is, or while ``jax.jit`` traces)."""
    try:
        mesh = scoped_mesh()
    except ValueError:  # inside jax.jit
        mesh = None
    return contextlib.nullcontext() if mesh is None else jax.set_mesh(None)


def _check_spec_divides(spec: jax.sharding.PartitionSpec, shape: tuple[int, ...]) -> None:
    """``ValueError`` where ``spec`` names an axis the mesh in scope (``jax.set_mesh``; inside ``jit`` its abstract
    mesh) lacks or one axis for two dimensions, or a dimension its axes' sizes do not divide; nothing to check without
    a mesh in scope but an axis named twice, which no mesh takes."""
    mesh = scoped_abstract_mesh()
    sizes = {} if mesh is None else dict(mesh.shape)
    used: set[str] = set()
    for dim, entry in zip(shape, spec, strict=False):
        if entry is jax.sharding.PartitionSpec.UNCONSTRAINED:
            msg = "PartitionSpec.UNCONSTRAINED leaves an axis to the compiler, which an array drawn now cannot; name a mesh axis or None"
            raise ValueError(msg)
        names = () if entry is None else (entry,) if isinstance(entry, str) else tuple(entry)
        twice = [axis for position, axis in enumerate(names) if axis in used or axis in names[:position]]
        used.update(names)
        if twice:
            msg = f"it maps the mesh axis {abbreviate(twice[0])} to more than one dimension (each axis splits one at most)"
            raise ValueError(msg)
        if mesh is None:
            continue
        unknown = [axis for axis in names if axis not in sizes]
        if unknown:
            msg = f"the mesh in scope has no axis {abbreviate(unknown[0])} (its axes: {', '.join(map(repr, sizes))})"
            raise ValueError(msg)
        split = math.prod(sizes[axis] for axis in names)
        if dim % split:
            msg = f"a dimension of {dim} does not divide into {split} shards ({' × '.join(names)})"
            raise ValueError(msg)


def check_fits(name: str, sharding: jax.sharding.Sharding | jax.sharding.PartitionSpec, shape: tuple[int, ...]) -> None:
    """:class:`ParameterError` naming ``name`` where ``sharding`` cannot lay out an array of ``shape``: a rank it was
    not made for (jax would build an invalid array from its shards), or dimensions its mesh axes do not divide."""
    try:
        if isinstance(sharding, jax.sharding.PartitionSpec):
            if len(sharding) > len(shape):
                msg = f"it names {len(sharding)} axes, the shape has {len(shape)}"
                raise ValueError(msg)
            _check_spec_divides(sharding, shape)
            return
        compatible = getattr(sharding, "check_compatible_aval", None)  # every concrete Sharding's (the base class declares none)
        if compatible is not None:
            compatible(shape)
        sharding.addressable_devices_indices_map(shape)
    except (ValueError, IndexError, TypeError) as error:  # jax's IndivisibleError is a ValueError
        msg = f"{name}={abbreviate(sharding)} does not fit shape={shape}: {error}"
        raise ParameterError(msg) from None
