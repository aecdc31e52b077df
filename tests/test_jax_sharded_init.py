"""Initialization inside multi-device JAX programs, on 4 host CPU devices (docs/adapters/jax.md).

One subprocess (``XLA_FLAGS`` must be set before JAX is imported) runs every
case and prints the results as JSON: a user ``jax.jit`` with
``out_shardings=``, the adapter's ``out_sharding=``, ``vmap``, ``shard_map``,
Flax NNX sharded model creation under ``nnx.jit``, Flax linen ``init`` jitted
with the shardings of its partitioning annotations, and Keras
``ModelParallel`` kernels, one large enough that Keras shards it at creation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from targets import FOUR_HOST_DEVICES

pytest.importorskip("jax")

SHAPE = (256, 128)
HE_STD = (2 / SHAPE[0]) ** 0.5

_WORKER = r'''
import json
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
import unit_init as ui
import unit_init.jax

results = {}
def case(name):
    def wrap(fn):
        try:
            results[name] = fn()
        except Exception as error:
            results[name] = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
        return fn
    return wrap

mesh = jax.make_mesh((4,), ("x",), axis_types=(jax.sharding.AxisType.Auto,))
row = NamedSharding(mesh, P("x", None))
key = jax.random.key(0)
SHAPE = (256, 128)

def summary(x):
    return {"spec": str(x.sharding.spec) if hasattr(x.sharding, "spec") else str(x.sharding), "devices": len(x.devices()),
            "std": float(np.asarray(x, np.float64).std()), "committed": bool(x.committed)}

@case("jit_out_shardings_core")
def _():
    x = jax.jit(lambda k: ui.he_normal(SHAPE, seed=k), out_shardings=row)(key)
    s = summary(x); s["equal_eager"] = bool(np.array_equal(x, ui.he_normal(SHAPE, seed=key))); return s

@case("jit_out_shardings_int_seed")
def _():
    x = jax.jit(lambda: ui.he_normal(SHAPE, backend="jax", seed=3), out_shardings=row)()
    s = summary(x); s["equal_eager"] = bool(np.array_equal(x, ui.he_normal(SHAPE, backend="jax", seed=3))); return s

@case("jit_out_shardings_adapter")
def _():
    init = ui.jax.initializer(ui.GlorotUniform())
    x = jax.jit(init, static_argnums=(1,), out_shardings=row)(key, SHAPE)
    return summary(x)

@case("adapter_out_sharding_eager")
def _():
    init = ui.jax.initializer(ui.HeNormal())
    x = init(key, SHAPE, out_sharding=row)
    s = summary(x); s["equal_unsharded"] = bool(np.array_equal(x, init(key, SHAPE))); return s

@case("adapter_out_sharding_with_a_committed_key")
def _():
    init = ui.jax.initializer(ui.HeNormal())
    elsewhere = jax.device_put(key, jax.devices()[3])  # committed to one device, as a key out of a jit is
    x = init(elsewhere, SHAPE, out_sharding=row)
    one = init(elsewhere, SHAPE, out_sharding=jax.sharding.SingleDeviceSharding(jax.devices()[1]))
    with jax.set_mesh(mesh):
        spec = init(elsewhere, SHAPE, out_sharding=P("x", None))
        captured = jax.jit(lambda: init(elsewhere, SHAPE, out_sharding=P("x", None)))()  # a concrete key inside a trace
    s = summary(x)
    s["equal_unsharded"] = all(bool(np.array_equal(y, init(key, SHAPE))) for y in (x, one, spec, captured))
    s["single"] = [d.id for d in one.devices()]
    return s

@case("adapter_out_sharding_in_jit_on_an_explicit_mesh")
def _():
    explicit = jax.make_mesh((2, 2), ("data", "model"), axis_types=(jax.sharding.AxisType.Explicit,) * 2)
    init = ui.jax.initializer(ui.HeNormal())
    with jax.set_mesh(explicit):
        by_spec = jax.jit(lambda k: init(k, SHAPE, jnp.float32, P(None, "model")))(key)
        by_sharding = jax.jit(lambda k: init(k, SHAPE, jnp.float32, NamedSharding(explicit, P("data", None))))(key)
    plain = np.asarray(init(key, SHAPE, jnp.float32))
    return {"specs": [str(by_spec.sharding.spec), str(by_sharding.sharding.spec)],
            # within 1e-7: under the session's --xla_backend_optimization_level=0 a sharded program rounds apart (3e-8 seen)
            "equal_unsharded": bool(np.allclose(by_spec, plain, rtol=0, atol=1e-7) and np.allclose(by_sharding, plain, rtol=0, atol=1e-7))}

@case("uncommitted_moves")
def _():
    x = ui.he_normal(SHAPE, backend="jax", seed=0)
    elsewhere = jax.device_put(jax.numpy.ones(SHAPE), jax.devices()[2])
    return {"committed": bool(x.committed), "sum_devices": [d.id for d in (x + elsewhere).devices()]}

@case("default_device_context")
def _():
    ui.he_normal(SHAPE, backend="jax", seed=5)  # its key words are cached on device 0 first
    with jax.default_device(jax.devices()[3]):
        x, y = ui.he_normal(SHAPE, backend="jax", seed=5), ui.he_normal(SHAPE, seed=key)
    return {"devices": sorted({d.id for a in (x, y) for d in a.devices()}), "committed": bool(x.committed or y.committed)}

@case("vmap")
def _():
    x = jax.jit(jax.vmap(lambda k: ui.he_normal(SHAPE, seed=k)))(jax.random.split(key, 4))
    return {"shape": list(x.shape), "distinct": len({float(v.sum()) for v in x})}

@case("shard_map")
def _():
    def local(k):
        k = jax.random.fold_in(k[0], jax.lax.axis_index("x"))
        return ui.he_normal((64, 128), seed=k, fan_in=256)
    f = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=P("x"), out_specs=P("x", None)))
    x = f(jax.random.split(key, 4))
    return summary(x)

@case("shard_map_out_sharding")
def _():
    init = ui.jax.initializer(ui.HeNormal())
    def local(k):
        return init(k[0], (64, 128), out_sharding=P())[None]  # the body's own mesh: no concrete one in scope
    out = {}
    for kind in ("Auto", "Explicit"):
        over = jax.make_mesh((4,), ("x",), axis_types=(getattr(jax.sharding.AxisType, kind),))
        keys = jax.device_put(jax.random.split(key, 4), NamedSharding(over, P("x")))
        x = jax.shard_map(local, mesh=over, in_specs=P("x"), out_specs=P("x"))(keys)
        drawn = np.asarray(x)  # on the host: an Explicit array's indexing asks for its out_sharding
        out[kind] = all(bool(np.array_equal(drawn[i], init(jax.random.split(key, 4)[i], (64, 128)))) for i in range(4))
    return out

@case("nnx_sharded_creation")
def _():
    from flax import nnx
    init = nnx.with_partitioning(ui.jax.initializer(ui.HeNormal()), (None, "x"))
    class MLP(nnx.Module):
        def __init__(self, rngs):
            self.a = nnx.Linear(256, 512, kernel_init=init, rngs=rngs)
            self.b = nnx.Linear(512, 128, kernel_init=nnx.with_partitioning(ui.jax.initializer("glorot_uniform"), ("x", None)), rngs=rngs)
    @nnx.jit
    def create():
        model = MLP(nnx.Rngs(0))
        state = nnx.state(model)
        nnx.update(model, jax.lax.with_sharding_constraint(state, nnx.get_partition_spec(state)))
        return model
    with jax.set_mesh(mesh):
        model = create()
    return {"a": summary(model.a.kernel[...]), "b": summary(model.b.kernel[...])}

@case("nnx_abstract_model_initialized_by_rules")
def _():
    from flax import nnx
    class MLP(nnx.Module):
        def __init__(self, rngs):
            self.a = nnx.Linear(256, 512, kernel_init=nnx.with_partitioning(nnx.initializers.lecun_normal(), (None, "x")), rngs=rngs)
    with jax.set_mesh(mesh):
        abstract = nnx.eval_shape(lambda: MLP(nnx.Rngs(0)))  # ShapeDtypeStruct leaves sharded over an AbstractMesh
    rules = {"*kernel": ui.HeNormal(), "*bias": ui.Zeros()}
    try:
        ui.jax.initialize(abstract, rules, seed=0)
        outside = "no error"
    except Exception as error:
        outside = f"{type(error).__name__}: {error}"[:300]
    with jax.set_mesh(mesh):
        model, _ = ui.jax.initialize(abstract, rules, seed=0)
    s = summary(model.a.kernel.get_value()); s["outside_set_mesh"] = outside; return s

@case("nnx_model_half_over_an_abstract_mesh_outside_it")
def _():
    from flax import nnx
    class Two(nnx.Module):
        def __init__(self):
            self.a_plain = nnx.eval_shape(lambda: nnx.Linear(4, 4, rngs=nnx.Rngs(0)))  # abstract, no mesh: drawable anywhere; written first
            with jax.set_mesh(mesh):
                self.b_meshed = nnx.eval_shape(lambda: nnx.Linear(4, 8, kernel_init=nnx.with_partitioning(nnx.initializers.lecun_normal(), (None, "x")), rngs=nnx.Rngs(0)))
    model = Two()
    try:
        ui.jax.initialize(model, {"*kernel": ui.HeNormal(), "*bias": ui.Zeros()}, seed=0)
        error = "no error"
    except Exception as raised:
        error = f"{type(raised).__name__}: {raised}"[:300]
    leaves = (model.a_plain.kernel, model.a_plain.bias, model.b_meshed.kernel, model.b_meshed.bias)
    return {"error": error, "concrete": [type(v.get_value()).__name__ for v in leaves if not isinstance(v.get_value(), jax.ShapeDtypeStruct)]}

@case("abstract_leaves_on_a_concrete_mesh")
def _():
    from unit_init.jax._params import SHARD_BY_SHARD_MIN
    side = int(SHARD_BY_SHARD_MIN ** 0.5)
    abstract = {"big": jax.ShapeDtypeStruct((side, side), jnp.float32, sharding=row),
                "small": jax.ShapeDtypeStruct(SHAPE, jnp.float32, sharding=row)}
    params, _ = ui.jax.initialize(abstract, {"big": ui.HeNormal(), "small": ui.HeNormal()}, seed=0)
    portable, _ = ui.jax.initialize({"big": abstract["big"]}, {"big": ui.HeUniform()}, seed=0, rng="portable")
    on_numpy, _ = ui.initialize({"big": np.zeros((side, side), np.float32)}, {"big": ui.HeUniform()}, seed=0, rng="portable")
    try:  # 6 rows over 4 devices: JAX's IndivisibleError after the seed was taken, or a misleading "needs the mesh"
        ui.jax.initialize({"odd": jax.ShapeDtypeStruct((6, 4), jnp.float32, sharding=row)}, {"*": ui.HeNormal()}, seed=0)
        indivisible = "no error"
    except Exception as error:
        indivisible = f"{type(error).__name__}: {error}"[:300]
    return {"big": summary(params["big"]), "small": summary(params["small"]), "side": side,
            "portable_equal_numpy": bool(np.array_equal(portable["big"], on_numpy["big"])), "indivisible": indivisible}

@case("concrete_sharded_leaves")
def _():
    """A model's concrete leaves already laid out over the mesh (made under jit, or device_put): a large one was drawn
    whole on one device and moved; now each device computes its shard, as for abstract leaves."""
    from unit_init.jax import _params
    side = int(_params.SHARD_BY_SHARD_MIN ** 0.5)
    leaves = {"big": jax.device_put(jnp.zeros((side, side), jnp.float32), row),
              "small": jax.device_put(jnp.zeros(SHAPE, jnp.float32), row)}
    moved = []
    put = jax.device_put
    def spy(x, *args, **kwargs):
        moved.append(int(np.prod(np.shape(x))))
        return put(x, *args, **kwargs)
    _params.jax.device_put = spy
    try:
        params, _ = ui.jax.initialize(leaves, {"big": ui.HeNormal(), "small": ui.HeNormal()}, seed=0)
    finally:
        _params.jax.device_put = put
    whole, _ = ui.jax.initialize({"big": jnp.zeros((side, side), jnp.float32)}, {"big": ui.HeNormal()}, seed=0)
    # the portable stream: each shard its block of the whole draw, eagerly (compiled as one program, XLA fused the
    # scaling's multiply and add: a uniform moved by an ulp, unlike NumPy's and torch's)
    portable, _ = ui.jax.initialize({"big": leaves["big"]}, {"big": ui.HeUniform()}, seed=0, rng="portable")
    on_numpy, _ = ui.initialize({"big": np.zeros((side, side), np.float32)}, {"big": ui.HeUniform()}, seed=0, rng="portable")
    # a pipeline stage's leaf on devices 2 and 3, initialized under the whole mesh: jit refused its devices
    stage = jax.sharding.Mesh(np.array(jax.devices()[2:]), ("x",), axis_types=(jax.sharding.AxisType.Auto,))
    staged = {"big": jax.device_put(jnp.zeros((side, side), jnp.float32), NamedSharding(stage, P(None, "x")))}
    with jax.set_mesh(mesh):
        staged, _ = ui.jax.initialize(staged, {"big": ui.HeNormal()}, seed=0)
    # leaves of one shape and rule compile once (each compiled anew, every call, before)
    layers = {f"l{i}": jax.device_put(jnp.zeros((side, side), jnp.float32), row) for i in range(4)}
    _params._compiled_native.cache_clear()
    for _ in range(2):
        stacked, _ = ui.jax.initialize(layers, {"*": ui.HeNormal()}, seed=0)
    compiles = _params._compiled_native.cache_info()
    each, _ = ui.jax.initialize({name: jnp.zeros((side, side), jnp.float32) for name in layers}, {"*": ui.HeNormal()}, seed=0)
    # inside the user's jit (set_mesh and eager shards refused there): traced as before
    jitted = {rng: jax.jit(lambda rng=rng: ui.jax.initialize({"big": leaves["big"]}, {"big": ui.HeUniform()}, seed=0, rng=rng)[0])()
              for rng in ("native", "portable")}
    eager = ui.jax.initialize({"big": leaves["big"]}, {"big": ui.HeUniform()}, seed=0)[0]
    return {"big": summary(params["big"]), "small": summary(params["small"]), "side": side, "moved": moved,
            "in_jit": [str(v["big"].sharding.spec) for v in jitted.values()], "in_jit_native_equal": bool(np.array_equal(jitted["native"]["big"], eager["big"])),
            "compiles": [compiles.misses, compiles.hits], "layers_equal_unsharded": all(bool(np.array_equal(stacked[k], each[k])) for k in layers),
            "big_equal_unsharded": bool(np.array_equal(params["big"], whole["big"])),
            "portable_spec": str(portable["big"].sharding.spec), "portable_equal_numpy": bool(np.array_equal(portable["big"], on_numpy["big"])),
            "staged_devices": [d.id for d in staged["big"].devices()], "staged_equal_unsharded": bool(np.array_equal(staged["big"], whole["big"]))}

@case("linen_sharded_init")
def _():
    from flax import linen
    model = linen.Dense(512, kernel_init=linen.with_partitioning(ui.jax.initializer(ui.HeNormal()), (None, "x")))
    x = jnp.ones((1, 256))
    shardings = linen.get_sharding(jax.eval_shape(model.init, key, x), mesh)
    params = jax.jit(model.init, out_shardings=shardings)(key, x)
    return summary(params["params"]["kernel"].value)

@case("linen_partitioned_initialize_under_set_mesh")
def _():
    """initialize on nn.with_partitioning boxes under jax.set_mesh: Flax's unbox() raised a raw TypeError there."""
    from flax import linen
    model = linen.Dense(512, kernel_init=linen.with_partitioning(linen.initializers.lecun_normal(), (None, "x")),
                        bias_init=linen.with_partitioning(linen.initializers.ones, ("x",)))
    x = jnp.ones((1, 256))
    rules = {"*kernel": ui.HeNormal(), "*bias": ui.Zeros()}
    plain = ui.jax.initialize(linen.unbox(model.init(key, x)), rules, seed=3).params["params"]["kernel"]
    out = {}
    with jax.set_mesh(mesh):
        abstract = jax.eval_shape(model.init, key, x)
        concrete = model.init(key, x)
        for name, tree in (("abstract", abstract), ("concrete", concrete)):
            kernel = ui.jax.initialize(tree, rules, seed=3).params["params"]["kernel"]
            out[name] = summary(kernel.value) | {"boxed": type(kernel).__name__, "equal": bool(np.array_equal(kernel.value, plain))}
        # a box no rule covers keeps its values (it came back abstract, its values lost)
        kept = ui.jax.initialize(concrete, {"*kernel": ui.HeNormal()}, seed=3).params["params"]["bias"]
        out["uncovered_bias_kept"] = type(kept).__name__ == "Partitioned" and bool(np.array_equal(np.asarray(kept.value), np.ones(512)))
    return out

