"""JAX / Flax adapter (``ui.jax``): any spec as a ``jax.nn.initializers`` function.

``ui.jax.initializer(spec)`` returns an ``init(key, shape, dtype=None,
out_sharding=None) -> jax.Array``, the protocol of ``jax.nn.initializers``
and Flax's ``kernel_init=`` / ``bias_init=`` (``linen`` and ``nnx``).

* **Keys**: the key is the seed, as in JAX: a typed key (``jax.random.key``)
  or a raw ``uint32[2]`` key (``jax.random.PRNGKey``, ``uint32[4]`` under ``jax_default_prng_impl="rbg"``, also
  as a NumPy array); the spec's own ``seed``
  is ignored. Inside ``jax.jit`` the key is a traced value and the draw is
  traced with it (no host round-trip, no retrace per key).
* **dtype**: the call's, else the initializer's own ``dtype=`` (the default a
  ``jax.nn.initializers`` factory takes), else JAX's default float dtype
  (float32 unless ``jax_enable_x64``); Python's ``float`` and ``complex`` mean
  JAX's default float and complex dtypes, as in ``jax.numpy``. Asking for
  float64 without x64 raises :class:`~unit_init.DTypeError` instead of
  giving float32 with only a warning.
* **Layout and fans**: ``"keras"`` by default (Flax kernels are ``(in, out)``
  and ``(*window, in, out)``); any named layout or ``ui.Layout``, and
  ``fan_in=`` / ``fan_out=`` overrides.
* **Placement**: like ``jax.random``, the result is uncommitted (JAX places
  it, and inside a user's ``jit`` it takes the shardings of that computation);
  ``out_sharding=`` (a ``jax.sharding.Sharding``, or a ``PartitionSpec`` under
  a mesh context) draws the values directly into that sharding.

The result is a frozen, hashable, weak-referenceable object (Flax ``linen``
modules hash their fields; ``jax.jit`` holds its function weakly), equal by
value, with ``get_config()`` / ``from_config()``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import jax
import numpy as np

from unit_init.adapters._spec import spec_of
from unit_init.backends.jax_backend import (
    RAW_KEY_SHAPES,
    check_fits,
    is_single_key,
    scoped_abstract_mesh,
    scoped_mesh,
    transformed,
)
from unit_init.drawing import check_shards
from unit_init.dtypes import canonical_dtype
from unit_init.errors import ParameterError, SeedError, abbreviate, keywords_checked
from unit_init.serialization import adapter_config, adapter_parts, plain_config, read_adapter_config
from unit_init.spec._checks import hashable, plain_text
from unit_init.spec.fans import Layout, normalize_shape
from unit_init.spec.initializer import Initializer
from unit_init.spec.options import Options

__all__ = ["JaxInitializer", "initializer"]


@dataclass(frozen=True)
class JaxInitializer:
    """A spec as a ``(key, shape, dtype=None, out_sharding=None) -> jax.Array`` function.

    Parameters
    ----------
    spec:
        The unit_init spec to draw, a name (``"he_normal"``) or a config (:func:`unit_init.get`).
    layout:
        The layout the fans come from: a name (default ``"keras"``) or a ``ui.Layout``.
    fan_in, fan_out:
        Fan overrides, used instead of the layout's fans where given.
    dtype:
        The dtype of a call that names none: its canonical name, or Python's ``float``/``complex``/``int`` (also by
        those names, as a config saves them), read as JAX's default dtype of that kind when called, as
        ``jax.nn.initializers`` read it; ``None``: JAX's default float dtype.
    """

    spec: Initializer
    layout: str | Layout = "keras"
    fan_in: float | None = None
    fan_out: float | None = None
    dtype: str | type | None = None

    def __post_init__(self) -> None:
        """The spec (or its name or config), the layout and the fans checked as any adapter config; the dtype canonical."""
        spec, layout, fan_in, fan_out = adapter_parts(spec_of(self.spec), self.layout, self.fan_in, self.fan_out)
        for name, value in (("spec", spec), ("layout", layout), ("fan_in", fan_in), ("fan_out", fan_out)):
            object.__setattr__(self, name, value)
        if isinstance(self.dtype, str) and plain_text(self.dtype) in _PYTHON_KINDS:  # "float" as a config says it
            object.__setattr__(self, "dtype", _PYTHON_KINDS[plain_text(self.dtype)])
        elif self.dtype is not None and not (isinstance(self.dtype, type) and self.dtype in _PYTHON_KINDS.values()):
            object.__setattr__(self, "dtype", canonical_dtype(self.dtype))

    @keywords_checked
    def __call__(self, key: Any, shape: Any, dtype: Any = None, out_sharding: Any = None) -> jax.Array:
        """Draw ``shape`` with ``key`` in ``dtype`` (default: the initializer's ``dtype``, else JAX's default float dtype), into ``out_sharding`` if given."""
        dims = tuple(shape) if isinstance(shape, (tuple, list)) else shape
        native = _native_dtype(self.dtype if dtype is None else dtype)
        if not self.spec.random:  # a constant, an identity: no key is read, so any is taken (as jax.nn.initializers.zeros),
            key = _unread_key()  # raw words of another PRNG implementation (uint32[4]) too
        elif isinstance(key, np.ndarray) and key.dtype == np.uint32 and key.shape in RAW_KEY_SHAPES:
            key = jax.numpy.asarray(key)  # a raw key held as NumPy (a checkpoint, device_get): jax.random takes it too
        elif not is_single_key(key):  # jax.nn.initializers refuse ints too; None would be unseeded
            shown = f"a jax.Array of shape {key.shape} and dtype {key.dtype}" if isinstance(key, jax.Array) else abbreviate(key)
            msg = f"key={shown}: a JAX initializer takes one PRNG key, jax.random.key(n) (or jax.random.PRNGKey(n)), as jax.nn.initializers do."
            if isinstance(key, (tuple, list)) and all(isinstance(dim, int) for dim in key):  # Haiku calls w_init(shape, dtype)
                msg += " A shape in its place is Haiku's call, init(shape, dtype): use unit_init.jax.haiku_initializer(spec) there."
            raise SeedError(msg)
        if out_sharding is None:
            return self.draw(key, dims, native)
        if not isinstance(out_sharding, (jax.sharding.Sharding, jax.sharding.PartitionSpec)):
            msg = f"out_sharding={abbreviate(out_sharding)} is not a jax.sharding.Sharding or PartitionSpec."
            raise ParameterError(msg)
        spec = out_sharding.spec if isinstance(out_sharding, jax.sharding.NamedSharding) else out_sharding
        if isinstance(spec, jax.sharding.PartitionSpec) and jax.sharding.PartitionSpec.UNCONSTRAINED in spec:
            msg = f"out_sharding={abbreviate(out_sharding)} leaves an axis UNCONSTRAINED, which jit's out_shardings cannot take; name a mesh axis or None."
            raise ParameterError(msg)
        check_fits("out_sharding", out_sharding, normalize_shape(dims))
        self._check_memory(key, dims, native, out_sharding)
        arguments = (self, dims, native, out_sharding)
        sharded = _sharded(*arguments) if hashable(arguments) else _sharded.__wrapped__(*arguments)  # unhashable: compiled for this call only
        try:
            values: jax.Array = sharded(_replicated_key(key, out_sharding))
        except RuntimeError as error:
            if not isinstance(out_sharding, jax.sharding.PartitionSpec):
                raise
            if transformed() and scoped_abstract_mesh() is not None:  # a trace's own mesh (a shard_map body), no concrete one
                return _laid_out(self.draw(key, dims, native), out_sharding)
            msg = f"out_sharding={out_sharding} is a PartitionSpec, which needs a mesh in scope (with jax.set_mesh(mesh): ...): {error}"
            raise ParameterError(msg) from None
        if isinstance(values, jax.core.Tracer) and _explicit(out_sharding):
            values = jax.sharding.reshard(values, out_sharding)  # type: ignore[no-untyped-call]  # a jit traced inside another drops its out_shardings from the type
        return values

    def _check_memory(self, key: Any, dims: Any, dtype: Any, out_sharding: Any) -> None:
        """The memory guard of an eager ``out_sharding=`` draw, which runs compiled (where nothing is checked): each
        device's shard against its memory, host devices' together (:func:`unit_init.drawing.check_shards`); only this
        process's devices (the shards other hosts compute use their memory, as the core sharded path counts). Inside a
        trace the user's computation allocates, not this call; a ``PartitionSpec`` lays out over the mesh in scope."""
        if transformed():
            return
        sharding = out_sharding
        if isinstance(sharding, jax.sharding.PartitionSpec):
            mesh = scoped_mesh()
            if mesh is None:
                return  # refused by the compiled call, which names the missing mesh
            sharding = jax.sharding.NamedSharding(mesh, sharding)
        shape = normalize_shape(dims)
        options = Options(backend="jax", dtype=dtype, seed=0, layout=self.layout, fan_in=self.fan_in, fan_out=self.fan_out)
        check_shards(self.spec, shape, options, sharding.addressable_devices_indices_map(shape).items())  # this process's

    def draw(self, key: Any, shape: Any, dtype: Any) -> jax.Array:
        """The values for ``key``, placed as ``jax.random`` places them (uncommitted, or the trace's sharding)."""
        values: jax.Array = self.spec(shape, backend="jax", dtype=dtype, seed=key, layout=self.layout, fan_in=self.fan_in, fan_out=self.fan_out)
        return values

    def get_config(self) -> dict[str, Any]:
        """``{"spec": ui.serialize(spec), "layout": …}`` plus ``fan_in`` / ``fan_out`` / ``dtype`` where given (Python's
        ``float``/``complex``/``int`` by their names, read back as themselves)."""
        config = adapter_config(self.spec, self.layout, self.fan_in, self.fan_out)
        if self.dtype is not None:
            config["dtype"] = self.dtype.__name__ if isinstance(self.dtype, type) else self.dtype
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> JaxInitializer:
        """Rebuild from :meth:`get_config`; hostile configs raise :class:`~unit_init.UnitInitError`."""
        if isinstance(config, Mapping):
            config = plain_config("the JaxInitializer config", config)
        if isinstance(config, dict) and "dtype" in config:
            dtype = config["dtype"]
            if dtype is not None and not isinstance(dtype, str):
                msg = f"dtype={abbreviate(dtype)} in a JaxInitializer config must be a dtype name or null."
                raise ParameterError(msg)
            return cls(*read_adapter_config({key: value for key, value in config.items() if key != "dtype"}), dtype=dtype)
        return cls(*read_adapter_config(config))


