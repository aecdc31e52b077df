"""Seeds, the global stream, the backend context and UNIT_INIT_BACKEND (CONTRACT §1, §4)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest
from tests.targets import load

import unit_init as ui


def test_int_seeds_are_bit_reproducible_and_distinct() -> None:
    for name in ui.CATALOGUE:
        a, b = ui.get(name)((16, 8), seed=7), ui.get(name)((16, 8), seed=7)
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(ui.he_normal((16, 8), seed=7), ui.he_normal((16, 8), seed=8))


def test_int_seeds_reproduce_across_processes() -> None:
    code = "import unit_init as ui; print(ui.glorot_uniform((3, 3), seed=123).tobytes().hex())"
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout for _ in range(2)}
    assert len(outputs) == 1
    assert outputs.pop().strip() == ui.glorot_uniform((3, 3), seed=123).tobytes().hex()


def test_spec_seed_is_the_default_and_call_seed_wins() -> None:
    spec = ui.HeNormal(seed=3)
    np.testing.assert_array_equal(spec((4, 4)), spec((4, 4)))
    np.testing.assert_array_equal(spec((4, 4), seed=9), ui.he_normal((4, 4), seed=9))


def test_set_seed_makes_unseeded_calls_reproducible_in_order() -> None:
    ui.set_seed(42)
    first = [ui.he_normal((4, 4)), ui.random_uniform((3,)), ui.orthogonal((4, 4))]
    ui.set_seed(42)
    second = [ui.he_normal((4, 4)), ui.random_uniform((3,)), ui.orthogonal((4, 4))]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], ui.he_normal((4, 4)))


def test_native_generator_advances() -> None:
    generator = np.random.default_rng(0)
    a = ui.he_normal((8,), seed=generator)
    b = ui.he_normal((8,), seed=generator)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(ui.he_normal((8,), seed=np.random.default_rng(0)), a)


def test_use_backend_nests_and_restores() -> None:
    with ui.use_backend("numpy", dtype="float64"):
        assert ui.zeros((2,)).dtype == np.float64
        with ui.use_backend("np", dtype="float16"):
            assert ui.zeros((2,)).dtype == np.float16
        assert ui.zeros((2,)).dtype == np.float64
    assert ui.zeros((2,)).dtype == np.float32
    with pytest.raises(ui.BackendError), ui.use_backend("nope"):
        pass


def test_environment_variable_sets_the_default_backend() -> None:
    code = "import unit_init as ui; ui.zeros((1,))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"UNIT_INIT_BACKEND": "nope", "PATH": ""})
    assert result.returncode != 0
    assert "BackendError" in result.stderr
    assert "comes from the environment variable UNIT_INIT_BACKEND='nope'" in result.stderr  # the call names no backend


def test_an_unavailable_backend_from_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("cupy is installed: not an unavailable backend here")
    monkeypatch.setenv("UNIT_INIT_BACKEND", "cupy")  # a known Array-API library
    with pytest.raises(ui.BackendUnavailableError, match="from the environment variable UNIT_INIT_BACKEND='cupy'"):
        ui.zeros((1,))
    with pytest.raises(ui.BackendUnavailableError) as passed:  # backend= given: the variable is not mentioned
        ui.zeros((1,), backend="cupy")
    assert "UNIT_INIT_BACKEND" not in str(passed.value)


def test_like_takes_dtype_from_the_array() -> None:
    existing = np.zeros((3,), np.float64)
    assert ui.he_normal((4, 4), like=existing).dtype == np.float64
    assert ui.he_normal((4, 4), like=existing, dtype="float16").dtype == np.float16


def test_a_native_seed_a_deterministic_draw_ignores_is_still_checked() -> None:
    """A batch of JAX keys is no seed for ``zeros`` either (it was accepted, though ``he_normal`` refused it); one key is."""
    load("jax:cpu")
    import jax

    keys = jax.random.split(jax.random.key(0), 3)
    with pytest.raises(ui.SeedError, match="shape \\(3,\\)"):
        ui.zeros((2, 2), backend="jax", seed=keys)
    assert ui.zeros((2, 2), backend="jax", seed=jax.random.key(0)).shape == (2, 2)
