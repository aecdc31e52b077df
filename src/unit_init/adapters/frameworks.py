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
from typing import Any, Final

__all__ = ["ADAPTERS", "framework_of", "loaded"]

ADAPTERS: Final = {"torch": "unit_init.torch", "keras": "unit_init.keras", "flax": "unit_init.jax", "jax": "unit_init.jax"}
"""The adapter package of each framework :func:`framework_of` names."""


def framework_of(model: object) -> str | None:
    """``"torch"``, ``"keras"`` or ``"flax"`` when ``model`` is a model of that framework (already imported), else ``None``.

    Examples
    --------
    >>> framework_of({"kernel": [1.0]}) is None
    True
    """
    for framework, module, path in (  # keras first: on the torch backend a Keras layer is an nn.Module too
        ("keras", "keras", ("layers", "Layer")), ("torch", "torch", ("nn", "Module")), ("flax", "flax.nnx", ("Module",)),
    ):
        kind = loaded(module, *path)
        if kind is not None and isinstance(model, kind):
            return framework
    return None


def loaded(module: str, *path: str) -> Any:
    """``module.<path>`` where ``module`` is imported and holds it, else ``None``: nothing is imported, and a module
    another thread is still importing (``torch`` without its ``nn`` yet) holds no model of its framework.

    Examples
    --------
    >>> loaded("numpy", "ndarray") is __import__("numpy").ndarray, loaded("not_imported_here", "Thing")
    (True, None)
    """
    value: Any = sys.modules.get(module)
    for name in path:
        value = getattr(value, name, None)
    return value