@case("initialize_inside_jit")
def _():
    """initialize inside the user's jit: the drawn kernels came back replicated (P()), whatever their Flax metadata or
    their type said; eagerly they were laid out."""
    from flax import linen, nnx
    explicit = jax.make_mesh((4,), ("x",), axis_types=(jax.sharding.AxisType.Explicit,))
    class Net(nnx.Module):
        def __init__(self, rngs):
            self.a = nnx.Linear(256, 512, kernel_init=nnx.with_partitioning(nnx.initializers.lecun_normal(), (None, "x")), rngs=rngs)
    rules = {"*kernel": ui.HeNormal(), "*bias": ui.Zeros()}
    def made(module):
        module, _ = ui.jax.initialize(module, rules, seed=0)
        return module
    out = {}
    for label, where in (("auto", mesh), ("explicit", explicit)):
        with jax.set_mesh(where):
            out[f"nnx_{label}"] = summary(nnx.jit(lambda: made(Net(nnx.Rngs(0))))().a.kernel.get_value())
            out[f"nnx_abstract_{label}"] = summary(nnx.jit(lambda: made(nnx.eval_shape(lambda: Net(nnx.Rngs(0)))))().a.kernel.get_value())
    with jax.set_mesh(mesh):
        eager = made(Net(nnx.Rngs(0))).a.kernel.get_value()
        out["nnx_auto"]["equal_eager"] = bool(np.array_equal(eager, nnx.jit(lambda: made(Net(nnx.Rngs(0))))().a.kernel.get_value()))
    dense = linen.Dense(512, kernel_init=linen.with_partitioning(linen.initializers.lecun_normal(), (None, "x")))
    x = jnp.ones((1, 256))
    with jax.set_mesh(mesh):
        boxed = jax.jit(lambda: ui.jax.initialize(jax.eval_shape(dense.init, key, x), rules, seed=3).params)()["params"]["kernel"]
    out["linen_boxes"] = summary(boxed.value) | {"boxed": type(boxed).__name__}
    return out

