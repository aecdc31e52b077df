"""The TensorFlow backend: shapes, dtypes, devices, stateless seeds, Generators, support on narrow grids."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from targets import FLOATS, RANDOM, expected_families

if "tensorflow" not in expected_families():  # a nox session that expects tensorflow fails on the import instead
    pytest.importorskip("tensorflow", reason="the tensorflow backend needs tensorflow: pip install 'unit-init[tensorflow]'")
import tensorflow as tf  # after the skip check

from unit_init.backends.registry import get_backend
from unit_init.dtypes import largest_below
from unit_init.sampling import NativeStream, sample_from

MILLION = (1024, 1024)


SHAPE = (12, 6)  # rank 2 for identity; orthogonal's Gaussian then has this shape too, so samplers are shared


def to_np(x: Any) -> np.ndarray:
    return np.asarray(x.numpy()).astype(np.float64)


def has_gpu() -> bool:
    return bool(tf.config.list_logical_devices("GPU"))


def default_device() -> str:
    return "GPU:0" if has_gpu() else "CPU:0"


def equal(a: Any, b: Any) -> bool:
    return bool(np.array_equal(a.numpy(), b.numpy()))


# --- the catalogue × dtype matrix ---------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(ui.CATALOGUE))
def test_every_initializer_and_dtype(name: str, dtype: str) -> None:
    shape = SHAPE
    x = ui.CATALOGUE[name]()(shape, backend="tensorflow", dtype=dtype, seed=0)
    assert isinstance(x, tf.Tensor)
    assert tuple(x.shape) == shape
    assert x.dtype == tf.dtypes.as_dtype(dtype)  # no silent upcast
    assert x.device.endswith(default_device())
    assert np.isfinite(to_np(x)).all()


@pytest.mark.parametrize("name", RANDOM)
def test_same_seed_bit_identical_different_seed_differs(name: str) -> None:
    spec, shape = ui.CATALOGUE[name](), SHAPE
    a = spec(shape, backend="tf", seed=7)
    assert equal(a, spec(shape, backend="tf", seed=7))
    assert not equal(a, spec(shape, backend="tf", seed=8))
    assert not equal(a, spec(shape, backend="tf", seed=7 + 2**40))


def test_unseeded_calls_follow_set_seed() -> None:
    ui.set_seed(3)
    a = ui.lecun_normal((8, 8), backend="tf")
    ui.set_seed(3)
    assert equal(a, ui.lecun_normal((8, 8), backend="tf"))


# --- dtypes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8"])
def test_integer_dtypes_for_deterministic_initializers(dtype: str) -> None:
    assert np.array_equal(ui.zeros((2, 3), backend="tf", dtype=dtype).numpy(), np.zeros((2, 3)))
    assert np.array_equal(ui.ones((2, 3), backend="tf", dtype=dtype).numpy(), np.ones((2, 3)))
    assert np.array_equal(ui.constant((2, 3), value=3, backend="tf", dtype=dtype).numpy(), np.full((2, 3), 3))
    eye = ui.identity((2, 3), gain=2, backend="tf", dtype=dtype)
    assert eye.dtype == tf.dtypes.as_dtype(dtype)
    assert np.array_equal(eye.numpy(), 2 * np.eye(2, 3))


@pytest.mark.parametrize("name", RANDOM)
def test_integer_dtype_for_random_initializer_raises(name: str) -> None:
    with pytest.raises(ui.DTypeError, match="int32"):
        ui.CATALOGUE[name]()(SHAPE, backend="tf", dtype="int32", seed=0)


def test_native_dtype_objects_are_accepted() -> None:
    assert ui.he_normal((2, 2), backend="tf", dtype=tf.bfloat16, seed=0).dtype == tf.bfloat16


# --- narrow grids: support, upper bound, orthogonality -------------------------------------------


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("spec", [ui.TruncatedNormal(stddev=1.0), ui.HeNormal(), ui.GlorotNormal()], ids=repr)
def test_truncated_values_stay_inside_bounds_over_a_million_draws(spec: ui.Initializer, dtype: str) -> None:
    low, high = spec.distribution_for(MILLION).support  # type: ignore[attr-defined]
    x = to_np(spec(MILLION, backend="tf", dtype=dtype, seed=11))
    assert low <= x.min()
    assert x.max() <= high


@pytest.mark.parametrize(("low", "high"), [(-1.0, 1.5), (-3.0, 0.5)])
def test_other_truncation_bounds(low: float, high: float) -> None:
    backend = get_backend("tf")
    device = backend.resolve_device(None)
    stream = NativeStream(backend, backend.generator(0, device), device)
    z = sample_from(stream, ui.distributions.TruncatedGaussian(0.0, 1.0, low, high), (1 << 16,), "float32")
    values = z.numpy()
    assert z.device.endswith(default_device())
    assert low <= values.min()
    assert values.max() <= high
    expected, _ = ui.distributions.truncated_standard_normal_moments(low, high)
    assert abs(values.mean() - expected) < 6 / math.sqrt(values.size)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_uniform_never_returns_its_upper_bound(dtype: str) -> None:
    x = to_np(ui.random_uniform(MILLION, minval=0.0, maxval=1.0, backend="tf", dtype=dtype, seed=5))
    assert x.min() >= 0.0
    assert x.max() < 1.0
    assert x.max() == largest_below(1.0, dtype)  # rounding up to 1.0 happened and was confined


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("shape", [(64, 32), (32, 64), (3, 3, 8, 16)])
def test_orthogonal_narrow_is_a_cast_float32_qr(dtype: str, shape: tuple[int, ...]) -> None:
    narrow = ui.orthogonal(shape, backend="tf", dtype=dtype, seed=2)
    wide = ui.orthogonal(shape, backend="tf", dtype="float32", seed=2)
    assert equal(narrow, tf.cast(wide, dtype))
    q = to_np(narrow).reshape(-1, shape[-1])
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    eps = {"bfloat16": 2.0**-7, "float16": 2.0**-10}[dtype]
    assert np.abs(gram - np.eye(gram.shape[0])).max() < 4 * eps


@pytest.mark.parametrize("spec", [ui.HeNormal(), ui.GlorotUniform()], ids=repr)
def test_moments(spec: ui.Initializer) -> None:
    n = math.prod(MILLION)
    x = to_np(spec(MILLION, backend="tf", seed=123))
    variance = spec.variance(MILLION)
    assert abs(x.mean()) < 6 * math.sqrt(variance / n)
    assert abs(x.var() / variance - 1) < 6 * math.sqrt(2 / n)


# --- seeds and generators ------------------------------------------------------------------------


def test_a_seed_stream_gives_independent_draws() -> None:
    backend = get_backend("tf")
    device = backend.resolve_device(None)
    stream = backend.generator(0, device)
    first, second = backend.normal(stream, (1000,), "float32", device), backend.normal(stream, (1000,), "float32", device)
    assert abs(np.corrcoef(first.numpy(), second.numpy())[0, 1]) < 0.15


def test_a_generator_is_used_and_advances() -> None:
    generator = tf.random.Generator.from_seed(1)
    state = generator.state.numpy().copy()
    a = ui.he_uniform((16, 16), backend="tf", seed=generator)
    assert not np.array_equal(generator.state.numpy(), state)  # it advanced
    assert not equal(a, ui.he_uniform((16, 16), backend="tf", seed=generator))
    again = tf.random.Generator.from_seed(1)
    assert equal(a, ui.he_uniform((16, 16), backend="tf", seed=again))  # same state, same values
    limit = math.sqrt(6 / 16)
    assert np.abs(a.numpy()).max() < limit
    for spec in (ui.HeNormal(), ui.RandomNormal(), ui.Orthogonal()):
        assert spec((8, 8), backend="tf", seed=generator).device.endswith(default_device())


@pytest.mark.parametrize("seed", [1.5, "0", np.zeros(2, np.int64)], ids=["float", "str", "array"])
def test_bad_seeds_raise(seed: Any) -> None:
    with pytest.raises(ui.SeedError, match="seed="):
        ui.he_normal((2, 2), backend="tf", seed=seed)


# --- devices and like= -----------------------------------------------------------------------------


def test_like_infers_backend_device_and_dtype() -> None:
    existing = tf.ones((3, 3), dtype=tf.bfloat16)
    x = ui.he_normal((5, 4), like=existing, seed=0)
    assert isinstance(x, tf.Tensor)
    assert x.dtype == tf.bfloat16
    assert x.device == existing.device
    assert ui.zeros((2,), like=tf.Variable([1.0, 2.0])).dtype == tf.float32


@pytest.mark.parametrize(
    "device", ["cpu", "cpu:0", "/CPU:0", "/device:CPU:0", "/job:localhost/replica:0/task:0/device:CPU:0"]
)
def test_cpu_device_spellings(device: str) -> None:
    assert ui.glorot_normal((4, 4), backend="tf", device=device, seed=0).device.endswith("device:CPU:0")
    assert ui.zeros((2,), backend="tf", device=tf.DeviceSpec(device_type="CPU", device_index=0)).device.endswith("CPU:0")


@pytest.mark.skipif(has_gpu(), reason="a GPU is present")
@pytest.mark.parametrize("device", ["gpu:0", "cuda:0", "/GPU:0", "cpu:5", "/job:worker/replica:0/task:0/device:CPU:0"])
def test_missing_device_lists_the_present_ones(device: str) -> None:
    with pytest.raises(ui.DeviceError, match=r"present: \['/device:CPU:0'"):
        ui.he_normal((2, 2), backend="tf", device=device)


@pytest.mark.parametrize("device", ["xpu:0", "cpu:x", 3])
def test_unknown_device_spelling(device: Any) -> None:
    with pytest.raises(ui.DeviceError, match="device="):
        ui.zeros((2,), backend="tf", device=device)


def test_routing_to_a_second_logical_cpu_in_a_subprocess() -> None:
    code = """
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import unit_init as ui
        for name, cls in ui.CATALOGUE.items():
            shape = (12, 6)
            for dtype in ("bfloat16", "float32"):
                x = cls()(shape, backend="tf", device="cpu:1", dtype=dtype, seed=0)
                assert x.device.endswith("device:CPU:1"), (name, dtype, x.device)
        for device in ("/CPU:1", "/job:localhost/replica:0/task:0/device:CPU:1", tf.DeviceSpec(device_type="CPU", device_index=1)):
            assert ui.orthogonal((8, 4), backend="tf", device=device, seed=0).device.endswith("CPU:1")
        generator = tf.random.Generator.from_seed(0)  # its state lives on CPU:0
        assert ui.he_normal((4, 4), backend="tf", device="cpu:1", seed=generator).device.endswith("CPU:1")
        assert ui.he_uniform((3, 3), like=x).device.endswith("CPU:1")
        print("ok")
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


