"""Whole-model initialization by rules for JAX: Flax nnx modules, Flax linen variables and any pytree of arrays."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, cast

import jax
import numpy as np

from unit_init.adapters import lsuv, rules
from unit_init.adapters.frameworks import framework_of, loaded
from unit_init.adapters.pytree import (
    check_acyclic,
    check_tree,
    foreign_array,
    params_subtree,
    refuse_foreign,
    tree_param,
    with_params,
)
from unit_init.adapters.rules import Entry, Gated, Initialized, Param, Rules, check_rng, draw, fill, plan
from unit_init.backends.jax_backend import assembled, int_seed_key, scoped_abstract_mesh, scoped_mesh
from unit_init.errors import ParameterError, abbreviate, keywords_checked, outside_stacklevel
from unit_init.spec._checks import hashable
from unit_init.spec.fans import Layout, LayoutLike
from unit_init.spec.initializer import Initializer

__all__ = ["finite", "float_leaves", "initialize", "probed", "rescaled"]


def _key_name(entry: Any) -> str:
    """One step of a ``jax.tree_util`` key path as a name part (``DictKey``, ``GetAttrKey``, ``SequenceKey`` …)."""
    for attribute in ("key", "name", "idx"):
        if hasattr(entry, attribute):
            return str(getattr(entry, attribute))
    return str(entry)


def _target(old: Any, rng: str) -> dict[str, Any]:
    """How a leaf like ``old`` is drawn: on NumPy for a NumPy leaf, else JAX; in its dtype. An abstract leaf laid out
    over an abstract mesh needs that mesh's concrete one in scope, checked here, with every other check, before any
    leaf is written."""
    if isinstance(old, jax.ShapeDtypeStruct) and _over_abstract_mesh(old.sharding) and not _mesh_in_scope(old.sharding):
        raise _needs_mesh(old.sharding, "no such mesh is in scope")
    if isinstance(old, jax.ShapeDtypeStruct) and old.sharding is not None:
        try:
            old.sharding.shard_shape(tuple(old.shape))
        except Exception as error:  # JAX's IndivisibleError: an axis its mesh axes do not divide
            msg = f"a parameter's sharding {abbreviate(old.sharding, 200)} does not fit its shape {tuple(old.shape)}: {abbreviate(str(error), 200)}"
            raise ParameterError(msg) from None
    return {"backend": "numpy" if isinstance(old, np.ndarray) else "jax", "dtype": old.dtype, "rng": rng}


def _checked_as(old: Any, rng: str) -> dict[str, Any]:
    """The keywords a leaf like ``old`` is checked with before any is written (:func:`~unit_init.adapters.rules.fill`):
    :func:`_target`'s, and, for one drawn shard by shard (:func:`_drawn_into`), its ``shards`` — each device's block,
    checked against that device's memory, as no device holds the whole array."""
    target = _target(old, rng)
    sharding = _layout(old)
    concrete = None if sharding is None or _traced(old) else _shard_layout(sharding, old)
    if concrete is not None:
        target["shards"] = list(concrete.addressable_devices_indices_map(tuple(old.shape)).items())
    return target


def _layout(old: Any) -> Any:
    """The sharding a leaf's new values take: an abstract leaf's, or a committed concrete leaf's; else ``None``."""
    if isinstance(old, jax.ShapeDtypeStruct):
        return old.sharding
    return old.sharding if isinstance(old, jax.Array) and not isinstance(old, jax.core.Tracer) and old.committed else None


def _shard_layout(sharding: Any, old: Any) -> Any:
    """The concrete sharding a leaf is drawn into shard by shard (:func:`_drawn_into`): one over several devices of a
    leaf of :data:`SHARD_BY_SHARD_MIN` values or more, or any over an ``AbstractMesh`` on the mesh in scope; else
    ``None`` (drawn whole, then placed)."""
    if _over_abstract_mesh(sharding):
        try:
            in_scope = scoped_mesh()
        except ValueError:  # inside jax.jit, which places what it computes
            return None
        return None if in_scope is None else jax.sharding.NamedSharding(in_scope, sharding.spec, memory_kind=sharding.memory_kind)
    if math.prod(old.shape) < SHARD_BY_SHARD_MIN or len(sharding.device_set) == 1:
        return None
    return sharding


def _over_abstract_mesh(sharding: Any) -> bool:
    return isinstance(getattr(sharding, "mesh", None), jax.sharding.AbstractMesh)


def _mesh_in_scope(sharding: Any) -> bool:
    """Whether ``jax.set_mesh`` put in scope a concrete mesh whose abstract one is the mesh of ``sharding``."""
    try:
        mesh = scoped_mesh()
    except ValueError:  # inside jax.jit: jit places the computation
        return True
    return mesh is not None and mesh.abstract_mesh == sharding.mesh


