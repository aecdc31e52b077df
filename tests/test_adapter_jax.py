"""The JAX / Flax adapter: the ``jax.nn.initializers`` protocol, in ``linen`` and ``nnx``, under ``jax.jit``."""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

import unit_init as ui  # noqa: E402

FAN_IN, FAN_OUT = 256, 128


def _std(x: object) -> float:
    return float(np.asarray(x, dtype=np.float64).std())


def test_protocol_call_default_dtype_and_keys() -> None:
    init = ui.jax.initializer(ui.HeNormal())
    x = init(jax.random.key(0), (FAN_IN, FAN_OUT))
    assert x.shape == (FAN_IN, FAN_OUT)
    assert x.dtype == jnp.float32
    assert np.array_equal(x, init(jax.random.key(0), [FAN_IN, FAN_OUT]))
    assert not np.array_equal(x, init(jax.random.key(1), (FAN_IN, FAN_OUT)))
    assert init(jax.random.PRNGKey(0), (4, 4), jnp.bfloat16).dtype == jnp.bfloat16
    assert _std(x) == pytest.approx(math.sqrt(2 / FAN_IN), rel=0.05)


def test_a_raw_key_held_as_numpy_is_a_key_and_a_batch_of_keys_is_refused_even_for_an_empty_shape() -> None:
    """As ``jax.random`` takes them: ``np.asarray(PRNGKey(n))`` draws what ``PRNGKey(n)`` draws; a split batch is not one key."""
    init = ui.jax.initializer(ui.HeNormal())
    raw = jax.random.PRNGKey(3)
    np.testing.assert_array_equal(init(np.asarray(raw), (4, 6)), init(raw, (4, 6)))
    batch = jax.random.split(jax.random.key(0), 2)
    for shape in [(4, 6), (0, 3)]:  # nothing to draw for (0, 3), but the key is checked as for any draw
        with pytest.raises(ui.SeedError, match="takes one PRNG key"):
            init(batch, shape)


def test_traced_keys_under_jit_give_the_eager_values() -> None:
    init = ui.jax.initializer(ui.Orthogonal(gain=2.0))
    jitted = jax.jit(lambda key: init(key, (32, 16)))
    key = jax.random.key(3)
    np.testing.assert_allclose(jitted(key), init(key, (32, 16)), rtol=1e-5, atol=1e-6)
    batched = jax.jit(jax.vmap(lambda k: ui.jax.initializer(ui.HeUniform())(k, (8, 8))))(jax.random.split(key, 4))
    assert batched.shape == (4, 8, 8)
    assert len({float(b.sum()) for b in batched}) == 4


def test_flax_nnx_linear_under_jit() -> None:
    nnx = pytest.importorskip("flax.nnx")

    @nnx.jit
    def make() -> object:
        return nnx.Linear(
            FAN_IN, FAN_OUT, kernel_init=ui.jax.initializer(ui.HeNormal()), bias_init=ui.jax.initializer("ones"), rngs=nnx.Rngs(0)
        )

    layer = make()
    assert layer.kernel[...].shape == (FAN_IN, FAN_OUT)  # type: ignore[attr-defined]
    assert _std(layer.kernel[...]) == pytest.approx(math.sqrt(2 / FAN_IN), rel=0.05)  # type: ignore[attr-defined]
    assert np.all(np.asarray(layer.bias[...]) == 1)  # type: ignore[attr-defined]
    y = nnx.jit(lambda m, x: m(x))(layer, jnp.ones((2, FAN_IN)))
    assert y.shape == (2, FAN_OUT)


def test_flax_linen_dense_under_jit() -> None:
    linen = pytest.importorskip("flax.linen")
    dense = linen.Dense(FAN_OUT, kernel_init=ui.jax.initializer(ui.LecunUniform()))
    for key in (jax.random.key(0), jax.random.PRNGKey(0)):
        params = jax.jit(dense.init)(key, jnp.ones((1, FAN_IN)))["params"]
        kernel = np.asarray(params["kernel"])
        assert kernel.shape == (FAN_IN, FAN_OUT)
        assert np.abs(kernel).max() < math.sqrt(3 / FAN_IN)
        assert _std(kernel) == pytest.approx(math.sqrt(1 / FAN_IN), rel=0.05)
        assert np.all(np.asarray(params["bias"]) == 0)  # Flax's own default bias


def test_float64_without_x64_is_refused_not_narrowed() -> None:
    if jax.config.read("jax_enable_x64"):
        pytest.skip("x64 is on")
    with pytest.raises(ui.DTypeError, match="jax_enable_x64"):
        ui.jax.initializer(ui.HeNormal())(jax.random.key(0), (2, 2), jnp.float64)


def test_config_round_trip_and_hashable() -> None:
    init = ui.jax.initializer(ui.VarianceScaling(2.0, "fan_out", "uniform"), layout="torch")
    again = type(init).from_config(init.get_config())
    assert again == init
    assert hash(again) == hash(init)
    with pytest.raises(ui.UnitInitError):
        type(init).from_config({"spec": {"class_name": "os.system"}, "layout": "torch"})


# --- placement, jitting the object, layouts and fans, out_sharding ------------------------------