JaxInitializer.__init__ = keywords_checked(JaxInitializer.__init__)  # type: ignore[method-assign]  # a misspelt keyword: ArgumentError


@functools.cache
def _unread_key() -> jax.Array:
    """The key handed on for a spec that draws nothing, in place of whatever it was given (it reads none): made
    concrete, also on a first call inside a trace, so the cached key is never a tracer."""
    with jax.ensure_compile_time_eval():
        return jax.random.key(0)


_PYTHON_KINDS: Final = {"float": float, "complex": complex, "int": int}
"""Python's types as a default ``dtype=``: JAX's default dtype of that kind, read when called (it follows
``jax_enable_x64``); a config saves them by these names, which no canonical dtype name is."""


def _native_dtype(dtype: Any) -> Any:
    """``dtype`` as a NumPy dtype: ``None`` and ``float`` are JAX's default float dtype, ``complex`` and ``int`` its
    default complex and integer ones (``jnp.zeros(3, int)`` is int32 without x64, with no warning)."""
    if dtype is None or dtype is float:
        return jax.numpy.dtype(jax.dtypes.canonicalize_dtype(jax.numpy.float_))
    if dtype is complex:
        return jax.numpy.dtype(jax.dtypes.canonicalize_dtype(jax.numpy.complex_))
    if dtype is int:
        return jax.numpy.dtype(jax.dtypes.canonicalize_dtype(jax.numpy.int_))
    try:
        return jax.numpy.dtype(dtype)
    except (TypeError, ValueError):
        return jax.numpy.dtype(canonical_dtype(dtype))  # another framework's dtype by its name, else a DTypeError naming the accepted ones


