"""The Keras 3 adapter: Keras's fans, attributes, seeds, array constants, configs and keras.distribution.

A Keras backend is fixed per process at import, so each backend runs a small
script in a subprocess (``KERAS_BACKEND=...``): build a Dense + Conv2D model
with unit_init initializers, check the drawn values, train one step, save to
``.keras``, load it back and compare configs and outputs; draw with
``SeedGenerator`` seeds; use a tensor and an array ``Constant`` as initializers.
``keras.distribution`` runs on the JAX backend over 4 host CPU devices
(``XLA_FLAGS`` must be set before JAX starts). The rest runs in this process on
the default Keras backend; Keras's own ``compute_fans`` is the oracle for the fans.
The kernel variances of every Keras layer are in tests/test_keras_layers.py.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from targets import FOUR_HOST_DEVICES

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
# SeedGenerator seeds, as Keras's own: each call advances the generator; the same seed repeats the sequence
def draws(make):
    init = make(keras.random.SeedGenerator(7))
    return [init((32, 32)) for _ in range(2)]
import warnings
with warnings.catch_warnings():
    warnings.simplefilter("error", DeprecationWarning)  # reading the state warns nothing (on torch, np.array(tensor) did)
    ours_1, ours_2 = draws(lambda g: ui.keras.initializer(ui.HeNormal(), seed=g)), draws(lambda g: ui.keras.initializer(ui.HeNormal(), seed=g))
theirs = draws(lambda g: keras.initializers.HeNormal(seed=g))
ours_1, ours_2, theirs = ([keras.ops.convert_to_numpy(x) for x in xs] for xs in (ours_1, ours_2, theirs))
# array constants: a tensor as an initializer (its shape) and an array Constant config (broadcast)
value = np.arange(6, dtype="float32").reshape(2, 3)
const = keras.layers.Dense(3, kernel_initializer=ui.keras.initializer(keras.ops.convert_to_tensor(value)),
                           bias_initializer=ui.keras.initializer({"class_name": "Constant", "config": {"value": [1, 2, 3]}}))
const.build((None, 2))
broadcast = keras.layers.Dense(4, kernel_initializer=ui.keras.initializer({"class_name": "Constant", "config": {"value": [1, 2, 3, 4]}}))
broadcast.build((None, 3))
broadcast_rows = keras.ops.convert_to_numpy(broadcast.kernel).tolist()
broadcast.kernel.assign(keras.ops.zeros((3, 4)))  # torch's broadcast view of one row could not be written
# rng="portable" with a SeedGenerator: its state [s, c] as the int s·2³² + c on every Keras backend (JAX's raw key was refused)
portable_generator = keras.random.SeedGenerator(7)
portable_from_generator = [np.asarray(ui.he_normal((8, 8), seed=portable_generator, rng="portable")).tolist() for _ in range(2)]
portable_from_ints = [
    np.asarray(ui.he_normal((8, 8), seed=7 << 32 | count, rng="portable", backend=keras.backend.backend())).tolist() for count in range(2)
]
# a model Keras builds on its first fit (subclassed: no keras.Input) with a SeedGenerator seed: on torch Keras first
# builds it symbolically on "meta" (no values, no seed read), then eagerly; the kernel is the eager model's (lr 0)
class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(3, kernel_initializer=ui.keras.initializer(ui.HeNormal(), seed=keras.random.SeedGenerator(3)))
    def call(self, inputs):
        return self.dense(inputs)
subclassed = Subclassed()
subclassed.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
subclassed.fit(np.ones((4, 2), "float32"), np.ones((4, 3), "float32"), epochs=1, verbose=0)
eager = keras.layers.Dense(3, kernel_initializer=ui.keras.initializer(ui.HeNormal(), seed=keras.random.SeedGenerator(3)))
eager.build((None, 2))
built_kernel = keras.ops.convert_to_numpy(subclassed.dense.kernel)
eager_kernel = keras.ops.convert_to_numpy(eager.kernel)
# a Sequential without keras.Input builds on its first fit: on TensorFlow inside the traced train function, where the
# generator's state has no value yet (the seed is then a tensor of that graph); its kernel is the eager model's too
sequential = keras.Sequential([keras.layers.Dense(3, kernel_initializer=ui.keras.initializer(ui.HeNormal(), seed=keras.random.SeedGenerator(3)))])
sequential.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
sequential.fit(np.ones((4, 2), "float32"), np.ones((4, 3), "float32"), epochs=1, verbose=0)
sequential_kernel = keras.ops.convert_to_numpy(sequential.layers[0].kernel)
traced_draws = None  # an initializer called in a tf.function: the generator's next seed at each call of the traced function
if keras.backend.backend() == "tensorflow":
    import tensorflow as tf
    traced_init = ui.keras.initializer(ui.HeNormal(), seed=keras.random.SeedGenerator(3))
    traced_draw = tf.function(lambda: traced_init((2, 3)))
    traced_draws = [traced_draw().numpy() for _ in range(2)]
meta_device = None
if keras.backend.backend() == "torch":
    with keras.device("meta"):
        meta_device = str(ui.keras.initializer(ui.HeNormal())((4, 4)).device)
# a bfloat16 array constant (ml_dtypes; a mixed_bfloat16 model's tensors) skipped every check, and torch kept its dtype
import ml_dtypes
bf16_refused, bf16_dtypes = [], []
for values, asked in [([1e10, 1.0], "float16"), ([float("nan"), 1.0], "float32"), ([1.5, 1.0], "int32"), ([float("nan"), 1.0], "complex64")]:
    try:
        ui.keras.initializer(np.array(values, dtype=ml_dtypes.bfloat16))((2,), asked)
        bf16_refused.append(False)
    except ui.ParameterError:
        bf16_refused.append(True)
for asked in ("float32", "float16", "int32"):
    bf16_dtypes.append(keras.backend.standardize_dtype(ui.keras.initializer(np.array([1.0, 2.0], dtype=ml_dtypes.bfloat16))((2,), asked).dtype))
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
    "seed_generator_advances": bool(not np.array_equal(*ours_1)) and bool(not np.array_equal(*theirs)),
    "seed_generator_repeats": all(np.array_equal(a, b) for a, b in zip(ours_1, ours_2)),
    "tensor_kernel": keras.ops.convert_to_numpy(const.kernel).tolist() == value.tolist(),
    "constant_bias": keras.ops.convert_to_numpy(const.bias).tolist() == [1.0, 2.0, 3.0],
    "constant_dtype": str(const.kernel.dtype),
    "broadcast_kernel": broadcast_rows == [[1.0, 2.0, 3.0, 4.0]] * 3,
    "broadcast_kernel_written": not keras.ops.convert_to_numpy(broadcast.kernel).any(),
    "portable_seed_generator": portable_from_generator == portable_from_ints,
    "built_on_first_call": bool(np.isfinite(built_kernel).all() and built_kernel.std() > 0),
    "first_call_kernel_is_eager_kernel": bool(np.array_equal(built_kernel, eager_kernel)),
    "sequential_kernel_is_eager_kernel": bool(np.array_equal(sequential_kernel, eager_kernel)),
    "traced_draws": None if traced_draws is None else [bool(np.array_equal(traced_draws[0], eager_kernel)),
                                                       bool(not np.array_equal(*traced_draws))],
    "meta_device": meta_device,
    "bf16_refused": bf16_refused,
    "bf16_dtypes": bf16_dtypes,
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
    assert result["bf16_refused"] == [True] * 4  # inf in float16, a nan (also complex), 1.5 in int32: as a float32 array's
    assert result["bf16_dtypes"] == ["float32", "float16", "int32"]
    assert result["kernel_std_ratio"] == pytest.approx(1.0, rel=0.1)  # 1728 draws: the std is within ~1.7% (1σ)
    assert result["dense_in_limit"]
    assert result["bias"] == [0.5] * 4
    assert result["same_each_call"]  # Keras semantics for a seeded (or construction-seeded) initializer
    assert result["trained"]
    assert all(result["configs_equal"])
    assert result["outputs_equal"]
    init = result["initializer_config"]
    assert init["registered_name"] == "unit_init>VarianceScaling"  # He is fan-scaled: Keras sees a VarianceScaling
    assert init["module"] == "unit_init.keras"
    assert init["config"] == {"spec": {"class_name": "HeNormal", "config": {"seed": 1}}, "layout": "keras"}
    assert result["seed_generator_advances"]
    assert result["seed_generator_repeats"]
    assert result["tensor_kernel"]
    assert result["constant_bias"]
    assert result["constant_dtype"].endswith("float32")
    assert result["broadcast_kernel"]
    assert result["broadcast_kernel_written"]
    assert result["portable_seed_generator"]
    assert result["built_on_first_call"]
    assert result["first_call_kernel_is_eager_kernel"]
    assert result["sequential_kernel_is_eager_kernel"]
    assert result["traced_draws"] == ([True, True] if backend == "tensorflow" else None)  # the first the eager one's, then new
    assert result["meta_device"] == ("meta" if backend == "torch" else None)


DISTRIBUTION_SCRIPT = r'''
import json
import jax
import numpy as np
import keras
import unit_init as ui
import unit_init.keras

devices = jax.devices()
result = {"devices": len(devices)}


def model(width):
    return keras.Sequential([
        keras.Input((width,)),
        keras.layers.Dense(width, name="big", kernel_initializer=ui.keras.initializer(ui.GlorotUniform(seed=1))),
        keras.layers.Dense(8, name="small", kernel_initializer=ui.keras.initializer(ui.HeNormal(seed=2))),
    ])


def describe(m, width):
    big = m.get_layer("big").kernel
    values = np.asarray(keras.ops.convert_to_numpy(big.value), dtype=np.float64)
    return {
        "sharding": str(big.value.sharding.spec) if hasattr(big.value.sharding, "spec") else str(big.value.sharding),
        "devices": len(big.value.sharding.device_set),
        "var_ratio": float(values.var() / (2 / (2 * width))),  # Glorot: 2 / (fan_in + fan_out)
        "forward_finite": bool(np.isfinite(m.predict(np.ones((8, width), "float32"), verbose=0)).all()),
    }


keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
result["data_parallel"] = describe(model(64), 64)
mesh = keras.distribution.DeviceMesh((2, 2), ["batch", "model"], devices=devices)
layout_map = keras.distribution.LayoutMap(mesh)
layout_map[".*big/kernel"] = (None, "model")  # a regex, fully matched against the variable path
keras.distribution.set_distribution(keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch"))
for width in (64, 4096):  # 4096**2 float32 on 4 devices: Keras shards it at creation, inside jax.jit
    try:
        result[f"model_parallel_{width}"] = describe(model(width), width)
    except Exception as error:  # reported, asserted below
        result[f"model_parallel_{width}"] = {"error": f"{type(error).__name__}: {str(error)[:600]}"}
print(json.dumps(result))
'''


def test_keras_distribution_on_four_host_devices() -> None:
    for module in ("keras", "jax"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    env = {
        **os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": FOUR_HOST_DEVICES,
    }
    run = subprocess.run([sys.executable, "-c", DISTRIBUTION_SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["devices"] == 4
    assert result["data_parallel"]["devices"] == 4  # replicated on every device
    for key, sharded_axis in (("model_parallel_64", "model"), ("model_parallel_4096", "model")):
        case = result[key]
        assert "error" not in case, case
        assert sharded_axis in case["sharding"]
        assert case["devices"] == 4
    for case in (result["data_parallel"], result["model_parallel_64"], result["model_parallel_4096"]):
        assert case["var_ratio"] == pytest.approx(1.0, rel=0.05)
        assert case["forward_finite"]


# ---- in-process checks on the default Keras backend: fans, attributes, seeds, configs -----------------------------


@pytest.fixture(scope="module")
def keras_mod() -> Any:
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def uk() -> Any:
    pytest.importorskip("keras")
    import unit_init.keras

    return unit_init.keras


# Keras's own compute_fans is the oracle: every (shape, axes) pair, partial and negative axes included
FAN_CASES = [
    ((512, 8, 64), [0], [1, 2]),  # MHA query/key/value kernel
    ((8, 64, 512), [0, 1], [2]),  # MHA output kernel
    ((96, 8, 20), [0], [1, 2]),
    ((4, 5, 6), [0], [2]),  # axis 1 in neither: a batch axis, in no fan
    ((4, 5, 6), [-3], [-1]),
    ((4, 5, 6), [0], None),  # partial axes: Keras's default fans
    ((4, 5, 6), None, [2]),
    ((7,), [0], []),  # rank 1 with axes: fan_out = 1 (an empty product)
    ((3, 3, 16, 32), None, None),
]


@pytest.mark.parametrize(("shape", "input_axes", "output_axes"), FAN_CASES)
def test_fans_are_keras_fans(uk: Any, shape: tuple[int, ...], input_axes: list[int] | None, output_axes: list[int] | None) -> None:
    from keras.src.initializers.random_initializers import compute_fans as keras_fans

    import unit_init as ui

    init = uk.initializer(ui.GlorotUniform(seed=0), input_axes=input_axes, output_axes=output_axes)
    fans = init.fans(shape)
    assert (fans.fan_in, fans.fan_out) == tuple(float(max(1, n)) for n in keras_fans(shape, input_axes, output_axes))


def test_an_axis_in_neither_list_is_a_batch_axis_of_an_orthogonal_kernel(uk: Any) -> None:
    """input_axes=[0], output_axes=[2] on (16, 4, 8): axis 1 batches four independent (16, 8) orthonormal matrices."""
    import numpy as np

    import unit_init as ui

    w = np.asarray(uk.initializer(ui.Orthogonal(), seed=0, input_axes=[0], output_axes=[2])((16, 4, 8)), dtype=np.float64)
    for j in range(4):
        np.testing.assert_allclose(w[:, j, :].T @ w[:, j, :], np.eye(8), atol=1e-5)


def test_axes_from_a_keras_config_give_keras_variance(keras_mod: Any, uk: Any) -> None:
    import numpy as np

    keras_init = keras_mod.initializers.GlorotUniform(seed=3, input_axes=[0], output_axes=[1, 2])
    ours = uk.initializer(keras_mod.initializers.serialize(keras_init))
    assert (ours.input_axes, ours.output_axes) == ((0,), (1, 2))
    shape = (256, 8, 32)  # Keras: Var = 2 / (256 + 256); the conv-style fans would give 2 / (8·256 + 32·256)
    for init in (keras_init, ours):
        values = np.asarray(keras_mod.ops.convert_to_numpy(init(shape)), dtype=np.float64)
        assert values.var() == pytest.approx(1 / 256, rel=0.03)  # 65,536 uniform draws: rel. s.e. of the variance ≈ 0.35%


def test_explicit_layout_and_fans_win_over_layer_axes(uk: Any) -> None:
    import unit_init as ui

    config = {**uk.initializer(ui.HeNormal(), fan_in=100).get_config(), "seed": 5, "input_axes": [0], "output_axes": [1, 2]}
    clone = type(uk.initializer(ui.HeNormal())).from_config(config)  # what EinsumDense does at build
    assert clone.fans((16, 4, 8)) == ui.Fans(100.0, 32.0)  # fan_in given, fan_out from the axes
    torch_layout = uk.initializer(ui.HeNormal(), layout="torch", input_axes=[0], output_axes=[1])
    assert torch_layout.fans((16, 4, 8)) == ui.compute_fans((16, 4, 8), "torch")


def test_any_layout_and_fan_overrides_round_trip(keras_mod: Any, uk: Any) -> None:
    import unit_init as ui

    init = uk.initializer(ui.LecunNormal(seed=1), layout=ui.Layout(in_axis=(0, 1), out_axis=2), fan_in=8, fan_out=4)
    config = keras_mod.saving.serialize_keras_object(init)
    assert config["module"] == "unit_init.keras"
    assert config["config"]["layout"] == {"in_axis": [0, 1], "out_axis": 2, "batch_axis": []}
    loaded = keras_mod.saving.deserialize_keras_object(config)
    assert type(loaded).__name__ == "KerasVarianceScaling"  # by name: a doctest run may import the module a second time
    assert (loaded.spec, loaded.layout, loaded.fan_in, loaded.fan_out) == (init.spec, init.layout, 8.0, 4.0)
    assert loaded.fans((3, 5, 7)) == ui.Fans(8.0, 4.0)
    assert init.clone().get_config() == init.get_config()


KERAS_CLASSES = [
    "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling",
    "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "Orthogonal", "Identity",
]


@pytest.mark.parametrize("name", KERAS_CLASSES)
def test_attributes_of_the_keras_class(keras_mod: Any, uk: Any, name: str) -> None:
    import unit_init as ui

    theirs = getattr(keras_mod.initializers, name)()
    ours = uk.initializer(getattr(ui, name)())
    public = {key: value for key, value in vars(theirs).items() if not key.startswith("_")}
    for key, value in public.items():
        assert hasattr(ours, key), key
        if key != "seed":  # a default seed is random in both
            assert getattr(ours, key) == value, key
    assert isinstance(ours, keras_mod.initializers.VarianceScaling) == isinstance(theirs, keras_mod.initializers.VarianceScaling)


def test_seeds(keras_mod: Any, uk: Any) -> None:
    import unit_init as ui
    from unit_init.errors import ParameterError, SeedError

    assert uk.initializer(ui.HeNormal(), seed=4).spec == ui.HeNormal(seed=4)  # an int seed is the spec's
    assert uk.initializer(ui.HeNormal(seed=4), seed=4).seed == 4
    with pytest.raises(SeedError, match="conflicts"):
        uk.initializer(ui.HeNormal(seed=4), seed=5)
    generator = keras_mod.random.SeedGenerator(9)
    init = uk.initializer(ui.HeNormal(), seed=generator)
    assert init.seed is generator
    config = init.get_config()
    assert config["seed"]["config"]["seed"] == 9  # saved, as Keras saves a SeedGenerator seed
    assert isinstance(type(init).from_config(config).seed, keras_mod.random.SeedGenerator)
    with pytest.raises(ParameterError, match=r"config is invalid.*SeedGenerator config"):  # not a TypeError: Keras's loader would replace it
        type(init).from_config({**config, "seed": {"class_name": "os.system", "config": {"seed": 1}}})
    keras_config = keras_mod.initializers.serialize(keras_mod.initializers.HeNormal(seed=keras_mod.random.SeedGenerator(3)))
    from_keras = uk.initializer(keras_config)  # Keras writes the generator's config as the seed
    assert isinstance(from_keras.seed, keras_mod.random.SeedGenerator)
    assert from_keras.seed.get_config()["seed"] == 3


def test_hostile_configs_are_refused(uk: Any) -> None:
    import numpy as np

    import unit_init as ui
    from unit_init.errors import DTypeError, ParameterError

    with pytest.raises(ParameterError, match="input_axes"):
        uk.initializer({"class_name": "HeNormal", "config": {"input_axes": "0; import os", "output_axes": [1]}})
    with pytest.raises(ParameterError, match=r"unit_init\.keras\.initializer"):  # a bare spec cannot hold axes
        ui.deserialize({"class_name": "HeNormal", "config": {"input_axes": [0], "output_axes": [1]}})
    with pytest.raises(DTypeError, match="dtype='object' is not supported"):  # a ParameterError that blamed the value
        uk.KerasConstant.from_config({"value": [1, 2], "dtype": "object"})
    with pytest.raises(DTypeError, match="Did you mean 'float32'"):
        uk.initializer({"class_name": "Constant", "config": {"value": [[1.0, 2.0]], "dtype": "float33"}})
    with pytest.raises(ParameterError, match="no layout"):
        uk.initializer(np.ones((2, 2)), fan_in=3)


def test_fans_seeds_and_fan_overrides_are_checked_as_a_call_checks_them(keras_mod: Any, uk: Any) -> None:
    import numpy as np

    import unit_init as ui
    from unit_init.errors import ParameterError, SeedError, ShapeError

    he = uk.initializer("he_normal")
    for shape in ["ab", None, (2.5, 3)]:  # (2.5, 3) was read as (2, 3)
        with pytest.raises(ShapeError, match="shape="):
            he.fans(shape)
    with pytest.raises(ParameterError, match="fan_in=<int of 1329 bits> must be a finite real number"):  # was an OverflowError
        uk.initializer("he_normal", fan_in=10**400)
    for seed in (np.array([1, 2]), "x", -1):  # the array was numpy's ambiguous-truth ValueError; the others named the spec
        with pytest.raises(SeedError, match=r"seed=.* is not a seed for a Keras initializer; pass None, an int"):
            uk.initializer(ui.HeNormal(seed=1), seed=seed)
    with pytest.raises(ParameterError, match=r"layout='tf' is not known; accepted: .* or a ui\.Layout"):  # was "… in a config"
        uk.initializer(ui.HeNormal(), layout="tf")
    with pytest.raises(SeedError, match="seed=2 conflicts with the spec's own seed=1"):
        uk.initializer(ui.HeNormal(seed=1), seed=2)
    with pytest.raises(SeedError, match=r"the SeedGenerator config's seed=18446744073709551615 is refused by Keras's"):
        uk.initializer(ui.HeNormal(), seed={"config": {"seed": 2**64 - 1}})  # the backend's own OverflowError or ValueError before


def test_array_constant_configs_keep_the_config_limits(keras_mod: Any, uk: Any) -> None:
    """An array-valued Constant config is a config: depth, size, ints and module paths are bounded as every other's."""
    from unit_init.errors import ParameterError

    deep: Any = 1.0
    for _ in range(100_000):
        deep = [deep]
    arrays: Any = {"class_name": "__numpy__", "config": {"value": [1.0]}}
    for _ in range(100_000):
        arrays = {"class_name": "__numpy__", "config": {"value": arrays}}
    refused = {
        "16 deep": [{"class_name": "Constant", "config": {"value": deep}}, {"class_name": "Constant", "config": {"value": arrays}}],
        "below 2\\*\\*64": [{"class_name": "Constant", "config": {"value": [10**5000]}}],
        "more than 1048576 numbers": [{"class_name": "Constant", "config": {"value": [1.0] * (2**20 + 1)}}],
        "module='os'": [{"class_name": "Constant", "config": {"value": [1.0]}, "module": "os"}],
    }
    for match, configs in refused.items():
        for config in configs:
            with pytest.raises(ParameterError, match=match):
                uk.initializer(config)
    with pytest.raises(ParameterError, match="16 deep"):  # keras.saving hands the inner config to from_config
        keras_mod.saving.deserialize_keras_object(
            {"module": "unit_init.keras", "class_name": "KerasConstant", "registered_name": "unit_init>Constant", "config": {"value": deep}}
        )
    with pytest.raises(ParameterError, match="must be a real number"):
        uk.KerasConstant(deep)


