"""A native seed object selects its own backend where ``backend=`` and ``like=`` are absent (docs/seeds.md)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import unit_init as ui
from unit_init.seeds import seed_backend


def test_numpy_generator_selects_numpy_even_in_another_context() -> None:
    pytest.importorskip("torch")
    with ui.use_backend("torch"):
        values = ui.he_normal((4, 4), seed=np.random.default_rng(0))
    assert isinstance(values, np.ndarray)
    np.testing.assert_array_equal(values, ui.he_normal((4, 4), backend="numpy", seed=np.random.default_rng(0)))


def test_plain_values_name_no_backend() -> None:
    assert [seed_backend(s) for s in (None, 0, 2**40, "x", np.zeros(2, np.uint32))] == [None] * 5


def test_a_numpy_uint32_pair_is_not_a_jax_key() -> None:
    with pytest.raises(ui.SeedError, match="numpy backend"):
        ui.he_normal((4, 4), seed=np.array([0, 1], np.uint32))


# --- JAX ---------------------------------------------------------------------------------------


def test_jax_keys_typed_and_raw_select_jax_eagerly_and_under_jit() -> None:
    jax = pytest.importorskip("jax")
    for key in (jax.random.key(3), jax.random.PRNGKey(3)):
        values = ui.he_normal((8, 4), seed=key)
        assert isinstance(values, jax.Array)
        np.testing.assert_array_equal(values, ui.he_normal((8, 4), backend="jax", seed=key))
        traced = jax.jit(lambda k: ui.he_normal((8, 4), seed=k))(key)
        np.testing.assert_allclose(traced, values, rtol=1e-6)
    batched = jax.vmap(lambda k: ui.glorot_uniform((4, 4), seed=k))(jax.random.split(jax.random.key(0), 3))
    assert batched.shape == (3, 4, 4)


def test_other_jax_arrays_are_refused_by_the_jax_backend() -> None:
    """Not keys, but JAX's: the error names the keys JAX takes (it spoke of NumPy Generators), also through a preset."""
    jnp = pytest.importorskip("jax.numpy")
    for seed in (jnp.zeros(2, jnp.float32), jnp.zeros(3, jnp.uint32), jnp.array([0, 7, 1, 2], jnp.int32), jnp.array(3)):
        assert seed_backend(seed) == "jax"
        with pytest.raises(ui.SeedError, match=r"not a seed for the jax backend.*jax\.random\.key"):
            ui.he_normal((4, 4), seed=seed)
        with pytest.raises(ui.SeedError, match="not a seed for the jax backend"):
            ui.keras_dense((4, 4), seed=seed)


def test_context_device_and_dtype_apply_to_its_own_backend_only() -> None:
    jax = pytest.importorskip("jax")
    key = jax.random.key(0)
    with ui.use_backend("jax", dtype="bfloat16"):
        assert ui.he_normal((4, 4), seed=key).dtype == jax.numpy.bfloat16
    with ui.use_backend("numpy", dtype="float16"):
        values = ui.he_normal((4, 4), seed=key)
    assert isinstance(values, jax.Array)
    assert values.dtype == jax.numpy.float32


def test_an_explicit_backend_or_like_that_conflicts_raises() -> None:
    jax = pytest.importorskip("jax")
    with pytest.raises(ui.SeedError, match="numpy backend"):
        ui.he_normal((4, 4), backend="numpy", seed=jax.random.key(0))
    with pytest.raises(ui.SeedError, match="numpy backend"):
        ui.he_normal((4, 4), like=np.zeros((4, 4)), seed=jax.random.key(0))


# --- torch and TensorFlow ------------------------------------------------------------------------


def test_torch_generator_selects_torch_and_advances() -> None:
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(0)
    first, second = ui.he_normal((64, 32), seed=generator), ui.he_normal((64, 32), seed=generator)
    assert isinstance(first, torch.Tensor)
    assert not torch.equal(first, second)
    assert torch.equal(first, ui.he_normal((64, 32), backend="torch", seed=torch.Generator().manual_seed(0)))
    with pytest.raises(ui.SeedError):
        ui.he_normal((4, 4), backend="numpy", seed=generator)


def test_tf_generator_selects_tensorflow() -> None:
    tf = pytest.importorskip("tensorflow")
    values = ui.he_normal((64, 32), seed=tf.random.Generator.from_seed(1))
    assert isinstance(values, tf.Tensor)
    np.testing.assert_array_equal(values, ui.he_normal((64, 32), backend="tensorflow", seed=tf.random.Generator.from_seed(1)))