def test_eager_draws_are_uncommitted_as_jax_nn_initializers_are() -> None:
    key = jax.random.key(0)
    assert not ui.jax.initializer(ui.HeNormal())(key, (FAN_IN, FAN_OUT)).committed
    assert not jax.nn.initializers.he_normal()(key, (FAN_IN, FAN_OUT)).committed
    nnx = pytest.importorskip("flax.nnx")
    layer = nnx.Linear(FAN_IN, FAN_OUT, kernel_init=ui.jax.initializer(ui.HeNormal()), rngs=nnx.Rngs(0))
    assert not layer.kernel[...].committed  # type: ignore[attr-defined]


def test_jitting_one_object_repeatedly_is_safe_and_compiles_once() -> None:
    init = ui.jax.initializer(ui.GlorotNormal())
    key = jax.random.key(1)
    expected = init(key, (FAN_IN, FAN_OUT))
    assert weakref.ref(init)() is init
    for _ in range(5):
        np.testing.assert_allclose(jax.jit(init, static_argnums=(1, 2))(key, (FAN_IN, FAN_OUT), jnp.float32), expected, rtol=1e-6)
        np.testing.assert_allclose(jax.jit(init, static_argnames=("shape",))(key, shape=(FAN_IN, FAN_OUT)), expected, rtol=1e-6)
    as_static = jax.jit(lambda f, k: f(k, (FAN_IN, FAN_OUT)), static_argnums=0)
    for same in (init, ui.jax.initializer(ui.GlorotNormal()), init):  # equal objects share one compilation
        np.testing.assert_allclose(as_static(same, key), expected, rtol=1e-6)
    assert as_static._cache_size() == 1  # type: ignore[attr-defined]


def test_as_a_flax_linen_module_field() -> None:
    linen = pytest.importorskip("flax.linen")

    class Projection(linen.Module):  # type: ignore[misc]
        init_fn: Any

        @linen.compact
        def __call__(self, x: Any) -> Any:
            return x @ self.param("w", self.init_fn, (FAN_IN, FAN_OUT))

    module = Projection(ui.jax.initializer(ui.HeUniform()))
    assert hash(module) == hash(Projection(ui.jax.initializer(ui.HeUniform())))
    first = jax.jit(module.init)(jax.random.key(0), jnp.ones((1, FAN_IN)))["params"]["w"]
    second = jax.jit(module.init)(jax.random.key(0), jnp.ones((1, FAN_IN)))["params"]["w"]
    np.testing.assert_array_equal(first, second)
    assert _std(first) == pytest.approx(math.sqrt(2 / FAN_IN), rel=0.05)


def test_any_layout_and_fan_overrides_set_the_variance_and_round_trip() -> None:
    key = jax.random.key(2)
    by_layout = ui.jax.initializer(ui.HeNormal(), layout=ui.Layout(in_axis=1, out_axis=0))  # torch-style (out, in)
    by_fan = ui.jax.initializer(ui.HeNormal(), fan_in=4 * FAN_IN)
    assert _std(by_layout(key, (FAN_IN, FAN_OUT))) == pytest.approx(math.sqrt(2 / FAN_OUT), rel=0.05)
    assert _std(by_fan(key, (FAN_IN, FAN_OUT))) == pytest.approx(math.sqrt(2 / (4 * FAN_IN)), rel=0.05)
    for init in (by_layout, by_fan, ui.jax.initializer("glorot_uniform", layout="torch", fan_out=10)):
        again = type(init).from_config(init.get_config())
        assert again == init
        assert hash(again) == hash(init)


def test_out_sharding_places_the_same_values() -> None:
    init = ui.jax.initializer(ui.TruncatedNormal(stddev=0.5))
    key, cpu = jax.random.key(3), jax.devices()[0]
    sharding = jax.sharding.SingleDeviceSharding(cpu)
    placed = init(key, (FAN_IN, FAN_OUT), out_sharding=sharding)
    assert placed.committed
    assert placed.sharding == sharding
    np.testing.assert_array_equal(placed, init(key, (FAN_IN, FAN_OUT)))
    mesh = jax.make_mesh((1,), ("x",), axis_types=(jax.sharding.AxisType.Explicit,))
    with jax.set_mesh(mesh):
        named = init(key, (FAN_IN, FAN_OUT), out_sharding=jax.sharding.PartitionSpec("x", None))
    np.testing.assert_array_equal(named, placed)


@pytest.mark.parametrize("spec", [("a", "a"), (("a", "a"),)], ids=["two dimensions", "one dimension"])
def test_an_axis_named_twice_is_a_parameter_error_without_a_mesh_too(spec: tuple[Any, ...]) -> None:
    """With no mesh in scope the check passed and jit's ``out_shardings`` raised JAX's ``DuplicateSpecError``, an
    ``Exception`` only (under ``jax.set_mesh`` it was already this ``ParameterError``)."""
    init = ui.jax.initializer(ui.HeNormal())
    with pytest.raises(ui.ParameterError, match="maps the mesh axis 'a' to more than one dimension"):
        init(jax.random.key(0), (6, 6), out_sharding=jax.sharding.PartitionSpec(*spec))


# --- Haiku -------------------------------------------------------------------------------------