def test_an_array_constant_is_memory_guarded_before_it_is_made(keras_mod: Any, uk: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """An array-valued Constant broadcast to a weight took no memory check (helper 164): under a 1 MiB limit a 4 MB
    weight was made, and a (10**12, 2) one reached the framework's allocator (MemoryError, RuntimeError,
    RESOURCE_EXHAUSTED). Both are a ResourceError first, as a scalar Constant's are. A float8 one is a DTypeError, as
    every unit_init initializer's (it rounded 1000 to nan silently, helper 169)."""
    from unit_init.errors import DTypeError, ResourceError

    monkeypatch.setenv("UNIT_INIT_MAX_BYTES", "1M")
    init = uk.initializer({"class_name": "Constant", "config": {"value": [1.0, 2.0]}})
    for shape in [(500_000, 2), (10**12, 2)]:
        with pytest.raises(ResourceError, match=rf"shape={re.escape(str(shape))}, dtype='float32' needs about"):
            init(shape)
    assert tuple(init((100, 2)).shape) == (100, 2)
    with pytest.raises(DTypeError, match="float8_e4m3fn"):
        init((2, 2), "float8_e4m3fn")
    with pytest.raises(ResourceError, match="float16"):
        init((300_000, 2), "float16")
    with pytest.raises(DTypeError, match="'string' is not supported"):
        init((2, 2), "string")


def test_array_constants_in_integer_dtypes_are_exact(keras_mod: Any, uk: Any) -> None:
    """A value an integer or bool dtype cannot hold is refused, as ui.constant refuses it (Keras would wrap or truncate)."""
    import numpy as np

    from unit_init.errors import ParameterError

    for value, dtype, shown in [([1e10, -3.7], "int32", "10000000000.0"), ([300, -1], "uint8", "300"), ([0.5, 2], "bool", "0.5"),
                                ([1, 2.5], "int8", "2.5"), (np.array([2**63], np.uint64), "int64", "9223372036854775808")]:
        with pytest.raises(ParameterError, match=f"holds {shown}, which cannot be stored exactly in dtype='{dtype}'"):
            uk.initializer({"class_name": "Constant", "config": {"value": np.asarray(value).tolist()}})((2, 2) if len(value) == 2 else (1,), dtype)
    exact = uk.initializer({"class_name": "Constant", "config": {"value": [3.0, -4]}})((2, 2), "int8")
    assert keras_mod.ops.convert_to_numpy(exact).tolist() == [[3, -4], [3, -4]]
    assert keras_mod.ops.convert_to_numpy(uk.initializer({"class_name": "Constant", "config": {"value": [1, 0]}})((2,), "bool")).tolist() == [True, False]
    # bools fill a bool weight only, as Constant(True) is refused (Keras: 1.0); a list and an array of them were 1.0 and 0.0
    for value in ([True, False], np.array([True, False])):
        assert keras_mod.ops.convert_to_numpy(uk.initializer(keras_mod.initializers.Constant(value))((2,), "bool")).tolist() == [True, False]
        for dtype in (None, "int32"):
            with pytest.raises(ParameterError, match="the value holds bools"):
                uk.initializer(keras_mod.initializers.Constant(value))((2,), dtype)


def test_bad_calls_are_typed_errors(keras_mod: Any, uk: Any) -> None:
    import numpy as np

    import unit_init as ui
    from unit_init.errors import DTypeError, ParameterError, ShapeError

    he = uk.initializer(ui.HeNormal())
    for shape in [(None, 4), None, (-1, 3), "ab"]:
        with pytest.raises(ShapeError, match="shape="):
            he(shape)
    for dtype in ["bogus", 3]:
        with pytest.raises(DTypeError, match="not a dtype Keras knows"):
            he((2, 2), dtype=dtype)
    for constant, dtype in [(uk.initializer({"class_name": "Constant", "config": {"value": [1e5]}}), "float16"),
                            (uk.KerasConstant([1e39]), "float32"), (uk.initializer(np.array([1e39])), "float32")]:
        with pytest.raises(ParameterError, match=r"beyond .* largest finite value"):  # would be inf, silently
            constant((1,), dtype=dtype)
    assert keras_mod.ops.convert_to_numpy(uk.KerasConstant([1e39])((1,), dtype="float64")).tolist() == [1e39]
    for not_finite in (np.array([[np.nan]]), [1.0, np.inf], {"class_name": "Constant", "config": {"value": [np.nan]}}):
        with pytest.raises(ParameterError, match=r"nan|finite"):  # built, then refused at call as "reaches nan, beyond …"
            uk.initializer(not_finite) if isinstance(not_finite, (np.ndarray, dict)) else uk.KerasConstant(not_finite)
    with pytest.raises(ShapeError):
        uk.KerasConstant(np.zeros((1,) * 34))((2, 2))


def test_array_constants(keras_mod: Any, uk: Any) -> None:
    import numpy as np

    from unit_init.errors import ShapeError

    keras_config = keras_mod.initializers.serialize(keras_mod.initializers.Constant(np.array([1.0, 2.0])))
    init = uk.initializer(keras_config)  # Keras writes the array as a '__numpy__' config
    assert keras_mod.ops.convert_to_numpy(init((3, 2), "float64")).tolist() == [[1.0, 2.0]] * 3
    assert init.value.tolist() == [1.0, 2.0]
    assert keras_mod.saving.deserialize_keras_object(keras_mod.saving.serialize_keras_object(init)).get_config() == init.get_config()
    with pytest.raises(ShapeError, match="broadcasts to"):
        init((2, 3))
    exact = uk.initializer(np.ones((2, 2)))  # a tensor as an initializer: the weight takes its shape
    with pytest.raises(ShapeError, match=r"shape \(2, 2\)"):
        exact((1, 2))


def test_a_keras_built_in_initializer_is_read_through_its_config(keras_mod: Any, uk: Any) -> None:
    """``initializer(keras.initializers.X(...))`` gives the spec ``ui.get`` reads from X's config, Keras's meaning kept."""
    import unit_init as ui

    init = keras_mod.initializers
    cases = {
        init.HeNormal(seed=1): ui.HeNormal(seed=1),
        init.GlorotUniform(): ui.GlorotUniform(),
        init.VarianceScaling(2.0, "fan_out", "normal"): ui.VarianceScaling(2.0, "fan_out", "truncated_normal"),
        init.Orthogonal(gain=2.0, seed=3): ui.Orthogonal(gain=2.0, seed=3),
        init.RandomNormal(stddev=0.5): ui.RandomNormal(stddev=0.5),
        init.Zeros(): ui.Zeros(),
    }
    for keras_init, spec in cases.items():
        assert uk.initializer(keras_init).spec == spec, keras_init
    assert uk.initializer(keras_mod.initializers.Constant([[1.0], [2.0]]))((2, 3)).shape == (2, 3)  # an array constant

    class Custom(keras_mod.initializers.Initializer):
        def __call__(self, shape: Any, dtype: Any = None) -> Any:
            return keras_mod.ops.zeros(shape)

    with pytest.raises(ui.ParameterError, match="Custom is not one of Keras's built-in initializers"):
        uk.initializer(Custom())


def test_a_converted_keras_built_in_draws_with_the_seed_it_holds(keras_mod: Any, uk: Any) -> None:
    """Read through its config alone, ``HeUniform(seed=generator)`` got a fresh generator of the same first state (two
    initializers sharing one drew alike, where Keras's own draw on), and an unseeded one drew a second default seed
    from Python's ``random``, moving every seed Keras handed out after it (Keras deep dive)."""
    import random

    import numpy as np

    generator = keras_mod.random.SeedGenerator(3)
    first = uk.initializer(keras_mod.initializers.HeUniform(seed=generator))
    second = uk.initializer(keras_mod.initializers.HeUniform(seed=generator))
    assert first.seed is generator
    draws = [keras_mod.ops.convert_to_numpy(init((16, 16))) for init in (first, second)]
    assert not np.array_equal(*draws)
    unseeded = keras_mod.initializers.HeUniform()
    state = random.getstate()
    converted = uk.initializer(unseeded)
    assert random.getstate() == state  # no second default seed taken
    assert converted.seed == unseeded.seed
    assert keras_mod.initializers.serialize(converted)["config"]["spec"]["config"]["seed"] is None  # unsaved, as Keras's


def test_a_keras_identity_keeps_the_gain_its_config_leaves_out(keras_mod: Any, uk: Any) -> None:
    """Keras 3's ``Identity.get_config()`` is ``{}``: read through it alone, ``Identity(gain=2.0)`` drew the identity."""
    import numpy as np

    import unit_init as ui

    for gain in (2.0, np.float32(2.0), np.int64(2)):  # a NumPy scalar is a number too
        assert uk.initializer(keras_mod.initializers.Identity(gain=gain)).spec == ui.Identity(gain=2.0), gain


def test_initialize_gives_einsum_axes_to_fan_scaled_specs_only_as_keras_does(keras_mod: Any) -> None:
    """Orthogonal through initialize saw an EinsumDense kernel as (in units x out units): 8x Keras's variance on MHA's query."""
    import numpy as np

    import unit_init as ui
    import unit_init.keras

    keras = keras_mod

    def variance(kernel: Any) -> float:
        return float(np.var(keras.ops.convert_to_numpy(kernel)))

    for spec, reference in ((ui.Orthogonal(), unit_init.keras.initializer(ui.Orthogonal(seed=0))), (ui.HeNormal(), keras.initializers.HeNormal(seed=0))):
        ours = keras.layers.MultiHeadAttention(8, 64)
        ours.build((None, 4, 512), (None, 4, 512))
        unit_init.keras.initialize(ours, {keras.layers.MultiHeadAttention: spec}, seed=0)
        theirs = keras.layers.MultiHeadAttention(8, 64, kernel_initializer=reference)
        theirs.build((None, 4, 512), (None, 4, 512))
        assert variance(ours.query_dense.kernel) == pytest.approx(variance(theirs.query_dense.kernel), rel=0.02)
    # a kernel axis kept from the input into the output ("b") is an output axis to Keras: fan_out = 8·256, not 256
    layers = [keras.layers.EinsumDense("abc,bcd->abd", output_shape=(8, 256), kernel_initializer=init) for init in (
        "zeros", keras.initializers.GlorotUniform(seed=0))]
    for layer in layers:
        layer.build((None, 8, 64))
    unit_init.keras.initialize(layers[0], {keras.layers.EinsumDense: ui.GlorotUniform()}, seed=0)
    assert variance(layers[0].kernel) == pytest.approx(variance(layers[1].kernel), rel=0.02)
    assert variance(layers[1].kernel) == pytest.approx(2 / (64 + 8 * 256), rel=0.02)


def test_keras_builtins_with_scalar_tensor_parameters_are_read_as_their_numbers(keras_mod: Any, uk: Any) -> None:
    """Keras takes "a python scalar or a scalar keras tensor" for ``mean``/``stddev``/``minval``…, whose config is its
    ``__tensor__`` config: converting such a built-in was a ParameterError blaming a dict (helper 164)."""
    import unit_init as ui

    keras = keras_mod
    tensor = keras.ops.convert_to_tensor
    assert uk.initializer(keras.initializers.RandomNormal(mean=tensor(0.5), stddev=tensor(2.0), seed=1)).spec == ui.RandomNormal(mean=0.5, stddev=2.0, seed=1)
    assert uk.initializer(keras.initializers.RandomUniform(minval=tensor(-1.0), maxval=tensor(3.0), seed=1)).spec == ui.RandomUniform(-1.0, 3.0, seed=1)
    assert uk.initializer(keras.initializers.VarianceScaling(scale=tensor(2.0), seed=1)).spec == ui.VarianceScaling(scale=2.0, seed=1)


def test_keras_builtins_whose_parameters_are_no_real_scalar_are_refused_not_drawn_with_the_default(keras_mod: Any, uk: Any) -> None:
    """Keras 3's ``Identity.get_config()`` is ``{}``: a gain that was no number (``[[0.5]]``, a bool tensor) was left
    out and the identity drawn with gain 1, silently; a complex ``Constant`` raised Keras's own TypeError from its
    serializer; a bool or non-scalar tensor parameter was blamed as a dict (helper 169)."""
    import numpy as np

    from unit_init.errors import ParameterError

    keras = keras_mod
    tensor = keras.ops.convert_to_tensor
    for refused, match in [
        (keras.initializers.Identity(gain=[[0.5]]), r"Identity\(gain=\[\[0.5\]\]\): gain must be a real number"),
        (keras.initializers.Identity(gain=tensor(False)), r"Identity\(gain=.*\): gain must be a real number"),
        (keras.initializers.RandomNormal(mean=tensor(True)), r"RandomNormal\(mean=.*\): mean must be a real number"),
        (keras.initializers.Orthogonal(gain=tensor(np.array([0.5, 0.6], np.float32))), r"Orthogonal\(gain=.*\): gain must be a real number"),
        (keras.initializers.Constant(1 + 1j), r"keras.initializers.Constant: Keras cannot write its config"),
    ]:
        with pytest.raises(ParameterError, match=match):
            uk.initializer(refused)
    assert uk.initializer(keras.initializers.Identity(gain=tensor(0.5))).spec.gain == 0.5


def test_torchs_spellings_of_the_fan_scaled_laws_get_keras_attention_axes(keras_mod: Any, uk: Any) -> None:
    """``XavierUniform``/``KaimingNormal`` … were plain KerasInitializers, to which Keras hands no axes: a
    MultiHeadAttention query kernel (512, 8, 64) got 1/36 (Xavier) and 1/8 (Kaiming) of its Glorot and He variance
    (helper 164). They are KerasVarianceScaling, with Keras's attributes, as GlorotUniform and HeUniform are."""
    import numpy as np

    import unit_init as ui

    keras = keras_mod
    for spec, attributes, variance in [
        (ui.XavierUniform(seed=1), (1.0, "fan_avg", "uniform"), 1 / 512),
        (ui.XavierNormal(gain=2.0, seed=1), (4.0, "fan_avg", "untruncated_normal"), 4 / 512),
        (ui.KaimingUniform(seed=1), (2.0, "fan_in", "uniform"), 2 / 512),
        (ui.KaimingNormal(mode="fan_out", seed=1), (2.0, "fan_out", "untruncated_normal"), 2 / 512),
    ]:
        init = uk.initializer(spec)
        assert isinstance(init, keras.initializers.VarianceScaling)
        assert (pytest.approx(init.scale), init.mode, init.distribution) == attributes
        layer = keras.layers.MultiHeadAttention(8, 64, kernel_initializer=init)
        layer.build((None, 4, 512), (None, 4, 512))
        assert float(np.var(keras.ops.convert_to_numpy(layer.query_dense.kernel))) == pytest.approx(variance, rel=0.02), spec
    layer = keras.layers.MultiHeadAttention(8, 64)
    layer.build((None, 4, 512), (None, 4, 512))
    uk.initialize(layer, {keras.layers.MultiHeadAttention: ui.XavierUniform()}, seed=0)
    assert float(np.var(keras.ops.convert_to_numpy(layer.query_dense.kernel))) == pytest.approx(1 / 512, rel=0.02)


def test_a_saved_model_with_a_large_array_constant_loads_and_clones(keras_mod: Any, uk: Any, tmp_path: Path) -> None:
    """Saving wrote the constant as nested lists, and reading them back met the 1024-value config limit: a model with a
    40×40 constant saved, then neither loaded nor cloned (Keras's own ``Constant(array)`` does both)."""
    import numpy as np

    eye = np.eye(40, dtype="float32")
    model = keras_mod.Sequential([keras_mod.Input((40,)), keras_mod.layers.Dense(40, kernel_initializer=uk.initializer(eye))])
    model.save(tmp_path / "m.keras")
    loaded = keras_mod.models.load_model(tmp_path / "m.keras")
    cloned = keras_mod.models.clone_model(model)
    assert np.array_equal(keras_mod.ops.convert_to_numpy(loaded.layers[0].kernel), eye)
    assert np.array_equal(keras_mod.ops.convert_to_numpy(cloned.layers[0].kernel), eye)
    ported = uk.initializer(keras_mod.initializers.Constant(np.arange(2000.0)))  # the porting path, as Keras writes it
    assert keras_mod.ops.convert_to_numpy(ported((2000,))).tolist() == list(np.arange(2000.0))


def test_a_bfloat16_tensor_is_an_initializer_as_in_keras(keras_mod: Any, uk: Any) -> None:
    """NumPy reads bfloat16 as a void kind, which the dtype check refused."""
    init = uk.initializer(keras_mod.ops.ones((3, 3), dtype="bfloat16"))
    drawn = init((3, 3), dtype="bfloat16")
    assert keras_mod.backend.standardize_dtype(drawn.dtype) == "bfloat16"
    assert keras_mod.ops.convert_to_numpy(keras_mod.ops.cast(drawn, "float32")).tolist() == [[1.0] * 3] * 3
    assert type(init).from_config(init.get_config()).get_config() == init.get_config()


def test_a_subclass_of_the_adapter_stays_itself_through_its_config(keras_mod: Any, uk: Any) -> None:
    """``from_config`` built the base class: a subclass's own ``__call__`` was lost on clone, save and load."""

    class Halved(uk.KerasInitializer):
        def __call__(self, shape: Any, dtype: Any = None) -> Any:
            return super().__call__(shape, dtype) * 0.5

    import unit_init as ui

    for spec in (ui.Orthogonal(seed=1), ui.HeNormal(seed=1)):  # a fan-scaled spec too (the base class picks its Keras family)
        init = Halved(spec)
        again = Halved.from_config(init.get_config())
        assert type(again) is Halved
        assert keras_mod.ops.convert_to_numpy(again((4, 4))).tolist() == keras_mod.ops.convert_to_numpy(init((4, 4))).tolist()


def test_constant_configs_read_back_any_shape_up_to_the_limit_and_refuse_shaped_dtypes(keras_mod: Any, uk: Any) -> None:
    """Lists were counted with numbers: ``(2**19, 2)`` saved and did not read back. A subarray dtype
    (``"(10000000,)f4"``) multiplied a config's size; a constant past the limit is refused when saved, not loaded."""
    import numpy as np

    from unit_init.errors import DTypeError, ParameterError

    for shape in ((2**19, 2), (2**20, 1)):
        constant = uk.KerasConstant(np.zeros(shape, "float32"))
        assert uk.KerasConstant.from_config(constant.get_config()).value.shape == shape
    with pytest.raises(DTypeError, match="is not supported"):
        uk.KerasConstant.from_config({"value": [1.0, 2.0], "dtype": "(10000000,)f4"})
    with pytest.raises(ParameterError, match="cannot be saved in a config"):
        uk.KerasConstant(np.zeros(2**20 + 1, "float32")).get_config()


def test_deterministic_specs_take_no_seed_from_pythons_random(uk: Any) -> None:
    """Keras's ``Zeros``/``Constant`` draw no seed; the adapter's drew one from Python's ``random``, which moved the
    seeds Keras's own unseeded initializers built after them get under ``keras.utils.set_random_seed``."""
    import random

    import unit_init as ui

    random.seed(0)
    expected = random.random()
    random.seed(0)
    deterministic = [uk.initializer(spec) for spec in (ui.Zeros(), ui.Constant(2.0), ui.Identity(), ui.Ones())]
    assert random.random() == expected
    assert all(init.seed is None for init in deterministic)
    assert uk.initializer(ui.HeNormal()).seed is not None  # a random spec still takes one, as Keras's


@pytest.mark.parametrize("mode", ["float8", "int8"])
def test_a_quantized_model_keeps_its_quantization_state_and_lsuv_says_why_it_cannot_run(keras_mod: Any, uk: Any, mode: str) -> None:
    """float8: initialize drew its scales and amax histories (trainable state Keras overwrites itself) as weights, the
    scales from 1.0 to ±1.4; lsuv and diagnose said the quantized layers were "not called by model(batch)"."""
    import warnings

    import numpy as np

    import unit_init as ui

    model = keras_mod.Sequential([keras_mod.Input((32,)), keras_mod.layers.Dense(16, name="fc")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras: InputLayer has no quantize method
        model.quantize(mode)
    state = {v.path: keras_mod.ops.convert_to_numpy(v).copy() for v in model.weights if getattr(v, "overwrite_with_gradient", False)}
    assert (mode == "float8") == bool(state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # int8: the kernel is no trainable weight, so the rule sets nothing
        _, report = uk.initialize(model, {keras_mod.layers.Dense: ui.HeNormal()}, seed=0)
    assert [name.split("/", 1)[1] for name in report.applied] == (["fc/kernel"] if mode == "float8" else [])  # int8's is int8
    for variable in model.weights:
        if variable.path in state:
            np.testing.assert_array_equal(keras_mod.ops.convert_to_numpy(variable), state[variable.path])
    batch = np.random.default_rng(0).normal(size=(64, 32)).astype("float32")
    for call in (lambda: uk.lsuv(model, batch, seed=0), lambda: ui.diagnose(model, batch)):
        with pytest.raises(ui.ParameterError, match=f"are quantized \\({mode}\\); run lsuv or diagnose on the model before model.quantize"):
            call()


def test_what_an_initializer_accepts_and_saves_does_not_depend_on_what_was_built_before(uk: Any) -> None:
    """The config round trip's cache took ``True``, ``1`` and ``1.0`` for one key: after ``fan_in=1.0`` was built,
    ``fan_in=True`` (refused in a fresh process) was accepted, and ``Constant(1.0)`` saved the ``1`` of a
    ``Constant(1)`` built before it (a campaign over Keras on three backends)."""
    import unit_init as ui
    from unit_init.keras._initializer import _cached_round_trip

    _cached_round_trip.cache_clear()  # what earlier tests built must not decide this one
    uk.initializer(ui.HeNormal(seed=1), fan_in=1.0)
    with pytest.raises(ui.ParameterError, match="fan_in=True"):
        uk.initializer(ui.HeNormal(seed=1), fan_in=True)
    assert uk.initializer(ui.Constant(1)).get_config()["spec"]["config"]["value"] == 1
    saved = uk.initializer(ui.Constant(1.0)).get_config()["spec"]["config"]["value"]
    assert type(saved) is float


def test_a_sharding_as_a_specs_layout_names_the_keras_initializer() -> None:
    """Under keras.distribution on JAX, Keras passes its variable layout to a bare spec's ``layout=``: the refusal
    read "layout=NamedSharding(...) is not known" with no word of why or what to use."""
    import unit_init as ui

    class Sharding:  # what Keras hands over: a NamedSharding over a mesh, with a spec
        mesh, spec = "mesh", ("model", None)

    with pytest.raises(ui.ParameterError, match=r"It is a sharding: under keras\.distribution.*unit_init\.keras\.initializer\(spec\)"):
        ui.HeNormal()((4, 4), layout=Sharding())


@pytest.mark.parametrize(("input_axes", "output_axes"), [([0, 1], [1, 2]), ([0, 0], [1])])
def test_an_axis_named_twice_is_refused_when_the_initializer_is_made(uk: Any, input_axes: list[int], output_axes: list[int]) -> None:
    """Such axes were taken and saved, then refused by the first call (Keras's own draws with them)."""
    import unit_init as ui

    config = {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
                                                          "seed": None, "input_axes": input_axes, "output_axes": output_axes}}
    with pytest.raises(ui.ParameterError, match="more than once"):
        uk.initializer(config)
    with pytest.raises(ui.ParameterError, match="more than once"):
        uk.initializer(ui.HeNormal(), input_axes=input_axes, output_axes=output_axes)


@pytest.mark.parametrize(
    "made",
    [
        lambda uk, ui, np: uk.initializer(ui.HeNormal(seed=1)),
        lambda uk, ui, np: uk.initializer(ui.Orthogonal(gain=2.0), layout="torch", fan_in=3),
        lambda uk, ui, np: uk.initializer(ui.HeNormal(), input_axes=[0], output_axes=[1]),
        lambda uk, ui, np: uk.initializer(np.ones((2, 2))),
        lambda uk, ui, np: uk.initializer(np.arange(2000, dtype="float32").reshape(40, 50)),  # past the 1024 values of a config
    ],
    ids=["variance-scaling", "layout-and-fans", "axes", "array-constant", "large-array-constant"],
)
def test_the_config_keras_writes_for_the_adapters_initializers_reads_back(made: Any, keras_mod: Any, uk: Any) -> None:
    """``keras.initializers.serialize`` of the adapter's own initializer (module ``unit_init.keras``) was refused by
    ``initializer()`` as a module path, while Keras's own ``get`` read it: code routing every layer's initializer
    through the adapter failed on what a layer's ``from_config`` handed it."""
    import numpy as np

    import unit_init as ui

    config = keras_mod.initializers.serialize(made(uk, ui, np))
    back = uk.initializer(config)
    assert type(back) is type(made(uk, ui, np))
    assert keras_mod.initializers.serialize(back) == config
    with pytest.raises(ui.ParameterError, match="pass none of them"):
        uk.initializer(config, seed=3)
    with pytest.raises(ui.ParameterError, match="not the config of one of its initializers"):
        uk.initializer({**config, "registered_name": "unit_init>Other"})


def test_hostile_envelopes_of_the_adapters_configs_are_parameter_errors(keras_mod: Any, uk: Any) -> None:
    """A list as ``registered_name`` (unhashable) and an array as ``module`` gave raw ``TypeError``/``ValueError`` once the
    adapter read its own configs; a ``VarianceScaling`` envelope around a spec that is not fan-scaled is the plain
    initializer (it had no ``scale``, ``mode``, ``distribution``)."""
    import numpy as np

    import unit_init as ui

    config = keras_mod.initializers.serialize(uk.initializer(ui.HeNormal(seed=3)))
    for hostile in ({**config, "registered_name": ["x"]}, {**config, "registered_name": {"a": 1}},
                    {**config, "module": np.array(["unit_init.keras", "x"])}):
        with pytest.raises(ui.ParameterError):
            uk.initializer(hostile)
    zeros = {**config, "config": {**config["config"], "spec": {"class_name": "Zeros", "config": {}}}}
    assert type(uk.initializer(zeros)) is uk.KerasInitializer
    assert type(keras_mod.initializers.get(zeros)) is uk.KerasInitializer


def test_an_envelope_holding_a_live_seed_generator_reads_as_from_config_does(keras_mod: Any, uk: Any) -> None:
    """``from_config`` keeps a ``SeedGenerator`` in its config; reading the envelope as plain JSON first refused it."""
    import unit_init as ui

    seed = keras_mod.random.SeedGenerator(3)
    envelope = {
        "module": "unit_init.keras", "class_name": "KerasVarianceScaling", "registered_name": "unit_init>VarianceScaling",
        "config": {"spec": {"class_name": "GlorotUniform", "config": {"seed": None}}, "layout": "keras", "seed": seed},
    }
    made = uk.initializer(envelope)
    assert type(made) is uk.KerasVarianceScaling
    assert made.seed is seed
    with pytest.raises(ui.ParameterError, match="SeedGenerator"):  # outside an envelope, a spec config holds JSON only
        uk.initializer({"class_name": "GlorotUniform", "config": {"seed": seed}})


def test_the_short_config_form_keras_reads_names_an_adapter_initializer(keras_mod: Any, uk: Any) -> None:
    """``{"class_name": "unit_init>VarianceScaling", "config": …}``, which ``keras.initializers.deserialize`` reads, was
    refused as an unknown spec, suggesting 'VarianceScaling' (another class) (Keras deep dive)."""
    import unit_init as ui

    saved = keras_mod.initializers.serialize(uk.initializer(ui.HeNormal(seed=1), layout="torch"))
    for extra in ({}, {"registered_name": "unit_init>VarianceScaling"}):
        back = uk.initializer({"class_name": "unit_init>VarianceScaling", "config": saved["config"], **extra})
        assert (back.spec, back.layout) == (ui.HeNormal(seed=1), "torch")
    with pytest.raises(ui.ParameterError, match="not a registered unit_init spec"):  # nor does Keras read it as one
        uk.initializer({"class_name": "KerasVarianceScaling", "config": saved["config"]})
    with pytest.raises(ui.ParameterError, match=r"made from a spec \(unit_init\.keras\.initializer"):
        keras_mod.initializers.get("unit_init>VarianceScaling")