@case("initialize_inside_jit_edges")
def _():
    """Layouts initialize cannot or need not apply inside a jit: each leaf is placed as before, never a raw JAX error
    (a review of the change: a mixed-axis mesh, logical names outside their rules, a device's sharding raised)."""
    from flax import linen, nnx
    rules = {"*kernel": ui.HeNormal(), "*bias": ui.Zeros()}
    out = {}
    device = jax.devices()[1]
    tree = {"kernel": jax.ShapeDtypeStruct((256, 128), jnp.float32, sharding=jax.sharding.SingleDeviceSharding(device))}
    out["single_device"] = str(jax.jit(lambda: ui.jax.initialize(tree, rules, seed=0).params)()["kernel"].devices())
    mixed = jax.make_mesh((2, 2), ("x", "y"), axis_types=(jax.sharding.AxisType.Explicit, jax.sharding.AxisType.Auto))
    for spec in (P(None, "x"), P(None, "y")):
        leaf = {"kernel": jax.ShapeDtypeStruct((256, 128), jnp.float32, sharding=NamedSharding(mixed, spec))}
        with jax.set_mesh(mixed):
            out[f"mixed_{spec}"] = str(jax.jit(lambda: ui.jax.initialize(leaf, rules, seed=0).params)()["kernel"].sharding.spec)
    class Net(nnx.Module):
        def __init__(self, rngs):
            self.a = nnx.Linear(256, 128, kernel_init=nnx.with_partitioning(nnx.initializers.lecun_normal(), ("embed", "mlp")), rngs=rngs)
    def logical():
        with nnx.logical_axis_rules((("embed", None), ("mlp", "x"))):
            net = Net(nnx.Rngs(0))
        ui.jax.initialize(net, rules, seed=0)  # outside the rules' context: the names mean nothing to the mesh
        return net.a.kernel.get_value()
    with jax.set_mesh(mesh):
        out["logical_names"] = summary(nnx.jit(logical)())
        dense = linen.Dense(128, kernel_init=linen.with_partitioning(linen.initializers.lecun_normal(), (None, "x")))
        abstract = jax.eval_shape(dense.init, key, jnp.ones((1, 256)))  # made eagerly, closed over by the jit
        out["linen_closed_over"] = summary(jax.jit(lambda: ui.jax.initialize(abstract, rules, seed=0).params)()["params"]["kernel"].value)
    return out