def test_haiku_initializer_in_hk_transform() -> None:
    hk = pytest.importorskip("haiku")

    def forward(x: Any) -> Any:
        x = hk.Conv2D(32, 3, w_init=ui.jax.haiku_initializer(ui.HeNormal()))(x)
        return hk.Linear(FAN_OUT, w_init=ui.jax.haiku_initializer(ui.GlorotUniform()), b_init=ui.jax.haiku_initializer("ones"))(x)

    transformed = hk.transform(forward)
    params = transformed.init(jax.random.key(0), jnp.ones((1, 8, 8, 16)))
    conv, linear = params["conv2_d"], params["linear"]
    assert conv["w"].shape == (3, 3, 16, 32)
    assert _std(conv["w"]) == pytest.approx(math.sqrt(2 / (9 * 16)), rel=0.05)
    assert _std(linear["w"]) == pytest.approx(math.sqrt(2 / (32 + FAN_OUT)), rel=0.05)
    assert np.all(np.asarray(linear["b"]) == 1)
    jitted = jax.jit(transformed.init)(jax.random.key(0), jnp.ones((1, 8, 8, 16)))
    np.testing.assert_allclose(jitted["linear"]["w"], linear["w"], rtol=1e-6)
    other = transformed.init(jax.random.key(1), jnp.ones((1, 8, 8, 16)))
    assert not np.array_equal(other["linear"]["w"], linear["w"])
    init = ui.jax.haiku_initializer(ui.HeNormal(), layout="torch", fan_in=3)
    assert type(init).from_config(init.get_config()) == init
    mistaken = hk.transform(lambda x: hk.Linear(8, w_init=ui.jax.initializer(ui.HeNormal()))(x))  # jax.nn's protocol in Haiku
    with pytest.raises(ui.SeedError, match=r"key=\[4, 8\].*Haiku's call, init\(shape, dtype\): use unit_init.jax.haiku_initializer"):
        mistaken.init(jax.random.key(0), jnp.ones((1, 4)))


def test_a_haiku_or_jax_initializer_that_draws_nothing_takes_no_key() -> None:
    """A constant or an identity took ``hk.next_rng_key()``: it failed outside ``hk.transform`` and under
    ``init(None, …)``, and moved the keys of every layer after it (porting ``b_init=Constant(0)`` changed the next
    layer's weights). Haiku's own ``Constant`` and ``Identity``, and ``jax.nn.initializers.zeros``, read no key."""
    hk = pytest.importorskip("haiku")

    def net(b_init: Any) -> Any:
        forward = lambda x: hk.Linear(4, name="b")(hk.Linear(4, b_init=b_init, name="a")(x))  # noqa: E731
        return hk.transform(forward).init(jax.random.key(0), jnp.ones((1, 4)))

    np.testing.assert_array_equal(net(ui.jax.haiku_initializer(ui.Zeros()))["b"]["w"], net(hk.initializers.Constant(0.0))["b"]["w"])
    keyless = hk.transform(lambda x: hk.Linear(3, w_init=ui.jax.haiku_initializer(ui.Constant(0.5)), b_init=ui.jax.haiku_initializer(ui.Zeros()))(x))
    assert np.all(np.asarray(keyless.init(None, jnp.ones((1, 4)))["linear"]["w"]) == 0.5)
    np.testing.assert_array_equal(ui.jax.haiku_initializer(ui.Identity())((3, 3), jnp.float32), np.eye(3))  # outside hk.transform
    np.testing.assert_array_equal(ui.jax.initializer(ui.Zeros())(None, (2,)), jax.nn.initializers.zeros(None, (2,)))
    rbg_words = jnp.zeros(4, jnp.uint32)  # another implementation's raw key: was a SeedError, though nothing reads it
    np.testing.assert_array_equal(ui.jax.initializer(ui.Zeros())(rbg_words, (2,)), jax.nn.initializers.zeros(rbg_words, (2,)))
    np.testing.assert_array_equal(ui.jax.initializer(ui.Constant(2.0))(rbg_words, (2,)), [2.0, 2.0])
    placed = jax.sharding.SingleDeviceSharding(jax.devices()[0])  # compiled with the key as its argument: a key it must be
    for key in (None, jax.random.key(0)):
        np.testing.assert_array_equal(ui.jax.initializer(ui.Identity())(key, (3, 3), out_sharding=placed), np.eye(3))
    with pytest.raises(ui.SeedError, match="key=None"):  # a random spec still needs its key
        ui.jax.initializer(ui.HeNormal())(None, (2, 2))


