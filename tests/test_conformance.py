"""Conformance: unit_init configured to a framework's semantics draws what that framework draws.

Each test compares a large draw of the framework's own initializer with
unit_init's on the same shape and layout by a two-sample KS test (2^18 values,
fixed seeds), plus exact checks where the framework is deterministic. The
differences between the frameworks themselves are listed in docs/frameworks.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from stats import two_sample_ok

SHAPE = (512, 512)


def as_numpy(array: Any) -> np.ndarray:
    return np.asarray(array, dtype=np.float64)


# --- Keras 3 (keras layout: (in, out)) -------------------------------------------------

KERAS_PAIRS = [
    ("HeNormal", {}, ui.HeNormal()),
    ("GlorotUniform", {}, ui.GlorotUniform()),
    ("LecunNormal", {}, ui.LecunNormal()),
    ("TruncatedNormal", {"mean": 0.1, "stddev": 0.2}, ui.TruncatedNormal(0.1, 0.2)),
    ("RandomUniform", {"minval": -0.3, "maxval": 0.7}, ui.RandomUniform(-0.3, 0.7)),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "untruncated_normal"}, ui.VarianceScaling(2.0, "fan_out", "untruncated_normal")),
    ("Orthogonal", {"gain": 1.5}, ui.Orthogonal(1.5)),
]


@pytest.mark.parametrize(("name", "params", "spec"), KERAS_PAIRS, ids=[p[0] for p in KERAS_PAIRS])
def test_keras(name: str, params: dict[str, Any], spec: ui.Initializer) -> None:
    keras = pytest.importorskip("keras")
    shape = (1024, 256)  # non-square: fan_in != fan_out
    theirs = as_numpy(keras.ops.convert_to_numpy(getattr(keras.initializers, name)(seed=1, **params)(shape)))
    ours = as_numpy(spec(shape, seed=2))
    assert two_sample_ok(theirs, ours)
    assert theirs.min() >= ours.min() - 0.05 * abs(ours.min())
    assert theirs.max() <= ours.max() + 0.05 * abs(ours.max())


def test_keras_configs_build_the_same_spec() -> None:
    keras = pytest.importorskip("keras")
    for name, params, spec in KERAS_PAIRS:
        config = keras.initializers.serialize(getattr(keras.initializers, name)(**params))
        assert ui.deserialize(config) == spec, name


def test_keras_identity_is_exact() -> None:
    keras = pytest.importorskip("keras")
    theirs = keras.ops.convert_to_numpy(keras.initializers.Identity(gain=0.5)((3, 5)))
    np.testing.assert_array_equal(theirs, ui.identity((3, 5), gain=0.5))


def test_keras_variance_scaling_normal_means_truncated() -> None:
    keras = pytest.importorskip("keras")
    theirs = as_numpy(keras.initializers.VarianceScaling(2.0, "fan_in", "normal", seed=3)(SHAPE))
    bound = 2 * math.sqrt(2 / 512) / 0.87962566103423978
    assert np.abs(theirs).max() <= bound * (1 + 1e-6)  # truncated at ±2σ, like unit_init's "truncated_normal"
    assert two_sample_ok(theirs, as_numpy(ui.he_normal(SHAPE, seed=4)))


# --- PyTorch (torch layout: (out, in), untruncated) -------------------------------------

TORCH_SHAPE = (256, 1024)  # (out, in): fan_in 1024, fan_out 256

TORCH_PAIRS = [
    ("kaiming_normal_", {}, ui.VarianceScaling(2.0, "fan_in", "untruncated_normal")),
    ("kaiming_normal_", {"mode": "fan_out"}, ui.VarianceScaling(2.0, "fan_out", "untruncated_normal")),
    ("kaiming_uniform_", {}, ui.HeUniform()),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, ui.VarianceScaling(1 / 3, "fan_in", "uniform")),
    ("xavier_uniform_", {}, ui.GlorotUniform()),
    ("xavier_normal_", {}, ui.VarianceScaling(1.0, "fan_avg", "untruncated_normal")),
    ("trunc_normal_", {"std": 0.2, "a": -0.4, "b": 0.4}, ui.TruncatedNormal(0.0, 0.2)),
    ("orthogonal_", {"gain": 2.0}, ui.Orthogonal(2.0)),
]


@pytest.mark.parametrize(("name", "params", "spec"), TORCH_PAIRS, ids=[f"{p[0]}{p[1] or ''}" for p in TORCH_PAIRS])
def test_torch(name: str, params: dict[str, Any], spec: ui.Initializer) -> None:
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(1)
    theirs = getattr(torch.nn.init, name)(torch.empty(TORCH_SHAPE), generator=generator, **params)
    ours = spec(TORCH_SHAPE, backend="torch", layout="torch", seed=2)
    assert two_sample_ok(theirs.numpy(), ours.numpy())


def test_torch_orthogonal_has_the_same_orthonormal_side() -> None:
    torch = pytest.importorskip("torch")
    theirs = torch.nn.init.orthogonal_(torch.empty(64, 16, 3, 3)).reshape(64, -1)
    ours = ui.orthogonal((64, 16, 3, 3), backend="torch", layout="torch", seed=0).reshape(64, -1)
    eye = torch.eye(64)
    torch.testing.assert_close(theirs @ theirs.T, eye, atol=1e-5, rtol=0)
    torch.testing.assert_close(ours @ ours.T, eye, atol=1e-5, rtol=0)


# --- JAX (explicit in/out/batch axes) ------------------------------------------------------

JAX_CASES = [
    (2.0, "fan_in", "truncated_normal", -2, -1, ()),
    (1.0, "fan_avg", "uniform", -2, -1, ()),
    (0.5, "fan_out", "normal", 1, 2, (0,)),
    (1.0, "fan_in", "truncated_normal", 1, 0, ()),
]


@pytest.mark.parametrize(("scale", "mode", "distribution", "in_axis", "out_axis", "batch_axis"), JAX_CASES)
def test_jax_variance_scaling(scale: float, mode: str, distribution: str, in_axis: int, out_axis: int, batch_axis: tuple[int, ...]) -> None:
    jax = pytest.importorskip("jax")
    shape = (8, 64, 512) if batch_axis else (512, 512)
    init = jax.nn.initializers.variance_scaling(scale, mode, distribution, in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis)
    theirs = np.asarray(init(jax.random.key(0), shape))
    layout = ui.Layout(in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis)
    ours = ui.variance_scaling(shape, scale=scale, mode=mode, distribution=distribution, layout=layout, backend="jax", seed=1)  # type: ignore[arg-type]
    assert two_sample_ok(theirs, np.asarray(ours))
    assert np.asarray(ours).var() == pytest.approx(theirs.var(), rel=0.03)
