"""The TensorFlow backend: what only TensorFlow has — devices, stateless seeds, Generators, compiled samplers.

The cells every backend shares (each initializer × dtype × shape, seeds, set_seed,
integer dtypes, support on the bfloat16/float16 grids, narrow orthogonal,
moments) live in the cross-backend matrix, tests/test_matrix.py.
"""

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
from targets import expected_families

if "tensorflow" not in expected_families():  # a nox session that expects tensorflow fails on the import instead
    pytest.importorskip("tensorflow", reason="the tensorflow backend needs tensorflow: pip install 'unit-init[tensorflow]'")
import tensorflow as tf  # after the skip check

from unit_init.backends.registry import get_backend
from unit_init.sampling import NativeStream, sample_from


def has_gpu() -> bool:
    return bool(tf.config.list_logical_devices("GPU"))


def default_device() -> str:
    return "GPU:0" if has_gpu() else "CPU:0"


def equal(a: Any, b: Any) -> bool:
    return bool(np.array_equal(a.numpy(), b.numpy()))


# --- dtypes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("autograph", [True, False])
def test_inside_a_tf_function_like_takes_a_symbolic_tensor_and_errors_keep_their_type(autograph: bool) -> None:
    """A graph tensor has no device yet (``''``): ``like=`` takes its dtype and the default placement. An error raised
    inside a ``tf.function`` reaches the caller with its own type, not autograph's ``StagingError``."""

    @tf.function(autograph=autograph)
    def drawn(x: Any) -> Any:
        return ui.glorot_uniform((3, 2), like=x, seed=0)

    assert equal(drawn(tf.ones((2,), dtype=tf.float64)), ui.glorot_uniform((3, 2), backend="tensorflow", dtype="float64", seed=0))

    @tf.function(autograph=autograph)
    def refused(x: Any) -> Any:
        return ui.he_normal((3,), backend="tensorflow", seed="abc") + x

    with pytest.raises(ui.SeedError, match="seed='abc' is not a seed for the tensorflow backend"):
        refused(tf.ones(3))


def test_native_dtype_objects_are_accepted() -> None:
    assert ui.he_normal((2, 2), backend="tf", dtype=tf.bfloat16, seed=0).dtype == tf.bfloat16


# --- truncation bounds of the sampler -------------------------------------------


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


@pytest.mark.parametrize(
    "seed", [1.5, "0", np.zeros(2, np.int64), tf.constant(3, tf.int64), tf.constant(3, tf.int32), tf.constant([3], tf.int64)],
    ids=["float", "str", "array", "eager tensor", "int32 tensor", "int64 vector"],
)
def test_bad_seeds_raise(seed: Any) -> None:
    with pytest.raises(ui.SeedError, match="seed="):
        ui.he_normal((2, 2), backend="tf", seed=seed)


def test_a_threefry_generator_where_tensorflow_cannot_run_it_is_a_seed_error() -> None:
    """TensorFlow runs ThreeFry only under XLA: its raw UnimplementedError on a CPU is a SeedError, the state kept."""
    generator = tf.random.Generator.from_seed(0, alg="threefry")
    state = generator.state.numpy().copy()
    with pytest.raises(ui.SeedError, match="use a Philox generator"):
        ui.he_normal((2, 2), backend="tf", device="cpu:0", seed=generator)
    assert (generator.state.numpy() == state).all()


def test_a_traced_int64_seed_draws_what_its_value_draws_eagerly() -> None:
    """Inside ``tf.function`` a scalar int64 tensor is an int seed read when the function runs (how a Keras
    SeedGenerator's seed arrives there): each call draws what the int draws eagerly; other traced tensors are refused."""
    draw = tf.function(lambda seed: ui.truncated_normal((64, 32), backend="tf", seed=seed), input_signature=[tf.TensorSpec([], tf.int64)])
    for seed in (0, 7, 2**62 + 5):
        assert equal(draw(tf.constant(seed, tf.int64)), ui.truncated_normal((64, 32), backend="tf", seed=seed))
    for signature in (tf.TensorSpec([], tf.int32), tf.TensorSpec([2], tf.int64), tf.TensorSpec([], tf.float32)):
        traced = tf.function(lambda seed: ui.he_normal((2, 2), backend="tf", seed=seed), input_signature=[signature])
        with pytest.raises(ui.SeedError, match="seed="):
            traced.get_concrete_function()
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"must lie in \[0, 2\*\*63 - 1\]"):  # drew silently
        draw(tf.constant(-5, tf.int64))