def test_haiku_module_paths_give_the_canonical_names_of_nested_modules() -> None:
    """Haiku names a module made inside another ``"net/~/fc"`` (one params key): it was one part of the canonical name
    (``net/~/fc.kernel``), so ``"net.*"`` matched nothing and a torch twin's ``net.fc`` drew other values."""
    hk = pytest.importorskip("haiku")
    torch = pytest.importorskip("torch")
    import unit_init.torch

    class Net(hk.Module):
        def __call__(self, x: Any) -> Any:
            return hk.Linear(4, name="fc")(x)

    params = hk.transform(lambda x: Net(name="net")(x)).init(jax.random.key(0), jnp.ones((1, 8)))
    seen: list[str] = []
    params, _ = ui.jax.initialize(params, {"net.*": ui.HeUniform()}, seed=0, rng="portable", names=lambda name: seen.append(name) or name)
    assert sorted(seen) == ["net.fc.bias", "net.fc.kernel"]
    twin = torch.nn.ModuleDict({"net": torch.nn.ModuleDict({"fc": torch.nn.Linear(8, 4)})})
    unit_init.torch.initialize(twin, {"net.*": ui.HeUniform()}, seed=0, rng="portable")
    (key,) = params
    np.testing.assert_array_equal(np.asarray(params[key]["w"]), twin["net"]["fc"].weight.detach().numpy().T)


def test_bad_call_arguments_are_typed_errors() -> None:
    jax = pytest.importorskip("jax")
    import unit_init as ui
    import unit_init.jax as uj
    from unit_init.errors import DTypeError, ParameterError, SeedError

    init = uj.initializer(ui.HeNormal())
    for dtype in ["bogus", "float8", 3]:
        with pytest.raises(DTypeError, match="dtype="):
            init(jax.random.key(0), (4, 4), dtype)
    for out_sharding in [1, "x", object()]:
        with pytest.raises(ParameterError, match=r"not a jax\.sharding\.Sharding"):
            init(jax.random.key(0), (4, 4), out_sharding=out_sharding)
    with pytest.raises(ParameterError, match="needs a mesh"):
        init(jax.random.key(0), (4, 4), out_sharding=jax.sharding.PartitionSpec("x"))
    for key in [None, 0, 7]:  # as jax.nn.initializers: a key, never a seed (None would draw unseeded)
        with pytest.raises(SeedError, match="PRNG key"):
            init(key, (4, 4))
    with pytest.raises(ParameterError, match="fan_in=<int of 1329 bits> must be a finite real number"):  # was an OverflowError
        uj.initializer("he_normal", fan_in=10**400)
    with pytest.raises(ParameterError, match=r"fan_out=0\.5 is below 1"):  # as a call's fan_out=
        uj.initializer("glorot_uniform", fan_out=0.5)


def test_the_constructors_check_what_the_factory_checks_and_keys_are_single_prng_keys() -> None:
    import unit_init as ui
    import unit_init.jax as uj
    from unit_init.errors import ArgumentError, ParameterError, SeedError

    key = jax.random.key(0)
    assert uj.JaxInitializer("he_normal") == uj.initializer(ui.HeNormal())  # a name, as the factory takes it
    with pytest.raises(ParameterError, match="not a unit_init initializer"):  # jax's own initializer: raw TypeError at the call before
        uj.JaxInitializer(jax.nn.initializers.he_normal())
    with pytest.raises(ArgumentError, match=r"JaxInitializer\(\) got an unexpected keyword argument 'layuot'.*Did you mean 'layout'"):
        uj.JaxInitializer(ui.HeNormal(), layuot="torch")
    with pytest.raises(ArgumentError, match="Did you mean 'layout'"):  # a raw TypeError before
        uj.haiku_initializer(ui.HeNormal(), layuot="torch")
    with pytest.raises(ParameterError, match=r"not a unit_init\.jax\.JaxInitializer"):
        uj.HaikuInitializer(ui.HeNormal())
    init = uj.initializer(ui.HeNormal())
    for bad in [0.5, jnp.int32(0), jax.random.split(key)]:  # the message named ints and None, which the adapter refuses
        with pytest.raises(SeedError, match="takes one PRNG key"):
            init(bad, (4, 4))
    with pytest.raises(SeedError, match="takes one PRNG key"):
        jax.jit(lambda seed: init(seed, (4, 4)))(jnp.int32(0))
    with pytest.raises(ParameterError, match=r"jax\.set_mesh"):  # jax.sharding.use_mesh, named before, is gone from JAX
        init(key, (4, 4), out_sharding=jax.sharding.PartitionSpec())


def test_python_int_is_jaxs_default_integer_dtype_as_in_jax_numpy() -> None:
    import unit_init as ui
    import unit_init.jax as uj

    key = jax.random.key(0)
    want = jnp.zeros(2, int).dtype  # int32 without x64, with no warning
    assert uj.initializer(ui.Zeros())(key, (2,), int).dtype == want == jax.nn.initializers.zeros(key, (2,), int).dtype
    assert uj.initializer(ui.Ones(), dtype=int)(key, (2,)).dtype == want


def test_another_frameworks_dtype_is_read_by_its_name_in_a_call_as_in_the_factory() -> None:
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    import unit_init.jax as uj

    assert uj.initializer("he_normal")(jax.random.key(0), (2, 2), torch.bfloat16).dtype == jax.numpy.bfloat16
    assert uj.initializer("he_normal", dtype=torch.bfloat16)(jax.random.key(0), (2, 2)).dtype == jax.numpy.bfloat16


