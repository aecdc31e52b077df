"""Which framework a model belongs to, and the adapter that handles it — without importing any framework.

``ui.diagnose(model, batch)`` and ``ui.initialize(model, rules)`` take a
torch module, a Keras model or a Flax model as they are; :func:`framework_of`
tells them apart by looking only at the frameworks already in ``sys.modules``
(a model of a framework implies the framework is imported), and
:data:`ADAPTERS` names the adapter package each call is routed to, imported on
first use.
"""

from __future__ import annotations

import sys
from typing import Final

__all__ = ["ADAPTERS", "framework_of"]

ADAPTERS: Final = {"torch": "unit_init.torch", "keras": "unit_init.keras", "flax": "unit_init.jax", "jax": "unit_init.jax"}
"""The adapter package of each framework :func:`framework_of` names."""


def framework_of(model: object) -> str | None:
    """``"torch"``, ``"keras"`` or ``"flax"`` when ``model`` is a model of that framework (already imported), else ``None``.

    Examples
    --------
    >>> framework_of({"kernel": [1.0]}) is None
    True
    """
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(model, keras.layers.Layer):  # first: on the torch backend it is an nn.Module too
        return "keras"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return "torch"
    nnx = sys.modules.get("flax.nnx")
    if nnx is not None and isinstance(model, nnx.Module):
        return "flax"
    return None
