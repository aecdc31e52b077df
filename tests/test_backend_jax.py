"""The JAX backend: what only JAX has — keys, the compilation cache, x64, uncommitted arrays, devices.

The cells every backend shares (each initializer × dtype × shape, seeds, set_seed,
integer dtypes, support on the bfloat16/float16 grids, narrow orthogonal,
moments) live in the cross-backend matrix, tests/test_matrix.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from targets import FOUR_HOST_DEVICES, expected_families

if "jax" not in expected_families():  # a nox session that expects jax fails on the import instead
    pytest.importorskip("jax", reason="the jax backend needs jax: pip install 'unit-init[jax]'")
import jax  # after the skip check
import jax.numpy as jnp

from unit_init.backends import jax_backend
from unit_init.backends.registry import get_backend

SHAPE = (12, 6)  # rank 2 for identity; orthogonal's Gaussian then has this shape too, so samplers are shared


def has_gpu() -> bool:
    return bool(jax_backend._platform_devices("gpu"))


def run_python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (JAX flags must be set before it initializes)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# --- compilation cache ----------------------------------------------------------------


def test_repeated_calls_do_not_retrace() -> None:
    shape = SHAPE

    def calls(seed: int) -> None:
        ui.he_normal(shape, backend="jax", seed=seed)
        ui.he_uniform(shape, backend="jax", dtype="bfloat16", seed=seed)
        ui.orthogonal(shape, backend="jax", seed=seed)

    calls(0)
    traced = dict(jax_backend.TRACES)
    assert traced["normal"]
    assert traced["uniform"]
    assert traced["truncated_normal"]
    for seed in range(1, 6):
        calls(seed)
    assert dict(jax_backend.TRACES) == traced


# --- dtypes -----------------------------------------------------------------------------


@pytest.mark.skipif(jax.config.jax_enable_x64, reason="checks the error raised when jax_enable_x64 is off")
@pytest.mark.parametrize("dtype", ["float64", "int64", "uint64"])
def test_64_bit_dtypes_without_x64_raise_with_the_fix(dtype: str) -> None:
    with pytest.raises(ui.DTypeError, match=r'jax\.config\.update\("jax_enable_x64", True\)'):
        ui.zeros((2,), backend="jax", dtype=dtype)


def test_64_bit_dtypes_follow_x64_switched_at_run_time() -> None:
    """A plan cached while 64-bit mode was on does not answer for a call after it is switched off: the call is refused
    before it draws (no JAX warning, no global seed taken), and the next unseeded draw is the one it would have been."""
    code = """
        import warnings
        import jax
        import unit_init as ui
        warnings.simplefilter("error")  # JAX's "requested dtype float64 is not available" would be a warning
        ui.set_seed(0)
        reference = ui.he_normal((4, 4), backend="jax")
        jax.config.update("jax_enable_x64", True)
        assert str(ui.he_normal((4, 4), backend="jax", seed=0, dtype="float64").dtype) == "float64"
        assert str(ui.zeros((2,), backend="jax", dtype="int64").dtype) == "int64"
        jax.config.update("jax_enable_x64", False)
        ui.set_seed(0)
        calls = [
            lambda: ui.he_normal((4, 4), backend="jax", dtype="float64"),
            lambda: ui.zeros((2,), backend="jax", dtype="float64"),
            lambda: ui.zeros((2,), backend="jax", dtype="int64"),
        ]
        for call in calls:
            try:
                call()
            except ui.DTypeError as error:
                assert "jax_enable_x64" in str(error), error
            else:
                raise AssertionError("drawn without jax_enable_x64")
        assert (ui.he_normal((4, 4), backend="jax") == reference).all()
        print("ok")
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env={k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


# --- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("impl", ["rbg", "unsafe_rbg"])
def test_raw_keys_of_the_rbg_implementations(impl: str) -> None:
    """Under ``jax_default_prng_impl="rbg"`` a ``PRNGKey`` is ``uint32[4]``: taken as jax.random takes it (the same
    values as its typed key), by the functions and the adapter; threefry-shaped words then raise ``SeedError``."""
    code = f"""
        import jax, jax.numpy as jnp, numpy as np
        jax.config.update("jax_default_prng_impl", "{impl}")
        import unit_init as ui, unit_init.jax as uj
        raw = jax.random.PRNGKey(3)
        assert raw.shape == (4,)
        typed = jax.random.wrap_key_data(raw)
        drawn = ui.he_normal((8, 4), seed=raw)
        assert isinstance(drawn, jax.Array)
        assert (drawn == ui.he_normal((8, 4), seed=typed)).all()
        adapter = uj.initializer(ui.HeNormal())
        assert (adapter(raw, (8, 4)) == adapter(typed, (8, 4))).all()
        assert (adapter(np.asarray(raw), (8, 4)) == adapter(typed, (8, 4))).all()
        assert (jax.jit(lambda k: ui.he_normal((8, 4), seed=k))(raw) == drawn).all()
        try:
            ui.he_normal((8, 4), seed=jnp.zeros(2, jnp.uint32))
        except ui.SeedError as error:
            assert "{impl}" in str(error), error
        else:
            raise AssertionError("threefry words taken as an rbg key")
        print("ok")
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


def test_user_keys_typed_and_raw_are_the_same_root() -> None:
    typed, raw = jax.random.key(4), jax.random.PRNGKey(4)
    a = ui.orthogonal(SHAPE, backend="jax", seed=typed)
    assert np.array_equal(np.asarray(a), np.asarray(ui.orthogonal(SHAPE, backend="jax", seed=raw)))
    assert np.array_equal(np.asarray(a), np.asarray(ui.orthogonal(SHAPE, backend="jax", seed=typed)))  # a key is a value
    assert not np.array_equal(np.asarray(a), np.asarray(ui.orthogonal(SHAPE, backend="jax", seed=jax.random.key(5))))


def test_a_stream_splits_so_repeated_draws_are_independent() -> None:
    backend = get_backend("jax")
    device = backend.resolve_device(None)
    stream = backend.generator(jax.random.key(0), device)
    first, second = backend.normal(stream, (1000,), "float32", device), backend.normal(stream, (1000,), "float32", device)
    assert not np.array_equal(np.asarray(first), np.asarray(second))
    assert abs(np.corrcoef(np.asarray(first), np.asarray(second))[0, 1]) < 0.15


BAD_SEEDS = {
    "float": lambda: 1.5,
    "str": lambda: "0",
    "numpy-words-of-no-key-shape": lambda: np.zeros(3, np.uint32),
    "key-batch": lambda: jax.random.split(jax.random.key(0), 3),
    "float-array": lambda: jnp.zeros(2),
}


@pytest.mark.parametrize("kind", sorted(BAD_SEEDS))
def test_bad_seeds_raise(kind: str) -> None:
    with pytest.raises(ui.SeedError, match="seed="):
        ui.he_normal((2, 2), backend="jax", seed=BAD_SEEDS[kind]())


def test_raw_key_words_held_as_numpy_are_a_key_with_backend_jax_as_jax_random_takes_them() -> None:
    """``jax.random.normal(np.array([0, 7], np.uint32), …)`` works, and so did the JAX adapter; ``backend="jax",
    seed=`` the same NumPy words was a ``SeedError``. Without ``backend=`` they name no backend (docs/seeds.md)."""
    words = np.array([0, 7], np.uint32)
    expected = np.asarray(ui.he_normal((4, 3), seed=jnp.asarray(words)))
    np.testing.assert_array_equal(np.asarray(ui.he_normal((4, 3), backend="jax", seed=words)), expected)
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda: ui.he_normal((4, 3), backend="jax", seed=words))()), expected)
    with pytest.raises(ui.SeedError, match="not a seed for the numpy backend"):
        ui.he_normal((4, 3), seed=words)


# --- devices and like= ------------------------------------------------------------------------


def test_like_infers_backend_device_and_dtype() -> None:
    existing = jnp.ones((3, 3), dtype=jnp.bfloat16)
    x = ui.he_normal((5, 4), like=existing, seed=0)
    assert isinstance(x, jax.Array)
    assert x.dtype == jnp.bfloat16
    assert x.devices() == existing.devices()


def test_like_a_deleted_or_donated_array_is_a_parameter_error() -> None:
    """JAX's bare ``RuntimeError: Array has been deleted`` came out of ``like=``."""
    deleted = jnp.ones((4, 4))
    deleted.delete()
    with pytest.raises(ui.ParameterError, match="deleted"):
        ui.he_normal((4, 4), like=deleted, seed=0)


@pytest.mark.parametrize("transform", [jax.jit, jax.vmap])
def test_like_a_tracer_takes_its_dtype_and_draws_uncommitted(transform: Any) -> None:
    """A tracer inside ``jit``/``vmap`` has no device yet: ``like=`` takes its dtype and draws as an unplaced call does."""

    def draw(x: Any) -> Any:
        return ui.he_normal((3, 3), like=x, seed=0), ui.zeros((2,), like=x)

    weights, zeros = transform(draw)(jnp.ones((4, 2), dtype=jnp.bfloat16))
    expected = ui.he_normal((3, 3), backend="jax", dtype="bfloat16", seed=0)
    assert weights.dtype == zeros.dtype == jnp.bfloat16
    assert np.array_equal(np.asarray(weights if transform is jax.jit else weights[0], np.float32), np.asarray(expected, np.float32))


# --- placement: uncommitted unless a device is asked for (docs/backends/jax.md) ----------------


@pytest.mark.parametrize("name", ["he_normal", "glorot_uniform", "truncated_normal", "orthogonal", "zeros", "constant", "identity"])
def test_no_device_gives_an_uncommitted_array_as_jax_random_does(name: str) -> None:
    spec = ui.get(name)
    for rng in ("native", "portable"):
        x = spec(SHAPE, backend="jax", seed=0, rng=rng)
        assert not x.committed, (name, rng)
        assert x.devices() == {jax.devices()[0]}
    assert not ui.he_normal(SHAPE, seed=jax.random.key(0)).committed
    assert not jax.random.normal(jax.random.key(0), SHAPE).committed  # the behaviour matched


def test_a_device_like_or_context_device_commits() -> None:
    cpu = jax.devices("cpu")[0]
    assert ui.he_normal(SHAPE, backend="jax", device="cpu", seed=0).committed
    assert ui.he_normal(SHAPE, backend="jax", device=cpu, seed=jax.random.key(0)).committed
    assert ui.he_normal(SHAPE, like=jnp.ones(SHAPE), seed=0).committed
    with ui.use_backend("jax", device="cpu:0"):
        assert ui.he_normal(SHAPE, seed=0).committed
    with jax.default_device(cpu):
        assert not ui.he_normal(SHAPE, backend="jax", seed=0).committed


def test_committed_and_uncommitted_draws_are_equal() -> None:
    for seed in (0, jax.random.key(0)):
        np.testing.assert_array_equal(ui.he_normal(SHAPE, backend="jax", seed=seed), ui.he_normal(SHAPE, backend="jax", device="cpu", seed=seed))


def test_int_seeds_first_used_inside_a_trace_are_cached_as_concrete_words() -> None:
    seed = 918_273_645  # not drawn before anywhere, so its words are first placed under the trace
    traced = jax.jit(lambda: ui.he_normal(SHAPE, backend="jax", seed=seed))()
    np.testing.assert_array_equal(traced, ui.he_normal(SHAPE, backend="jax", seed=seed))


@pytest.mark.parametrize("device", [None, "cpu", "cpu:0", "CPU:0"])
def test_cpu_device_spellings(device: str | None) -> None:
    x = ui.glorot_normal((4, 4), backend="jax", device=device, seed=0)
    assert x.devices() == {jax.devices("cpu")[0]}
    assert ui.zeros((2,), backend="jax", device=jax.devices("cpu")[0]).devices() == {jax.devices("cpu")[0]}


@pytest.mark.skipif(has_gpu(), reason="a GPU is present")
@pytest.mark.parametrize("device", ["gpu:0", "cuda:0", "gpu", "cpu:64"])
def test_missing_device_lists_the_present_ones(device: str) -> None:
    with pytest.raises(ui.DeviceError, match=r"present: 'cpu:0'"):
        ui.he_normal((2, 2), backend="jax", device=device)


@pytest.mark.parametrize("device", ["xpu:0", "cpu:x", 3])
def test_unknown_device_spelling(device: Any) -> None:
    with pytest.raises(ui.DeviceError, match="device="):
        ui.zeros((2,), backend="jax", device=device)


def test_x64_and_routing_to_a_non_default_cpu_device_in_a_subprocess() -> None:
    """One fresh interpreter (JAX reads both flags at startup): float64 works with x64, arrays land on cpu:2."""
    out = run_python(
        """
        import jax, numpy as np, unit_init as ui
        target = jax.devices("cpu")[2]
        for name, cls in ui.CATALOGUE.items():
            for dtype in ("float64", "bfloat16", "float32"):
                x = cls()((12, 6), backend="jax", device="cpu:2", dtype=dtype, seed=0)
                assert x.dtype == np.dtype(dtype) and x.shape == (12, 6), (name, dtype, x.dtype)
                assert x.devices() == {target}, (name, dtype, x.devices())
        assert ui.ones((3,), backend="jax", dtype="int64").dtype == np.int64
        z = np.asarray(ui.random_normal((12, 6), stddev=1.0, backend="jax", dtype="float64", seed=0))
        assert not np.array_equal(z, z.astype(np.float32))  # genuinely 64-bit draws
        key = jax.device_put(jax.random.key(1), jax.devices("cpu")[1])  # a key living elsewhere
        assert ui.orthogonal((12, 6), backend="jax", device=target, seed=key).devices() == {target}
        assert ui.he_uniform((12, 6), like=x).devices() == {target}
        print("ok")
        """,
        JAX_ENABLE_X64="1",
        XLA_FLAGS=FOUR_HOST_DEVICES,
    )
    assert out.strip() == "ok"


@pytest.mark.gpu
@pytest.mark.skipif(not has_gpu(), reason="no JAX GPU device present")
@pytest.mark.parametrize("device", ["gpu", "cuda:0", "gpu:0"])
def test_gpu(device: str) -> None:
    target = jax.devices("gpu")[0]
    for dtype in ("bfloat16", "float16", "float32"):
        x = ui.he_normal((256, 128), backend="jax", device=device, dtype=dtype, seed=0)
        assert x.devices() == {target}
        assert x.dtype == jnp.dtype(dtype)
    assert ui.orthogonal((64, 32), backend="jax", device=device, seed=0).devices() == {target}


def test_backend_helpers() -> None:
    backend = get_backend("jax")
    x = jnp.arange(3.0)
    assert backend.owns(x)
    assert not backend.owns(np.arange(3.0))
    assert backend.device_of(x) == jax.devices()[0]
    assert backend.dtype_of(x.astype(jnp.bfloat16)) == "bfloat16"
    assert isinstance(backend.to_numpy(x), np.ndarray)


@pytest.mark.parametrize("limit", [None, "64M"])
def test_a_traced_draw_is_not_compared_with_one_devices_memory(limit: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """``jax.eval_shape`` of a 17 TiB weight allocates nothing (it was refused), also under ``UNIT_INIT_MAX_BYTES``
    (it was refused by the whole array's size); an eager draw of it still is."""
    import unit_init.jax

    if limit is not None:
        monkeypatch.setenv("UNIT_INIT_MAX_BYTES", limit)
    key = jax.random.key(0)
    shaped = jax.eval_shape(lambda k: unit_init.jax.initializer(ui.HeNormal())(k, (2**20, 2**20)), key)
    assert (shaped.shape, shaped.dtype) == ((2**20, 2**20), jnp.float32)
    with pytest.raises(ui.ResourceError, match=r"17\.0 TiB"):
        ui.he_normal((2**20, 2**20), backend="jax", seed=0)


def test_a_tail_truncated_normal_has_the_same_values_with_and_without_64_bit_mode() -> None:
    """The log-space quantile is not widened to float64 on JAX: its float32 values would depend on jax_enable_x64."""
    code = (
        "import hashlib, numpy as np, unit_init as ui\n"
        "v = np.asarray(ui.TruncatedNormal(lower=1.0, upper=3.0)((1000,), seed=3, backend='jax', dtype='float32'))\n"
        "print(hashlib.sha256(v.tobytes()).hexdigest())\n"
    )
    digests = {
        flag: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "JAX_ENABLE_X64": flag}).stdout.strip()
        for flag in ("0", "1")
    }
    assert digests["0"] == digests["1"], digests


