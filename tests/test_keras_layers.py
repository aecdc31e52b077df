"""Every Keras 3 layer with a kernel: the adapter's kernel variance equals the Keras initializer's own.

For each layer and each of HeNormal, GlorotUniform, LecunNormal and
VarianceScaling(mode="fan_avg"), the layer is built twice, once with the Keras
initializer and once with ``unit_init.keras.initializer`` of the same spec,
and the two kernels' variances are compared with the Brown-Forsythe test
(Levene's test centred on the median: exact level for non-normal laws such
as the uniform and the truncated normal).

Power: every kernel has >= 6,400 elements (most ~16,000), so a variance off by
2x (p < 1e-100) and every wrong fan used here fail at ``ALPHA``; shapes have
fan_in != fan_out (a swapped or conv-style fan changes the variance by >= 2x),
and the MultiHeadAttention kernels are rank 3, where the conv-style fan is
8x-16x off. Two negative controls per backend prove it: a spec with twice the
variance, and the MHA query kernel drawn with the conv-style layout instead of
Keras's axes, must both be rejected.

One subprocess per Keras backend (``KERAS_BACKEND`` is read at import) runs all
cases and prints them as JSON.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

ALPHA = 1e-4  # per comparison; ~70 comparisons per backend, deterministic seeds
CONTROL_P = 1e-8  # what a deliberately wrong initializer must fall below

SCRIPT = r'''
import json
import numpy as np
import keras
from scipy import stats
import unit_init as ui
import unit_init.keras

L = keras.layers
INITS = {
    "HeNormal": (keras.initializers.HeNormal, ui.HeNormal),
    "GlorotUniform": (keras.initializers.GlorotUniform, ui.GlorotUniform),
    "LecunNormal": (keras.initializers.LecunNormal, ui.LecunNormal),
    "VarianceScaling(fan_avg)": (
        lambda seed: keras.initializers.VarianceScaling(mode="fan_avg", seed=seed),
        lambda seed: ui.VarianceScaling(mode="fan_avg", seed=seed),
    ),
}


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64).ravel()


def built(make, shape):
    layer = make()
    layer.build(*shape)
    return layer


# name: (make(init), build shapes, {weight name: getter})
LAYERS = {
    "Dense": (lambda i: L.Dense(160, kernel_initializer=i), [(None, 96)], {"kernel": lambda l: l.kernel}),
    "EinsumDense": (
        lambda i: L.EinsumDense("ab,bcd->acd", output_shape=(8, 20), kernel_initializer=i),
        [(None, 96)], {"kernel": lambda l: l.kernel},
    ),
    "MultiHeadAttention": (
        lambda i: L.MultiHeadAttention(num_heads=8, key_dim=16, kernel_initializer=i),
        [(None, 4, 128), (None, 4, 128)],
        {
            "query": lambda l: l._query_dense.kernel, "key": lambda l: l._key_dense.kernel,
            "value": lambda l: l._value_dense.kernel, "output": lambda l: l._output_dense.kernel,
        },
    ),
    "Conv1D": (lambda i: L.Conv1D(48, 5, kernel_initializer=i), [(None, 16, 64)], {"kernel": lambda l: l.kernel}),
    "Conv2D": (lambda i: L.Conv2D(48, 3, kernel_initializer=i), [(None, 8, 8, 32)], {"kernel": lambda l: l.kernel}),
    "Conv3D": (lambda i: L.Conv3D(40, 3, kernel_initializer=i), [(None, 6, 6, 6, 16)], {"kernel": lambda l: l.kernel}),
    "Conv1DTranspose": (lambda i: L.Conv1DTranspose(48, 5, kernel_initializer=i), [(None, 16, 64)], {"kernel": lambda l: l.kernel}),
    "Conv2DTranspose": (lambda i: L.Conv2DTranspose(48, 3, kernel_initializer=i), [(None, 8, 8, 32)], {"kernel": lambda l: l.kernel}),
    "Conv3DTranspose": (lambda i: L.Conv3DTranspose(40, 3, kernel_initializer=i), [(None, 6, 6, 6, 16)], {"kernel": lambda l: l.kernel}),
    "DepthwiseConv2D": (
        lambda i: L.DepthwiseConv2D(5, depth_multiplier=4, depthwise_initializer=i),
        [(None, 8, 8, 128)], {"depthwise": lambda l: l.kernel},
    ),
    "SeparableConv2D": (
        lambda i: L.SeparableConv2D(96, 5, depth_multiplier=2, depthwise_initializer=i, pointwise_initializer=i),
        [(None, 8, 8, 128)], {"depthwise": lambda l: l.depthwise_kernel, "pointwise": lambda l: l.pointwise_kernel},
    ),
    "LSTM": (
        lambda i: L.LSTM(48, kernel_initializer=i, recurrent_initializer=i),
        [(None, 3, 96)], {"kernel": lambda l: l.cell.kernel, "recurrent": lambda l: l.cell.recurrent_kernel},
    ),
    "GRU": (
        lambda i: L.GRU(48, kernel_initializer=i, recurrent_initializer=i),
        [(None, 3, 96)], {"kernel": lambda l: l.cell.kernel, "recurrent": lambda l: l.cell.recurrent_kernel},
    ),
    "Embedding": (lambda i: L.Embedding(200, 80, embeddings_initializer=i), [(None, 5)], {"embeddings": lambda l: l.embeddings}),
}


def kernels(make, shapes, weights, init):
    layer = built(lambda: make(init), shapes)
    return {name: numpy(get(layer)) for name, get in weights.items()}


def compare(theirs, ours):
    return {
        "n": theirs.size, "keras": float(theirs.var()), "ours": float(ours.var()),
        "p": float(stats.levene(theirs, ours, center="median").pvalue),
    }


rows = []
for j, (layer_name, (make, shapes, weights)) in enumerate(LAYERS.items()):
    for k, (init_name, (keras_init, ui_spec)) in enumerate(INITS.items()):
        seed = 100 * j + 10 * k  # a seed per case: the comparisons are independent
        theirs = kernels(make, shapes, weights, keras_init(seed=seed))
        ours = kernels(make, shapes, weights, ui.keras.initializer(ui_spec(seed=seed + 1)))
        for weight, values in theirs.items():
            rows.append({"layer": layer_name, "weight": weight, "init": init_name, **compare(values, ours[weight])})

# negative controls: a 2x variance, and MHA with the conv-style fans instead of Keras's axes
make, shapes, weights = LAYERS["SeparableConv2D"]
he = kernels(make, shapes, weights, keras.initializers.HeNormal(seed=1))["depthwise"]
double = kernels(make, shapes, weights, ui.keras.initializer(ui.VarianceScaling(4.0, "fan_in", seed=2)))["depthwise"]
make, shapes, weights = LAYERS["MultiHeadAttention"]
glorot = kernels(make, shapes, weights, keras.initializers.GlorotUniform(seed=1))["query"]
conv_fans = kernels(make, shapes, weights, ui.keras.initializer(ui.GlorotUniform(seed=2), layout=ui.Layout(-2, -1)))["query"]
controls = {"double_variance": compare(he, double), "conv_style_fans": compare(glorot, conv_fans)}
print(json.dumps({"backend": keras.backend.backend(), "rows": rows, "controls": controls}))
'''


def _run(backend: str) -> dict[str, object]:
    for module in ("keras", "scipy", backend):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    if backend == "jax":  # ~160 small XLA programs (one per kernel shape and law): compile them cheaply
        env["XLA_FLAGS"] = f"{env['XLA_FLAGS']} --xla_llvm_disable_expensive_passes=true"
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_kernel_variance_matches_keras(backend: str) -> None:
    result = _run(backend)
    assert result["backend"] == backend
    rows = result["rows"]
    assert isinstance(rows, list)
    assert len(rows) == 4 * 20  # 14 layers, 20 kernels, 4 initializers
    failed = [row for row in rows if row["p"] < ALPHA]
    assert not failed, failed
    controls = result["controls"]
    assert isinstance(controls, dict)
    for name, control in controls.items():
        assert control["p"] < CONTROL_P, (name, control)