def _needs_mesh(sharding: Any, detail: str) -> ParameterError:
    return ParameterError(
        f"a parameter's sharding {abbreviate(sharding, 200)} is over an abstract mesh, which needs the concrete mesh in "
        f"scope: call initialize inside `with jax.set_mesh(mesh):` ({detail})."
    )


def _values(entry: Any, old: Any, rng: str, names: Any = None) -> Any:
    """``entry``'s values where ``old`` was: laid out as its sharding where it has one (an abstract leaf's, or a
    concrete leaf committed to a device or sharded), else uncommitted, as ``jax.random`` leaves them. Inside your
    ``jax.jit`` (``old`` traced, or abstract while a trace runs), laid out by :func:`_traced_layout`, as the leaf's
    own ``names`` (a ``PartitionSpec`` from its Flax metadata) or its sharding say."""
    abstract = isinstance(old, jax.ShapeDtypeStruct)
    if _traced(old):
        typed = old.sharding if abstract else getattr(getattr(old, "aval", None), "sharding", None)
        return _traced_layout(draw(entry, **_target(old, rng)), names if _names_axes(names) else typed)
    committed = isinstance(old, jax.Array) and old.committed
    if (abstract and old.sharding is not None) or committed:
        return _drawn_into(old.sharding, entry, old, rng)
    return draw(entry, **_target(old, rng))


def _traced(old: Any) -> bool:
    """Whether the leaf ``old`` is replaced inside a trace: traced itself, or abstract — with no sharding or a
    ``NamedSharding`` (any other, a device's, is placed as an eager leaf's) — while a ``jax.jit`` traces (where JAX
    refuses to name the concrete mesh in scope)."""
    if isinstance(old, jax.core.Tracer):
        return True
    if not (isinstance(old, jax.ShapeDtypeStruct) and (old.sharding is None or isinstance(old.sharding, jax.sharding.NamedSharding))):
        return False
    try:
        scoped_mesh()
    except ValueError:
        return True
    return False


def _names_axes(spec: Any) -> bool:
    """Whether the ``PartitionSpec`` ``spec`` lays any axis over the mesh."""
    return spec is not None and any(axis is not None for axis in spec)


def _traced_layout(values: Any, layout: Any) -> Any:
    """Traced ``values`` laid out by ``layout``, the traced or abstract leaf's they replace: a ``PartitionSpec`` (an nnx
    variable's ``out_sharding``, an ``nn.Partitioned`` box's names) over the mesh in scope, or a ``NamedSharding``
    (an abstract leaf's, an explicit mesh's type), as Flax lays out a variable it creates there; as they are where it
    names no mesh axis. Fresh values depend on nothing the old leaf held: without it XLA replicates them.

    An explicit mesh reshards them (``jax.sharding.reshard``), an automatic one constrains them
    (``jax.lax.with_sharding_constraint``). A layout JAX cannot apply there (logical axis names outside their rules'
    context, a mesh with axes of both types, another mesh than the one in scope) leaves them as XLA places them, as
    before this was done.
    """
    try:
        if isinstance(layout, jax.sharding.PartitionSpec):
            mesh = scoped_abstract_mesh()
            layout = None if mesh is None else jax.sharding.NamedSharding(mesh, layout)
        if not isinstance(layout, jax.sharding.NamedSharding) or not _names_axes(layout.spec):
            return values
        if getattr(layout.mesh, "are_all_axes_explicit", False):
            return jax.sharding.reshard(values, layout)  # type: ignore[no-untyped-call]
        return jax.lax.with_sharding_constraint(values, layout)  # type: ignore[no-untyped-call]
    except Exception:  # JAX's ValueError, AssertionError, IndivisibleError for a layout it cannot apply here
        return values


SHARD_BY_SHARD_MIN: Final = 1 << 22
"""Elements from which a leaf sharded over several devices is drawn shard by shard; a smaller one is drawn whole and
moved, as a compiled draw could not beat its compile time."""