def _replicated_key(key: Any, out_sharding: Any) -> Any:
    """``key`` replicated over ``out_sharding``'s devices where it is committed to others (a key that came out of a
    ``jit``, or was placed on one device): the compiled draw takes no operand on devices it does not run on (native
    JAX's ``jit`` refuses such a key with its own ``ValueError``). A key is a few words; the values do not change."""
    if transformed() or isinstance(key, jax.core.Tracer) or not getattr(key, "committed", False):
        return key  # inside a trace the computation places its operands (and no concrete mesh is read there)
    if isinstance(out_sharding, jax.sharding.PartitionSpec):
        mesh = scoped_mesh()
        if mesh is None:
            return key  # refused by the compiled call, which names the missing mesh
        out_sharding = jax.sharding.NamedSharding(mesh, out_sharding)
    if key.sharding.device_set == out_sharding.device_set:
        return key
    if isinstance(out_sharding, jax.sharding.NamedSharding):
        replicated = jax.sharding.PartitionSpec()  # type: ignore[no-untyped-call]
        return jax.device_put(key, jax.sharding.NamedSharding(out_sharding.mesh, replicated))
    if isinstance(out_sharding, jax.sharding.SingleDeviceSharding):
        return jax.device_put(key, out_sharding)
    return key


def _laid_out(values: jax.Array, spec: jax.sharding.PartitionSpec) -> jax.Array:
    """Traced ``values`` laid out as ``spec`` over the trace's mesh, as ``jax.random``'s ``out_sharding=`` lays its
    values out there: resharded where the mesh's axes are ``Explicit`` (the layout is the array's type), else
    constrained."""
    lay_out = jax.sharding.reshard if _explicit(spec) else jax.lax.with_sharding_constraint
    laid_out: jax.Array = lay_out(values, spec)  # type: ignore[no-untyped-call]
    return laid_out


