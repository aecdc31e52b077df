"""The error for a Keras whose backend framework is missing: imported before Keras, so it imports no framework."""

from __future__ import annotations

import importlib.util
import os

from unit_init.errors import BackendUnavailableError

__all__ = ["KERAS_BACKENDS", "missing_backend"]

KERAS_BACKENDS = ("tensorflow", "jax", "torch")
"""The frameworks Keras 3 runs on that unit_init draws with (``KERAS_BACKEND``)."""


def missing_backend(error: ImportError) -> BackendUnavailableError:
    """What to do when Keras is installed but the framework ``KERAS_BACKEND`` names (TensorFlow by default) is not."""
    framework = (error.name or "").split(".")[0]
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    present = [name for name in KERAS_BACKENDS if importlib.util.find_spec(name) is not None]
    other = f"set KERAS_BACKEND to one that is installed ({', '.join(present)})" if present else "none of jax, torch, tensorflow is installed"
    msg = (
        f"unit_init.keras needs Keras's backend {backend!r} (KERAS_BACKEND), which cannot be imported ({error}): "
        f"pip install {framework}, or {other}; see docs/getting-started.md."
    )
    return BackendUnavailableError(msg)
