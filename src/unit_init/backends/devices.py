"""Portable device strings, parsed once for every backend.

A portable device string names a *platform* and, optionally, an index:

=====================================  ==========================
string (any case, spaces around)       request
=====================================  ==========================
``"cpu"``, ``"cpu:1"``                 ``DeviceRequest("cpu", None)``, ``("cpu", 1)``
``"gpu"``, ``"gpu:N"``, ``"cuda"``,    ``DeviceRequest("gpu", N)`` (NVIDIA or AMD)
``"cuda:N"``, ``"rocm:N"``
``"mps"``, ``"xpu:N"``, ``"tpu:N"``    ``DeviceRequest("mps", None)``, …
``"meta"``                             ``DeviceRequest("meta", None)`` (shapes, no data)
=====================================  ==========================

``N`` is a non-negative decimal integer; ``None`` means "the platform's
current device". Each backend maps a request to its native device in a few
lines (:meth:`~unit_init.backends.base.Backend.resolve_device`) and keeps its
own native forms (``torch.device``, ``jax.Device``, TensorFlow's ``"/GPU:0"``,
an Array-API namespace's devices). The two messages every backend raises are
built here: :func:`unknown_device` (not a device of the backend; what it
accepts) and :func:`absent_device` (a device it knows, not present here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from unit_init.errors import DeviceError, abbreviate

__all__ = ["PLATFORMS", "DeviceRequest", "absent_device", "accepted_forms", "device_request", "shown", "unknown_device"]

PLATFORMS: Final = {"cpu": "cpu", "gpu": "gpu", "cuda": "gpu", "rocm": "gpu", "mps": "mps", "xpu": "xpu", "tpu": "tpu", "meta": "meta"}
"""Portable platform spellings -> the platform they request."""
_SPELLINGS: Final = {"gpu": ("gpu", "cuda")}
_UNINDEXED: Final = ("mps", "meta")


@dataclass(frozen=True, slots=True)
class DeviceRequest:
    """A device asked for by a portable string: a platform and an optional index.

    Parameters
    ----------
    platform:
        ``"cpu"``, ``"gpu"``, ``"mps"``, ``"xpu"``, ``"tpu"`` or ``"meta"``.
    index:
        The device's index among this process's devices of the platform;
        ``None``: the platform's current (default) device.
    """

    platform: str
    index: int | None = None


def device_request(device: object) -> DeviceRequest | None:
    """The request a portable device string makes; ``None`` for anything else (a native object or name, a malformed string).

    Examples
    --------
    >>> device_request(" CUDA:1 "), device_request("cpu")
    (DeviceRequest(platform='gpu', index=1), DeviceRequest(platform='cpu', index=None))
    >>> device_request("cpu:²"), device_request("/GPU:0"), device_request(0)
    (None, None, None)
    """
    if not isinstance(device, str):
        return None
    name, colon, index = device.strip().lower().partition(":")
    platform = PLATFORMS.get(name)
    if platform is None or (colon and not (index.isascii() and index.isdigit() and len(index) < 10)):
        return None
    if colon and platform in _UNINDEXED and index != "0":
        return None
    return DeviceRequest(platform, int(index) if colon else None)


def accepted_forms(platforms: tuple[str, ...], native: str) -> str:
    """The portable strings of ``platforms`` and the ``native`` objects, for an error message.

    Examples
    --------
    >>> accepted_forms(("cpu", "gpu", "meta"), "a torch.device")
    "None, 'cpu', 'cpu:N', 'gpu', 'gpu:N', 'cuda', 'cuda:N', 'meta' or a torch.device"
    """
    forms = ["None"]
    for platform in platforms:
        for spelling in _SPELLINGS.get(platform, (platform,)):
            forms += [repr(spelling)] if platform in _UNINDEXED else [repr(spelling), repr(f"{spelling}:N")]
    return f"{', '.join(forms)} or {native}"


def unknown_device(device: object, backend: str, accepted: str, present: str) -> DeviceError:
    """The error for ``device``, which is not a device of ``backend`` at all: what is accepted, and what is present."""
    msg = f"device={abbreviate(device)} is not a {backend} device; accepted: {accepted}. Present: {present}."
    return DeviceError(msg)


def absent_device(device: object, backend: str, present: str, why: str = "") -> DeviceError:
    """The error for ``device``, a device ``backend`` knows that is not present in this process (``why``: the reason, if known)."""
    msg = f"device={abbreviate(device)} is not available on the {backend} backend{why}; present: {present}."
    return DeviceError(msg)


_ADDRESS: Final = re.compile(r" at 0x[0-9a-fA-F]+")


def shown(device: object) -> str:
    """``str(device)`` without an object's address: a device with no name of its own (ndonnx's) reads the same every run.

    Examples
    --------
    >>> shown("<ndonnx._namespace_info.Device object at 0x7f3a2c1b5e10>")
    '<ndonnx._namespace_info.Device object>'
    """
    return _ADDRESS.sub("", str(device))
