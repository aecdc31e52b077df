"""The generic Array-API backend, exercised with array_api_strict and its fake devices.

array_api_strict has devices ``CPU_DEVICE`` (default), ``device1``, ``device2``,
``no_float64`` (mimics MPS) and ``no_x64`` (mimics JAX without x64), and no
float16/bfloat16, so CPU-only CI covers device routing and "dtype not
supported here". The namespace is imported by a fixture, so collection imports
nothing and a missing array_api_strict is a skip with its reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import unit_init as ui
from stats import check_sample
from targets import RANDOM
from unit_init.backends.registry import get_backend
from unit_init.dtypes import FLOAT_DTYPES

DEVICES = ["CPU_DEVICE", "device1", "device2"]


def shape_for(name: str) -> tuple[int, ...]:
    return (6, 4) if name == "identity" else (3, 2, 4, 5)


@pytest.fixture(scope="module")
def xp() -> Any:
    return pytest.importorskip("array_api_strict", reason="array_api_strict is not installed (pip install 'unit-init[array-api]')")


def host(x: Any) -> np.ndarray:
    return np.asarray(get_backend("array_api_strict").to_numpy(x))


# --- the catalogue × dtype × device matrix -------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", list(ui.CATALOGUE))
def test_every_cell(xp: Any, name: str, dtype: str, device: str) -> None:
    spec = ui.get(name)
    shape = shape_for(name)
    if dtype in ("float16", "bfloat16"):  # array_api_strict has neither
        with pytest.raises(ui.DTypeError, match=rf"dtype='{dtype}' is not available in array_api_strict; it offers float32"):
            spec(shape, backend="array_api_strict", device=device, dtype=dtype, seed=0)
        return
    w = spec(shape, backend="array_api_strict", device=device, dtype=dtype, seed=0)
    assert type(w) is type(xp.asarray(0.0))
    assert tuple(w.shape) == shape
    assert w.dtype == getattr(xp, dtype)
    assert w.device == xp.Device(device)
    assert np.isfinite(host(w)).all()


@pytest.mark.parametrize("name", RANDOM)
def test_same_seed_is_bit_identical_and_seeds_differ(xp: Any, name: str) -> None:
    spec = ui.get(name)
    shape = shape_for(name)
    a = host(spec(shape, backend=xp, device="device1", seed=11))
    b = host(spec(shape, backend=xp, device="device1", seed=11))
    c = host(spec(shape, backend=xp, device="device1", seed=12))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", RANDOM)
def test_draws_are_the_numpy_backends_host_draws(xp: Any, name: str) -> None:
    # U[0,1)/N(0,1) come from NumPy's PCG64 on the host and the float32 arithmetic matches,
    # so a seed gives the numpy backend's values (to a few ulp where QR runs in the namespace).
    shape = shape_for(name)
    ours = host(ui.get(name)(shape, backend=xp, seed=3))
    reference = ui.get(name)(shape, backend="numpy", seed=3)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)


def test_zero_size_shape(xp: Any) -> None:
    w = ui.he_normal((0, 5), backend=xp, device="device1", seed=0)
    assert tuple(w.shape) == (0, 5)
    assert w.device == xp.Device("device1")


# --- how the backend is named ---------------------------------------------------------


def test_backend_by_name_module_and_like(xp: Any) -> None:
    by_name = ui.he_normal((8, 4), backend="array_api_strict", seed=0)
    by_module = ui.he_normal((8, 4), backend=xp, seed=0)
    np.testing.assert_array_equal(host(by_name), host(by_module))
    backend = get_backend(xp)
    assert backend is get_backend("array_api_strict")
    assert backend.name == "array_api_strict"
    assert backend.owns(by_name)
    assert not backend.owns(np.zeros(2))

    existing = xp.zeros((3,), dtype=xp.float64, device=xp.Device("device2"))
    w = ui.glorot_uniform((8, 4), like=existing, seed=0)
    assert type(w) is type(existing)
    assert w.dtype == xp.float64
    assert w.device == xp.Device("device2")


# --- devices --------------------------------------------------------------------------


@pytest.mark.parametrize(("device", "expected"), [
    (None, "CPU_DEVICE"), ("cpu", "CPU_DEVICE"), ("CPU_DEVICE", "CPU_DEVICE"),
    ("device1", "device1"), ("device2", "device2"),
])
def test_device_names(xp: Any, device: str | None, expected: str) -> None:
    assert ui.zeros((2,), backend=xp, device=device).device == xp.Device(expected)
    assert ui.he_normal((2, 2), backend=xp, device=xp.Device(expected), seed=0).device == xp.Device(expected)


@pytest.mark.parametrize("device", ["cuda", "tpu:0", "device3", 1])
def test_unknown_device_lists_the_present_ones(xp: Any, device: object) -> None:
    with pytest.raises(ui.DeviceError, match=r"present: 'CPU_DEVICE', 'device1', 'device2', 'no_float64', 'no_x64'") as error:
        ui.he_normal((2, 2), backend=xp, device=device)
    assert repr(device) in str(error.value)


# --- dtypes per device ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["he_normal", "orthogonal", "random_uniform", "zeros", "identity"])
def test_no_float64_device_refuses_float64(xp: Any, name: str) -> None:
    with pytest.raises(ui.DTypeError, match=r"dtype='float64' is not supported on device 'no_float64'.*supported there: float32"):
        ui.get(name)((4, 4), backend=xp, device="no_float64", dtype="float64", seed=0)
    w = ui.get(name)((4, 4), backend=xp, device="no_float64", dtype="float32", seed=0)
    assert w.device == xp.Device("no_float64")
    assert w.dtype == xp.float32


def test_no_x64_device_refuses_int64(xp: Any) -> None:
    with pytest.raises(ui.DTypeError, match="int64"):
        ui.zeros((2,), backend=xp, device="no_x64", dtype="int64")
    assert ui.zeros((2,), backend=xp, device="no_x64", dtype="int32").dtype == xp.int32


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8"])
def test_integer_dtypes(xp: Any, dtype: str) -> None:
    native = getattr(xp, dtype)
    assert ui.ones((2, 3), backend=xp, dtype=dtype).dtype == native
    np.testing.assert_array_equal(host(ui.constant((2,), value=5, backend=xp, dtype=dtype)), [5, 5])
    np.testing.assert_array_equal(host(ui.identity((2, 3), gain=2, backend=xp, dtype=dtype)), [[2, 0, 0], [0, 2, 0]])
    with pytest.raises(ui.DTypeError, match="needs a float dtype"):
        ui.he_normal((2, 3), backend=xp, dtype=dtype, seed=0)


# --- seeds ----------------------------------------------------------------------------


def test_numpy_generator_seed_advances(xp: Any) -> None:
    rng = np.random.default_rng(5)
    first = host(ui.he_normal((16, 8), backend=xp, seed=rng))
    second = host(ui.he_normal((16, 8), backend=xp, seed=rng))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, host(ui.he_normal((16, 8), backend=xp, seed=np.random.default_rng(5))))


def test_foreign_seed_is_refused(xp: Any) -> None:
    with pytest.raises(ui.SeedError, match=r"array_api_strict backend, which draws on the host with NumPy"):
        ui.he_normal((2, 2), backend=xp, seed="0")


# --- orthogonal and moments -----------------------------------------------------------


def test_orthogonal_on_a_device(xp: Any) -> None:
    w = ui.orthogonal((3, 3, 16, 32), gain=2.0, backend=xp, device="device1", seed=0)
    assert w.device == xp.Device("device1")
    q = host(w).astype(np.float64).reshape(-1, 32)
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(32), atol=1e-5)


@pytest.mark.parametrize("name", ["he_normal", "lecun_uniform", "truncated_normal"])
def test_moments(xp: Any, name: str) -> None:
    shape = (512, 256)  # 2**17 draws
    spec = ui.get(name)
    w = spec(shape, backend=xp, device="device2", seed=77)
    check_sample(host(w), spec.distribution_for(shape), "float32")