@pytest.mark.parametrize("rng", ["native", "portable"])
def test_broadcast_laws_draw_where_jax_refuses_rank_promotion(rng: str) -> None:
    """Under ``jax.numpy_rank_promotion("raise")`` (JAX's own test suite's setting) ``ConstantArray``, a batched
    ``Identity`` and ``ConvolutionOrthogonal`` raised JAX's bare ``ValueError``: their small array was multiplied by one
    of a higher rank. They now give the values they give under JAX's default."""
    from unit_init import jax as uj

    key = jax.random.key(0)
    cases = [
        (ui.ConstantArray(np.arange(3.0)), (2, 3)), (ui.Identity(), (2, 3, 3)),
        (ui.ConvolutionOrthogonal(), (3, 3, 4, 4)), (ui.ConvolutionOrthogonal(), (3, 2, 4)),
    ]
    for spec, shape in cases:
        expected = np.asarray(spec(shape, backend="jax", seed=0, rng=rng))
        with jax.numpy_rank_promotion("raise"):
            drawn = spec(shape, backend="jax", seed=0, rng=rng)
            traced = jax.jit(lambda k, s=spec, shp=shape: uj.initializer(s)(k, shp))(key)
        np.testing.assert_array_equal(np.asarray(drawn), expected)
        assert traced.shape == shape