def test_detection_imports_no_framework() -> None:
    code = (
        "import sys, numpy as np, unit_init as ui\n"
        "ui.he_normal((2, 2), seed=np.random.default_rng(0)); ui.he_normal((2, 2), seed=0)\n"
        "print(sorted(m for m in ('jax', 'torch', 'tensorflow', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- Keras SeedGenerator: the current Keras backend, with Keras's semantics -----------------------

_KERAS_SCRIPT = textwrap.dedent(
    """
    import json, numpy as np, keras, unit_init as ui
    from unit_init.seeds import keras_seed
    generator = keras.random.SeedGenerator(7)
    first, second = ui.he_normal((64, 32), seed=generator), ui.he_normal((64, 32), seed=generator)
    again = ui.he_normal((64, 32), seed=keras.random.SeedGenerator(7))
    try:
        ui.he_normal((4, 4), backend="numpy", seed=generator)
        conflict = "no error"
    except ui.SeedError as error:
        conflict = str(error)
    result = {
        "module": type(first).__module__.split(".")[0],
        "advances": not np.array_equal(np.asarray(first), np.asarray(second)),
        "reproducible": np.array_equal(np.asarray(first), np.asarray(again)),
        "std": float(np.asarray(first, np.float64).std()),
        "conflict": conflict,
        "deterministic_draws_and_conflicts_do_not_advance": ui.zeros((2,), seed=generator).shape == (2,) and int(np.asarray(generator.state.value)[1]) == 2,
    }
    import os
    os.environ["UNIT_INIT_MAX_BYTES"] = "1K"
    try:
        ui.he_normal((64, 64), seed=generator)
    except ui.ResourceError:
        pass
    del os.environ["UNIT_INIT_MAX_BYTES"]
    result["refused_draws_do_not_advance"] = int(np.asarray(generator.state.value)[1]) == 2
    import unit_init.keras
    try:  # a SeedGenerator config's seed beyond the backend's state (torch: int32; JAX: uint32; TensorFlow holds it)
        unit_init.keras.initializer(ui.HeNormal(), seed={"seed": 2**40})
        result["wide_seed_config"] = "accepted"
    except Exception as error:
        result["wide_seed_config"] = type(error).__name__
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        traced = tf.function(lambda: ui.he_normal((4, 4), seed=generator))  # the state has no value while traced
        result["tf_function_advances"] = not np.array_equal(traced().numpy(), traced().numpy())
        try:  # the portable stream takes its seed as a number
            tf.function(lambda: ui.he_normal((4, 4), seed=generator, rng="portable"))()
            result["tf_function_portable"] = "no error"
        except ui.SeedError as error:
            result["tf_function_portable"] = str(error)
    if keras.backend.backend() == "jax":
        import jax
        result["jit"] = jax.jit(lambda: ui.he_normal((4, 4), seed=jax.numpy.array([7, 0], jax.numpy.uint32)))().shape == (4, 4)
        result["raw_key"] = np.array_equal(np.asarray(keras_seed(keras.random.SeedGenerator(7))), [7, 0])
    print(json.dumps(result))
    """
)


@pytest.mark.parametrize(("backend", "module"), [("jax", "jaxlib"), ("torch", "torch"), ("tensorflow", "tensorflow")])
def test_keras_seed_generator_means_the_current_keras_backend(backend: str, module: str) -> None:
    pytest.importorskip("keras")
    pytest.importorskip(backend)
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, "-c", _KERAS_SCRIPT], capture_output=True, text=True, env=env, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["module"] == module
    assert result["advances"]
    assert result["reproducible"]
    assert result["std"] == pytest.approx((2 / 64) ** 0.5, rel=0.1)
    assert f"current Keras backend {backend!r}" in result["conflict"]
    assert result["deterministic_draws_and_conflicts_do_not_advance"]
    assert result["refused_draws_do_not_advance"]  # the memory guard ran after the generator advanced
    assert result["wide_seed_config"] == ("accepted" if backend == "tensorflow" else "SeedError")  # torch: RuntimeError
    assert result.get("tf_function_advances", True)  # a Sequential built in Keras's traced fit: tests/test_adapter_keras.py
    portable = result.get("tf_function_portable", "rng='portable' takes its seed as a number ... build the model eagerly")
    assert "rng='portable' takes its seed as a number" in portable
    assert "build the model eagerly" in portable  # the way out, named
    assert result.get("jit", True)
    assert result.get("raw_key", True)


def test_a_seed_object_wins_also_over_an_unusable_environment_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``UNIT_INIT_BACKEND=json`` a NumPy generator's draw raised ``BackendError``: the variable was resolved
    before the seed's framework was asked, which a valid variable does not decide either. An int seed still meets it."""
    monkeypatch.setenv("UNIT_INIT_BACKEND", "json")
    assert isinstance(ui.he_normal((2, 2), seed=np.random.default_rng(0)), np.ndarray)
    with pytest.raises(ui.BackendError, match="'json'"):
        ui.he_normal((2, 2), seed=0)
    monkeypatch.setenv("UNIT_INIT_BACKEND", "cupy")  # known, not installed here (BackendUnavailableError, no BackendError)
    if importlib.util.find_spec("cupy") is None:
        assert isinstance(ui.he_normal((2, 2), seed=np.random.default_rng(0)), np.ndarray)