def test_a_traced_functions_int64_seed_run_eagerly_draws_the_same() -> None:
    """Under ``tf.config.run_functions_eagerly(True)`` (TensorFlow's debugging switch) the function's int64 seed
    arrives as an eager tensor, which was a SeedError: it is the int it holds, as when the function is traced."""
    draw = tf.function(lambda seed: ui.he_normal((8, 4), backend="tf", seed=seed), input_signature=[tf.TensorSpec([], tf.int64)])
    tf.config.run_functions_eagerly(True)
    try:
        eager = draw(tf.constant(11, tf.int64))
        with pytest.raises(ui.SeedError, match=r"seed=-3 must lie in \[0, 2\*\*63 - 1\]"):
            draw(tf.constant(-3, tf.int64))
    finally:
        tf.config.run_functions_eagerly(False)
    assert equal(eager, ui.he_normal((8, 4), backend="tf", seed=11))
    assert equal(eager, draw(tf.constant(11, tf.int64)))


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
    with pytest.raises(ui.DeviceError, match=r"present: '/device:CPU:0'"):  # worded as every backend's: quoted names, no list
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
        import importlib.util
        keras = importlib.util.find_spec("keras") is not None
        if keras:
            import unit_init.keras as uk
        for scope in ("/CPU:1", "/job:localhost/replica:0/task:0/device:CPU:1"):  # followed as tf.random.normal follows it
            with tf.device(scope):
                assert ui.he_normal((2, 2), backend="tf", seed=0).device.endswith("CPU:1")
                assert ui.he_normal((2, 2), backend="tf", seed=0, rng="portable").device.endswith("CPU:1")
                assert not keras or uk.initializer(ui.HeNormal(seed=0))((2, 2)).device.endswith("CPU:1")
                assert ui.zeros((2,), backend="tf", device="cpu:0").device.endswith("CPU:0")  # device= wins
        with tf.device("/GPU:0"):  # not present: soft placement, as for TensorFlow's own ops
            assert ui.he_normal((2, 2), backend="tf", seed=0).device.endswith("CPU:0")
        assert ui.he_normal((2, 2), backend="tf", seed=0).device.endswith("CPU:0")  # outside the scope again
        print("ok")
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