def _explicit(out_sharding: Any) -> bool:
    """Whether ``out_sharding`` lies on a mesh with an ``Explicit`` axis, whose shardings are part of an array's type."""
    mesh = out_sharding.mesh if isinstance(out_sharding, jax.sharding.NamedSharding) else None
    if isinstance(out_sharding, jax.sharding.PartitionSpec):
        mesh = scoped_abstract_mesh()
    explicit = getattr(getattr(jax.sharding, "AxisType", None), "Explicit", None)  # JAX releases before explicit sharding have none
    return explicit is not None and mesh is not None and explicit in tuple(getattr(mesh, "axis_types", ()))


@functools.lru_cache(maxsize=256)
def _sharded(init: JaxInitializer, shape: Any, dtype: Any, out_sharding: Any) -> Callable[[Any], jax.Array]:
    """``init.draw`` compiled as ``key -> values`` whose output is laid out as ``out_sharding`` (each device computes its shard)."""
    compiled: Callable[[Any], jax.Array] = jax.jit(functools.partial(init.draw, shape=shape, dtype=dtype), out_shardings=out_sharding)
    return compiled


@keywords_checked
def initializer(
    spec: Any,
    *,
    layout: str | Layout = "keras",
    fan_in: float | None = None,
    fan_out: float | None = None,
    dtype: Any = None,
) -> JaxInitializer:
    """The ``jax.nn.initializers`` function that draws ``spec`` (see the module docstring).

    Parameters
    ----------
    spec:
        A spec, a name (``"he_normal"``) or a config (:func:`unit_init.get`).
    layout:
        The layout the fans come from: ``"keras"`` (Flax's ``(in, out)``), another name, or a ``ui.Layout``.
    fan_in, fan_out:
        Fan overrides, used instead of the layout's fans where given.
    dtype:
        The dtype of a call that names none, as the ``dtype=`` of a
        ``jax.nn.initializers`` factory (default: JAX's default float dtype).

    Examples
    --------
    >>> import jax, unit_init as ui
    >>> init = ui.jax.initializer(ui.HeNormal())
    >>> init(jax.random.key(0), (3, 4)).shape
    (3, 4)
    >>> jax.jit(init, static_argnums=1)(jax.random.key(0), (3, 4)).shape
    (3, 4)
    >>> ui.jax.initializer(ui.HeNormal(), dtype=jax.numpy.bfloat16)(jax.random.key(0), (3, 4)).dtype
    dtype(bfloat16)
    """
    return JaxInitializer(spec, layout, fan_in, fan_out, dtype)