@pytest.mark.gpu
@pytest.mark.skipif(not has_gpu(), reason="no TensorFlow GPU device present")
@pytest.mark.parametrize("device", ["gpu", "cuda:0", "/GPU:0"])
def test_gpu(device: str) -> None:
    for dtype in ("bfloat16", "float16", "float32"):
        x = ui.he_normal((256, 128), backend="tf", device=device, dtype=dtype, seed=0)
        assert x.device.endswith("GPU:0")
        assert x.dtype == tf.dtypes.as_dtype(dtype)
    assert ui.orthogonal((64, 32), backend="tf", device=device, seed=0).device.endswith("GPU:0")


def test_backend_helpers() -> None:
    backend = get_backend("tf")
    x = tf.range(3.0)
    assert backend.owns(x)
    assert not backend.owns(np.arange(3.0))
    assert backend.device_of(x) == x.device
    assert backend.dtype_of(tf.cast(x, tf.bfloat16)) == "bfloat16"
    assert isinstance(backend.to_numpy(x), np.ndarray)


# --- compiled samplers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec", [ui.HeNormal(), ui.GlorotUniform(), ui.RandomNormal(0.5, 2.0), ui.Orthogonal(), ui.BoundedNormal(0.0, 1.0, -1.0, 1.5)], ids=repr
)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_a_compiled_sampler_equals_sampling_op_by_op_and_is_traced_once(spec: ui.Initializer, dtype: str) -> None:
    from unit_init.backends.tensorflow_backend import TRACES, SeedStream

    backend = get_backend("tf")
    device = backend.resolve_device(None)
    shape = (40, 24)
    distribution = spec.distribution_for(shape)
    first = spec(shape, backend="tf", dtype=dtype, seed=9)
    traced = TRACES["compiled"]
    assert equal(spec(shape, backend="tf", dtype=dtype, seed=9), first)
    assert not equal(spec(shape, backend="tf", dtype=dtype, seed=10), first)
    assert TRACES["compiled"] == traced, "a new seed reuses the compiled sampler"
    op_by_op = sample_from(NativeStream(backend, SeedStream(9), device), distribution, shape, dtype)
    assert equal(first, op_by_op)


