"""The JAX backend: ``jax.Array`` results, drawn by compiled samplers on the target device.

* **Devices**: ``None`` is JAX's default device; ``jax.Device`` objects; the
  portable strings ``"cpu"``, ``"cpu:N"``, ``"gpu"``, ``"gpu:N"``,
  ``"cuda:N"`` (≡ ``"gpu:N"``), ``"tpu"``, ``"tpu:N"`` (``N`` indexes this
  process's devices of that platform).
* **Randomness**: a seed becomes a :class:`KeyStream`, which splits its key
  once per draw, so the several draws of one call (orthogonal, truncation) are
  independent. An int seed is the threefry key ``[seed >> 32, seed & 0xFFFFFFFF]``
  whatever ``jax_enable_x64`` and ``jax_default_prng_impl`` say; a user key
  (typed ``jax.random.key`` or raw ``uint32[2]`` ``PRNGKey``) is the stream's root.
* **Compilation**: each sampler is a ``jax.jit`` function whose outputs have a
  ``SingleDeviceSharding`` on the target device, so values are born there. The
  jitted function is cached per (kind, shape, dtype, device, bounds): repeated
  calls never retrace (:data:`TRACES` counts traces).
* **dtypes**: 64-bit dtypes need ``jax_enable_x64``; without it they raise
  :class:`~unit_init.DTypeError` instead of being silently narrowed.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable
from typing import Any, Final

import array_api_compat
import jax
import jax.numpy as jnp
import numpy as np

from unit_init.backends.base import Backend
from unit_init.dtypes import FLOAT_DTYPES, INTEGER_DTYPES
from unit_init.errors import DeviceError, DTypeError, SeedError

__all__ = ["TRACES", "JaxBackend", "KeyStream"]

TRACES: Final[collections.Counter[str]] = collections.Counter()
"""How many times each sampler kind was traced (compiled); it grows only for new shapes, dtypes or devices."""

_PLATFORMS: Final = {"cpu": "cpu", "gpu": "gpu", "cuda": "gpu", "rocm": "gpu", "tpu": "tpu"}
_WIDE: Final = ("float64", "int64", "uint64")


def _platform_devices(platform: str) -> list[jax.Device]:
    try:
        return list(jax.local_devices(backend=platform))
    except RuntimeError:  # the platform's runtime is not installed
        return []


def _present() -> str:
    names = [f"{d.platform}:{i}" for p in ("cpu", "gpu", "tpu") for i, d in enumerate(_platform_devices(p))]
    return ", ".join(map(repr, names))


def _narrowed(dtype: str) -> bool:
    """Whether JAX would silently give a narrower dtype (64-bit types without ``jax_enable_x64``)."""
    return bool(jax.dtypes.canonicalize_dtype(np.dtype(dtype)) != np.dtype(dtype))


class KeyStream:
    """A JAX key that is split on every draw: each draw gets a fresh subkey, the stream keeps the rest.

    Parameters
    ----------
    key:
        A typed key (``jax.random.key``) placed on the target device.
    """

    __slots__ = ("key",)

    def __init__(self, key: jax.Array) -> None:
        self.key = key

    def draw(self, kind: str, shape: tuple[int, ...], dtype: str, device: jax.Device, bounds: tuple[float, float] = (0.0, 0.0)) -> jax.Array:
        """One draw of ``kind`` (``"uniform"``, ``"normal"``, ``"truncated_normal"``) on ``device``; advances the key."""
        values, self.key = _sampler(kind, shape, dtype, device, bounds)(self.key)
        return values


@functools.lru_cache(maxsize=512)
def _sampler(
    kind: str, shape: tuple[int, ...], dtype: str, device: jax.Device, bounds: tuple[float, float]
) -> Callable[[jax.Array], tuple[jax.Array, jax.Array]]:
    """A jitted ``key -> (values, next_key)`` whose outputs are created on ``device``."""
    native = jnp.dtype(dtype)

    def sample(key: jax.Array) -> tuple[jax.Array, jax.Array]:
        TRACES[kind] += 1  # runs only while tracing
        key, sub = jax.random.split(key)
        if kind == "uniform":
            values = jax.random.uniform(sub, shape, native)
        elif kind == "normal":
            values = jax.random.normal(sub, shape, native)
        else:
            values = jax.random.truncated_normal(sub, bounds[0], bounds[1], shape, native)
        return values, key

    placed = jax.sharding.SingleDeviceSharding(device)
    return jax.jit(sample, out_shardings=(placed, placed))


class JaxBackend(Backend):
    name = "jax"
    extra = "jax"
    xp = jnp

    def resolve_device(self, device: Any) -> jax.Device:
        if device is None:
            default = getattr(jax.config, "jax_default_device", None)
            if isinstance(default, jax.Device):
                return default
            return self.resolve_device(default) if isinstance(default, str) else jax.local_devices()[0]
        if isinstance(device, jax.Device):
            return device
        if isinstance(device, str):
            platform, _, index = device.lower().partition(":")
            if platform in _PLATFORMS and (index == "" or index.isdigit()):
                devices = _platform_devices(_PLATFORMS[platform])
                if int(index or 0) < len(devices):
                    return devices[int(index or 0)]
                msg = f"device={device!r} is not present on the jax backend; present: {_present()}."
                raise DeviceError(msg)
        msg = (
            f"device={device!r} is not a jax device; pass a jax.Device, None, or 'cpu', 'cpu:N', 'gpu', "
            f"'gpu:N', 'cuda:N', 'tpu:N'. Present: {_present()}."
        )
        raise DeviceError(msg)

    def native_dtype(self, dtype: str) -> Any:
        if dtype not in FLOAT_DTYPES + INTEGER_DTYPES:
            msg = f"dtype={dtype!r} is not supported by the jax backend; accepted: {', '.join(FLOAT_DTYPES + INTEGER_DTYPES)}."
            raise DTypeError(msg)
        if dtype in _WIDE and _narrowed(dtype):
            msg = (
                f"dtype={dtype!r} needs JAX's 64-bit mode, which is off (JAX would silently give "
                f"{dtype.replace('64', '32')}); enable it at startup with "
                'jax.config.update("jax_enable_x64", True) or the environment variable JAX_ENABLE_X64=1.'
            )
            raise DTypeError(msg)
        return jnp.dtype(dtype)

    def generator(self, seed: Any, device: Any) -> KeyStream:
        if isinstance(seed, int) and not isinstance(seed, bool):
            words = np.array([seed >> 32, seed & 0xFFFFFFFF], dtype=np.uint32)
            key = jax.random.wrap_key_data(jnp.asarray(words), impl="threefry2x32")
        elif isinstance(seed, jax.Array) and jnp.issubdtype(seed.dtype, jax.dtypes.prng_key) and seed.shape == ():
            key = seed
        elif isinstance(seed, jax.Array) and seed.dtype == jnp.uint32 and seed.shape == (2,):
            key = jax.random.wrap_key_data(seed)
        else:
            shown = f"a jax.Array of shape {seed.shape} and dtype {seed.dtype}" if isinstance(seed, jax.Array) else repr(seed)
            msg = (
                f"seed={shown} is not a seed for the jax backend; pass an int, None, a single key from "
                "jax.random.key(n), or a raw uint32[2] key from jax.random.PRNGKey(n)."
            )
            raise SeedError(msg)
        return KeyStream(jax.device_put(key, device))

    def uniform(self, generator: KeyStream, shape: tuple[int, ...], dtype: str, device: Any) -> jax.Array:
        return generator.draw("uniform", shape, dtype, device)

    def normal(self, generator: KeyStream, shape: tuple[int, ...], dtype: str, device: Any) -> jax.Array:
        return generator.draw("normal", shape, dtype, device)

    def truncated_normal(
        self, generator: KeyStream, shape: tuple[int, ...], low: float, high: float, dtype: str, device: Any
    ) -> jax.Array:
        """JAX's own truncated normal (inverse-CDF sampling, values strictly inside ``(low, high)``)."""
        return generator.draw("truncated_normal", shape, dtype, device, (float(low), float(high)))

    def compiled(self, kernel: Callable[..., Any], device: Any) -> Callable[..., Any]:
        """``kernel`` jitted with its output born on ``device`` (the portable stream is one fused computation)."""
        return jax.jit(kernel, out_shardings=jax.sharding.SingleDeviceSharding(device))

    def owns(self, array: Any) -> bool:
        return bool(array_api_compat.is_jax_array(array))

    def device_of(self, array: Any) -> jax.Device:
        devices = array.devices()
        if len(devices) != 1:
            msg = f"like= got a jax.Array sharded over {len(devices)} devices; pass device= to choose one."
            raise DeviceError(msg)
        device: jax.Device = next(iter(devices))
        return device

    def to_numpy(self, array: Any) -> Any:
        return np.asarray(jax.device_get(array))
