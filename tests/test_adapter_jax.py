"""The JAX / Flax adapter: the ``jax.nn.initializers`` protocol, in ``linen`` and ``nnx``, under ``jax.jit``."""

from __future__ import annotations

import math

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