def test_the_linen_form_with_an_nnx_model_and_bad_modules_are_typed_errors() -> None:
    jax = pytest.importorskip("jax")
    nnx = pytest.importorskip("flax.nnx")
    import unit_init as ui
    import unit_init.jax as uj

    model = nnx.Sequential(nnx.Linear(4, 8, rngs=nnx.Rngs(0)))
    for call in (uj.lsuv, uj.diagnose):
        with pytest.raises(ui.ParameterError, match="is the linen form"):
            call(model, {}, jax.numpy.ones((4, 4)))
    with pytest.raises(ui.ParameterError, match="modules=3"):
        uj.initialize({"w": jax.numpy.zeros((3, 3))}, {"*": ui.HeNormal()}, modules=3)  # type: ignore[arg-type]


def test_abstract_parameters_that_fit_one_by_one_but_not_together_are_refused_before_any_is_drawn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each made-concrete leaf stays allocated: the memory check counts the ones before it (each 32 MiB leaf alone fit
    the 100 MiB free, and the fourth was refused only once three were drawn; an nnx model was left half concrete)."""
    nnx = pytest.importorskip("flax.nnx")
    import unit_init.jax
    from unit_init.backends.jax_backend import JaxBackend

    monkeypatch.delenv("UNIT_INIT_MAX_BYTES", raising=False)
    monkeypatch.setattr(JaxBackend, "free_bytes", lambda self, device: 100 << 20)
    leaf = jax.ShapeDtypeStruct((2048, 4096), jnp.float32)  # 32 MiB
    with pytest.raises(ui.ResourceError, match=r"'d'.*96.0 MiB of it for the arrays checked before this one, which the call keeps"):
        unit_init.jax.initialize({"a": leaf, "b": leaf, "c": leaf, "d": leaf}, {"*": ui.Zeros()}, seed=0)
    params, _ = unit_init.jax.initialize({"a": leaf, "b": leaf}, {"*": ui.Zeros()}, seed=0)  # 64 MiB: fits
    assert all(isinstance(value, jax.Array) for value in params.values())

    class Big(nnx.Module):
        def __init__(self, rngs: Any) -> None:
            self.layers = nnx.List([nnx.Linear(2048, 4096, use_bias=False, rngs=rngs) for _ in range(4)])

    model = nnx.eval_shape(lambda: Big(nnx.Rngs(0)))
    with pytest.raises(ui.ResourceError, match="layers/3/kernel"):
        unit_init.jax.initialize(model, {"*": ui.Zeros()}, seed=0)
    assert all(isinstance(layer.kernel.get_value(), jax.ShapeDtypeStruct) for layer in model.layers)  # none made concrete


def test_abstract_parameters_from_eval_shape_become_arrays_placed_by_their_sharding() -> None:
    """``jax.eval_shape`` gives ShapeDtypeStruct leaves: the rules drew nothing (every rule 'matched no parameter')."""
    linen = pytest.importorskip("flax.linen")
    import unit_init.jax

    model = linen.Dense(512)
    abstract = jax.eval_shape(model.init, jax.random.key(0), jnp.ones((1, 256), jnp.bfloat16))
    device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    abstract["params"]["kernel"] = jax.ShapeDtypeStruct((256, 512), jnp.bfloat16, sharding=device)
    abstract["params"]["extra"] = jax.ShapeDtypeStruct((3,), jnp.float32)
    params, report = ui.initialize(abstract, {"kernel": ui.HeNormal(), "bias": ui.Zeros()}, seed=0)
    assert report.unmatched == ("extra",)
    kernel = params["params"]["kernel"]
    assert isinstance(kernel, jax.Array)
    assert kernel.dtype == jnp.bfloat16
    assert kernel.committed
    assert kernel.sharding == device
    assert np.var(np.asarray(kernel, np.float64)) == pytest.approx(2 / 256, rel=0.015)  # 131k values: sd 0.4 %; 3 % fails
    assert np.asarray(params["params"]["bias"]).tolist() == [0.0] * 512
    assert isinstance(params["params"]["extra"], jax.ShapeDtypeStruct)  # no rule: left abstract, and reported
    same, _ = unit_init.jax.initialize({"params": {"kernel": jnp.zeros((256, 512), jnp.bfloat16)}}, {"kernel": ui.HeNormal()}, seed=0)
    assert np.array_equal(np.asarray(same["params"]["kernel"], np.float32), np.asarray(kernel, np.float32))


def test_linen_boxed_parameters_are_named_drawn_and_reboxed_as_their_values() -> None:
    """``nn.with_partitioning`` boxes (``nn.Partitioned``) were named ``Dense_0/kernel/value`` (``*/kernel`` matched
    nothing), a boxed bias took its fan from its own shape, and linen ``lsuv``/``diagnose`` raised raw errors."""
    linen = pytest.importorskip("flax.linen")
    import unit_init.jax

    class Model(linen.Module):
        @linen.compact
        def __call__(self, x: Any) -> Any:
            boxed = linen.with_partitioning(linen.initializers.zeros, (None, "model"))
            x = linen.Dense(512, kernel_init=boxed, bias_init=linen.with_partitioning(linen.initializers.zeros, ("model",)))(x)
            return linen.Dense(8)(x)

    x = jax.random.normal(jax.random.key(1), (64, 256))
    params = Model().init(jax.random.key(0), x)
    new, report = unit_init.jax.initialize(params, {"*/kernel": ui.HeNormal(), "*/bias": ui.HeUniform()}, seed=0)
    assert report.unmatched == ()
    assert set(dict(report.applied)) == {"Dense_0/kernel", "Dense_0/bias", "Dense_1/kernel", "Dense_1/bias"}
    kernel, bias = new["params"]["Dense_0"]["kernel"], new["params"]["Dense_0"]["bias"]
    assert isinstance(kernel, linen.Partitioned)
    assert kernel.names == (None, "model")
    assert np.var(np.asarray(kernel.value, np.float64)) == pytest.approx(2 / 256, rel=0.03)  # 131k values
    assert float(np.abs(np.asarray(bias.value)).max()) <= (6 / 256) ** 0.5  # the kernel's fan_in, not the bias's 512
    assert float(np.abs(np.asarray(bias.value)).max()) > (6 / 512) ** 0.5
    rescaled, lsuv_report = unit_init.jax.lsuv(Model(), params, x, seed=0)
    assert isinstance(rescaled["params"]["Dense_0"]["kernel"], linen.Partitioned)
    assert all(row.converged for row in lsuv_report.layers)
    assert unit_init.jax.diagnose(Model(), new, x).layers == ("Dense_0", "Dense_1")


def test_initialize_gives_flax_general_kernels_the_fans_flax_gives_them() -> None:
    """An attention block's ``LinearGeneral``/``DenseGeneral`` kernels ``(128, 4, 32)`` were read as a window of 128:
    LeCun's std came out half of Flax's own (fans 512 and 4096 instead of 128 and 128)."""
    nnx = pytest.importorskip("flax.nnx")
    nn = pytest.importorskip("flax.linen")
    import unit_init.jax

    want = 1 / math.sqrt(128)  # 128·128 values: the std's sampling error is 0.6 %
    rules = {"*kernel": ui.LecunNormal(), "*bias": ui.Zeros()}
    block = nnx.MultiHeadAttention(num_heads=4, in_features=128, qkv_features=128, decode=False, rngs=nnx.Rngs(0))
    unit_init.jax.initialize(block, rules, seed=0)
    for kernel in (block.query.kernel, block.value.kernel, block.out.kernel):
        assert float(np.std(np.asarray(kernel[...]))) == pytest.approx(want, rel=0.03)

    class Attention(nn.Module):
        @nn.compact
        def __call__(self, x: Any) -> Any:
            return nn.MultiHeadDotProductAttention(num_heads=4, qkv_features=128)(x)

    x = np.ones((2, 3, 128), np.float32)
    key = jax.random.key(0)
    variables, _ = unit_init.jax.initialize(Attention().init(key, x), rules, seed=0, modules=Attention().module_paths(key, x))
    for name in ("query", "out"):
        assert float(np.std(np.asarray(variables["params"]["MultiHeadDotProductAttention_0"][name]["kernel"]))) == pytest.approx(want, rel=0.03)

    class Batched(nn.Module):  # Flax flattens a DenseGeneral kernel (batch, in, out) to (batch·in, out) for its init
        @nn.compact
        def __call__(self, x: Any) -> Any:
            return nn.DenseGeneral(features=64, axis=-1, batch_dims=(0,))(x)

    x = np.ones((4, 3, 128), np.float32)
    variables, _ = unit_init.jax.initialize(Batched().init(key, x), rules, seed=0, modules=Batched().module_paths(key, x))
    kernel = np.asarray(variables["params"]["DenseGeneral_0"]["kernel"])  # (4, 128, 64): fan_in 4·128
    assert kernel.shape == (4, 128, 64)
    assert float(np.std(kernel)) == pytest.approx(1 / math.sqrt(4 * 128), rel=0.03)


def test_stacked_flax_general_kernels_keep_the_stack_out_of_the_fans_and_an_explicit_layout_wins() -> None:
    """A ``LinearGeneral`` built by ``nnx.vmap`` (kernel ``(8, 16, 4, 8)``) took the stack axis into ``fan_in``, and the
    ``layout=`` porting.md tells stacked parameters to pass was replaced."""
    nnx = pytest.importorskip("flax.nnx")
    import unit_init.jax

    @nnx.split_rngs(splits=8)
    @nnx.vmap(in_axes=(0,), out_axes=0)
    def make(rngs: Any) -> Any:
        return nnx.LinearGeneral(64, (4, 8), rngs=rngs)

    spec = ui.VarianceScaling(scale=1.0, mode="fan_in", distribution="untruncated_normal")
    stacked = make(nnx.Rngs(0))
    unit_init.jax.initialize(stacked, {"kernel": spec}, seed=0)
    assert _std(stacked.kernel[...]) == pytest.approx(1 / math.sqrt(64), rel=0.03)  # 8·64·32 values
    unit_init.jax.initialize(stacked, {"kernel": spec}, seed=0, layout=ui.Layout(in_axis=(0, 1), out_axis=(2, 3)))
    assert _std(stacked.kernel[...]) == pytest.approx(1 / math.sqrt(8 * 64), rel=0.03)  # the caller's axes, as asked


def test_stacked_linear_and_conv_kernels_keep_the_stack_out_of_the_fans() -> None:
    """An ensemble of ``nnx.Linear(64, 32)`` (kernel ``(8, 64, 32)``) took the stack as a window: fan_in 512, the std
    a third of Flax's own; so did a linen ``nn.scan`` of six ``Dense`` blocks (``(6, 64, 64)``)."""
    nnx = pytest.importorskip("flax.nnx")
    nn = pytest.importorskip("flax.linen")
    import unit_init.jax

    spec = ui.VarianceScaling(scale=1.0, mode="fan_in", distribution="untruncated_normal")

    @nnx.split_rngs(splits=8)
    @nnx.vmap(in_axes=(0,), out_axes=0)
    def linears(rngs: Any) -> Any:
        return nnx.Linear(64, 32, rngs=rngs)

    @nnx.split_rngs(splits=4)
    @nnx.vmap(in_axes=(0,), out_axes=0)
    def convs(rngs: Any) -> Any:
        return nnx.Conv(8, 16, (3, 3), rngs=rngs)

    for make, fan_in in ((linears, 64), (convs, 72)):
        stacked = make(nnx.Rngs(0))
        unit_init.jax.initialize(stacked, {"kernel": spec, "bias": ui.Zeros()}, seed=0)
        assert _std(stacked.kernel[...]) == pytest.approx(1 / math.sqrt(fan_in), rel=0.03)

    class Block(nn.Module):
        @nn.compact
        def __call__(self, x: Any, _: Any) -> Any:
            return nn.relu(nn.Dense(64, name="fc")(x)), None

    class Scanned(nn.Module):
        @nn.compact
        def __call__(self, x: Any) -> Any:
            return nn.scan(Block, variable_axes={"params": 0}, split_rngs={"params": True}, length=6)(name="blocks")(x, None)[0]

    x, key = np.ones((2, 64), np.float32), jax.random.key(0)
    variables, _ = unit_init.jax.initialize(
        Scanned().init(key, x), {"*kernel": spec, "*bias": ui.Zeros()}, seed=0, modules=Scanned().module_paths(key, x)
    )
    assert _std(variables["params"]["blocks"]["fc"]["kernel"]) == pytest.approx(1 / 8, rel=0.03)  # 6·64·64 values


