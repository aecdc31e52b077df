"""Portable device strings are parsed once (unit_init.backends.devices) and every backend words its errors alike."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import unit_init as ui
from unit_init.backends.devices import DeviceRequest, device_request


@pytest.mark.parametrize(("text", "request_"), [
    ("cpu", DeviceRequest("cpu")), ("CPU:0", DeviceRequest("cpu", 0)), (" cuda:1 ", DeviceRequest("gpu", 1)),
    ("gpu", DeviceRequest("gpu")), ("rocm:2", DeviceRequest("gpu", 2)), ("mps", DeviceRequest("mps")),
    ("tpu:3", DeviceRequest("tpu", 3)), ("xpu:0", DeviceRequest("xpu", 0)), ("meta", DeviceRequest("meta")),
])
def test_portable_strings(text: str, request_: DeviceRequest) -> None:
    assert device_request(text) == request_


@pytest.mark.parametrize("value", ["", "cpu:", "cpu:-1", "cpu:²", "cpu:x", "cuda:1:2", "meta:3", "/GPU:0", "device1", "cpu:" + "9" * 10, 0, None])
def test_anything_else_is_no_request(value: object) -> None:
    assert device_request(value) is None


_BACKENDS = ["numpy"] + [name for name in ("torch", "jax", "tensorflow") if importlib.util.find_spec(name)]


@pytest.mark.parametrize("backend", _BACKENDS)
def test_every_backend_words_device_errors_alike(backend: str) -> None:
    with pytest.raises(ui.DeviceError, match=rf"^device='cpu:²' is not a {backend} device; accepted: None, 'cpu'.* Present: "):
        ui.zeros((2,), backend=backend, device="cpu:²")
    absent = "cuda:64" if backend == "torch" else "cpu:64"  # torch has one CPU device whatever the index
    with pytest.raises(ui.DeviceError, match=rf"^device='{absent}' is not available on the {backend} backend.*; present: "):
        ui.zeros((2,), backend=backend, device=absent)


class _RaisingEq:
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("a hostile __eq__")

    __hash__ = object.__hash__


class _ArrayEq:
    def __eq__(self, other: object) -> bool:
        return np.array([True, False])  # type: ignore[return-value]  # what an array's == gives

    __hash__ = object.__hash__


@pytest.mark.parametrize("device", [np.array([1.0, 2.0]), _RaisingEq(), _ArrayEq()], ids=["array", "raising_eq", "array_eq"])
@pytest.mark.parametrize("backend", [*_BACKENDS, *(["array_api_strict"] if importlib.util.find_spec("array_api_strict") else [])])
def test_a_device_whose_comparison_is_no_bool_is_a_device_error(backend: str, device: object) -> None:
    """An Array-API namespace's devices are compared with ``==``: an array's elementwise answer was a ``ValueError``."""
    with pytest.raises(ui.DeviceError):
        ui.zeros((2,), backend=backend, device=device)
