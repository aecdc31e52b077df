"""Doctest collection over src/: skip the modules whose framework is not installed.

Each such module imports its framework at the top (that is how backends stay
lazy), so collecting it without the framework would be an import error rather
than a skip. The modules' behaviour without the framework is tested in
tests/test_imports.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_PACKAGE = Path(__file__).parent / "src" / "unit_init"
_NEEDS = {
    "backends/torch_backend.py": "torch",
    "backends/jax_backend.py": "jax",
    "backends/tensorflow_backend.py": "tensorflow",
    "backends/_tf_namespace.py": "tensorflow",
    "adapters/torch.py": "torch",
    "adapters/_torch.py": "torch",
    "adapters/torch_init.py": "torch",
    "adapters/jax.py": "jax",
    "adapters/keras.py": "keras",
}

collect_ignore = [str(_PACKAGE / path) for path, module in _NEEDS.items() if importlib.util.find_spec(module) is None]
