"""The generic Array-API backend: any namespace the built-in backends do not cover.

The Array-API standard has no random numbers, so this backend is the one
exception to "draw on the device": ``U[0, 1)``, ``N(0, 1)`` and the truncated
normal are drawn on the host by :class:`~unit_init.backends.numpy_backend.NumpyBackend`
(PCG64 from an int seed, or the user's ``numpy.random.Generator``; truncation
re-draws in place there: ``truncation = "host"`` in
:mod:`unit_init.sampling.truncation`), then moved to the device with **one**
``xp.asarray(..., device=device)``. Everything else (scaling, casting,
clipping, constants, eye, QR for orthogonal) uses the namespace's own ops on
the device.

* Devices: ``None`` is ``__array_namespace_info__().default_device()``; a device
  object of the namespace, or its name (``"device1"`` for
  ``array_api_strict.Device("device1")``), or ``"cpu"`` for the default CPU device.
* Dtypes: the namespace's own, checked against what the device supports
  (``__array_namespace_info__().dtypes(device=...)``), so a device without
  float64 raises :class:`~unit_init.DTypeError` instead of failing mid-draw.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable
from typing import Any, Final

import array_api_compat
import numpy as np

from unit_init.backends.base import Backend
from unit_init.backends.devices import absent_device, device_request, shown
from unit_init.backends.numpy_backend import NumpyBackend
from unit_init.dtypes import COMPLEX_DTYPES, FLOAT_DTYPES, INTEGER_DTYPES, canonical_dtype
from unit_init.errors import BackendError, DTypeError, SeedError, abbreviate

__all__ = ["ArrayApiBackend"]

_SUPPORTED = FLOAT_DTYPES + INTEGER_DTYPES + COMPLEX_DTYPES
_QUOTED_ARGUMENT = re.compile(r"[\w.]*\(\s*['\"]([^'\"]+)['\"]\s*\)")  # Device('device1') -> device1


OLDEST_STANDARD: Final = "2023.12"
"""The oldest Array-API standard the generic backend draws with."""


def _device_names(device: Any) -> set[str]:
    """The strings that name ``device``: ``str``, ``repr`` and the argument of a ``Device('name')`` repr."""
    names = {str(device), repr(device)}
    match = _QUOTED_ARGUMENT.fullmatch(repr(device))
    if match:
        names.add(match.group(1))
    return names


def _device_name(device: Any) -> str:
    """The shortest name of ``device``, for messages (an object's address left out)."""
    return shown(min(_device_names(device), key=len))


def _unnamed(devices: list[Any]) -> bool:
    """Whether the namespace has one device, whose name says no platform (ndonnx's ``Device`` object): the host."""
    return len(devices) == 1 and not any(word in _device_name(devices[0]).lower() for word in ("cpu", "gpu", "cuda"))


def _same_device(device: Any, known: Any) -> bool:
    """Whether the caller's ``device`` is the namespace's device ``known``: an ``==`` that raises or answers anything but
    a bool (an array's elementwise comparison) says no."""
    try:
        return (device == known) is True
    except Exception:
        return False


_UNASKED: Final = object()
_MADE_ON_A_DEVICE: Final = ("arange", "asarray", "empty", "eye", "full")
"""The creation functions unit_init calls with the standard's ``device=`` keyword."""


def _without_device_keyword(xp: types.ModuleType) -> list[str]:
    """The functions of :data:`_MADE_ON_A_DEVICE` whose signature takes no ``device=`` (one without a readable
    signature, a C function, is taken at its word)."""
    lacking = []
    for name in _MADE_ON_A_DEVICE:
        try:
            parameters = inspect.signature(getattr(xp, name)).parameters
        except (AttributeError, TypeError, ValueError):  # absent (refused where it is needed) or no signature
            continue
        if "device" not in parameters and all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            lacking.append(name)
    return lacking
"""The inspection object not asked for yet (:meth:`ArrayApiBackend._inspection`)."""


class ArrayApiBackend(Backend):
    """Arrays of any Array-API namespace ``xp``; random draws come from NumPy on the host.

    Parameters
    ----------
    namespace:
        The Array-API namespace module, e.g. ``array_api_strict``.
    """

    mutable = False
    truncation = "host"  # the host backend's truncation (re-drawing in place), then one transfer
    quiet_underflow = NumpyBackend.quiet_underflow  # its draws are NumPy's, on the host

    def __init__(self, namespace: types.ModuleType) -> None:
        self.xp = namespace
        self.name = namespace.__name__
        self.lazy = array_api_compat.is_dask_namespace(namespace)
        self.host = NumpyBackend()
        self._info: Any = _UNASKED

    def __repr__(self) -> str:
        return f"ArrayApiBackend({self.name})"

    # --- devices and dtypes ---------------------------------------------------------

    def _inspection(self) -> Any:
        """The namespace's inspection object (``__array_namespace_info__()``, ``None`` where it has none), asked for
        once its version is checked: :class:`~unit_init.BackendError` for a namespace older than
        :data:`OLDEST_STANDARD` (checked on every call: ``array_api_strict`` changes its version by a flag, and
        raises a ``RuntimeError`` from the inspection API below 2023.12)."""
        version = getattr(self.xp, "__array_api_version__", None)
        if not isinstance(version, str) or version < OLDEST_STANDARD:
            msg = f"{self.name} implements the Array-API standard {version!r}; unit_init draws on {OLDEST_STANDARD!r} or later (clip, the inspection API)."
            raise BackendError(msg)
        if self._info is _UNASKED:
            if lacking := _without_device_keyword(self.xp):
                msg = (f"{self.name} claims the Array-API standard {version!r}, but {', '.join(f'{self.name}.{name}()' for name in lacking)} "
                       f"{'takes' if len(lacking) == 1 else 'take'} no device= keyword, which the standard requires; pass a conforming namespace (array_api_compat's "
                       "wrapper of the library, or the library's own Array-API module).")
                raise BackendError(msg)
            make = getattr(self.xp, "__array_namespace_info__", None)
            try:
                self._info = None if make is None else make()
            except Exception as error:  # asked again on the next call: a flag of the namespace may mend it
                msg = f"{self.name}.__array_namespace_info__() raised {type(error).__name__}: {abbreviate(str(error))}"
                raise BackendError(msg) from error
        return self._info

    def _devices(self) -> list[Any]:
        """The namespace's devices, the default first (:meth:`_inspection`'s version check first)."""
        info = self._inspection()
        default_device = getattr(info, "default_device", None)  # an inspection object without it: no default known
        default = default_device() if callable(default_device) else None
        try:
            devices = list(info.devices())
        except AttributeError:  # no inspection API: only the default device is known
            devices = []
        return [default, *(device for device in devices if device != default)]

    def resolve_device(self, device: Any) -> Any:
        """A device of the namespace for ``None``, a device object, its name, or a portable ``"cpu:N"``/``"gpu:N"``.

        A portable string picks the ``N``-th device whose name says the
        platform (``"cpu"``; ``"cuda"`` or ``"gpu"``).
        """
        devices = self._devices()
        if device is None:
            return devices[0]
        if isinstance(device, str):
            named = [d for d in devices if device.strip() in _device_names(d)]
            request = device_request(device)
            if not named and request is not None:
                words = ("cuda", "gpu") if request.platform == "gpu" else (request.platform,)
                named = [d for d in devices if any(word in _device_name(d).lower() for word in words)][request.index or 0 :]
                if not named and request.platform == "cpu" and not request.index and _unnamed(devices):
                    named = devices[:1]  # one device with no name (ndonnx's): the host's
            if named:
                return named[0]
        elif any(_same_device(device, d) for d in devices):
            return device
        why = f" (pass a name, one of {self.name}'s device objects, 'cpu' for its CPU device, or None for the default)"
        raise absent_device(device, self.name, ", ".join(repr(_device_name(d)) for d in devices), why)

    def native_dtype(self, dtype: str) -> Any:
        native = getattr(self.xp, dtype, None) if dtype in _SUPPORTED else None
        if native is None:
            offered = [name for name in _SUPPORTED if getattr(self.xp, name, None) is not None]
            msg = f"dtype={dtype!r} is not available in {self.name}; it offers {', '.join(offered)}."
            raise DTypeError(msg)
        return native

    def dtype_on(self, dtype: str, device: Any) -> Any:
        native = self.native_dtype(dtype)
        try:
            supported = self._inspection().dtypes(device=device)
        except (AttributeError, TypeError):  # no per-device inspection: trust the namespace
            return native
        if dtype not in supported:
            here = [name for name in _SUPPORTED if name in supported]
            msg = (
                f"dtype={dtype!r} is not supported on device {_device_name(device)!r} of {self.name}; "
                f"supported there: {', '.join(here)}."
            )
            raise DTypeError(msg)
        return native

    # --- random draws: on the host with NumPy, then one transfer ------------------

    def generator(self, seed: Any, device: Any) -> np.random.Generator:
        try:
            return self.host.generator(seed, "cpu")
        except SeedError:
            msg = (
                f"seed={abbreviate(seed)} is not a seed for the {self.name} backend, which draws on the host with NumPy; "
                "pass an int, None or a numpy.random.Generator."
            )
            raise SeedError(msg) from None

    def on_device(self, host_draw: Callable[[], Any], dtype: str, device: Any) -> Any:
        """Check ``dtype`` on ``device`` first, then draw on the host and transfer once."""
        native = self.dtype_on(dtype, device)
        return self.xp.asarray(host_draw(), dtype=native, device=device)

    def uniform(self, generator: np.random.Generator, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return self.on_device(lambda: self.host.uniform(generator, shape, dtype, "cpu"), dtype, device)

    def normal(self, generator: np.random.Generator, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return self.on_device(lambda: self.host.normal(generator, shape, dtype, "cpu"), dtype, device)

    # --- arrays ----------------------------------------------------------------------

    def owns(self, array: Any) -> bool:
        try:
            return array_api_compat.array_namespace(array) is self.xp
        except TypeError:
            return False

    def device_of(self, array: Any) -> Any:
        return array_api_compat.device(array)

    def dtype_of(self, array: Any) -> str:
        for name in _SUPPORTED:
            native = getattr(self.xp, name, None)  # a dtype the namespace lacks is None, which a NumPy dtype equals
            if native is not None and native == array.dtype:
                return name
        return canonical_dtype(array.dtype)

    def to_numpy(self, array: Any) -> np.ndarray[Any, Any]:
        """A NumPy copy: through DLPack (which also reads non-default devices of array_api_strict), else the
        library's own conversion (pydata sparse's ``todense``, ndonnx's ``unwrap_numpy``), else ``np.asarray``.

        :class:`~unit_init.BackendError` where none gives numbers.
        """
        try:
            return np.array(np.from_dlpack(array))
        except (AttributeError, BufferError, RuntimeError, TypeError, ValueError):
            pass
        for own in ("todense", "unwrap_numpy"):
            if callable(getattr(array, own, None)):
                return np.array(getattr(array, own)())
        try:
            values = np.array(array)
        except (RuntimeError, TypeError, ValueError) as error:
            values, why = None, f": {error}"
        else:
            why = ""
        if values is None or values.dtype == object:
            msg = f"{self.name} arrays cannot be read into NumPy{why}; convert them to NumPy yourself, or draw on backend='numpy'."
            raise BackendError(msg)
        return values

    def full(self, shape: tuple[int, ...], value: float, dtype: str, device: Any) -> Any:
        """The namespace's ``full``; an empty array of several dimensions as a reshaped empty vector (dask sizes the
        chunks of ``full((65536, 0))`` by dividing by its zero element count: a ``ZeroDivisionError``, as ``zeros``)."""
        if 0 in shape and len(shape) > 1:
            return self.xp.reshape(super().full((0,), value, dtype, device), shape)
        return super().full(shape, value, dtype, device)

    def eye(self, rows: int, cols: int, value: float, dtype: str, device: Any) -> Any:
        """The identity; a wide one as the transpose of the tall one (dask's ``eye`` with more columns than rows
        builds a graph that cannot be computed, dask issue 11937)."""
        if rows < cols:
            return self.xp.matrix_transpose(super().eye(cols, rows, value, dtype, device))
        return super().eye(rows, cols, value, dtype, device)

    def qr(self, x: Any) -> tuple[Any, Any]:
        """The namespace's ``linalg.qr``; NumPy's on the host where the namespace's refuses the input (dask's
        takes only single-column-block matrices), the factors moved back to ``x``'s device."""
        try:
            return super().qr(x)
        except BackendError:
            raise
        except (NotImplementedError, TypeError, ValueError):
            q, r = np.linalg.qr(self.to_numpy(x))
            device, native = self.device_of(x), x.dtype
            return self.xp.asarray(q, dtype=native, device=device), self.xp.asarray(r, dtype=native, device=device)

    def smallest(self, keys: Any, count: int, axis: int) -> Any:
        """The namespace's ``argsort`` ranks; NumPy's on the host where the namespace refuses them (array_api_strict's
        ``"no_x64"`` device has no int64, the index dtype of its ``argsort``), the mask moved back to ``keys``' device."""
        try:
            return super().smallest(keys, count, axis)
        except (NotImplementedError, TypeError, ValueError):
            mask = self.host.smallest(self.to_numpy(keys), count, axis)
            return self.xp.asarray(mask, device=self.device_of(keys))

    def cast(self, x: Any, dtype: str) -> Any:
        return self.xp.astype(x, self.dtype_on(dtype, self.device_of(x)))