def test_an_nnx_param_holding_a_python_value_stays_as_it_is() -> None:
    """``nnx.Param(1.0)`` (a temperature), ``nnx.Param(None)``: not arrays, so not drawn, as a pytree's Python leaves
    (it was an ``AttributeError``: ``'float' object has no attribute 'shape'``)."""
    nnx = pytest.importorskip("flax.nnx")
    import unit_init.jax

    class Model(nnx.Module):
        def __init__(self, rngs: Any) -> None:
            self.fc = nnx.Linear(3, 3, rngs=rngs)
            self.temperature, self.unset = nnx.Param(1.0), nnx.Param(None)

    model = Model(nnx.Rngs(0))
    _, report = unit_init.jax.initialize(model, {"*": ui.Zeros()}, seed=0)
    assert set(report.applied) == {"fc/kernel", "fc/bias"}
    assert model.temperature.get_value() == 1.0
    assert model.unset.get_value() is None
    assert not np.asarray(model.fc.kernel[...]).any()


def test_a_dict_jax_cannot_flatten_is_a_parameter_error() -> None:
    """Keys of two types (``{"fc": …, 0: …}``): ``jax.tree_util`` cannot sort them (it raised its own ``ValueError``)."""
    import unit_init.jax

    params = {"fc": jnp.zeros((3, 4)), 0: jnp.zeros(3)}
    for initialize in (unit_init.jax.initialize, ui.initialize):
        with pytest.raises(ui.ParameterError, match="no pytree JAX can flatten: Comparator raised"):
            initialize(params, {"*": ui.Zeros()}, seed=0)


