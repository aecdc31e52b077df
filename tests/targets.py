"""The backends and devices the test matrix runs on, as plain strings.

Collecting tests imports no framework: ids such as ``"torch:meta"`` are
strings, and a framework is imported only when a cell runs. A framework that
is missing makes its cells skip with the reason — unless the environment
variable ``UNIT_INIT_EXPECT_BACKENDS`` (set by every nox session) names it, in
which case a missing framework is a failure, never a silent skip.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.backends.registry import get_backend
from unit_init.capabilities import is_random

FOUR_HOST_DEVICES = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4".strip()
"""``XLA_FLAGS`` for a subprocess whose JAX sees four CPU devices (the test session's flags kept)."""

# id -> (backend argument, device argument, module to import, family for UNIT_INIT_EXPECT_BACKENDS)
TARGETS: dict[str, tuple[str, str | None, str, str]] = {
    "numpy": ("numpy", None, "numpy", "numpy"),
    "torch:cpu": ("torch", "cpu", "torch", "torch"),
    "torch:meta": ("torch", "meta", "torch", "torch"),
    "tensorflow:cpu": ("tensorflow", "cpu", "tensorflow", "tensorflow"),
    "jax:cpu": ("jax", "cpu", "jax", "jax"),
    "array_api_strict:device1": ("array_api_strict", "device1", "array_api_strict", "array_api"),
}
FLOATS = ("float16", "bfloat16", "float32", "float64")
RANDOM = sorted(name for name in ui.CATALOGUE if is_random(name))
"""The random initializers of the catalogue (orthogonal included)."""
DATA_TARGETS = [t for t in TARGETS if not t.endswith(":meta")]  # targets whose arrays hold values


def expected_families() -> set[str]:
    return {name for name in os.environ.get("UNIT_INIT_EXPECT_BACKENDS", "").split(",") if name}


@dataclass(frozen=True)
class Target:
    """A backend and device ready to draw on."""

    id: str
    backend: str
    device: Any

    @property
    def family(self) -> str:
        return TARGETS[self.id][3]

    def draw(self, spec: ui.Initializer, shape: tuple[int, ...], **options: Any) -> Any:
        return spec(shape, backend=self.backend, device=self.device, **options)

    def array(self, array: Any) -> np.ndarray:
        """The array as NumPy, in its own dtype (complex stays complex)."""
        return np.asarray(get_backend(self.backend).to_numpy(array))

    def values(self, array: Any) -> np.ndarray:
        """The array's values as float64 NumPy."""
        return np.asarray(self.array(array), dtype=np.float64)

    def dtype_of(self, array: Any) -> str:
        return get_backend(self.backend).dtype_of(array)

    def device_of(self, array: Any) -> Any:
        return get_backend(self.backend).device_of(array)


def load(target_id: str) -> Target:
    """The target, or a skip (a failure when the framework is expected) if its framework is missing."""
    backend, device, module, family = TARGETS[target_id]
    try:
        importlib.import_module(module)
    except ImportError as error:
        if family in expected_families():
            pytest.fail(f"{module} is expected in this environment (UNIT_INIT_EXPECT_BACKENDS) but fails to import: {error}")
        pytest.skip(f"{module} is not installed: {error}")
    return Target(target_id, backend, device)
