"""The Keras 3 adapter under the tensorflow, jax and torch Keras backends, each in its own process.

A Keras backend is fixed per process at import, so each backend runs a small
script in a subprocess (``KERAS_BACKEND=...``): build a Dense + Conv2D model
with unit_init initializers, check the drawn values, train one step, save to
``.keras``, load it back and compare configs and outputs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r'''
import json, math, sys
import numpy as np
import keras
import unit_init as ui

conv_init = ui.keras.initializer(ui.HeNormal(seed=1))
dense_init = ui.keras.initializer(ui.GlorotUniform())          # unseeded: Keras-style seed at construction
model = keras.Sequential([
    keras.Input((8, 8, 3)),
    keras.layers.Conv2D(64, 3, kernel_initializer=conv_init, bias_initializer=ui.keras.initializer("zeros")),
    keras.layers.Flatten(),
    keras.layers.Dense(4, kernel_initializer=dense_init, bias_initializer=ui.keras.initializer(ui.Constant(0.5))),
])
kernel = keras.ops.convert_to_numpy(model.layers[0].kernel)
dense = keras.ops.convert_to_numpy(model.layers[2].kernel)
limit = math.sqrt(6 / (6 * 6 * 64 + 4))
first_call = keras.ops.convert_to_numpy(dense_init((5, 5)))
bias = keras.ops.convert_to_numpy(model.layers[2].bias).tolist()
model.compile(optimizer="sgd", loss="mse")
x = np.random.default_rng(0).normal(size=(4, 8, 8, 3)).astype("float32")
before = model.predict(x, verbose=0)
model.fit(x, np.zeros((4, 4), "float32"), epochs=1, batch_size=4, verbose=0)
after = model.predict(x, verbose=0)
path = sys.argv[1] + "/model.keras"
model.save(path)
loaded = keras.saving.load_model(path)
print(json.dumps({
    "backend": keras.backend.backend(),
    "kernel_dtype": str(model.layers[0].kernel.dtype),
    "kernel_shape": list(kernel.shape),
    "kernel_std_ratio": float(kernel.std() / math.sqrt(2 / 27)),  # He: Var = 2 / fan_in, fan_in = 3*3*3
    "dense_in_limit": bool(np.abs(dense).max() < limit),
    "bias": bias,
    "same_each_call": bool(np.array_equal(first_call, keras.ops.convert_to_numpy(dense_init((5, 5))))),
    "trained": bool(not np.allclose(before, after)),
    "configs_equal": [a.get_config() == b.get_config() for a, b in zip(model.layers, loaded.layers)],
    "initializer_config": loaded.layers[0].get_config()["kernel_initializer"],
    "outputs_equal": bool(np.allclose(after, loaded.predict(x, verbose=0), atol=1e-6)),
}))
'''


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_keras_model_trains_and_round_trips(backend: str, tmp_path: Path) -> None:
    for module in ("keras", backend):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend
    assert result["kernel_dtype"].endswith("float32")
    assert result["kernel_shape"] == [3, 3, 3, 64]
    assert result["kernel_std_ratio"] == pytest.approx(1.0, rel=0.1)  # 1728 draws: the std is within ~1.7% (1σ)
    assert result["dense_in_limit"]
    assert result["bias"] == [0.5] * 4
    assert result["same_each_call"]  # Keras semantics for a seeded (or construction-seeded) initializer
    assert result["trained"]
    assert all(result["configs_equal"])
    assert result["outputs_equal"]
    init = result["initializer_config"]
    assert init["registered_name"] == "unit_init>Initializer"
    assert init["config"] == {"spec": {"class_name": "HeNormal", "config": {"seed": 1}}, "layout": "keras"}