def test_a_cyclic_pytree_is_refused_before_jax_walks_it() -> None:
    import json

    import unit_init.jax

    params: dict[str, Any] = {"kernel": jnp.zeros((2, 2))}
    params["self"] = params
    with pytest.raises(ui.ParameterError, match="contains itself"):
        unit_init.jax.initialize(params, {"*": ui.HeNormal()}, seed=0)
    assert json.dumps([[1]]) == "[[1]]"  # jax.tree_util's endless recursion left the interpreter unusable


def test_a_registered_pytree_node_that_holds_itself_is_refused_before_jax_walks_it() -> None:
    """An Equinox module whose list holds itself: ``check_tree`` walks only dicts, lists and tuples, so JAX recursed
    (``RecursionError``, the interpreter's exit handlers broken after it); a nest too deep is refused likewise."""
    import json

    eqx = pytest.importorskip("equinox")
    import unit_init.jax

    class Holder(eqx.Module):
        items: list[Any]

    cyclic = Holder([jnp.zeros(3)])
    cyclic.items.append(cyclic.items)
    for initialize in (unit_init.jax.initialize, ui.initialize):
        with pytest.raises(ui.ParameterError, match="contain themselves"):
            initialize(cyclic, {"*": ui.Zeros()}, seed=0)
    deep: Any = jnp.zeros(2)
    for _ in range(300):
        deep = Holder([deep])
    with pytest.raises(ui.ParameterError, match="nest deeper than 256"):
        unit_init.jax.initialize(deep, {"*": ui.Zeros()}, seed=0)
    assert json.dumps([[1]]) == "[[1]]"