@case("keras_model_parallel")
def _():
    import keras
    import unit_init.keras
    devices = keras.distribution.list_devices()
    dmesh = keras.distribution.DeviceMesh((1, 4), ["batch", "model"], devices)
    layout_map = keras.distribution.LayoutMap(dmesh)
    layout_map["big/kernel"] = (None, "model")
    layout_map["small/kernel"] = ("model", None)
    keras.distribution.set_distribution(keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch"))
    layer = keras.layers.Dense(4096, kernel_initializer=unit_init.keras.initializer(ui.HeNormal()), name="big")
    layer.build((None, 4096))
    from keras.src.backend.jax.core import should_shard_at_init
    value = layer.kernel.value
    s = summary(value); s["sharded_at_init"] = bool(should_shard_at_init(layer.kernel._layout.backend_layout, (4096, 4096)))
    small = keras.layers.Dense(64, kernel_initializer=unit_init.keras.initializer(ui.GlorotUniform()), name="small")
    small.build((None, 256))
    s["small"] = summary(small.kernel.value)
    return s

@case("core_sharding_under_set_mesh")
def _():
    explicit = jax.make_mesh((4,), ("x",), axis_types=(jax.sharding.AxisType.Explicit,))
    out = {}
    try:
        ui.he_normal(SHAPE, sharding=P("x"), rng="portable", seed=0)
        out["spec_without_mesh"] = "no error"
    except Exception as error:
        out["spec_without_mesh"] = f"{type(error).__name__}: {error}"[:200]
    whole = np.asarray(ui.he_normal(SHAPE, backend="jax", rng="portable", seed=0))
    with jax.set_mesh(explicit):  # a mesh in scope refused each shard's single-device draw (a raw ValueError)
        by_sharding = ui.he_normal(SHAPE, sharding=NamedSharding(explicit, P("x", None)), rng="portable", seed=0)
        by_spec = ui.he_normal(SHAPE, sharding=P("x", None), rng="portable", seed=0)
        out["mesh_kept"] = list(jax.sharding.get_mesh().axis_names)
    out.update(by_sharding=summary(by_sharding), by_spec=summary(by_spec),
               equal=bool(np.array_equal(np.asarray(by_sharding), whole) and np.array_equal(np.asarray(by_spec), whole)))
    return out

@case("device_under_set_mesh")
def _():
    """device= committed the draw to one device, which a mesh in scope refused (a raw ValueError from jit)."""
    out = {}
    alone = {name: np.asarray(fn(SHAPE, backend="jax", seed=0, device="cpu:1", **kw))
             for name, (fn, kw) in {"native": (ui.he_uniform, {}), "orthogonal": (ui.orthogonal, {}),
                                    "portable": (ui.he_normal, {"rng": "portable"})}.items()}
    with jax.set_mesh(mesh):
        for name, (fn, kw) in {"native": (ui.he_uniform, {}), "orthogonal": (ui.orthogonal, {}),
                               "portable": (ui.he_normal, {"rng": "portable"})}.items():
            x = fn(SHAPE, backend="jax", seed=0, device=jax.devices()[1], **kw)
            out[name] = {"devices": sorted(d.id for d in x.devices()), "equal": bool(np.array_equal(np.asarray(x), alone[name]))}
        out["mesh_kept"] = list(jax.sharding.get_mesh().axis_names)
    return out

@case("device_inside_a_multi_device_jit")
def _():
    """A random draw with device= inside a jit over several devices: its own jit committed to one device was refused
    when the user's jit was lowered (a raw ValueError, "incompatible devices"); ui.zeros and jnp.ones(device=) worked."""
    out = {}
    x = jax.device_put(jnp.ones((8, SHAPE[0])), row)
    draws = {"native_int": (ui.he_uniform, {"seed": 0}), "native_key": (ui.he_normal, {"seed": key}),
             "orthogonal": (ui.orthogonal, {"seed": 0}), "truncated_far": (ui.truncated_normal, {"seed": 0, "lower": 3.0, "upper": 4.0})}
    for name, (fn, kw) in draws.items():
        eager = np.asarray(fn(SHAPE, backend="jax", device="cpu:1", **kw))
        inside = jax.jit(lambda x, fn=fn, kw=kw: (x @ fn(SHAPE, backend="jax", device="cpu:1", **kw), fn(SHAPE, backend="jax", device="cpu:1", **kw)))(x)
        out[name] = {"product": bool(np.allclose(np.asarray(inside[0]), np.asarray(x) @ eager, atol=1e-4)),
                     "equal": bool(np.array_equal(np.asarray(inside[1]), eager))}
        with jax.set_mesh(mesh):
            alone = jax.jit(lambda fn=fn, kw=kw: fn(SHAPE, backend="jax", device="cpu:1", **kw))()
        out[name]["set_mesh_equal"] = bool(np.array_equal(np.asarray(alone), eager))
        # placed inside a single-device jit as jit places jnp.ones(device=) there
        ours, theirs = jax.jit(lambda fn=fn, kw=kw: (fn(SHAPE, backend="jax", device="cpu:1", **kw), jnp.ones(SHAPE, device=jax.devices()[1])))()
        out[name]["placed_as_jnp"] = (ours.devices(), ours.committed) == (theirs.devices(), theirs.committed)
    return out

@case("out_sharding_memory_guard")
def _():
    """The adapter's eager out_sharding= draw runs compiled, where the guard saw nothing: a 256 MiB draw over four host
    devices went through UNIT_INIT_MAX_BYTES=100M, which refused the same draw unsharded and the core sharding= one."""
    import os
    init = ui.jax.initializer(ui.HeNormal())
    out = {}
    os.environ["UNIT_INIT_MAX_BYTES"] = "100M"
    try:
        for name, call in {"unsharded": lambda: init(key, (8192, 8192)),
                           "out_sharding": lambda: init(key, (8192, 8192), None, row),
                           "small": lambda: init(key, (1024, 1024), None, row)}.items():
            try:
                call()
                out[name] = "drawn"
            except ui.ResourceError as error:
                out[name] = str(error)[:140]
        out["in_jit"] = str(jax.jit(lambda k: init(k, (8192, 8192), None, row)).lower(key).out_info.shape)  # traced: not checked
    finally:
        del os.environ["UNIT_INIT_MAX_BYTES"]
    return out

@case("initialize_memory_guard_per_shard")
def _():
    """initialize checked a leaf it draws shard by shard as one array on one device: a 64 MiB leaf over four devices
    (each computing 16 MiB) was refused under UNIT_INIT_MAX_BYTES=120M, which the adapter's out_sharding= takes."""
    import os
    out = {}
    os.environ["UNIT_INIT_MAX_BYTES"] = "120M"
    try:
        for name, leaf in {"sharded": jax.ShapeDtypeStruct((4096, 4096), jnp.float32, sharding=row),
                           "whole": jax.ShapeDtypeStruct((4096, 4096), jnp.float32)}.items():
            for rng in ("native", "portable"):
                try:
                    tree, _ = ui.jax.initialize({"w": leaf}, {"*": ui.RandomUniform()}, seed=0, rng=rng)
                    out[f"{name}_{rng}"] = str(tree["w"].sharding.spec) if name == "sharded" else "drawn"
                except ui.ResourceError as error:
                    out[f"{name}_{rng}"] = str(error)[:60]
    finally:
        del os.environ["UNIT_INIT_MAX_BYTES"]
    return out

@case("sharding_misfits")
def _():
    out = {}
    for label, shape, spec in [("indivisible", (7, 5), P("x")), ("too_many_axes", (3,), P(None, "x")), ("rank_above", (4,), P("x", None, None))]:
        try:
            ui.he_normal(shape, sharding=NamedSharding(mesh, spec), rng="portable", seed=0)
            out[label] = "no error"
        except Exception as error:
            out[label] = f"{type(error).__name__}: {error}"[:200]
    adapter = ui.jax.initializer(ui.HeNormal())
    for label, sharding in [("out_rank_above", NamedSharding(mesh, P("x", None, None))), ("out_spec_rank_above", P("x", None))]:
        try:
            adapter(jax.random.key(0), (4,), out_sharding=sharding)
            out[label] = "no error"
        except Exception as error:
            out[label] = f"{type(error).__name__}: {error}"[:200]
    with jax.set_mesh(mesh):  # a PartitionSpec on the mesh in scope: jax's raw IndivisibleError / ValueError before
        for label, call in [("out_spec_indivisible", lambda: adapter(jax.random.key(0), (6, 4), out_sharding=P("x", None))),
                            ("out_spec_in_jit_indivisible", lambda: jax.jit(lambda k: adapter(k, (6, 4), out_sharding=P("x", None)))(jax.random.key(0))),
                            ("out_spec_unknown_axis", lambda: adapter(jax.random.key(0), (8, 4), out_sharding=P("z"))),
                            ("spec_unknown_axis", lambda: ui.he_normal((8, 4), sharding=P("z"), rng="portable", seed=0)),
                            ("out_spec_axis_twice", lambda: adapter(jax.random.key(0), (8, 8), out_sharding=P("x", "x"))),
                            ("out_spec_axis_twice_in_one", lambda: adapter(jax.random.key(0), (8, 8), out_sharding=P(("x", "x"),))),
                            ("out_named_unconstrained", lambda: adapter(jax.random.key(0), (8, 8), out_sharding=NamedSharding(mesh, P(P.UNCONSTRAINED, None)))),
                            ("traced_constant_array", lambda: jax.jit(lambda v: ui.jax.initializer(ui.ConstantArray(v))(key, (2, 3)))(jnp.arange(3.0)))]:
            try:
                call()
                out[label] = "no error"
            except Exception as error:
                out[label] = f"{type(error).__name__}: {error}"[:200]
    try:
        adapter(jax.random.key(0), (8, 8), out_sharding=P(P.UNCONSTRAINED, None))  # no mesh in scope
        out["out_spec_unconstrained"] = "no error"
    except Exception as error:
        out["out_spec_unconstrained"] = f"{type(error).__name__}: {error}"[:200]
    try:
        jax.jit(lambda: ui.he_normal((8, 4), sharding=row, rng="portable", seed=0))()
        out["inside_jit"] = "no error"
    except Exception as error:
        out["inside_jit"] = f"{type(error).__name__}: {error}"[:200]
    with jax.set_mesh(mesh):  # a PartitionSpec inside jit: jax's raw "get_mesh can only be used outside of jax.jit" before
        try:
            jax.jit(lambda: ui.he_normal((8, 4), sharding=P("x"), rng="portable", seed=0))()
            out["spec_inside_jit"] = "no error"
        except Exception as error:
            out["spec_inside_jit"] = f"{type(error).__name__}: {error}"[:200]
    return out

print(json.dumps(results))
'''


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    # XLA's default optimization, as users run it (the test session's level 0 fuses no multiply-add, and the portable
    # values compiled as one program matched the eager ones there only)
    flags = FOUR_HOST_DEVICES.replace("--xla_backend_optimization_level=0", "").strip()
    env = {
        **os.environ, "XLA_FLAGS": flags, "KERAS_BACKEND": "jax",
        "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "",
    }
    run = subprocess.run([sys.executable, "-c", _WORKER], capture_output=True, text=True, env=env, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    parsed: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return parsed


def _sharded(result: dict[str, Any], spec: str, std: float) -> None:
    assert "error" not in result, result.get("error")
    assert result["devices"] == 4
    assert result["spec"] == spec
    assert result["std"] == pytest.approx(std, rel=0.03)


@pytest.mark.parametrize("case", ["jit_out_shardings_core", "jit_out_shardings_int_seed", "adapter_out_sharding_eager"])
def test_jit_out_shardings_gives_the_eager_values_sharded(results: dict[str, Any], case: str) -> None:
    _sharded(results[case], "P('x', None)", HE_STD)
    assert results[case].get("equal_eager", True)
    assert results[case].get("equal_unsharded", True)


def test_a_key_committed_to_another_device_draws_into_out_sharding(results: dict[str, Any]) -> None:
    """A key committed to one device (out of a jit) with ``out_sharding=`` over others raised JAX's bare
    ``ValueError: Received incompatible devices``; the key is replicated over the sharding's devices first."""
    result = results["adapter_out_sharding_with_a_committed_key"]
    _sharded(result, "P('x', None)", HE_STD)
    assert result["equal_unsharded"]
    assert result["single"] == [1]


def test_out_sharding_inside_jit_on_an_explicit_mesh_is_the_arrays_type(results: dict[str, Any]) -> None:
    """A jit nested in the user's dropped its out_shardings from the type on an Explicit mesh: ``P(None, None)``."""
    assert results["adapter_out_sharding_in_jit_on_an_explicit_mesh"] == {
        "specs": ["P(None, 'model')", "P('data', None)"], "equal_unsharded": True,
    }


def test_adapter_object_jitted_with_out_shardings(results: dict[str, Any]) -> None:
    _sharded(results["jit_out_shardings_adapter"], "P('x', None)", (2 / sum(SHAPE)) ** 0.5)


def test_an_eager_draw_is_uncommitted_and_follows_committed_operands(results: dict[str, Any]) -> None:
    assert results["uncommitted_moves"] == {"committed": False, "sum_devices": [2]}


def test_jax_default_device_context_is_honoured_uncommitted(results: dict[str, Any]) -> None:
    assert results["default_device_context"] == {"devices": [3], "committed": False}


def test_vmap_and_shard_map(results: dict[str, Any]) -> None:
    assert results["vmap"] == {"shape": [4, *SHAPE], "distinct": 4}
    _sharded(results["shard_map"], "P('x',)", HE_STD)


def test_out_sharding_as_a_partition_spec_inside_a_shard_map_body_lays_out_over_its_mesh(results: dict[str, Any]) -> None:
    """``out_sharding=P()`` inside a ``shard_map`` body was a ParameterError asking for ``jax.set_mesh``, where
    ``jax.random.normal(k, shape, out_sharding=P())`` works there (helper 165): the draw is laid out over the body's mesh."""
    assert results["shard_map_out_sharding"] == {"Auto": True, "Explicit": True}


def test_flax_nnx_sharded_creation(results: dict[str, Any]) -> None:
    pytest.importorskip("flax")
    _sharded(results["nnx_sharded_creation"]["a"], "P(None, 'x')", HE_STD)
    _sharded(results["nnx_sharded_creation"]["b"], "P('x',)", (2 / (512 + 128)) ** 0.5)


def test_an_abstract_nnx_model_is_drawn_shard_by_shard_into_its_shardings(results: dict[str, Any]) -> None:
    """``nnx.eval_shape`` under ``jax.set_mesh`` gives leaves sharded over an AbstractMesh: ``device_put`` raised a raw
    ``ValueError``; each device now computes its shard (``jit`` with ``out_shardings``)."""
    result = results["nnx_abstract_model_initialized_by_rules"]
    _sharded(result, "P(None, 'x')", HE_STD)
    assert result["outside_set_mesh"].startswith("ParameterError: parameter 'a/")
    assert "call initialize inside `with jax.set_mesh(mesh):`" in result["outside_set_mesh"]


def test_a_model_half_over_an_abstract_mesh_is_refused_outside_it_before_any_leaf_is_made_concrete(results: dict[str, Any]) -> None:
    """The leaves over the abstract mesh need its concrete mesh in scope: checked with every other check, so the plain
    submodule is not made concrete first (it was: the refusal came at the first meshed leaf's write)."""
    result = results["nnx_model_half_over_an_abstract_mesh_outside_it"]
    assert result["error"].startswith("ParameterError: parameter 'b_meshed/"), result["error"]
    assert "call initialize inside `with jax.set_mesh(mesh):`" in result["error"]
    assert result["concrete"] == []


def test_abstract_leaves_on_a_concrete_mesh_take_its_sharding_large_ones_shard_by_shard(results: dict[str, Any]) -> None:
    result = results["abstract_leaves_on_a_concrete_mesh"]
    _sharded(result["small"], "P('x', None)", HE_STD)
    _sharded(result["big"], "P('x', None)", (2 / result["side"]) ** 0.5)
    assert result["portable_equal_numpy"]  # compiled as one program, the portable uniform moved by an ulp
    assert result["indivisible"].startswith("ParameterError: parameter 'odd' of shape (6, 4): a parameter's sharding"), result["indivisible"]
    assert "does not fit its shape (6, 4)" in result["indivisible"]


def test_concrete_sharded_leaves_keep_their_sharding_large_ones_drawn_shard_by_shard(results: dict[str, Any]) -> None:
    """Only the small leaf is drawn whole and moved; the large one's values are those of its unsharded draw."""
    result = results["concrete_sharded_leaves"]
    _sharded(result["small"], "P('x', None)", HE_STD)
    _sharded(result["big"], "P('x', None)", (2 / result["side"]) ** 0.5)
    assert result["moved"] == [SHAPE[0] * SHAPE[1]], result["moved"]
    assert result["big_equal_unsharded"]
    assert result["portable_spec"] == "P('x', None)"
    assert result["portable_equal_numpy"]
    assert result["compiles"] == [1, 7]  # 4 leaves, twice: one compile
    assert result["in_jit"] == ["P('x',)", "P('x',)"]
    assert result["in_jit_native_equal"]
    assert result["layers_equal_unsharded"]
    assert sorted(result["staged_devices"]) == [2, 3]
    assert result["staged_equal_unsharded"]


def test_flax_linen_sharded_init(results: dict[str, Any]) -> None:
    pytest.importorskip("flax")
    _sharded(results["linen_sharded_init"], "P(None, 'x')", HE_STD)


def test_flax_linen_partitioned_boxes_initialized_under_set_mesh(results: dict[str, Any]) -> None:
    pytest.importorskip("flax")
    result = results["linen_partitioned_initialize_under_set_mesh"]
    assert "error" not in result, result.get("error")
    assert result["uncovered_bias_kept"]
    for name in ("abstract", "concrete"):
        _sharded(result[name], "P(None, 'x')", HE_STD)
        assert result[name]["boxed"] == "Partitioned"
        assert result[name]["equal"]


@pytest.mark.parametrize("case", ["nnx_auto", "nnx_explicit", "nnx_abstract_auto", "nnx_abstract_explicit", "linen_boxes"])
def test_initialize_inside_jit_lays_out_each_parameter_as_its_metadata_or_type_says(results: dict[str, Any], case: str) -> None:
    pytest.importorskip("flax")
    result = results["initialize_inside_jit"]
    assert "error" not in result, result.get("error")
    _sharded(result[case], "P(None, 'x')", HE_STD)
    assert result["nnx_auto"]["equal_eager"]
    assert result["linen_boxes"]["boxed"] == "Partitioned"


def test_initialize_inside_jit_places_what_it_cannot_lay_out_as_before(results: dict[str, Any]) -> None:
    pytest.importorskip("flax")
    result = results["initialize_inside_jit_edges"]
    assert "error" not in result, result.get("error")
    assert result["single_device"] == "{CpuDevice(id=1)}"
    assert result["mixed_P(None, 'y')"] == "P(None, 'y')"  # its Auto axis: constrained
    assert "mixed_P(None, 'x')" in result  # its Explicit axis on a mixed mesh: left to XLA, not a ValueError
    assert "error" not in result["logical_names"]
    _sharded(result["linen_closed_over"], "P(None, 'x')", (2 / 256) ** 0.5)


def test_keras_model_parallel_kernels_large_sharded_at_creation_and_small(results: dict[str, Any]) -> None:
    pytest.importorskip("keras")
    result = results["keras_model_parallel"]
    _sharded(result, "P(None, 'model')", (2 / 4096) ** 0.5)
    assert result["sharded_at_init"]
    _sharded(result["small"], "P('model', None)", (2 / (256 + 64)) ** 0.5)


def test_core_sharding_works_under_set_mesh_also_as_a_partition_spec(results: dict[str, Any]) -> None:
    result = results["core_sharding_under_set_mesh"]
    assert "error" not in result, result.get("error")
    assert result["spec_without_mesh"].startswith("ParameterError: sharding=P('x',) is a PartitionSpec, which needs a mesh in scope")
    _sharded(result["by_sharding"], "P('x', None)", HE_STD)
    _sharded(result["by_spec"], "P('x', None)", HE_STD)
    assert result["equal"]
    assert result["mesh_kept"] == ["x"]


def test_device_is_honoured_under_set_mesh(results: dict[str, Any]) -> None:
    result = results["device_under_set_mesh"]
    assert "error" not in result, result.get("error")
    assert result == {name: {"devices": [1], "equal": True} for name in ("native", "orthogonal", "portable")} | {"mesh_kept": ["x"]}


def test_a_draw_with_device_inside_a_multi_device_jit_is_part_of_it(results: dict[str, Any]) -> None:
    result = results["device_inside_a_multi_device_jit"]
    assert "error" not in result, result.get("error")
    assert result == {name: {"product": True, "equal": True, "set_mesh_equal": True, "placed_as_jnp": True}
                      for name in ("native_int", "native_key", "orthogonal", "truncated_far")}


def test_the_adapters_out_sharding_draw_is_memory_guarded_shard_by_shard(results: dict[str, Any]) -> None:
    result = results["out_sharding_memory_guard"]
    assert "error" not in result, result.get("error")
    assert result["unsharded"].startswith("shape=(8192, 8192), dtype='float32' needs about")
    assert result["out_sharding"].startswith(  # each host device's shard, named as one
        "shape=(2048, 8192), dtype='float32', a block of the whole shape=(8192, 8192) (a region= or one device's shard), needs about"
    )
    assert result["small"] == "drawn"
    assert result["in_jit"] == "(8192, 8192)"


def test_initialize_checks_the_memory_of_a_leaf_drawn_shard_by_shard_on_each_device(results: dict[str, Any]) -> None:
    result = results["initialize_memory_guard_per_shard"]
    assert "error" not in result, result.get("error")
    assert result["sharded_native"] == result["sharded_portable"] == "P('x', None)"
    for rng in ("native", "portable"):  # the same leaf unsharded is refused
        assert result[f"whole_{rng}"].startswith("parameter 'w' of shape (4096, 4096): shape=(4096, 4096)")


def test_a_sharding_that_does_not_fit_or_a_draw_inside_jit_is_a_parameter_error(results: dict[str, Any]) -> None:
    misfits = results["sharding_misfits"]
    assert "error" not in misfits, misfits
    assert misfits["indivisible"].startswith("ParameterError: sharding=")
    assert "does not fit shape=(7, 5)" in misfits["indivisible"]
    assert misfits["too_many_axes"].startswith("ParameterError: sharding=")
    assert misfits["rank_above"].startswith("ParameterError: sharding="), misfits  # jax built a rank-1 array with a rank-3 sharding
    assert "does not fit shape=(4,)" in misfits["rank_above"]
    assert misfits["out_rank_above"].startswith("ParameterError: out_sharding="), misfits
    assert misfits["out_spec_rank_above"].startswith("ParameterError: out_sharding=P('x', None) does not fit shape=(4,)"), misfits
    assert misfits["out_spec_indivisible"] == "ParameterError: out_sharding=P('x', None) does not fit shape=(6, 4): a dimension of 6 does not divide into 4 shards (x)"
    assert misfits["out_spec_in_jit_indivisible"] == misfits["out_spec_indivisible"]
    assert misfits["out_spec_unknown_axis"].startswith("ParameterError: out_sharding=P('z',) does not fit shape=(8, 4): the mesh in scope has no axis 'z'")
    assert misfits["spec_unknown_axis"].startswith("ParameterError: sharding=P('z',) does not fit shape=(8, 4): the mesh in scope has no axis 'z'")
    # raw before: jax's DuplicateSpecError, a ValueError of jit's out_shardings, a ConcretizationTypeError
    assert misfits["out_spec_axis_twice"].startswith("ParameterError: out_sharding=P('x', 'x') does not fit shape=(8, 8): it maps the mesh axis 'x' to more than one dimension")
    assert misfits["out_named_unconstrained"].startswith("ParameterError: out_sharding=NamedSharding("), misfits["out_named_unconstrained"]
    assert "leaves an axis UNCONSTRAINED" in misfits["out_named_unconstrained"]
    assert misfits["out_spec_axis_twice_in_one"].startswith("ParameterError: out_sharding=P(('x', 'x'),) does not fit"), misfits
    assert misfits["out_spec_unconstrained"].startswith("ParameterError: out_sharding=P(UNCONSTRAINED, None) leaves an axis UNCONSTRAINED"), misfits
    assert misfits["traced_constant_array"].startswith("ParameterError: value=JitTracer(float32[3]) must be a number or a (nested, rectangular) array")
    assert misfits["inside_jit"].startswith("ParameterError: sharding= draws each shard on its device and cannot run inside jax.jit")
    assert misfits["spec_inside_jit"].startswith("ParameterError: sharding= draws each shard on its device and cannot run inside jax.jit")
