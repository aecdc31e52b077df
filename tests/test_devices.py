"""Portable device strings are parsed once (unit_init.backends.devices) and every backend words its errors alike."""

from __future__ import annotations

import importlib.util

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