def _drawn_into(sharding: Any, entry: Entry, old: Any, rng: str) -> Any:
    """``entry``'s values laid out as the leaf ``old``'s ``sharding``: drawn, then put there; or, for a leaf of
    :data:`SHARD_BY_SHARD_MIN` values or more across several devices (abstract, or concrete and sharded), shard by
    shard, no device holding the whole array, with the values of the unsharded draw:

    * ``rng="portable"``: each addressable shard drawn on its device as its block of the whole (``region=``) and
      the shards assembled. Eager, so bit for bit the unsharded draw: compiled as one program, XLA fuses the
      scaling's multiply and add, and a uniform's values move by an ulp.
    * ``rng="native"``: compiled with ``out_shardings`` (JAX's partitionable Threefry gives each device its shard),
      under the leaf's own mesh where it has a concrete one (another mesh in scope refuses its devices).

    A sharding over an ``AbstractMesh`` (``nnx.eval_shape`` under ``jax.set_mesh``) is always drawn shard by shard,
    on the concrete mesh in scope."""

    def make() -> Any:
        return draw(entry, **_target(old, rng))

    abstract = _over_abstract_mesh(sharding)
    if not abstract and _shard_layout(sharding, old) is None:  # small, or on one device
        return jax.device_put(make(), sharding)
    try:
        scoped_mesh()
        traced = False
    except ValueError:  # inside jax.jit, which places what it computes: no eager shard, no mesh of our own
        traced = True
    concrete = None if traced else _shard_layout(sharding, old)
    if rng == "portable" and concrete is not None:
        shape = tuple(old.shape)
        blocks = {
            device: draw(entry, **_target(old, rng), device=device, region=_region(cast("tuple[slice, ...]", index), shape))
            for device, index in concrete.addressable_devices_indices_map(shape).items()
        }
        return assembled(shape, concrete, blocks)
    own_mesh = getattr(sharding, "mesh", None)
    set_mesh = getattr(jax, "set_mesh", None)
    own = not traced and isinstance(own_mesh, jax.sharding.Mesh)
    scope = set_mesh(own_mesh) if own and set_mesh is not None else contextlib.nullcontext()
    try:
        with scope:
            if rng == "native" and isinstance(entry.seed, int) and not isinstance(entry.spec, Gated) and entry.spec.random:
                arguments = (_template(entry), _target(old, rng)["dtype"], sharding)
                compiled = _compiled_native(*arguments) if hashable(arguments) else _compiled_native.__wrapped__(*arguments)
                return compiled(int_seed_key(entry.seed))
            return jax.jit(make, out_shardings=sharding)()
    except (ValueError, RuntimeError) as error:
        if not abstract:
            raise
        raise _needs_mesh(sharding, f"{type(error).__name__}: {abbreviate(str(error), 200)}") from None


def _template(entry: Entry) -> Entry:
    """``entry`` with only what :func:`~unit_init.adapters.rules.draw` reads (spec, shape, layout, fans; no name,
    role, owner or seed): a cache key every leaf of the same shape and rule shares."""
    param = entry.param
    return dataclasses.replace(entry, param=Param("", (), "", param.shape, param.layout), rule=0, seed=None)


@functools.lru_cache(maxsize=64)
def _compiled_native(template: Entry, dtype: Any, sharding: Any) -> Callable[[jax.Array], jax.Array]:
    """The native draw of every entry like ``template`` compiled as ``key -> values`` laid out as ``sharding`` (each
    device computes its shard): the leaves of one shape and rule compile once, not once each and again every call.
    The key is the one an int seed makes (:func:`~unit_init.backends.jax_backend.int_seed_key`), so the values are the
    eager draw's."""

    def values(key: jax.Array) -> Any:
        traced: Any = key  # the seed the draw reads: the int seed's key, traced
        return draw(dataclasses.replace(template, seed=traced), backend="jax", dtype=dtype, rng="native")

    compiled: Callable[[jax.Array], jax.Array] = jax.jit(values, out_shardings=sharding)
    return compiled