def test_a_first_call_inside_a_tf_function_leaves_soft_placement_on() -> None:
    """A process whose first TensorFlow work was a unit_init call inside a traced function started TensorFlow's context
    there, with soft placement off: an eager op under an absent tf.device failed for the rest of the process."""
    code = """
        import tensorflow as tf
        import unit_init as ui
        tf.function(lambda: ui.zeros((2, 2), backend="tf"))()
        with tf.device("/GPU:0"):  # absent on this host: soft-placed on the CPU, as before any unit_init call
            print((tf.ones(2) + 1).device)
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("device:CPU:0")


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
    """The first ``EAGER_CALLS`` calls of a new (law, shape, dtype) run op by op (a trace costs ~15 ms, and a model
    draws most shapes once); the next one traces, and every later one, whatever its seed, reuses the graph."""
    from unit_init.backends.tensorflow_backend import EAGER_CALLS, TRACES, SeedStream

    backend = get_backend("tf")
    device = backend.resolve_device(None)
    shape = (37, 23 + len(dtype))  # a shape no other test draws: its sampler is new here
    distribution = spec.distribution_for(shape)
    before = TRACES["compiled"]
    first = spec(shape, backend="tf", dtype=dtype, seed=9)
    for _ in range(EAGER_CALLS - 1):
        assert equal(spec(shape, backend="tf", dtype=dtype, seed=9), first)
    assert TRACES["compiled"] == before, "the first calls run op by op"
    assert equal(spec(shape, backend="tf", dtype=dtype, seed=9), first)  # traced
    traced = TRACES["compiled"]
    assert traced == before + 1
    assert equal(spec(shape, backend="tf", dtype=dtype, seed=9), first)
    assert not equal(spec(shape, backend="tf", dtype=dtype, seed=10), first)
    assert TRACES["compiled"] == traced, "a new seed reuses the compiled sampler"
    op_by_op = sample_from(NativeStream(backend, SeedStream(9), device), distribution, shape, dtype)
    assert equal(first, op_by_op)


def test_a_compiled_sampler_is_called_with_its_input_flat_and_as_traced_where_tensorflow_lacks_that() -> None:
    """``ConcreteFunction.__call__`` binds its arguments to the traced signature on every call (~35 µs of a 64² draw's
    136); the flat call skips it with the same values. A TensorFlow without ``_call_flat``, or whose ``_call_flat``
    takes other parameters, gets ``__call__``."""
    from unit_init.backends.tensorflow_backend import _flat_call

    concrete = tf.function(lambda seed: tf.random.stateless_uniform((3, 5), tf.stack([seed, seed])), autograph=False)
    traced = concrete.get_concrete_function(tf.TensorSpec([], tf.int64))
    seed = tf.constant(7, dtype=tf.int64)
    assert equal(_flat_call(traced)(seed), traced(seed))

    class Public:  # a concrete function as __call__ alone
        def __call__(self, seed: tf.Tensor) -> tf.Tensor:
            return traced(seed)

    public = Public()
    assert _flat_call(public) is public

    class Renamed(Public):  # a TensorFlow whose private method takes other parameters
        def _call_flat(self, args: list[tf.Tensor], captured: list[tf.Tensor]) -> tf.Tensor:
            raise AssertionError("not called")

    renamed = Renamed()
    assert _flat_call(renamed) is renamed


def test_a_thread_that_finds_the_sampler_traced_calls_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The traced function was published before its flat call: a thread arriving between the two called ``None``
    (a raw ``TypeError``). Widened here by a slow ``_flat_call``: the second thread arrives while the first builds it."""
    import threading
    import time

    from unit_init.backends import tensorflow_backend

    built = tensorflow_backend._flat_call

    def slow(concrete: object) -> object:
        time.sleep(0.5)
        return built(concrete)

    monkeypatch.setattr(tensorflow_backend, "_flat_call", slow)
    shape = (29, 31)  # a shape no other test draws: its sampler is new here
    for _ in range(tensorflow_backend.EAGER_CALLS):
        ui.GlorotUniform()(shape, backend="tf", seed=1)
    errors: list[BaseException] = []

    def draw(wait: float) -> None:
        time.sleep(wait)
        try:
            ui.GlorotUniform()(shape, backend="tf", seed=1)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=draw, args=(wait,)) for wait in (0.0, 0.25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_a_large_draw_is_traced_at_its_first_call() -> None:
    """Op by op, a draw holds each op's array: an 8192² ``he_normal`` in a fresh process peaked at 4.1× its output (the
    benchmark's memory target: no worse than TensorFlow's own 3.1×; traced, 1.03×). From ``XLA_MIN`` values on, the
    first call traces, with the values of the op-by-op draw."""
    from unit_init.backends.tensorflow_backend import TRACES, XLA_MIN, SeedStream

    backend = get_backend("tf")
    shape = (XLA_MIN // 512, 512 + 1)  # a shape no other test draws
    before = TRACES["compiled"]
    first = ui.he_normal(shape, backend="tf", seed=4)
    assert TRACES["compiled"] == before + 1
    distribution = ui.HeNormal().distribution_for(shape)
    assert equal(first, sample_from(NativeStream(backend, SeedStream(4), backend.resolve_device(None)), distribution, shape, "float32"))


EAGER_ONLY = {  # what a sampler may do with a tensor's value that no graph can trace
    "bool": lambda x: bool(tf.reduce_any(tf.abs(x) > 3.0)),  # OperatorNotAllowedInGraphError (a TypeError)
    "float": lambda x: float(tf.reduce_max(tf.abs(x))) > 3.0,  # TypeError
    "numpy": lambda x: bool((np.abs(x.numpy()) > 3.0).any()),  # AttributeError
}


@pytest.mark.parametrize("needs_value", EAGER_ONLY)
def test_a_distribution_with_eager_control_flow_is_sampled_op_by_op(needs_value: str) -> None:
    from unit_init.backends.tensorflow_backend import EAGER_CALLS, SeedStream
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
    runner = _compiled(backend, RedrawnAboveThree(), (8, 8), "float32", device, SeedStream)
    assert runner is not None
    for seed in range(EAGER_CALLS + 2):  # op by op, then a trace that fails, then op by op for good
        assert float(tf.reduce_max(tf.abs(runner(SeedStream(seed))))) <= 3.0
    x = sample(backend, RedrawnAboveThree(), (8, 8), "float32", device, backend.generator(0, device))
    assert x.shape == (8, 8)
    assert float(tf.reduce_max(tf.abs(x))) <= 3.0


def test_a_refusal_while_tracing_is_raised_not_swallowed() -> None:
    """A sampler's own typed error (here a DTypeError) is the call's answer, traced or eager."""
    from unit_init.backends.tensorflow_backend import EAGER_CALLS, SeedStream
    from unit_init.sampling import Draw
    from unit_init.sampling.entry import _compiled
    from unit_init.spec.distributions import Distribution

    @dataclasses.dataclass(frozen=True)
    class Refused(Distribution):
        def sample(self, backend: Any, draw: Draw) -> Any:
            raise ui.DTypeError("no such dtype here")

    backend = get_backend("tf")
    device = backend.resolve_device(None)
    runner = _compiled(backend, Refused(), (4, 4), "float32", device, SeedStream)
    assert runner is not None
    for seed in range(EAGER_CALLS + 2):  # op by op, then while tracing, then op by op again
        with pytest.raises(ui.DTypeError, match="no such dtype here"):
            runner(SeedStream(seed))


def test_autograph_calls_unit_init_as_written_inside_tf_function() -> None:
    """Inside ``tf.function`` AutoGraph transpiles no unit_init function (its whole path took over a second to convert)."""
    from tensorflow.python.autograph.impl import api

    import unit_init.keras

    ui.he_normal((4, 4), backend="tensorflow", seed=1)  # the backend loaded before tracing
    transpiled: list[str] = []
    transform = api._TRANSPILER.transform

    def recorded(entity: Any, context: Any) -> Any:
        transpiled.append(getattr(entity, "__module__", None) or "")
        return transform(entity, context)

    @tf.function
    def drawn() -> Any:
        return (
            ui.he_normal((8, 8), backend="tensorflow", seed=0)
            + ui.HeNormal()((8, 8), backend="tensorflow", seed=0)
            + unit_init.keras.initializer(ui.HeNormal(seed=0))((8, 8))
        )

    api._TRANSPILER.transform = recorded
    try:
        values = drawn()
    finally:
        api._TRANSPILER.transform = transform
    assert transpiled, "the test's own function is transpiled, so the hook sees what AutoGraph converts"
    assert not [module for module in transpiled if module.startswith("unit_init")]
    assert values.shape == (8, 8)


@pytest.mark.parametrize("mode", ["safe", "all"])
def test_portable_draws_under_numpy_behavior(mode: str) -> None:
    """With ``tnp.experimental_enable_numpy_behavior(dtype_conversion_mode="safe"/"all")`` (process-wide, so in a
    subprocess) a Threefry word above 2³¹ overflowed TensorFlow's int32 reading of a Python int: ``OverflowError``."""
    code = f"""
        import numpy as np
        import tensorflow.experimental.numpy as tnp
        tnp.experimental_enable_numpy_behavior(dtype_conversion_mode={mode!r})
        import unit_init as ui
        drawn = ui.he_uniform((16, 16), backend="tf", seed=0, rng="portable")
        assert np.array_equal(np.asarray(drawn), ui.he_uniform((16, 16), seed=0, rng="portable"))
        print("ok")
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


def test_each_accelerator_is_a_memory_pool_of_its_own() -> None:
    """The budget ``UNIT_INIT_MAX_BYTES`` sets is kept per memory pool: TensorFlow's GPUs fell back to the base's
    ``"host"``, so their draws shared the host's budget with NumPy's (the budget was per device before it was per pool)."""
    from unit_init.backends.registry import get_backend

    backend = get_backend("tensorflow")
    gpu = "/job:localhost/replica:0/task:0/device:GPU:0"
    assert backend.memory_pool(gpu) == gpu
    assert backend.memory_pool("/job:localhost/replica:0/task:0/device:CPU:0") == "host"


RANK_TEN = (2,) * 7 + (2, 4, 3)  # an odd last axis: float32 values are cut from pairs
BLOCK = (slice(0, 1),) * 7 + (slice(0, 2), slice(1, 3), slice(0, 3))


@pytest.mark.parametrize(("draw", "exact"), [
    (lambda **kw: ui.he_uniform(RANK_TEN, seed=0, rng="portable", **kw), True),  # cut from pairs of counter words: a strided slice
    (lambda **kw: ui.random_normal(RANK_TEN, seed=0, rng="portable", dtype="float64", **kw), False),  # a where over the index
    (lambda **kw: ui.orthogonal(RANK_TEN, seed=0, rng="portable", region=BLOCK, **kw), False),  # a coupled law's block, cut
    (lambda **kw: ui.dirac(RANK_TEN, region=BLOCK, rng="portable", **kw), True),
])
def test_ranks_past_eight_draw_as_on_numpy(draw: Any, exact: bool) -> None:
    """TensorFlow's strided slice and broadcasting where take at most 8 axes: a portable draw of rank 9 or more, its
    float64 normals and a block of a coupled law raised TensorFlow's own UnimplementedError mid-draw (after an unseeded
    call had taken its seed). They are computed flat, or cut axis by axis, with NumPy's values."""
    ours, numpy = np.asarray(draw(backend="tensorflow")), np.asarray(draw(backend="numpy"))
    if exact:
        np.testing.assert_array_equal(ours, numpy)
    else:
        np.testing.assert_allclose(ours, numpy, rtol=1e-5, atol=1e-6)


def test_a_one_sided_truncated_normal_past_rank_eight() -> None:
    values = np.asarray(ui.trunc_normal(RANK_TEN, a=2.0, b=3.0, backend="tensorflow", seed=0))
    assert values.shape == RANK_TEN
    assert values.min() >= 2.0
    assert values.max() <= 3.0


def test_the_padded_transcendentals_trace_past_two_to_the_31_values_and_keep_shapes() -> None:
    """``log``, ``log1p``, ``cos`` and ``sin`` run on inputs padded to whole SIMD steps (a value then does not depend on
    its position): counted in int32, a traced array of 2³¹ + 5 values (a portable draw holds up to 2³²) refused its
    shape ("Invalid value in tensor used for shape"). Nothing is allocated here: the functions are only traced."""
    from unit_init.backends import _tf_namespace as ns

    for function in (ns.log, ns.log1p, ns.cos, ns.sin):
        concrete = tf.function(function).get_concrete_function(tf.TensorSpec([2**31 + 5], tf.float32))
        assert concrete.structured_outputs.shape.as_list() == [2**31 + 5]
        unknown = tf.function(function, input_signature=[tf.TensorSpec([None, 3], tf.float64)])
        assert unknown(tf.fill((5, 3), tf.constant(0.5, tf.float64))).shape == (5, 3)
        assert function(tf.constant(0.5)).shape == ()
        assert function(tf.zeros((0, 7))).shape == (0, 7)