EAGER_ONLY = {  # what a sampler may do with a tensor's value that no graph can trace
    "bool": lambda x: bool(tf.reduce_any(tf.abs(x) > 3.0)),  # OperatorNotAllowedInGraphError (a TypeError)
    "float": lambda x: float(tf.reduce_max(tf.abs(x))) > 3.0,  # TypeError
    "numpy": lambda x: bool((np.abs(x.numpy()) > 3.0).any()),  # AttributeError
}


@pytest.mark.parametrize("needs_value", EAGER_ONLY)
def test_a_distribution_with_eager_control_flow_is_sampled_op_by_op(needs_value: str) -> None:
    from unit_init.backends.tensorflow_backend import SeedStream
    from unit_init.sampling import Draw, sample
    from unit_init.sampling.entry import _compiled
    from unit_init.spec.distributions import Distribution

    above_three = EAGER_ONLY[needs_value]

    @dataclasses.dataclass(frozen=True)
    class RedrawnAboveThree(Distribution):
        def sample(self, backend: Any, draw: Draw) -> Any:
            x = draw.stream.normal(draw.shape, "float32")
            while above_three(x):  # the tensor's value in Python: no graph
                x = draw.stream.normal(draw.shape, "float32")
            return backend.cast(x, draw.dtype)

    backend = get_backend("tf")
    device = backend.resolve_device(None)
    assert _compiled(backend, RedrawnAboveThree(), (8, 8), "float32", device, SeedStream) is None
    x = sample(backend, RedrawnAboveThree(), (8, 8), "float32", device, backend.generator(0, device))
    assert x.shape == (8, 8)
    assert float(tf.reduce_max(tf.abs(x))) <= 3.0
    law = ui.BoundedNormal(0.0, 1.0, -1.0, 1.5).distribution_for((8, 8))
    assert _compiled(backend, law, (8, 8), "float32", device, SeedStream) is not None


def test_a_refusal_while_tracing_is_raised_not_swallowed() -> None:
    """A sampler's own typed error (here a DTypeError) is the call's answer, traced or eager."""
    from unit_init.backends.tensorflow_backend import SeedStream
    from unit_init.sampling import Draw
    from unit_init.sampling.entry import _compiled
    from unit_init.spec.distributions import Distribution

    @dataclasses.dataclass(frozen=True)
    class Refused(Distribution):
        def sample(self, backend: Any, draw: Draw) -> Any:
            raise ui.DTypeError("no such dtype here")

    backend = get_backend("tf")
    device = backend.resolve_device(None)
    with pytest.raises(ui.DTypeError, match="no such dtype here"):
        _compiled(backend, Refused(), (4, 4), "float32", device, SeedStream)