def _region(index: tuple[slice, ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    """A shard's index (slices, ``slice(None)`` for a whole axis) as the bounded slices of ``region=``."""
    return tuple(slice(*part.indices(dim)[:2]) for part, dim in zip(index, shape, strict=False))


def _as_flax_hands_axes(param: Param) -> Param:
    """``param`` with the axes Flax gives its kernel's initializer, where the walker's layout is the default
    ``"keras"`` (a layout the caller chose is drawn as it is).

    * ``LinearGeneral`` (nnx), ``DenseGeneral`` (linen): Flax draws the kernel flattened to ``(its batch and
      input-feature axes, its output-feature axes)`` and reshapes it, so ``fan_in = ∏`` of the former and
      ``fan_out = ∏`` of the latter: an attention block's query kernel ``(32, 4, 8)`` has ``fan_in = 32``,
      ``fan_out = 32`` (read in the plain layout, 32 would be a window and the fans 128 and 256).
    * ``Linear``/``Dense``, ``Conv``, ``ConvTranspose``: ``(*window, in, out)``, the plain layout — but a kernel with
      more axes than its module's own carries a stack of such layers in front (``nnx.vmap``/``nnx.scan`` ensembles,
      ``nn.scan`` over blocks), which is in neither fan.
    """
    owner = param.owners[0] if param.owners else None
    if param.leaf != "kernel" or owner is None:
        return param
    nnx, linen = sys.modules.get("flax.nnx"), sys.modules.get("flax.linen")
    param = _as_torch_reads_flax(param, owner, nnx, linen)
    if param.layout != "keras":
        return param
    plain = tuple(getattr(module, name) for module in (nnx, linen) if module is not None
                  for name in ("Linear", "Dense", "Conv", "ConvTranspose") if hasattr(module, name))
    if nnx is not None and isinstance(owner, nnx.LinearGeneral):
        inputs, outputs, window = len(owner.batch_axis) + len(owner.in_features), len(owner.out_features), 0
    elif linen is not None and isinstance(owner, linen.DenseGeneral):
        inputs = len(_as_tuple(owner.batch_dims)) + len(_as_tuple(owner.axis))
        outputs, window = len(_as_tuple(owner.features)), 0
    elif isinstance(owner, plain):
        inputs, outputs = 1, 1
        window = len(_as_tuple(owner.kernel_size)) if hasattr(owner, "kernel_size") else 0
    else:
        return param
    rank = len(param.shape)
    stacked = rank - inputs - outputs - window
    if stacked < 0 or (stacked == 0 and isinstance(owner, plain)):  # a plain kernel of its own rank: the plain layout
        return param
    return dataclasses.replace(param, layout=Layout(
        in_axis=tuple(range(rank - outputs - inputs, rank - outputs)), out_axis=tuple(range(rank - outputs, rank)),
        batch_axis=tuple(range(stacked)),
    ))


def _as_torch_reads_flax(param: Param, owner: Any, nnx: Any, linen: Any) -> Param:
    """``param`` with the fans torch reads off a transposed convolution's kernel (:func:`transposed_fans`), where it is
    a Flax ``ConvTranspose``'s: ``(*window, in, out)``, or ``(*window, out, in)`` with ``transpose_kernel=True``
    (axes in front: a stack of layers)."""
    transposed = tuple(module.ConvTranspose for module in (nnx, linen) if module is not None and hasattr(module, "ConvTranspose"))
    if not isinstance(owner, transposed) or len(param.shape) < 2:
        return param
    first, second = param.shape[-2:]
    in_channels, out_channels = (second, first) if getattr(owner, "transpose_kernel", False) else (first, second)
    window = math.prod(_as_tuple(owner.kernel_size))
    return dataclasses.replace(param, torch_fans=rules.transposed_fans(in_channels, out_channels, window))


def _equinox_owners(root: Any, key_path: tuple[Any, ...]) -> tuple[Any, ...]:
    """The Equinox modules (``eqx.Module``) that hold the leaf at ``key_path`` in ``root``, innermost first: found by
    following its attributes, items and keys (no Equinox imported, or a step that cannot be followed: those so far)."""
    module = loaded("equinox", "Module")
    if module is None:
        return ()
    found, node = [], root
    for key in key_path[:-1]:
        if isinstance(node, module):
            found.append(node)
        node = _child(node, key)
        if node is _UNREACHABLE:
            break
    else:
        if isinstance(node, module):
            found.append(node)
    return tuple(reversed(found))


_UNREACHABLE: Final = object()


def _child(node: Any, key: Any) -> Any:
    """The child of a pytree node at one step of a key path (an attribute, an item, a key), else :data:`_UNREACHABLE`."""
    tree_util = jax.tree_util
    try:
        if isinstance(key, tree_util.GetAttrKey):
            return getattr(node, key.name)
        if isinstance(key, tree_util.SequenceKey):
            return node[key.idx]
        if isinstance(key, tree_util.DictKey):
            return node[key.key]
    except Exception:  # a user's node may raise anything; its owners are then those found so far
        return _UNREACHABLE
    return _UNREACHABLE


def _as_equinox_lays_out(param: Param) -> Param:
    """``param`` in the ``"torch"`` layout where it is a weight of an Equinox ``Linear``, ``Conv``, ``ConvTranspose``,
    ``GRUCell`` or ``LSTMCell``: they store it ``(out, in, *window)`` (a cell's ``weight_ih``/``weight_hh``
    ``(gates·hidden, in)``), as torch does, and Equinox's own initializer takes ``fan_in = in·∏window``. Axes in front
    of the module's own (a stack of layers made with ``eqx.filter_vmap``) are in neither fan. Called only where the
    caller gave no layout."""
    owner = param.owners[0] if param.owners else None
    nn = loaded("equinox", "nn")
    if nn is None or owner is None or len(param.shape) < 2 or param.leaf == "bias":
        return param
    if not isinstance(owner, (nn.Linear, nn.Conv, nn.ConvTranspose, nn.GRUCell, nn.LSTMCell)):
        return param
    stacked = len(param.shape) - 2 - (owner.num_spatial_dims if isinstance(owner, (nn.Conv, nn.ConvTranspose)) else 0)
    torch_fans = None
    if isinstance(owner, nn.ConvTranspose) and stacked >= 0:  # (out, in/groups, *window)
        out_channels, per_group = param.shape[stacked:stacked + 2]
        torch_fans = rules.transposed_fans(per_group * owner.groups, out_channels, math.prod(param.shape[stacked + 2:]), owner.groups)
    if stacked <= 0:
        return dataclasses.replace(param, layout="torch", torch_fans=torch_fans)
    layout = Layout(in_axis=stacked + 1, out_axis=stacked, batch_axis=tuple(range(stacked)))
    return dataclasses.replace(param, layout=layout, torch_fans=torch_fans)


def _refuse_no_pytree(given: object) -> None:
    """:class:`ParameterError` for a torch module or a Keras model (each has its own ``initialize``), ``None``, and a
    single value that is not an array (a number, a string): each came back unchanged, only a rule's "matched no
    parameter" warning telling why."""
    framework = framework_of(given)
    if framework in ("torch", "keras"):
        msg = f"model_or_params={abbreviate(given)} is a {framework} model; initialize it with unit_init.{framework}.initialize (or ui.initialize, which hands it on)."
        raise ParameterError(msg)
    if given is None or (_is_leaf(given) and not _drawable(given)):
        msg = (f"model_or_params={abbreviate(given)} is not a Flax nnx module, a variables dict or a pytree of arrays "
               "(nested dicts, lists, tuples, an Equinox module …).")
        raise ParameterError(msg)


def _is_leaf(value: object) -> bool:
    """Whether ``value`` is a single pytree leaf: no container, nor a node JAX or Flax registered (checked
    without flattening it, which a node that holds itself would take past the recursion limit)."""
    if isinstance(value, (Mapping, list, tuple)):
        return False
    try:
        structure: Any = jax.tree_util.tree_structure(value, is_leaf=lambda node: node is not value)
        return bool(structure == jax.tree_util.tree_structure(0))
    except Exception:  # a registered node whose flatten fails: not a leaf, and the walk refuses it typed
        return False


def _drawable(value: Any) -> bool:
    """Whether a parameter's value is one ``initialize`` draws: an array (JAX's or NumPy's) or an abstract one
    (``jax.ShapeDtypeStruct``). Other values (a Python number in an ``nnx.Param``, an Equinox module's functions) stay."""
    return isinstance(value, (jax.Array, np.ndarray, jax.ShapeDtypeStruct))


def _as_tuple(value: Any) -> tuple[Any, ...]:
    """A Flax module attribute that is one value or a sequence of them, as a tuple."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _nnx(nnx: Any, model: Any, layout: LayoutLike) -> tuple[list[Param], dict[str, Any]]:
    """The ``nnx.Param`` variables of ``model`` by name, and their :class:`Param`; owners from the graph."""
    nodes = dict(nnx.iter_graph(model))
    params = {path: node for path, node in nodes.items() if isinstance(node, nnx.Param) and _drawable(node.get_value())}
    described = [
        _as_flax_hands_axes(tree_param(
            tuple(map(str, path)), tuple(node.get_value().shape), layout, tuple(nodes[path[:depth]] for depth in range(len(path) - 1, -1, -1))
        ))
        for path, node in params.items()
    ]
    return described, {param.name: params[path] for param, path in zip(described, params, strict=True)}


@keywords_checked
def initialize(
    model_or_params: Any,
    rules: Rules,
    *,
    seed: int | None = None,
    rng: str = "native",
    layout: LayoutLike = None,
    modules: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | Callable[[str], str] | None = None,
    skip: Iterable[str] | Callable[[Param], bool] | None = None,
    bias_fan_from_weight: bool = True,
    progress: bool | None = None,
) -> Initialized:
    """Initialize a Flax nnx module in place, or a pytree of JAX arrays into a new one; return it and the report.

    * ``nnx.Module``: every ``nnx.Param``, named by its path (``"fc1/kernel"``,
      ``"layers/0/kernel"``); type keys match the owning module
      (``nnx.Linear``, ``nnx.Conv`` …). The module is updated in place.
    * a pytree (Flax linen variables, Haiku params, an Equinox module — any
      ``jax.tree_util`` pytree): a new pytree; leaves are named by their key
      path joined by ``/``; a linen ``{"params": …, "batch_stats": …}`` dict
      initializes its ``params`` only; a boxed parameter (``nn.with_partitioning``'s
      ``nn.Partitioned``) is named and drawn as its value and boxed again. Type keys need ``modules=``, a mapping
      from a module's path to the module (linen: ``model.module_paths(rng, x)``); an Equinox module's own
      modules are found in it.

    New arrays keep their leaf's dtype and are uncommitted, as ``jax.random``
    returns them, unless the leaf was committed (to a device or a sharding),
    whose placement they take. A ``jax.ShapeDtypeStruct`` leaf (the abstract
    parameters of ``jax.eval_shape``) a rule covers becomes an array of its
    shape and dtype, placed by its ``sharding`` if it has one; one no rule
    covers stays abstract (the report lists it as unmatched). Rank >= 2 leaves are in ``layout``
    (``None``, the default: ``"keras"``, ``(*window, in, out)``, as Flax and Haiku, but the weights of an Equinox
    ``Linear``/``Conv``/``ConvTranspose``/``GRUCell``/``LSTMCell`` in their own ``(out, in, *window)``, ``"torch"``:
    :func:`_as_equinox_lays_out`), and, in ``"keras"``, a Flax kernel takes the
    fans Flax gives it (linen with ``modules=``; :func:`_as_flax_hands_axes`): every axis
    before an nnx ``LinearGeneral``'s or linen ``DenseGeneral``'s output features is ``in``
    (attention projections), and a stack of layers in front of a kernel (``nnx.vmap``,
    ``nn.scan``) is in neither fan. The rules, ``seed``, ``rng``, ``names``,
    ``skip``, ``bias_fan_from_weight`` and ``progress`` are those of :func:`unit_init.initialize`.

    Examples
    --------
    >>> import jax, unit_init as ui
    >>> import unit_init.jax
    >>> from flax import nnx
    >>> layer = nnx.Linear(8, 4, rngs=nnx.Rngs(0))
    >>> layer, report = unit_init.jax.initialize(layer, {nnx.Linear: ui.Orthogonal(), "bias": ui.Ones()}, seed=0)
    >>> layer.bias[...].tolist(), dict(report.applied)
    ([1.0, 1.0, 1.0, 1.0], {'bias': 1, 'kernel': 0})
    """
    rng = check_rng(rng)
    chosen = "keras" if layout is None else layout
    options: dict[str, Any] = {"seed": seed, "skip": skip, "names": names, "bias_fan_from_weight": bias_fan_from_weight}
    nnx = sys.modules.get("flax.nnx")  # imported already wherever an nnx module exists
    if (nnx_module := loaded("flax.nnx", "Module")) is not None and isinstance(model_or_params, nnx_module):
        described, variables = _nnx(nnx, model_or_params, chosen)
        entries, report = plan(described, rules, **options)

        def set_variable(entry: Entry) -> None:
            variable = variables[entry.param.name]
            old = variable.get_value()
            names = _partition_names(nnx, variable) if isinstance(old, jax.core.Tracer | jax.ShapeDtypeStruct) else None
            variable.set_value(_values(entry, old, rng, names))

        fill(
            entries, set_variable, target=lambda entry: _checked_as(variables[entry.param.name].get_value(), rng),
            kept=lambda entry: isinstance(variables[entry.param.name].get_value(), jax.ShapeDtypeStruct),  # made concrete
            progress=progress,
        )
        return Initialized(model_or_params, report)
    _refuse_no_pytree(model_or_params)
    subtree, prefix = params_subtree(model_or_params)
    check_tree(subtree)
    check_acyclic(subtree, jax.tree_util.tree_leaves)
    boxed = _boxed_type()
    try:
        leaves, treedef = jax.tree_util.tree_flatten_with_path(subtree, is_leaf=lambda x: boxed is not None and isinstance(x, boxed))
    except (TypeError, ValueError) as error:  # keys JAX cannot sort ({"fc": …, 0: …}), a node whose flatten fails
        msg = f"the parameters are no pytree JAX can flatten: {error}"
        raise ParameterError(msg) from error
    boxes = {i: leaf for i, (_, leaf) in enumerate(leaves) if boxed is not None and isinstance(leaf, boxed)}
    kept_as_is = {i for i, box in boxes.items() if not _a_parameter(box)}  # an nnx.State's BatchStat, RngKey …
    leaves = [(key_path, _unboxed(boxes[i]) if i in boxes else leaf) for i, (key_path, leaf) in enumerate(leaves)]
    owners: object = modules or {}  # typed for callers; checked for everyone else
    if not isinstance(owners, Mapping):
        msg = f"modules={abbreviate(modules)} must be a dict of module path -> module (as lsuv passes it), or None."
        raise ParameterError(msg)
    described, index, foreign = [], {}, {}
    for i, (key_path, leaf) in enumerate(leaves):
        if i not in kept_as_is and (_drawable(leaf) or foreign_array(leaf)):  # an Equinox module's functions, ints stay
            path = tuple(_key_name(k) for k in key_path)
            found = (owners.get("/".join(path[:depth])) for depth in range(len(path) - 1, -1, -1))
            holders = (*_equinox_owners(subtree, key_path), *(m for m in found if m is not None))
            param = _as_flax_hands_axes(tree_param(path, tuple(leaf.shape), chosen, holders))
            described.append(_as_equinox_lays_out(param) if layout is None else param)
            index[described[-1].name] = i
            if not _drawable(leaf):
                foreign[described[-1].name] = leaf
    entries, report = plan(described, rules, **options)
    refuse_foreign(entries, foreign, "unit_init.jax.initialize")
    if not owners and layout is None:
        _warn_linen_attention_without_modules(entries)
    new = [leaf for _, leaf in leaves]
    written: set[int] = set()

    def set_leaf(entry: Entry) -> None:
        i = index[entry.param.name]
        new[i] = _values(entry, new[i], rng, _box_names(nnx, boxes.get(i)))
        written.add(i)

    fill(entries, set_leaf, target=lambda entry: _checked_as(new[index[entry.param.name]], rng), kept=lambda _: True, progress=progress)  # a new tree
    rebuilt = jax.tree_util.tree_unflatten(treedef, [
        (box if i not in written else _reboxed(box, leaf)) if (box := boxes.get(i)) is not None else leaf  # a box left as it was
        for i, leaf in enumerate(new)
    ])
    return Initialized(with_params(model_or_params, rebuilt) if prefix else rebuilt, report)


_LINEN_ATTENTION: Final = {"query": 1, "key": 1, "value": 1, "out": -1}
"""Flax linen ``MultiHeadDotProductAttention``'s projections (``DenseGeneral``) by name: the count of their kernel's
leading axes Flax reads as ``in`` (``-1``: all but the last)."""


def _warn_linen_attention_without_modules(entries: list[Entry]) -> None:
    """A ``UserWarning`` where a linen attention projection's kernel (``…/query/kernel`` of rank 3 and more), read
    without ``modules=``, gets another variance than the fans Flax gives its ``DenseGeneral`` would: in the plain
    ``"keras"`` layout a ``(64, 4, 16)`` query kernel has ``fan_in = 256``, where Flax's is 64 (``LecunNormal``'s std
    halved, silently)."""
    misread = []
    for entry in entries:
        path, shape = entry.param.name.split("/"), entry.param.shape
        leading = _LINEN_ATTENTION.get(path[-2]) if len(path) >= 2 and path[-1] == "kernel" and len(shape) >= 3 else None
        if leading is None or not isinstance(entry.spec, Initializer):
            continue
        split = leading if leading > 0 else len(shape) - 1
        flax = Layout(tuple(range(split)), tuple(range(split, len(shape))))
        if entry.spec.variance(shape) != entry.spec.variance(shape, layout=flax):
            misread.append(entry.param.name)
    if misread:
        shown = ", ".join(misread[:2]) + (f" and {len(misread) - 2} more" if len(misread) > 2 else "")
        msg = (f"initialize: {shown} look like Flax linen attention projections (DenseGeneral kernels), "
               "read without modules= in the plain 'keras' layout, whose fans differ from those Flax gives them (a "
               "(64, 4, 16) query kernel: fan_in 256, not 64); pass modules=model.module_paths(rng, x) for Flax's fans.")
        warnings.warn(msg, UserWarning, stacklevel=outside_stacklevel())


def _unboxed(box: Any) -> Any:
    """The leaf a Flax box holds, as it is drawn: an ``nn.Partitioned`` (``nn.with_partitioning``) under a mesh — its own,
    or the one ``jax.set_mesh`` put in scope — as an abstract leaf laid out by its names (``NamedSharding(mesh,
    P(*names))``: the values are drawn into that layout, as Flax's ``unbox`` would constrain them), else its value.

    Flax's ``unbox()`` under ``jax.set_mesh`` outside ``jit`` raised a raw ``TypeError`` (a constraint by a bare
    ``PartitionSpec``); other boxes (``nn.LogicallyPartitioned``, whose names need Flax's logical rules) are unboxed
    by Flax, and its error is a :class:`ParameterError`.
    """
    if _is_variable(box):
        return box.get_value()
    meta = sys.modules["flax.core.meta"]
    if type(box) is meta.Partitioned:
        value = box.unbox(apply_constraint=False)
        try:
            mesh = box.mesh if box.mesh is not None else scoped_mesh()
        except ValueError:  # inside jax.jit: jit lays the computation out
            mesh = None
        if mesh is None:
            return value
        sharding = jax.sharding.NamedSharding(mesh, box.get_partition_spec())
        return jax.ShapeDtypeStruct(value.shape, value.dtype, sharding=sharding)  # type: ignore[no-untyped-call]
    try:
        return box.unbox()
    except (TypeError, ValueError) as error:
        msg = f"Flax cannot unbox a {type(box).__name__} parameter here ({type(error).__name__}: {abbreviate(str(error), 200)})."
        raise ParameterError(msg) from error


def _partition_names(nnx: Any, variable: Any) -> Any:
    """An nnx variable's ``PartitionSpec`` (its ``out_sharding``, by Flax's logical rules where set); ``None`` where Flax
    cannot give one."""
    try:
        return nnx.get_partition_spec(variable).get_value()
    except Exception:
        return None


def _box_names(nnx: Any, box: Any) -> Any:
    """The ``PartitionSpec`` that lays a box's value out: an ``nn.Partitioned``'s (``nn.with_partitioning``) or an nnx
    variable's; ``None`` for no box or another kind (``nn.LogicallyPartitioned``, whose names need Flax's logical rules)."""
    if _is_variable(box):
        return _partition_names(nnx, box)
    meta = sys.modules.get("flax.core.meta")
    return box.get_partition_spec() if meta is not None and type(box) is meta.Partitioned else None


def _boxed_type() -> tuple[type, ...] | None:
    """The boxes of Flax where it is loaded: ``AxisMetadata`` (``nn.Partitioned`` of ``nn.with_partitioning``,
    ``nn.LogicallyPartitioned``) and the variables of an ``nnx.State`` (``nnx.split``'s), each one parameter, named and
    drawn as the value it holds (``Dense_0/kernel``, not ``…/kernel/value``) and boxed again with its metadata."""
    kinds = (loaded("flax.core.meta", "AxisMetadata"), loaded("flax.nnx", "Variable"))
    found = tuple(kind for kind in kinds if kind is not None)
    return found or None


def _is_variable(box: object) -> bool:
    variable = loaded("flax.nnx", "Variable")
    return variable is not None and isinstance(box, variable)


def _a_parameter(box: object) -> bool:
    """Whether a box holds a parameter: any Flax ``AxisMetadata`` box, an ``nnx.Param`` (not a ``BatchStat`` or an
    ``RngKey`` of an ``nnx.State``, which stay as they are, as ``initialize`` of the module leaves them)."""
    return not _is_variable(box) or isinstance(box, loaded("flax.nnx", "Param"))


def _reboxed(box: Any, value: Any) -> Any:
    """``box`` holding ``value``, its metadata kept: an nnx variable's ``replace``, a Flax box's ``replace_boxed``."""
    return box.replace(value) if _is_variable(box) else box.replace_boxed(value)


def finite(array: Any) -> bool:
    """Whether every value of ``array`` (a JAX or NumPy array: an LSUV or diagnose batch input) is finite;
    :class:`ParameterError` for a traced one (inside ``jax.jit`` / ``nnx.jit``), whose values are not known."""
    if isinstance(array, jax.core.Tracer):
        msg = "LSUV and diagnose measure the model's outputs on a concrete batch; call them outside jax.jit / nnx.jit (the batch here is traced)."
        raise ParameterError(msg)
    return bool(jax.numpy.all(jax.numpy.isfinite(jax.numpy.asarray(array))))


def float_leaves(output: Any) -> list[Any]:
    """The float arrays of a model's output: itself, or the leaves of a tuple, list or dict of them."""
    return [leaf for leaf in jax.tree_util.tree_leaves(output) if hasattr(leaf, "dtype") and jax.numpy.issubdtype(leaf.dtype, jax.numpy.inexact)]


def probed(gs: list[Any], output: Any) -> Any:
    """``ℓ = Σᵢ ⟨gᵢ, yᵢ⟩`` over the float arrays ``yᵢ`` of ``output`` (:func:`float_leaves`)."""
    return sum(jax.numpy.sum(g * y) for g, y in zip(gs, float_leaves(output), strict=True))


def rescaled(kernel: Any, factor: float) -> Any | None:
    """:func:`unit_init.adapters.lsuv.rescaled` for a JAX kernel; ``None`` also where ``factor`` itself exceeds the dtype's range."""
    if not abs(factor) <= float(jax.numpy.finfo(kernel.dtype).max):  # type: ignore[no-untyped-call]  # the factor itself does not fit the dtype
        return None
    return lsuv.rescaled(kernel, factor, jax.numpy)