@pytest.mark.parametrize(
    ("spec", "with_modules", "warned"),
    [(ui.LecunNormal(), False, True), (ui.GlorotUniform(), False, True), (ui.LecunNormal(), True, False), (ui.RandomNormal(), False, False)],
    ids=["lecun", "glorot", "lecun-with-modules", "layout-free"],
)
def test_linen_attention_kernels_read_without_modules_are_warned_about(spec: ui.Initializer, with_modules: bool, warned: bool) -> None:
    """Without ``modules=`` a linen ``MultiHeadDotProductAttention``'s ``(64, 4, 16)`` query kernel is read in the plain
    "keras" layout (fan_in 256, where Flax's is 64): ``LecunNormal``'s std came out halved, silently. A fan-scaled
    spec warns; with ``modules=`` (Flax's fans) or a law without fans, nothing; a Conv1D kernel is no projection."""
    import warnings

    import unit_init.jax

    linen = pytest.importorskip("flax.linen")

    class Block(linen.Module):
        @linen.compact
        def __call__(self, x: Any) -> Any:
            return linen.Conv(64, (3,))(linen.MultiHeadDotProductAttention(num_heads=4, qkv_features=64)(x))

    block, x = Block(), jnp.ones((1, 5, 64))
    variables = block.init(jax.random.key(0), x)
    modules = block.module_paths(jax.random.key(0), x) if with_modules else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        new, _ = unit_init.jax.initialize(variables, {"*.kernel": spec}, seed=0, modules=modules)
    messages = [str(w.message) for w in caught if "attention projections" in str(w.message)]
    assert bool(messages) == warned, messages
    if warned:
        assert "MultiHeadDotProductAttention_0/key/kernel" in messages[0]
        assert "Conv_0" not in messages[0]
    if with_modules:  # Flax's fans: Var = 1/64
        assert abs(float(new["params"]["MultiHeadDotProductAttention_0"]["query"]["kernel"].std()) * 8 - 1) < 0.05


def test_an_nnx_state_from_split_is_initialized_as_its_module_is() -> None:
    """``nnx.split``'s ``State`` holds ``nnx.Variable`` nodes: its leaves were named ``fc1/kernel/value``, so globs on
    ``*.kernel`` matched nothing, a bias was drawn with its own fans (variance 2/128, not 2/256) and every seed moved;
    ``ui.initialize`` found no JAX array in it and changed nothing. Non-parameter variables (``BatchStat``) stay."""
    nnx = pytest.importorskip("flax.nnx")

    class Model(nnx.Module):
        def __init__(self, rngs: Any) -> None:
            self.fc1 = nnx.Linear(256, 128, rngs=rngs)
            self.bn = nnx.BatchNorm(128, rngs=rngs)

    rules = {"*": ui.HeNormal()}
    graphdef, state = nnx.split(Model(nnx.Rngs(0)))
    module, _ = ui.jax.initialize(Model(nnx.Rngs(0)), rules, seed=0)
    for initialize in (ui.jax.initialize, ui.initialize):
        new_state, report = initialize(state, rules, seed=0)
        assert sorted(report.applied) == ["bn/bias", "bn/scale", "fc1/bias", "fc1/kernel"]
        assert type(new_state["fc1"]["kernel"]) is nnx.Param
        merged = nnx.merge(graphdef, new_state)
        for name in ("kernel", "bias"):
            np.testing.assert_array_equal(getattr(merged.fc1, name)[...], getattr(module.fc1, name)[...])
        np.testing.assert_array_equal(merged.bn.mean[...], state["bn"]["mean"][...])
    _, report = ui.initialize(state, {"*.kernel": ui.HeNormal()}, seed=0)
    assert dict(report.applied) == {"fc1/kernel": 0}


def test_python_float_as_the_default_dtype_is_read_when_called_as_jax_reads_it() -> None:
    import unit_init as ui
    import unit_init.jax as uj

    key = jax.random.key(0)
    ours, theirs = uj.initializer(ui.HeNormal(), dtype=float), jax.nn.initializers.he_normal(dtype=float)
    built_off = jax.config.read("jax_enable_x64")
    with jax.enable_x64(not built_off):  # the switch turned after the initializer was built
        assert ours(key, (2, 2)).dtype == theirs(key, (2, 2)).dtype == jnp.dtype("float32" if built_off else "float64")
    again = type(ours).from_config(ours.get_config())  # saved as "float", read back as Python's float
    assert again == ours
    assert hash(again) == hash(ours)
    with jax.enable_x64(not built_off):
        assert again(key, (2, 2)).dtype == theirs(key, (2, 2)).dtype
    assert uj.initializer(ui.Ones(), dtype=complex)(key, (2,)).dtype == jnp.zeros(2, complex).dtype
    for name, kind in (("float", float), ("complex", complex), ("int", int)):  # a config's names mean the same given directly
        assert uj.initializer(ui.Ones(), dtype=name) == uj.initializer(ui.Ones(), dtype=kind)
