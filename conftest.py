"""Doctest collection over src/: skip the modules whose framework is not installed; every item leaves the backend registry as it found it.

Each such module imports its framework at the top (that is how backends stay
lazy), so collecting it without the framework would be an import error rather
than a skip. The modules' behaviour without the framework is tested in
tests/test_imports.py.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

_PACKAGE = Path(__file__).parent / "src" / "unit_init"
_DOCS = Path(__file__).parent / "docs"
# paths under src/unit_init (a folder covers every file in it) -> the frameworks they import
_NEEDS = {
    "backends/torch_backend.py": ("torch",),
    "backends/jax_backend.py": ("jax",),
    "backends/tensorflow_backend.py": ("tensorflow",),
    "backends/_tf_namespace.py": ("tensorflow",),
    "torch": ("torch",),
    "jax": ("jax",),
    "keras": ("keras",),
}
# docs pages whose doctests need frameworks
_DOC_NEEDS = {
    "diagnostics.md": ("matplotlib", "torch"),
    "lsuv.md": ("torch", "keras", "jax", "flax"),
    "adapters.md": ("torch", "keras", "jax", "flax"),
    "adapters/torch.md": ("torch",),
    "adapters/keras.md": ("keras",),
    "adapters/jax.md": ("jax", "flax", "haiku"),
    "adapters/porting.md": ("torch", "jax", "flax", "keras"),
    "getting-started.md": ("torch", "jax"),
    "presets.md": ("torch", "jax"),
    "reproducibility.md": ("torch",),
    "backends/jax.md": ("jax",),
    "backends/tensorflow.md": ("tensorflow",),
    "backends/array_api.md": ("array_api_strict",),
    "api.md": ("keras",),
    "why-initialization.md": ("torch", "keras"),
    "scaled.md": ("torch",),
    "coord_check.py": ("torch",),
}


def _missing(modules: tuple[str, ...]) -> bool:
    return any(importlib.util.find_spec(module) is None for module in modules)


collect_ignore = [
    *(str(_PACKAGE / path) for path, modules in _NEEDS.items() if _missing(modules)),
    *(str(_DOCS / page) for page, modules in _DOC_NEEDS.items() if _missing(modules)),
]


@pytest.fixture(autouse=True)
def _backend_registry_restored() -> Iterator[None]:
    """A page or test that registers a toy backend (docs/backends/index.md's ``Tiles``) takes it away again.

    A doctest's names are gone after it, so a backend left registered would
    fail in a later test whose ``like=`` asks every plugin's ``owns``.
    """
    from unit_init.backends import registry

    before = dict(registry._REGISTERED)
    yield
    registry._REGISTERED.clear()
    registry._REGISTERED.update(before)
